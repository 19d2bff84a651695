import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { StoredEpcisEvent } from '../../supply-chain/capture/ports.js';
import { epcisEventKey } from './epcisEventKey.js';
import { EPCIS_EVENT_KEYS_VERSION, migrate, SCHEMA_VERSION } from './migrations.js';
import { SqliteEpcisStore } from './sqliteEpcisStore.js';

/** Two CBV 2.0 hash ids whose digests share their first 13 hex digits, so they share a key. */
const SAME_KEY_A = `ni:///sha-256;${'a'.repeat(13)}${'0'.repeat(51)}?ver=CBV2.0`;
const SAME_KEY_B = `ni:///sha-256;${'a'.repeat(13)}${'1'.repeat(51)}?ver=CBV2.0`;

const event = (recordId: number, eventId: string): StoredEpcisEvent => ({
  recordId,
  eventId,
  eventType: 'ObjectEvent',
  eventTime: 1_000 + recordId,
  recordTime: 2_000,
  bizStep: 'shipping',
  disposition: null,
  bizLocation: null,
  readPoint: null,
  captureId: 'c1',
  body: `{"eventID":${JSON.stringify(eventId)}}`,
  epcs: [{ epc: `https://id.gs1.org/00/00614141${String(recordId).padStart(9, '0')}`, role: 'epc' }],
});

/** A database without the spine's anchoring records, which event rows point to. */
function database(version = SCHEMA_VERSION): Database.Database {
  const db = new Database(':memory:');
  migrate(db, version);
  db.pragma('foreign_keys = OFF');
  return db;
}

describe('epcisEventKey', () => {
  it("takes a CBV hash id's digest, hashes any other id, and fits a safe integer", () => {
    expect(epcisEventKey(SAME_KEY_A)).toBe(0xaaaaaaaaaaaaa);
    expect(epcisEventKey(SAME_KEY_B)).toBe(epcisEventKey(SAME_KEY_A));
    const uuid = epcisEventKey('urn:uuid:8a1b3c4d-0000-4000-8000-000000000001');
    expect(Number.isSafeInteger(uuid) && uuid >= 0 && uuid < 2 ** 52).toBe(true);
    expect(epcisEventKey('urn:uuid:8a1b3c4d-0000-4000-8000-000000000002')).not.toBe(uuid);
    // Upper-case hex is not the CBV form: hashed like any other id.
    expect(epcisEventKey(SAME_KEY_A.toUpperCase())).not.toBe(epcisEventKey(SAME_KEY_A));
  });
});

describe('SqliteEpcisStore event ids', () => {
  it('tells apart two events whose ids share a key: existence, reads by id and queries by id', () => {
    const store = new SqliteEpcisStore(database());
    store.insertEvents([event(1, SAME_KEY_A)], {
      captureId: 'c1',
      createdAt: 1,
      finishedAt: 1,
      stored: 1,
      duplicates: 0,
      eventIds: [SAME_KEY_A],
    });
    expect(store.existingEventIds([SAME_KEY_A, SAME_KEY_B])).toEqual(new Set([SAME_KEY_A]));
    expect(store.getEvent(SAME_KEY_B)).toBeUndefined();
    expect(store.getEvent(SAME_KEY_A)?.recordId).toBe(1);
    const byId = (ids: string[]) =>
      store.query({ eventIds: ids, epcConditions: [], afterRecordId: 0, limit: 10 }).map((e) => e.eventId);
    expect(byId([SAME_KEY_B])).toEqual([]);

    store.insertEvents([event(2, SAME_KEY_B), event(3, 'urn:uuid:x-3')], {
      captureId: 'c2',
      createdAt: 2,
      finishedAt: 2,
      stored: 2,
      duplicates: 0,
      eventIds: [SAME_KEY_B, 'urn:uuid:x-3'],
    });
    expect(store.existingEventIds([SAME_KEY_B, 'urn:uuid:x-3', 'urn:uuid:x-4'])).toEqual(
      new Set([SAME_KEY_B, 'urn:uuid:x-3']),
    );
    expect(store.getEvent(SAME_KEY_B)?.recordId).toBe(2);
    expect(byId([SAME_KEY_B, 'urn:uuid:x-3'])).toEqual([SAME_KEY_B, 'urn:uuid:x-3']);
    expect(byId([])).toEqual([]);
    expect(store.existingEventIds([])).toEqual(new Set());
  });

  it('tells whether any event names an identifier in a role', () => {
    const store = new SqliteEpcisStore(database());
    const stored = event(1, 'urn:uuid:x-1');
    store.insertEvents([stored], {
      captureId: 'c1',
      createdAt: 1,
      finishedAt: 1,
      stored: 1,
      duplicates: 0,
      eventIds: ['urn:uuid:x-1'],
    });
    const epc = stored.epcs[0]?.epc as string;
    expect(store.hasIdentifier(epc, 'epc')).toBe(true);
    expect(store.hasIdentifier(epc, 'parent')).toBe(false);
    expect(store.hasIdentifier(`${epc}0`, 'epc')).toBe(false);
  });

  it('migrates stored events to keyed rows, every column kept, and finds them by id afterwards', () => {
    const db = database(EPCIS_EVENT_KEYS_VERSION - 1);
    const old = db.prepare(
      `INSERT INTO epcis_events (record_id, event_id, event_type, event_time, record_time, biz_step, disposition,
         biz_location, read_point, capture_id, body) VALUES (?, ?, 'ObjectEvent', ?, 5, 'shipping', NULL, 'loc', NULL,
         'c1', ?)`,
    );
    old.run(1, SAME_KEY_A, 10, '{"a":1}');
    old.run(2, 'urn:uuid:x-2', 20, '{"b":2}');
    migrate(db);
    expect(
      db.prepare(`SELECT record_id, event_key, event_id FROM epcis_events ORDER BY record_id`).all(),
    ).toEqual([
      { record_id: 1, event_key: epcisEventKey(SAME_KEY_A), event_id: SAME_KEY_A },
      { record_id: 2, event_key: epcisEventKey('urn:uuid:x-2'), event_id: 'urn:uuid:x-2' },
    ]);
    const store = new SqliteEpcisStore(db);
    expect(store.getEvent('urn:uuid:x-2')).toMatchObject({
      recordId: 2,
      eventTime: 20,
      recordTime: 5,
      bizStep: 'shipping',
      bizLocation: 'loc',
      captureId: 'c1',
      body: '{"b":2}',
    });
    expect(store.existingEventIds([SAME_KEY_A, SAME_KEY_B])).toEqual(new Set([SAME_KEY_A]));
    const indexes = db
      .prepare(
        `SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'epcis_events' ORDER BY name`,
      )
      .pluck()
      .all();
    expect(indexes).toEqual(['epcis_events_by_key', 'epcis_events_by_time']);
  });
});
