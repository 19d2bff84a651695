import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, it, expect } from 'vitest';
import { hashLeaf } from '../merkle/hasher.js';
import { InvalidInputError } from '../core/errors.js';
import { fromHex, toHex } from '../core/hex.js';
import { captureError } from '../testing/fixtures.js';
import { assertValidKind, recordLeafData, recordLeafHash, type RecordLeafInput } from './recordLeaf.js';

const ORGANIZATION = Uint8Array.from({ length: 20 }, (_, i) => i + 1); // 01 02 … 14
const CONTENT_HASH = Uint8Array.from({ length: 32 }, (_, i) => 0xa0 + i); // a0 a1 … bf
const INPUT: RecordLeafInput = {
  organization: ORGANIZATION,
  id: Number.MAX_SAFE_INTEGER, // 0x001fffffffffffff
  kind: 'fhir.Observation',
  contentHash: CONTENT_HASH,
};

/** RFC 6962 leaf hash computed here with node:crypto only. */
function independentLeafHash(data: Uint8Array): string {
  return `0x${createHash('sha256')
    .update(Buffer.from([0x00]))
    .update(data)
    .digest('hex')}`;
}

describe('recordLeafData', () => {
  it('lays out "CLR1" || org(20) || uint64be(id) || contentHash(32) || utf8(kind), byte by byte', () => {
    const data = recordLeafData(INPUT);
    // prettier-ignore
    const expected = [
      0x43, 0x4c, 0x52, 0x31, // "CLR1"
      0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a,
      0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, // organization
      0x00, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // id, big-endian
      0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf,
      0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf, // hash
      0x66, 0x68, 0x69, 0x72, 0x2e, 0x4f, 0x62, 0x73, 0x65, 0x72, 0x76, 0x61, 0x74, 0x69, 0x6f, 0x6e, // "fhir.Observation"
    ];
    expect(data.length).toBe(80);
    expect(Array.from(data)).toEqual(expected);
  });

  it('encodes small ids big-endian in 8 bytes', () => {
    const data = recordLeafData({ ...INPUT, id: 258 });
    expect(Array.from(data.subarray(24, 32))).toEqual([0, 0, 0, 0, 0, 0, 0x01, 0x02]);
    expect(Array.from(recordLeafData({ ...INPUT, id: 2 ** 32 }).subarray(24, 32))).toEqual([
      0, 0, 0, 0x01, 0, 0, 0, 0,
    ]);
  });

  it('encodes the kind as UTF-8 at the end', () => {
    const data = recordLeafData({ ...INPUT, kind: 'a' });
    expect(data.length).toBe(65);
    expect(data[64]).toBe(0x61);
  });

  it('rejects a content hash or organisation of the wrong size', () => {
    expect(() => recordLeafData({ ...INPUT, contentHash: new Uint8Array(31) })).toThrow(
      'contentHash must be 32 bytes',
    );
    expect(() => recordLeafData({ ...INPUT, contentHash: new Uint8Array(33) })).toThrow(TypeError);
    expect(() => recordLeafData({ ...INPUT, organization: new Uint8Array(19) })).toThrow(
      'organization must be a 20-byte address',
    );
    expect(() => recordLeafData({ ...INPUT, organization: new Uint8Array(32) })).toThrow(TypeError);
  });
});

