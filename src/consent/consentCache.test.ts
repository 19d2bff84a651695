import fc from 'fast-check';
import { getAddress } from 'viem';
import { describe, expect, it } from 'vitest';
import { CareLedgerError, InvalidInputError } from '../core/errors.js';
import type { Hex } from '../core/hex.js';
import { ConsentCache, type ConsentCacheEvent } from './consentCache.js';
import type { ConsentView } from './consentDecision.js';
import type { ConsentChainEvent, ConsentRecord } from './ports.js';

const patient = (n: number): Hex => `0x${n.toString(16).padStart(40, '0')}`;
const A = patient(0xa);
const B = patient(0xb);
const C = patient(0xc);

function consent(of: Hex, id = 1n): ConsentRecord {
  return {
    id,
    patient: of,
    grantee: getAddress(patient(0xbeef)),
    scopes: [`0x${'AB'.repeat(32)}`],
    purposes: 1,
    validFrom: 0n,
    validUntil: 10n,
    dataFrom: 0n,
    dataUntil: 0n,
    grantedBy: of,
    grantedAt: 0n,
    revokedAt: null,
    revokedBy: null,
  };
}

const granted = (of: Hex, blockNumber: number): ConsentChainEvent => ({
  type: 'ConsentGranted',
  consentId: 2n,
  patient: of,
  grantee: patient(0xbeef),
  purposes: 1,
  validUntil: 10n,
  grantedBy: of,
  blockNumber,
  logIndex: 0,
  transactionHash: `0x${'00'.repeat(32)}`,
});

// The chain port's types fit the cache and the decision as they are.
const _recordFits: ConsentView = consent(A);
const _eventFits: ConsentCacheEvent = granted(A, 1);
void _recordFits;
void _eventFits;

