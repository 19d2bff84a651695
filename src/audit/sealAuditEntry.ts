import { canonicalJsonBytes } from '../core/canonicalJson.js';
import { sha256 } from '../core/sha256.js';
import { uuidv7 } from '../core/uuidv7.js';
import { encryptPayload, hmacToken } from '../crypto/index.js';
import { toFhirAuditEvent, type AccessEvent } from './accessEvent.js';
import type { AuditRow } from './ports.js';

/** The keys an audit entry is sealed with. */
export interface AuditSealingKeys {
  /** Seals the entry (`deriveAuditTrailKey`). */
  auditKey: Uint8Array;
  /** Its patient is kept as an HMAC token under the search-index key. */
  searchIndexKey: Uint8Array;
}

/** An entry ready for the spine: its row (without the record id the commit assigns) and the hash to anchor. */
export interface SealedAuditEntry {
  row: Omit<AuditRow, 'recordId'>;
  contentHash: Uint8Array;
}

const encoder = new TextEncoder();
export const auditAad = (id: string): Uint8Array => encoder.encode(`AuditEvent/${id}`);

/** The patient token of an entry: its own prefix, so it matches no token of the FHIR search index. */
export function auditPatientToken(searchIndexKey: Uint8Array, patientId: string): Uint8Array {
  return hmacToken(searchIndexKey, `audit|patient|${patientId}`);
}

/**
 * Turns an access event into its sealed entry: the FHIR AuditEvent's canonical JSON (what is anchored, by its
 * SHA-256), sealed with AES-256-GCM bound to `AuditEvent/<id>`. Pure, so it runs on the event loop or on the
 * validation workers alike.
 */
export function sealAuditEntry(event: AccessEvent, keys: AuditSealingKeys): SealedAuditEntry {
  const id = uuidv7(event.at);
  const bytes = canonicalJsonBytes(toFhirAuditEvent(event, id));
  return {
    contentHash: sha256(bytes),
    row: {
      id,
      at: event.at,
      patientToken: event.patientId === null ? null : auditPatientToken(keys.searchIndexKey, event.patientId),
      payload: encryptPayload(keys.auditKey, bytes, auditAad(id)),
    },
  };
}
