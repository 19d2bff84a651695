/**
 * Remembers which (sender, nonce) pairs were accepted, so an envelope captured in transit cannot be played again
 * while it is still within its validity window. After the window it needs no remembering: the envelope itself is
 * then refused as expired.
 */
import type { Hex } from '../core/hex.js';
import { EnvelopeError, EnvelopeErrorCode } from './exchangeErrors.js';

export interface ReplayGuard {
  /**
   * True if `nonce` was already seen from `from`; otherwise records it until `expiresAt` (ms since the epoch,
   * inclusive) and returns false. The check and the record are one step, so two copies of an envelope arriving
   * together cannot both pass. `now` is the caller's clock (ms), for implementations that prune by time.
   *
   * May throw (e.g. {@link EnvelopeErrorCode.REPLAY_GUARD_FULL}) to refuse an envelope it cannot safely record.
   */
  seen(from: Hex, nonce: string, expiresAt: number, now: number): boolean;
}

export interface MemoryReplayGuardOptions {
  /**
   * Most nonces held at once. Size it above the peak envelope rate × the longest window an envelope is
   * remembered (its time to live plus twice the allowed clock skew): at the defaults (5 min + 2 × 1 min) the
   * default of 100,000 allows a sustained ~240 envelopes per second. About 200 bytes each.
   */
  maxEntries?: number;
}

/** Default {@link MemoryReplayGuardOptions.maxEntries}. */
export const DEFAULT_REPLAY_GUARD_ENTRIES = 100_000;

interface Entry {
  readonly key: string;
  readonly expiresAt: number;
}

/**
 * A {@link ReplayGuard} in process memory, for one gateway process (a cluster needs a shared one).
 *
 * Bounded: entries whose time has passed are dropped on every call (a min-heap by expiry keeps that O(log n) per
 * entry), and at most `maxEntries` unexpired ones are held. When full it refuses new envelopes (503) rather than
 * forget a nonce that is still valid, because forgetting would let a flood of envelopes open the door to a replay.
 * A nonce recorded before the guard filled still answers "seen", so replays are refused as replays.
 *
 * Nonces are recorded only after the envelope's signature checked out, so only key holders can fill it; pass
 * `openEnvelope` a sender policy (`acceptSender`) so that only member organisations can.
 */
export class MemoryReplayGuard implements ReplayGuard {
  readonly maxEntries: number;
  private readonly expiryByKey = new Map<string, number>();
  private readonly heap: Entry[] = [];

  constructor(options: MemoryReplayGuardOptions = {}) {
    const maxEntries = options.maxEntries ?? DEFAULT_REPLAY_GUARD_ENTRIES;
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) {
      throw new EnvelopeError(
        EnvelopeErrorCode.INVALID_ARGUMENT,
        `MemoryReplayGuard maxEntries must be a positive integer, not ${String(maxEntries)}.`,
      );
    }
    this.maxEntries = maxEntries;
  }

  /** How many nonces are held right now (expired ones are dropped only on the next call to {@link seen}). */
  get size(): number {
    return this.expiryByKey.size;
  }

  seen(from: Hex, nonce: string, expiresAt: number, now: number = Date.now()): boolean {
    this.prune(now);
    // Addresses are case-insensitive (EIP-55 checksums are only a typing aid); one sender is one key.
    const key = `${from.toLowerCase()} ${nonce}`;
    if (this.expiryByKey.has(key)) return true;
    if (this.expiryByKey.size >= this.maxEntries) {
      throw new EnvelopeError(
        EnvelopeErrorCode.REPLAY_GUARD_FULL,
        `The replay guard holds ${this.maxEntries} unexpired nonces, its limit, so no new envelope can be accepted ` +
          'safely; retry shortly. If this is regular traffic rather than a flood, raise its maxEntries.',
        { details: { maxEntries: this.maxEntries } },
      );
    }
    this.expiryByKey.set(key, expiresAt);
    this.push({ key, expiresAt });
    return false;
  }

  /** Drops every entry whose `expiresAt` is before `now`. Each key is in the heap exactly once while held. */
  private prune(now: number): void {
    const heap = this.heap;
    while (heap.length > 0 && heap[0]!.expiresAt < now) {
      const top = heap[0]!;
      const last = heap.pop()!;
      if (heap.length > 0) {
        heap[0] = last;
        this.siftDown(0);
      }
      this.expiryByKey.delete(top.key);
    }
  }

  private push(entry: Entry): void {
    const heap = this.heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]!.expiresAt <= entry.expiresAt) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = entry;
  }

  private siftDown(start: number): void {
    const heap = this.heap;
    const entry = heap[start]!;
    let i = start;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && heap[right]!.expiresAt < heap[left]!.expiresAt ? right : left;
      if (heap[child]!.expiresAt >= entry.expiresAt) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = entry;
  }
}
