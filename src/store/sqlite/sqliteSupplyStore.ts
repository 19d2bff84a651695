import type { PackRecord, PackStore } from '../../supply-chain/custody/ports.js';
import type { SqliteDatabase } from './openDatabase.js';

interface PackRow {
  gtin: string;
  serial: string;
  lot: string;
  expiry: string | null;
  origin: PackRecord['origin'];
}

const toPack = (r: PackRow): PackRecord => ({ ...r });

/** The packs a gateway knows, on SQLite (the node's one database: they commit with the events that brought them). */
export class SqliteSupplyStore implements PackStore {
  private readonly stmt;

  constructor(db: SqliteDatabase) {
    this.stmt = {
      insert: db.prepare(
        `INSERT OR IGNORE INTO supply_packs (gtin, serial, lot, expiry, origin) VALUES (?, ?, ?, ?, ?)`,
      ),
      ofLot: db.prepare(
        `SELECT gtin, serial, lot, expiry, origin FROM supply_packs
         WHERE gtin = ? AND lot = ? AND origin = 'commissioned' ORDER BY rowid`,
      ),
      allOfLot: db.prepare(
        `SELECT gtin, serial, lot, expiry, origin FROM supply_packs WHERE gtin = ? AND lot = ? ORDER BY rowid`,
      ),
      countOfLot: db.prepare(`SELECT COUNT(*) FROM supply_packs WHERE gtin = ? AND lot = ?`).pluck(),
      pack: db.prepare(
        `SELECT gtin, serial, lot, expiry, origin FROM supply_packs WHERE gtin = ? AND serial = ?`,
      ),
    };
  }

  recordPacks(packs: readonly PackRecord[]): void {
    for (const p of packs) this.stmt.insert.run(p.gtin, p.serial, p.lot, p.expiry, p.origin);
  }

  commissionedSerials(gtin: string, lot: string): PackRecord[] {
    return (this.stmt.ofLot.all(gtin, lot) as PackRow[]).map(toPack);
  }

  packsOfLot(gtin: string, lot: string): PackRecord[] {
    return (this.stmt.allOfLot.all(gtin, lot) as PackRow[]).map(toPack);
  }

  countOfLot(gtin: string, lot: string): number {
    return this.stmt.countOfLot.get(gtin, lot) as number;
  }

  pack(gtin: string, serial: string): PackRecord | undefined {
    const row = this.stmt.pack.get(gtin, serial) as PackRow | undefined;
    return row ? toPack(row) : undefined;
  }
}
