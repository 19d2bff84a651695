import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it, expect } from 'vitest';
import { toHex } from '../../core/hex.js';
import { sha256 } from '../../core/sha256.js';
import type { RecordRow, WriteUnit } from '../../anchoring/ports.js';
import { recordLeafHash } from '../../anchoring/recordLeaf.js';
import { computeRoot } from '../../merkle/tree.js';
import { ORG, fabricatedAnchor, filledHash, memoryStore } from '../../testing/fixtures.js';
import { migrate, SCHEMA_VERSION } from './migrations.js';
import { openDatabase, type SqliteDatabase } from './openDatabase.js';
import { SqliteAnchorStore } from './sqliteAnchorStore.js';

let db: SqliteDatabase;
let store: SqliteAnchorStore;
beforeEach(() => {
  ({ db, store } = memoryStore());
});
afterEach(() => {
  if (db.open) db.close();
});

function row(id: number, batchSequence: number, leafIndex: number, content: string | null = `record ${id}`) {
  const bytes = content === null ? null : new TextEncoder().encode(content);
  const contentHash = bytes ? sha256(bytes) : sha256(new TextEncoder().encode(`elsewhere ${id}`));
  const leafHash = recordLeafHash({ organization: ORG, id, kind: 'test.kind', contentHash });
  const r: RecordRow = {
    id,
    kind: 'test.kind',
    content: bytes,
    contentHash,
    leafHash,
    batchSequence,
    leafIndex,
    receivedAt: 1_000 + id,
  };
  return r;
}

/** Writes `sizes.length` batches directly through `commit`; every batch but the last listed as open is sealed. */
function writeBatches(sizes: number[], openLast: boolean): RecordRow[][] {
  let id = 0;
  const batches: RecordRow[][] = [];
  sizes.forEach((size, i) => {
    const sequence = i + 1;
    const records = Array.from({ length: size }, (_, leaf) => row(++id, sequence, leaf));
    const sealed = !(openLast && i === sizes.length - 1);
    store.commit({
      records,
      openedBatches: [{ sequence, openedAt: 100 * sequence }],
      sealedBatches: sealed
        ? [
            {
              sequence,
              root: computeRoot(records.map((r) => r.leafHash)),
              leafCount: size,
              sealedAt: 100 * sequence + 50,
            },
          ]
        : [],
    });
    batches.push(records);
  });
  return batches;
}

const count = (sql: string): number => (db.prepare(sql).get() as { n: number }).n;

