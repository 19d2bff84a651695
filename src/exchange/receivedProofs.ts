import type { OnChainAnchor } from '../anchoring/ports.js';
import type { RecordProof } from '../anchoring/recordProof.js';
import {
  checkProofOnChain,
  checkRecordAgainstProof,
  parseRecordProof,
  type AnchorReader,
} from '../anchoring/verifyRecordProof.js';
import { CareLedgerError } from '../core/errors.js';
import type { Hex } from '../core/hex.js';
import type { ExchangeEntry } from './exchangeMessages.js';

/** A received resource whose proof held: its bytes are exactly what its holder anchored on chain. */
export interface VerifiedEntry {
  /** The holder's canonical JSON, byte for byte. */
  json: string;
  resource: { resourceType: string; id: string; meta: { versionId: string } } & Record<string, unknown>;
  proof: RecordProof;
}

/** A received resource that is not shown, and why (`reference` when the entry said what it was). */
export interface DroppedEntry {
  reference: string | null;
  code: string;
  reason: string;
}

const FHIR_KIND = /^fhir\.([A-Za-z]+)$/;

/**
 * Checks every entry of a holder's answer before anything is shown: the proof is well formed, it is for a FHIR
 * version anchored by that holder (not by anyone else), the bytes hash to the proof's content, the Merkle path
 * leads to the root, and the root is anchored on chain in the consortium's AnchorRegistry (the one this gateway
 * trusts, not whatever the proof names) with matching details. A root shared by many entries is looked up once.
 * An entry that fails any step is dropped and reported, never returned as valid.
 */
export async function verifyReceivedEntries(
  holder: Hex,
  entries: readonly ExchangeEntry[],
  chain: { reader: AnchorReader; anchorRegistry: Hex },
): Promise<{ verified: VerifiedEntry[]; dropped: DroppedEntry[] }> {
  const roots = new Map<string, Promise<OnChainAnchor>>();
  const checked = await Promise.all(
    entries.map(async (entry): Promise<VerifiedEntry | DroppedEntry> => {
      let reference: string | null = null;
      try {
        const resource = parseResource(entry.resource);
        reference = `${resource.resourceType}/${resource.id}/_history/${resource.meta.versionId}`;
        const proof = parseRecordProof(entry.proof);
        const kind = FHIR_KIND.exec(proof.record.kind);
        if (!kind || kind[1] !== resource.resourceType) {
          return drop(
            reference,
            'PROOF.WRONG_KIND',
            `the proof is for a "${proof.record.kind}" record, not this ${resource.resourceType}`,
          );
        }
        if (proof.anchor.organization.toLowerCase() !== holder.toLowerCase()) {
          return drop(
            reference,
            'PROOF.WRONG_ORGANIZATION',
            `the proof is for records of ${proof.anchor.organization}, not of the organisation that sent it (${holder})`,
          );
        }
        checkRecordAgainstProof(Buffer.from(entry.resource, 'utf8'), proof);
        // Everything the chain check compares is in the key: two proofs that share a root but disagree on any
        // anchoring detail are each checked.
        const key = JSON.stringify([proof.tree, proof.batch, proof.anchor]);
        let onChain = roots.get(key);
        if (!onChain) {
          onChain = checkProofOnChain(proof, chain.reader, { expectedContract: chain.anchorRegistry });
          roots.set(key, onChain);
        }
        await onChain;
        return { json: entry.resource, resource, proof };
      } catch (error) {
        if (error instanceof CareLedgerError) return drop(reference, error.code, error.message);
        throw error;
      }
    }),
  );
  const verified: VerifiedEntry[] = [];
  const dropped: DroppedEntry[] = [];
  for (const c of checked) ('json' in c ? verified : dropped).push(c as never);
  return { verified, dropped };
}

function drop(reference: string | null, code: string, reason: string): DroppedEntry {
  return { reference, code, reason };
}

function parseResource(json: string): VerifiedEntry['resource'] {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new CareLedgerError('EXCHANGE.NOT_FHIR', 'the entry is not JSON', { status: 502 });
  }
  const r = value as { resourceType?: unknown; id?: unknown; meta?: { versionId?: unknown } } | null;
  if (
    typeof r !== 'object' ||
    r === null ||
    typeof r.resourceType !== 'string' ||
    !/^[A-Z][A-Za-z]{1,63}$/.test(r.resourceType) ||
    typeof r.id !== 'string' ||
    !/^[A-Za-z0-9\-.]{1,64}$/.test(r.id) ||
    typeof r.meta?.versionId !== 'string'
  ) {
    throw new CareLedgerError(
      'EXCHANGE.NOT_FHIR',
      'the entry is not a stored FHIR resource (resourceType, id and meta.versionId required)',
      { status: 502 },
    );
  }
  return value as VerifiedEntry['resource'];
}
