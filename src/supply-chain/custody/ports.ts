import type { ChainLot, ChainPack } from '../verification/productVerification.js';

/** A serialised pack this gateway knows the lot and expiry of: commissioned here, or received with its documents. */
export interface PackRecord {
  /** 14 digits. */
  gtin: string;
  serial: string;
  lot: string;
  /** YYYY-MM-DD, as the commissioning ILMD gives it; null when not given. */
  expiry: string | null;
  origin: 'commissioned' | 'received';
}

/** Storage port of the packs a gateway knows. `recordPacks` runs inside the capture commit that brought them. */
export interface PackStore {
  /** Keeps the first record of each (gtin, serial). */
  recordPacks(packs: readonly PackRecord[]): void;
  /** The serials commissioned here in one lot, in commissioning order. */
  commissionedSerials(gtin: string, lot: string): PackRecord[];
  pack(gtin: string, serial: string): PackRecord | undefined;
}

/** The chain as the supply-chain services see it: products, lots and packs by their natural keys. */
export interface SupplyLedger {
  /** The GTIN's manufacturer, or null if no manufacturer registered it. */
  manufacturerOf(gtin: string): Promise<`0x${string}` | null>;
  /** Registers the GTIN as this organisation's product. */
  registerProduct(gtin: string): Promise<void>;
  /** Commits the lot's serials (as a Merkle root of their hashed pack ids) and expiry; resolves once mined. */
  commissionLot(lot: {
    gtin: string;
    lot: string;
    serials: readonly string[];
    /** UNIX seconds: the first second at which the lot is expired. */
    expiry: number;
  }): Promise<{ transactionHash: `0x${string}`; blockNumber: number }>;
  /**
   * One custody operation on packs of one lot, as this organisation; resolves once mined. `lotSerials` (the lot's
   * commissioned serials, known to its manufacturer) lets the ledger prove packs the chain has no record of yet.
   */
  custody(operation: {
    action: 'transfer' | 'dispense' | 'decommission' | 'destroy';
    gtin: string;
    lot: string;
    serials: readonly string[];
    to?: `0x${string}` | undefined;
    /** Hash of the document behind it (the shipment's transaction information, the event). */
    reference: `0x${string}`;
    lotSerials?: readonly string[] | undefined;
  }): Promise<{ transactionHash: `0x${string}`; blockNumber: number }>;
  /** Recalls the lot (its manufacturer or a regulator); every verification answers "recalled" from the next block. */
  recallLot(
    gtin: string,
    lot: string,
    reasonHash: `0x${string}`,
  ): Promise<{ transactionHash: `0x${string}`; blockNumber: number }>;
  lot(gtin: string, lot: string): Promise<ChainLot | null>;
  pack(gtin: string, lot: string, serial: string): Promise<ChainPack>;
}

/** Trading partners' locations and parties (SGLN/PGLN canonical keys) mapped to member organisations. */
export interface PartyStore {
  organizationOf(partyKey: string): `0x${string}` | undefined;
  setParty(party: { key: string; organization: `0x${string}`; name: string }): void;
  list(): { key: string; organization: `0x${string}`; name: string }[];
}
