import type { BundleEntry, OperationOutcomeIssue } from '@medplum/fhirtypes';
import { parsePurposeOfUse } from '../consent/consentGuard.js';
import type { Hex } from '../core/hex.js';
import type { AccessDetails, FhirCaller } from '../records/fhirAccess.js';
import type { ExternalFetcher, SourceResult } from './externalFetcher.js';
import type { ReceiptKeeper } from './receiptKeeper.js';

export interface ExternalRecordsPorts {
  fetcher: Pick<ExternalFetcher, 'fetch'>;
  keeper: Pick<ReceiptKeeper, 'keep'>;
  /** The access audit trail; resolves once the entry is durable. */
  recordAccess(caller: FhirCaller, details: AccessDetails): Promise<void>;
}

/** A FHIR searchset Bundle (kept loose: entries are other gateways' resources, passed on byte for byte). */
export interface ExternalBundle {
  resourceType: 'Bundle';
  type: 'searchset';
  total: number;
  entry: BundleEntry[];
}

/**
 * `GET /fhir/Patient/{id}/$fetch-external` at the requesting gateway: asks every other holder (via the locator),
 * keeps what verified (copies + an anchored Provenance per holder), writes one `receive` AuditEvent per holder in
 * the patient's trail, and answers a searchset: the verified resources (fullUrl at their holder, so their relative
 * references resolve there), the Provenances, and an OperationOutcome saying what was withheld, pending, dropped
 * for a failed proof, refused or unreachable — nothing unverified is ever an entry.
 */
export class ExternalRecords {
  private readonly ports: ExternalRecordsPorts;

  constructor(ports: ExternalRecordsPorts) {
    this.ports = ports;
  }

  async fetch(caller: FhirCaller, patientId: string, localFhirBase: string): Promise<ExternalBundle> {
    const purpose = parsePurposeOfUse(caller.purpose, 'TREAT');
    const result = await this.ports.fetcher.fetch(patientId, {
      purpose,
      practitioner: caller.practitioner as Hex | undefined,
      requestedBy: caller.tokenName ?? 'unknown',
    });
    const entry: BundleEntry[] = [];
    const issues: OperationOutcomeIssue[] = [];
    const kept = await Promise.all(
      result.sources.map(async (source) => {
        const keeping =
          source.verified.length > 0 && source.fhirBase
            ? this.ports.keeper.keep({
                patientId,
                purpose,
                source: { organization: source.organization, name: source.name, fhirBase: source.fhirBase },
                verified: source.verified,
              })
            : Promise.resolve(null);
        const received = source.status === 'ok' && source.verified.length > 0;
        // Two durable writes, one wait: the copies with their Provenance, and the audit entry.
        const [provenance] = await Promise.all([
          keeping,
          this.ports.recordAccess(caller, {
            action: 'receive',
            entity: `Patient/${patientId}/$fetch-external`,
            patientId,
            outcome: received ? 'allowed' : 'denied',
            ...(received
              ? {}
              : {
                  reason:
                    source.code ??
                    source.withheldReasons[0] ??
                    (source.dropped.length ? 'PROOF_FAILED' : 'NO_DATA'),
                }),
            resultCount: source.verified.length,
            counterpart: source.organization,
          }),
        ]);
        return { source, provenance };
      }),
    );
    for (const { source, provenance } of kept) {
      for (const v of source.verified) {
        entry.push({
          fullUrl: `${source.fhirBase}/${v.resource.resourceType}/${v.resource.id}`,
          resource: v.resource as never,
          search: { mode: 'match' },
        });
      }
      if (provenance) {
        entry.push({
          fullUrl: `${localFhirBase}/Provenance/${provenance.id}`,
          resource: provenance,
          search: { mode: 'include' },
        });
      }
      issues.push(...issuesOf(source));
    }
    if (result.sources.length === 0) {
      issues.push({
        severity: 'information',
        code: 'not-found',
        diagnostics: 'No other organisation has announced records for this patient on the record locator.',
      });
    }
    if (issues.length > 0) {
      entry.push({
        resource: { resourceType: 'OperationOutcome', issue: issues },
        search: { mode: 'outcome' },
      });
    }
    const total = kept.reduce((sum, k) => sum + k.source.verified.length, 0);
    return { resourceType: 'Bundle', type: 'searchset', total, entry };
  }
}

/** What a person should know about one holder's answer besides the resources themselves. */
export function issuesOf(source: SourceResult): OperationOutcomeIssue[] {
  const who = `${source.name} (${source.organization})`;
  const issues: OperationOutcomeIssue[] = [];
  if (source.status === 'unreachable') {
    issues.push({
      severity: 'error',
      code: 'transient',
      diagnostics: `${who}: ${source.message ?? 'unreachable'}`,
    });
  } else if (source.status === 'refused') {
    issues.push({
      severity: 'warning',
      code: 'forbidden',
      details: { text: source.code ?? 'refused' },
      diagnostics: `${who} refused: ${source.message ?? 'no reason given'}`,
    });
  } else if (source.status === 'rejected') {
    issues.push({
      severity: 'error',
      code: 'security',
      details: { text: source.code ?? 'rejected' },
      diagnostics: `${who}: its answer was rejected and nothing of it is shown: ${source.message ?? ''}`,
    });
  }
  for (const d of source.dropped) {
    issues.push({
      severity: 'error',
      code: 'security',
      details: { text: d.code },
      diagnostics: `${who}: ${d.reference ?? 'an entry'} was dropped because its proof failed: ${d.reason}`,
    });
  }
  if (source.withheld > 0) {
    issues.push({
      severity: 'information',
      code: 'suppressed',
      diagnostics: `${who} withheld ${source.withheld} resource${source.withheld === 1 ? '' : 's'} the patient's consent does not cover for this organisation and purpose (${source.withheldReasons.join(', ')}).`,
    });
  }
  if (source.pending > 0) {
    issues.push({
      severity: 'information',
      code: 'incomplete',
      diagnostics: `${who} holds ${source.pending} more resource${source.pending === 1 ? '' : 's'} not yet anchored on chain (no proof yet); ask again in a few seconds.`,
    });
  }
  return issues;
}
