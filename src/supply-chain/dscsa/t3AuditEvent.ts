import type { Hex } from '../../core/hex.js';
import type { T3AuditEntry } from './ports.js';

/**
 * The purpose of use T3 requests are recorded under: v3 ActReason HCOMPL (health compliance), the DSCSA's
 * "request by a federal or state official" being a compliance activity.
 */
export const T3_REQUEST_PURPOSE = 'HCOMPL';

/** The GS1 Digital Link of the pack (`https://id.gs1.org/01/{gtin}/21/{serial}`): what a T3 request is about. */
export function packLink(gtin: string, serial: string): string {
  return `https://id.gs1.org/01/${gtin}/21/${encodeURIComponent(serial)}`;
}

/**
 * One T3 request as an entry of the access audit trail (the shape of its `AccessEvent`): a `disclose` (DCM 110106
 * Export) on the holder's side, a `receive` (DCM 110107 Import) on the requester's, about no patient, the pack as
 * the entity, the other organisation as counterpart.
 */
export function t3AuditEvent(entry: T3AuditEntry, organization: Hex, at: number) {
  const disclosed = entry.action === 'disclose';
  return {
    at,
    organization,
    agent: {
      tokenName: disclosed ? `${entry.requestedBy} (organisation ${entry.counterpart})` : entry.requestedBy,
      role: disclosed ? 'member-organization' : (entry.requesterRole ?? 'unknown'),
      subject: null,
      chainAddress: null,
    },
    patientId: null,
    action: entry.action,
    entity: packLink(entry.gtin, entry.serial),
    purpose: T3_REQUEST_PURPOSE,
    outcome: entry.outcome,
    ...(entry.reason !== undefined ? { reason: entry.reason } : {}),
    resultCount: entry.count,
    counterpart: entry.counterpart,
  };
}
