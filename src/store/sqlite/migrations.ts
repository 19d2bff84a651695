import type Database from 'better-sqlite3';
import { encodeIndexKeys } from './indexKeysCodec.js';
import { epcisEventKey } from './epcisEventKey.js';

/** A migration: SQL, or a function for steps SQL cannot do alone (e.g. a backfill computed in JS). */
type Migration = string | ((db: Database.Database) => void);

/**
 * Schema versions, applied in order inside one transaction each; `PRAGMA user_version` records the last one.
 * Append new migrations; never edit an applied one.
 */
const MIGRATIONS: Migration[] = [
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
  // 2: the encrypted FHIR store and API tokens.
  `
  -- Data keys: one per patient ('patient:<id>') and one for non-patient resources ('organization'), each
  -- AES-GCM-wrapped by a key derived from the master key. Erasing a patient sets wrapped_key to NULL.
  CREATE TABLE fhir_keys (
    key_id       TEXT PRIMARY KEY,
    wrapped_key  BLOB,
    created_at   INTEGER NOT NULL,
    erased_at    INTEGER
  );

  CREATE TABLE fhir_resources (
    resource_type  TEXT    NOT NULL,
    id             TEXT    NOT NULL,
    version        INTEGER NOT NULL,
    last_updated   INTEGER NOT NULL,
    deleted        INTEGER NOT NULL DEFAULT 0,
    patient_id     TEXT,
    key_id         TEXT    NOT NULL,
    PRIMARY KEY (resource_type, id)
  ) WITHOUT ROWID;
  CREATE INDEX fhir_resources_by_updated ON fhir_resources (resource_type, last_updated);
  CREATE INDEX fhir_resources_by_patient ON fhir_resources (patient_id);

  -- Every version: its canonical JSON sealed with AES-256-GCM (NULL for a delete tombstone), the SHA-256 that was
  -- anchored, and the anchoring record.
  CREATE TABLE fhir_versions (
    resource_type  TEXT    NOT NULL,
    id             TEXT    NOT NULL,
    version        INTEGER NOT NULL,
    last_updated   INTEGER NOT NULL,
    deleted        INTEGER NOT NULL DEFAULT 0,
    key_id         TEXT    NOT NULL,
    payload        BLOB,
    content_hash   BLOB    NOT NULL,
    record_id      INTEGER NOT NULL REFERENCES records (id),
    PRIMARY KEY (resource_type, id, version)
  ) WITHOUT ROWID;
  CREATE INDEX fhir_versions_by_updated ON fhir_versions (resource_type, last_updated);
  CREATE UNIQUE INDEX fhir_versions_by_record ON fhir_versions (record_id);

  -- The search index of current versions: only what search needs (see ARCHITECTURE.md).
  CREATE TABLE fhir_search_tokens (
    resource_type  TEXT NOT NULL,
    id             TEXT NOT NULL,
    param          TEXT NOT NULL,
    token          BLOB NOT NULL
  );
  CREATE INDEX fhir_search_tokens_lookup ON fhir_search_tokens (resource_type, param, token);
  CREATE INDEX fhir_search_tokens_owner ON fhir_search_tokens (resource_type, id);
  CREATE TABLE fhir_search_dates (
    resource_type  TEXT    NOT NULL,
    id             TEXT    NOT NULL,
    param          TEXT    NOT NULL,
    low            INTEGER NOT NULL,
    high           INTEGER NOT NULL
  );
  CREATE INDEX fhir_search_dates_lookup ON fhir_search_dates (resource_type, param, low, high);
  CREATE INDEX fhir_search_dates_owner ON fhir_search_dates (resource_type, id);

  -- Bearer tokens: only their SHA-256 is stored.
  CREATE TABLE api_tokens (
    token_hash  BLOB PRIMARY KEY,
    name        TEXT    NOT NULL,
    role        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER,
    revoked_at  INTEGER
  ) WITHOUT ROWID;
  `,
  // 3: fewer, better-placed B-tree writes per FHIR version. Versions live in a rowid table keyed by their
  // (ever-growing) anchoring record id, so their large encrypted rows are appended instead of splitting random
  // pages; the search index tables are their own lookup index (WITHOUT ROWID), one B-tree less per entry.
  `
  CREATE TABLE fhir_versions_v3 (
    record_id      INTEGER PRIMARY KEY REFERENCES records (id),
    resource_type  TEXT    NOT NULL,
    id             TEXT    NOT NULL,
    version        INTEGER NOT NULL,
    last_updated   INTEGER NOT NULL,
    deleted        INTEGER NOT NULL DEFAULT 0,
    key_id         TEXT    NOT NULL,
    payload        BLOB,
    content_hash   BLOB    NOT NULL
  );
  INSERT INTO fhir_versions_v3 (record_id, resource_type, id, version, last_updated, deleted, key_id, payload, content_hash)
    SELECT record_id, resource_type, id, version, last_updated, deleted, key_id, payload, content_hash
    FROM fhir_versions ORDER BY record_id;
  DROP TABLE fhir_versions;
  ALTER TABLE fhir_versions_v3 RENAME TO fhir_versions;
  CREATE UNIQUE INDEX fhir_versions_by_version ON fhir_versions (resource_type, id, version);
  CREATE INDEX fhir_versions_by_updated ON fhir_versions (resource_type, last_updated);

  CREATE TABLE fhir_search_tokens_v3 (
    resource_type  TEXT NOT NULL,
    param          TEXT NOT NULL,
    token          BLOB NOT NULL,
    id             TEXT NOT NULL,
    PRIMARY KEY (resource_type, param, token, id)
  ) WITHOUT ROWID;
  INSERT OR IGNORE INTO fhir_search_tokens_v3 (resource_type, param, token, id)
    SELECT resource_type, param, token, id FROM fhir_search_tokens;
  DROP TABLE fhir_search_tokens;
  ALTER TABLE fhir_search_tokens_v3 RENAME TO fhir_search_tokens;
  CREATE INDEX fhir_search_tokens_owner ON fhir_search_tokens (resource_type, id);

  CREATE TABLE fhir_search_dates_v3 (
    resource_type  TEXT    NOT NULL,
    param          TEXT    NOT NULL,
    low            INTEGER NOT NULL,
    high           INTEGER NOT NULL,
    id             TEXT    NOT NULL,
    PRIMARY KEY (resource_type, param, low, high, id)
  ) WITHOUT ROWID;
  INSERT OR IGNORE INTO fhir_search_dates_v3 (resource_type, param, low, high, id)
    SELECT resource_type, param, low, high, id FROM fhir_search_dates;
  DROP TABLE fhir_search_dates;
  ALTER TABLE fhir_search_dates_v3 RENAME TO fhir_search_dates;
  CREATE INDEX fhir_search_dates_owner ON fhir_search_dates (resource_type, id);
  `,
  // 4: patients' keys linked to their FHIR Patient (the consent registry knows patients only by address).
  `
  CREATE TABLE patient_links (
    patient_id  TEXT    PRIMARY KEY,
    address     TEXT    NOT NULL UNIQUE,
    linked_at   INTEGER NOT NULL,
    statement   TEXT    NOT NULL,
    signature   TEXT    NOT NULL
  ) WITHOUT ROWID;
  `,
  // 5: tokens for people: SMART scopes, the person they act for, and that person's chain address.
  `
  ALTER TABLE api_tokens ADD COLUMN scopes TEXT;
  ALTER TABLE api_tokens ADD COLUMN subject TEXT;
  ALTER TABLE api_tokens ADD COLUMN chain_address TEXT;
  `,
  // 6: the access audit trail. Each entry is a FHIR AuditEvent (canonical JSON) sealed with AES-256-GCM under the
  // audit key (derived from the master key, not a patient's: it outlives erasure), anchored by its record; the
  // patient only as an HMAC token, so this table alone does not say whose data was read.
  `
  CREATE TABLE audit_events (
    record_id      INTEGER PRIMARY KEY REFERENCES records (id),
    id             TEXT    NOT NULL,
    at             INTEGER NOT NULL,
    patient_token  BLOB,
    payload        BLOB    NOT NULL
  );
  CREATE UNIQUE INDEX audit_events_by_id ON audit_events (id);
  CREATE INDEX audit_events_by_patient ON audit_events (patient_token, at);
  `,
  // 7: one B-tree insert per search index entry instead of two. Each current resource keeps its own index entries
  // in `index_keys` (see indexKeysCodec.ts), so replacing or erasing them deletes exactly those rows by primary key
  // and the owner indexes, written on every create only for that, go.
  migrateIndexKeys,
  // 8: what this gateway received from other organisations' gateways: one Provenance per receipt (anchored by
  // its record, sealed under the patient's data key) and the received versions byte for byte (sealed likewise,
  // so erasing the patient shreds them). The local patient id is in clear, as in fhir_resources.
  `
  CREATE TABLE exchange_receipts (
    record_id    INTEGER PRIMARY KEY REFERENCES records (id),
    id           TEXT    NOT NULL UNIQUE,
    received_at  INTEGER NOT NULL,
    patient_id   TEXT    NOT NULL,
    source       TEXT    NOT NULL,
    key_id       TEXT    NOT NULL,
    payload      BLOB    NOT NULL
  );
  CREATE INDEX exchange_receipts_by_patient ON exchange_receipts (patient_id, received_at);
  CREATE TABLE exchange_copies (
    source         TEXT    NOT NULL,
    resource_type  TEXT    NOT NULL,
    id             TEXT    NOT NULL,
    version        INTEGER NOT NULL,
    patient_id     TEXT    NOT NULL,
    receipt_id     TEXT    NOT NULL,
    received_at    INTEGER NOT NULL,
    content_hash   BLOB    NOT NULL,
    proof          TEXT    NOT NULL,
    key_id         TEXT    NOT NULL,
    payload        BLOB    NOT NULL,
    PRIMARY KEY (source, resource_type, id, version)
  ) WITHOUT ROWID;
  CREATE INDEX exchange_copies_by_patient ON exchange_copies (patient_id);
  `,
  // 9: the EPCIS repository. Supply-chain events hold no patient data: they are kept in clear, as canonical JSON
  // (what their anchoring record's hash covers), with their identifiers by role for the EPCIS queries (canonical GS1
  // Digital Link URIs, so an EPC URN and a Digital Link of the same pack match), and the capture jobs.
  `
  CREATE TABLE epcis_events (
    record_id     INTEGER PRIMARY KEY REFERENCES records (id),
    event_id      TEXT    NOT NULL UNIQUE,
    event_type    TEXT    NOT NULL,
    event_time    INTEGER NOT NULL,
    record_time   INTEGER NOT NULL,
    biz_step      TEXT,
    disposition   TEXT,
    biz_location  TEXT,
    read_point    TEXT,
    capture_id    TEXT    NOT NULL,
    body          TEXT    NOT NULL
  );
  CREATE INDEX epcis_events_by_time ON epcis_events (event_time);
  CREATE TABLE epcis_event_epcs (
    epc        TEXT    NOT NULL,
    role       TEXT    NOT NULL,
    record_id  INTEGER NOT NULL,
    PRIMARY KEY (epc, role, record_id)
  ) WITHOUT ROWID;
  CREATE TABLE epcis_captures (
    capture_id   TEXT    PRIMARY KEY,
    created_at   INTEGER NOT NULL,
    finished_at  INTEGER NOT NULL,
    stored       INTEGER NOT NULL,
    duplicates   INTEGER NOT NULL,
    event_ids    TEXT    NOT NULL
  ) WITHOUT ROWID;
  `,
  // 10: the serialised packs a gateway knows the lot of (commissioned here, or received with their documents): what
  // lot commissioning, transfers and verification need, since the chain knows packs only as hashes within lots.
  `
  CREATE TABLE supply_packs (
    gtin    TEXT NOT NULL,
    serial  TEXT NOT NULL,
    lot     TEXT NOT NULL,
    expiry  TEXT,
    origin  TEXT NOT NULL CHECK (origin IN ('commissioned', 'received')),
    PRIMARY KEY (gtin, serial)
  );
  CREATE INDEX supply_packs_by_lot ON supply_packs (gtin, lot);
  `,
  // 11: trading partners' locations and parties (SGLN/PGLN as canonical GS1 Digital Link keys) and the member
  // organisation each belongs to: how an EPCIS shipment's owning parties become a transfer between organisations.
  `
  CREATE TABLE supply_parties (
    party         TEXT PRIMARY KEY,
    organization  TEXT NOT NULL,
    name          TEXT NOT NULL
  ) WITHOUT ROWID;
  `,
  // 12: suspect product: this gateway's quarantines and investigations (the texts whose hashes went on chain), its
  // illegitimate-product notification reports (anchored), the notifications its chain watcher derived from the
  // registry's events (one per transaction, kind and lot), and how far that watcher has read.
  `
  CREATE TABLE supply_suspect_actions (
    id                INTEGER PRIMARY KEY,
    action            TEXT    NOT NULL CHECK (action IN ('quarantine', 'investigation')),
    gtin              TEXT    NOT NULL,
    lot               TEXT    NOT NULL,
    serials           TEXT,
    outcome           TEXT    CHECK (outcome IN ('cleared', 'illegitimate')),
    text              TEXT    NOT NULL,
    text_hash         TEXT    NOT NULL,
    report_id         TEXT,
    transaction_hash  TEXT    NOT NULL,
    block_number      INTEGER NOT NULL,
    created_at        INTEGER NOT NULL
  );
  CREATE TABLE supply_reports (
    id                TEXT    PRIMARY KEY,
    record_id         INTEGER NOT NULL REFERENCES records (id),
    created_at        INTEGER NOT NULL,
    gtin              TEXT    NOT NULL,
    lot               TEXT    NOT NULL,
    hash              TEXT    NOT NULL,
    document          TEXT    NOT NULL,
    transaction_hash  TEXT    NOT NULL,
    block_number      INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX supply_reports_by_time ON supply_reports (created_at);
  CREATE TABLE supply_notifications (
    id                INTEGER PRIMARY KEY,
    created_at        INTEGER NOT NULL,
    kind              TEXT    NOT NULL,
    lot_id            TEXT    NOT NULL,
    transaction_hash  TEXT    NOT NULL,
    body              TEXT    NOT NULL,
    UNIQUE (transaction_hash, kind, lot_id)
  );
  CREATE TABLE supply_watch_cursor (
    contract  TEXT    PRIMARY KEY,
    block     INTEGER NOT NULL
  ) WITHOUT ROWID;
  `,
  // 13: DSCSA T3s (transaction information, history and statement) this organisation sent as seller or received
  // as buyer, each signed by its seller and anchored by its record, with the packs each names.
  `
  CREATE TABLE supply_t3 (
    record_id         INTEGER PRIMARY KEY REFERENCES records (id),
    id                TEXT    NOT NULL UNIQUE,
    direction         TEXT    NOT NULL CHECK (direction IN ('sent', 'received')),
    seller            TEXT    NOT NULL,
    buyer             TEXT    NOT NULL,
    transaction_date  INTEGER NOT NULL,
    document_hash     TEXT    NOT NULL,
    signed            TEXT    NOT NULL,
    delivered_at      INTEGER
  );
  CREATE TABLE supply_t3_packs (
    gtin    TEXT NOT NULL,
    serial  TEXT NOT NULL,
    t3_id   TEXT NOT NULL,
    PRIMARY KEY (gtin, serial, t3_id)
  ) WITHOUT ROWID;
  `,
  // The SupplyChainRegistry's products, lots and packs mirrored from its events, so product verification reads no
  // chain: one registry at a time (a redeployed one starts afresh) with the last block applied and its hash.
  `
  CREATE TABLE supply_mirror_registries (
    id          INTEGER PRIMARY KEY,
    contract    TEXT    NOT NULL UNIQUE,
    block       INTEGER NOT NULL,
    block_hash  TEXT
  );
  CREATE TABLE supply_mirror_products (
    registry       INTEGER NOT NULL,
    gtin           TEXT    NOT NULL,
    manufacturer   BLOB    NOT NULL,
    registered_at  INTEGER NOT NULL,
    lot_count      INTEGER NOT NULL,
    metadata_hash  BLOB    NOT NULL,
    PRIMARY KEY (registry, gtin)
  ) WITHOUT ROWID;
  CREATE TABLE supply_mirror_lots (
    registry         INTEGER NOT NULL,
    lot_id           BLOB    NOT NULL,
    gtin             TEXT    NOT NULL,
    manufacturer     BLOB    NOT NULL,
    serials_root     BLOB    NOT NULL,
    pack_count       INTEGER NOT NULL,
    expiry           INTEGER NOT NULL,
    commissioned_at  INTEGER NOT NULL,
    recalled         INTEGER NOT NULL,
    recalled_at      INTEGER NOT NULL,
    suspect          INTEGER NOT NULL,
    illegitimate     INTEGER NOT NULL,
    quarantined_by   BLOB    NOT NULL,
    PRIMARY KEY (registry, lot_id)
  ) WITHOUT ROWID;
  CREATE TABLE supply_mirror_packs (
    registry          INTEGER NOT NULL,
    lot_id            BLOB    NOT NULL,
    pack_id           BLOB    NOT NULL,
    owner             BLOB    NOT NULL,
    state             INTEGER NOT NULL CHECK (state BETWEEN 0 AND 3),
    suspect           INTEGER NOT NULL,
    illegitimate      INTEGER NOT NULL,
    last_transfer_at  INTEGER NOT NULL,
    PRIMARY KEY (registry, lot_id, pack_id)
  ) WITHOUT ROWID;
  `,
  // Illegitimate-product reports travel: the finder's signature, who delivered a report received here (and its name
  // then), and the deliveries a report made here owes to regulators and handlers until each is acknowledged.
  `
  ALTER TABLE supply_reports ADD COLUMN signature TEXT;
  ALTER TABLE supply_reports ADD COLUMN received_from TEXT;
  ALTER TABLE supply_reports ADD COLUMN received_from_name TEXT;
  CREATE TABLE supply_report_deliveries (
    report_id     TEXT    NOT NULL,
    recipient     TEXT    NOT NULL,
    position      INTEGER NOT NULL,
    recipient_as  TEXT    NOT NULL,
    delivered_at  INTEGER,
    last_error    TEXT,
    PRIMARY KEY (report_id, recipient)
  ) WITHOUT ROWID;
  CREATE INDEX supply_report_deliveries_pending ON supply_report_deliveries (report_id) WHERE delivered_at IS NULL;
  `,
  // Fewer index rows per FHIR write: a clear code no longer gets a bare "C" row (a search for a code in any system
  // looks up "S|C" for each system listed in fhir_code_systems), and erasure finds a patient's resources through their
  // `patient` tokens instead of an index of its own.
  migrateCodeSystems,
  // EPCIS events found by an integer key of their eventID (see epcisEventKey) instead of a unique index on the
  // 87-character id: the random-order index every capture writes into is a sixth of the size, so a capture dirties
  // fewer pages. The capture itself keeps an event from being stored twice.
  migrateEpcisEventKeys,
];

