/**
 * End to end through the public API: resources → extractIndexEntries → rows in a real SQLite database (a minimal
 * stand-in for the SQL adapter) → parseSearchQuery → SQL built from dateConditionClauses → matching ids.
 */
import Database from 'better-sqlite3';
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import type { Observation, Patient, Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DATE_PREFIXES,
  dateConditionClauses,
  dateConditionMatches,
  extractIndexEntries,
  parseSearchQuery,
  type DateCondition,
  type SearchQuery,
  type SearchQueryInput,
} from './index.js';

const KEY = Buffer.alloc(32, 0x42);
const hasher = (v: string): Uint8Array =>
  new Uint8Array(createHmac('sha256', KEY).update(v).digest().subarray(0, 16));
const MRN = 'http://hospital.example.org/mrn';
const LOINC = 'http://loinc.org';

const patients: Patient[] = [
  {
    resourceType: 'Patient',
    id: 'p1',
    identifier: [{ system: MRN, value: 'MRN-1001' }],
    name: [{ family: 'Müller', given: ['Jürgen'] }],
    birthDate: '1968-04-12',
  },
  {
    resourceType: 'Patient',
    id: 'p2',
    identifier: [{ system: MRN, value: 'MRN-1002' }],
    name: [{ family: 'Smith', given: ['Anne-Marie'], prefix: ['Ms.'] }],
    birthDate: '1990',
  },
  {
    resourceType: 'Patient',
    id: 'p3',
    identifier: [{ system: 'http://other.example.org/ids', value: 'MRN-1001' }],
    name: [{ text: 'Zoë Mullins' }],
    birthDate: '2001-11',
  },
];

const observation = (
  id: string,
  patient: string,
  code: string,
  effective: Partial<Observation>,
): Observation => ({
  resourceType: 'Observation',
  id,
  status: 'final',
  code: { coding: [{ system: LOINC, code }] },
  subject: { reference: `Patient/${patient}` },
  ...effective,
});

const observations: Observation[] = [
  observation('o1', 'p1', '8867-4', { effectiveDateTime: '2024-01-15T10:00:00+01:00' }),
  observation('o2', 'p1', '8867-4', { effectiveDateTime: '2024-02-01T00:30:00+01:00' }), // Jan 31 23:30 UTC
  observation('o3', 'p1', '8480-6', { effectiveDateTime: '2024-01-20' }),
  observation('o4', 'p2', '8867-4', { effectivePeriod: { start: '2023-12-20', end: '2024-01-10' } }),
  observation('o5', 'p2', '8867-4', { effectivePeriod: { start: '2024-01-25' } }), // still open
  observation('o6', 'p3', '8867-4', { effectiveDateTime: '2024-03' }),
];

const SNOMED = 'http://snomed.info/sct';
/** One code, 44054006, under two systems and under none; and another SNOMED code. */
const conditions: Resource[] = [
  {
    resourceType: 'Condition',
    id: 'c1',
    subject: { reference: 'Patient/p1' },
    code: { coding: [{ system: SNOMED, code: '44054006' }] },
  },
  {
    resourceType: 'Condition',
    id: 'c2',
    subject: { reference: 'Patient/p1' },
    code: { coding: [{ code: '44054006' }] },
  },
  {
    resourceType: 'Condition',
    id: 'c3',
    subject: { reference: 'Patient/p2' },
    code: { coding: [{ system: 'urn:local|codes', code: '44054006' }] },
  },
  {
    resourceType: 'Condition',
    id: 'c4',
    subject: { reference: 'Patient/p2' },
    code: { coding: [{ system: SNOMED, code: '73211009' }] },
  },
] as Resource[];

let db: Database.Database;

