import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it, expect } from 'vitest';
import { ConflictError, UnavailableError } from '../core/errors.js';
import { toHex } from '../core/hex.js';
import { sha256 } from '../core/sha256.js';
import { computeRoot } from '../merkle/tree.js';
import { openDatabase, type SqliteDatabase } from '../store/sqlite/openDatabase.js';
import { SqliteAnchorStore } from '../store/sqlite/sqliteAnchorStore.js';
import { ORG, captureAsyncError, memoryStore } from '../testing/fixtures.js';
import type { WriteUnit } from './ports.js';
import { recordLeafHash } from './recordLeaf.js';
import { RecordWriter, type RecordInput, type RecordWriterOptions } from './recordWriter.js';

/** The real SQLite store, with every commit counted and an optional failure injected in front of it. */
class InstrumentedStore extends SqliteAnchorStore {
  readonly commits: WriteUnit[] = [];
  failNextCommit: Error | undefined;
  beforeCommit: (() => void) | undefined;

  /** When set, durability waits for this promise (standing in for a slow or failing fsync). */
  durable: Promise<void> | undefined;

  override whenDurable(): Promise<void> {
    return this.durable ?? super.whenDurable();
  }

  override commit(unit: WriteUnit): void {
    this.beforeCommit?.();
    if (this.failNextCommit) {
      const error = this.failNextCommit;
      this.failNextCommit = undefined;
      throw error;
    }
    super.commit(unit);
    this.commits.push(unit);
  }
}

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const record = (i: number, kind = 'test.note'): RecordInput => ({ kind, content: text(`record #${i}`) });
const records = (from: number, n: number): RecordInput[] =>
  Array.from({ length: n }, (_, i) => record(from + i));

/** Leaf hash of `record(i)` stored with id `id`, computed from the parts. */
const expectedLeaf = (id: number, i: number, kind = 'test.note'): Uint8Array =>
  recordLeafHash({ organization: ORG, id, kind, contentHash: sha256(text(`record #${i}`)) });

let db: SqliteDatabase;
let store: InstrumentedStore;
let clock: number;
let sealedCalls: number;

function newWriter(options: Partial<RecordWriterOptions> = {}): RecordWriter {
  return new RecordWriter(store, {
    organization: ORG,
    batchSize: 4,
    batchAgeMs: 1_000,
    now: () => clock,
    onSealed: () => sealedCalls++,
    ...options,
  });
}

const count = (sql: string, ...params: unknown[]): number =>
  (db.prepare(sql).get(...params) as { n: number }).n;

beforeEach(() => {
  db = openDatabase(':memory:');
  store = new InstrumentedStore(db);
  clock = 1_700_000_000_000;
  sealedCalls = 0;
});
afterEach(() => {
  if (db.open) db.close();
});

describe('RecordWriter: appending', () => {
  it('acknowledges a record only after its commit', async () => {
    const writer = newWriter();
    let acknowledged = false;
    let acknowledgedAtCommit: boolean | undefined;
    store.beforeCommit = () => {
      acknowledgedAtCommit = acknowledged;
    };
    const promise = writer.append(record(1)).then((receipt) => {
      acknowledged = true;
      return receipt;
    });
    expect(store.getRecord(1)).toBeUndefined(); // queued, not written yet
    expect(store.commits).toHaveLength(0);
    const receipt = await promise;
    expect(acknowledgedAtCommit).toBe(false);
    expect(store.commits).toHaveLength(1);
    expect(store.getRecord(1)?.id).toBe(1);
    expect(receipt).toEqual({
      id: 1,
      kind: 'test.note',
      contentHash: toHex(sha256(text('record #1'))),
      leafHash: toHex(expectedLeaf(1, 1)),
      batchSequence: 1,
      leafIndex: 0,
      receivedAt: clock,
    });
    expect(toHex(store.getRecordContent(1) as Uint8Array)).toBe(toHex(text('record #1')));
  });

  it('assigns sequential ids and leaf positions across calls', async () => {
    const writer = newWriter({ batchSize: 100 });
    const first = await writer.appendMany(records(1, 3));
    const second = await writer.append(record(4));
    const third = await writer.appendMany(records(5, 2));
    expect([...first, second, ...third].map((r) => [r.id, r.batchSequence, r.leafIndex])).toEqual([
      [1, 1, 0],
      [2, 1, 1],
      [3, 1, 2],
      [4, 1, 3],
      [5, 1, 4],
      [6, 1, 5],
    ]);
    expect(writer.openBatchSize()).toBe(6);
  });

  it('stores a hash-only record without content', async () => {
    const writer = newWriter();
    const contentHash = sha256(text('kept encrypted elsewhere'));
    const receipt = await writer.append({ kind: 'fhir.Patient', contentHash });
    expect(receipt.contentHash).toBe(toHex(contentHash));
    expect(receipt.leafHash).toBe(
      toHex(recordLeafHash({ organization: ORG, id: 1, kind: 'fhir.Patient', contentHash })),
    );
    expect(store.getRecord(1)?.hasContent).toBe(false);
    expect(store.getRecordContent(1)).toBeNull();
  });

  it('flush() writes what is queued synchronously', async () => {
    const writer = newWriter();
    const promise = writer.appendMany(records(1, 2));
    writer.flush();
    expect(store.getRecord(2)?.leafIndex).toBe(1);
    expect((await promise).map((r) => r.id)).toEqual([1, 2]);
    expect(store.commits).toHaveLength(1); // the scheduled flush found nothing left to write
  });
});