describe('recordLeafHash', () => {
  it('matches a golden value, SHA-256(0x00 || leaf data)', () => {
    const golden = '0x532e6c35a4bd56c634db17824f4ec8020cea4dbcf7e5dddc72df9e5a08797cf7';
    expect(toHex(recordLeafHash(INPUT))).toBe(golden);
    expect(independentLeafHash(recordLeafData(INPUT))).toBe(golden);
  });

  it('matches a golden value for a real record', () => {
    const content = new TextEncoder().encode('{"resourceType":"Observation"}');
    const contentHash = new Uint8Array(createHash('sha256').update(content).digest());
    expect(toHex(contentHash)).toBe('0x78a9eac8b9f991f85e5ffde6da2075ef2cc0bb3159cf98fec98e01ddddad77fd');
    const leaf = recordLeafHash({
      organization: fromHex('0x00112233445566778899aabbccddeeff00112233', 20),
      id: 1,
      kind: 'fhir.Observation',
      contentHash,
    });
    expect(toHex(leaf)).toBe('0x95377b21b3d9b6489d79f2e97a8b8f223d05980a865fba83ad945502b391d84d');
  });

  it('changes with the organisation, the id, the kind and the content', () => {
    const base = toHex(recordLeafHash(INPUT));
    const otherOrg = ORGANIZATION.slice();
    otherOrg[19] = 0x15;
    const otherHash = CONTENT_HASH.slice();
    otherHash[0] = 0x20;
    const variants = [
      { ...INPUT, organization: otherOrg },
      { ...INPUT, id: INPUT.id - 1 },
      { ...INPUT, id: 1 },
      { ...INPUT, kind: 'fhir.ObservatioN' },
      { ...INPUT, kind: 'fhir.Observation.' },
      { ...INPUT, contentHash: otherHash },
    ];
    const hashes = variants.map((v) => toHex(recordLeafHash(v)));
    for (const h of hashes) expect(h).not.toBe(base);
    expect(new Set(hashes).size).toBe(variants.length);
  });

  it('is not the plain SHA-256 of the leaf data (the 0x00 leaf prefix is there)', () => {
    const plain = `0x${createHash('sha256').update(recordLeafData(INPUT)).digest('hex')}`;
    expect(toHex(recordLeafHash(INPUT))).not.toBe(plain);
  });
});

describe('assertValidKind', () => {
  const valid = [
    'a',
    'Z',
    '0',
    'fhir.Observation',
    'urn:oid:2.16.840/x-y_z',
    'a'.repeat(64),
    `9${'-'.repeat(63)}`,
  ];
  for (const kind of valid) {
    it(`accepts ${JSON.stringify(kind.length > 20 ? `${kind.slice(0, 8)}…(${kind.length})` : kind)}`, () => {
      expect(() => assertValidKind(kind)).not.toThrow();
    });
  }

  const invalid: [string, unknown][] = [
    ['empty', ''],
    ['65 characters', 'a'.repeat(65)],
    ['a space', 'fhir Observation'],
    ['a leading space', ' fhir'],
    ['a leading dot', '.fhir'],
    ['a leading dash', '-fhir'],
    ['a leading underscore', '_fhir'],
    ['a trailing newline', 'fhir\n'],
    ['non-ASCII', 'fhir.Obsérvation'],
    ['a number', 42],
    ['null', null],
    ['undefined', undefined],
    ['an object', { kind: 'fhir' }],
    ['an array', ['fhir']],
  ];
  for (const [name, kind] of invalid) {
    it(`rejects ${name} with RECORD.INVALID_KIND`, () => {
      const error = captureError(() => assertValidKind(kind));
      expect(error).toBeInstanceOf(InvalidInputError);
      expect(error.code).toBe('RECORD.INVALID_KIND');
      expect(error.status).toBe(400);
      expect(error.details).toEqual({ kind });
    });
  }

  it('truncates a very long kind in the error details', () => {
    const error = captureError(() => assertValidKind('x'.repeat(500)));
    expect(error.details).toEqual({ kind: 'x'.repeat(100) });
  });
});

describe('recordLeafHash equals hashLeaf(recordLeafData(...))', () => {
  it('for any organisation, id, kind and content hash', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 20, maxLength: 20 }),
        fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        fc.string({ minLength: 1, maxLength: 64, unit: 'grapheme' }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        (organization, id, kind, contentHash) => {
          const input = { organization, id, kind, contentHash };
          expect(Buffer.from(recordLeafHash(input))).toEqual(Buffer.from(hashLeaf(recordLeafData(input))));
        },
      ),
      { numRuns: 500 },
    );
  });
});
