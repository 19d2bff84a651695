import type {
  CurrentResource,
  DataKeyRow,
  FhirStore,
  IndexEntries,
  StoredVersion,
  VersionWrite,
} from '../../records/ports.js';
import {
  dateConditionClauses,
  patientReferenceToken,
  type DateComparison,
  type SearchQuery,
} from '../../records/search/index.js';
import { decodeIndexKeys, EMPTY_INDEX_KEYS, encodeIndexKeys } from './indexKeysCodec.js';
import type { SqliteDatabase } from './openDatabase.js';
import { buf, bytes } from './bytes.js';

interface VersionRow {
  resource_type: string;
  id: string;
  version: number;
  last_updated: number;
  deleted: number;
  key_id: string;
  payload: Buffer | null;
  content_hash: Buffer;
  record_id: number;
}

interface ResourceRow {
  resource_type: string;
  id: string;
  version: number;
  last_updated: number;
  deleted: number;
  patient_id: string | null;
  key_id: string;
}

/** The columns of `fhir_resources` a `CurrentResource` is made of (not `index_keys`, which only writes need). */
const RESOURCE_COLUMNS = 'resource_type, id, version, last_updated, deleted, patient_id, key_id';
const RESOURCE_COLUMNS_R = RESOURCE_COLUMNS.replace(/(\w+)/g, 'r.$1');

/**
 * The repository names a patient's data key `patient:<id>` and stores that id as `patient_id` beside it (see
 * `patientKeyId` in fhirRepository.ts). Erasing such a key finds the Patient by id and every other resource of the
 * patient by its `patient` search token, which a resource has exactly when it has a `patient_id` (the same reference
 * gives both; a test holds them together), so no index of its own is kept for erasure.
 */
const PATIENT_KEY_PREFIX = 'patient:';

/** A resource row with what erasure needs to clear its search index. */
interface IndexedResourceRow {
  resource_type: string;
  id: string;
  index_keys: Buffer | null;
}

const toVersion = (r: VersionRow): StoredVersion => ({
  resourceType: r.resource_type,
  id: r.id,
  version: r.version,
  lastUpdated: r.last_updated,
  deleted: r.deleted === 1,
  keyId: r.key_id,
  payload: r.payload ? bytes(r.payload) : null,
  contentHash: bytes(r.content_hash),
  recordId: r.record_id,
});

const toCurrent = (r: ResourceRow): CurrentResource => ({
  resourceType: r.resource_type,
  id: r.id,
  version: r.version,
  lastUpdated: r.last_updated,
  deleted: r.deleted === 1,
  patientId: r.patient_id,
  keyId: r.key_id,
});

const SORTS: Record<SearchQuery['sort'], string> = {
  _lastUpdated: 'r.last_updated ASC, r.id ASC',
  '-_lastUpdated': 'r.last_updated DESC, r.id DESC',
  _id: 'r.id ASC',
  '-_id': 'r.id DESC',
};

/** The encrypted FHIR store on SQLite; it shares the node's database (and so its transactions) with anchoring. */
export class SqliteFhirStore implements FhirStore {
  private readonly db: SqliteDatabase;
  private readonly stmt;
  /**
   * fhir_code_systems as committed, by `resourceType\0param`, so a write skips systems already known and a search
   * reads no table. A key is dropped when a write adds to it (the write may yet roll back) and read again outside
   * any transaction.
   */
  private readonly knownCodeSystems = new Map<string, Set<string>>();

