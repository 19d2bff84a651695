import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CareLedgerError, InvalidInputError } from '../../core/errors.js';
import { MAX_DETAIL_VALUE_LENGTH } from './errors.js';
import * as identifiers from './index.js';
import {
  canonicalKey,
  expiryToDate,
  Gs1ErrorCode,
  Gs1IdentifierError,
  isExpiryDate,
  normalizeGtin,
  parseDigitalLink,
  parseEpcUrn,
  parseGs1Identifier,
  toDigitalLink,
  toEpcUrn,
  validateGs1Identifier,
  withCompanyPrefixLength,
  type Gs1Identifier,
} from './gs1Identifiers.js';
import { gs1CheckDigit, hasValidCheckDigit } from './gs1CheckDigit.js';
import {
  catchGs1Error,
  cs82Value,
  gdti,
  giai,
  gs1Identifier,
  pgln,
  prefixLengthsOf,
  sgtin,
  validKey,
  withoutPrefixLength,
} from './testSupport.js';

/** TDS (and, for the PGLN, EPCIS 2.0) examples as URN ↔ canonical Digital Link pairs. */
const EXAMPLES: ReadonlyArray<[string, string]> = [
  ['urn:epc:id:sgtin:0614141.812345.6789', 'https://id.gs1.org/01/80614141123458/21/6789'],
  ['urn:epc:id:sgtin:0614141.712345.32a%2Fb', 'https://id.gs1.org/01/70614141123451/21/32a%2Fb'],
  ['urn:epc:id:sscc:0614141.1234567890', 'https://id.gs1.org/00/106141412345678908'],
  ['urn:epc:id:sgln:0614141.12345.400', 'https://id.gs1.org/414/0614141123452/254/400'],
  ['urn:epc:id:sgln:0614141.12345.0', 'https://id.gs1.org/414/0614141123452'],
  ['urn:epc:class:lgtin:4012345.012345.998877', 'https://id.gs1.org/01/04012345123456/10/998877'],
  ['urn:epc:idpat:sgtin:4012345.098765.*', 'https://id.gs1.org/01/04012345987652'],
  ['urn:epc:id:pgln:0614141.00777', 'https://id.gs1.org/417/0614141007776'],
  ['urn:epc:id:gdti:0614141.12345.006847', 'https://id.gs1.org/253/0614141123452006847'],
  ['urn:epc:id:giai:0614141.12345400', 'https://id.gs1.org/8004/061414112345400'],
  ['urn:epc:id:giai:0614141.32a%2Fb', 'https://id.gs1.org/8004/061414132a%2Fb'],
];

describe('URN ↔ Digital Link round trips', () => {
  it.each(EXAMPLES)('%s ↔ %s', (urn, uri) => {
    const fromUrn = parseEpcUrn(urn);
    expect(toDigitalLink(fromUrn)).toBe(uri);
    const fromUri = parseDigitalLink(uri).identifier;
    expect(fromUri).toEqual(withoutPrefixLength(fromUrn));
    expect(toEpcUrn(withCompanyPrefixLength(fromUri, 7))).toBe(urn);
    expect(canonicalKey(fromUrn)).toBe(canonicalKey(fromUri));
  });

  it('URN → Digital Link → URN, given the company prefix length, for any valid identifier', () => {
    fc.assert(
      fc.property(gs1Identifier, (id) => {
        const urn = toEpcUrn(id);
        const viaLink = parseDigitalLink(toDigitalLink(parseEpcUrn(urn))).identifier;
        expect(toEpcUrn(withCompanyPrefixLength(viaLink, id.companyPrefixLength ?? 0))).toBe(urn);
      }),
      { numRuns: 500 },
    );
  });

  it('Digital Link → URN → Digital Link for any valid identifier', () => {
    fc.assert(
      fc.property(gs1Identifier, (id) => {
        const uri = toDigitalLink(id);
        const fromUri = parseDigitalLink(uri).identifier;
        const urn = toEpcUrn(withCompanyPrefixLength(fromUri, id.companyPrefixLength ?? 0));
        expect(toDigitalLink(parseEpcUrn(urn))).toBe(uri);
      }),
      { numRuns: 500 },
    );
  });

  it('any valid PGLN, GDTI or GIAI round-trips through both forms unchanged', () => {
    fc.assert(
      fc.property(fc.oneof(pgln, gdti, giai), (id) => {
        expect(parseGs1Identifier(toEpcUrn(id))).toEqual(id);
        expect(parseGs1Identifier(toDigitalLink(id))).toEqual(withoutPrefixLength(id));
        expect(canonicalKey(parseGs1Identifier(toEpcUrn(id)))).toBe(toDigitalLink(id));
      }),
      { numRuns: 500 },
    );
  });

  it('any valid GTIN and serial round-trip through both forms unchanged', () => {
    fc.assert(
      fc.property(sgtin, (id) => {
        expect(parseGs1Identifier(toEpcUrn(id))).toEqual(id);
        expect(parseGs1Identifier(toDigitalLink(id))).toEqual({
          kind: 'sgtin',
          gtin: id.gtin,
          serial: id.serial,
        });
      }),
      { numRuns: 500 },
    );
  });
});

