import type { Hex } from '../../core/hex.js';
import type {
  AnchorInfo,
  AnchorStore,
  Batch,
  BatchCounts,
  BatchState,
  RecordRow,
  StoredRecord,
  WriteUnit,
  WriterState,
} from '../../anchoring/ports.js';
import type { SqliteDatabase } from './openDatabase.js';
import { durableAtCommit, type Durability } from './walFsync.js';
import { buf, bytes } from './bytes.js';

interface BatchDbRow {
  sequence: number;
  state: BatchState;
  leaf_count: number;
  root: Buffer | null;
  opened_at: number;
  sealed_at: number | null;
  tx_hash: string | null;
  submitted_at: number | null;
  attempts: number;
  last_error: string | null;
  chain_id: number | null;
  contract: string | null;
  organization: string | null;
  block_number: number | null;
  block_hash: string | null;
  anchored_at: number | null;
}

interface RecordDbRow {
  id: number;
  kind: string;
  content_hash: Buffer;
  leaf_hash: Buffer;
  batch_sequence: number;
  leaf_index: number;
  received_at: number;
  has_content: number;
}

function toBatch(row: BatchDbRow): Batch {
  return {
    sequence: row.sequence,
    state: row.state,
    leafCount: row.leaf_count,
    root: row.root ? bytes(row.root) : null,
    openedAt: row.opened_at,
    sealedAt: row.sealed_at,
    transactionHash: row.tx_hash as Hex | null,
    submittedAt: row.submitted_at,
    attempts: row.attempts,
    lastError: row.last_error,
    anchor:
      row.state === 'confirmed' && row.chain_id !== null
        ? {
            chainId: row.chain_id,
            contract: row.contract as Hex,
            organization: row.organization as Hex,
            transactionHash: row.tx_hash as Hex,
            blockNumber: row.block_number as number,
            blockHash: row.block_hash as Hex,
            anchoredAt: row.anchored_at as number,
          }
        : null,
  };
}

function toRecord(row: RecordDbRow): StoredRecord {
  return {
    id: row.id,
    kind: row.kind,
    contentHash: bytes(row.content_hash),
    leafHash: bytes(row.leaf_hash),
    batchSequence: row.batch_sequence,
    leafIndex: row.leaf_index,
    receivedAt: row.received_at,
    hasContent: row.has_content === 1,
  };
}

const RECORD_COLUMNS =
  'id, kind, content_hash, leaf_hash, batch_sequence, leaf_index, received_at, content IS NOT NULL AS has_content';

/** The anchoring store on SQLite (better-sqlite3). All statements are prepared once. */
export class SqliteAnchorStore implements AnchorStore {
  private readonly db: SqliteDatabase;
  private readonly stmt;
  private readonly commitTx: (unit: WriteUnit) => void;
  private readonly durability: Durability;

