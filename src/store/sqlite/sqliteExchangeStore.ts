import type { Hex } from '../../core/hex.js';
import type { ExchangeStore, ReceiptRow, ReceivedCopyRow } from '../../exchange/ports.js';
import type { SqliteDatabase } from './openDatabase.js';
import { buf, bytes } from './bytes.js';

interface ReceiptSqlRow {
  record_id: number;
  id: string;
  received_at: number;
  patient_id: string;
  source: string;
  key_id: string;
  payload: Buffer;
}

interface CopySqlRow {
  source: string;
  resource_type: string;
  id: string;
  version: number;
  patient_id: string;
  receipt_id: string;
  received_at: number;
  content_hash: Buffer;
  proof: string;
  key_id: string;
  payload: Buffer;
}

const toReceipt = (r: ReceiptSqlRow): ReceiptRow => ({
  recordId: r.record_id,
  id: r.id,
  receivedAt: r.received_at,
  patientId: r.patient_id,
  source: r.source as Hex,
  keyId: r.key_id,
  payload: bytes(r.payload),
});

const toCopy = (r: CopySqlRow): ReceivedCopyRow => ({
  source: r.source as Hex,
  resourceType: r.resource_type,
  id: r.id,
  version: r.version,
  patientId: r.patient_id,
  receiptId: r.receipt_id,
  receivedAt: r.received_at,
  contentHash: bytes(r.content_hash),
  proof: r.proof,
  keyId: r.key_id,
  payload: bytes(r.payload),
});

/** What this gateway received from other gateways, on SQLite: rows commit with their Provenance's anchoring record. */
export class SqliteExchangeStore implements ExchangeStore {
  private readonly stmt;

  constructor(db: SqliteDatabase) {
    this.stmt = {
      insertReceipt: db.prepare(
        `INSERT INTO exchange_receipts (record_id, id, received_at, patient_id, source, key_id, payload)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ),
      // A version received again is already kept, with the receipt that first brought it.
      insertCopy: db.prepare(
        `INSERT OR IGNORE INTO exchange_copies
           (source, resource_type, id, version, patient_id, receipt_id, received_at, content_hash, proof, key_id, payload)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      receipts: db.prepare(
        `SELECT * FROM exchange_receipts WHERE patient_id = ? ORDER BY received_at DESC, record_id DESC LIMIT ? OFFSET ?`,
      ),
      countReceipts: db.prepare(`SELECT COUNT(*) FROM exchange_receipts WHERE patient_id = ?`).pluck(),
      getReceipt: db.prepare(`SELECT * FROM exchange_receipts WHERE id = ?`),
      byRecord: db.prepare(`SELECT * FROM exchange_receipts WHERE record_id = ?`),
      hasCopy: db
        .prepare(
          `SELECT 1 FROM exchange_copies WHERE source = ? AND resource_type = ? AND id = ? AND version = ?`,
        )
        .pluck(),
      copies: db.prepare(
        `SELECT * FROM exchange_copies WHERE patient_id = ? ORDER BY received_at, source, resource_type, id, version`,
      ),
    };
  }

  insertReceipt(receipt: ReceiptRow, copies: readonly ReceivedCopyRow[]): void {
    const r = receipt;
    this.stmt.insertReceipt.run(
      r.recordId,
      r.id,
      r.receivedAt,
      r.patientId,
      r.source.toLowerCase(),
      r.keyId,
      buf(r.payload),
    );
    for (const c of copies) {
      this.stmt.insertCopy.run(
        c.source.toLowerCase(),
        c.resourceType,
        c.id,
        c.version,
        c.patientId,
        c.receiptId,
        c.receivedAt,
        buf(c.contentHash),
        c.proof,
        c.keyId,
        buf(c.payload),
      );
    }
  }

  receipts(patientId: string, count: number, offset: number): ReceiptRow[] {
    return (this.stmt.receipts.all(patientId, count, offset) as ReceiptSqlRow[]).map(toReceipt);
  }

  countReceipts(patientId: string): number {
    return this.stmt.countReceipts.get(patientId) as number;
  }

  getReceipt(id: string): ReceiptRow | undefined {
    const row = this.stmt.getReceipt.get(id) as ReceiptSqlRow | undefined;
    return row ? toReceipt(row) : undefined;
  }

  getReceiptByRecord(recordId: number): ReceiptRow | undefined {
    const row = this.stmt.byRecord.get(recordId) as ReceiptSqlRow | undefined;
    return row ? toReceipt(row) : undefined;
  }

  hasCopy(source: Hex, resourceType: string, id: string, version: number): boolean {
    return this.stmt.hasCopy.get(source.toLowerCase(), resourceType, id, version) !== undefined;
  }

  copies(patientId: string): ReceivedCopyRow[] {
    return (this.stmt.copies.all(patientId) as CopySqlRow[]).map(toCopy);
  }
}
