import Database from 'better-sqlite3';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { IndexEntries, VersionWrite } from '../../records/ports.js';
import { decodeIndexKeys } from './indexKeysCodec.js';
import { migrate } from './migrations.js';
import { SqliteFhirStore } from './sqliteFhirStore.js';

/** The search index rows of a resource as comparable strings (a set: the tables hold one row per entry). */
const rowStrings = (e: IndexEntries | null): string[] =>
  [
    ...new Set([
      ...(e?.tokens ?? []).map((t) => `t ${t.param} ${Buffer.from(t.token).toString('hex')}`),
      ...(e?.dates ?? []).map((d) => `d ${d.param} ${d.low} ${d.high}`),
    ]),
  ].sort();

class Harness {
  readonly db = new Database(':memory:');
  readonly store: SqliteFhirStore;
  private recordId = 0;

  constructor() {
    migrate(this.db);
    this.db.exec(`INSERT INTO batches (sequence, state, opened_at) VALUES (1, 'open', 0)`);
    this.store = new SqliteFhirStore(this.db);
  }

  write(
    writes: {
      type: string;
      id: string;
      version: number;
      patient: string | null;
      index: IndexEntries | null;
    }[],
  ) {
    const versions: VersionWrite[] = writes.map((w) => {
      const recordId = ++this.recordId;
      this.db
        .prepare(
          `INSERT INTO records (id, kind, content_hash, leaf_hash, batch_sequence, leaf_index, received_at)
           VALUES (?, 'fhir', x'00', x'00', 1, ?, 0)`,
        )
        .run(recordId, recordId);
      return {
        patientId: w.patient,
        index: w.index,
        version: {
          resourceType: w.type,
          id: w.id,
          version: w.version,
          lastUpdated: recordId,
          deleted: w.index === null,
          keyId: w.patient ? `patient:${w.patient}` : 'organization',
          payload: null,
          contentHash: new Uint8Array(1),
          recordId,
        },
      };
    });
    this.db.transaction(() => this.store.writeVersions(versions))();
  }

  /** The rows the two search tables hold for one resource. */
  rows(type: string, id: string): string[] {
    const tokens = this.db
      .prepare(`SELECT param, hex(token) AS token FROM fhir_search_tokens WHERE resource_type = ? AND id = ?`)
      .all(type, id) as { param: string; token: string }[];
    const dates = this.db
      .prepare(`SELECT param, low, high FROM fhir_search_dates WHERE resource_type = ? AND id = ?`)
      .all(type, id) as { param: string; low: number; high: number }[];
    return [
      ...tokens.map((t) => `t ${t.param} ${t.token.toLowerCase()}`),
      ...dates.map((d) => `d ${d.param} ${d.low} ${d.high}`),
    ].sort();
  }

  indexKeys(type: string, id: string): string[] {
    const blob = this.db
      .prepare(`SELECT index_keys FROM fhir_resources WHERE resource_type = ? AND id = ?`)
      .pluck()
      .get(type, id) as Buffer;
    return rowStrings(decodeIndexKeys(blob));
  }

  totalRows(): number {
    return (
      (this.db.prepare('SELECT COUNT(*) FROM fhir_search_tokens').pluck().get() as number) +
      (this.db.prepare('SELECT COUNT(*) FROM fhir_search_dates').pluck().get() as number)
    );
  }
}

const token = (param: string, text: string) => ({ param, token: new TextEncoder().encode(text) });

