import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { parseSearchQuery, type SearchQuery } from '../../records/search/index.js';
import { decodeIndexKeys, EMPTY_INDEX_KEYS } from './indexKeysCodec.js';
import { CODE_SYSTEMS_VERSION, migrate, SCHEMA_VERSION } from './migrations.js';
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
    token.run('Observation', 'o1', 'identifier', hmac(1));
    token.run('Observation', 'o1', 'identifier', hmac(1)); // a duplicate, as version 2 allowed
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
      tokenConditions: [{ param: 'identifier', anyOf: [new Uint8Array(hmac(1))] }],
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

describe('migration 7 (index entries kept in fhir_resources.index_keys, owner indexes dropped)', () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  type Entries = {
    tokens: { param: string; token: Uint8Array }[];
    dates: { param: string; low: number; high: number }[];
  };

  /** Writes one version the way the version-6 store did: owner-index deletes, then inserts. */
  function writeV6(
    db: Database.Database,
    w: { type: string; id: string; version: number; patient: string | null; index: Entries | null },
  ): void {
    const recordId =
      (db.prepare('SELECT COALESCE(MAX(id), 0) + 1 FROM records').pluck().get() as number) || 1;
    db.prepare(
      `INSERT INTO records (id, kind, content_hash, leaf_hash, batch_sequence, leaf_index, received_at)
       VALUES (?, 'fhir', x'00', x'00', 1, ?, 0)`,
    ).run(recordId, recordId);
    const keyId = w.patient ? `patient:${w.patient}` : 'organization';
    db.prepare(
      `INSERT INTO fhir_versions (resource_type, id, version, last_updated, deleted, key_id, payload, content_hash, record_id)
       VALUES (?, ?, ?, ?, ?, ?, NULL, x'00', ?)`,
    ).run(w.type, w.id, w.version, recordId, w.index ? 0 : 1, keyId, recordId);
    db.prepare(
      `INSERT INTO fhir_resources (resource_type, id, version, last_updated, deleted, patient_id, key_id)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (resource_type, id) DO UPDATE SET version = excluded.version, last_updated = excluded.last_updated,
         deleted = excluded.deleted WHERE excluded.version > fhir_resources.version`,
    ).run(w.type, w.id, w.version, recordId, w.index ? 0 : 1, w.patient, keyId);
    if (w.version > 1) {
      db.prepare('DELETE FROM fhir_search_tokens WHERE resource_type = ? AND id = ?').run(w.type, w.id);
      db.prepare('DELETE FROM fhir_search_dates WHERE resource_type = ? AND id = ?').run(w.type, w.id);
    }
    for (const t of w.index?.tokens ?? [])
      db.prepare(
        'INSERT OR IGNORE INTO fhir_search_tokens (resource_type, id, param, token) VALUES (?, ?, ?, ?)',
      ).run(w.type, w.id, t.param, Buffer.from(t.token));
    for (const d of w.index?.dates ?? [])
      db.prepare(
        'INSERT OR IGNORE INTO fhir_search_dates (resource_type, id, param, low, high) VALUES (?, ?, ?, ?, ?)',
      ).run(w.type, w.id, d.param, d.low, d.high);
  }

  const observation = (patient: string, code: string, day: number): Entries => ({
    tokens: [
      { param: 'code', token: enc(`http://loinc.org|${code}`) },
      { param: 'code', token: enc(code) },
      { param: 'code', token: enc('http://loinc.org|') },
      { param: 'patient', token: enc(`Patient/${patient}`) },
      { param: 'subject', token: enc(`Patient/${patient}`) },
      { param: 'identifier', token: hmac(day % 250) },
    ],
    dates: [{ param: 'date', low: day * 86_400_000, high: (day + 1) * 86_400_000 - 1 }],
  });
  const patient = (id: string, birthYear: number): Entries => ({
    tokens: [
      { param: 'name', token: hmac(birthYear % 250) },
      { param: 'identifier', token: enc(`urn:mrn|${id}`) },
    ],
    dates: [{ param: 'birthdate', low: Date.UTC(birthYear, 0, 1), high: Date.UTC(birthYear + 1, 0, 1) - 1 }],
  });

  const tokenRows = (db: Database.Database) =>
    db
      .prepare(
        `SELECT resource_type, id, param, hex(token) AS token FROM fhir_search_tokens ORDER BY 1, 2, 3, 4`,
      )
      .all();
  const dateRows = (db: Database.Database) =>
    db
      .prepare(`SELECT resource_type, id, param, low, high FROM fhir_search_dates ORDER BY 1, 2, 3, 4, 5`)
      .all();

  const search = (
    store: SqliteFhirStore,
    type: SearchQuery['resourceType'],
    param: string,
    token: Uint8Array | Buffer | null,
    dateConditions: SearchQuery['dateConditions'] = [],
  ) =>
    store
      .search({
        resourceType: type,
        lastUpdated: [],
        tokenConditions: token ? [{ param, anyOf: [new Uint8Array(token)] }] : [],
        dateConditions,
        sort: '_id',
        count: 1000,
        offset: 0,
        ignored: [],
      })
      .resources.map((r) => r.id);

  /** A version-6 database of 4 patients with observations, some updated, some deleted, one patient erased. */
  function v6Database() {
    const db = new Database(':memory:');
    migrate(db, 6);
    db.exec(`INSERT INTO batches (sequence, state, opened_at) VALUES (1, 'open', 0)`);
    const write = (w: Parameters<typeof writeV6>[1]) => writeV6(db, w);
    const current = new Map<string, { patient: string; code: string; deleted: boolean }>();
    for (const [n, p] of ['pa', 'pb', 'pc', 'pd'].entries()) {
      write({ type: 'Patient', id: p, version: 1, patient: p, index: patient(p, 1950 + n) });
      for (let k = 0; k < 6; k++) {
        const id = `${p}-o${k}`;
        const code = k % 2 === 0 ? '8867-4' : '9279-1';
        write({ type: 'Observation', id, version: 1, patient: p, index: observation(p, code, 19_700 + k) });
        current.set(id, { patient: p, code, deleted: false });
      }
      // o1: updated to another code (and day); o2: updated twice; o3: deleted; o4: deleted and created again.
      write({
        type: 'Observation',
        id: `${p}-o1`,
        version: 2,
        patient: p,
        index: observation(p, '8310-5', 19_800),
      });
      current.set(`${p}-o1`, { patient: p, code: '8310-5', deleted: false });
      write({
        type: 'Observation',
        id: `${p}-o2`,
        version: 2,
        patient: p,
        index: observation(p, '8310-5', 19_801),
      });
      write({
        type: 'Observation',
        id: `${p}-o2`,
        version: 3,
        patient: p,
        index: observation(p, '8867-4', 19_802),
      });
      write({ type: 'Observation', id: `${p}-o3`, version: 2, patient: p, index: null });
      current.set(`${p}-o3`, { patient: p, code: '9279-1', deleted: true });
      write({ type: 'Observation', id: `${p}-o4`, version: 2, patient: p, index: null });
      write({
        type: 'Observation',
        id: `${p}-o4`,
        version: 3,
        patient: p,
        index: observation(p, '2708-6', 19_803),
      });
      current.set(`${p}-o4`, { patient: p, code: '2708-6', deleted: false });
    }
    write({
      type: 'Organization',
      id: 'org1',
      version: 1,
      patient: null,
      index: { tokens: [{ param: 'identifier', token: enc('urn:org|1') }], dates: [] },
    });
    // Erasing 'pc' as version 6 did: key destroyed, index rows deleted through the owner indexes.
    db.exec(`
      INSERT INTO fhir_keys (key_id, wrapped_key, created_at, erased_at) VALUES ('patient:pc', NULL, 0, 1);
      DELETE FROM fhir_search_tokens WHERE id IN (SELECT id FROM fhir_resources WHERE key_id = 'patient:pc');
      DELETE FROM fhir_search_dates WHERE id IN (SELECT id FROM fhir_resources WHERE key_id = 'patient:pc');
    `);
    return { db, current };
  }

  it('fills index_keys from the search tables, leaves those tables as they were and drops the owner indexes', () => {
    const { db, current } = v6Database();
    const tokensBefore = tokenRows(db);
    const datesBefore = dateRows(db);
    expect(tokensBefore).toHaveLength(3 * (2 + 5 * 6) + 1); // pc erased; o3 deleted

    migrate(db);

    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    // Every row is still there but the bare codes, which migration 16 removes (see its test).
    const isBareCode = (row: { param: string; token: string }) =>
      row.param === 'code' && !Buffer.from(row.token, 'hex').toString().includes('|');
    expect(tokenRows(db)).toEqual(
      (tokensBefore as { param: string; token: string }[]).filter((row) => !isBareCode(row)),
    );
    expect(dateRows(db)).toEqual(datesBefore);
    const indexes = db
      .prepare(
        `SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name LIKE 'fhir_search_%' ORDER BY name`,
      )
      .pluck()
      .all();
    expect(indexes).toEqual([]); // both search tables are their own (primary-key) index
    expect(db.prepare('SELECT COUNT(*) FROM fhir_resources WHERE index_keys IS NULL').pluck().get()).toBe(0);

    // Every resource's index_keys lists exactly its rows in the two tables.
    const resources = db
      .prepare('SELECT resource_type, id, deleted, key_id, index_keys FROM fhir_resources')
      .all() as {
      resource_type: string;
      id: string;
      deleted: number;
      key_id: string;
      index_keys: Buffer;
    }[];
    expect(resources).toHaveLength(4 * 7 + 1);
    for (const r of resources) {
      const keys = decodeIndexKeys(r.index_keys);
      const rowsOf = <T extends { resource_type: string; id: string }>(rows: T[]) =>
        rows.filter((t) => t.resource_type === r.resource_type && t.id === r.id);
      expect(
        keys.tokens.map((t) => ({
          param: t.param,
          token: Buffer.from(t.token).toString('hex').toUpperCase(),
        })),
      ).toEqual(
        rowsOf(tokensBefore as { resource_type: string; id: string; param: string; token: string }[]).map(
          (t) => ({ param: t.param, token: t.token }),
        ),
      );
      expect(keys.dates).toEqual(
        rowsOf(
          datesBefore as { resource_type: string; id: string; param: string; low: number; high: number }[],
        ).map(({ param, low, high }) => ({ param, low, high })),
      );
      if (r.deleted || r.key_id === 'patient:pc') expect(r.index_keys).toEqual(EMPTY_INDEX_KEYS);
    }

    // Searches find exactly the current, undeleted, unerased resources.
    const store = new SqliteFhirStore(db);
    const expected = (predicate: (o: { patient: string; code: string }) => boolean) =>
      [...current.entries()]
        .filter(([, o]) => !o.deleted && o.patient !== 'pc' && predicate(o))
        .map(([id]) => id)
        .sort();
    for (const code of ['8867-4', '9279-1', '8310-5', '2708-6']) {
      expect(search(store, 'Observation', 'code', enc(`http://loinc.org|${code}`))).toEqual(
        expected((o) => o.code === code),
      );
    }
    for (const p of ['pa', 'pb', 'pc', 'pd']) {
      expect(search(store, 'Observation', 'subject', enc(`Patient/${p}`))).toEqual(
        expected((o) => o.patient === p),
      );
      expect(search(store, 'Patient', 'identifier', enc(`urn:mrn|${p}`))).toEqual(p === 'pc' ? [] : [p]);
    }
    expect(search(store, 'Organization', 'identifier', enc('urn:org|1'))).toEqual(['org1']);
    // Date searches, alone and with a token: o0 and o5 kept their first day (19_700 and 19_705).
    const day = (d: number, prefix: 'eq' | 'ge' | 'lt') => ({
      param: 'date',
      prefix,
      low: d * 86_400_000,
      high: (d + 1) * 86_400_000 - 1,
    });
    expect(search(store, 'Observation', '', null, [day(19_700, 'eq')])).toEqual(['pa-o0', 'pb-o0', 'pd-o0']);
    // Days 19_800 and later: the updated o1, o2 and the re-created o4.
    expect(search(store, 'Observation', '', null, [day(19_800, 'ge')])).toEqual(
      expected(() => true).filter((id) => /-o[124]$/.test(id)),
    );
    expect(
      search(store, 'Observation', 'subject', enc('Patient/pb'), [day(19_705, 'lt'), day(19_700, 'ge')]),
    ).toEqual(['pb-o0']);
    const birth = (year: number) => ({
      param: 'birthdate',
      prefix: 'eq' as const,
      low: Date.UTC(year, 0, 1),
      high: Date.UTC(year + 1, 0, 1) - 1,
    });
    expect(search(store, 'Patient', '', null, [birth(1951)])).toEqual(['pb']);
    expect(search(store, 'Patient', '', null, [birth(1952)])).toEqual([]); // pc, erased
    db.close();
  });

  it('after migrating, updates and deletes replace index rows exactly and erasure removes them all', () => {
    const { db } = v6Database();
    migrate(db);
    db.exec(`INSERT INTO batches (sequence, state, opened_at) VALUES (2, 'open', 0)`);
    const store = new SqliteFhirStore(db);
    let recordId = db.prepare('SELECT MAX(id) FROM records').pluck().get() as number;
    const write = (
      type: string,
      id: string,
      version: number,
      patientId: string | null,
      index: Entries | null,
    ) => {
      recordId++;
      db.prepare(
        `INSERT INTO records (id, kind, content_hash, leaf_hash, batch_sequence, leaf_index, received_at)
         VALUES (?, 'fhir', x'00', x'00', 2, ?, 0)`,
      ).run(recordId, recordId);
      store.writeVersions([
        {
          patientId,
          index,
          version: {
            resourceType: type,
            id,
            version,
            lastUpdated: recordId,
            deleted: index === null,
            keyId: patientId ? `patient:${patientId}` : 'organization',
            payload: null,
            contentHash: new Uint8Array(1),
            recordId,
          },
        },
      ]);
    };
    const rowsOf = (id: string) => ({
      tokens: (tokenRows(db) as { id: string; param: string; token: string }[])
        .filter((t) => t.id === id)
        .map((t) => `${t.param}=${Buffer.from(t.token, 'hex').toString('latin1')}`),
      dates: (dateRows(db) as { id: string; param: string; low: number; high: number }[])
        .filter((d) => d.id === id)
        .map((d) => `${d.param}=${d.low}..${d.high}`),
    });
    const asRows = (e: Entries) => ({
      tokens: e.tokens.map((t) => `${t.param}=${Buffer.from(t.token).toString('latin1')}`).sort(),
      dates: e.dates.map((d) => `${d.param}=${d.low}..${d.high}`).sort(),
    });

    // An update of a migrated resource: the old code and day are gone, the new ones are there.
    write('Observation', 'pa-o0', 2, 'pa', observation('pa', '8480-6', 20_000));
    expect(rowsOf('pa-o0')).toEqual(asRows(observation('pa', '8480-6', 20_000)));
    expect(search(store, 'Observation', 'code', enc('8867-4'))).not.toContain('pa-o0');
    // A delete of a migrated resource (one updated under version 6): no rows left.
    write('Observation', 'pb-o2', 4, 'pb', null);
    expect(rowsOf('pb-o2')).toEqual({ tokens: [], dates: [] });
    // Recreating a deleted one, then updating it again.
    write('Observation', 'pb-o3', 3, 'pb', observation('pb', '8302-2', 20_001));
    write('Observation', 'pb-o3', 4, 'pb', observation('pb', '8462-4', 20_001));
    expect(rowsOf('pb-o3')).toEqual(asRows(observation('pb', '8462-4', 20_001)));
    // A row without index_keys (not written by this code) still loses its old rows on update.
    db.prepare(`UPDATE fhir_resources SET index_keys = NULL WHERE id = 'pd-o5'`).run();
    write('Observation', 'pd-o5', 2, 'pd', observation('pd', '8302-2', 20_002));
    expect(rowsOf('pd-o5')).toEqual(asRows(observation('pd', '8302-2', 20_002)));

    // Erasing 'pa': every index row of every one of its resources goes, and their index_keys are emptied.
    const paIds = db
      .prepare(`SELECT id FROM fhir_resources WHERE patient_id = 'pa'`)
      .pluck()
      .all() as string[];
    db.prepare(
      `INSERT INTO fhir_keys (key_id, wrapped_key, created_at) VALUES ('patient:pa', x'00', 0)`,
    ).run();
    const tokensBefore = tokenRows(db).length;
    expect(store.eraseKey('patient:pa', 5)).toBe(6); // the Patient and 5 observations (o3 is deleted)
    for (const id of paIds) expect(rowsOf(id)).toEqual({ tokens: [], dates: [] });
    expect(tokenRows(db).length).toBeLessThan(tokensBefore);
    expect(
      db
        .prepare(`SELECT COUNT(*) FROM fhir_resources WHERE patient_id = 'pa' AND index_keys <> ?`)
        .pluck()
        .get(EMPTY_INDEX_KEYS),
    ).toBe(0);
    expect(
      db
        .prepare(`SELECT COUNT(*) FROM fhir_search_tokens WHERE token = ?`)
        .pluck()
        .get(Buffer.from('Patient/pa')),
    ).toBe(0);
    // The other patients' rows are untouched (but for the bare code migration 16 removed).
    const migrated = observation('pd', '8867-4', 19_700);
    migrated.tokens = migrated.tokens.filter(
      (t) => !(t.param === 'code' && !Buffer.from(t.token).includes('|')),
    );
    expect(rowsOf('pd-o0')).toEqual(asRows(migrated));
    db.close();
  });
});

