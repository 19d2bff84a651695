import type { Provenance, ProvenanceEntity } from '@medplum/fhirtypes';
import { ACT_REASON_SYSTEM, CHAIN_ADDRESS_SYSTEM } from '../audit/accessEvent.js';
import type { Hex } from '../core/hex.js';
import type { VerifiedEntry } from './receivedProofs.js';

const LIFECYCLE = 'http://terminology.hl7.org/CodeSystem/iso-21089-lifecycle';
const PARTICIPANT_TYPE = 'http://terminology.hl7.org/CodeSystem/provenance-participant-type';
/** A content hash as a URI (the SHA-256 of the holder's canonical JSON, which is what it anchored). */
export const CONTENT_HASH_URN_PREFIX = 'urn:careledger:sha256:';

export interface ReceiptDetails {
  id: string;
  /** ms since the epoch */
  receivedAt: number;
  /** The Patient here whose record the copies join. */
  patientId: string;
  purpose: string;
  source: { organization: Hex; name: string; fhirBase: string };
  receiver: Hex;
  verified: readonly VerifiedEntry[];
}

/** The holder's URL of one version: `{base}/{type}/{id}/_history/{v}`. */
export function sourceVersionUrl(fhirBase: string, entry: VerifiedEntry): string {
  const { resourceType, id, meta } = entry.resource;
  return `${fhirBase}/${resourceType}/${id}/_history/${meta.versionId}`;
}

/**
 * The FHIR R4 Provenance of one receipt from another gateway: the patient's record here (target) received
 * (ISO 21089 `receive`) from the custodian organisation, for a purpose, one entity per version received naming
 * the holder's versioned URL, its content hash, and the batch and transaction that anchored it. Stored and
 * anchored by this gateway, it lets the receiver prove later exactly what it was shown, by whom and when.
 */
export function exchangeProvenance(d: ReceiptDetails): Provenance {
  const entity: ProvenanceEntity[] = d.verified.map((entry) => ({
    role: 'source',
    what: {
      reference: sourceVersionUrl(d.source.fhirBase, entry),
      identifier: {
        system: 'urn:ietf:rfc:3986',
        value: `${CONTENT_HASH_URN_PREFIX}${entry.proof.record.contentHash.slice(2)}`,
      },
      display: `anchored by ${entry.proof.anchor.organization} in batch ${entry.proof.batch.sequence} (root ${entry.proof.tree.root}, transaction ${entry.proof.anchor.transactionHash}, chain ${entry.proof.anchor.chainId})`,
    },
  }));
  return {
    resourceType: 'Provenance',
    id: d.id,
    target: [{ reference: `Patient/${d.patientId}` }],
    recorded: new Date(d.receivedAt).toISOString(),
    activity: {
      coding: [{ system: LIFECYCLE, code: 'receive', display: 'Receive/Retain Record Lifecycle Event' }],
    },
    reason: [{ coding: [{ system: ACT_REASON_SYSTEM, code: d.purpose }] }],
    agent: [
      {
        type: { coding: [{ system: PARTICIPANT_TYPE, code: 'custodian', display: 'Custodian' }] },
        who: {
          identifier: { system: CHAIN_ADDRESS_SYSTEM, value: d.source.organization },
          display: d.source.name,
        },
      },
      {
        type: { coding: [{ system: PARTICIPANT_TYPE, code: 'performer', display: 'Performer' }] },
        who: { identifier: { system: CHAIN_ADDRESS_SYSTEM, value: d.receiver } },
      },
    ],
    ...(entity.length > 0 ? { entity } : {}),
  };
}
