import { CareLedgerError, UnavailableError } from '../core/errors.js';
import { toHex, type Hex } from '../core/hex.js';
import { sha256 } from '../core/sha256.js';
import { computeRoot } from '../merkle/tree.js';
import type { AnchorStore, RecordRow, WriteUnit } from './ports.js';
import { recordLeafHash } from './recordLeaf.js';

/** A record to append: its bytes, or (when the bytes are kept elsewhere, encrypted) only their SHA-256. */
export type RecordInput = { kind: string; content: Uint8Array } | { kind: string; contentHash: Uint8Array };

/** What the node acknowledges once a record is durable. */
export interface RecordReceipt {
  id: number;
  kind: string;
  contentHash: Hex;
  leafHash: Hex;
  batchSequence: number;
  leafIndex: number;
  receivedAt: number;
}

export interface RecordWriterOptions {
  organization: Uint8Array;
  batchSize: number;
  batchAgeMs: number;
  /** Called after a batch was sealed, so the submitter can anchor it without polling. */
  onSealed?: () => void;
  now?: () => number;
}

/**
 * Work a caller runs inside the same SQLite transaction as its records (e.g. the FHIR store writing the version
 * rows those records anchor), given the receipts. If it throws, nothing of the whole group is written.
 */
export type WithinCommit = (receipts: RecordReceipt[]) => void;

interface Pending {
  inputs: RecordInput[];
  withinCommit: WithinCommit | undefined;
  resolve: (receipts: RecordReceipt[]) => void;
  reject: (error: unknown) => void;
}

/** Records per SQLite transaction at most; a longer queue is written in several transactions. */
const MAX_GROUP = 20_000;

/**
 * Appends records durably with group commit: every record that arrives within one turn of the event loop is
 * written in ONE SQLite transaction, and the callers' promises are resolved only once the store says that commit
 * is on stable storage. That turns thousands of fsyncs into one without ever acknowledging a write that is not on
 * disk.
 *
 * The writer is the only place that assigns record ids, batch sequences and leaf positions (one writer per
 * data folder, enforced by the node lock), so it can compute leaf hashes and batch roots before the commit and
 * store records, batch openings and seals atomically together.
 */
export class RecordWriter {
  private readonly store: AnchorStore;
  private readonly options: RecordWriterOptions;
  private readonly now: () => number;
  private queue: Pending[] = [];
  private scheduled = false;
  private lastRecordId: number;
  private lastBatchSequence: number;
  private open: { sequence: number; openedAt: number; leafHashes: Uint8Array[] } | null;

  constructor(store: AnchorStore, options: RecordWriterOptions) {
    this.store = store;
    this.options = options;
    this.now = options.now ?? Date.now;
    const state = store.loadWriterState();
    this.lastRecordId = state.lastRecordId;
    this.lastBatchSequence = state.lastBatchSequence;
    this.open = state.openBatch;
  }

  /** Appends one record; resolves once it is durable. */
  async append(input: RecordInput): Promise<RecordReceipt> {
    const [receipt] = await this.appendMany([input]);
    return receipt as RecordReceipt;
  }