  constructor(db: SqliteDatabase) {
    this.db = db;
    this.stmt = {
      current: db.prepare(
        `SELECT ${RESOURCE_COLUMNS} FROM fhir_resources WHERE resource_type = ? AND id = ?`,
      ),
      // One statement (one read transaction) for the read path: the current row and its version's payload.
      currentWithVersion: db.prepare(
        `SELECT ${RESOURCE_COLUMNS_R}, v.last_updated AS v_last_updated, v.deleted AS v_deleted, v.key_id AS v_key_id, v.payload,
                v.content_hash, v.record_id
         FROM fhir_resources r
         JOIN fhir_versions v ON v.resource_type = r.resource_type AND v.id = r.id AND v.version = r.version
         WHERE r.resource_type = ? AND r.id = ?`,
      ),
      version: db.prepare(`SELECT * FROM fhir_versions WHERE resource_type = ? AND id = ? AND version = ?`),
      byRecord: db.prepare(`SELECT * FROM fhir_versions WHERE record_id = ?`),
      historyOne: db.prepare(
        `SELECT * FROM fhir_versions WHERE resource_type = ? AND id = ? ORDER BY version DESC LIMIT ? OFFSET ?`,
      ),
      historyOneCount: db
        .prepare(`SELECT COUNT(*) FROM fhir_versions WHERE resource_type = ? AND id = ?`)
        .pluck(),
      historyType: db.prepare(
        `SELECT * FROM fhir_versions WHERE resource_type = ? ORDER BY last_updated DESC, id DESC, version DESC LIMIT ? OFFSET ?`,
      ),
      historyTypeCount: db.prepare(`SELECT COUNT(*) FROM fhir_versions WHERE resource_type = ?`).pluck(),
      key: db.prepare(`SELECT * FROM fhir_keys WHERE key_id = ?`),
      insertKey: db.prepare(
        `INSERT OR IGNORE INTO fhir_keys (key_id, wrapped_key, created_at) VALUES (?, ?, ?)`,
      ),
      insertVersion: db.prepare(
        `INSERT INTO fhir_versions (resource_type, id, version, last_updated, deleted, key_id, payload, content_hash, record_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      // The index entries the current row holds (to replace them), and its version (to skip an older one).
      currentIndexKeys: db.prepare(
        `SELECT version, index_keys FROM fhir_resources WHERE resource_type = ? AND id = ?`,
      ),
      upsertCurrent: db.prepare(
        `INSERT INTO fhir_resources (resource_type, id, version, last_updated, deleted, patient_id, key_id, index_keys)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (resource_type, id) DO UPDATE SET version = excluded.version, last_updated = excluded.last_updated,
           deleted = excluded.deleted, patient_id = excluded.patient_id, key_id = excluded.key_id,
           index_keys = excluded.index_keys
         WHERE excluded.version > fhir_resources.version`,
      ),
      // One index row each, by its full primary key.
      deleteToken: db.prepare(
        `DELETE FROM fhir_search_tokens WHERE resource_type = ? AND param = ? AND token = ? AND id = ?`,
      ),
      deleteDate: db.prepare(
        `DELETE FROM fhir_search_dates WHERE resource_type = ? AND param = ? AND low = ? AND high = ? AND id = ?`,
      ),
      // Only for a row whose index_keys is NULL (see deleteIndexRows): no index leads to (type, id) any more, so
      // these scan every index row of the resource type.
      deleteTokensScan: db.prepare(`DELETE FROM fhir_search_tokens WHERE resource_type = ? AND id = ?`),
      deleteDatesScan: db.prepare(`DELETE FROM fhir_search_dates WHERE resource_type = ? AND id = ?`),
      // OR IGNORE: a resource may carry the same token or date twice (e.g. a repeated coding); one row serves.
      insertToken: db.prepare(
        `INSERT OR IGNORE INTO fhir_search_tokens (resource_type, id, param, token) VALUES (?, ?, ?, ?)`,
      ),
      insertDate: db.prepare(
        `INSERT OR IGNORE INTO fhir_search_dates (resource_type, id, param, low, high) VALUES (?, ?, ?, ?, ?)`,
      ),
      insertCodeSystem: db.prepare(
        `INSERT OR IGNORE INTO fhir_code_systems (resource_type, param, system) VALUES (?, ?, ?)`,
      ),
      codeSystems: db
        .prepare(`SELECT system FROM fhir_code_systems WHERE resource_type = ? AND param = ?`)
        .pluck(),
      allCodeSystems: db.prepare(`SELECT resource_type, param, system FROM fhir_code_systems`),
      eraseKey: db.prepare(
        `UPDATE fhir_keys SET wrapped_key = NULL, erased_at = ? WHERE key_id = ? AND erased_at IS NULL`,
      ),
      // Erasure. A patient's resources: the Patient, then, type by type, those with its `patient` token (the key_id
      // test keeps it exact). Any other key (none is erased today) by a scan of the table.
      nextResourceType: db
        .prepare(
          `SELECT resource_type FROM fhir_resources WHERE resource_type > ? ORDER BY resource_type LIMIT 1`,
        )
        .pluck(),
      patientOfKey: db.prepare(
        `SELECT resource_type, id, index_keys FROM fhir_resources WHERE resource_type = 'Patient' AND id = ? AND key_id = ?`,
      ),
      resourcesOfPatientToken: db.prepare(
        `SELECT r.resource_type, r.id, r.index_keys FROM fhir_search_tokens t
         JOIN fhir_resources r ON r.resource_type = t.resource_type AND r.id = t.id
         WHERE t.resource_type = ? AND t.param = 'patient' AND t.token = ? AND r.key_id = ?`,
      ),
      resourcesOfKey: db.prepare(`SELECT resource_type, id, index_keys FROM fhir_resources WHERE key_id = ?`),
      clearIndexKeys: db.prepare(
        `UPDATE fhir_resources SET index_keys = ? WHERE resource_type = ? AND id = ? AND index_keys IS NOT ?`,
      ),
      allVersions: db.prepare(`SELECT * FROM fhir_versions ORDER BY record_id`),
    };
    for (const row of this.stmt.allCodeSystems.all() as {
      resource_type: string;
      param: string;
      system: string;
    }[])
      this.codeSystemSet(row.resource_type, row.param).add(row.system);
  }

  private codeSystemSet(resourceType: string, param: string): Set<string> {
    const key = `${resourceType}\u0000${param}`;
    let known = this.knownCodeSystems.get(key);
    if (!known) {
      known = new Set();
      this.knownCodeSystems.set(key, known);
    }
    return known;
  }

  codeSystems(resourceType: string, param: string): readonly string[] {
    const key = `${resourceType}\u0000${param}`;
    const known = this.knownCodeSystems.get(key);
    if (known) return [...known];
    const systems = this.stmt.codeSystems.all(resourceType, param) as string[];
    // Inside a transaction the table shows writes that may yet roll back: answer from it without remembering.
    if (!this.db.inTransaction) this.knownCodeSystems.set(key, new Set(systems));
    return systems;
  }

  /** Records the code systems of a written version (inside the commit); most are known already and cost nothing. */
  private addCodeSystems(resourceType: string, systems: IndexEntries['systems']): void {
    if (!systems) return;
    for (const { param, system } of systems) {
      const key = `${resourceType}\u0000${param}`;
      if (this.knownCodeSystems.get(key)?.has(system)) continue;
      if (this.stmt.insertCodeSystem.run(resourceType, param, system).changes > 0)
        this.knownCodeSystems.delete(key);
    }
  }

  getCurrent(resourceType: string, id: string): CurrentResource | undefined {
    const row = this.stmt.current.get(resourceType, id) as ResourceRow | undefined;
    return row ? toCurrent(row) : undefined;
  }

  getCurrentWithVersion(
    resourceType: string,
    id: string,
  ): { current: CurrentResource; version: StoredVersion } | undefined {
    const row = this.stmt.currentWithVersion.get(resourceType, id) as
      | (ResourceRow & {
          v_last_updated: number;
          v_deleted: number;
          v_key_id: string;
          payload: Buffer | null;
          content_hash: Buffer;
          record_id: number;
        })
      | undefined;
    if (!row) return undefined;
    return {
      current: toCurrent(row),
      version: toVersion({
        resource_type: row.resource_type,
        id: row.id,
        version: row.version,
        last_updated: row.v_last_updated,
        deleted: row.v_deleted,
        key_id: row.v_key_id,
        payload: row.payload,
        content_hash: row.content_hash,
        record_id: row.record_id,
      }),
    };
  }

  getVersion(resourceType: string, id: string, version: number): StoredVersion | undefined {
    const row = this.stmt.version.get(resourceType, id, version) as VersionRow | undefined;
    return row ? toVersion(row) : undefined;
  }

  getVersionByRecord(recordId: number): StoredVersion | undefined {
    const row = this.stmt.byRecord.get(recordId) as VersionRow | undefined;
    return row ? toVersion(row) : undefined;
  }

  history(resourceType: string, id: string | undefined, count: number, offset: number) {
    const rows = (
      id === undefined
        ? this.stmt.historyType.all(resourceType, count, offset)
        : this.stmt.historyOne.all(resourceType, id, count, offset)
    ) as VersionRow[];
    const total = (
      id === undefined
        ? this.stmt.historyTypeCount.get(resourceType)
        : this.stmt.historyOneCount.get(resourceType, id)
    ) as number;
    return { versions: rows.map(toVersion), total };
  }

  search(query: SearchQuery): { resources: CurrentResource[]; total: number } {
    const where: string[] = [
      'r.resource_type = ?',
      'r.deleted = 0',
      // Erased patients' resources are gone for search as for read.
      'NOT EXISTS (SELECT 1 FROM fhir_keys k WHERE k.key_id = r.key_id AND k.erased_at IS NOT NULL)',
    ];
    const params: unknown[] = [query.resourceType];
    if (query.ids) {
      where.push(`r.id IN (${query.ids.map(() => '?').join(', ') || 'NULL'})`);
      params.push(...query.ids);
    }
    // lastUpdated is a point in time: both ends of its "range" are the one column.
    for (const condition of query.lastUpdated) {
      where.push(comparisonsSql(dateConditionClauses(condition), () => 'r.last_updated', params));
    }
    // Each index condition is the set of ids its rows give: one primary-key range read per condition, which SQLite
    // keeps as a list (with a Bloom filter) and may drive the query from. Not a correlated EXISTS per candidate
    // resource: the search tables have no (type, id) index since migration 7, and the date table's primary key
    // cannot seek by id, so such an EXISTS would read every row of the parameter for each resource.
    for (const condition of query.tokenConditions) {
      where.push(
        `r.id IN (SELECT t.id FROM fhir_search_tokens t WHERE t.resource_type = ? AND t.param = ? AND t.token IN (${condition.anyOf.map(() => '?').join(', ') || 'NULL'}))`,
      );
      params.push(query.resourceType, condition.param, ...condition.anyOf.map(buf));
    }
    for (const condition of query.dateConditions) {
      params.push(query.resourceType, condition.param);
      const match = comparisonsSql(dateConditionClauses(condition), (column) => `d.${column}`, params);
      where.push(
        `r.id IN (SELECT d.id FROM fhir_search_dates d WHERE d.resource_type = ? AND d.param = ? AND ${match})`,
      );
    }
    const whereSql = where.join(' AND ');
    const total = this.db
      .prepare(`SELECT COUNT(*) FROM fhir_resources r WHERE ${whereSql}`)
      .pluck()
      .get(...params) as number;
    const rows = this.db
      .prepare(
        `SELECT ${RESOURCE_COLUMNS_R} FROM fhir_resources r WHERE ${whereSql} ORDER BY ${SORTS[query.sort]} LIMIT ? OFFSET ?`,
      )
      .all(...params, query.count, query.offset) as ResourceRow[];
    return { resources: rows.map(toCurrent), total };
  }

  getKey(keyId: string): DataKeyRow | undefined {
    const row = this.stmt.key.get(keyId) as
      | { key_id: string; wrapped_key: Buffer | null; created_at: number; erased_at: number | null }
      | undefined;
    if (!row) return undefined;
    return {
      keyId: row.key_id,
      wrappedKey: row.wrapped_key ? bytes(row.wrapped_key) : null,
      createdAt: row.created_at,
      erasedAt: row.erased_at,
    };
  }

  insertKeys(keys: { keyId: string; wrappedKey: Uint8Array; createdAt: number }[]): void {
    for (const k of keys) this.stmt.insertKey.run(k.keyId, buf(k.wrappedKey), k.createdAt);
  }

  writeVersions(writes: VersionWrite[]): void {
    const s = this.stmt;
    for (const { version: v, patientId, index } of writes) {
      s.insertVersion.run(
        v.resourceType,
        v.id,
        v.version,
        v.lastUpdated,
        v.deleted ? 1 : 0,
        v.keyId,
        v.payload ? buf(v.payload) : null,
        buf(v.contentHash),
        v.recordId,
      );
      // A first version has no index rows to replace, so a create is one upsert and its index inserts. A later
      // version reads the current row first: SQLite's RETURNING shows only the new row, and the old index_keys is
      // what says which rows to delete. (The row is the one the upsert then writes, so the read is a cached page.)
      let old: { version: number; index_keys: Buffer | null } | undefined;
      if (v.version > 1) {
        old = s.currentIndexKeys.get(v.resourceType, v.id) as typeof old;
        if (old && old.version >= v.version) continue; // an older version after a newer one: the index stays
      }
      const changed = s.upsertCurrent.run(
        v.resourceType,
        v.id,
        v.version,
        v.lastUpdated,
        v.deleted ? 1 : 0,
        patientId,
        v.keyId,
        index ? encodeIndexKeys(index) : EMPTY_INDEX_KEYS,
      );
      if (changed.changes === 0) continue; // (a first version after a later one)
      this.replaceIndexRows(v.resourceType, v.id, old ? old.index_keys : EMPTY_INDEX_KEYS, index);
    }
  }

  /**
   * Replaces the index rows of one resource, `before` (its stored index_keys) by `after`. Rows in both stay as they
   * are (an update mostly keeps its code and patient); the others are deleted or inserted by primary key.
   */
  private replaceIndexRows(
    resourceType: string,
    id: string,
    before: Buffer | null,
    after: IndexEntries | null,
  ): void {
    const s = this.stmt;
    let old: IndexEntries | null = null;
    if (before === null) this.deleteIndexRows(resourceType, id, null);
    else if (!before.equals(EMPTY_INDEX_KEYS)) old = decodeIndexKeys(before);
    if (after !== null) this.addCodeSystems(resourceType, after.systems);
    if (old === null) {
      if (after === null) return;
      for (const t of after.tokens) s.insertToken.run(resourceType, id, t.param, buf(t.token));
      for (const d of after.dates) s.insertDate.run(resourceType, id, d.param, d.low, d.high);
      return;
    }
    const oldTokens = new Map<string, IndexEntries['tokens'][number]>();
    for (const t of old.tokens) oldTokens.set(tokenKey(t.param, t.token), t);
    const oldDates = new Map<string, IndexEntries['dates'][number]>();
    for (const d of old.dates) oldDates.set(dateKey(d.param, d.low, d.high), d);
    const newTokens = (after?.tokens ?? []).filter((t) => !oldTokens.delete(tokenKey(t.param, t.token)));
    const newDates = (after?.dates ?? []).filter((d) => !oldDates.delete(dateKey(d.param, d.low, d.high)));
    for (const t of oldTokens.values()) s.deleteToken.run(resourceType, t.param, buf(t.token), id);
    for (const d of oldDates.values()) s.deleteDate.run(resourceType, d.param, d.low, d.high, id);
    // OR IGNORE: a resource may carry the same token or date twice (e.g. a repeated coding); one row serves.
    for (const t of newTokens) s.insertToken.run(resourceType, id, t.param, buf(t.token));
    for (const d of newDates) s.insertDate.run(resourceType, id, d.param, d.low, d.high);
  }

  /**
   * Deletes the index rows `indexKeys` lists, by primary key. A NULL index_keys cannot come from this code (every
   * write sets it and migration 7 filled it for every older row), but if a row were written otherwise, deleting
   * whatever rows the resource has is still correct, only slow: with the owner indexes gone it scans the type's rows.
   */
  private deleteIndexRows(resourceType: string, id: string, indexKeys: Buffer | null): void {
    const s = this.stmt;
    if (indexKeys === null) {
      s.deleteTokensScan.run(resourceType, id);
      s.deleteDatesScan.run(resourceType, id);
      return;
    }
    const old = decodeIndexKeys(indexKeys);
    for (const t of old.tokens) s.deleteToken.run(resourceType, t.param, buf(t.token), id);
    for (const d of old.dates) s.deleteDate.run(resourceType, d.param, d.low, d.high, id);
  }

  private resourcesOfPatientKey(patientId: string, keyId: string): IndexedResourceRow[] {
    const rows = this.stmt.patientOfKey.all(patientId, keyId) as IndexedResourceRow[];
    const token = buf(patientReferenceToken(patientId));
    for (
      let type = this.stmt.nextResourceType.get('') as string | undefined;
      type !== undefined;
      type = this.stmt.nextResourceType.get(type) as string | undefined
    ) {
      rows.push(...(this.stmt.resourcesOfPatientToken.all(type, token, keyId) as IndexedResourceRow[]));
    }
    return rows;
  }

  eraseKey(keyId: string, at: number): number {
    return this.db.transaction(() => {
      this.stmt.eraseKey.run(at, keyId);
      const resources = keyId.startsWith(PATIENT_KEY_PREFIX)
        ? this.resourcesOfPatientKey(keyId.slice(PATIENT_KEY_PREFIX.length), keyId)
        : (this.stmt.resourcesOfKey.all(keyId) as IndexedResourceRow[]);
      for (const r of resources) {
        this.deleteIndexRows(r.resource_type, r.id, r.index_keys);
        // The entries are gone from the index, so from index_keys too (they are the same clear codes and tokens).
        this.stmt.clearIndexKeys.run(EMPTY_INDEX_KEYS, r.resource_type, r.id, EMPTY_INDEX_KEYS);
      }
      return resources.length;
    })();
  }

  *iterateVersions(): Iterable<StoredVersion> {
    for (const row of this.stmt.allVersions.iterate() as Iterable<VersionRow>) yield toVersion(row);
  }
}

/** Identity of an index entry within one resource: the parameter length-prefixed, a token as latin1 (byte = char). */
const tokenKey = (param: string, token: Uint8Array): string =>
  `${param.length}:${param}${buf(token).toString('latin1')}`;
const dateKey = (param: string, low: number, high: number): string =>
  `${param.length}:${param}${low}/${high}`;

/** An OR of ANDs of comparisons as SQL, binding the values in order. */
function comparisonsSql(
  clauses: DateComparison[][],
  column: (c: DateComparison['column']) => string,
  params: unknown[],
): string {
  if (clauses.length === 0) return '0';
  return `(${clauses
    .map((all) => {
      const parts = all.map((c) => {
        params.push(c.value);
        return `${column(c.column)} ${c.op} ?`;
      });
      return `(${parts.join(' AND ') || '1'})`;
    })
    .join(' OR ')})`;
}
