import type {
  CaptureJob,
  EpcRole,
  EpcisStore,
  EventQuery,
  EventRow,
  StoredEpcisEvent,
} from '../../supply-chain/capture/ports.js';
import type { Statement } from 'better-sqlite3';
import { epcisEventKey } from './epcisEventKey.js';
import type { SqliteDatabase } from './openDatabase.js';

interface EventSqlRow {
  record_id: number;
  event_id: string;
  event_type: string;
  event_time: number;
  record_time: number;
  biz_step: string | null;
  disposition: string | null;
  biz_location: string | null;
  read_point: string | null;
  capture_id: string;
  body: string;
}

const toEvent = (r: EventSqlRow): EventRow => ({
  recordId: r.record_id,
  eventId: r.event_id,
  eventType: r.event_type,
  eventTime: r.event_time,
  recordTime: r.record_time,
  bizStep: r.biz_step,
  disposition: r.disposition,
  bizLocation: r.biz_location,
  readPoint: r.read_point,
  captureId: r.capture_id,
  body: r.body,
});

/** SQLite's limit on bound parameters is far above this; chunks keep one statement's list short. */
const IN_CHUNK = 500;

/** Rows per multi-row INSERT at most (12 and 3 parameters a row). */
const EVENTS_PER_INSERT = 32;
const IDENTIFIERS_PER_INSERT = 64;

/** Distinct query shapes whose prepared statements are kept (queries differ only in their lists' lengths). */
const MAX_CACHED_STATEMENTS = 256;

/** The EPCIS repository on SQLite: the node's one database, so events commit with their anchoring records. */
export class SqliteEpcisStore implements EpcisStore {
  private readonly db: SqliteDatabase;
  private readonly stmt;
  /** Multi-row INSERTs by their number of rows. */
  private readonly eventInserts: (Statement | undefined)[] = [];
  private readonly identifierInserts: (Statement | undefined)[] = [];
  /** Prepared statements by SQL text (queries, id lookups): preparing costs more than most of them take to run. */
  private readonly statements = new Map<string, Statement>();

  constructor(db: SqliteDatabase) {
    this.db = db;
    this.stmt = {
      insertCapture: db.prepare(
        `INSERT INTO epcis_captures (capture_id, created_at, finished_at, stored, duplicates, event_ids)
         VALUES (?, ?, ?, ?, ?, ?)`,
      ),
      getEvent: db.prepare(`SELECT * FROM epcis_events WHERE event_key = ? AND event_id = ?`),
      getCapture: db.prepare(`SELECT * FROM epcis_captures WHERE capture_id = ?`),
      hasIdentifier: db.prepare(`SELECT 1 FROM epcis_event_epcs WHERE epc = ? AND role = ? LIMIT 1`).pluck(),
    };
  }

  insertEvents(events: readonly StoredEpcisEvent[], job: CaptureJob): void {
    // Many rows per statement: each run of a statement costs about as much as the B-tree work of a row, and a
    // document brings a hundred events and ten times as many identifiers.
    let params: unknown[] = [];
    for (let i = 0; i < events.length; i += EVENTS_PER_INSERT) {
      const count = Math.min(EVENTS_PER_INSERT, events.length - i);
      params = [];
      for (let j = i; j < i + count; j++) {
        const e = events[j] as StoredEpcisEvent;
        params.push(
          e.recordId,
          epcisEventKey(e.eventId),
          e.eventId,
          e.eventType,
          e.eventTime,
          e.recordTime,
          e.bizStep,
          e.disposition,
          e.bizLocation,
          e.readPoint,
          e.captureId,
          e.body,
        );
      }
      this.insertEventRows(count).run(params);
    }
    params = [];
    for (const e of events) {
      for (const { epc, role } of e.epcs) {
        params.push(epc, role, e.recordId);
        if (params.length === 3 * IDENTIFIERS_PER_INSERT) {
          this.insertIdentifierRows(IDENTIFIERS_PER_INSERT).run(params);
          params = [];
        }
      }
    }
    if (params.length > 0) this.insertIdentifierRows(params.length / 3).run(params);
    this.stmt.insertCapture.run(
      job.captureId,
      job.createdAt,
      job.finishedAt,
      job.stored,
      job.duplicates,
      JSON.stringify(job.eventIds),
    );
  }

