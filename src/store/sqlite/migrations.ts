import type Database from 'better-sqlite3';

/**
 * Schema versions, applied in order inside one transaction each; `PRAGMA user_version` records the last one.
 * Append new migrations; never edit an applied one.
 */
const MIGRATIONS: string[] = [
  `
  CREATE TABLE batches (
    sequence      INTEGER PRIMARY KEY,
    state         TEXT    NOT NULL CHECK (state IN ('open', 'sealed', 'submitted', 'confirmed')),
    leaf_count    INTEGER NOT NULL DEFAULT 0,
    root          BLOB,
    opened_at     INTEGER NOT NULL,
    sealed_at     INTEGER,
    tx_hash       TEXT,
    submitted_at  INTEGER,
    attempts      INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT,
    chain_id      INTEGER,
    contract      TEXT,
    organization  TEXT,
    block_number  INTEGER,
    block_hash    TEXT,
    anchored_at   INTEGER,
    CHECK (state = 'open' OR root IS NOT NULL)
  );
  CREATE INDEX batches_pending ON batches (state, sequence) WHERE state IN ('sealed', 'submitted');

  CREATE TABLE records (
    id              INTEGER PRIMARY KEY,
    kind            TEXT    NOT NULL,
    content         BLOB,
    content_hash    BLOB    NOT NULL,
    leaf_hash       BLOB    NOT NULL,
    batch_sequence  INTEGER NOT NULL REFERENCES batches (sequence),
    leaf_index      INTEGER NOT NULL,
    received_at     INTEGER NOT NULL
  );
  CREATE UNIQUE INDEX records_by_leaf ON records (batch_sequence, leaf_index);

  -- What happened to each batch over time (submitted, confirmed, re-anchored): the operator's history.
  CREATE TABLE batch_events (
    id              INTEGER PRIMARY KEY,
    batch_sequence  INTEGER NOT NULL,
    event           TEXT    NOT NULL,
    detail          TEXT    NOT NULL,
    at              INTEGER NOT NULL
  );

  CREATE TABLE meta (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
  );
  `,
];

/** Applies every migration the database has not seen yet. */
export function migrate(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new Error(
      `The database schema (version ${current}) is newer than this CareLedger (version ${MIGRATIONS.length}); upgrade CareLedger.`,
    );
  }
  for (let version = current; version < MIGRATIONS.length; version++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[version] as string);
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
}
