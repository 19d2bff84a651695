import { CareLedgerError, InvalidInputError } from '../core/errors.js';
import type { Hex } from '../core/hex.js';
import type { ConsentView } from './consentDecision.js';

/**
 * Every consent of recently read patients, so a decision needs no chain call. Least recently used patients
 * are evicted past `maxPatients`; every operation is O(1) (a `Map` keeps insertion order, and a hit moves
 * its patient to the end).
 *
 * The chain is the authority: an event about a patient's consents or delegates drops their entry and the
 * next read goes to the chain. A read that started before such an event and finishes after it would put
 * stale consents back, so the cache remembers the block of each patient's latest event (a "tombstone") and
 * refuses a `set` read at an older block.
 */

export interface ConsentCacheEntry<T extends ConsentView = ConsentView> {
  readonly consents: readonly T[];
  /** The block the consents were read at. */
  readonly asOfBlock: bigint;
}

/**
 * A `ConsentRegistry` event: a `ConsentChainEvent` of `ports.ts` (`type`, `patient`) or a log as viem decodes
 * it (`eventName`, `args.patient`).
 */
export type ConsentCacheEvent = ({ readonly type: string } | { readonly eventName: string }) & {
  readonly patient?: Hex | undefined;
  readonly args?: { readonly patient?: Hex | undefined } | undefined;
  /** Null or absent for a pending log. */
  readonly blockNumber?: bigint | number | null | undefined;
};

export interface ConsentCacheOptions {
  /** Patients kept; least recently used beyond it are evicted. Default 100,000. */
  readonly maxPatients?: number;
  /** Patients whose latest event block is remembered. Default `maxPatients`. */
  readonly maxTombstones?: number;
  /**
   * Safety net against a missed event (a dropped subscription): entries older than this are not served.
   * Default 5 minutes; 0 disables it.
   */
  readonly maxAgeMs?: number;
  /** Clock for `maxAgeMs`, in milliseconds. Default `Date.now`. */
  readonly now?: () => number;
}

export interface ConsentCacheStats {
  hits: number;
  misses: number;
  evictions: number;
  invalidations: number;
  /** `set` calls refused because an event newer than the read had arrived. */
  staleRefused: number;
}

/** Events that never change who may read what (the break-glass log). */
const IGNORED_EVENTS: ReadonlySet<string> = new Set(['BreakGlassAccess']);

interface StoredEntry<T extends ConsentView> extends ConsentCacheEntry<T> {
  readonly storedAt: number;
}

function toBlock(value: bigint | number, what: string): bigint {
  if (typeof value === 'bigint' ? value < 0n : !Number.isSafeInteger(value) || value < 0) {
    throw new InvalidInputError(
      'CONSENT.CACHE_BAD_BLOCK',
      `${what} must be a non-negative integer block number.`,
      {
        details: { value: String(value) },
      },
    );
  }
  return BigInt(value);
}

function positiveInteger(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new InvalidInputError('CONSENT.CACHE_BAD_OPTION', `${what} must be a positive integer.`, {
      details: { value },
    });
  }
  return value;
}

// Scope hashes lower-case, as `decideAccess` compares them exactly; addresses too, for the common fast path.
function normalise<T extends ConsentView>(consent: T): T {
  return Object.freeze({
    ...consent,
    patient: consent.patient.toLowerCase() as Hex,
    grantee: consent.grantee.toLowerCase() as Hex,
    scopes: Object.freeze(consent.scopes.map((scope) => scope.toLowerCase() as Hex)),
  });
}

