import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type SqliteDatabase } from './openDatabase.js';
import { WalFsync } from './walFsync.js';

let dir: string;
let db: SqliteDatabase;
let file: string;
let wal: WalFsync;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'careledger-walfsync-'));
  file = join(dir, 'node.db');
  db = openDatabase(file, { synchronous: 'NORMAL' });
  db.exec('CREATE TABLE t (v INTEGER)');
  wal = new WalFsync(file);
});
afterEach(() => {
  wal.close();
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Counts the fsyncs WalFsync starts, by wrapping its private sync step. */
function countSyncs(target: WalFsync): { started: number } {
  const counter = { started: 0 };
  const self = target as unknown as { sync: () => Promise<void> };
  const original = self.sync.bind(target);
  self.sync = () => {
    counter.started++;
    return original();
  };
  return counter;
}

describe('WalFsync', () => {
  it('flushes the WAL file of a database in WAL mode with synchronous = NORMAL', async () => {
    db.prepare('INSERT INTO t VALUES (1)').run();
    expect(statSync(`${file}-wal`).size).toBeGreaterThan(0);
    await expect(wal.whenDurable()).resolves.toBeUndefined();
  });

  it('shares one fsync among every commit made while another runs, and never reuses one begun earlier', async () => {
    const counter = countSyncs(wal);
    db.prepare('INSERT INTO t VALUES (1)').run();
    const first = wal.whenDurable(); // starts fsync #1
    db.prepare('INSERT INTO t VALUES (2)').run();
    const second = wal.whenDurable(); // #1 may predate this commit: waits for #2
    db.prepare('INSERT INTO t VALUES (3)').run();
    const third = wal.whenDurable(); // joins #2
    expect(second).toBe(third);
    let firstDone = false;
    void first.then(() => (firstDone = true));
    await second;
    expect(firstDone).toBe(true); // in order
    expect(counter.started).toBe(2);
    await wal.whenDurable(); // nothing running: a fresh one
    expect(counter.started).toBe(3);
  });

  it('rejects (and lets the next call try again) when the WAL file cannot be opened', async () => {
    const missing = new WalFsync(join(dir, 'no-such.db'));
    await expect(missing.whenDurable()).rejects.toThrow(/ENOENT/);
    await expect(missing.whenDurable()).rejects.toThrow(/ENOENT/);
    missing.close();
  });
});
