import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openDatabase } from '../src/store/sqlite/openDatabase.js';
import { recordBytes, recordKind, type RecordSet } from './records.js';

export interface RawSqliteResult {
  groupSize: number;
  transactions: number;
  seconds: number;
  insertsPerSecond: number;
}

/**
 * The storage limit: the same records inserted into a plain `(id, kind, content)` table of a fresh database opened
 * with the node's own `openDatabase` (WAL, synchronous FULL, so every commit is fsynced), `groupSize` records per
 * transaction. No hashing, no HTTP, no receipts: what SQLite alone does with these bytes.
 */
export function rawSqliteInserts(dir: string, records: RecordSet, groupSize: number): RawSqliteResult {
  const db = openDatabase(join(dir, `raw-${groupSize}.db`), { synchronous: 'FULL' });
  try {
    db.exec('CREATE TABLE bench_raw (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, content BLOB NOT NULL)');
    const insert = db.prepare('INSERT INTO bench_raw (id, kind, content) VALUES (?, ?, ?)');
    const insertRange = db.transaction((from: number, to: number) => {
      for (let i = from; i < to; i++) insert.run(i + 1, recordKind(records, i), recordBytes(records, i));
    });
    let transactions = 0;
    const t0 = performance.now();
    for (let from = 0; from < records.count; from += groupSize) {
      insertRange(from, Math.min(records.count, from + groupSize));
      transactions++;
    }
    const seconds = (performance.now() - t0) / 1000;
    return { groupSize, transactions, seconds, insertsPerSecond: records.count / seconds };
  } finally {
    db.close();
  }
}
