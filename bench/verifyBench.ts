import { hash } from 'node:crypto';
import type { Batch, StoredRecord } from '../src/anchoring/ports.js';
import { buildRecordProof, type RecordProof } from '../src/anchoring/recordProof.js';
import { recordLeafHash } from '../src/anchoring/recordLeaf.js';
import { checkRecordAgainstProof, parseRecordProof } from '../src/anchoring/verifyRecordProof.js';
import { fromHex, type Hex } from '../src/core/hex.js';
import { sha256 } from '../src/core/sha256.js';
import { MerkleTree, verifyInclusion } from '../src/merkle/index.js';
import { recordBytes, recordKind, type RecordSet } from './records.js';
import { sliceRates, type RateStats } from './timing.js';

export interface VerifyResult {
  treeSize: number;
  proofLength: number;
  /** `verifyInclusion` on pre-decoded bytes, per second on one core (best slice). */
  merklePerSecond: number;
  /** `checkRecordAgainstProof` (content SHA-256, leaf hash, hex decoding, Merkle path), per second on one core. */
  fullPerSecond: number;
  /** One-shot SHA-256 of 64-byte inputs per second on one core (the baseline). */
  sha256PerSecond: number;
  slices: number;
  stats: { merkle: RateStats; full: RateStats; sha256: RateStats };
  meanRecordBytes: number;
}

const ORGANIZATION: Hex = '0x00000000000000000000000000000000c0ffee01';
const TREE_SIZE = 4096;

interface Prepared {
  content: Uint8Array;
  proof: RecordProof;
  leafHash: Uint8Array;
  path: Uint8Array[];
  root: Uint8Array;
}

/** Builds a 4,096-leaf batch of record leaves and every record's proof, as a verifier receives it (parsed JSON). */
function prepare(records: RecordSet): Prepared[] {
  const size = Math.min(TREE_SIZE, records.count);
  const organization = fromHex(ORGANIZATION, 20);
  const stored: StoredRecord[] = [];
  for (let i = 0; i < size; i++) {
    const contentHash = sha256(recordBytes(records, i));
    const kind = recordKind(records, i);
    const leafHash = recordLeafHash({ organization, id: i + 1, kind, contentHash });
    stored.push({
      id: i + 1,
      kind,
      contentHash,
      leafHash,
      batchSequence: 1,
      leafIndex: i,
      receivedAt: Date.UTC(2025, 0, 1),
      hasContent: true,
    });
  }
  const tree = MerkleTree.fromLeafHashes(stored.map((r) => r.leafHash));
  const batch: Batch = {
    sequence: 1,
    state: 'confirmed',
    leafCount: size,
    root: tree.root,
    openedAt: Date.UTC(2025, 0, 1),
    sealedAt: Date.UTC(2025, 0, 1),
    transactionHash: `0x${'ab'.repeat(32)}`,
    submittedAt: Date.UTC(2025, 0, 1),
    attempts: 1,
    lastError: null,
    anchor: {
      chainId: 31_337,
      contract: '0x00000000000000000000000000000000000a11ce',
      organization: ORGANIZATION,
      transactionHash: `0x${'ab'.repeat(32)}`,
      blockNumber: 7,
      blockHash: `0x${'cd'.repeat(32)}`,
      anchoredAt: Math.floor(Date.UTC(2025, 0, 1) / 1000),
    },
  };
  return stored.map((record, i) => {
    // What a verifier holds: the proof file parsed from JSON and checked against the schema.
    const proof = parseRecordProof(JSON.parse(JSON.stringify(buildRecordProof(record, batch, tree))));
    return {
      content: recordBytes(records, i),
      proof,
      leafHash: fromHex(proof.leaf.hash, 32),
      path: proof.path.map((h) => fromHex(h, 32)),
      root: fromHex(proof.tree.root, 32),
    };
  });
}

/** Section 4: proof verifications per second on one core, against raw SHA-256 throughput. */
export function runVerifyBench(records: RecordSet, ms: number): VerifyResult {
  const prepared = prepare(records);
  const n = prepared.length;
  const at = (i: number) => prepared[i % n] as Prepared;

  // Correctness first, so the timed loops cannot be measuring a no-op: every proof verifies, a changed record fails.
  for (const p of prepared) {
    verifyInclusion(p.proof.leaf.index, p.proof.tree.size, p.leafHash, p.path, p.root);
    checkRecordAgainstProof(p.content, p.proof);
  }
  const tampered = Uint8Array.from(at(0).content);
  tampered[0] = (tampered[0] as number) ^ 1;
  let rejected = false;
  try {
    checkRecordAgainstProof(tampered, at(0).proof);
  } catch {
    rejected = true;
  }
  if (!rejected) throw new Error('a tampered record passed verification: the verification bench is broken');

  const merkle = (i: number) => {
    const p = at(i);
    verifyInclusion(p.proof.leaf.index, p.proof.tree.size, p.leafHash, p.path, p.root);
  };
  const full = (i: number) => {
    const p = at(i);
    checkRecordAgainstProof(p.content, p.proof);
  };
  const input = new Uint8Array(64).fill(7);
  const sha = (i: number) => {
    input[0] = i & 0xff;
    hash('sha256', input, 'buffer');
  };
  const slices = 4;
  const stats = {
    sha256: sliceRates(ms, sha, slices),
    merkle: sliceRates(ms, merkle, slices),
    full: sliceRates(ms, full, slices),
  };

  const meanRecordBytes = prepared.reduce((s, p) => s + p.content.length, 0) / n;
  return {
    treeSize: n,
    proofLength: at(0).path.length,
    merklePerSecond: stats.merkle.best,
    fullPerSecond: stats.full.best,
    sha256PerSecond: stats.sha256.best,
    slices,
    stats,
    meanRecordBytes,
  };
}