  /** The INSERT of `count` event rows (prepared once per count). */
  private insertEventRows(count: number): Statement {
    let statement = this.eventInserts[count];
    if (statement === undefined) {
      statement = this.db.prepare(
        `INSERT INTO epcis_events (record_id, event_key, event_id, event_type, event_time, record_time, biz_step,
           disposition, biz_location, read_point, capture_id, body)
         VALUES ${new Array<string>(count).fill('(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
      );
      this.eventInserts[count] = statement;
    }
    return statement;
  }

  /** The INSERT of `count` identifier rows (prepared once per count). */
  private insertIdentifierRows(count: number): Statement {
    let statement = this.identifierInserts[count];
    if (statement === undefined) {
      // OR IGNORE: an identifier listed twice in one role of one event is one row.
      statement = this.db.prepare(
        `INSERT OR IGNORE INTO epcis_event_epcs (epc, role, record_id)
         VALUES ${new Array<string>(count).fill('(?, ?, ?)').join(', ')}`,
      );
      this.identifierInserts[count] = statement;
    }
    return statement;
  }

  existingEventIds(eventIds: readonly string[]): Set<string> {
    const found = new Set<string>();
    if (eventIds.length === 0) return found;
    const asked = new Set(eventIds);
    const keys = [...new Set(eventIds.map(epcisEventKey))];
    for (let i = 0; i < keys.length; i += IN_CHUNK) {
      const chunk = keys.slice(i, i + IN_CHUNK);
      // Every id stored under these keys; an id that only shares a key with one asked for is not "found".
      const ids = this.prepared(
        `SELECT event_id FROM epcis_events WHERE event_key IN (${chunk.map(() => '?').join(', ')})`,
        true,
      ).all(...chunk) as string[];
      for (const id of ids) if (asked.has(id)) found.add(id);
    }
    return found;
  }

  hasIdentifier(epc: string, role: EpcRole): boolean {
    return this.stmt.hasIdentifier.get(epc, role) !== undefined;
  }

  getEvent(eventId: string): EventRow | undefined {
    const row = this.stmt.getEvent.get(epcisEventKey(eventId), eventId) as EventSqlRow | undefined;
    return row ? toEvent(row) : undefined;
  }

  query(q: EventQuery): EventRow[] {
    const where: string[] = ['e.record_id > ?'];
    const params: unknown[] = [q.afterRecordId];
    const anyOf = (column: string, values: readonly (string | number)[] | undefined) => {
      if (values === undefined) return;
      where.push(values.length === 0 ? '0' : `${column} IN (${values.map(() => '?').join(', ')})`);
      params.push(...values);
    };
    anyOf('e.event_type', q.eventTypes);
    anyOf('e.biz_step', q.bizSteps);
    anyOf('e.disposition', q.dispositions);
    anyOf('e.biz_location', q.bizLocations);
    anyOf('e.read_point', q.readPoints);
    if (q.eventIds !== undefined) {
      // Found by their keys (indexed), then told apart by the ids themselves.
      anyOf('e.event_key', [...new Set(q.eventIds.map(epcisEventKey))]);
      anyOf('e.event_id', q.eventIds);
    }
    const range = (column: string, from: number | undefined, before: number | undefined) => {
      if (from !== undefined) {
        where.push(`${column} >= ?`);
        params.push(from);
      }
      if (before !== undefined) {
        where.push(`${column} < ?`);
        params.push(before);
      }
    };
    range('e.event_time', q.eventTimeFrom, q.eventTimeBefore);
    range('e.record_time', q.recordTimeFrom, q.recordTimeBefore);
    for (const c of q.epcConditions) {
      const matches = [
        ...c.epcs.map(() => 'epc = ?'),
        // A class pattern: every identifier under a prefix, as a range on the primary key (no LIKE escaping).
        ...c.prefixes.map(() => '(epc >= ? AND epc < ?)'),
      ];
      if (matches.length === 0 || c.roles.length === 0) {
        where.push('0');
        continue;
      }
      where.push(
        `e.record_id IN (SELECT record_id FROM epcis_event_epcs WHERE (${matches.join(' OR ')}) AND role IN (${c.roles.map(() => '?').join(', ')}))`,
      );
      params.push(...c.epcs, ...c.prefixes.flatMap((p) => [p, `${p}\uffff`]), ...c.roles);
    }
    // The page size written into the SQL: SQLite runs a statement with a bound LIMIT an order of magnitude slower
    // (~15 µs instead of ~1 µs for a lookup finding nothing), and there are only a few page sizes.
    const literal = Number.isSafeInteger(q.limit) && q.limit >= 0;
    const sql = `SELECT e.* FROM epcis_events e WHERE ${where.join(' AND ')} ORDER BY e.record_id LIMIT ${literal ? String(q.limit) : '?'}`;
    const found = this.prepared(sql, false).all(...params, ...(literal ? [] : [q.limit])) as EventSqlRow[];
    return found.map(toEvent);
  }

  /** The prepared statement of `sql` (kept for the next query of the same shape); `pluck` for one-column reads. */
  private prepared(sql: string, pluck: boolean): Statement {
    const key = `${pluck ? 'p' : 'r'}${sql}`;
    let statement = this.statements.get(key);
    if (statement === undefined) {
      statement = this.db.prepare(sql);
      if (pluck) statement.pluck();
      if (this.statements.size >= MAX_CACHED_STATEMENTS) this.statements.clear();
      this.statements.set(key, statement);
    }
    return statement;
  }

  getCapture(captureId: string): CaptureJob | undefined {
    const row = this.stmt.getCapture.get(captureId) as
      | {
          capture_id: string;
          created_at: number;
          finished_at: number;
          stored: number;
          duplicates: number;
          event_ids: string;
        }
      | undefined;
    if (!row) return undefined;
    return {
      captureId: row.capture_id,
      createdAt: row.created_at,
      finishedAt: row.finished_at,
      stored: row.stored,
      duplicates: row.duplicates,
      eventIds: JSON.parse(row.event_ids) as string[],
    };
  }
}