describe('ConsentCache', () => {
  it('misses, then serves what was set, keyed by patient whatever the case', () => {
    const cache = new ConsentCache<ConsentRecord>();
    expect(cache.get(A)).toBeUndefined();
    expect(cache.set(getAddress(A), [consent(getAddress(A))], 5)).toBe(true);
    const entry = cache.get(A);
    expect(entry?.asOfBlock).toBe(5n);
    expect(entry?.consents).toHaveLength(1);
    // Stored lower-case, as decisions compare scope hashes exactly; other fields kept.
    expect(entry?.consents[0]).toMatchObject({
      patient: A,
      grantee: patient(0xbeef),
      scopes: [`0x${'ab'.repeat(32)}`],
      grantedBy: getAddress(A),
      revokedAt: null,
    });
    expect(Object.isFrozen(entry?.consents[0])).toBe(true);
    expect(cache.stats).toMatchObject({ hits: 1, misses: 1 });
  });

  it('evicts the least recently used patient beyond its size', () => {
    const cache = new ConsentCache({ maxPatients: 2 });
    cache.set(A, [], 1);
    cache.set(B, [], 1);
    cache.get(A); // B is now the least recently used
    cache.set(C, [], 1);
    expect(cache.size).toBe(2);
    expect(cache.get(B)).toBeUndefined();
    expect(cache.get(A)).toBeDefined();
    expect(cache.get(C)).toBeDefined();
    expect(cache.stats.evictions).toBe(1);
  });

  it('behaves like a simple LRU list for any sequence of reads and writes', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 6 })), { maxLength: 60 }),
        (max, ops) => {
          const cache = new ConsentCache({ maxPatients: max });
          let model: number[] = [];
          for (const [write, n] of ops) {
            if (write) {
              cache.set(patient(n), [], 1);
              model = [...model.filter((m) => m !== n), n].slice(-max);
            } else {
              expect(cache.get(patient(n)) !== undefined).toBe(model.includes(n));
              if (model.includes(n)) model = [...model.filter((m) => m !== n), n];
            }
            expect(cache.size).toBe(model.length);
          }
        },
      ),
    );
  });

  it('drops a patient on their consent and delegate events, in either event shape', () => {
    const cache = new ConsentCache();
    const events: ConsentCacheEvent[] = [
      granted(A, 2),
      { type: 'ConsentRevoked', patient: A, blockNumber: 2 },
      { eventName: 'DelegateAppointed', args: { patient: getAddress(A) }, blockNumber: 2n },
      { eventName: 'DelegateRemoved', args: { patient: A }, blockNumber: 2n },
    ];
    for (const event of events) {
      cache.set(A, [], 2);
      cache.set(B, [], 2);
      expect(cache.apply(event)).toBe(true);
      expect(cache.get(A)).toBeUndefined();
      expect(cache.get(B)).toBeDefined();
    }
  });

  it('ignores the break-glass log and events without a patient', () => {
    const cache = new ConsentCache();
    cache.set(A, [], 2);
    expect(cache.apply({ type: 'BreakGlassAccess', patient: A, blockNumber: 3 })).toBe(false);
    expect(cache.apply({ eventName: 'Transfer', args: {}, blockNumber: 3n })).toBe(false);
    expect(cache.get(A)).toBeDefined();
  });

  it('refuses to store a read older than an event it missed', () => {
    const cache = new ConsentCache();
    // A read at block 10 is under way when a revocation at block 11 arrives.
    cache.apply({ type: 'ConsentRevoked', patient: A, blockNumber: 11 });
    expect(cache.set(A, [consent(A)], 10)).toBe(false);
    expect(cache.get(A)).toBeUndefined();
    expect(cache.set(A, [consent(A)], 11)).toBe(true);
    // Events never lower the bar.
    cache.apply({ type: 'ConsentRevoked', patient: A, blockNumber: 9 });
    expect(cache.set(A, [], 10)).toBe(false);
    expect(cache.stats.staleRefused).toBe(2);
    // Other patients are unaffected.
    expect(cache.set(B, [], 1)).toBe(true);
  });

  it('stays safe when it forgets old event blocks', () => {
    const cache = new ConsentCache({ maxTombstones: 1 });
    cache.apply(granted(A, 20));
    cache.apply(granted(B, 21)); // A's block is forgotten: every read older than 20 is now suspect
    expect(cache.set(A, [], 19)).toBe(false);
    expect(cache.set(C, [], 19)).toBe(false);
    expect(cache.set(A, [], 20)).toBe(true);
    expect(cache.set(B, [], 20)).toBe(false);
    expect(cache.set(B, [], 21)).toBe(true);
  });

  it('places a pending event just after the newest block seen', () => {
    const cache = new ConsentCache();
    cache.set(B, [], 30);
    cache.apply({ type: 'ConsentGranted', patient: A, blockNumber: null });
    expect(cache.set(A, [], 30)).toBe(false);
    expect(cache.set(A, [], 31)).toBe(true);
  });

  it('invalidates on request, optionally as of a block', () => {
    const cache = new ConsentCache();
    cache.set(A, [], 5);
    cache.invalidate(getAddress(A));
    expect(cache.get(A)).toBeUndefined();
    expect(cache.set(A, [], 4)).toBe(true);
    cache.invalidate(A, 8n);
    expect(cache.get(A)).toBeUndefined();
    expect(cache.set(A, [], 7)).toBe(false);
    expect(cache.set(A, [], 8)).toBe(true);
  });

  it('clears everything and refuses reads older than the head it is given', () => {
    const cache = new ConsentCache();
    cache.set(A, [], 5);
    cache.set(B, [], 6);
    cache.clear(40);
    expect(cache.size).toBe(0);
    expect(cache.set(A, [], 39)).toBe(false);
    expect(cache.set(A, [], 40)).toBe(true);
  });

  it('stops serving an entry older than maxAgeMs', () => {
    let now = 1_000;
    const cache = new ConsentCache({ maxAgeMs: 100, now: () => now });
    cache.set(A, [], 1);
    now += 100;
    expect(cache.get(A)).toBeDefined();
    now += 1;
    expect(cache.get(A)).toBeUndefined();
    expect(cache.size).toBe(0);
    const forever = new ConsentCache({ maxAgeMs: 0, now: () => now });
    forever.set(A, [], 1);
    now += 1e9;
    expect(forever.get(A)).toBeDefined();
  });

  it('rejects consents of another patient, bad block numbers and bad options', () => {
    const cache = new ConsentCache();
    expect(() => cache.set(A, [consent(B)], 1)).toThrow(CareLedgerError);
    expect(() => cache.set(A, [], -1)).toThrow(InvalidInputError);
    expect(() => cache.set(A, [], 1.5)).toThrow(/non-negative integer block/);
    expect(() => cache.apply({ type: 'ConsentGranted', patient: A, blockNumber: -2n })).toThrow(
      InvalidInputError,
    );
    expect(() => new ConsentCache({ maxPatients: 0 })).toThrow(InvalidInputError);
    expect(() => new ConsentCache({ maxTombstones: 1.5 })).toThrow(/positive integer/);
  });

  it('keeps its own copy of what it is given', () => {
    const cache = new ConsentCache();
    const list = [consent(A)];
    cache.set(A, list, 1);
    list.pop();
    expect(cache.get(A)?.consents).toHaveLength(1);
  });
});
