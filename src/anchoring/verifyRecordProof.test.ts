import { afterEach, describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { VerificationError } from '../core/errors.js';
import { toHex, type Hex } from '../core/hex.js';
import { canonicalJsonBytes } from '../core/canonicalJson.js';
import { sha256 } from '../core/sha256.js';
import { hashChildren } from '../merkle/hasher.js';
import { MerkleTree, computeRoot } from '../merkle/tree.js';
import type { SqliteDatabase } from '../store/sqlite/openDatabase.js';
import type { SqliteAnchorStore } from '../store/sqlite/sqliteAnchorStore.js';
import {
  CHAIN_ID,
  CONTRACT,
  InMemoryAnchorReader,
  ORG,
  ORG_HEX,
  captureAsyncError,
  captureError,
  confirmAllSealed,
  fabricatedAnchor,
  memoryStore,
} from '../testing/fixtures.js';
import type { Batch, OnChainAnchor, StoredRecord } from './ports.js';
import { RECORD_PROOF_FORMAT, buildRecordProof, type RecordProof } from './recordProof.js';
import { recordLeafHash } from './recordLeaf.js';
import { RecordWriter } from './recordWriter.js';
import { checkProofOnChain, checkRecordAgainstProof, parseRecordProof } from './verifyRecordProof.js';

const KIND = 'fhir.Observation';
const RECEIVED_AT = Date.UTC(2024, 0, 2, 3, 4, 5, 678);

interface Ledger {
  db: SqliteDatabase;
  store: SqliteAnchorStore;
  reader: InMemoryAnchorReader;
  contents: Uint8Array[];
  proof(id: number): RecordProof;
}

const open: SqliteDatabase[] = [];
afterEach(() => {
  for (const db of open.splice(0)) db.close();
});

/** Appends `contents` through the real writer and store, seals the rest by age and confirms every batch. */
async function buildLedger(contents: Uint8Array[], batchSize: number): Promise<Ledger> {
  const { db, store } = memoryStore();
  open.push(db);
  let clock = RECEIVED_AT;
  const writer = new RecordWriter(store, { organization: ORG, batchSize, batchAgeMs: 10, now: () => clock });
  await writer.appendMany(contents.map((content) => ({ kind: KIND, content })));
  clock += 10;
  writer.sealIfDue();
  const reader = new InMemoryAnchorReader();
  confirmAllSealed(store, reader);
  return {
    db,
    store,
    reader,
    contents,
    proof(id) {
      const record = store.getRecord(id) as StoredRecord;
      const batch = store.getBatch(record.batchSequence) as Batch;
      const tree = MerkleTree.fromLeafHashes(store.getBatchLeafHashes(batch.sequence));
      // Through JSON, as a verifier receives it.
      return JSON.parse(JSON.stringify(buildRecordProof(record, batch, tree))) as RecordProof;
    },
  };
}

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const observation = (i: number): Uint8Array =>
  text(
    JSON.stringify({ resourceType: 'Observation', id: `obs-${i}`, valueQuantity: { value: 36 + i / 10 } }),
  );

/** 11 records, batches of 7: batch 1 holds records 1-7 (sealed by size), batch 2 records 8-11 (sealed by age). */
const standardLedger = () =>
  buildLedger(
    Array.from({ length: 11 }, (_, i) => observation(i + 1)),
    7,
  );

function clone<T>(value: T): T {
  return structuredClone(value);
}

/** Offline verification as the CLI does it: parse the JSON, then check the bytes against it. */
function verifyOffline(content: Uint8Array, input: unknown): void {
  checkRecordAgainstProof(content, parseRecordProof(input));
}

function flipHex(value: string, byteIndex = 0): Hex {
  const bytes = Buffer.from(value.slice(2), 'hex');
  bytes[byteIndex] = (bytes[byteIndex] ?? 0) ^ 0x01;
  return `0x${bytes.toString('hex')}`;
}

describe('buildRecordProof', () => {
  it('builds the exact self-contained proof of a record', async () => {
    const ledger = await standardLedger();
    const leaves = ledger.contents
      .slice(0, 7)
      .map((c, i) => recordLeafHash({ organization: ORG, id: i + 1, kind: KIND, contentHash: sha256(c) }));
    const [l0, l1, , l3, l4, l5, l6] = leaves as [
      Uint8Array,
      Uint8Array,
      Uint8Array,
      Uint8Array,
      Uint8Array,
      Uint8Array,
      Uint8Array,
    ];
    const anchor = fabricatedAnchor(1);
    // RFC 6962 audit path of leaf 2 of 7: its sibling 3, then node(0..1), then node(4..6).
    const path = [l3, hashChildren(l0, l1), hashChildren(hashChildren(l4, l5), l6)].map(toHex);

    expect(ledger.proof(3)).toEqual({
      format: RECORD_PROOF_FORMAT,
      record: {
        id: 3,
        kind: KIND,
        contentHash: toHex(sha256(observation(3))),
        receivedAt: '2024-01-02T03:04:05.678Z',
      },
      leaf: { hash: toHex(leaves[2] as Uint8Array), index: 2 },
      tree: { algorithm: 'RFC6962-SHA256', size: 7, root: toHex(computeRoot(leaves)) },
      path,
      batch: { sequence: 1 },
      anchor: {
        chainId: CHAIN_ID,
        contract: CONTRACT,
        organization: ORG_HEX,
        transactionHash: anchor.transactionHash,
        blockNumber: anchor.blockNumber,
        blockHash: anchor.blockHash,
        anchoredAt: new Date(anchor.anchoredAt * 1000).toISOString(),
      },
    });
  });

  it('every record of every batch verifies offline and on chain', async () => {
    const ledger = await standardLedger();
    for (let id = 1; id <= 11; id++) {
      const proof = ledger.proof(id);
      expect(proof.batch.sequence).toBe(id <= 7 ? 1 : 2);
      expect(proof.tree.size).toBe(id <= 7 ? 7 : 4);
      expect(() => verifyOffline(ledger.contents[id - 1] as Uint8Array, proof)).not.toThrow();
      const anchor = fabricatedAnchor(proof.batch.sequence);
      expect(await checkProofOnChain(proof, ledger.reader, { expectedContract: CONTRACT })).toEqual({
        organization: ORG_HEX,
        sequence: proof.batch.sequence,
        leafCount: proof.tree.size,
        anchoredAt: anchor.anchoredAt,
        blockNumber: anchor.blockNumber,
      });
    }
  });

  it('refuses a batch that is not confirmed', async () => {
    const { db, store } = memoryStore();
    open.push(db);
    const writer = new RecordWriter(store, { organization: ORG, batchSize: 2, batchAgeMs: 10 });
    await writer.appendMany([
      { kind: KIND, content: text('a') },
      { kind: KIND, content: text('b') },
    ]);
    const batch = store.getBatch(1) as Batch;
    expect(batch.state).toBe('sealed');
    const tree = MerkleTree.fromLeafHashes(store.getBatchLeafHashes(1));
    expect(() => buildRecordProof(store.getRecord(1) as StoredRecord, batch, tree)).toThrow(
      'batch 1 is not confirmed',
    );
  });

  it('accepts upper-case hex in a proof', async () => {
    const ledger = await standardLedger();
    const proof = ledger.proof(5);
    const upper = (h: string) => `0x${h.slice(2).toUpperCase()}`;
    const shouted = clone(proof);
    shouted.record.contentHash = upper(proof.record.contentHash);
    shouted.leaf.hash = upper(proof.leaf.hash);
    shouted.tree.root = upper(proof.tree.root);
    shouted.path = proof.path.map(upper);
    shouted.anchor.organization = upper(proof.anchor.organization);
    shouted.anchor.contract = upper(proof.anchor.contract);
    expect(() => verifyOffline(observation(5), shouted)).not.toThrow();
    await expect(checkProofOnChain(shouted, ledger.reader)).resolves.toMatchObject({ sequence: 1 });
  });
});

describe('parseRecordProof: malformed proofs', () => {
  const without = <T extends object>(value: T, key: keyof T & string): unknown => {
    const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
    delete copy[key];
    return copy;
  };
  const cases: { name: string; at: string; make: (p: RecordProof) => unknown }[] = [
    { name: 'not an object (null)', at: '/', make: () => null },
    { name: 'not an object (array)', at: '/', make: (p) => [p] },
    { name: 'not an object (string)', at: '/', make: (p) => JSON.stringify(p) },
    {
      name: 'missing record.kind',
      at: '/record/kind',
      make: (p) => ({ ...p, record: without(p.record, 'kind') }),
    },
    { name: 'missing anchor', at: '/anchor', make: (p) => without(p, 'anchor') },
    { name: 'missing path', at: '/path', make: (p) => without(p, 'path') },
    {
      name: 'missing leaf.index',
      at: '/leaf/index',
      make: (p) => ({ ...p, leaf: without(p.leaf, 'index') }),
    },
    { name: 'an extra top-level field', at: '/note', make: (p) => ({ ...p, note: 'trust me' }) },
    {
      name: 'an extra record field',
      at: '/record/patient',
      make: (p) => ({ ...p, record: { ...p.record, patient: 'x' } }),
    },
    {
      name: 'an extra anchor field',
      at: '/anchor/valid',
      make: (p) => ({ ...p, anchor: { ...p.anchor, valid: true } }),
    },
    { name: 'another format', at: '/format', make: (p) => ({ ...p, format: 'careledger.record-proof/v2' }) },
    {
      name: 'another algorithm',
      at: '/tree/algorithm',
      make: (p) => ({ ...p, tree: { ...p.tree, algorithm: 'RFC6962-SHA512' } }),
    },
    {
      name: 'a 31-byte content hash',
      at: '/record/contentHash',
      make: (p) => ({ ...p, record: { ...p.record, contentHash: p.record.contentHash.slice(0, -2) } }),
    },
    {
      name: 'a 33-byte leaf hash',
      at: '/leaf/hash',
      make: (p) => ({ ...p, leaf: { ...p.leaf, hash: `${p.leaf.hash}00` } }),
    },
    {
      name: 'a root without 0x',
      at: '/tree/root',
      make: (p) => ({ ...p, tree: { ...p.tree, root: p.tree.root.slice(2) } }),
    },
    {
      name: 'a 19-byte organisation',
      at: '/anchor/organization',
      make: (p) => ({ ...p, anchor: { ...p.anchor, organization: p.anchor.organization.slice(0, -2) } }),
    },
    {
      name: 'a 21-byte contract',
      at: '/anchor/contract',
      make: (p) => ({ ...p, anchor: { ...p.anchor, contract: `${p.anchor.contract}aa` } }),
    },
    {
      name: 'a non-hex path element',
      at: '/path/1',
      make: (p) => ({ ...p, path: [p.path[0], `0x${'zz'.repeat(32)}`, p.path[2]] }),
    },
    {
      name: 'a 31-byte path element',
      at: '/path/0',
      make: (p) => ({ ...p, path: [p.path[0]?.slice(0, -2), ...p.path.slice(1)] }),
    },
    {
      name: 'more than 64 path elements',
      at: '/path',
      make: (p) => ({ ...p, path: Array(65).fill(p.path[0]) }),
    },
    { name: 'a negative index', at: '/leaf/index', make: (p) => ({ ...p, leaf: { ...p.leaf, index: -1 } }) },
    {
      name: 'a fractional index',
      at: '/leaf/index',
      make: (p) => ({ ...p, leaf: { ...p.leaf, index: 1.5 } }),
    },
    {
      name: 'an index as a string',
      at: '/leaf/index',
      make: (p) => ({ ...p, leaf: { ...p.leaf, index: '2' } }),
    },
    { name: 'record id 0', at: '/record/id', make: (p) => ({ ...p, record: { ...p.record, id: 0 } }) },
    { name: 'an empty kind', at: '/record/kind', make: (p) => ({ ...p, record: { ...p.record, kind: '' } }) },
    { name: 'tree size 0', at: '/tree/size', make: (p) => ({ ...p, tree: { ...p.tree, size: 0 } }) },
    { name: 'tree size 2^32', at: '/tree/size', make: (p) => ({ ...p, tree: { ...p.tree, size: 2 ** 32 } }) },
    { name: 'batch sequence 0', at: '/batch/sequence', make: (p) => ({ ...p, batch: { sequence: 0 } }) },
    {
      name: 'chain id 0',
      at: '/anchor/chainId',
      make: (p) => ({ ...p, anchor: { ...p.anchor, chainId: 0 } }),
    },
    {
      name: 'a negative block',
      at: '/anchor/blockNumber',
      make: (p) => ({ ...p, anchor: { ...p.anchor, blockNumber: -1 } }),
    },
    {
      name: 'a receivedAt that is not a date',
      at: '/record/receivedAt',
      make: (p) => ({ ...p, record: { ...p.record, receivedAt: 'yesterday' } }),
    },
    {
      name: 'a receivedAt in month 13',
      at: '/record/receivedAt',
      make: (p) => ({ ...p, record: { ...p.record, receivedAt: '2024-13-01T00:00:00Z' } }),
    },
    {
      name: 'a receivedAt on 30 February',
      at: '/record/receivedAt',
      make: (p) => ({ ...p, record: { ...p.record, receivedAt: '2024-02-30T00:00:00Z' } }),
    },
    {
      name: 'an anchoredAt at hour 24',
      at: '/anchor/anchoredAt',
      make: (p) => ({ ...p, anchor: { ...p.anchor, anchoredAt: '2024-01-31T24:00:00Z' } }),
    },
    {
      name: 'an anchoredAt without a time zone',
      at: '/anchor/anchoredAt',
      make: (p) => ({ ...p, anchor: { ...p.anchor, anchoredAt: '2024-01-01T00:00:00' } }),
    },
    {
      name: 'an anchoredAt as a number',
      at: '/anchor/anchoredAt',
      make: (p) => ({ ...p, anchor: { ...p.anchor, anchoredAt: 1_700_000_012 } }),
    },
  ];

  for (const c of cases) {
    it(`${c.name} -> PROOF.MALFORMED at ${c.at}`, async () => {
      const ledger = await standardLedger();
      const error = captureError(() => verifyOffline(observation(3), c.make(ledger.proof(3))));
      expect(error).toBeInstanceOf(VerificationError);
      expect(error.code).toBe('PROOF.MALFORMED');
      expect(error.status).toBe(422);
      expect(error.details).toEqual({ path: c.at });
      expect(error.message).toContain(`record proof: ${c.at}: `);
    });
  }
});

describe('checkRecordAgainstProof: hostile proofs and records', () => {
  const cases: {
    name: string;
    code: string;
    content?: (c: Uint8Array) => Uint8Array;
    proof?: (p: RecordProof) => void;
  }[] = [
    {
      name: 'a trailing path element',
      code: 'MERKLE.WRONG_PROOF_SIZE',
      proof: (p) => p.path.push(p.tree.root),
    },
    { name: 'a truncated path', code: 'MERKLE.WRONG_PROOF_SIZE', proof: (p) => p.path.pop() },
    { name: 'an empty path', code: 'MERKLE.WRONG_PROOF_SIZE', proof: (p) => (p.path = []) },
    {
      name: 'the index equal to the size',
      code: 'MERKLE.INDEX_OUT_OF_RANGE',
      proof: (p) => (p.leaf.index = 7),
    },
    { name: 'a far-away index', code: 'MERKLE.INDEX_OUT_OF_RANGE', proof: (p) => (p.leaf.index = 2 ** 40) },
    {
      name: 'the last index (shorter path)',
      code: 'MERKLE.WRONG_PROOF_SIZE',
      proof: (p) => (p.leaf.index = 6),
    },
    { name: 'a neighbouring index', code: 'MERKLE.ROOT_MISMATCH', proof: (p) => (p.leaf.index = 3) },
    { name: 'a smaller tree size', code: 'MERKLE.WRONG_PROOF_SIZE', proof: (p) => (p.tree.size = 3) },
    {
      name: 'a flipped path byte',
      code: 'MERKLE.ROOT_MISMATCH',
      proof: (p) => (p.path[1] = flipHex(p.path[1] as string, 31)),
    },
    { name: 'swapped path elements', code: 'MERKLE.ROOT_MISMATCH', proof: (p) => p.path.reverse() },
    {
      name: 'a flipped root byte',
      code: 'MERKLE.ROOT_MISMATCH',
      proof: (p) => (p.tree.root = flipHex(p.tree.root, 7)),
    },
    {
      name: 'a changed content byte',
      code: 'PROOF.CONTENT_MISMATCH',
      content: (c) => Object.assign(c.slice(), { [5]: (c[5] ?? 0) ^ 0x20 }),
    },
    {
      name: 'an extra content byte',
      code: 'PROOF.CONTENT_MISMATCH',
      content: (c) => new Uint8Array([...c, 0x0a]),
    },
    { name: 'empty content', code: 'PROOF.CONTENT_MISMATCH', content: () => new Uint8Array(0) },
    {
      name: 'a changed content hash',
      code: 'PROOF.CONTENT_MISMATCH',
      proof: (p) => (p.record.contentHash = flipHex(p.record.contentHash)),
    },
    { name: 'a changed kind', code: 'PROOF.LEAF_MISMATCH', proof: (p) => (p.record.kind = 'fhir.Condition') },
    { name: 'a changed id', code: 'PROOF.LEAF_MISMATCH', proof: (p) => (p.record.id = 4) },
    {
      name: 'another organisation',
      code: 'PROOF.LEAF_MISMATCH',
      proof: (p) => (p.anchor.organization = flipHex(p.anchor.organization, 19)),
    },
    {
      name: 'a changed leaf hash',
      code: 'PROOF.LEAF_MISMATCH',
      proof: (p) => (p.leaf.hash = flipHex(p.leaf.hash, 31)),
    },
  ];

  for (const c of cases) {
    it(`${c.name} -> ${c.code}`, async () => {
      const ledger = await standardLedger();
      const proof = ledger.proof(3);
      c.proof?.(proof);
      const content = c.content ? c.content(observation(3)) : observation(3);
      const error = captureError(() => verifyOffline(content, proof));
      expect(error).toBeInstanceOf(VerificationError);
      expect(error.code).toBe(c.code);
    });
  }

  it('a root swapped for another anchored batch root fails with MERKLE.ROOT_MISMATCH', async () => {
    const ledger = await standardLedger();
    const proof = ledger.proof(3);
    proof.tree.root = ledger.proof(9).tree.root;
    const error = captureError(() => verifyOffline(observation(3), proof));
    expect(error.code).toBe('MERKLE.ROOT_MISMATCH');
    expect(error.details).toEqual({ expected: proof.tree.root, computed: ledger.proof(3).tree.root });
  });

  it('a proof is not valid for another record, not even one with the same bytes', async () => {
    const same = text('{"resourceType":"Observation","status":"final"}');
    const ledger = await buildLedger([same, same, observation(3)], 3);
    const proof1 = ledger.proof(1);
    const proof2 = ledger.proof(2);
    expect(proof1.record.contentHash).toBe(proof2.record.contentHash);
    expect(proof1.leaf.hash).not.toBe(proof2.leaf.hash);
    // The bytes match, but the proof of record 1 presented as record 2 does not.
    const replayed = clone(proof1);
    replayed.record.id = 2;
    expect(captureError(() => verifyOffline(same, replayed)).code).toBe('PROOF.LEAF_MISMATCH');
    // Record 2's leaf and path with record 1's id: the leaf no longer matches either.
    const mixed = { ...clone(proof2), record: clone(proof1.record) };
    expect(captureError(() => verifyOffline(same, mixed)).code).toBe('PROOF.LEAF_MISMATCH');
    // Another record's bytes with this proof.
    expect(captureError(() => verifyOffline(observation(3), proof1)).code).toBe('PROOF.CONTENT_MISMATCH');
  });

  it('a tree size with the same path shape passes offline, so the chain check must (and does) refuse it', async () => {
    const ledger = await standardLedger();
    const proof = ledger.proof(3);
    proof.tree.size = 8; // leaf 2 has the same audit path shape in trees of 5 to 8 leaves
    expect(() => verifyOffline(observation(3), proof)).not.toThrow();
    const error = await captureAsyncError(checkProofOnChain(proof, ledger.reader));
    expect(error.code).toBe('PROOF.ANCHOR_MISMATCH');
    expect(error.details).toEqual({ mismatches: ['leaf count is 7, proof says 8'] });
  });

  it('reports the content mismatch with both hashes', async () => {
    const ledger = await standardLedger();
    const error = captureError(() => verifyOffline(observation(4), ledger.proof(3)));
    expect(error.message).toContain(toHex(sha256(observation(4))));
    expect(error.message).toContain(toHex(sha256(observation(3))));
  });
});

describe('checkProofOnChain', () => {
  async function setup() {
    const ledger = await standardLedger();
    const proof = ledger.proof(3);
    const onChain = ledger.reader.anchors.get(`${CONTRACT}/${proof.tree.root}`) as OnChainAnchor;
    expect(onChain).toBeDefined();
    return { ledger, proof, onChain };
  }

  it('returns what the chain holds when everything agrees', async () => {
    const { ledger, proof, onChain } = await setup();
    expect(await checkProofOnChain(proof, ledger.reader)).toEqual(onChain);
    // The same instant written with an offset is the same anchoring time.
    const offset = clone(proof);
    offset.anchor.anchoredAt = new Date(onChain.anchoredAt * 1000 + 3_600_000)
      .toISOString()
      .replace('Z', '+01:00');
    expect(await checkProofOnChain(offset, ledger.reader)).toEqual(onChain);
  });

  it('a proof for another chain -> PROOF.WRONG_CHAIN', async () => {
    const { ledger, proof } = await setup();
    ledger.reader.chainIdValue = 1;
    const error = await captureAsyncError(checkProofOnChain(proof, ledger.reader));
    expect(error).toBeInstanceOf(VerificationError);
    expect(error.code).toBe('PROOF.WRONG_CHAIN');
    expect(error.message).toBe(`The proof is for chain ${CHAIN_ID}, but the RPC endpoint serves chain 1.`);
    expect(ledger.reader.getAnchorCalls).toBe(0);
  });

  it('a proof naming an untrusted registry -> PROOF.WRONG_CONTRACT', async () => {
    const { ledger, proof } = await setup();
    const trusted: Hex = `0x${'ee'.repeat(20)}`;
    const error = await captureAsyncError(
      checkProofOnChain(proof, ledger.reader, { expectedContract: trusted }),
    );
    expect(error.code).toBe('PROOF.WRONG_CONTRACT');
    expect(error.message).toContain(trusted);
    expect(error.message).toContain(CONTRACT);
    // The trusted address in another letter case is the same registry.
    const upper = `0x${CONTRACT.slice(2).toUpperCase()}` as Hex;
    await expect(checkProofOnChain(proof, ledger.reader, { expectedContract: upper })).resolves.toMatchObject(
      {
        sequence: 1,
      },
    );
  });

  it('a root the registry does not hold -> PROOF.NOT_ANCHORED', async () => {
    const { ledger, proof } = await setup();
    const forged = clone(proof);
    forged.tree.root = flipHex(proof.tree.root);
    const error = await captureAsyncError(checkProofOnChain(forged, ledger.reader));
    expect(error.code).toBe('PROOF.NOT_ANCHORED');
    expect(error.message).toBe(
      `Root ${forged.tree.root} is not anchored in registry ${CONTRACT} on chain ${CHAIN_ID}.`,
    );
  });

  it('a root anchored in another registry only -> PROOF.NOT_ANCHORED', async () => {
    const { ledger, proof } = await setup();
    const elsewhere = clone(proof);
    elsewhere.anchor.contract = `0x${'dd'.repeat(20)}`;
    expect((await captureAsyncError(checkProofOnChain(elsewhere, ledger.reader))).code).toBe(
      'PROOF.NOT_ANCHORED',
    );
  });

  const fields: { field: string; words: string; change: (a: OnChainAnchor) => void }[] = [
    {
      field: 'organization',
      words: 'organization is 0x',
      change: (a) => (a.organization = `0x${'99'.repeat(20)}`),
    },
    { field: 'sequence', words: 'batch sequence is 2, proof says 1', change: (a) => (a.sequence = 2) },
    { field: 'leafCount', words: 'leaf count is 8, proof says 7', change: (a) => (a.leafCount = 8) },
    { field: 'block', words: 'block is 999, proof says 101', change: (a) => (a.blockNumber = 999) },
    {
      field: 'time',
      words: `anchoring time is ${new Date((fabricatedAnchor(1).anchoredAt + 1) * 1000).toISOString()}`,
      change: (a) => (a.anchoredAt += 1),
    },
  ];
  for (const f of fields) {
    it(`the chain disagrees on the ${f.field} -> PROOF.ANCHOR_MISMATCH naming it`, async () => {
      const { ledger, proof, onChain } = await setup();
      f.change(onChain);
      const error = await captureAsyncError(checkProofOnChain(proof, ledger.reader));
      expect(error).toBeInstanceOf(VerificationError);
      expect(error.code).toBe('PROOF.ANCHOR_MISMATCH');
      const mismatches = error.details?.mismatches as string[];
      expect(mismatches).toHaveLength(1);
      expect(mismatches[0]).toContain(f.words);
      expect(error.message).toContain(f.words);
    });
  }

  it('lists every disagreement at once', async () => {
    const { ledger, proof, onChain } = await setup();
    for (const f of fields) f.change(onChain);
    const error = await captureAsyncError(checkProofOnChain(proof, ledger.reader));
    expect(error.code).toBe('PROOF.ANCHOR_MISMATCH');
    expect((error.details?.mismatches as string[]).map((m) => m.split(' is ')[0])).toEqual([
      'organization',
      'batch sequence',
      'leaf count',
      'block',
      'anchoring time',
    ]);
  });

  it('a transaction that did not anchor this root -> PROOF.ANCHOR_MISMATCH naming it', async () => {
    const { ledger, proof } = await setup();
    const other = flipHex(proof.anchor.transactionHash);
    const error = await captureAsyncError(
      checkProofOnChain({ ...proof, anchor: { ...proof.anchor, transactionHash: other } }, ledger.reader),
    );
    expect(error.code).toBe('PROOF.ANCHOR_MISMATCH');
    expect(error.details).toEqual({ mismatches: [`transaction ${other} did not anchor this root`] });
  });

  it('a block hash the chain does not have -> PROOF.ANCHOR_MISMATCH naming it', async () => {
    const { ledger, proof } = await setup();
    const forged = flipHex(proof.anchor.blockHash);
    const error = await captureAsyncError(
      checkProofOnChain({ ...proof, anchor: { ...proof.anchor, blockHash: forged } }, ledger.reader),
    );
    expect(error.code).toBe('PROOF.ANCHOR_MISMATCH');
    expect((error.details?.mismatches as string[])[0]).toContain(`proof says ${forged}`);
  });

  it('the organisation check ignores letter case', async () => {
    const { ledger, proof, onChain } = await setup();
    onChain.organization = `0x${ORG_HEX.slice(2).toUpperCase()}`;
    await expect(checkProofOnChain(proof, ledger.reader)).resolves.toBe(onChain);
  });
});

describe('property: honest proofs verify, any flipped content byte fails', () => {
  it('holds for random records and batch sizes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ minLength: 1, maxLength: 40 }), { minLength: 1, maxLength: 20 }),
        fc.integer({ min: 1, max: 9 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        async (contents, batchSize, pick, mask) => {
          const ledger = await buildLedger(contents, batchSize);
          try {
            for (let id = 1; id <= contents.length; id++) {
              const proof = ledger.proof(id);
              expect(proof.tree.size).toBe(
                Math.min(batchSize, contents.length - (proof.batch.sequence - 1) * batchSize),
              );
              verifyOffline(contents[id - 1] as Uint8Array, proof);
              await checkProofOnChain(proof, ledger.reader, { expectedContract: CONTRACT });
            }
            const id = (pick % contents.length) + 1;
            const original = contents[id - 1] as Uint8Array;
            const proof = ledger.proof(id);
            for (let position = 0; position < original.length; position++) {
              const tampered = original.slice();
              tampered[position] = (tampered[position] ?? 0) ^ mask;
              expect(captureError(() => verifyOffline(tampered, proof)).code).toBe('PROOF.CONTENT_MISMATCH');
            }
          } finally {
            ledger.db.close();
            open.splice(open.indexOf(ledger.db), 1);
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('checkRecordAgainstProof: FHIR versions are hashed as canonical JSON', () => {
  it('accepts the same resource re-formatted, and still refuses a changed one', async () => {
    const { store } = memoryStore();
    const resource = {
      resourceType: 'Patient',
      id: 'p1',
      meta: { versionId: '1' },
      name: [{ family: 'Ng' }],
    };
    const canonical = canonicalJsonBytes(resource);
    const writer = new RecordWriter(store, { organization: ORG, batchSize: 1, batchAgeMs: 10 });
    await writer.appendMany([{ kind: 'fhir.Patient', contentHash: sha256(canonical) }]);
    confirmAllSealed(store);
    const record = store.getRecord(1) as StoredRecord;
    const batch = store.getBatch(record.batchSequence) as Batch;
    const proof = parseRecordProof(
      JSON.parse(
        JSON.stringify(
          buildRecordProof(
            record,
            batch,
            MerkleTree.fromLeafHashes(store.getBatchLeafHashes(batch.sequence)),
          ),
        ),
      ),
    );
    expect(() => checkRecordAgainstProof(canonical, proof)).not.toThrow();
    const encode = (text: string) => new TextEncoder().encode(text);
    const pretty = encode(JSON.stringify(JSON.parse(new TextDecoder().decode(canonical)), null, 2));
    expect(() => checkRecordAgainstProof(pretty, proof)).not.toThrow();
    const changed = encode(JSON.stringify({ ...resource, name: [{ family: 'Ngo' }] }, null, 2));
    expect(captureError(() => checkRecordAgainstProof(changed, proof)).code).toBe('PROOF.CONTENT_MISMATCH');
    // A duplicate key canonicalises to the anchored bytes (the last value wins) but shows a reader a forged first value.
    const forged = encode(
      new TextDecoder().decode(canonical).replace('{"id"', '{"name":[{"family":"Forged"}],"id"'),
    );
    expect(captureError(() => checkRecordAgainstProof(forged, proof)).code).toBe('PROOF.CONTENT_MISMATCH');
    const reordered = encode(
      JSON.stringify({ resourceType: 'Patient', name: resource.name, meta: resource.meta, id: 'p1' }),
    );
    expect(captureError(() => checkRecordAgainstProof(reordered, proof)).code).toBe('PROOF.CONTENT_MISMATCH');
  });
});
