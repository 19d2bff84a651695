/**
 * Shared fixtures for unit tests: a real in-memory SQLite anchor store, a fabricated on-chain anchor, an
 * in-memory implementation of the `AnchorReader` port and helpers to capture typed errors. Test-only code.
 */
import { CareLedgerError } from '../core/errors.js';
import { fromHex, toHex, type Hex } from '../core/hex.js';
import type { AnchorInfo, AnchorStore, Batch, OnChainAnchor } from '../anchoring/ports.js';
import type { AnchorReader, AnchorTransaction } from '../anchoring/verifyRecordProof.js';
import { openDatabase, type SqliteDatabase } from '../store/sqlite/openDatabase.js';
import { SqliteAnchorStore } from '../store/sqlite/sqliteAnchorStore.js';

/** The organisation every fixture record belongs to. */
export const ORG_HEX: Hex = '0x00112233445566778899aabbccddeeff00112233';
export const ORG: Uint8Array = fromHex(ORG_HEX, 20);
export const CHAIN_ID = 31_337;
export const CONTRACT: Hex = '0x5fbdb2315678afecb367f032d93f642f64180aa3';

/** A fresh in-memory database (schema migrated) and the anchor store over it. */
export function memoryStore(): { db: SqliteDatabase; store: SqliteAnchorStore } {
  const db = openDatabase(':memory:');
  return { db, store: new SqliteAnchorStore(db) };
}

/** A 32-byte hex value whose every byte is `byte`. */
export function filledHash(byte: number): Hex {
  return toHex(new Uint8Array(32).fill(byte));
}

/** Fabricated (but well-formed) chain details of a confirmed batch. */
export function fabricatedAnchor(sequence: number, overrides: Partial<AnchorInfo> = {}): AnchorInfo {
  return {
    chainId: CHAIN_ID,
    contract: CONTRACT,
    organization: ORG_HEX,
    transactionHash: filledHash(0xa0 + (sequence % 16)),
    blockNumber: 100 + sequence,
    blockHash: filledHash(0xb0 + (sequence % 16)),
    anchoredAt: 1_700_000_000 + sequence * 12,
    ...overrides,
  };
}

/** The AnchorReader port over a map held in memory: the chain as a verifier sees it. */
export class InMemoryAnchorReader implements AnchorReader {
  readonly anchors = new Map<string, OnChainAnchor>();
  readonly transactions = new Map<string, AnchorTransaction>();
  chainIdValue: number;
  chainError: Error | undefined;
  getAnchorCalls = 0;

  constructor(chainId: number = CHAIN_ID) {
    this.chainIdValue = chainId;
  }

  /** Records an anchor, and (when given) the transaction that made it. */
  add(contract: Hex, root: Hex, anchor: OnChainAnchor, tx?: { transactionHash: Hex; blockHash: Hex }): void {
    this.anchors.set(`${contract.toLowerCase()}/${root.toLowerCase()}`, anchor);
    if (tx) {
      const key = `${contract.toLowerCase()}/${tx.transactionHash.toLowerCase()}`;
      const known = this.transactions.get(key);
      this.transactions.set(key, {
        blockNumber: anchor.blockNumber,
        blockHash: tx.blockHash,
        roots: [...(known?.roots ?? []), root],
      });
    }
  }

  async getAnchorTransaction(contract: Hex, transactionHash: Hex): Promise<AnchorTransaction | null> {
    return this.transactions.get(`${contract.toLowerCase()}/${transactionHash.toLowerCase()}`) ?? null;
  }

  async chainId(): Promise<number> {
    if (this.chainError) throw this.chainError;
    return this.chainIdValue;
  }

  async getAnchor(contract: Hex, root: Hex): Promise<OnChainAnchor | null> {
    this.getAnchorCalls++;
    return this.anchors.get(`${contract.toLowerCase()}/${root.toLowerCase()}`) ?? null;
  }
}

/** What the chain would report for `batch` once anchored with `anchor`. */
export function onChainAnchorOf(batch: Batch, anchor: AnchorInfo): OnChainAnchor {
  return {
    organization: anchor.organization,
    sequence: batch.sequence,
    leafCount: batch.leafCount,
    anchoredAt: anchor.anchoredAt,
    blockNumber: anchor.blockNumber,
  };
}

/**
 * Marks every sealed or submitted batch confirmed with a fabricated anchor and, when a reader is given, records
 * the batch's true root on that in-memory chain. Returns the confirmed sequences.
 */
export function confirmAllSealed(store: AnchorStore, reader?: InMemoryAnchorReader): number[] {
  const confirmed: number[] = [];
  for (let batch = store.nextBatchToAnchor(); batch; batch = store.nextBatchToAnchor()) {
    const anchor = fabricatedAnchor(batch.sequence);
    store.markConfirmed(batch.sequence, anchor);
    if (reader && batch.root) {
      reader.add(anchor.contract, toHex(batch.root), onChainAnchorOf(batch, anchor), anchor);
    }
    confirmed.push(batch.sequence);
  }
  return confirmed;
}

function asCareLedgerError(error: unknown): CareLedgerError {
  if (error instanceof CareLedgerError) return error;
  throw new Error(`expected a CareLedgerError, got ${String(error)}`, { cause: error });
}

/** Runs `fn`, which must throw a CareLedgerError, and returns that error. */
export function captureError(fn: () => unknown): CareLedgerError {
  try {
    fn();
  } catch (error) {
    return asCareLedgerError(error);
  }
  throw new Error('expected the call to throw, but it returned normally');
}

/** Awaits `promise`, which must reject with a CareLedgerError, and returns that error. */
export async function captureAsyncError(promise: Promise<unknown>): Promise<CareLedgerError> {
  try {
    await promise;
  } catch (error) {
    return asCareLedgerError(error);
  }
  throw new Error('expected the promise to reject, but it resolved');
}