/** The schema version that gave EPCIS events their `event_key` (for tests of that migration). */
export const EPCIS_EVENT_KEYS_VERSION = MIGRATIONS.indexOf(migrateEpcisEventKeys) + 1;

/** Rebuilds `epcis_events` with `event_key` (indexed) instead of a UNIQUE `event_id`, keeping every row. */
function migrateEpcisEventKeys(db: Database.Database): void {
  db.function('careledger_epcis_event_key', { deterministic: true }, (id) => epcisEventKey(String(id)));
  db.exec(`
    CREATE TABLE epcis_events_keyed (
      record_id     INTEGER PRIMARY KEY REFERENCES records (id),
      event_key     INTEGER NOT NULL,
      event_id      TEXT    NOT NULL,
      event_type    TEXT    NOT NULL,
      event_time    INTEGER NOT NULL,
      record_time   INTEGER NOT NULL,
      biz_step      TEXT,
      disposition   TEXT,
      biz_location  TEXT,
      read_point    TEXT,
      capture_id    TEXT    NOT NULL,
      body          TEXT    NOT NULL
    );
    INSERT INTO epcis_events_keyed
      SELECT record_id, careledger_epcis_event_key(event_id), event_id, event_type, event_time, record_time, biz_step,
             disposition, biz_location, read_point, capture_id, body
      FROM epcis_events ORDER BY record_id;
    DROP TABLE epcis_events;
    ALTER TABLE epcis_events_keyed RENAME TO epcis_events;
    CREATE INDEX epcis_events_by_time ON epcis_events (event_time);
    CREATE INDEX epcis_events_by_key ON epcis_events (event_key);
  `);
}