beforeAll(() => {
  db = new Database(':memory:');
  db.exec(`
    CREATE TABLE resource (type TEXT NOT NULL, id TEXT NOT NULL, patient_id TEXT, PRIMARY KEY (type, id));
    CREATE TABLE search_token (type TEXT NOT NULL, id TEXT NOT NULL, param TEXT NOT NULL, token BLOB NOT NULL);
    CREATE TABLE search_date (type TEXT NOT NULL, id TEXT NOT NULL, param TEXT NOT NULL,
                              low INTEGER NOT NULL, high INTEGER NOT NULL);
    CREATE INDEX search_token_lookup ON search_token (param, token);
    CREATE INDEX search_date_lookup ON search_date (param, low, high);
  `);
  const all: Resource[] = [...patients, ...observations, ...conditions];
  for (const resource of all) index(resource);
});

afterAll(() => db.close());

/** The code systems seen per `type\0param`, as the store keeps them. */
const codeSystems = new Map<string, Set<string>>();

function index(resource: Resource): void {
  const entries = extractIndexEntries(resource, hasher);
  const { resourceType: type, id } = resource as { resourceType: string; id: string };
  db.prepare('INSERT INTO resource VALUES (?, ?, ?)').run(type, id, entries.patientId);
  for (const t of entries.tokens) {
    db.prepare('INSERT INTO search_token VALUES (?, ?, ?, ?)').run(type, id, t.param, Buffer.from(t.token));
  }
  for (const d of entries.dates) {
    db.prepare('INSERT INTO search_date VALUES (?, ?, ?, ?, ?)').run(type, id, d.param, d.low, d.high);
  }
  for (const { param, system } of entries.systems) {
    const key = `${type}\u0000${param}`;
    codeSystems.set(key, (codeSystems.get(key) ?? new Set()).add(system));
  }
}

/** SQL for one date condition on the row alias `d`, built only from dateConditionClauses. */
function dateSql(condition: Omit<DateCondition, 'param'>, params: unknown[]): string {
  return dateConditionClauses(condition)
    .map((clause) => {
      const parts = clause.map((c) => {
        params.push(c.value);
        return `d.${c.column} ${c.op} ?`;
      });
      return `(${parts.join(' AND ')})`;
    })
    .join(' OR ');
}

/** A minimal SQL adapter: every condition an EXISTS on the index tables (AND), IN (...) for comma-OR. */
function run(query: SearchQuery): string[] {
  const params: unknown[] = [query.resourceType];
  const where = ['r.type = ?'];
  if (query.ids) {
    where.push(`r.id IN (${query.ids.map(() => '?').join(', ') || 'NULL'})`);
    params.push(...query.ids);
  }
  for (const c of query.tokenConditions) {
    where.push(
      `EXISTS (SELECT 1 FROM search_token t WHERE t.type = r.type AND t.id = r.id AND t.param = ? AND t.token IN (${c.anyOf.map(() => '?').join(', ')}))`,
    );
    params.push(c.param, ...c.anyOf.map((x) => Buffer.from(x)));
  }
  for (const c of query.dateConditions) {
    params.push(c.param);
    where.push(
      `EXISTS (SELECT 1 FROM search_date d WHERE d.type = r.type AND d.id = r.id AND d.param = ? AND (${dateSql(c, params)}))`,
    );
  }
  const order = query.sort.endsWith('_id')
    ? `r.id ${query.sort.startsWith('-') ? 'DESC' : 'ASC'}`
    : 'r.rowid';
  params.push(query.count, query.offset);
  const sql = `SELECT r.id FROM resource r WHERE ${where.join(' AND ')} ORDER BY ${order} LIMIT ? OFFSET ?`;
  return (db.prepare(sql).all(...params) as { id: string }[]).map((row) => row.id);
}

const search = (type: string, query: SearchQueryInput) =>
  run(
    parseSearchQuery(type, query, hasher, {
      codeSystems: (param) => [...(codeSystems.get(`${type}\u0000${param}`) ?? [])],
    }),
  );

