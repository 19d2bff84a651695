import { CareLedgerError } from '../core/errors.js';
import { toHex, type Hex, fromHex } from '../core/hex.js';
import type { Logger } from '../core/logger.js';
import { MerkleTree } from '../merkle/tree.js';
import { AnchorSubmitter, type SubmitterStatus } from './anchorSubmitter.js';
import {
  BatchNotFoundError,
  EmptyRecordError,
  ProofNotReadyError,
  RecordNotFoundError,
  RecordTooLargeError,
} from './errors.js';
import type { AnchorChain, AnchorStore, Batch, BatchCounts, StoredRecord } from './ports.js';
import { buildRecordProof, type RecordProof } from './recordProof.js';
import { assertValidKind } from './recordLeaf.js';
import { RecordWriter, type RecordInput, type RecordReceipt, type WithinCommit } from './recordWriter.js';

export interface AnchoringServiceOptions {
  batchSize: number;
  batchAgeMs: number;
  receiptTimeoutMs: number;
  chainCheckIntervalMs: number;
  maxRecordBytes: number;
  logger: Logger;
  onContractsMissing?: () => Promise<void>;
}

/** A record's metadata and where it stands in anchoring. */
export interface RecordView {
  id: number;
  kind: string;
  contentHash: Hex;
  leafHash: Hex;
  receivedAt: string;
  batch: { sequence: number; state: Batch['state']; leafIndex: number };
}

export interface AnchoringStatus extends BatchCounts {
  openBatchRecords: number;
  submitter: SubmitterStatus;
}

const TREE_CACHE_SIZE = 16;

/**
 * The ledger spine as one service: append records (durable before acknowledged), seal them into batches by size
 * or age, anchor each batch's Merkle root on chain, and hand out self-contained inclusion proofs.
 */
export class AnchoringService {
  private readonly store: AnchorStore;
  private readonly options: AnchoringServiceOptions;
  private readonly writer: RecordWriter;
  private readonly submitter: AnchorSubmitter;
  private readonly trees = new Map<number, MerkleTree>();
  private ageTimer: NodeJS.Timeout | null = null;

  constructor(store: AnchorStore, chain: AnchorChain, options: AnchoringServiceOptions) {
    this.store = store;
    this.options = options;
    this.submitter = new AnchorSubmitter(store, chain, {
      receiptTimeoutMs: options.receiptTimeoutMs,
      chainCheckIntervalMs: options.chainCheckIntervalMs,
      logger: options.logger,
      onContractsMissing: options.onContractsMissing,
    });
    this.writer = new RecordWriter(store, {
      organization: fromHex(chain.organization, 20),
      batchSize: options.batchSize,
      batchAgeMs: options.batchAgeMs,
      onSealed: () => this.submitter.notify(),
    });
  }

  start(): void {
    this.submitter.start();
    const tick = Math.max(5, Math.min(250, Math.floor(this.options.batchAgeMs / 4)));
    this.ageTimer = setInterval(() => {
      try {
        this.writer.sealIfDue();
      } catch (error) {
        this.options.logger.error({ err: String(error) }, 'sealing a batch failed; will retry');
      }
    }, tick);
    this.ageTimer.unref();
  }

  /** Writes what is queued and stops anchoring; records stay durable and resume anchoring on the next start. */
  async stop(): Promise<void> {
    if (this.ageTimer) clearInterval(this.ageTimer);
    this.ageTimer = null;
    await this.writer.drain();
    await this.submitter.stop();
  }

  /** Validates and appends one record; resolves with its receipt once it is durable. */
  append(kind: unknown, content: Uint8Array): Promise<RecordReceipt> {
    return this.writer.append(this.validate(kind, content));
  }

  /** Validates every record first (none is stored if one is bad), then appends them atomically. */
  appendMany(records: { kind: unknown; content: Uint8Array }[]): Promise<RecordReceipt[]> {
    const inputs = records.map((r, index) => {
      try {
        return this.validate(r.kind, r.content);
      } catch (error) {
        if (!(error instanceof CareLedgerError)) throw error;
        throw new CareLedgerError(
          error.code,
          `records[${index}]: ${error.message} Nothing in this request was stored.`,
          {
            status: error.status,
            issueType: error.issueType,
            details: { index, ...(error.details ?? {}) },
          },
        );
      }
    });
    return this.writer.appendMany(inputs);
  }

