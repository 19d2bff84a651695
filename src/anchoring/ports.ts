import type { Hex } from '../core/hex.js';

/** Life of a batch: records join an open batch; it is sealed (root fixed), submitted, then confirmed on chain. */
export type BatchState = 'open' | 'sealed' | 'submitted' | 'confirmed';

/** A record as stored, with its place in the ledger. */
export interface StoredRecord {
  id: number;
  kind: string;
  contentHash: Uint8Array;
  leafHash: Uint8Array;
  batchSequence: number;
  leafIndex: number;
  receivedAt: number;
  /** False when the bytes live elsewhere (e.g. the encrypted FHIR store) and only the hash is held here. */
  hasContent: boolean;
}

/** A record being appended, fully placed by the writer before the store sees it. */
export interface RecordRow extends Omit<StoredRecord, 'hasContent'> {
  content: Uint8Array | null;
}

/** Where a confirmed batch sits on chain: everything a verifier needs to find it again. */
export interface AnchorInfo {
  chainId: number;
  contract: Hex;
  organization: Hex;
  transactionHash: Hex;
  blockNumber: number;
  blockHash: Hex;
  /** Block timestamp, seconds since the epoch. */
  anchoredAt: number;
}

export interface Batch {
  sequence: number;
  state: BatchState;
  leafCount: number;
  root: Uint8Array | null;
  openedAt: number;
  sealedAt: number | null;
  transactionHash: Hex | null;
  submittedAt: number | null;
  attempts: number;
  lastError: string | null;
  anchor: AnchorInfo | null;
}

/** One atomic, durable unit of writer work: new records plus the batch transitions they caused. */
export interface WriteUnit {
  records: RecordRow[];
  openedBatches: { sequence: number; openedAt: number }[];
  sealedBatches: { sequence: number; root: Uint8Array; leafCount: number; sealedAt: number }[];
  /** Further writes to run inside the same transaction, after the records (see `RecordWriter.appendMany`). */
  alsoWrite?: (() => void)[];
}

/** What the writer needs to resume after a restart. */
export interface WriterState {
  lastRecordId: number;
  lastBatchSequence: number;
  openBatch: { sequence: number; openedAt: number; leafHashes: Uint8Array[] } | null;
}

export interface BatchCounts {
  open: number;
  sealed: number;
  submitted: number;
  confirmed: number;
  pendingRecords: number;
  oldestPendingAt: number | null;
  lastConfirmed: { sequence: number; anchoredAt: number } | null;
}

/**
 * Storage port of the anchoring service. `commit` must be atomic, and durable against a crash of the process when
 * it returns; `whenDurable()` resolves once everything committed so far would also survive a power loss. The writer
 * acknowledges records only after both.
 */
export interface AnchorStore {
  loadWriterState(): WriterState;
  commit(unit: WriteUnit): void;
  whenDurable(): Promise<void>;
  getRecord(id: number): StoredRecord | undefined;
  getRecordContent(id: number): Uint8Array | null | undefined;
  getBatch(sequence: number): Batch | undefined;
  /** Leaf hashes of a batch in leaf order. */
  getBatchLeafHashes(sequence: number): Uint8Array[];
  /** Lowest-numbered batch that is sealed or submitted: the next one the submitter must get on chain. */
  nextBatchToAnchor(): Batch | undefined;
  markSubmitted(sequence: number, transactionHash: Hex, at: number): void;
  markConfirmed(sequence: number, anchor: AnchorInfo): void;
  markAttemptFailed(sequence: number, error: string): void;
  /** Puts confirmed/submitted batches with `sequence >= from` back to sealed: the chain no longer holds them. */
  reopenAnchorsFrom(from: number, reason: string): number;
  highestConfirmed(): Batch | undefined;
  counts(): BatchCounts;
  /** Streams records of a batch in leaf order, with their bytes, for the audit. */
  iterateBatchRecords(sequence: number): Iterable<RecordRow & { hasContent: boolean }>;
  /** Batch sequences that have been sealed (every state but open), ascending. */
  sealedBatchSequences(): number[];
  recordEvent(sequence: number, event: string, detail: string): void;
  getMeta(key: string): string | undefined;
  setMeta(key: string, value: string): void;
}

/** An anchor as the chain reports it. */
export interface OnChainAnchor {
  organization: Hex;
  sequence: number;
  leafCount: number;
  anchoredAt: number;
  blockNumber: number;
}

/** The state of a transaction the submitter sent. */
export type TransactionStatus =
  | { status: 'pending' }
  | { status: 'dropped' }
  | { status: 'reverted'; blockNumber: number }
  | { status: 'mined'; blockNumber: number; blockHash: Hex; anchoredAt: number };

/** Chain port of the anchoring service (the AnchorRegistry contract, seen from one organisation). */
export interface AnchorChain {
  readonly organization: Hex;
  contractAddress(): Hex;
  chainId(): Promise<number>;
  /** False when the registry contract has no code: the chain lost its state (or was never deployed to). */
  contractsPresent(): Promise<boolean>;
  nextSequence(): Promise<number>;
  rootAt(sequence: number): Promise<Hex | null>;
  getAnchor(root: Hex): Promise<OnChainAnchor | null>;
  /** Sends `anchor(root, leafCount, sequence)`; rejects with `AnchorRejectedError` when the contract reverts. */
  submitAnchor(root: Hex, leafCount: number, sequence: number): Promise<Hex>;
  transactionStatus(transactionHash: Hex): Promise<TransactionStatus>;
  /** Finds the transaction that anchored `root` in block `blockNumber` (from the BatchAnchored event). */
  findAnchorTransaction(
    root: Hex,
    blockNumber: number,
  ): Promise<{ transactionHash: Hex; blockHash: Hex } | null>;
}

/**
 * What a capability keeping its own documents needs from the ledger spine: their hashes appended, and its own rows
 * written by `withinCommit` in the same commit, with the records' ids (see `AnchoringService.appendHashes`).
 */
export interface HashAnchoring {
  appendHashes(
    items: { kind: string; contentHash: Uint8Array }[],
    withinCommit?: (receipts: { id: number }[]) => void,
  ): Promise<{ id: number }[]>;
}