export class ConsentCache<T extends ConsentView = ConsentView> {
  readonly #entries = new Map<string, StoredEntry<T>>();
  readonly #tombstones = new Map<string, bigint>();
  readonly #maxPatients: number;
  readonly #maxTombstones: number;
  readonly #maxAgeMs: number;
  readonly #now: () => number;
  // The newest block of any tombstone evicted: a patient without a tombstone may have lost one up to here.
  #evictedTombstoneBlock = -1n;
  #highestBlock = -1n;
  readonly #stats: ConsentCacheStats = {
    hits: 0,
    misses: 0,
    evictions: 0,
    invalidations: 0,
    staleRefused: 0,
  };

  constructor(options: ConsentCacheOptions = {}) {
    this.#maxPatients = positiveInteger(options.maxPatients ?? 100_000, 'maxPatients');
    this.#maxTombstones = positiveInteger(options.maxTombstones ?? this.#maxPatients, 'maxTombstones');
    this.#maxAgeMs = options.maxAgeMs ?? 5 * 60_000;
    this.#now = options.now ?? Date.now;
  }

  /** The patient's consents, or undefined if they must be read from the chain. */
  get(patient: Hex): ConsentCacheEntry<T> | undefined {
    const key = patient.toLowerCase();
    const entry = this.#entries.get(key);
    if (entry === undefined) {
      this.#stats.misses++;
      return undefined;
    }
    this.#entries.delete(key);
    if (this.#maxAgeMs > 0 && this.#now() - entry.storedAt > this.#maxAgeMs) {
      this.#stats.misses++;
      return undefined;
    }
    this.#entries.set(key, entry);
    this.#stats.hits++;
    return entry;
  }

  /**
   * Stores every consent of `patient` as read at block `asOfBlock`. Returns false, storing nothing, if an
   * event for the patient newer than that block has been applied (the read is already stale).
   */
  set(patient: Hex, consents: readonly T[], asOfBlock: bigint | number): boolean {
    const key = patient.toLowerCase();
    const block = toBlock(asOfBlock, 'asOfBlock');
    for (const consent of consents) {
      if (consent.patient.toLowerCase() !== key) {
        throw new CareLedgerError(
          'CONSENT.CACHE_PATIENT_MISMATCH',
          `Consent ${String(consent.id)} belongs to patient ${consent.patient}, not ${patient}; it cannot be cached under ${patient}.`,
        );
      }
    }
    if (block > this.#highestBlock) this.#highestBlock = block;
    const tombstone = this.#tombstones.get(key) ?? this.#evictedTombstoneBlock;
    if (block < tombstone) {
      this.#stats.staleRefused++;
      return false;
    }
    this.#entries.delete(key);
    this.#entries.set(key, {
      consents: Object.freeze(consents.map(normalise)),
      asOfBlock: block,
      storedAt: this.#now(),
    });
    if (this.#entries.size > this.#maxPatients) {
      this.#entries.delete(this.#entries.keys().next().value as string);
      this.#stats.evictions++;
    }
    return true;
  }

  /**
   * Drops the patient's entry. With `atBlock` (the block of a change the caller knows of), a read older than
   * it is refused afterwards, as after an event.
   */
  invalidate(patient: Hex, atBlock?: bigint | number): void {
    const key = patient.toLowerCase();
    if (this.#entries.delete(key)) this.#stats.invalidations++;
    if (atBlock !== undefined) this.#tomb(key, toBlock(atBlock, 'atBlock'));
  }

  /**
   * Applies a chain event: any event naming a patient (`ConsentGranted`, `ConsentRevoked`,
   * `DelegateAppointed`, `DelegateRemoved`, or one not known here) drops that patient's entry; the
   * break-glass log changes no consent and is ignored. Returns true if the event concerned a patient.
   * A pending event (no block yet) counts as one block past the newest seen.
   */
  apply(event: ConsentCacheEvent): boolean {
    if (IGNORED_EVENTS.has('type' in event ? event.type : event.eventName)) return false;
    const patient = event.patient ?? event.args?.patient;
    if (patient === undefined) return false;
    const block =
      event.blockNumber === null || event.blockNumber === undefined
        ? this.#highestBlock + 1n
        : toBlock(event.blockNumber, 'blockNumber');
    this.invalidate(patient, block);
    return true;
  }

  /**
   * Forgets everything, e.g. when the event subscription restarts and events may have been missed. Pass the
   * current head block: reads at older blocks are refused afterwards, since they may predate a missed event.
   */
  clear(headBlock?: bigint | number): void {
    this.#raiseEvicted(this.#highestBlock);
    if (headBlock !== undefined) this.#raiseEvicted(toBlock(headBlock, 'headBlock'));
    this.#tombstones.clear();
    this.#stats.invalidations += this.#entries.size;
    this.#entries.clear();
  }

  get size(): number {
    return this.#entries.size;
  }

  get stats(): Readonly<ConsentCacheStats> {
    return { ...this.#stats };
  }

  #tomb(key: string, block: bigint): void {
    if (block > this.#highestBlock) this.#highestBlock = block;
    const previous = this.#tombstones.get(key);
    this.#tombstones.delete(key);
    this.#tombstones.set(key, previous !== undefined && previous > block ? previous : block);
    if (this.#tombstones.size > this.#maxTombstones) {
      const [oldestKey, oldestBlock] = this.#tombstones.entries().next().value as [string, bigint];
      this.#tombstones.delete(oldestKey);
      this.#raiseEvicted(oldestBlock);
    }
  }

  #raiseEvicted(block: bigint): void {
    if (block > this.#evictedTombstoneBlock) this.#evictedTombstoneBlock = block;
  }
}