  /**
   * Appends hashes of content kept elsewhere (the encrypted FHIR store), atomically; `withinCommit` writes the
   * caller's own rows in the same transaction (see `RecordWriter.appendMany`).
   */
  /** Resolves once everything committed so far is on stable storage. */
  whenDurable(): Promise<void> {
    return this.store.whenDurable();
  }

  appendHashes(
    items: { kind: string; contentHash: Uint8Array }[],
    withinCommit?: WithinCommit,
  ): Promise<RecordReceipt[]> {
    for (const item of items) {
      assertValidKind(item.kind);
      if (item.contentHash.length !== 32) throw new TypeError('contentHash must be 32 bytes');
    }
    return this.writer.appendMany(items, withinCommit);
  }

  /** Appends the hash of content kept elsewhere (e.g. encrypted by the FHIR store). */
  appendHash(kind: unknown, contentHash: Uint8Array): Promise<RecordReceipt> {
    assertValidKind(kind);
    if (contentHash.length !== 32) throw new TypeError('contentHash must be 32 bytes');
    return this.writer.append({ kind, contentHash });
  }

  getRecord(id: number): RecordView {
    const record = this.requireRecord(id);
    const batch = this.store.getBatch(record.batchSequence) as Batch;
    return {
      id: record.id,
      kind: record.kind,
      contentHash: toHex(record.contentHash),
      leafHash: toHex(record.leafHash),
      receivedAt: new Date(record.receivedAt).toISOString(),
      batch: { sequence: batch.sequence, state: batch.state, leafIndex: record.leafIndex },
    };
  }

  /** The record's bytes, or null when only its hash is held here. */
  getContent(id: number): Uint8Array | null {
    const content = this.store.getRecordContent(id);
    if (content === undefined) throw new RecordNotFoundError(id);
    return content;
  }

  getProof(id: number): RecordProof {
    const record = this.requireRecord(id);
    const batch = this.store.getBatch(record.batchSequence) as Batch;
    if (batch.state !== 'confirmed' || !batch.anchor)
      throw new ProofNotReadyError(id, batch.sequence, batch.state);
    return buildRecordProof(record, batch, this.treeOf(batch));
  }

  getBatch(sequence: number): Batch {
    const batch = this.store.getBatch(sequence);
    if (!batch) throw new BatchNotFoundError(sequence);
    return batch;
  }

  status(): AnchoringStatus {
    return {
      ...this.store.counts(),
      openBatchRecords: this.writer.openBatchSize(),
      submitter: this.submitter.status(),
    };
  }

  /** Re-checks what the chain holds right away (called when the embedded chain restarted). */
  requestChainCheck(): void {
    this.submitter.requestChainCheck();
  }

  private validate(kind: unknown, content: Uint8Array): RecordInput {
    assertValidKind(kind);
    if (content.length === 0) throw new EmptyRecordError();
    if (content.length > this.options.maxRecordBytes)
      throw new RecordTooLargeError(content.length, this.options.maxRecordBytes);
    return { kind, content };
  }

  private requireRecord(id: number): StoredRecord {
    const record = Number.isSafeInteger(id) && id > 0 ? this.store.getRecord(id) : undefined;
    if (!record) throw new RecordNotFoundError(id);
    return record;
  }

  /** Merkle trees of recently asked-for batches; a batch's leaves never change once sealed. */
  private treeOf(batch: Batch): MerkleTree {
    const cached = this.trees.get(batch.sequence);
    if (cached) return cached;
    const tree = MerkleTree.fromLeafHashes(this.store.getBatchLeafHashes(batch.sequence));
    this.trees.set(batch.sequence, tree);
    if (this.trees.size > TREE_CACHE_SIZE) this.trees.delete(this.trees.keys().next().value as number);
    return tree;
  }
}
