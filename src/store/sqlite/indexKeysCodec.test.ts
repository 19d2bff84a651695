import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { IndexEntries } from '../../records/ports.js';
import { MAX_DATE_MS, MIN_DATE_MS } from '../../records/search/dateRange.js';
import {
  decodeIndexKeys,
  EMPTY_INDEX_KEYS,
  encodeIndexKeys,
  IndexKeysFormatError,
} from './indexKeysCodec.js';

/** Decoded entries with plain byte arrays, for deep equality with what was encoded. */
const plain = (e: IndexEntries) => ({
  tokens: e.tokens.map((t) => ({ param: t.param, token: Array.from(t.token) })),
  dates: e.dates.map((d) => ({ ...d })),
});
const roundTrip = (e: IndexEntries) => plain(decodeIndexKeys(encodeIndexKeys(e)));
const bytes = (...b: number[]) => new Uint8Array(b);

describe('index_keys codec', () => {
  it('encodes an empty index as 4 bytes and decodes it back', () => {
    expect(Buffer.from(EMPTY_INDEX_KEYS).toString('hex')).toBe('01000000');
    expect(decodeIndexKeys(EMPTY_INDEX_KEYS)).toEqual({ tokens: [], dates: [] });
  });

  it('round-trips tokens and dates, in order, with duplicates, each parameter name stored once', () => {
    const entries: IndexEntries = {
      tokens: [
        { param: 'code', token: new TextEncoder().encode('http://loinc.org|8867-4') },
        { param: 'patient', token: new TextEncoder().encode('Patient/0190f0a4-1') },
        { param: 'code', token: new TextEncoder().encode('8867-4') },
        { param: 'code', token: new TextEncoder().encode('8867-4') },
        { param: 'identifier', token: new Uint8Array(16).fill(0xab) },
        { param: 'empty', token: new Uint8Array(0) },
      ],
      dates: [
        { param: 'date', low: 1_704_067_200_000, high: 1_704_067_200_999 },
        { param: 'birthdate', low: -2_208_988_800_000, high: -2_208_902_400_001 },
        { param: 'date', low: MIN_DATE_MS, high: MAX_DATE_MS },
      ],
    };
    expect(roundTrip(entries)).toEqual(plain(entries));
    const blob = encodeIndexKeys(entries);
    expect(blob.toString('latin1').split('code').length - 1).toBe(1);
    expect(blob.toString('latin1').split('date').length - 1).toBe(2); // 'date' and 'birthdate'
  });

  it('round-trips unicode parameter names and long tokens (multi-byte length prefixes)', () => {
    const long = new Uint8Array(300_000).map((_, i) => i % 251);
    const entries: IndexEntries = {
      tokens: [
        { param: 'näme-日本語-🩺', token: long },
        { param: 'x'.repeat(200), token: bytes(0, 0x80, 0xff) },
      ],
      dates: [{ param: 'näme-日本語-🩺', low: -0, high: 2 ** 53 - 1 }],
    };
    expect(roundTrip(entries)).toEqual(plain(entries));
  });

  it('round-trips any index (property)', () => {
    const param = fc.oneof(fc.constantFrom('code', 'patient', 'subject', 'identifier', 'date'), fc.string());
    const ms = fc.integer({ min: MIN_DATE_MS, max: MAX_DATE_MS });
    const entries = fc.record({
      tokens: fc.array(fc.record({ param, token: fc.uint8Array({ maxLength: 300 }) }), { maxLength: 40 }),
      dates: fc.array(
        fc.record({ param, low: ms, high: ms }).map((d) => ({ ...d, high: Math.max(d.low, d.high) })),
        { maxLength: 10 },
      ),
    });
    fc.assert(
      fc.property(entries, (e) => {
        expect(roundTrip(e)).toEqual(plain(e));
      }),
      { numRuns: 500 },
    );
  });

  it('rejects every proper prefix and any extension of a valid blob (property)', () => {
    const entries = fc.record({
      tokens: fc.array(fc.record({ param: fc.string(), token: fc.uint8Array({ maxLength: 40 }) }), {
        maxLength: 5,
      }),
      dates: fc.array(fc.record({ param: fc.string(), low: fc.integer(), high: fc.integer() }), {
        maxLength: 3,
      }),
    });
    fc.assert(
      fc.property(entries, fc.uint8Array({ minLength: 1, maxLength: 4 }), (e, extra) => {
        const blob = encodeIndexKeys(e);
        for (let n = 0; n < blob.length; n++) {
          expect(() => decodeIndexKeys(blob.subarray(0, n))).toThrow(IndexKeysFormatError);
        }
        expect(() => decodeIndexKeys(Buffer.concat([blob, extra]))).toThrow(/trailing bytes/);
      }),
      { numRuns: 200 },
    );
  });

  it('names what is wrong with a malformed blob', () => {
    const cases: [Uint8Array, RegExp][] = [
      [bytes(), /truncated format version .* at byte 0/],
      [bytes(2, 0, 0, 0), /unknown format version 2 at byte 0/],
      [bytes(1, 0, 0), /truncated date count/],
      [bytes(1, 0, 0, 0, 0), /1 trailing bytes at byte 4/],
      [bytes(1, 1, 5, 0x61), /truncated parameter name \(5 bytes needed, 1 left\)/],
      [bytes(1, 1, 2, 0xc3, 0x28, 0, 0), /parameter name is not valid UTF-8 at byte 3/],
      [bytes(1, 0, 1, 0, 0, 0), /parameter index 0 of 0 parameters at byte 3/],
      [bytes(1, 1, 1, 0x61, 1, 0, 3, 1, 2), /truncated token/],
      [bytes(1, 1, 1, 0x61, 0, 1, 0, ...new Array<number>(15).fill(0)), /truncated date range/],
      [bytes(1, 0x80, 0x00, 0, 0), /overlong varint for parameter count at byte 1/],
      [bytes(1, 0xff, 0xff, 0xff, 0xff, 0x7f), /parameter count out of range/],
      [bytes(1, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01), /longer than 5 bytes/],
    ];
    for (const [blob, message] of cases) {
      expect(() => decodeIndexKeys(blob), Buffer.from(blob).toString('hex')).toThrow(message);
      expect(() => decodeIndexKeys(blob)).toThrow(IndexKeysFormatError);
    }
  });

  it('decodes tokens as views into the blob, also of a Uint8Array that is a slice of a larger buffer', () => {
    const blob = encodeIndexKeys({ tokens: [{ param: 'p', token: bytes(7, 8, 9) }], dates: [] });
    const framed = new Uint8Array(blob.length + 10);
    framed.set(blob, 5);
    const decoded = decodeIndexKeys(framed.subarray(5, 5 + blob.length));
    expect(Array.from(decoded.tokens[0]?.token ?? [])).toEqual([7, 8, 9]);
  });
});
