import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrate, SCHEMA_VERSION } from './migrations.js';
import { SqliteFhirStore } from './sqliteFhirStore.js';

const hmac = (n: number) => Buffer.alloc(16, n);

describe('migration 3 (leaner FHIR tables)', () => {
  it('carries every version, index entry and date of a version-2 database over, and search still finds them', () => {
    const db = new Database(':memory:');
    migrate(db, 2);
    db.exec(`
      INSERT INTO batches (sequence, state, opened_at) VALUES (1, 'open', 1);
      INSERT INTO records (id, kind, content_hash, leaf_hash, batch_sequence, leaf_index, received_at)
        VALUES (1, 'fhir.Observation', x'01', x'02', 1, 0, 1), (2, 'fhir.Observation', x'03', x'04', 1, 1, 2);
      INSERT INTO fhir_resources (resource_type, id, version, last_updated, deleted, patient_id, key_id)
        VALUES ('Observation', 'o1', 2, 2000, 0, 'p1', 'patient:p1');
      INSERT INTO fhir_versions (resource_type, id, version, last_updated, deleted, key_id, payload, content_hash, record_id)
        VALUES ('Observation', 'o1', 1, 1000, 0, 'patient:p1', x'aa', x'01', 1),
               ('Observation', 'o1', 2, 2000, 0, 'patient:p1', x'bb', x'03', 2);
    `);
    const token = db.prepare(
      `INSERT INTO fhir_search_tokens (resource_type, id, param, token) VALUES (?, ?, ?, ?)`,
    );
    token.run('Observation', 'o1', 'code', hmac(1));
    token.run('Observation', 'o1', 'code', hmac(1)); // a duplicate, as version 2 allowed
    token.run('Observation', 'o1', 'patient', hmac(2));
    db.prepare(
      `INSERT INTO fhir_search_dates (resource_type, id, param, low, high) VALUES (?, ?, ?, ?, ?)`,
    ).run('Observation', 'o1', 'date', 100, 199);

    migrate(db);

    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    const store = new SqliteFhirStore(db);
    expect(store.getVersion('Observation', 'o1', 1)).toMatchObject({ recordId: 1, lastUpdated: 1000 });
    expect(Buffer.from(store.getVersionByRecord(2)?.payload as Uint8Array)).toEqual(Buffer.from([0xbb]));
    expect(store.history('Observation', 'o1', 10, 0).versions.map((v) => v.version)).toEqual([2, 1]);
    expect(db.prepare('SELECT COUNT(*) FROM fhir_search_tokens').pluck().get()).toBe(2);
    const found = store.search({
      resourceType: 'Observation',
      lastUpdated: [],
      tokenConditions: [{ param: 'code', anyOf: [new Uint8Array(hmac(1))] }],
      dateConditions: [{ param: 'date', prefix: 'ge', low: 150, high: 150 }],
      sort: '_lastUpdated',
      count: 10,
      offset: 0,
      ignored: [],
    });
    expect(found.resources.map((r) => r.id)).toEqual(['o1']);
    // The version table is now keyed by its record id (a rowid table), with a unique (type, id, version) index.
    const indexes = db
      .prepare(
        `SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'fhir_versions' ORDER BY name`,
      )
      .pluck()
      .all();
    expect(indexes).toEqual(['fhir_versions_by_updated', 'fhir_versions_by_version']);
    expect(() =>
      db
        .prepare(
          `INSERT INTO fhir_versions (resource_type, id, version, last_updated, key_id, content_hash, record_id) VALUES ('Observation', 'o1', 2, 1, 'k', x'00', 1)`,
        )
        .run(),
    ).toThrow(/UNIQUE|PRIMARY KEY/);
    db.close();
  });
});
