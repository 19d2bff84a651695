import type {
  ReportDeliveryRow,
  ReportRecipientRole,
  StoredReport,
  SuspectAction,
  SuspectStore,
} from '../../supply-chain/suspect/ports.js';
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
  signature: `0x${string}` | null;
  received_from: `0x${string}` | null;
  received_from_name: string | null;
}

interface DeliveryRow {
  report_id: string;
  recipient: `0x${string}`;
  recipient_as: string;
  delivered_at: number | null;
  last_error: string | null;
}

const toDelivery = (r: DeliveryRow): ReportDeliveryRow => ({
  reportId: r.report_id,
  recipient: r.recipient,
  as: r.recipient_as.split(',') as ReportRecipientRole[],
  deliveredAt: r.delivered_at,
  lastError: r.last_error,
});

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
  signature: r.signature,
  receivedFrom: r.received_from,
  receivedFromName: r.received_from_name,
});

const REPORT_COLUMNS = `id, record_id, created_at, gtin, lot, hash, document, transaction_hash, block_number, signature,
  received_from, received_from_name`;
const DELIVERY_COLUMNS = `report_id, recipient, recipient_as, delivered_at, last_error`;

/** Quarantines, investigations, illegitimate-product notification reports and their deliveries, on SQLite. */
export class SqliteSupplySuspectStore implements SuspectStore {
  private readonly stmt;

  constructor(db: SqliteDatabase) {
    this.stmt = {
      action: db.prepare(
        `INSERT INTO supply_suspect_actions
           (action, gtin, lot, serials, outcome, text, text_hash, report_id, transaction_hash, block_number, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      report: db.prepare(
        `INSERT INTO supply_reports (${REPORT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      delivery: db.prepare(
        `INSERT INTO supply_report_deliveries (report_id, recipient, position, recipient_as) VALUES (?, ?, ?, ?)`,
      ),
      deliveries: db.prepare(
        `SELECT ${DELIVERY_COLUMNS} FROM supply_report_deliveries WHERE report_id = ? ORDER BY position`,
      ),
      pending: db.prepare(
        `SELECT ${DELIVERY_COLUMNS} FROM supply_report_deliveries INDEXED BY supply_report_deliveries_pending
         WHERE delivered_at IS NULL ORDER BY report_id, position`,
      ),
      delivered: db.prepare(
        `UPDATE supply_report_deliveries SET delivered_at = ?, last_error = NULL
         WHERE report_id = ? AND recipient = ? AND delivered_at IS NULL`,
      ),
      failed: db.prepare(
        `UPDATE supply_report_deliveries SET last_error = ? WHERE report_id = ? AND recipient = ? AND delivered_at IS NULL`,
      ),
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

  insertReport(r: StoredReport, deliveries: readonly ReportDeliveryRow[] = []): void {
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
      r.signature,
      r.receivedFrom?.toLowerCase() ?? null,
      r.receivedFromName,
    );
    deliveries.forEach((d, position) =>
      this.stmt.delivery.run(r.id, d.recipient.toLowerCase(), position, d.as.join(',')),
    );
  }

  deliveries(reportId: string): ReportDeliveryRow[] {
    return (this.stmt.deliveries.all(reportId) as DeliveryRow[]).map(toDelivery);
  }

  pendingDeliveries(): ReportDeliveryRow[] {
    return (this.stmt.pending.all() as DeliveryRow[]).map(toDelivery);
  }

  markDelivered(reportId: string, recipient: `0x${string}`, at: number): void {
    this.stmt.delivered.run(at, reportId, recipient.toLowerCase());
  }

  markDeliveryFailed(reportId: string, recipient: `0x${string}`, error: string): void {
    this.stmt.failed.run(error, reportId, recipient.toLowerCase());
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
