import { afterEach, beforeEach, describe, it, expect } from 'vitest';
import { toHex } from '../core/hex.js';
import { sha256 } from '../core/sha256.js';
import { computeRoot } from '../merkle/tree.js';
import type { SqliteDatabase } from '../store/sqlite/openDatabase.js';
import type { SqliteAnchorStore } from '../store/sqlite/sqliteAnchorStore.js';
import {
  CONTRACT,
  InMemoryAnchorReader,
  ORG,
  confirmAllSealed,
  fabricatedAnchor,
  memoryStore,
  onChainAnchorOf,
} from '../testing/fixtures.js';
import type { Batch } from './ports.js';
import { auditRecords, type AuditFinding } from './auditRecords.js';
import { recordLeafHash } from './recordLeaf.js';
import { RecordWriter } from './recordWriter.js';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const KIND = 'fhir.Observation';

let db: SqliteDatabase;
let store: SqliteAnchorStore;
let reader: InMemoryAnchorReader;

/**
 * Records 1-6 in two confirmed batches of 3 (their true roots on the in-memory chain), record 7 hash-only in
 * sealed batch 3 (not yet confirmed), record 8 in open batch 4.
 */
beforeEach(async () => {
  ({ db, store } = memoryStore());
  reader = new InMemoryAnchorReader();
  let clock = 1_000;
  const writer = new RecordWriter(store, {
    organization: ORG,
    batchSize: 3,
    batchAgeMs: 10,
    now: () => clock,
  });
  await writer.appendMany(
    Array.from({ length: 6 }, (_, i) => ({ kind: KIND, content: text(`record ${i + 1}`) })),
  );
  confirmAllSealed(store, reader);
  await writer.append({ kind: 'fhir.Patient', contentHash: sha256(text('encrypted elsewhere')) });
  clock += 10;
  writer.sealIfDue();
  await writer.append({ kind: KIND, content: text('record 8') });
  expect(store.sealedBatchSequences()).toEqual([1, 2, 3]);
  expect(store.getBatch(3)?.state).toBe('sealed');
  expect(store.getBatch(4)?.state).toBe('open');
});
afterEach(() => {
  db.close();
});

const summary = (findings: AuditFinding[]) =>
  findings.map((f) => ({ kind: f.kind, batchSequence: f.batchSequence, recordId: f.recordId }));

/** Rewrites record `id` so its stored hashes agree with the new bytes: only the batch root can tell. */
function forgeConsistently(id: number, content: Uint8Array): void {
  const row = db.prepare('SELECT kind FROM records WHERE id = ?').get(id) as { kind: string };
  const contentHash = sha256(content);
  const leafHash = recordLeafHash({ organization: ORG, id, kind: row.kind, contentHash });
  db.prepare('UPDATE records SET content = ?, content_hash = ?, leaf_hash = ? WHERE id = ?').run(
    Buffer.from(content),
    Buffer.from(contentHash),
    Buffer.from(leafHash),
    id,
  );
}