  /** `durability` says when commits are on stable storage (see WalFsync); by default, when they return. */
  constructor(db: SqliteDatabase, durability: Durability = durableAtCommit) {
    this.db = db;
    this.durability = durability;
    this.stmt = {
      insertRecord: db.prepare(
        `INSERT INTO records (id, kind, content, content_hash, leaf_hash, batch_sequence, leaf_index, received_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      openBatch: db.prepare(`INSERT INTO batches (sequence, state, opened_at) VALUES (?, 'open', ?)`),
      sealBatch: db.prepare(
        `UPDATE batches SET state = 'sealed', root = ?, leaf_count = ?, sealed_at = ? WHERE sequence = ? AND state = 'open'`,
      ),
      lastRecordId: db.prepare(`SELECT COALESCE(MAX(id), 0) AS v FROM records`),
      lastBatch: db.prepare(`SELECT COALESCE(MAX(sequence), 0) AS v FROM batches`),
      openBatchRow: db.prepare(`SELECT * FROM batches WHERE state = 'open' ORDER BY sequence DESC LIMIT 1`),
      leafHashes: db
        .prepare(`SELECT leaf_hash FROM records WHERE batch_sequence = ? ORDER BY leaf_index`)
        .pluck(),
      getRecord: db.prepare(`SELECT ${RECORD_COLUMNS} FROM records WHERE id = ?`),
      getContent: db.prepare(`SELECT content FROM records WHERE id = ?`),
      getBatch: db.prepare(`SELECT * FROM batches WHERE sequence = ?`),
      nextToAnchor: db.prepare(
        `SELECT * FROM batches WHERE state IN ('sealed', 'submitted') ORDER BY sequence LIMIT 1`,
      ),
      markSubmitted: db.prepare(
        `UPDATE batches SET state = 'submitted', tx_hash = ?, submitted_at = ?, attempts = attempts + 1 WHERE sequence = ?`,
      ),
      markConfirmed: db.prepare(
        `UPDATE batches SET state = 'confirmed', tx_hash = ?, chain_id = ?, contract = ?, organization = ?,
           block_number = ?, block_hash = ?, anchored_at = ?, last_error = NULL WHERE sequence = ?`,
      ),
      markFailed: db.prepare(`UPDATE batches SET last_error = ? WHERE sequence = ?`),
      reopen: db.prepare(
        `UPDATE batches SET state = 'sealed', tx_hash = NULL, submitted_at = NULL, chain_id = NULL, contract = NULL,
           organization = NULL, block_number = NULL, block_hash = NULL, anchored_at = NULL
         WHERE sequence >= ? AND state IN ('submitted', 'confirmed') RETURNING sequence`,
      ),
      highestConfirmed: db.prepare(
        `SELECT * FROM batches WHERE state = 'confirmed' ORDER BY sequence DESC LIMIT 1`,
      ),
      counts:
        db.prepare(`SELECT state, COUNT(*) AS n, COALESCE(SUM(leaf_count), 0) AS leaves, MIN(opened_at) AS oldest
                          FROM batches WHERE state != 'confirmed' GROUP BY state`),
      confirmedCount: db.prepare(`SELECT COUNT(*) AS n FROM batches WHERE state = 'confirmed'`),
      openCount: db.prepare(`SELECT COUNT(*) AS n FROM records WHERE batch_sequence = ?`),
      batchRecords: db.prepare(
        `SELECT ${RECORD_COLUMNS}, content FROM records WHERE batch_sequence = ? ORDER BY leaf_index`,
      ),
      sealedSequences: db
        .prepare(`SELECT sequence FROM batches WHERE state != 'open' ORDER BY sequence`)
        .pluck(),
      recordEvent: db.prepare(
        `INSERT INTO batch_events (batch_sequence, event, detail, at) VALUES (?, ?, ?, ?)`,
      ),
      getMeta: db.prepare(`SELECT value FROM meta WHERE key = ?`).pluck(),
      setMeta: db.prepare(
        `INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
      ),
    };
    const s = this.stmt;
    this.commitTx = db.transaction((unit: WriteUnit) => {
      for (const batch of unit.openedBatches) s.openBatch.run(batch.sequence, batch.openedAt);
      for (const r of unit.records) {
        s.insertRecord.run(
          r.id,
          r.kind,
          r.content ? buf(r.content) : null,
          buf(r.contentHash),
          buf(r.leafHash),
          r.batchSequence,
          r.leafIndex,
          r.receivedAt,
        );
      }
      for (const batch of unit.sealedBatches) {
        const result = s.sealBatch.run(buf(batch.root), batch.leafCount, batch.sealedAt, batch.sequence);
        if (result.changes !== 1) throw new Error(`batch ${batch.sequence} is not open and cannot be sealed`);
      }
      for (const write of unit.alsoWrite ?? []) write();
    });
  }

  loadWriterState(): WriterState {
    const open = this.stmt.openBatchRow.get() as BatchDbRow | undefined;
    return {
      lastRecordId: (this.stmt.lastRecordId.get() as { v: number }).v,
      lastBatchSequence: (this.stmt.lastBatch.get() as { v: number }).v,
      openBatch: open
        ? {
            sequence: open.sequence,
            openedAt: open.opened_at,
            leafHashes: (this.stmt.leafHashes.all(open.sequence) as Buffer[]).map(bytes),
          }
        : null,
    };
  }

  commit(unit: WriteUnit): void {
    this.commitTx(unit);
  }

