import { getAddress } from 'viem';
import type { Hex } from '../../core/hex.js';
import type {
  MirrorCursor,
  MirroredLot,
  MirroredPack,
  MirroredPackState,
  MirroredProduct,
  SupplyChainMirrorState,
  SupplyChainMirrorStore,
} from '../../supply-chain/verification/ports.js';
import type { SqliteDatabase } from './openDatabase.js';

const PACK_STATES: readonly MirroredPackState[] = ['active', 'dispensed', 'decommissioned', 'destroyed'];

/** Hex → BLOB (ids, hashes and addresses are kept as bytes: a pack row is about 90 bytes, not 170). */
const blob = (value: Hex): Buffer => Buffer.from(value.slice(2), 'hex');
const hashOf = (b: Buffer) => `0x${b.toString('hex')}` as Hex;
const addressOf = (b: Buffer) => getAddress(`0x${b.toString('hex')}`) as Hex;

interface ProductRow {
  manufacturer: Buffer;
  registered_at: number;
  lot_count: number;
  metadata_hash: Buffer;
}
interface LotRow {
  gtin: string;
  manufacturer: Buffer;
  serials_root: Buffer;
  pack_count: number;
  expiry: number;
  commissioned_at: number;
  recalled: number;
  recalled_at: number;
  suspect: number;
  illegitimate: number;
  quarantined_by: Buffer;
}
interface PackRow {
  owner: Buffer;
  state: number;
  suspect: number;
  illegitimate: number;
  last_transfer_at: number;
}

/**
 * The SupplyChainRegistry mirror on SQLite: one registry at a time (its row in `supply_mirror_registries` holds the
 * cursor; its products, lots and packs are keyed by that row's id), updated with its cursor in one transaction.
 */
export class SqliteSupplyChainMirrorStore implements SupplyChainMirrorStore {
  private readonly stmt;
  private readonly restartAll;
  private readonly applyAll;
  /** Registry row ids by lower-case contract address. */
  private readonly ids = new Map<string, number>();

