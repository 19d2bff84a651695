import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { migrate } from './migrations.js';

export type SqliteDatabase = Database.Database;

export interface OpenDatabaseOptions {
  /** FULL fsyncs every commit (survives power loss); NORMAL survives a process crash but not power loss. */
  synchronous?: 'FULL' | 'NORMAL';
  readonly?: boolean;
  /**
   * WAL pages after which a commit also checkpoints (copies pages back to the database file and syncs it). SQLite's
   * default, 1,000 (4 MB), makes a busy gateway checkpoint every few commits, mostly rewriting the same hot index
   * pages; fewer, larger checkpoints copy each page once per interval.
   */
  walAutocheckpointPages?: number;
  /** Page cache of this connection in KiB (SQLite's default is 2,000 KiB). */
  cacheKiB?: number;
}

/**
 * Opens (creating if needed) the node's SQLite database in WAL mode and brings its schema up to date.
 * WAL lets readers (HTTP reads, `careledger audit`) run while the single writer commits.
 */
export function openDatabase(file: string, options: OpenDatabaseOptions = {}): SqliteDatabase {
  if (file !== ':memory:' && !options.readonly) mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file, {
    readonly: options.readonly ?? false,
    fileMustExist: options.readonly ?? false,
  });
  db.pragma('busy_timeout = 5000');
  if (options.cacheKiB !== undefined)
    db.pragma(`cache_size = ${-Math.max(64, Math.floor(options.cacheKiB))}`);
  if (!options.readonly) {
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.synchronous ?? 'FULL'}`);
    db.pragma('foreign_keys = ON');
    if (options.walAutocheckpointPages !== undefined)
      db.pragma(`wal_autocheckpoint = ${Math.max(0, Math.floor(options.walAutocheckpointPages))}`);
    migrate(db);
  }
  return db;
}
