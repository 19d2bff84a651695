import type { T3Row, T3Store } from '../../supply-chain/dscsa/ports.js';
import type { SqliteDatabase } from './openDatabase.js';

interface Row {
  record_id: number;
  id: string;
  direction: 'sent' | 'received';
  seller: `0x${string}`;
  buyer: `0x${string}`;
  transaction_date: number;
  document_hash: string;
  signed: string;
  delivered_at: number | null;
}

/** DSCSA T3s on SQLite (the node's one database: a T3 commits with its anchoring record). */
export class SqliteT3Store implements T3Store {
  private readonly stmt;

  constructor(db: SqliteDatabase) {
    this.stmt = {
      insert: db.prepare(
        `INSERT INTO supply_t3 (record_id, id, direction, seller, buyer, transaction_date, document_hash, signed, delivered_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      insertPack: db.prepare(`INSERT OR IGNORE INTO supply_t3_packs (gtin, serial, t3_id) VALUES (?, ?, ?)`),
      get: db.prepare(`SELECT * FROM supply_t3 WHERE id = ?`),
      packsOf: db.prepare(`SELECT gtin, serial FROM supply_t3_packs WHERE t3_id = ? ORDER BY gtin, serial`),
      forPack: db.prepare(
        `SELECT t.* FROM supply_t3 t JOIN supply_t3_packs p ON p.t3_id = t.id
         WHERE p.gtin = ? AND p.serial = ? ORDER BY t.transaction_date, t.record_id`,
      ),
      delivered: db.prepare(`UPDATE supply_t3 SET delivered_at = ? WHERE id = ? AND delivered_at IS NULL`),
      undelivered: db.prepare(
        `SELECT * FROM supply_t3 WHERE direction = 'sent' AND delivered_at IS NULL ORDER BY record_id`,
      ),
    };
  }

  private toRow(r: Row): T3Row & { recordId: number } {
    return {
      recordId: r.record_id,
      id: r.id,
      direction: r.direction,
      seller: r.seller,
      buyer: r.buyer,
      transactionDate: r.transaction_date,
      documentHash: r.document_hash,
      signed: r.signed,
      deliveredAt: r.delivered_at,
      packs: this.stmt.packsOf.all(r.id) as { gtin: string; serial: string }[],
    };
  }

  insert(row: T3Row & { recordId: number }): void {
    this.stmt.insert.run(
      row.recordId,
      row.id,
      row.direction,
      row.seller.toLowerCase(),
      row.buyer.toLowerCase(),
      row.transactionDate,
      row.documentHash,
      row.signed,
      row.deliveredAt,
    );
    for (const p of row.packs) this.stmt.insertPack.run(p.gtin, p.serial, row.id);
  }

  get(id: string) {
    const r = this.stmt.get.get(id) as Row | undefined;
    return r ? this.toRow(r) : undefined;
  }

  forPack(gtin: string, serial: string) {
    return (this.stmt.forPack.all(gtin, serial) as Row[]).map((r) => this.toRow(r));
  }

  markDelivered(id: string, at: number): void {
    this.stmt.delivered.run(at, id);
  }

  undelivered() {
    return (this.stmt.undelivered.all() as Row[]).map((r) => this.toRow(r));
  }
}