describe('Patient search end to end', () => {
  it.each([
    [{ name: 'mul' }, ['p1', 'p3']],
    [{ name: 'MÜL' }, ['p1', 'p3']],
    [{ name: 'Müll' }, ['p1', 'p3']],
    [{ name: 'muller' }, ['p1']],
    [{ name: 'Mullins' }, ['p3']],
    [{ name: 'zoe' }, ['p3']],
    [{ name: 'zoe mul' }, ['p3']], // runs on across the words of the text
    [{ name: 'smi,jur' }, ['p1', 'p2']],
    [{ name: 'marie' }, ['p2']],
    [{ name: 'anne-ma' }, ['p2']],
    [{ name: 'ms' }, ['p2']],
    [{ name: 'ith' }, []], // starts-with, not contains
    [{ family: 'jur' }, []],
    [{ given: 'jur' }, ['p1']],
    [{ 'name:exact': 'Müller' }, ['p1']],
    [{ 'name:exact': 'müller' }, []],
    [{ identifier: `${MRN}|MRN-1001` }, ['p1']],
    [{ identifier: 'MRN-1001' }, ['p1', 'p3']],
    [{ identifier: `${MRN}|` }, ['p1', 'p2']],
    [{ identifier: '|MRN-1001' }, []],
    [{ identifier: `${MRN}|MRN-1001,${MRN}|MRN-1002` }, ['p1', 'p2']],
    [{ identifier: [`${MRN}|`, 'MRN-1001'] }, ['p1']],
    [{ birthdate: '1968' }, ['p1']],
    [{ birthdate: '1968-04-12' }, ['p1']],
    [{ birthdate: 'lt1990' }, ['p1']],
    [{ birthdate: 'le1990' }, ['p1', 'p2']],
    [{ birthdate: 'ge1990' }, ['p2', 'p3']],
    [{ birthdate: 'gt1990-06' }, ['p2', 'p3']], // 1990 (a year) extends above June 1990
    [{ birthdate: 'sa1990-06' }, ['p3']],
    [{ birthdate: 'ne1990' }, ['p1', 'p3']],
    [{ birthdate: 'eq1990-06' }, []], // a year is not inside a month
    [{ _id: 'p2,p3', name: 'mul' }, ['p3']],
  ] as [SearchQueryInput, string[]][])('%j → %j', (query, expected) => {
    expect(search('Patient', query)).toEqual(expected);
  });
});

describe('a code in any system, with no row of its own', () => {
  it.each([
    [{ code: '44054006' }, ['c1', 'c2', 'c3']], // SNOMED, no system, and a system with a "|" in it
    [{ code: '|44054006' }, ['c2']],
    [{ code: `${SNOMED}|44054006` }, ['c1']],
    [{ code: 'urn:local\\|codes|44054006' }, ['c3']],
    [{ code: `${SNOMED}|` }, ['c1', 'c4']],
    [{ code: '73211009,44054006' }, ['c1', 'c2', 'c3', 'c4']],
    [{ code: 'nope' }, []],
  ] as [SearchQueryInput, string[]][])('Condition %j → %j', (query, expected) => {
    expect(search('Condition', query)).toEqual(expected);
  });

  it('stores no bare code for a clear parameter', () => {
    const entries = extractIndexEntries(conditions[0] as Resource, hasher);
    expect(entries.tokens.map((t) => `${t.param}=${Buffer.from(t.token).toString()}`)).toEqual([
      'patient=Patient/p1',
      `code=${SNOMED}|44054006`,
      `code=${SNOMED}|`,
    ]);
    expect(entries.systems).toEqual([{ param: 'code', system: SNOMED }]);
  });
});