describe('SqliteFhirStore search index rows (kept through index_keys)', () => {
  it('a create writes its rows and index_keys; an update keeps shared rows, replaces the rest; a delete empties', () => {
    const h = new Harness();
    const v1: IndexEntries = {
      tokens: [token('code', 'A'), token('code', 'A'), token('patient', 'Patient/p'), token('code', 'B')],
      dates: [{ param: 'date', low: 1, high: 2 }],
    };
    h.write([{ type: 'Observation', id: 'o', version: 1, patient: 'p', index: v1 }]);
    expect(h.rows('Observation', 'o')).toEqual(rowStrings(v1));
    expect(h.indexKeys('Observation', 'o')).toEqual(rowStrings(v1));

    const v2: IndexEntries = {
      tokens: [token('code', 'A'), token('patient', 'Patient/p'), token('code', 'C')],
      dates: [{ param: 'date', low: 1, high: 3 }],
    };
    h.write([{ type: 'Observation', id: 'o', version: 2, patient: 'p', index: v2 }]);
    expect(h.rows('Observation', 'o')).toEqual(rowStrings(v2));
    expect(h.indexKeys('Observation', 'o')).toEqual(rowStrings(v2));

    h.write([{ type: 'Observation', id: 'o', version: 3, patient: 'p', index: null }]);
    expect(h.rows('Observation', 'o')).toEqual([]);
    expect(h.indexKeys('Observation', 'o')).toEqual([]);
    expect(h.totalRows()).toBe(0);
  });

  it('an older version committed after a newer one leaves the newer index in place', () => {
    const h = new Harness();
    const a: IndexEntries = { tokens: [token('code', 'A')], dates: [] };
    const b: IndexEntries = { tokens: [token('code', 'B')], dates: [] };
    h.write([{ type: 'Observation', id: 'o', version: 2, patient: null, index: b }]);
    h.write([{ type: 'Observation', id: 'o', version: 1, patient: null, index: a }]);
    expect(h.rows('Observation', 'o')).toEqual(rowStrings(b));
    h.write([{ type: 'Observation', id: 'o', version: 4, patient: null, index: a }]);
    h.write([{ type: 'Observation', id: 'o', version: 3, patient: null, index: b }]);
    expect(h.rows('Observation', 'o')).toEqual(rowStrings(a));
    expect(h.indexKeys('Observation', 'o')).toEqual(rowStrings(a));
  });

  it("erasure finds a patient's resources by primary keys (its Patient, then its patient token type by type)", () => {
    const h = new Harness();
    const plan = (sql: string, ...args: unknown[]) =>
      (h.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as { detail: string }[]).map((p) => p.detail);
    const byToken = plan(
      `SELECT r.resource_type, r.id, r.index_keys FROM fhir_search_tokens t
       JOIN fhir_resources r ON r.resource_type = t.resource_type AND r.id = t.id
       WHERE t.resource_type = ? AND t.param = 'patient' AND t.token = ? AND r.key_id = ?`,
      'Observation',
      Buffer.from('Patient/p'),
      'patient:p',
    );
    expect(byToken).toHaveLength(2);
    for (const step of byToken) expect(step).toMatch(/^SEARCH \w+ USING PRIMARY KEY/);
    expect(
      plan(
        `SELECT resource_type FROM fhir_resources WHERE resource_type > ? ORDER BY resource_type LIMIT 1`,
        '',
      ),
    ).toEqual([expect.stringMatching(/^SEARCH fhir_resources USING (COVERING INDEX|PRIMARY KEY)/)]);
  });

  it('keeps the tables equal to every current index through any writes, deletes and erasures (property)', () => {
    const params = ['code', 'identifier'];
    const entry = fc.record({
      param: fc.constantFrom(...params),
      text: fc.constantFrom('a', 'b', 'c', 'ü', ''),
    });
    const index = fc.option(
      fc.record({
        tokens: fc.array(entry, { maxLength: 6 }).map((ts) => ts.map((t) => token(t.param, t.text))),
        dates: fc.array(
          fc.record({ param: fc.constantFrom('date', 'birthdate'), low: fc.integer({ min: -3, max: 3 }) }),
          { maxLength: 3 },
        ),
      }),
      { freq: 4, nil: null },
    );
    const ids = ['r0', 'r1', 'r2', 'r3'];
    const patients = ['p0', 'p1', null];
    const op = fc.oneof(
      {
        arbitrary: fc.record({
          kind: fc.constant('write' as const),
          id: fc.constantFrom(...ids),
          index,
          swapWithNext: fc.boolean(),
        }),
        weight: 8,
      },
      {
        arbitrary: fc.record({ kind: fc.constant('erase' as const), patient: fc.constantFrom('p0', 'p1') }),
        weight: 1,
      },
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 25 }), (ops) => {
        const h = new Harness();
        const model = new Map<string, { version: number; rows: string[]; current: boolean }>();
        const patientOf = (id: string) => patients[ids.indexOf(id) % patients.length] as string | null;
        const erased = new Set<string>();
        for (const o of ops) {
          if (o.kind === 'erase') {
            if (erased.has(o.patient)) continue;
            h.db
              .prepare(
                `INSERT OR IGNORE INTO fhir_keys (key_id, wrapped_key, created_at) VALUES (?, x'00', 0)`,
              )
              .run(`patient:${o.patient}`);
            const count = h.store.eraseKey(`patient:${o.patient}`, 1);
            erased.add(o.patient);
            const own = ids.filter((id) => patientOf(id) === o.patient && model.has(id));
            // Counted: the patient's resources that were not deleted (a deleted one has no index rows left).
            expect(count).toBe(own.filter((id) => model.get(id)?.current).length);
            for (const id of own)
              model.set(id, { version: model.get(id)?.version ?? 0, rows: [], current: false });
          } else {
            const patient = patientOf(o.id);
            if (patient !== null && erased.has(patient)) continue;
            // As extraction gives them: a resource of a patient has that patient's token.
            const entries = o.index && {
              tokens: [...o.index.tokens, ...(patient ? [token('patient', `Patient/${patient}`)] : [])],
              dates: o.index.dates.map((d) => ({
                param: d.param,
                low: d.low * 1e15,
                high: d.low * 1e15 + 999,
              })),
            };
            const version = (model.get(o.id)?.version ?? 0) + 1;
            if (o.swapWithNext) {
              // Two versions in one commit, the newer first (as concurrent writes may land): the newer one wins.
              const older = { type: 'Observation', id: o.id, version, patient, index: null };
              const newer = { type: 'Observation', id: o.id, version: version + 1, patient, index: entries };
              h.write([newer, older]);
              model.set(o.id, { version: version + 1, rows: rowStrings(entries), current: entries !== null });
            } else {
              h.write([{ type: 'Observation', id: o.id, version, patient, index: entries }]);
              model.set(o.id, { version, rows: rowStrings(entries), current: entries !== null });
            }
          }
          for (const id of ids) {
            const expected = model.get(id)?.rows ?? [];
            expect(h.rows('Observation', id)).toEqual(expected);
            if (model.has(id)) expect(h.indexKeys('Observation', id)).toEqual(expected);
          }
        }
        h.db.close();
      }),
      { numRuns: 200 },
    );
  });
});