  constructor(db: SqliteDatabase) {
    this.stmt = {
      registry: db.prepare(`SELECT id, block, block_hash FROM supply_mirror_registries WHERE contract = ?`),
      insertRegistry: db.prepare(
        `INSERT INTO supply_mirror_registries (contract, block, block_hash) VALUES (?, ?, ?)`,
      ),
      setCursor: db.prepare(`UPDATE supply_mirror_registries SET block = ?, block_hash = ? WHERE id = ?`),
      forget: [
        db.prepare(`DELETE FROM supply_mirror_packs`),
        db.prepare(`DELETE FROM supply_mirror_lots`),
        db.prepare(`DELETE FROM supply_mirror_products`),
        db.prepare(`DELETE FROM supply_mirror_registries`),
      ],
      product: db.prepare(
        `SELECT manufacturer, registered_at, lot_count, metadata_hash FROM supply_mirror_products
         WHERE registry = ? AND gtin = ?`,
      ),
      setProduct: db.prepare(
        `INSERT OR REPLACE INTO supply_mirror_products
         (registry, gtin, manufacturer, registered_at, lot_count, metadata_hash) VALUES (?, ?, ?, ?, ?, ?)`,
      ),
      lot: db.prepare(
        `SELECT gtin, manufacturer, serials_root, pack_count, expiry, commissioned_at, recalled, recalled_at,
                suspect, illegitimate, quarantined_by
         FROM supply_mirror_lots WHERE registry = ? AND lot_id = ?`,
      ),
      setLot: db.prepare(
        `INSERT OR REPLACE INTO supply_mirror_lots
         (registry, lot_id, gtin, manufacturer, serials_root, pack_count, expiry, commissioned_at, recalled,
          recalled_at, suspect, illegitimate, quarantined_by)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      pack: db.prepare(
        `SELECT owner, state, suspect, illegitimate, last_transfer_at FROM supply_mirror_packs
         WHERE registry = ? AND lot_id = ? AND pack_id = ?`,
      ),
      setPack: db.prepare(
        `INSERT OR REPLACE INTO supply_mirror_packs
         (registry, lot_id, pack_id, owner, state, suspect, illegitimate, last_transfer_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
    };
    this.restartAll = db.transaction((contract: string, cursor: MirrorCursor) => {
      for (const statement of this.stmt.forget) statement.run();
      this.ids.clear();
      const id = Number(
        this.stmt.insertRegistry.run(contract, cursor.block, cursor.blockHash).lastInsertRowid,
      );
      this.ids.set(contract, id);
    });
    this.applyAll = db.transaction(
      (id: number, to: MirrorCursor, update: (state: SupplyChainMirrorState) => void) => {
        update(this.stateOf(id));
        this.stmt.setCursor.run(to.block, to.blockHash, id);
      },
    );
  }

  cursor(contract: Hex): MirrorCursor | undefined {
    const row = this.stmt.registry.get(contract.toLowerCase()) as
      { id: number; block: number; block_hash: string | null } | undefined;
    if (!row) return undefined;
    this.ids.set(contract.toLowerCase(), row.id);
    return { block: row.block, blockHash: row.block_hash as Hex | null };
  }

  restart(contract: Hex, cursor: MirrorCursor): void {
    this.restartAll(contract.toLowerCase(), cursor);
  }

  apply(contract: Hex, to: MirrorCursor, update: (state: SupplyChainMirrorState) => void): void {
    this.applyAll(this.idOf(contract), to, update);
  }

  state(contract: Hex): SupplyChainMirrorState {
    return this.stateOf(this.idOf(contract));
  }

  private idOf(contract: Hex): number {
    const key = contract.toLowerCase();
    if (!this.ids.has(key)) this.cursor(contract); // remembers the row's id
    const id = this.ids.get(key);
    if (id === undefined) throw new Error(`the mirror of ${contract} was never started`); // a bug on this side
    return id;
  }

  private stateOf(id: number): SupplyChainMirrorState {
    const { stmt } = this;
    return {
      product(gtin): MirroredProduct | undefined {
        const r = stmt.product.get(id, gtin) as ProductRow | undefined;
        return r
          ? {
              manufacturer: addressOf(r.manufacturer),
              registeredAt: r.registered_at,
              lotCount: r.lot_count,
              metadataHash: hashOf(r.metadata_hash),
            }
          : undefined;
      },
      lot(lotId): MirroredLot | undefined {
        const r = stmt.lot.get(id, blob(lotId)) as LotRow | undefined;
        return r
          ? {
              gtin: r.gtin,
              manufacturer: addressOf(r.manufacturer),
              serialsRoot: hashOf(r.serials_root),
              packCount: r.pack_count,
              expiry: r.expiry,
              commissionedAt: r.commissioned_at,
              recalled: r.recalled === 1,
              recalledAt: r.recalled_at,
              suspect: r.suspect === 1,
              illegitimate: r.illegitimate === 1,
              quarantinedBy: addressOf(r.quarantined_by),
            }
          : undefined;
      },
      pack(lotId, packId): MirroredPack | undefined {
        const r = stmt.pack.get(id, blob(lotId), blob(packId)) as PackRow | undefined;
        return r
          ? {
              owner: addressOf(r.owner),
              state: PACK_STATES[r.state] ?? 'active',
              suspect: r.suspect === 1,
              illegitimate: r.illegitimate === 1,
              lastTransferAt: r.last_transfer_at,
            }
          : undefined;
      },
      setProduct(gtin, p) {
        stmt.setProduct.run(id, gtin, blob(p.manufacturer), p.registeredAt, p.lotCount, blob(p.metadataHash));
      },
      setLot(lotId, l) {
        stmt.setLot.run(
          id,
          blob(lotId),
          l.gtin,
          blob(l.manufacturer),
          blob(l.serialsRoot),
          l.packCount,
          l.expiry,
          l.commissionedAt,
          l.recalled ? 1 : 0,
          l.recalledAt,
          l.suspect ? 1 : 0,
          l.illegitimate ? 1 : 0,
          blob(l.quarantinedBy),
        );
      },
      setPack(lotId, packId, p) {
        stmt.setPack.run(
          id,
          blob(lotId),
          blob(packId),
          blob(p.owner),
          PACK_STATES.indexOf(p.state),
          p.suspect ? 1 : 0,
          p.illegitimate ? 1 : 0,
          p.lastTransferAt,
        );
      },
    };
  }
}