describe('Observation search end to end', () => {
  it.each([
    [{ patient: 'p1' }, ['o1', 'o2', 'o3']],
    [{ subject: 'Patient/p2' }, ['o4', 'o5']],
    [{ patient: 'p1,p3' }, ['o1', 'o2', 'o3', 'o6']],
    [{ patient: 'p1', code: `${LOINC}|8867-4` }, ['o1', 'o2']],
    [{ code: '8480-6' }, ['o3']],
    [{ code: `${LOINC}|` }, ['o1', 'o2', 'o3', 'o4', 'o5', 'o6']],
    [{ code: '|8867-4' }, []],
    [{ date: ['ge2024-01-01', 'lt2024-02-01'] }, ['o1', 'o2', 'o3', 'o4', 'o5']],
    [{ date: '2024-01' }, ['o1', 'o2', 'o3']], // o4 starts in December, o5 is open-ended
    [{ date: 'eb2024-01-15' }, ['o4']],
    [{ date: 'sa2024-01-31' }, ['o6']],
    [{ date: 'gt2024-02-15' }, ['o5', 'o6']],
    [{ date: 'lt2024-01-01' }, ['o4']],
    [{ date: 'ge2024-01-01' }, ['o1', 'o2', 'o3', 'o4', 'o5', 'o6']], // o4 runs on after Jan 1
    [{ date: 'ge2024-01' }, ['o1', 'o2', 'o3', 'o5', 'o6']], // R4: o4 (Dec 20 - Jan 10) neither extends above January nor lies inside it
    [{ date: 'le2024-01-10' }, ['o4']],
    [{ date: 'ge2024-01-31T23:30:00Z' }, ['o2', 'o5', 'o6']],
    [{ date: 'ge2024-01-31T23:30:00+00:00', patient: 'p1' }, ['o2']],
    [{ date: '2024-01-31T23:30:00Z' }, ['o2']],
    [{ date: '2024-02-01T00:30:00+01:00' }, ['o2']],
    [{ date: '2024-02-01' }, []], // o2 is on Jan 31 in UTC
    [{ patient: 'p1', _count: '2' }, ['o1', 'o2']],
    [{ patient: 'p1', _count: '2', _offset: '2' }, ['o3']],
    [{ patient: 'p1', _sort: '-_id' }, ['o3', 'o2', 'o1']],
    [{ patient: 'p1', _count: '0' }, []],
  ] as [SearchQueryInput, string[]][])('%j → %j', (query, expected) => {
    expect(search('Observation', query)).toEqual(expected);
  });
});

describe('the SQL built from dateConditionClauses agrees with dateConditionMatches', () => {
  it('property: random stored ranges and conditions', () => {
    db.exec('CREATE TABLE prop_date (id INTEGER PRIMARY KEY, low INTEGER NOT NULL, high INTEGER NOT NULL)');
    const insert = db.prepare('INSERT INTO prop_date (low, high) VALUES (?, ?)');
    const rows: { id: number; low: number; high: number }[] = [];
    const edges = [-8.64e15, 8.64e15];
    for (let low = -6; low <= 6; low += 2) {
      for (const width of [0, 1, 3, 8]) {
        const id = Number(insert.run(low, low + width).lastInsertRowid);
        rows.push({ id, low, high: low + width });
      }
    }
    for (const [low, high] of [
      [edges[0]!, 0],
      [0, edges[1]!],
      [edges[0]!, edges[1]!],
    ] as const) {
      rows.push({ id: Number(insert.run(low, high).lastInsertRowid), low, high });
    }
    fc.assert(
      fc.property(
        fc.constantFrom(...DATE_PREFIXES),
        fc.integer({ min: -8, max: 8 }),
        fc.integer({ min: 0, max: 6 }),
        (prefix, low, width) => {
          const condition = { prefix, low, high: low + width };
          const params: unknown[] = [];
          const sql = `SELECT id FROM prop_date d WHERE ${dateSql(condition, params)} ORDER BY id`;
          const fromSql = (db.prepare(sql).all(...params) as { id: number }[]).map((r) => r.id);
          const expected = rows.filter((r) => dateConditionMatches(condition, r)).map((r) => r.id);
          expect(fromSql).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });
});
