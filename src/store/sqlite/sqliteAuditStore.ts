import type { AuditRow, AuditStore } from '../../audit/ports.js';
import type { SqliteDatabase } from './openDatabase.js';
import { buf, bytes } from './bytes.js';

interface Row {
  record_id: number;
  id: string;
  at: number;
  patient_token: Buffer | null;
  payload: Buffer;
}

const toRow = (r: Row): AuditRow => ({
  recordId: r.record_id,
  id: r.id,
  at: r.at,
  patientToken: r.patient_token ? bytes(r.patient_token) : null,
  payload: bytes(r.payload),
});

/** The access audit trail on SQLite: the node's one database, so entries commit with their anchoring records. */
export class SqliteAuditStore implements AuditStore {
  private readonly stmt;

  constructor(db: SqliteDatabase) {
    this.stmt = {
      insert: db.prepare(
        `INSERT INTO audit_events (record_id, id, at, patient_token, payload) VALUES (?, ?, ?, ?, ?)`,
      ),
      search: db.prepare(
        `SELECT * FROM audit_events WHERE patient_token = ? ORDER BY at DESC, record_id DESC LIMIT ? OFFSET ?`,
      ),
      count: db.prepare(`SELECT COUNT(*) FROM audit_events WHERE patient_token = ?`).pluck(),
      get: db.prepare(`SELECT * FROM audit_events WHERE id = ?`),
      byRecord: db.prepare(`SELECT * FROM audit_events WHERE record_id = ?`),
    };
  }

  insert(rows: readonly AuditRow[]): void {
    for (const r of rows) {
      this.stmt.insert.run(
        r.recordId,
        r.id,
        r.at,
        r.patientToken ? buf(r.patientToken) : null,
        buf(r.payload),
      );
    }
  }

  search(patientToken: Uint8Array, count: number, offset: number): AuditRow[] {
    return (this.stmt.search.all(buf(patientToken), count, offset) as Row[]).map(toRow);
  }

  count(patientToken: Uint8Array): number {
    return this.stmt.count.get(buf(patientToken)) as number;
  }

  get(id: string): AuditRow | undefined {
    const row = this.stmt.get.get(id) as Row | undefined;
    return row ? toRow(row) : undefined;
  }

  getByRecord(recordId: number): AuditRow | undefined {
    const row = this.stmt.byRecord.get(recordId) as Row | undefined;
    return row ? toRow(row) : undefined;
  }
}