describe('parseGs1Identifier', () => {
  it('reads either form', () => {
    expect(parseGs1Identifier('urn:epc:id:sgtin:0614141.812345.6789')).toEqual({
      kind: 'sgtin',
      gtin: '80614141123458',
      serial: '6789',
      companyPrefixLength: 7,
    });
    expect(parseGs1Identifier('https://id.gs1.org/01/80614141123458/10/L1/21/6789?17=261231')).toEqual({
      kind: 'sgtin',
      gtin: '80614141123458',
      serial: '6789',
    });
  });

  it.each(['', '80614141123458', '(01)80614141123458(21)6789', 'mailto:x@example.com'])(
    'rejects %j as neither form',
    (value) => {
      const error = catchGs1Error(() => parseGs1Identifier(value));
      expect(error.code).toBe(Gs1ErrorCode.MALFORMED);
      expect(error.details).toEqual({ value, field: 'input' });
      expect(error.message).toMatch(/neither an EPC URN .* nor a GS1 Digital Link URI/);
    },
  );
});

describe('canonicalKey', () => {
  it('is equal for equal identifiers however they were written', () => {
    const keys = [
      'urn:epc:id:sgtin:0614141.812345.6789',
      'URN:EPC:ID:SGTIN:0614141.812345.%36789', // %36 is "6"
      'https://id.gs1.org/01/80614141123458/21/6789',
      'https://example.com/a/b/01/80614141123458/10/LOT/21/6789?17=261231',
      'http://ID.GS1.ORG/01/80614141123458/21/%36%37%38%39',
    ].map((value) => canonicalKey(parseGs1Identifier(value)));
    expect(new Set(keys)).toEqual(new Set(['https://id.gs1.org/01/80614141123458/21/6789']));
    // GTIN-13 padded to 14; a lot in the query is the same LGTIN as a lot in the path.
    expect(canonicalKey(parseGs1Identifier('https://id.gs1.org/01/9506000134352?10=A1'))).toBe(
      canonicalKey(parseGs1Identifier('https://id.gs1.org/01/09506000134352/10/A1')),
    );
  });

  it('ignores the company prefix length', () => {
    const withLength = gs1Identifier.chain((id) =>
      fc.tuple(fc.constant(id), fc.constantFrom(...prefixLengthsOf(id))),
    );
    fc.assert(
      fc.property(withLength, ([id, length]) => {
        expect(canonicalKey(withCompanyPrefixLength(id, length))).toBe(
          canonicalKey(withoutPrefixLength(id) as Gs1Identifier),
        );
      }),
    );
  });

  it('keeps the kinds apart: a party GLN, a location GLN and a GDTI on the same 13 digits are different things', () => {
    const keys = [
      { kind: 'pgln', gln: '0614141123452' },
      { kind: 'sgln', gln: '0614141123452', extension: '0' },
      { kind: 'gdti', gdti: '0614141123452', serial: '0' },
      { kind: 'giai', giai: '0614141123452' },
    ].map((id) => canonicalKey(id as Gs1Identifier));
    expect(new Set(keys).size).toBe(4);
  });

  it('is equal exactly when the identifiers are', () => {
    // Pairs drawn from a small pool so that equal pairs actually occur.
    const small: fc.Arbitrary<Gs1Identifier> = fc.oneof(
      fc.record({
        kind: fc.constant('sgtin' as const),
        gtin: fc.constantFrom('80614141123458', '09521234543213'),
        serial: fc.constantFrom('1', 'A', 'a', '1/'),
      }),
      fc.record({
        kind: fc.constant('lgtin' as const),
        gtin: fc.constantFrom('80614141123458', '09521234543213'),
        lot: fc.constantFrom('1', 'A', 'a', '1/'),
      }),
      fc.record({
        kind: fc.constant('gtin' as const),
        gtin: fc.constantFrom('80614141123458', '09521234543213'),
      }),
      fc.record({
        kind: fc.constant('sgln' as const),
        gln: fc.constantFrom('0614141123452'),
        extension: fc.constantFrom('0', '1', 'A'),
      }),
      fc.record({
        kind: fc.constant('pgln' as const),
        gln: fc.constantFrom('0614141123452', '4012345000009'),
      }),
      fc.record({
        kind: fc.constant('gdti' as const),
        gdti: fc.constantFrom('0614141123452', '4012345555554'),
        serial: fc.constantFrom('1', 'A', 'a', '1/'),
      }),
      fc.record({
        kind: fc.constant('giai' as const),
        giai: fc.constantFrom('0614141123452', '06141411', '061414112345400', '0614141A', '0614141a'),
      }),
    );
    fc.assert(
      fc.property(fc.oneof(small, gs1Identifier), fc.oneof(small, gs1Identifier), (a, b) => {
        const same =
          JSON.stringify(sorted(withoutPrefixLength(a))) === JSON.stringify(sorted(withoutPrefixLength(b)));
        expect(canonicalKey(a) === canonicalKey(b)).toBe(same);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('normalizeGtin', () => {
  it.each([
    ['96385074', '00000096385074'],
    ['614141000036', '00614141000036'],
    ['4006381333931', '04006381333931'],
    ['80614141123458', '80614141123458'],
  ])('%s → %s', (gtin, normalized) => {
    expect(normalizeGtin(gtin)).toBe(normalized);
  });

  it.each([
    ['', Gs1ErrorCode.MALFORMED, /only the digits/],
    ['8061414112345', Gs1ErrorCode.CHECK_DIGIT, /expected 8061414112347/],
    ['806141411234', Gs1ErrorCode.CHECK_DIGIT, /ends in check digit 4/],
    ['0614141', Gs1ErrorCode.MALFORMED, /has 7 digits; a GTIN has 8, 12, 13 or 14/],
    ['000080614141123458', Gs1ErrorCode.MALFORMED, /has 18 digits/],
    ['8061414112345x', Gs1ErrorCode.MALFORMED, /only the digits/],
  ])('rejects %j', (gtin, code, message) => {
    const error = catchGs1Error(() => normalizeGtin(gtin));
    expect(error.code).toBe(code);
    expect(error.details).toEqual({ value: gtin, field: 'gtin' });
    expect(error.message).toMatch(message);
  });

  it('keeps a valid GTIN valid and 14 digits long', () => {
    fc.assert(
      fc.property(fc.constantFrom(8, 12, 13, 14).chain(validKey), (gtin) => {
        const normalized = normalizeGtin(gtin);
        expect(normalized).toHaveLength(14);
        expect(normalized.endsWith(gtin)).toBe(true);
        expect(hasValidCheckDigit(normalized)).toBe(true);
      }),
    );
  });
});

describe('check digits through the parsers', () => {
  const mutate = (key: string, position: number, shift: number): string =>
    key.slice(0, position) + String((Number(key[position]) + shift) % 10) + key.slice(position + 1);

  it('any single-digit change of a valid GTIN, SSCC, GLN, party GLN or GDTI is rejected as GS1.CHECK_DIGIT', () => {
    const cases = fc.oneof(
      validKey(14).map((key) => ({ key, toUri: (k: string) => `https://id.gs1.org/01/${k}`, field: 'gtin' })),
      validKey(18).map((key) => ({ key, toUri: (k: string) => `https://id.gs1.org/00/${k}`, field: 'sscc' })),
      validKey(13).map((key) => ({ key, toUri: (k: string) => `https://id.gs1.org/414/${k}`, field: 'gln' })),
      validKey(13).map((key) => ({
        key,
        toUri: (k: string) => `https://id.gs1.org/417/${k}`,
        field: 'pgln',
      })),
      validKey(13).map((key) => ({
        key,
        toUri: (k: string) => `https://id.gs1.org/253/${k}DOC-7`,
        field: 'gdti',
      })),
    );
    fc.assert(
      fc.property(cases, fc.nat(), fc.integer({ min: 1, max: 9 }), ({ key, toUri, field }, at, shift) => {
        expect(() => parseDigitalLink(toUri(key))).not.toThrow();
        const wrong = mutate(key, at % key.length, shift);
        const error = catchGs1Error(() => parseDigitalLink(toUri(wrong)));
        expect(error.code).toBe(Gs1ErrorCode.CHECK_DIGIT);
        expect(error.details.field).toBe(field);
        expect(error.message).toContain(`expected ${wrong.slice(0, -1)}${gs1CheckDigit(wrong.slice(0, -1))}`);
      }),
      { numRuns: 500 },
    );
  });

  it('a single-digit change of a party GLN or GDTI key given as an object is rejected by every writer', () => {
    fc.assert(
      fc.property(fc.oneof(pgln, gdti), fc.nat(), fc.integer({ min: 1, max: 9 }), (id, at, shift) => {
        const wrong: Gs1Identifier =
          id.kind === 'pgln'
            ? { ...id, gln: mutate(id.gln, at % 13, shift) }
            : { ...id, gdti: mutate(id.gdti, at % 13, shift) };
        for (const write of [toEpcUrn, toDigitalLink, canonicalKey]) {
          const error = catchGs1Error(() => write(wrong));
          expect(error.code).toBe(Gs1ErrorCode.CHECK_DIGIT);
          expect(error.details.field).toBe(id.kind);
        }
      }),
    );
  });

  it('a single-digit change of a GTIN given as an object is rejected by toEpcUrn, toDigitalLink and canonicalKey', () => {
    fc.assert(
      fc.property(sgtin, fc.nat(), fc.integer({ min: 1, max: 9 }), (id, at, shift) => {
        const wrong = { ...id, gtin: mutate(id.gtin, at % 14, shift) };
        for (const write of [toEpcUrn, toDigitalLink, canonicalKey]) {
          expect(catchGs1Error(() => write(wrong)).code).toBe(Gs1ErrorCode.CHECK_DIGIT);
        }
      }),
    );
  });
});

describe('robustness: arbitrary input only ever raises Gs1IdentifierError', () => {
  const seeds = [
    ...EXAMPLES.flat(),
    'https://example.com/p/01/09521234543213/10/A%2F1?17=261200&10=x',
    'urn:epc:idpat:sgtin:0614141.812345.*',
    'https://id.example.com/253/4012345000054987',
    'https://example.com/assets/8004/4000001111?17=261231',
    'urn:epc:id:pgln:061414112345.',
  ];
  /** A valid URN or URI with a random slice replaced by random text. */
  const mutated = fc
    .tuple(
      fc.constantFrom(...seeds),
      fc.nat(),
      fc.nat({ max: 8 }),
      fc.string({ unit: 'binary', maxLength: 8 }),
    )
    .map(([seed, at, removed, inserted]) => {
      const position = at % (seed.length + 1);
      return seed.slice(0, position) + inserted + seed.slice(position + removed);
    });
  const anyString = fc.oneof(fc.string({ unit: 'binary' }), mutated, cs82Value);

  const throwing: Array<[string, (value: string) => unknown]> = [
    ['parseEpcUrn', parseEpcUrn],
    ['parseDigitalLink', parseDigitalLink],
    ['parseGs1Identifier', parseGs1Identifier],
    ['normalizeGtin', normalizeGtin],
    ['gs1CheckDigit', gs1CheckDigit],
    ['expiryToDate', (value) => expiryToDate(value)],
    ['toDigitalLink(…, base)', (value) => toDigitalLink({ kind: 'gtin', gtin: '09521234543213' }, value)],
    [
      'toEpcUrn(sgtin with serial)',
      (value) => toEpcUrn({ kind: 'sgtin', gtin: '09521234543213', serial: value, companyPrefixLength: 7 }),
    ],
    [
      'toDigitalLink(lgtin with lot)',
      (value) => toDigitalLink({ kind: 'lgtin', gtin: '09521234543213', lot: value }),
    ],
    [
      'toDigitalLink(sgln with extension)',
      (value) => toDigitalLink({ kind: 'sgln', gln: '0614141123452', extension: value }),
    ],
    [
      'toEpcUrn(gdti with serial)',
      (value) => toEpcUrn({ kind: 'gdti', gdti: '0614141123452', serial: value, companyPrefixLength: 7 }),
    ],
    ['toDigitalLink(giai)', (value) => toDigitalLink({ kind: 'giai', giai: value })],
    ['toEpcUrn(giai)', (value) => toEpcUrn({ kind: 'giai', giai: value, companyPrefixLength: 7 })],
    ['toDigitalLink(pgln)', (value) => toDigitalLink({ kind: 'pgln', gln: value })],
  ];

  it.each(throwing)('%s', (_name, action) => {
    fc.assert(
      fc.property(anyString, (value) => {
        try {
          action(value);
        } catch (error) {
          expect(error).toBeInstanceOf(Gs1IdentifierError);
          const gs1Error = error as Gs1IdentifierError;
          expect(Object.values(Gs1ErrorCode)).toContain(gs1Error.code);
          expect(gs1Error.details.value.length).toBeLessThanOrEqual(MAX_DETAIL_VALUE_LENGTH);
          expect(gs1Error.message.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('parsers that succeed on arbitrary input return identifiers that validate and re-parse to themselves', () => {
    fc.assert(
      fc.property(mutated, (value) => {
        let id: Gs1Identifier;
        try {
          id = parseGs1Identifier(value);
        } catch {
          return;
        }
        expect(validateGs1Identifier(id)).toBe(id);
        expect(parseDigitalLink(toDigitalLink(id)).identifier).toEqual(withoutPrefixLength(id));
      }),
      { numRuns: 1000 },
    );
  });

  it('boolean checks never throw', () => {
    fc.assert(
      fc.property(anyString, (value) => {
        expect(typeof hasValidCheckDigit(value)).toBe('boolean');
        expect(typeof isExpiryDate(value)).toBe('boolean');
      }),
    );
  });

  it('non-string input is a GS1.MALFORMED error too, never a TypeError', () => {
    for (const value of [undefined, null, 42, {}, [], Symbol('x')]) {
      for (const action of [
        parseEpcUrn,
        parseDigitalLink,
        parseGs1Identifier,
        normalizeGtin,
        gs1CheckDigit,
        expiryToDate,
      ]) {
        expect(catchGs1Error(() => action(value as never)).code).toBe(Gs1ErrorCode.MALFORMED);
      }
      expect(catchGs1Error(() => toDigitalLink(value as never)).code).toBe(Gs1ErrorCode.MALFORMED);
    }
  });
});

describe('Gs1IdentifierError', () => {
  it('every error code is reachable', () => {
    const reached = new Set(
      [
        () => parseEpcUrn('urn:epc:id:sgtin:0614141.812345.a/b'),
        () => parseDigitalLink('https://id.gs1.org/01/80614141123459'),
        () => parseEpcUrn('urn:epc:id:grai:0614141.12345.400'),
        () => parseDigitalLink('https://id.gs1.org/01/80614141123458/22/V'),
      ].map((action) => catchGs1Error(action).code),
    );
    expect([...reached].sort()).toEqual(Object.values(Gs1ErrorCode).sort());
  });

  it.each<[string, string[], Array<() => unknown>]>([
    [
      'PGLN',
      [Gs1ErrorCode.MALFORMED, Gs1ErrorCode.CHECK_DIGIT],
      [
        () => parseEpcUrn('urn:epc:id:pgln:0614141.0077'),
        () => parseDigitalLink('https://id.gs1.org/417/0614141007777'),
      ],
    ],
    [
      'GDTI',
      [Gs1ErrorCode.MALFORMED, Gs1ErrorCode.CHECK_DIGIT, Gs1ErrorCode.UNSUPPORTED],
      [
        () => parseEpcUrn('urn:epc:id:gdti:0614141.12345.a/b'),
        () => parseDigitalLink('https://id.gs1.org/253/0614141123453006847'),
        () => parseDigitalLink('https://id.gs1.org/253/0614141123452'), // no serial: a document type
      ],
    ],
    [
      'GIAI (it has no check digit)',
      [Gs1ErrorCode.MALFORMED, Gs1ErrorCode.UNSUPPORTED],
      [
        () => parseEpcUrn(`urn:epc:id:giai:0614141.${'x'.repeat(24)}`),
        () => parseDigitalLink('https://id.gs1.org/8004/1234ABC'), // a 4-digit company prefix
      ],
    ],
  ])('the error codes a %s can raise are all reachable', (_name, codes, actions) => {
    const reached = new Set(actions.map((action) => catchGs1Error(action).code));
    expect([...reached].sort()).toEqual([...codes].sort());
  });

  it('is a 400 InvalidInputError with FHIR issue type invalid and a named class', () => {
    const error = catchGs1Error(() => parseGs1Identifier('nonsense'));
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error).toBeInstanceOf(CareLedgerError);
    expect(error.name).toBe('Gs1IdentifierError');
    expect(error.status).toBe(400);
    expect(error.issueType).toBe('invalid');
    expect(error.stack).toContain('Gs1IdentifierError');
  });

  it('cuts details.value to 200 characters and keeps messages short', () => {
    const long = `urn:epc:id:sgtin:0614141.812345.${'x'.repeat(5000)}`;
    const error = catchGs1Error(() => parseEpcUrn(long));
    expect(error.details.value).toBe(long.slice(0, MAX_DETAIL_VALUE_LENGTH));
    expect(error.message.length).toBeLessThan(300);
  });

  it('is exported, with every function, from index.ts', () => {
    for (const name of [
      'gs1CheckDigit',
      'hasValidCheckDigit',
      'parseEpcUrn',
      'toEpcUrn',
      'parseDigitalLink',
      'toDigitalLink',
      'parseGs1Identifier',
      'canonicalKey',
      'normalizeGtin',
      'isExpiryDate',
      'expiryToDate',
      'withCompanyPrefixLength',
      'validateGs1Identifier',
      'Gs1IdentifierError',
      'Gs1ErrorCode',
    ]) {
      expect(identifiers).toHaveProperty(name);
    }
  });
});

describe('withCompanyPrefixLength', () => {
  it('returns a copy with the length set, leaving the original alone', () => {
    const id: Gs1Identifier = { kind: 'gtin', gtin: '80614141123458' };
    expect(withCompanyPrefixLength(id, 7)).toEqual({
      kind: 'gtin',
      gtin: '80614141123458',
      companyPrefixLength: 7,
    });
    expect(id).toEqual({ kind: 'gtin', gtin: '80614141123458' });
  });

  it.each([5, 13, 6.5])('rejects %s', (length) => {
    const error = catchGs1Error(() =>
      withCompanyPrefixLength({ kind: 'gtin', gtin: '80614141123458' }, length),
    );
    expect(error.code).toBe(Gs1ErrorCode.MALFORMED);
    expect(error.details).toEqual({ value: String(length), field: 'companyPrefixLength' });
  });

  it('gives a GIAI only a length that ends on its digits and leaves an asset reference', () => {
    const id: Gs1Identifier = { kind: 'giai', giai: '4000001111' };
    expect(withCompanyPrefixLength(id, 7)).toEqual({ ...id, companyPrefixLength: 7 });
    expect(withCompanyPrefixLength(id, 9)).toEqual({ ...id, companyPrefixLength: 9 });
    for (const [giai, length, message] of [
      ['4000001111', 10, /no individual asset reference would be left/],
      ['4000001111', 12, /no individual asset reference would be left/],
      ['400000A111', 7, /"400000A" is not all digits/],
    ] as const) {
      const error = catchGs1Error(() => withCompanyPrefixLength({ kind: 'giai', giai }, length));
      expect(error.code).toBe(Gs1ErrorCode.MALFORMED);
      expect(error.details).toEqual({ value: giai, field: 'companyPrefixLength' });
      expect(error.message).toMatch(message);
    }
  });
});

function sorted(value: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b)));
}
