import type { StoredReport, SuspectAction, SuspectStore } from '../../supply-chain/suspect/ports.js';
import type { SqliteDatabase } from './openDatabase.js';

interface ReportRow {
  id: string;
  record_id: number;
  created_at: number;
  gtin: string;
  lot: string;
  hash: `0x${string}`;
  document: string;
  transaction_hash: `0x${string}`;
  block_number: number;
}

const toReport = (r: ReportRow): StoredReport => ({
  id: r.id,
  recordId: r.record_id,
  createdAt: r.created_at,
  gtin: r.gtin,
  lot: r.lot,
  hash: r.hash,
  document: r.document,
  transactionHash: r.transaction_hash,
  blockNumber: r.block_number,
});

const REPORT_COLUMNS = `id, record_id, created_at, gtin, lot, hash, document, transaction_hash, block_number`;

/** Quarantines, investigations and illegitimate-product notification reports, on SQLite. */
export class SqliteSupplySuspectStore implements SuspectStore {
  private readonly stmt;

  constructor(db: SqliteDatabase) {
    this.stmt = {
      action: db.prepare(
        `INSERT INTO supply_suspect_actions
           (action, gtin, lot, serials, outcome, text, text_hash, report_id, transaction_hash, block_number, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      report: db.prepare(`INSERT INTO supply_reports (${REPORT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      first: db.prepare(
        `SELECT ${REPORT_COLUMNS} FROM supply_reports ORDER BY created_at DESC, id DESC LIMIT ?`,
      ),
      after: db.prepare(
        `SELECT ${REPORT_COLUMNS} FROM supply_reports WHERE (created_at, id) < (?, ?)
         ORDER BY created_at DESC, id DESC LIMIT ?`,
      ),
      get: db.prepare(`SELECT ${REPORT_COLUMNS} FROM supply_reports WHERE id = ?`),
    };
  }

  recordAction(a: SuspectAction): void {
    this.stmt.action.run(
      a.action,
      a.gtin,
      a.lot,
      a.serials === null ? null : JSON.stringify(a.serials),
      a.outcome,
      a.text,
      a.textHash,
      a.reportId,
      a.transactionHash,
      a.blockNumber,
      a.createdAt,
    );
  }

  insertReport(r: StoredReport): void {
    this.stmt.report.run(
      r.id,
      r.recordId,
      r.createdAt,
      r.gtin,
      r.lot,
      r.hash,
      r.document,
      r.transactionHash,
      r.blockNumber,
    );
  }

  reports(page: { limit: number; before?: { createdAt: number; id: string } | undefined }): StoredReport[] {
    const rows = page.before
      ? this.stmt.after.all(page.before.createdAt, page.before.id, page.limit)
      : this.stmt.first.all(page.limit);
    return (rows as ReportRow[]).map(toReport);
  }

  report(id: string): StoredReport | undefined {
    const row = this.stmt.get.get(id) as ReportRow | undefined;
    return row ? toReport(row) : undefined;
  }
}