describe('migrations', () => {
  it('creates the schema and sets user_version to the latest migration', () => {
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    const tables = db
      .prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
      .pluck()
      .all();
    expect(tables).toEqual([
      'api_tokens',
      'audit_events',
      'batch_events',
      'batches',
      'epcis_captures',
      'epcis_event_epcs',
      'epcis_events',
      'exchange_copies',
      'exchange_receipts',
      'fhir_code_systems',
      'fhir_keys',
      'fhir_resources',
      'fhir_search_dates',
      'fhir_search_tokens',
      'fhir_versions',
      'meta',
      'patient_links',
      'records',
      'supply_mirror_lots',
      'supply_mirror_packs',
      'supply_mirror_products',
      'supply_mirror_registries',
      'supply_notifications',
      'supply_packs',
      'supply_parties',
      'supply_report_deliveries',
      'supply_reports',
      'supply_suspect_actions',
      'supply_t3',
      'supply_t3_packs',
      'supply_watch_cursor',
    ]);
  });

  it('is idempotent: migrating an up-to-date database changes nothing', () => {
    writeBatches([2], true);
    migrate(db);
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(count('SELECT COUNT(*) AS n FROM records')).toBe(2);
  });

  it('refuses a schema newer than this code', () => {
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    expect(() => migrate(db)).toThrow(
      `The database schema (version ${SCHEMA_VERSION + 1}) is newer than this CareLedger (version ${SCHEMA_VERSION}); upgrade CareLedger.`,
    );
  });

  it('refuses to open a database file written by a newer version, and keeps it intact', () => {
    const dir = mkdtempSync(join(tmpdir(), 'careledger-db-'));
    try {
      const file = join(dir, 'nested', 'ledger.sqlite');
      const first = openDatabase(file);
      expect(first.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(first.pragma('foreign_keys', { simple: true })).toBe(1);
      expect(first.pragma('synchronous', { simple: true })).toBe(2); // FULL
      first.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
      first.close();
      expect(() => openDatabase(file)).toThrow(`(version ${SCHEMA_VERSION + 1}) is newer`);
      const readonly = openDatabase(file, { readonly: true });
      expect(readonly.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION + 1);
      readonly.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('honours synchronous = NORMAL', () => {
    const normal = openDatabase(':memory:', { synchronous: 'NORMAL' });
    expect(normal.pragma('synchronous', { simple: true })).toBe(1);
    normal.close();
  });
});

describe('SqliteAnchorStore: writing and reading', () => {
  it('starts empty', () => {
    expect(store.loadWriterState()).toEqual({ lastRecordId: 0, lastBatchSequence: 0, openBatch: null });
    expect(store.getRecord(1)).toBeUndefined();
    expect(store.getRecordContent(1)).toBeUndefined();
    expect(store.getBatch(1)).toBeUndefined();
    expect(store.getBatchLeafHashes(1)).toEqual([]);
    expect(store.nextBatchToAnchor()).toBeUndefined();
    expect(store.highestConfirmed()).toBeUndefined();
    expect(store.sealedBatchSequences()).toEqual([]);
  });

  it('stores records and batches, and reads them back exactly', () => {
    const [first, second] = writeBatches([3, 2], true) as [RecordRow[], RecordRow[]];
    const r2 = first[1] as RecordRow;
    expect(store.getRecord(2)).toEqual({
      id: 2,
      kind: 'test.kind',
      contentHash: r2.contentHash,
      leafHash: r2.leafHash,
      batchSequence: 1,
      leafIndex: 1,
      receivedAt: 1_002,
      hasContent: true,
    });
    expect(toHex(store.getRecordContent(2) as Uint8Array)).toBe(toHex(r2.content as Uint8Array));
    expect(store.getBatch(1)).toEqual({
      sequence: 1,
      state: 'sealed',
      leafCount: 3,
      root: computeRoot(first.map((r) => r.leafHash)),
      openedAt: 100,
      sealedAt: 150,
      transactionHash: null,
      submittedAt: null,
      attempts: 0,
      lastError: null,
      anchor: null,
    });
    expect(store.getBatch(2)).toMatchObject({ state: 'open', leafCount: 0, root: null, sealedAt: null });
    expect(store.getBatchLeafHashes(1).map(toHex)).toEqual(first.map((r) => toHex(r.leafHash)));
    expect(store.loadWriterState()).toEqual({
      lastRecordId: 5,
      lastBatchSequence: 2,
      openBatch: { sequence: 2, openedAt: 200, leafHashes: second.map((r) => r.leafHash) },
    });
    expect(store.sealedBatchSequences()).toEqual([1]);
    const iterated = [...store.iterateBatchRecords(1)];
    expect(iterated.map((r) => [r.id, r.leafIndex, r.hasContent])).toEqual([
      [1, 0, true],
      [2, 1, true],
      [3, 2, true],
    ]);
    expect(new TextDecoder().decode(iterated[2]?.content as Uint8Array)).toBe('record 3');
  });

  it('keeps a hash-only record without content', () => {
    const r = row(1, 1, 0, null);
    store.commit({ records: [r], openedBatches: [{ sequence: 1, openedAt: 5 }], sealedBatches: [] });
    expect(store.getRecord(1)?.hasContent).toBe(false);
    expect(store.getRecordContent(1)).toBeNull();
    expect([...store.iterateBatchRecords(1)][0]).toMatchObject({ id: 1, content: null, hasContent: false });
  });

  it('commits a unit atomically: a failing seal rolls back its records and openings', () => {
    writeBatches([2], false); // batch 1 sealed
    const unit: WriteUnit = {
      records: [row(3, 2, 0)],
      openedBatches: [{ sequence: 2, openedAt: 300 }],
      sealedBatches: [{ sequence: 1, root: new Uint8Array(32), leafCount: 2, sealedAt: 301 }], // not open
    };
    expect(() => store.commit(unit)).toThrow('batch 1 is not open and cannot be sealed');
    expect(store.getRecord(3)).toBeUndefined();
    expect(store.getBatch(2)).toBeUndefined();
    expect(store.getBatch(1)?.sealedAt).toBe(150);
  });

  it('rejects two records at the same leaf position', () => {
    writeBatches([1], true);
    expect(() => store.commit({ records: [row(2, 1, 0)], openedBatches: [], sealedBatches: [] })).toThrow(
      /UNIQUE/,
    );
    expect(store.getRecord(2)).toBeUndefined();
  });

  it('stores meta values and overwrites them', () => {
    expect(store.getMeta('chain')).toBeUndefined();
    store.setMeta('chain', 'a');
    store.setMeta('chain', 'b');
    expect(store.getMeta('chain')).toBe('b');
  });
});

describe('SqliteAnchorStore: anchoring life cycle', () => {
  it('nextBatchToAnchor is the lowest sealed or submitted batch', () => {
    writeBatches([1, 1, 1, 1], true);
    expect(store.nextBatchToAnchor()?.sequence).toBe(1);
    store.markConfirmed(1, fabricatedAnchor(1));
    expect(store.nextBatchToAnchor()?.sequence).toBe(2);
    store.markSubmitted(2, filledHash(0x22), 5_000);
    expect(store.nextBatchToAnchor()?.sequence).toBe(2); // submitted still needs confirming
    store.markConfirmed(2, fabricatedAnchor(2));
    store.markConfirmed(3, fabricatedAnchor(3));
    expect(store.nextBatchToAnchor()).toBeUndefined(); // batch 4 is open
  });

  it('markSubmitted records the transaction and counts attempts', () => {
    writeBatches([2], false);
    store.markSubmitted(1, filledHash(0x11), 5_000);
    store.markAttemptFailed(1, 'x'.repeat(1_500));
    store.markSubmitted(1, filledHash(0x12), 6_000);
    expect(store.getBatch(1)).toMatchObject({
      state: 'submitted',
      transactionHash: filledHash(0x12),
      submittedAt: 6_000,
      attempts: 2,
      lastError: 'x'.repeat(1_000),
      anchor: null,
    });
  });

  it('markConfirmed stores the anchor and clears the last error', () => {
    writeBatches([2], false);
    store.markAttemptFailed(1, 'nonce too low');
    const anchor = fabricatedAnchor(1);
    store.markConfirmed(1, anchor);
    const batch = store.getBatch(1);
    expect(batch?.state).toBe('confirmed');
    expect(batch?.anchor).toEqual(anchor);
    expect(batch?.transactionHash).toBe(anchor.transactionHash);
    expect(batch?.lastError).toBeNull();
    expect(store.highestConfirmed()?.sequence).toBe(1);
  });

  it('highestConfirmed is the confirmed batch with the highest sequence', () => {
    writeBatches([1, 1, 1], false);
    store.markConfirmed(2, fabricatedAnchor(2));
    store.markConfirmed(1, fabricatedAnchor(1));
    expect(store.highestConfirmed()?.sequence).toBe(2);
    expect(store.highestConfirmed()?.anchor).toEqual(fabricatedAnchor(2));
  });

  it('reopenAnchorsFrom puts submitted and confirmed batches from `from` back to sealed', () => {
    writeBatches([1, 1, 1, 1, 1], true); // 1-4 sealed, 5 open
    store.markConfirmed(1, fabricatedAnchor(1));
    store.markConfirmed(2, fabricatedAnchor(2));
    store.markSubmitted(3, filledHash(0x33), 7_000);
    const root2 = store.getBatch(2)?.root;

    expect(store.reopenAnchorsFrom(2, 'chain lost its state')).toBe(2);
    expect(store.getBatch(1)?.state).toBe('confirmed');
    for (const sequence of [2, 3]) {
      expect(store.getBatch(sequence)).toMatchObject({
        state: 'sealed',
        transactionHash: null,
        submittedAt: null,
        anchor: null,
      });
    }
    expect(store.getBatch(2)?.root).toEqual(root2); // the root is kept: it is re-anchored as it was
    expect(store.getBatch(4)?.state).toBe('sealed');
    expect(store.getBatch(5)?.state).toBe('open');
    expect(
      db.prepare(`SELECT batch_sequence AS s, event, detail FROM batch_events ORDER BY batch_sequence`).all(),
    ).toEqual([
      { s: 2, event: 'reanchor', detail: 'chain lost its state' },
      { s: 3, event: 'reanchor', detail: 'chain lost its state' },
    ]);
    expect(store.nextBatchToAnchor()?.sequence).toBe(2);
    expect(store.highestConfirmed()?.sequence).toBe(1);
    expect(store.reopenAnchorsFrom(2, 'again')).toBe(0);
    expect(store.reopenAnchorsFrom(1, 'all')).toBe(1);
    expect(store.highestConfirmed()).toBeUndefined();
  });

  it('counts batches by state, pending records and the oldest pending batch', () => {
    expect(store.counts()).toEqual({
      open: 0,
      sealed: 0,
      submitted: 0,
      confirmed: 0,
      pendingRecords: 0,
      oldestPendingAt: null,
      lastConfirmed: null,
    });
    writeBatches([2, 3, 4, 5, 6], true); // openedAt 100..500; 5 is open
    store.markConfirmed(1, fabricatedAnchor(1));
    store.markConfirmed(2, fabricatedAnchor(2));
    store.markSubmitted(3, filledHash(0x33), 7_000);
    expect(store.counts()).toEqual({
      open: 1,
      sealed: 1,
      submitted: 1,
      confirmed: 2,
      pendingRecords: 4 + 5 + 6,
      oldestPendingAt: 300,
      lastConfirmed: { sequence: 2, anchoredAt: fabricatedAnchor(2).anchoredAt },
    });
  });
});