/** The clear token parameters when `migrateCodeSystems` was written (identifiers and names are hashed). */
const CLEAR_TOKEN_PARAMS_AT_CODE_SYSTEMS = ['code', 'type', 'vaccine-code'];

/** Whether a canonical token string ends with an unescaped `|` (the "S|" form), or has no unescaped `|` ("C"). */
function tokenForm(token: string): 'system' | 'bare' | 'other' {
  let bars = 0;
  let endsWithBar = false;
  for (let i = 0; i < token.length; i++) {
    const ch = token[i];
    if (ch === '\\') {
      i++; // an escaped character
      endsWithBar = false;
      continue;
    }
    endsWithBar = ch === '|';
    if (endsWithBar) bars++;
  }
  if (bars === 0) return 'bare';
  return endsWithBar && bars === 1 ? 'system' : 'other';
}

/**
 * Migration 16 (`CODE_SYSTEMS_VERSION`): lists the code systems of every clear token parameter in fhir_code_systems (from the "S|" rows every
 * coding with a system has), deletes the bare "C" rows those parameters no longer need, and drops
 * fhir_resources_by_patient. Distinct tokens are visited one at a time through the lookup index, so memory stays
 * bounded however large the store is.
 */
function migrateCodeSystems(db: Database.Database): void {
  db.exec(`
    CREATE TABLE fhir_code_systems (
      resource_type  TEXT NOT NULL,
      param          TEXT NOT NULL,
      system         TEXT NOT NULL,
      PRIMARY KEY (resource_type, param, system)
    ) WITHOUT ROWID;
    DROP INDEX fhir_resources_by_patient;
  `);
  const nextType = db
    .prepare(
      `SELECT resource_type FROM fhir_search_tokens WHERE resource_type > ? ORDER BY resource_type LIMIT 1`,
    )
    .pluck();
  const nextToken = db
    .prepare(
      `SELECT token FROM fhir_search_tokens WHERE resource_type = ? AND param = ? AND token > ? ORDER BY token LIMIT 1`,
    )
    .pluck();
  const addSystem = db.prepare(
    `INSERT OR IGNORE INTO fhir_code_systems (resource_type, param, system) VALUES (?, ?, ?)`,
  );
  const deleteBare = db.prepare(
    `DELETE FROM fhir_search_tokens WHERE resource_type = ? AND param = ? AND token = ?`,
  );
  for (
    let type = nextType.get('') as string | undefined;
    type !== undefined;
    type = nextType.get(type) as string | undefined
  ) {
    for (const param of CLEAR_TOKEN_PARAMS_AT_CODE_SYSTEMS) {
      for (
        let token = nextToken.get(type, param, Buffer.alloc(0)) as Buffer | undefined;
        token !== undefined;
        token = nextToken.get(type, param, token) as Buffer | undefined
      ) {
        const text = token.toString('utf8');
        const form = tokenForm(text);
        if (form === 'system') addSystem.run(type, param, text.slice(0, -1));
        else if (form === 'bare') deleteBare.run(type, param, token);
      }
    }
  }
}

