import type { Hex } from '../core/hex.js';

/**
 * The record locator on chain: which member organisations hold records for a patient, known only by the
 * patient's pseudonymous chain address (the key they link at each organisation). Nothing else is published:
 * no resource types, dates or counts.
 */
export interface RecordLocator {
  /**
   * Publishes that this organisation holds records for `patient`. Idempotent: nothing is sent when the chain
   * already says so. Resolves once mined.
   */
  announce(patient: Hex): Promise<void>;
  /** Withdraws this organisation's entry for `patient` (after erasure). Idempotent like `announce`. */
  release(patient: Hex): Promise<void>;
  /** The organisations (chain addresses; order not meaningful: a release moves the last holder into its slot) that hold records for `patient`. */
  holdersOf(patient: Hex): Promise<Hex[]>;
}

/** One receipt from another gateway as stored: its Provenance (sealed under the patient's data key), anchored. */
export interface ReceiptRow {
  /** The anchoring record of the Provenance (its content hash is the SHA-256 of the Provenance's canonical JSON). */
  recordId: number;
  /** The Provenance id (UUIDv7). */
  id: string;
  /** ms since the epoch */
  receivedAt: number;
  /** The local Patient the copies belong to. */
  patientId: string;
  /** The organisation that sent them (chain address). */
  source: Hex;
  keyId: string;
  /** The Provenance's canonical JSON, AES-256-GCM under the patient's data key (AAD `Provenance/<id>`). */
  payload: Uint8Array;
}

/** One received version, byte for byte as its holder anchored it, sealed under the local patient's data key. */
export interface ReceivedCopyRow {
  source: Hex;
  resourceType: string;
  id: string;
  version: number;
  patientId: string;
  /** The Provenance of the receipt that first brought this version. */
  receiptId: string;
  receivedAt: number;
  /** SHA-256 of the holder's canonical JSON (what the holder anchored). */
  contentHash: Uint8Array;
  /** The holder's record proof (JSON). */
  proof: string;
  keyId: string;
  /** AES-256-GCM under the patient's data key, AAD `<source>/<Type>/<id>/_history/<v>`. */
  payload: Uint8Array;
}

/**
 * Storage of what this gateway received from others. `insertReceipt` runs inside the anchoring commit of the
 * receipt's Provenance; a version received before is kept once (the first receipt that brought it).
 */
export interface ExchangeStore {
  insertReceipt(receipt: ReceiptRow, copies: readonly ReceivedCopyRow[]): void;
  /** A patient's receipts, newest first. */
  receipts(patientId: string, count: number, offset: number): ReceiptRow[];
  countReceipts(patientId: string): number;
  getReceipt(id: string): ReceiptRow | undefined;
  getReceiptByRecord(recordId: number): ReceiptRow | undefined;
  /** Whether this version from `source` is kept already (a receipt re-seals only what is new). */
  hasCopy(source: Hex, resourceType: string, id: string, version: number): boolean;
  /** A patient's received copies (current and older versions), in the order received. */
  copies(patientId: string): ReceivedCopyRow[];
}