  whenDurable(): Promise<void> {
    return this.durability.whenDurable();
  }

  getRecord(id: number): StoredRecord | undefined {
    const row = this.stmt.getRecord.get(id) as RecordDbRow | undefined;
    return row ? toRecord(row) : undefined;
  }

  getRecordContent(id: number): Uint8Array | null | undefined {
    const row = this.stmt.getContent.get(id) as { content: Buffer | null } | undefined;
    if (!row) return undefined;
    return row.content ? bytes(row.content) : null;
  }

  getBatch(sequence: number): Batch | undefined {
    const row = this.stmt.getBatch.get(sequence) as BatchDbRow | undefined;
    return row ? toBatch(row) : undefined;
  }

  getBatchLeafHashes(sequence: number): Uint8Array[] {
    return (this.stmt.leafHashes.all(sequence) as Buffer[]).map(bytes);
  }

  nextBatchToAnchor(): Batch | undefined {
    const row = this.stmt.nextToAnchor.get() as BatchDbRow | undefined;
    return row ? toBatch(row) : undefined;
  }

  markSubmitted(sequence: number, transactionHash: Hex, at: number): void {
    this.stmt.markSubmitted.run(transactionHash, at, sequence);
  }

  markConfirmed(sequence: number, a: AnchorInfo): void {
    this.stmt.markConfirmed.run(
      a.transactionHash,
      a.chainId,
      a.contract,
      a.organization,
      a.blockNumber,
      a.blockHash,
      a.anchoredAt,
      sequence,
    );
  }

  markAttemptFailed(sequence: number, error: string): void {
    this.stmt.markFailed.run(error.slice(0, 1000), sequence);
  }

  reopenAnchorsFrom(from: number, reason: string): number {
    return this.db.transaction(() => {
      const rows = this.stmt.reopen.all(from) as { sequence: number }[];
      for (const row of rows) this.stmt.recordEvent.run(row.sequence, 'reanchor', reason, Date.now());
      return rows.length;
    })();
  }

  highestConfirmed(): Batch | undefined {
    const row = this.stmt.highestConfirmed.get() as BatchDbRow | undefined;
    return row ? toBatch(row) : undefined;
  }

  counts(): BatchCounts {
    const result: BatchCounts = {
      open: 0,
      sealed: 0,
      submitted: 0,
      confirmed: (this.stmt.confirmedCount.get() as { n: number }).n,
      pendingRecords: 0,
      oldestPendingAt: null,
      lastConfirmed: null,
    };
    for (const row of this.stmt.counts.all() as {
      state: BatchState;
      n: number;
      leaves: number;
      oldest: number;
    }[]) {
      result[row.state] = row.n;
      if (row.state === 'open') {
        const open = this.stmt.openBatchRow.get() as BatchDbRow | undefined;
        if (open) result.pendingRecords += (this.stmt.openCount.get(open.sequence) as { n: number }).n;
      } else {
        result.pendingRecords += row.leaves;
      }
      if (result.oldestPendingAt === null || row.oldest < result.oldestPendingAt)
        result.oldestPendingAt = row.oldest;
    }
    const last = this.highestConfirmed();
    if (last?.anchor) result.lastConfirmed = { sequence: last.sequence, anchoredAt: last.anchor.anchoredAt };
    return result;
  }

  *iterateBatchRecords(sequence: number): Iterable<RecordRow & { hasContent: boolean }> {
    for (const row of this.stmt.batchRecords.iterate(sequence) as Iterable<
      RecordDbRow & { content: Buffer | null }
    >) {
      yield { ...toRecord(row), content: row.content ? bytes(row.content) : null };
    }
  }

  sealedBatchSequences(): number[] {
    return this.stmt.sealedSequences.all() as number[];
  }

  recordEvent(sequence: number, event: string, detail: string): void {
    this.stmt.recordEvent.run(sequence, event, detail, Date.now());
  }

  getMeta(key: string): string | undefined {
    return this.stmt.getMeta.get(key) as string | undefined;
  }

  setMeta(key: string, value: string): void {
    this.stmt.setMeta.run(key, value);
  }
}
