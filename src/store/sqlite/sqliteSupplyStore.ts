import type { PackRecord, PackStore } from '../../supply-chain/custody/ports.js';
import type { Statement } from 'better-sqlite3';
import type { SqliteDatabase } from './openDatabase.js';

/** Rows per multi-row INSERT at most (5 parameters a row). */
const PACKS_PER_INSERT = 64;

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
  private readonly db: SqliteDatabase;
  private readonly stmt;
  /** Multi-row INSERTs by their number of rows. */
  private readonly inserts: (Statement | undefined)[] = [];

  constructor(db: SqliteDatabase) {
    this.db = db;
    this.stmt = {
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
    // Many rows per statement (a commissioning event brings tens of packs): one run costs about a row's B-tree work.
    let params: unknown[] = [];
    for (const p of packs) {
      params.push(p.gtin, p.serial, p.lot, p.expiry, p.origin);
      if (params.length === 5 * PACKS_PER_INSERT) {
        this.insertRows(PACKS_PER_INSERT).run(params);
        params = [];
      }
    }
    if (params.length > 0) this.insertRows(params.length / 5).run(params);
  }

  /** The INSERT of `count` pack rows (prepared once per count); a pack known already keeps its first record. */
  private insertRows(count: number): Statement {
    let statement = this.inserts[count];
    if (statement === undefined) {
      statement = this.db.prepare(
        `INSERT OR IGNORE INTO supply_packs (gtin, serial, lot, expiry, origin)
         VALUES ${new Array<string>(count).fill('(?, ?, ?, ?, ?)').join(', ')}`,
      );
      this.inserts[count] = statement;
    }
    return statement;
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