describe('auditRecords', () => {
  it('finds nothing wrong with untouched data', async () => {
    expect(await auditRecords(store, { organization: ORG })).toEqual({
      batchesChecked: 3,
      recordsChecked: 7,
      erasedRecords: 0,
      chainChecked: false,
      findings: [],
    });
    const withChain = await auditRecords(store, { organization: ORG, reader });
    expect(withChain).toEqual({
      batchesChecked: 3,
      recordsChecked: 7,
      erasedRecords: 0,
      chainChecked: true,
      findings: [],
    });
    expect(reader.getAnchorCalls).toBe(2); // the two confirmed batches
  });

  it('reports a record whose bytes were edited, naming exactly that record', async () => {
    db.prepare('UPDATE records SET content = ? WHERE id = ?').run(Buffer.from('record 5, amended'), 5);
    const report = await auditRecords(store, { organization: ORG });
    expect(summary(report.findings)).toEqual([
      { kind: 'content-hash-mismatch', batchSequence: 2, recordId: 5 },
      { kind: 'leaf-hash-mismatch', batchSequence: 2, recordId: 5 },
    ]);
    const [content] = report.findings;
    expect(content?.message).toBe(
      `record 5: its bytes hash to ${toHex(sha256(text('record 5, amended')))}, but ${toHex(sha256(text('record 5')))} was stored and anchored`,
    );

    // With the chain, the rebuilt root of batch 2 is also not the anchored one.
    const withChain = await auditRecords(store, { organization: ORG, reader });
    expect(summary(withChain.findings)).toEqual([
      { kind: 'content-hash-mismatch', batchSequence: 2, recordId: 5 },
      { kind: 'leaf-hash-mismatch', batchSequence: 2, recordId: 5 },
      { kind: 'not-on-chain', batchSequence: 2, recordId: undefined },
    ]);
  });

  it('reports an edited kind as a leaf-hash mismatch of that record', async () => {
    db.prepare('UPDATE records SET kind = ? WHERE id = ?').run('fhir.Condition', 2);
    const report = await auditRecords(store, { organization: ORG });
    expect(summary(report.findings)).toEqual([{ kind: 'leaf-hash-mismatch', batchSequence: 1, recordId: 2 }]);
  });

  it('reports an edited hash of a hash-only record as a leaf-hash mismatch', async () => {
    db.prepare('UPDATE records SET content_hash = ? WHERE id = ?').run(Buffer.alloc(32, 7), 7);
    const report = await auditRecords(store, { organization: ORG });
    expect(summary(report.findings)).toEqual([{ kind: 'leaf-hash-mismatch', batchSequence: 3, recordId: 7 }]);
  });

  it('a consistent forgery (bytes and both hashes) still changes the rebuilt root', async () => {
    const forged = text('record 2, forged');
    forgeConsistently(2, forged);
    const rebuilt = computeRoot(
      [1, 2, 3].map((id) =>
        recordLeafHash({
          organization: ORG,
          id,
          kind: KIND,
          contentHash: sha256(id === 2 ? forged : text(`record ${id}`)),
        }),
      ),
    );
    const sealedRoot = toHex((store.getBatch(1) as Batch).root as Uint8Array);

    const report = await auditRecords(store, { organization: ORG });
    expect(summary(report.findings)).toEqual([
      { kind: 'root-mismatch', batchSequence: 1, recordId: undefined },
    ]);
    expect(report.findings[0]?.message).toBe(
      `batch 1: the records rebuild root ${toHex(rebuilt)}, but ${sealedRoot} was sealed`,
    );

    const withChain = await auditRecords(store, { organization: ORG, reader });
    expect(summary(withChain.findings)).toEqual([
      { kind: 'root-mismatch', batchSequence: 1, recordId: undefined },
      { kind: 'not-on-chain', batchSequence: 1, recordId: undefined },
    ]);
    expect(withChain.findings[1]?.message).toContain(
      `root ${toHex(rebuilt)} rebuilt from the stored records`,
    );
  });

  it('a forgery that also rewrites the sealed root is caught only by the chain', async () => {
    forgeConsistently(4, text('record 4, forged'));
    const root = computeRoot(store.getBatchLeafHashes(2));
    db.prepare('UPDATE batches SET root = ? WHERE sequence = 2').run(Buffer.from(root));

    expect((await auditRecords(store, { organization: ORG })).findings).toEqual([]);
    const withChain = await auditRecords(store, { organization: ORG, reader });
    expect(withChain.chainChecked).toBe(true);
    expect(summary(withChain.findings)).toEqual([
      { kind: 'not-on-chain', batchSequence: 2, recordId: undefined },
    ]);
  });

  it('a rebuilt root anchored under another sequence is not-on-chain', async () => {
    const batch = store.getBatch(1) as Batch;
    const anchor = fabricatedAnchor(1);
    reader.add(CONTRACT, toHex(batch.root as Uint8Array), { ...onChainAnchorOf(batch, anchor), sequence: 9 });
    const report = await auditRecords(store, { organization: ORG, reader });
    expect(summary(report.findings)).toEqual([
      { kind: 'not-on-chain', batchSequence: 1, recordId: undefined },
    ]);
  });

  it('reports a deleted record as records-missing for its batch', async () => {
    db.prepare('DELETE FROM records WHERE id = 3').run();
    const report = await auditRecords(store, { organization: ORG });
    expect(report.recordsChecked).toBe(6);
    expect(summary(report.findings)).toEqual([
      { kind: 'records-missing', batchSequence: 1, recordId: undefined },
    ]);
    expect(report.findings[0]?.message).toBe('batch 1 was sealed with 3 records, but 2 are stored');
  });

  it('reports a batch whose records are all gone', async () => {
    db.prepare('DELETE FROM records WHERE batch_sequence = 2').run();
    const report = await auditRecords(store, { organization: ORG, reader });
    expect(summary(report.findings)).toEqual([
      { kind: 'records-missing', batchSequence: 2, recordId: undefined },
    ]);
  });

  it('does not audit the open batch', async () => {
    db.prepare('UPDATE records SET content = ? WHERE id = 8').run(Buffer.from('changed before sealing'));
    expect((await auditRecords(store, { organization: ORG, reader })).findings).toEqual([]);
  });

  it('audits the local data when the chain cannot be reached, and says so', async () => {
    reader.chainError = new Error('connect ECONNREFUSED 127.0.0.1:8545\n    at details');
    db.prepare('DELETE FROM records WHERE id = 1').run();
    const report = await auditRecords(store, { organization: ORG, reader });
    expect(report.chainChecked).toBe(false);
    expect(report.chainError).toBe('chain not reachable: connect ECONNREFUSED 127.0.0.1:8545');
    expect(summary(report.findings)).toEqual([
      { kind: 'records-missing', batchSequence: 1, recordId: undefined },
    ]);
    expect(reader.getAnchorCalls).toBe(0);
  });

  it('with another organisation, every record looks altered', async () => {
    const other = ORG.slice();
    other[0] = 0xff;
    const report = await auditRecords(store, { organization: other });
    expect(report.findings.filter((f) => f.kind === 'leaf-hash-mismatch').map((f) => f.recordId)).toEqual([
      1, 2, 3, 4, 5, 6, 7,
    ]);
  });
});
