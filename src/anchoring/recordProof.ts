import { FormatRegistry, Type, type Static } from '@sinclair/typebox';
import { toHex } from '../core/hex.js';
import type { MerkleTree } from '../merkle/tree.js';
import type { Batch, StoredRecord } from './ports.js';

// TypeBox checks formats only once registered; proofs carry RFC 3339 timestamps.
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/;
if (!FormatRegistry.Has('date-time')) FormatRegistry.Set('date-time', isRfc3339DateTime);

/** RFC 3339 date-time whose calendar date exists (Date.parse alone rolls 02-30 over to 03-01). */
function isRfc3339DateTime(value: string): boolean {
  if (!RFC3339.test(value)) return false;
  const [year, month, day] = value.slice(0, 10).split('-').map(Number) as [number, number, number];
  const date = new Date(Date.UTC(year, month - 1, day));
  const hour = Number(value.slice(11, 13));
  return (
    date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day &&
    hour < 24 &&
    !Number.isNaN(Date.parse(value))
  );
}

const Hash = Type.String({ pattern: '^0x[0-9a-fA-F]{64}$', description: '32 bytes, 0x-prefixed hex' });
const Address = Type.String({ pattern: '^0x[0-9a-fA-F]{40}$', description: '20-byte chain address' });
const Count = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });

export const RECORD_PROOF_FORMAT = 'careledger.record-proof/v1';

/**
 * A self-contained inclusion proof for one record: enough to check the record's bytes against a Merkle root
 * (RFC 6962, SHA-256) and that root against the AnchorRegistry on chain, with nothing from the node that issued it.
 */
export const RecordProofSchema = Type.Object(
  {
    format: Type.Literal(RECORD_PROOF_FORMAT),
    record: Type.Object(
      {
        id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
        kind: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$' }),
        contentHash: Hash,
        receivedAt: Type.String({ format: 'date-time' }),
      },
      { additionalProperties: false },
    ),
    leaf: Type.Object({ hash: Hash, index: Count }, { additionalProperties: false }),
    tree: Type.Object(
      {
        algorithm: Type.Literal('RFC6962-SHA256'),
        size: Type.Integer({ minimum: 1, maximum: 2 ** 32 - 1 }),
        root: Hash,
      },
      { additionalProperties: false },
    ),
    path: Type.Array(Hash, { maxItems: 64 }),
    batch: Type.Object(
      { sequence: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }) },
      { additionalProperties: false },
    ),
    anchor: Type.Object(
      {
        chainId: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
        contract: Address,
        organization: Address,
        transactionHash: Hash,
        blockNumber: Count,
        blockHash: Hash,
        anchoredAt: Type.String({ format: 'date-time' }),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false, $id: 'RecordProof' },
);

export type RecordProof = Static<typeof RecordProofSchema>;

/** Builds the proof of `record`, which must belong to the confirmed `batch` whose tree is `tree`. */
export function buildRecordProof(record: StoredRecord, batch: Batch, tree: MerkleTree): RecordProof {
  const anchor = batch.anchor;
  if (!anchor || !batch.root) throw new Error(`batch ${batch.sequence} is not confirmed`);
  return {
    format: RECORD_PROOF_FORMAT,
    record: {
      id: record.id,
      kind: record.kind,
      contentHash: toHex(record.contentHash),
      receivedAt: new Date(record.receivedAt).toISOString(),
    },
    leaf: { hash: toHex(record.leafHash), index: record.leafIndex },
    tree: { algorithm: 'RFC6962-SHA256', size: batch.leafCount, root: toHex(batch.root) },
    path: tree.inclusionProof(record.leafIndex).map(toHex),
    batch: { sequence: batch.sequence },
    anchor: {
      chainId: anchor.chainId,
      contract: anchor.contract,
      organization: anchor.organization,
      transactionHash: anchor.transactionHash,
      blockNumber: anchor.blockNumber,
      blockHash: anchor.blockHash,
      anchoredAt: new Date(anchor.anchoredAt * 1000).toISOString(),
    },
  };
}