  /**
   * Appends records atomically (all or none); resolves once they are durable. `withinCommit` runs inside the
   * commit's transaction, so what it writes is durable, and rolled back, together with the records.
   */
  appendMany(inputs: RecordInput[], withinCommit?: WithinCommit): Promise<RecordReceipt[]> {
    return new Promise((resolve, reject) => {
      this.queue.push({ inputs, withinCommit, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Seals the open batch if its first record is older than the batch age. */
  sealIfDue(): boolean {
    const open = this.open;
    if (!open || open.leafHashes.length === 0 || this.now() - open.openedAt < this.options.batchAgeMs)
      return false;
    this.store.commit({
      records: [],
      openedBatches: [],
      sealedBatches: [
        {
          sequence: open.sequence,
          root: computeRoot(open.leafHashes),
          leafCount: open.leafHashes.length,
          sealedAt: this.now(),
        },
      ],
    });
    this.open = null;
    // Anchor only what is on stable storage: a seal lost to a power cut would be sealed again, the same way.
    const onSealed = this.options.onSealed;
    if (onSealed) void this.store.whenDurable().then(onSealed, () => undefined);
    return true;
  }

  /** Writes everything queued now (also called at shutdown). */
  flush(): void {
    this.scheduled = false;
    while (this.queue.length > 0) {
      const group: Pending[] = [];
      let count = 0;
      while (
        this.queue.length > 0 &&
        (count === 0 || count + (this.queue[0] as Pending).inputs.length <= MAX_GROUP)
      ) {
        const next = this.queue.shift() as Pending;
        group.push(next);
        count += next.inputs.length;
      }
      this.writeGroup(group);
    }
  }

  private writeGroup(group: Pending[]): void {
    const saved = {
      lastRecordId: this.lastRecordId,
      lastBatchSequence: this.lastBatchSequence,
      open: this.open,
      openLength: this.open?.leafHashes.length ?? 0,
    };
    const now = this.now();
    const alsoWrite: (() => void)[] = [];
    const unit: WriteUnit = { records: [], openedBatches: [], sealedBatches: [], alsoWrite };
    const receipts: RecordReceipt[][] = [];
    const { batchSize, organization } = this.options;

    // Placing the records can throw too (e.g. a content hash that is not 32 bytes): roll back in that case as well,
    // or the writer would keep ids and leaves that were never stored and seal wrong roots from then on.
    let placed = false;
    try {
      for (const pending of group) {
        const mine: RecordReceipt[] = [];
        for (const input of pending.inputs) {
          if (!this.open) {
            this.open = { sequence: ++this.lastBatchSequence, openedAt: now, leafHashes: [] };
            unit.openedBatches.push({ sequence: this.open.sequence, openedAt: now });
          }
          const content = 'content' in input ? input.content : null;
          const contentHash = 'content' in input ? sha256(input.content) : input.contentHash;
          const id = ++this.lastRecordId;
          const leafHash = recordLeafHash({ organization, id, kind: input.kind, contentHash });
          const row: RecordRow = {
            id,
            kind: input.kind,
            content,
            contentHash,
            leafHash,
            batchSequence: this.open.sequence,
            leafIndex: this.open.leafHashes.length,
            receivedAt: now,
          };
          this.open.leafHashes.push(leafHash);
          unit.records.push(row);
          mine.push({
            id,
            kind: row.kind,
            contentHash: toHex(contentHash),
            leafHash: toHex(leafHash),
            batchSequence: row.batchSequence,
            leafIndex: row.leafIndex,
            receivedAt: now,
          });
          if (this.open.leafHashes.length >= batchSize) {
            unit.sealedBatches.push({
              sequence: this.open.sequence,
              root: computeRoot(this.open.leafHashes),
              leafCount: this.open.leafHashes.length,
              sealedAt: now,
            });
            this.open = null;
          }
        }
        receipts.push(mine);
        const withinCommit = pending.withinCommit;
        if (withinCommit) alsoWrite.push(() => withinCommit(mine));
      }

      placed = true;
      this.store.commit(unit);
    } catch (cause) {
      // Nothing was written: forget the ids and positions handed out above, and tell every caller.
      this.lastRecordId = saved.lastRecordId;
      this.lastBatchSequence = saved.lastBatchSequence;
      this.open = saved.open;
      if (saved.open) saved.open.leafHashes.length = saved.openLength;
      // A caller's own rule (a CareLedgerError below 500) keeps its meaning; anything else is a storage failure.
      const error =
        !placed || (cause instanceof CareLedgerError && cause.status < 500)
          ? cause
          : new UnavailableError(
              'STORE.WRITE_FAILED',
              'The record store could not write; nothing was stored. Retry later.',
              {
                cause,
              },
            );
      for (const pending of group) pending.reject(error);
      return;
    }
    // Committed (safe from a crash of the process); acknowledged once on stable storage, with the commits around it.
    const sealed = unit.sealedBatches.length > 0;
    this.store.whenDurable().then(
      () => {
        group.forEach((pending, i) => pending.resolve(receipts[i] as RecordReceipt[]));
        if (sealed) this.options.onSealed?.();
      },
      (cause: unknown) => {
        const error = new UnavailableError(
          'STORE.SYNC_FAILED',
          'The record store could not flush its write to disk, so it is not acknowledged. Check the disk, then retry.',
          { cause },
        );
        for (const pending of group) pending.reject(error);
      },
    );
  }

  /** Writes everything queued and waits until it is on stable storage (at shutdown). */
  async drain(): Promise<void> {
    this.flush();
    await this.store.whenDurable().catch(() => undefined);
  }

  /** Records waiting in the open batch. */
  openBatchSize(): number {
    return this.open?.leafHashes.length ?? 0;
  }
}