describe('RecordWriter: durability', () => {
  it('acknowledges committed records only once the store says they are on stable storage', async () => {
    const writer = newWriter({ batchSize: 2 });
    let release!: () => void;
    store.durable = new Promise<void>((resolve) => (release = resolve));
    let acknowledged = false;
    const appended = writer.appendMany(records(1, 2)).then((r) => {
      acknowledged = true;
      return r;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(store.commits).toHaveLength(1); // committed...
    expect(acknowledged).toBe(false); // ...but not yet acknowledged
    expect(sealedCalls).toBe(0); // nor handed to the submitter
    release();
    expect((await appended).map((r) => r.id)).toEqual([1, 2]);
    expect(sealedCalls).toBe(1);
  });

  it('rejects with STORE.SYNC_FAILED when the flush to disk fails, and keeps writing afterwards', async () => {
    const writer = newWriter();
    store.durable = Promise.reject(new Error('EIO: i/o error, fsync'));
    store.durable.catch(() => undefined); // handled by the writer; this only keeps Node from warning first
    const error = await captureAsyncError(writer.append(record(1)));
    expect(error).toBeInstanceOf(UnavailableError);
    expect((error as UnavailableError).code).toBe('STORE.SYNC_FAILED');
    expect((error as UnavailableError).message).toMatch(/not acknowledged/);
    store.durable = undefined;
    expect((await writer.append(record(2))).id).toBe(2);
  });

  it('drain() writes what is queued and resolves once it is durable', async () => {
    const writer = newWriter();
    const appended = writer.append(record(1));
    await writer.drain();
    expect(count('SELECT COUNT(*) AS n FROM records')).toBe(1);
    expect((await appended).id).toBe(1);
  });
});

describe('RecordWriter: sealing', () => {
  it('seals a batch at exactly batchSize records, with the Merkle root of its leaves', async () => {
    const writer = newWriter({ batchSize: 4 });
    await writer.appendMany(records(1, 3));
    expect(store.getBatch(1)?.state).toBe('open');
    expect(sealedCalls).toBe(0);

    const fourth = await writer.append(record(4));
    expect(fourth).toMatchObject({ id: 4, batchSequence: 1, leafIndex: 3 });
    const batch = store.getBatch(1);
    const leaves = [1, 2, 3, 4].map((i) => expectedLeaf(i, i));
    expect(batch).toMatchObject({ state: 'sealed', leafCount: 4, sealedAt: clock, openedAt: clock });
    expect(toHex(batch?.root as Uint8Array)).toBe(toHex(computeRoot(leaves)));
    expect(store.getBatchLeafHashes(1).map(toHex)).toEqual(leaves.map(toHex));
    expect(sealedCalls).toBe(1);
    expect(writer.openBatchSize()).toBe(0);

    const fifth = await writer.append(record(5));
    expect(fifth).toMatchObject({ id: 5, batchSequence: 2, leafIndex: 0 });
    expect(store.getBatch(2)?.state).toBe('open');
  });

  it('seals several batches from one appendMany in one commit', async () => {
    const writer = newWriter({ batchSize: 4 });
    const receipts = await writer.appendMany(records(1, 9));
    expect(receipts.map((r) => `${r.batchSequence}:${r.leafIndex}`)).toEqual([
      '1:0',
      '1:1',
      '1:2',
      '1:3',
      '2:0',
      '2:1',
      '2:2',
      '2:3',
      '3:0',
    ]);
    expect(store.commits).toHaveLength(1);
    expect(store.commits[0]?.openedBatches.map((b) => b.sequence)).toEqual([1, 2, 3]);
    expect(store.commits[0]?.sealedBatches.map((b) => [b.sequence, b.leafCount])).toEqual([
      [1, 4],
      [2, 4],
    ]);
    for (const sequence of [1, 2]) {
      const batch = store.getBatch(sequence);
      const leaves = [0, 1, 2, 3].map((j) =>
        expectedLeaf((sequence - 1) * 4 + j + 1, (sequence - 1) * 4 + j + 1),
      );
      expect(toHex(batch?.root as Uint8Array)).toBe(toHex(computeRoot(leaves)));
    }
    expect(store.getBatch(3)?.state).toBe('open');
    expect(sealedCalls).toBe(1);
  });

  it('batchSize 1 seals every record on its own; the root is the leaf hash', async () => {
    const writer = newWriter({ batchSize: 1 });
    await writer.appendMany(records(1, 2));
    expect(store.sealedBatchSequences()).toEqual([1, 2]);
    expect(toHex(store.getBatch(2)?.root as Uint8Array)).toBe(toHex(expectedLeaf(2, 2)));
  });

  it('sealIfDue seals the open batch once its first record is batchAgeMs old', async () => {
    const writer = newWriter({ batchSize: 100, batchAgeMs: 1_000 });
    expect(writer.sealIfDue()).toBe(false); // nothing open
    const opened = clock;
    await writer.appendMany(records(1, 2));
    clock = opened + 600;
    await writer.append(record(3)); // a later record does not restart the clock
    clock = opened + 999;
    expect(writer.sealIfDue()).toBe(false);
    expect(store.getBatch(1)?.state).toBe('open');
    expect(sealedCalls).toBe(0);

    clock = opened + 1_000;
    expect(writer.sealIfDue()).toBe(true);
    await store.whenDurable();
    expect(sealedCalls).toBe(1);
    const batch = store.getBatch(1);
    expect(batch).toMatchObject({
      state: 'sealed',
      leafCount: 3,
      openedAt: opened,
      sealedAt: opened + 1_000,
    });
    expect(toHex(batch?.root as Uint8Array)).toBe(
      toHex(computeRoot([1, 2, 3].map((i) => expectedLeaf(i, i)))),
    );
    expect(writer.sealIfDue()).toBe(false); // nothing open any more

    clock += 5_000;
    const next = await writer.append(record(4));
    expect(next).toMatchObject({ id: 4, batchSequence: 2, leafIndex: 0 });
    expect(store.getBatch(2)?.openedAt).toBe(clock);
  });
});

describe('RecordWriter: recovery', () => {
  it('a new writer over the same store continues ids and the open batch, and seals the right root', async () => {
    const first = newWriter({ batchSize: 4 });
    await first.appendMany(records(1, 6)); // batch 1 sealed (1-4), batch 2 open (5, 6)

    const second = newWriter({ batchSize: 4 });
    expect(second.openBatchSize()).toBe(2);
    const receipts = await second.appendMany(records(7, 3));
    expect(receipts.map((r) => [r.id, r.batchSequence, r.leafIndex])).toEqual([
      [7, 2, 2],
      [8, 2, 3],
      [9, 3, 0],
    ]);
    const batch = store.getBatch(2);
    expect(batch?.state).toBe('sealed');
    expect(batch?.leafCount).toBe(4);
    // The root covers the two leaves written by the first writer, reloaded from the store.
    expect(toHex(batch?.root as Uint8Array)).toBe(
      toHex(computeRoot([5, 6, 7, 8].map((i) => expectedLeaf(i, i)))),
    );
  });

  it('recovers after an age seal (no open batch) and after a restart from a database file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'careledger-writer-'));
    try {
      const file = join(dir, 'ledger.sqlite');
      db.close();
      db = openDatabase(file);
      store = new InstrumentedStore(db);
      const first = newWriter({ batchSize: 10, batchAgeMs: 100 });
      await first.appendMany(records(1, 3));
      clock += 100;
      expect(first.sealIfDue()).toBe(true);
      await first.append(record(4)); // batch 2
      db.close();

      db = openDatabase(file);
      store = new InstrumentedStore(db);
      const second = newWriter({ batchSize: 10, batchAgeMs: 100 });
      expect(second.openBatchSize()).toBe(1);
      expect(await second.append(record(5))).toMatchObject({ id: 5, batchSequence: 2, leafIndex: 1 });
    } finally {
      if (db.open) db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('RecordWriter: atomicity', () => {
  it('when the commit throws, rejects with STORE.WRITE_FAILED, stores nothing and reuses the ids', async () => {
    const writer = newWriter({ batchSize: 4 });
    await writer.appendMany(records(1, 3)); // batch 1 open with 3 leaves
    const cause = new Error('disk full');
    store.failNextCommit = cause;

    const error = await captureAsyncError(writer.appendMany(records(4, 3))); // would seal batch 1, open 2
    expect(error).toBeInstanceOf(UnavailableError);
    expect(error.code).toBe('STORE.WRITE_FAILED');
    expect(error.status).toBe(503);
    expect(error.cause).toBe(cause);
    expect(count('SELECT COUNT(*) AS n FROM records')).toBe(3);
    expect(count('SELECT COUNT(*) AS n FROM batches')).toBe(1);
    expect(store.getBatch(1)?.state).toBe('open');
    expect(writer.openBatchSize()).toBe(3);
    expect(sealedCalls).toBe(0);

    const retry = await writer.appendMany(records(4, 3));
    expect(retry.map((r) => [r.id, r.batchSequence, r.leafIndex])).toEqual([
      [4, 1, 3],
      [5, 2, 0],
      [6, 2, 1],
    ]);
    expect(toHex(store.getBatch(1)?.root as Uint8Array)).toBe(
      toHex(computeRoot([1, 2, 3, 4].map((i) => expectedLeaf(i, i)))),
    );
  });

  it('rolls back a transaction that fails half-way inside SQLite (records, openings and seals)', async () => {
    const writer = newWriter({ batchSize: 2 });
    await writer.append(record(1)); // batch 1 open
    // Real SQLite failure after some rows of the same transaction were already inserted.
    db.exec(`CREATE TEMP TRIGGER poison BEFORE INSERT ON records WHEN NEW.kind = 'poison'
             BEGIN SELECT RAISE(ABORT, 'poisoned record'); END`);
    const error = await captureAsyncError(
      writer.appendMany([record(2), record(3), record(4), { kind: 'poison', content: text('x') }]),
    );
    expect(error.code).toBe('STORE.WRITE_FAILED');
    expect((error.cause as Error).message).toBe('poisoned record');
    expect(count('SELECT COUNT(*) AS n FROM records')).toBe(1);
    expect(count('SELECT COUNT(*) AS n FROM batches')).toBe(1);
    expect(store.getBatch(1)).toMatchObject({ state: 'open', root: null });

    db.exec('DROP TRIGGER poison');
    const retry = await writer.appendMany(records(2, 3));
    expect(retry.map((r) => [r.id, r.batchSequence, r.leafIndex])).toEqual([
      [2, 1, 1],
      [3, 2, 0],
      [4, 2, 1],
    ]);
    expect(store.sealedBatchSequences()).toEqual([1, 2]);
    expect(toHex(store.getBatch(2)?.root as Uint8Array)).toBe(
      toHex(computeRoot([3, 4].map((i) => expectedLeaf(i, i)))),
    );
  });

  it('rejects every caller of the failed group, and keeps nothing of them', async () => {
    const writer = newWriter({ batchSize: 10 });
    store.failNextCommit = new Error('I/O error');
    const results = await Promise.allSettled([writer.append(record(1)), writer.appendMany(records(2, 2))]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    for (const r of results) {
      expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'STORE.WRITE_FAILED' });
    }
    expect(store.loadWriterState()).toEqual({ lastRecordId: 0, lastBatchSequence: 0, openBatch: null });
    expect((await writer.append(record(1))).id).toBe(1);
  });

  it('fails cleanly when the database is closed, and nothing reaches the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'careledger-writer-'));
    try {
      const file = join(dir, 'ledger.sqlite');
      db.close();
      db = openDatabase(file);
      store = new InstrumentedStore(db);
      const writer = newWriter({ batchSize: 4 });
      await writer.appendMany(records(1, 2));
      db.close();
      const error = await captureAsyncError(writer.appendMany(records(3, 3)));
      expect(error.code).toBe('STORE.WRITE_FAILED');

      db = openDatabase(file);
      store = new InstrumentedStore(db);
      expect(count('SELECT COUNT(*) AS n FROM records')).toBe(2);
      const reopened = newWriter({ batchSize: 4 });
      expect((await reopened.append(record(3))).id).toBe(3);
    } finally {
      if (db.open) db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a record that cannot be placed (bad content hash) rejects its group and leaves no trace', async () => {
    const writer = newWriter({ batchSize: 3 });
    await writer.append(record(1)); // batch 1 open with one leaf
    const error = await writer
      .appendMany([record(2), { kind: 'test.note', contentHash: new Uint8Array(31) }])
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(TypeError);
    expect(writer.openBatchSize()).toBe(1);
    expect(count('SELECT COUNT(*) AS n FROM records')).toBe(1);

    const retry = await writer.appendMany(records(2, 2));
    expect(retry.map((r) => [r.id, r.batchSequence, r.leafIndex])).toEqual([
      [2, 1, 1],
      [3, 1, 2],
    ]);
    expect(toHex(store.getBatch(1)?.root as Uint8Array)).toBe(
      toHex(computeRoot([1, 2, 3].map((i) => expectedLeaf(i, i)))),
    );
  }, 2_000); // a writer that loses the callers' promises must fail fast, not hang
});

describe('RecordWriter: group commit', () => {
  it('writes every append made in the same tick in ONE transaction, in call order', async () => {
    const writer = newWriter({ batchSize: 1_000 });
    const singles = Array.from({ length: 50 }, (_, i) => writer.append(record(i + 1)));
    const many = writer.appendMany(records(51, 25));
    const results = await Promise.all([...singles, many]);
    expect(store.commits).toHaveLength(1);
    expect(store.commits[0]?.records).toHaveLength(75);
    const ids = results.flat().map((r) => r.id);
    expect(ids).toEqual(Array.from({ length: 75 }, (_, i) => i + 1));

    await writer.append(record(76)); // a later tick: its own transaction
    expect(store.commits).toHaveLength(2);
  });

  it('splits a queue longer than 20,000 records, but never splits one appendMany', async () => {
    const writer = newWriter({ batchSize: 1_000_000 });
    const contentHash = sha256(text('same bytes'));
    const small = (n: number): RecordInput[] => Array.from({ length: n }, () => ({ kind: 'k', contentHash }));
    const big = writer.appendMany(small(20_001)); // larger than a group on its own: still one transaction
    const one = writer.append(small(1)[0] as RecordInput);
    const two = writer.appendMany(small(2));
    const [bigReceipts, oneReceipt, twoReceipts] = await Promise.all([big, one, two]);
    expect(store.commits.map((u) => u.records.length)).toEqual([20_001, 3]);
    expect(bigReceipts.at(-1)?.id).toBe(20_001);
    expect(oneReceipt.id).toBe(20_002);
    expect(twoReceipts.map((r) => r.id)).toEqual([20_003, 20_004]);
    expect(count('SELECT COUNT(*) AS n FROM records')).toBe(20_004);
  });
});

describe('RecordWriter: work within the commit', () => {
  it('runs inside the same transaction: what it writes is durable with the records, and its failure rolls them back', async () => {
    const { db, store } = memoryStore();
    db.exec('CREATE TABLE side (record_id INTEGER NOT NULL)');
    const insert = db.prepare('INSERT INTO side (record_id) VALUES (?)');
    const writer = new RecordWriter(store, { organization: ORG, batchSize: 100, batchAgeMs: 1_000 });
    const receipts = await writer.appendMany([{ kind: 'k', content: new Uint8Array([1]) }], (placed) => {
      expect(db.inTransaction).toBe(true);
      for (const r of placed) insert.run(r.id);
    });
    expect(db.prepare('SELECT record_id FROM side').pluck().all()).toEqual([receipts[0]?.id]);

    const failure = new ConflictError('TEST.REFUSED', 'refused inside the commit');
    await expect(
      writer.appendMany([{ kind: 'k', content: new Uint8Array([2]) }], (placed) => {
        for (const r of placed) insert.run(r.id);
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(db.prepare('SELECT COUNT(*) FROM side').pluck().get()).toBe(1);
    expect(db.prepare('SELECT COUNT(*) FROM records').pluck().get()).toBe(1);
    const next = await writer.append({ kind: 'k', content: new Uint8Array([3]) });
    expect(next.id).toBe((receipts[0]?.id ?? 0) + 1);
  });
});
