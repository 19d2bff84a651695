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
  /** Every pack of a lot this gateway knows (commissioned here, or from a partner's commissioning documents). */
  packsOfLot(gtin: string, lot: string): PackRecord[];
  /** How many packs of the lot this gateway knows (cheap: no rows read). */
  countOfLot(gtin: string, lot: string): number;
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
  /**
   * Whether `serial` is in the lot, shown against the chain: true or false when `knownSerials` are exactly the lot's
   * commissioned serials (their Merkle root is the one on chain), null when they are not (nothing can be said).
   */
  inLot(
    gtin: string,
    lot: string,
    known: { count: number; serials: () => readonly string[] },
    serial: string,
  ): Promise<boolean | null>;
  lot(gtin: string, lot: string): Promise<ChainLot | null>;
  pack(gtin: string, lot: string, serial: string): Promise<ChainPack>;
  /**
   * What the chain recorded about one pack (its transfers, dispensing, decommissioning, destruction, quarantine and
   * investigation) and about its lot (commissioning, quarantine, recall), oldest first. Optional: a ledger without
   * it has no on-chain history to show.
   */
  packHistory?(gtin: string, lot: string, serial: string): Promise<ChainCustodyEntry[]>;
}

/** The SupplyChainRegistry events about a pack or its lot (every registry event but `ProductRegistered`). */
export type ChainCustodyEvent =
  | 'LotCommissioned'
  | 'PackTransferred'
  | 'PackDispensed'
  | 'PackDecommissioned'
  | 'PackDestroyed'
  | 'PackMarkedSuspect'
  | 'PackInvestigated'
  | 'LotMarkedSuspect'
  | 'LotInvestigated'
  | 'LotRecalled';

/** How an investigation of suspect packs or of a suspect lot ended. */
export type InvestigationOutcome = 'cleared' | 'illegitimate';

/** One entry of a pack's on-chain history: a registry event of the pack (`scope: 'pack'`) or of its lot. */
export interface ChainCustodyEntry {
  event: ChainCustodyEvent;
  scope: 'pack' | 'lot';
  /** A transfer's sender. */
  from?: `0x${string}`;
  /** A transfer's recipient. */
  to?: `0x${string}`;
  /** Who did anything else (the manufacturer, dispenser, owner, investigator…). */
  by?: `0x${string}`;
  /** The hash of the document behind it (transaction information, reason, report), when the event has one. */
  reference?: `0x${string}`;
  outcome?: InvestigationOutcome;
  blockNumber: number;
  transactionHash: `0x${string}`;
  logIndex: number;
  /** UNIX seconds of its block. */
  time: number;
}

/** Trading partners' locations and parties (SGLN/PGLN canonical keys) mapped to member organisations. */
export interface PartyStore {
  organizationOf(partyKey: string): `0x${string}` | undefined;
  setParty(party: { key: string; organization: `0x${string}`; name: string }): void;
  list(): { key: string; organization: `0x${string}`; name: string }[];
}

/** A mined transaction. */
export interface MinedTransaction {
  transactionHash: `0x${string}`;
  blockNumber: number;
}

/** A SupplyChainRegistry event a gateway notifies about, with the lot (and pack) by natural key when known here. */
export interface SupplyChainNoticeEvent {
  event:
    | 'PackTransferred'
    | 'PackMarkedSuspect'
    | 'PackInvestigated'
    | 'LotMarkedSuspect'
    | 'LotInvestigated'
    | 'LotRecalled';
  lotId: `0x${string}`;
  /** The lot's GTIN and number when it is one of the lots asked about, else null. */
  gtin: string | null;
  lot: string | null;
  /** The pack's serial for pack events whose pack is known here; null otherwise. */
  serial: string | null;
  /** Pack events: the pack id (whether known or not). */
  packId: `0x${string}` | null;
  /** Who acted (a transfer's sender). */
  by: `0x${string}`;
  /** A transfer's recipient. */
  to?: `0x${string}`;
  outcome?: InvestigationOutcome;
  /** The reason, report or transaction-information hash. */
  reference: `0x${string}`;
  transactionHash: `0x${string}`;
  blockNumber: number;
  logIndex: number;
}

/** Quarantine, investigations and the registry's events, by natural keys (see `SupplyLedger`). */
export interface SuspectLedger {
  /** Quarantines packs of a lot (`serials`) or the whole lot (no serials); resolves once mined. */
  markSuspect(operation: {
    gtin: string;
    lot: string;
    serials?: readonly string[] | undefined;
    reasonHash: `0x${string}`;
    /** The lot's commissioned serials (known to its manufacturer), to prove packs the chain has no record of yet. */
    lotSerials?: readonly string[] | undefined;
  }): Promise<MinedTransaction>;
  /** Concludes the investigation of quarantined packs (or of the quarantined lot); resolves once mined. */
  recordInvestigation(operation: {
    gtin: string;
    lot: string;
    serials?: readonly string[] | undefined;
    outcome: InvestigationOutcome;
    reportHash: `0x${string}`;
  }): Promise<MinedTransaction>;
  /** Every transfer of the packs (or of any pack of the lot) on chain, oldest first. */
  transfersOf(
    gtin: string,
    lot: string,
    serials?: readonly string[],
  ): Promise<{ from: `0x${string}`; to: `0x${string}`; blockNumber: number }[]>;
  /** The chain's latest block. */
  blockNumber(): Promise<number>;
  /** The registry's contract address (a redeployment starts a watcher afresh). */
  contract(): `0x${string}`;
  /**
   * In blocks `fromBlock`..`toBlock`: every quarantine, investigation and recall, and the transfers to `recipient`,
   * in chain order; lots among `lots` are named, and their packs by serial when `serialsOf` knows them.
   */
  noticeEvents(query: {
    fromBlock: number;
    toBlock: number;
    recipient: `0x${string}`;
    lots: readonly { gtin: string; lot: string }[];
    serialsOf(gtin: string, lot: string): readonly string[];
  }): Promise<SupplyChainNoticeEvent[]>;
}

/** Signs and checks documents with organisation chain keys (EIP-191), for T3s. */
export interface DocumentSigner {
  address: `0x${string}`;
  sign(bytes: Uint8Array): Promise<`0x${string}`>;
  /** The address that signed `bytes`, or null for a malformed signature. */
  recover(bytes: Uint8Array, signature: `0x${string}`): Promise<`0x${string}` | null>;
}
