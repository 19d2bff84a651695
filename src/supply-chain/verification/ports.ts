import type { Hex } from '../../core/hex.js';
import type { ChainLot, ChainPack } from './productVerification.js';

/**
 * Ports of the local mirror of the SupplyChainRegistry's lot and pack state, so a verification reads no chain. The
 * mirror is kept current from the registry's events by an adapter (`src/ledger/supplyChainMirror.ts`) and stored
 * behind {@link SupplyChainMirrorStore} (`src/store/sqlite/sqliteSupplyChainMirrorStore.ts`).
 */

/** The registry's state at one block, by natural keys: what its `productOf`, `lotOf` and `packStatus` answer there. */
export interface SupplyChainView {
  /** The block this view reflects: every registry event up to and including it is applied. */
  asOfBlock: number;
  /** The product's manufacturer, or null for a GTIN no manufacturer registered. */
  manufacturerOf(gtin: string): Hex | null;
  /** The lot, or null if its manufacturer never commissioned it. */
  lot(gtin: string, lot: string): ChainLot | null;
  /** The pack; not recorded (owned by the lot's manufacturer, or the zero address for an unknown lot) until written. */
  pack(gtin: string, lot: string, serial: string): ChainPack;
  /**
   * Whether `serial` is in the lot, shown by the serials known here: true or false when their Merkle root is the
   * lot's root on chain, null when it is not (or the lot is unknown): nothing can be said. `known` is read only
   * when needed (a lot's serials, once they match its root, are all there is to know).
   */
  inLot(
    gtin: string,
    lot: string,
    known: { count: () => number; serials: () => readonly string[] },
    serial: string,
  ): boolean | null;
}

/** The mirror as verification sees it. */
export interface SupplyChainState {
  /**
   * A view of the mirror when it is current — its last poll succeeded recently, it has applied every block this
   * gateway's own writes were mined in and every head the chain announced — else null, and the caller reads the
   * chain. May wait briefly for a catch-up already under way.
   */
  current(): Promise<SupplyChainView | null>;
}

/** Life-cycle state of a pack, as the contract's `PackState` (by name). */
export type MirroredPackState = ChainPack['state'];

/** A registered product (the contract's `Product`). Addresses are checksummed, hashes lower-case hex. */
export interface MirroredProduct {
  manufacturer: Hex;
  /** UNIX seconds of the registration's block. */
  registeredAt: number;
  lotCount: number;
  metadataHash: Hex;
}

/** A commissioned lot (the contract's `Lot`). */
export interface MirroredLot {
  /** 14 digits. */
  gtin: string;
  manufacturer: Hex;
  serialsRoot: Hex;
  packCount: number;
  /** UNIX seconds: the first second at which the lot is expired. */
  expiry: number;
  /** UNIX seconds of the commissioning block. */
  commissionedAt: number;
  recalled: boolean;
  /** UNIX seconds of the recall's block; 0 unless recalled. */
  recalledAt: number;
  suspect: boolean;
  illegitimate: boolean;
  /** Who quarantined the lot while it is suspect, else the zero address. */
  quarantinedBy: Hex;
}

/** A pack the chain has a record of (the contract's `PackRecord`). */
export interface MirroredPack {
  owner: Hex;
  state: MirroredPackState;
  suspect: boolean;
  illegitimate: boolean;
  /** UNIX seconds of the last transfer's block; 0 until the first transfer. */
  lastTransferAt: number;
}

/** The mirrored state of one registry, by the contract's ids (lot and pack ids are 32-byte hex). */
export interface SupplyChainMirrorState {
  product(gtin: string): MirroredProduct | undefined;
  lot(lotId: Hex): MirroredLot | undefined;
  /** Undefined while the chain has no record of the pack. */
  pack(lotId: Hex, packId: Hex): MirroredPack | undefined;
  setProduct(gtin: string, product: MirroredProduct): void;
  setLot(lotId: Hex, lot: MirroredLot): void;
  setPack(lotId: Hex, packId: Hex, pack: MirroredPack): void;
}

/** How far the mirror of a registry has applied the chain: the last block and, once one was applied, its hash. */
export interface MirrorCursor {
  block: number;
  blockHash: Hex | null;
}

/** Storage port of the mirror: one registry's state and cursor at a time, updated atomically. */
export interface SupplyChainMirrorStore {
  /** Where the mirror of `contract` stands, if it was started. */
  cursor(contract: Hex): MirrorCursor | undefined;
  /**
   * Starts the mirror of `contract` afresh at `cursor` (nothing applied yet), forgetting everything mirrored
   * before: of another (redeployed) registry, or of this one on a chain that lost blocks.
   */
  restart(contract: Hex, cursor: MirrorCursor): void;
  /** Runs `update` on the state of `contract` and moves its cursor to `to`, in one transaction: all or nothing. */
  apply(contract: Hex, to: MirrorCursor, update: (state: SupplyChainMirrorState) => void): void;
  /** The state of `contract` for reading. */
  state(contract: Hex): SupplyChainMirrorState;
}