describe('migration 16 (code systems listed, bare codes and the patient index dropped)', () => {
  const SNOMED = 'http://snomed.info/sct';
  /** A version-15 database: clear code rows in every form the older scheme stored, and a hashed identifier. */
  function v15Database() {
    const db = new Database(':memory:');
    migrate(db, CODE_SYSTEMS_VERSION - 1);
    const resource = db.prepare(
      `INSERT INTO fhir_resources (resource_type, id, version, last_updated, deleted, patient_id, key_id, index_keys)
       VALUES (?, ?, 1, ?, 0, ?, ?, ?)`,
    );
    const token = db.prepare(
      `INSERT INTO fhir_search_tokens (resource_type, id, param, token) VALUES (?, ?, ?, ?)`,
    );
    const rows: [string, string, string | null, [string, string | Buffer][]][] = [
      [
        'Observation',
        'o1',
        'p1',
        [
          ['code', 'http://loinc.org|8867-4'],
          ['code', '8867-4'],
          ['code', 'http://loinc.org|'],
          ['patient', 'Patient/p1'],
        ],
      ],
      [
        'Observation',
        'o2',
        'p1',
        [
          ['code', '|local-1'],
          ['code', 'local-1'],
          ['patient', 'Patient/p1'],
        ],
      ],
      // A system with an escaped "|", and one ending in an escaped backslash.
      [
        'Observation',
        'o3',
        'p2',
        [
          ['code', 'urn:a\\|b|x'],
          ['code', 'x'],
          ['code', 'urn:a\\|b|'],
          ['patient', 'Patient/p2'],
        ],
      ],
      [
        'Observation',
        'o4',
        'p2',
        [
          ['code', 'urn:c\\\\|y'],
          ['code', 'y'],
          ['code', 'urn:c\\\\|'],
          ['patient', 'Patient/p2'],
        ],
      ],
      [
        'Encounter',
        'e1',
        'p1',
        [
          ['type', `${SNOMED}|185349003`],
          ['type', '185349003'],
          ['type', `${SNOMED}|`],
        ],
      ],
      ['Patient', 'p1', 'p1', [['identifier', Buffer.alloc(16, 0x41)]]], // hashed: never touched
    ];
    for (const [n, [type, id, patient, tokens]] of rows.entries()) {
      resource.run(type, id, n, patient, patient ? `patient:${patient}` : 'organization', EMPTY_INDEX_KEYS);
      for (const [param, value] of tokens)
        token.run(type, id, param, typeof value === 'string' ? Buffer.from(value) : value);
    }
    return db;
  }

  it('lists every code system, removes only the bare codes, and search in any system still finds everything', () => {
    const db = v15Database();
    const before = db.prepare('SELECT COUNT(*) FROM fhir_search_tokens').pluck().get() as number;
    migrate(db);

    const store = new SqliteFhirStore(db);
    expect([...store.codeSystems('Observation', 'code')].sort()).toEqual([
      'http://loinc.org',
      'urn:a\\|b',
      'urn:c\\\\',
    ]);
    expect(store.codeSystems('Encounter', 'type')).toEqual([SNOMED]);
    expect(store.codeSystems('Observation', 'identifier')).toEqual([]);
    const remaining = (
      db
        .prepare(
          `SELECT param || '=' || CAST(token AS TEXT) FROM fhir_search_tokens WHERE param <> 'identifier'`,
        )
        .pluck()
        .all() as string[]
    ).sort();
    for (const bare of ['code=8867-4', 'code=local-1', 'code=x', 'code=y', 'type=185349003'])
      expect(remaining).not.toContain(bare);
    expect(remaining).toContain('code=|local-1');
    expect(db.prepare('SELECT COUNT(*) FROM fhir_search_tokens').pluck().get()).toBe(before - 5);
    expect(
      db.prepare(`SELECT COUNT(*) FROM fhir_search_tokens WHERE param = 'identifier'`).pluck().get(),
    ).toBe(1);
    expect(
      db.prepare(`SELECT COUNT(*) FROM sqlite_master WHERE name = 'fhir_resources_by_patient'`).pluck().get(),
    ).toBe(0);

    const hasher = () => new Uint8Array(16);
    const find = (type: 'Observation' | 'Encounter', query: Record<string, string>) =>
      store
        .search(
          parseSearchQuery(type, query, hasher, { codeSystems: (param) => store.codeSystems(type, param) }),
        )
        .resources.map((r) => r.id)
        .sort();
    expect(find('Observation', { code: '8867-4' })).toEqual(['o1']);
    expect(find('Observation', { code: 'local-1' })).toEqual(['o2']);
    expect(find('Observation', { code: 'x,y' })).toEqual(['o3', 'o4']);
    expect(find('Observation', { code: 'urn:a\\|b|x' })).toEqual(['o3']);
    expect(find('Encounter', { code: '185349003' })).toEqual(['e1']);
    db.close();
  });

  it('a store keeps new systems, and forgets one whose write rolled back', () => {
    const db = v15Database();
    migrate(db);
    db.exec(`INSERT INTO batches (sequence, state, opened_at) VALUES (1, 'open', 0)`);
    const store = new SqliteFhirStore(db);
    const write = (id: string, recordId: number, system: string) => {
      db.prepare(
        `INSERT INTO records (id, kind, content_hash, leaf_hash, batch_sequence, leaf_index, received_at)
         VALUES (?, 'fhir', x'00', x'00', 1, ?, 0)`,
      ).run(recordId, recordId);
      store.writeVersions([
        {
          patientId: null,
          index: { tokens: [], dates: [], systems: [{ param: 'code', system }] },
          version: {
            resourceType: 'Observation',
            id,
            version: 1,
            lastUpdated: recordId,
            deleted: false,
            keyId: 'organization',
            payload: null,
            contentHash: new Uint8Array(1),
            recordId,
          },
        },
      ]);
    };
    db.transaction(() => write('n1', 100, 'urn:new'))();
    expect(store.codeSystems('Observation', 'code')).toContain('urn:new');
    expect(() =>
      db.transaction(() => {
        write('n2', 101, 'urn:rolled-back');
        throw new Error('the commit fails');
      })(),
    ).toThrow('the commit fails');
    expect(store.codeSystems('Observation', 'code')).not.toContain('urn:rolled-back');
    // Written again for real, it is listed.
    db.transaction(() => write('n3', 102, 'urn:rolled-back'))();
    expect(store.codeSystems('Observation', 'code')).toContain('urn:rolled-back');
    expect(new SqliteFhirStore(db).codeSystems('Observation', 'code')).toContain('urn:rolled-back');
    db.close();
  });
});