/**
 * Migration 7: adds `fhir_resources.index_keys`, fills it for every resource from its current rows in the two search
 * tables (found through the owner indexes, still there), then drops those indexes. Resources are visited in pages
 * in primary-key order, so memory stays bounded however large the store is.
 */
function migrateIndexKeys(db: Database.Database): void {
  db.exec(`ALTER TABLE fhir_resources ADD COLUMN index_keys BLOB`);
  const page = db.prepare(
    `SELECT resource_type, id FROM fhir_resources WHERE (resource_type, id) > (?, ?) ORDER BY resource_type, id LIMIT 1000`,
  );
  const tokensOf = db.prepare(
    `SELECT param, token FROM fhir_search_tokens INDEXED BY fhir_search_tokens_owner WHERE resource_type = ? AND id = ?`,
  );
  const datesOf = db.prepare(
    `SELECT param, low, high FROM fhir_search_dates INDEXED BY fhir_search_dates_owner WHERE resource_type = ? AND id = ?`,
  );
  const store = db.prepare(`UPDATE fhir_resources SET index_keys = ? WHERE resource_type = ? AND id = ?`);
  let after = { resource_type: '', id: '' };
  for (;;) {
    const rows = page.all(after.resource_type, after.id) as { resource_type: string; id: string }[];
    for (const r of rows) {
      const tokens = tokensOf.all(r.resource_type, r.id) as { param: string; token: Buffer }[];
      const dates = datesOf.all(r.resource_type, r.id) as { param: string; low: number; high: number }[];
      store.run(encodeIndexKeys({ tokens, dates }), r.resource_type, r.id);
    }
    const last = rows[rows.length - 1];
    if (last === undefined) break;
    after = last;
  }
  db.exec(`
    DROP INDEX fhir_search_tokens_owner;
    DROP INDEX fhir_search_dates_owner;
  `);
}

/** The schema version that lists code systems and stores no bare codes (see `migrateCodeSystems`). */
export const CODE_SYSTEMS_VERSION = MIGRATIONS.indexOf(migrateCodeSystems) + 1;

/** The schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** Applies every migration the database has not seen yet (up to `target`, for tests of the migrations). */
export function migrate(db: Database.Database, target: number = MIGRATIONS.length): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new Error(
      `The database schema (version ${current}) is newer than this CareLedger (version ${MIGRATIONS.length}); upgrade CareLedger.`,
    );
  }
  for (let version = current; version < Math.min(target, MIGRATIONS.length); version++) {
    const migration = MIGRATIONS[version] as Migration;
    db.transaction(() => {
      if (typeof migration === 'string') db.exec(migration);
      else migration(db);
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
}
