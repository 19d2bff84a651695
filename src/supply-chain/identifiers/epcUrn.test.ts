import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseEpcUrn, toEpcUrn } from './epcUrn.js';
import { Gs1ErrorCode, type Gs1Field } from './errors.js';
import type { Gs1Identifier } from './types.js';
import { catchGs1Error, gs1Identifier } from './testSupport.js';

describe('parseEpcUrn: EPC Tag Data Standard examples', () => {
  it.each<[string, Gs1Identifier]>([
    // TDS 6.3.1: SGTIN (01)80614141123458(21)6789
    [
      'urn:epc:id:sgtin:0614141.812345.6789',
      { kind: 'sgtin', gtin: '80614141123458', serial: '6789', companyPrefixLength: 7 },
    ],
    // TDS 6.3.1: a serial with a "/" escaped: (01)70614141123451(21)32a/b
    [
      'urn:epc:id:sgtin:0614141.712345.32a%2Fb',
      { kind: 'sgtin', gtin: '70614141123451', serial: '32a/b', companyPrefixLength: 7 },
    ],
    // TDS 6.3.2: SSCC (00)106141412345678908
    [
      'urn:epc:id:sscc:0614141.1234567890',
      { kind: 'sscc', sscc: '106141412345678908', companyPrefixLength: 7 },
    ],
    // TDS 6.3.3: SGLN (414)0614141123452(254)5678 and without extension
    [
      'urn:epc:id:sgln:0614141.12345.5678',
      { kind: 'sgln', gln: '0614141123452', extension: '5678', companyPrefixLength: 7 },
    ],
    [
      'urn:epc:id:sgln:0614141.12345.400',
      { kind: 'sgln', gln: '0614141123452', extension: '400', companyPrefixLength: 7 },
    ],
    [
      'urn:epc:id:sgln:0614141.12345.0',
      { kind: 'sgln', gln: '0614141123452', extension: '0', companyPrefixLength: 7 },
    ],
    // TDS 6.4 / EPCIS examples: LGTIN class (01)04012345123456(10)998877 and an SGTIN pattern
    [
      'urn:epc:class:lgtin:4012345.012345.998877',
      { kind: 'lgtin', gtin: '04012345123456', lot: '998877', companyPrefixLength: 7 },
    ],
    [
      'urn:epc:idpat:sgtin:4012345.098765.*',
      { kind: 'gtin', gtin: '04012345987652', companyPrefixLength: 7 },
    ],
    // TDS 6.3.7 / 7.7: GDTI (253)0614141123452006847 (the serial component keeps its leading zeros)
    [
      'urn:epc:id:gdti:0614141.12345.006847',
      { kind: 'gdti', gdti: '0614141123452', serial: '006847', companyPrefixLength: 7 },
    ],
    // TDS 6.3.5 / 7.6: GIAI (8004)061414112345400, and (8004)061414132a/b with its "/" escaped
    ['urn:epc:id:giai:0614141.12345400', { kind: 'giai', giai: '061414112345400', companyPrefixLength: 7 }],
    ['urn:epc:id:giai:0614141.32a%2Fb', { kind: 'giai', giai: '061414132a/b', companyPrefixLength: 7 }],
    // EPCIS 2.0 examples: an owning party PGLN (417)0614141007776
    ['urn:epc:id:pgln:0614141.00777', { kind: 'pgln', gln: '0614141007776', companyPrefixLength: 7 }],
    // The GS1 event hash reference implementation's vectors: PGLN, GDTI and GIAI
    ['urn:epc:id:pgln:4012345.00000', { kind: 'pgln', gln: '4012345000009', companyPrefixLength: 7 }],
    [
      'urn:epc:id:gdti:4012345.55555.1234',
      { kind: 'gdti', gdti: '4012345555554', serial: '1234', companyPrefixLength: 7 },
    ],
    ['urn:epc:id:giai:4000001.111', { kind: 'giai', giai: '4000001111', companyPrefixLength: 7 }],
  ])('%s', (urn, expected) => {
    expect(parseEpcUrn(urn)).toEqual(expected);
    expect(toEpcUrn(expected)).toBe(urn);
  });

  it('handles company prefixes of 6 and 12 digits (an SGLN location reference may then be empty)', () => {
    expect(parseEpcUrn('urn:epc:id:sgtin:061414.8123456.1')).toMatchObject({
      gtin: '80614141234567',
      companyPrefixLength: 6,
    });
    expect(parseEpcUrn('urn:epc:id:sgtin:061414112345.8.1')).toMatchObject({
      gtin: '80614141123458',
      companyPrefixLength: 12,
    });
    expect(parseEpcUrn('urn:epc:id:sgln:061414112345..0')).toEqual({
      kind: 'sgln',
      gln: '0614141123452',
      extension: '0',
      companyPrefixLength: 12,
    });
    expect(toEpcUrn({ kind: 'sgln', gln: '0614141123452', extension: '0', companyPrefixLength: 12 })).toBe(
      'urn:epc:id:sgln:061414112345..0',
    );
    expect(parseEpcUrn('urn:epc:id:sscc:061414112345.12345')).toMatchObject({ sscc: '106141411234523459' });
    // PGLN party reference and GDTI document type may be empty too; a GIAI asset reference may not.
    expect(parseEpcUrn('urn:epc:id:pgln:061414112345.')).toEqual({
      kind: 'pgln',
      gln: '0614141123452',
      companyPrefixLength: 12,
    });
    expect(parseEpcUrn('urn:epc:id:gdti:061414112345..A')).toEqual({
      kind: 'gdti',
      gdti: '0614141123452',
      serial: 'A',
      companyPrefixLength: 12,
    });
    expect(toEpcUrn({ kind: 'gdti', gdti: '0614141123452', serial: 'A', companyPrefixLength: 12 })).toBe(
      'urn:epc:id:gdti:061414112345..A',
    );
    expect(parseEpcUrn('urn:epc:id:giai:061414.1')).toEqual({
      kind: 'giai',
      giai: '0614141',
      companyPrefixLength: 6,
    });
    expect(parseEpcUrn('urn:epc:id:giai:061414112345.X')).toEqual({
      kind: 'giai',
      giai: '061414112345X',
      companyPrefixLength: 12,
    });
  });

  it('reads GDTI serial components and GIAI asset references as GS3A3 components (every character of set 82)', () => {
    // The GDTI serial has at most 17 characters: the 20 symbols in two halves.
    expect(parseEpcUrn(`urn:epc:id:gdti:0614141.12345.!%22%25%26'()*+,-`)).toMatchObject({
      serial: `!"%&'()*+,-`,
    });
    expect(parseEpcUrn('urn:epc:id:gdti:0614141.12345..%2F:;%3C=%3E%3F_')).toMatchObject({
      serial: './:;<=>?_',
    });
    expect(toEpcUrn({ kind: 'gdti', gdti: '0614141123452', serial: 'a/b.c?', companyPrefixLength: 7 })).toBe(
      'urn:epc:id:gdti:0614141.12345.a%2Fb.c%3F',
    );
    // A GIAI of 7 + 20 characters; dots in the asset reference are part of it.
    const reference = `!"%&'()*+,-./:;<=>?_`;
    const urn = `urn:epc:id:giai:0614141.!%22%25%26'()*+,-.%2F:;%3C=%3E%3F_`;
    expect(parseEpcUrn(urn)).toEqual({ kind: 'giai', giai: `0614141${reference}`, companyPrefixLength: 7 });
    expect(toEpcUrn({ kind: 'giai', giai: `0614141${reference}`, companyPrefixLength: 7 })).toBe(urn);
    expect(parseEpcUrn('urn:epc:id:giai:0614141.A.B.C')).toMatchObject({ giai: '0614141A.B.C' });
  });

  it('splits a GIAI after its company prefix, which may run into a numeric asset reference', () => {
    const id = { kind: 'giai', giai: '061414112345400' } as const;
    expect(toEpcUrn({ ...id, companyPrefixLength: 7 })).toBe('urn:epc:id:giai:0614141.12345400');
    expect(toEpcUrn({ ...id, companyPrefixLength: 10 })).toBe('urn:epc:id:giai:0614141123.45400');
    expect(parseEpcUrn('urn:epc:id:giai:0614141123.45400')).toEqual({ ...id, companyPrefixLength: 10 });
  });

  it('keeps leading zeros of every component', () => {
    expect(parseEpcUrn('urn:epc:id:sgtin:0000001.000000.007')).toEqual({
      kind: 'sgtin',
      gtin: '00000001000009',
      serial: '007',
      companyPrefixLength: 7,
    });
  });

  it('reads and writes serials with every character of set 82 (TDS table A-1 escaping)', () => {
    const serial = `!"%&'()*+,-./:;<=>?_`;
    const urn = `urn:epc:id:sgtin:0614141.812345.!%22%25%26'()*+,-.%2F:;%3C=%3E%3F_`;
    expect(toEpcUrn({ kind: 'sgtin', gtin: '80614141123458', serial, companyPrefixLength: 7 })).toBe(urn);
    expect(parseEpcUrn(urn)).toMatchObject({ serial });
    // Escapes of characters that need none, and lower-case hex, are read too.
    expect(parseEpcUrn('urn:epc:id:sgtin:0614141.812345.%41%2f%2a')).toMatchObject({ serial: 'A/*' });
    // Dots and colons are allowed in the last component.
    expect(parseEpcUrn('urn:epc:class:lgtin:0614141.812345.L.1:2')).toMatchObject({ lot: 'L.1:2' });
  });

  it('reads the urn:epc: prefix, kind and scheme in any case and writes them in lower case', () => {
    const id = parseEpcUrn('URN:EPC:ID:SGTIN:0614141.812345.Ab');
    expect(id).toEqual({ kind: 'sgtin', gtin: '80614141123458', serial: 'Ab', companyPrefixLength: 7 });
    expect(toEpcUrn(id)).toBe('urn:epc:id:sgtin:0614141.812345.Ab');
  });
});

describe('parseEpcUrn: errors', () => {
  it.each<[string, string, Gs1Field, RegExp]>([
    ['not a urn', Gs1ErrorCode.MALFORMED, 'input', /is not an EPC URN/],
    ['urn:epc:id:sgtin', Gs1ErrorCode.MALFORMED, 'input', /is not an EPC URN/],
    ['urn:isbn:0451450523', Gs1ErrorCode.UNSUPPORTED, 'scheme', /only GS1 EPC identifiers/],
    [
      'urn:epc:id:grai:0614141.12345.400',
      Gs1ErrorCode.UNSUPPORTED,
      'scheme',
      /unsupported EPC URN scheme "urn:epc:id:grai"/,
    ],
    ['urn:epc:tag:sgtin-96:3.0614141.812345.6789', Gs1ErrorCode.UNSUPPORTED, 'scheme', /tag URI/],
    ['urn:epc:raw:96.x3074257BF7194E4000001A85', Gs1ErrorCode.UNSUPPORTED, 'scheme', /raw URI/],
    ['urn:epc:idpat:sgtin:0614141.*.*', Gs1ErrorCode.UNSUPPORTED, 'input', /only the pattern/],
    ['urn:epc:idpat:sgtin:0614141.812345.6789', Gs1ErrorCode.MALFORMED, 'serial', /must end in "\.\*"/],
    ['urn:epc:id:sgtin:0614141.812345', Gs1ErrorCode.MALFORMED, 'input', /three parts/],
    [
      'urn:epc:id:sgtin:0614141.812345.',
      Gs1ErrorCode.MALFORMED,
      'serial',
      /serial number \(AI 21\) is empty/,
    ],
    ['urn:epc:id:sgtin:.812345.1', Gs1ErrorCode.MALFORMED, 'companyPrefix', /company prefix is empty/],
    ['urn:epc:id:sgtin:06141A1.812345.1', Gs1ErrorCode.MALFORMED, 'companyPrefix', /only the digits/],
    [
      'urn:epc:id:sgtin:06141.8123456.1',
      Gs1ErrorCode.MALFORMED,
      'companyPrefix',
      /has 5 digits; it must have 6 to 12/,
    ],
    ['urn:epc:id:sgtin:0614141123456.8.1', Gs1ErrorCode.MALFORMED, 'companyPrefix', /has 13 digits/],
    [
      'urn:epc:id:sgtin:0614141.81234.1',
      Gs1ErrorCode.MALFORMED,
      'itemReference',
      /must have 13 digits together/,
    ],
    ['urn:epc:id:sgtin:0614141.81234x.1', Gs1ErrorCode.MALFORMED, 'itemReference', /only the digits/],
    ['urn:epc:id:sgtin:0614141.812345.a/b', Gs1ErrorCode.MALFORMED, 'serial', /must write as %2F/],
    ['urn:epc:id:sgtin:0614141.812345.a%2', Gs1ErrorCode.MALFORMED, 'serial', /incomplete percent-escape/],
    ['urn:epc:id:sgtin:0614141.812345.a%zz', Gs1ErrorCode.MALFORMED, 'serial', /incomplete percent-escape/],
    ['urn:epc:id:sgtin:0614141.812345.a%23', Gs1ErrorCode.MALFORMED, 'serial', /%23, which stands for "#"/],
    [
      'urn:epc:id:sgtin:0614141.812345.a b',
      Gs1ErrorCode.MALFORMED,
      'serial',
      /not in the GS1 AI encodable character set 82/,
    ],
    ['urn:epc:id:sgtin:0614141.812345.é', Gs1ErrorCode.MALFORMED, 'serial', /U\+00E9/],
    [
      'urn:epc:id:sgtin:0614141.812345.123456789012345678901',
      Gs1ErrorCode.MALFORMED,
      'serial',
      /has 21 characters/,
    ],
    [
      `urn:epc:class:lgtin:0614141.812345.${'%3C'.repeat(21)}`,
      Gs1ErrorCode.MALFORMED,
      'lot',
      /has 21 characters; GS1 allows at most 20/,
    ],
    ['urn:epc:id:sscc:0614141.1234567890.1', Gs1ErrorCode.MALFORMED, 'input', /two parts/],
    ['urn:epc:id:sscc:0614141.123456789', Gs1ErrorCode.MALFORMED, 'serialReference', /17 digits together/],
    ['urn:epc:id:sscc:0614141.12345678x0', Gs1ErrorCode.MALFORMED, 'serialReference', /only the digits/],
    ['urn:epc:id:sgln:0614141.12345', Gs1ErrorCode.MALFORMED, 'input', /three parts/],
    ['urn:epc:id:sgln:0614141.1234.0', Gs1ErrorCode.MALFORMED, 'locationReference', /12 digits together/],
    ['urn:epc:id:sgln:0614141.1234x.0', Gs1ErrorCode.MALFORMED, 'locationReference', /only the digits/],
    [
      'urn:epc:id:sgln:0614141.12345.',
      Gs1ErrorCode.MALFORMED,
      'extension',
      /GLN extension \(AI 254\) is empty/,
    ],
    // PGLN
    [
      'urn:epc:id:pgln:0614141',
      Gs1ErrorCode.MALFORMED,
      'input',
      /two parts .*: company prefix, party reference/,
    ],
    ['urn:epc:id:pgln:0614141.00777.0', Gs1ErrorCode.MALFORMED, 'input', /two parts/],
    ['urn:epc:id:pgln:.00777', Gs1ErrorCode.MALFORMED, 'companyPrefix', /company prefix is empty/],
    ['urn:epc:id:pgln:06141A1.00777', Gs1ErrorCode.MALFORMED, 'companyPrefix', /only the digits/],
    ['urn:epc:id:pgln:06141.0077777', Gs1ErrorCode.MALFORMED, 'companyPrefix', /has 5 digits/],
    [
      'urn:epc:id:pgln:0614141.0077x',
      Gs1ErrorCode.MALFORMED,
      'partyReference',
      /party reference .* only the digits/,
    ],
    ['urn:epc:id:pgln:0614141.0077', Gs1ErrorCode.MALFORMED, 'partyReference', /12 digits together/],
    // GDTI
    ['urn:epc:id:gdti:0614141.12345', Gs1ErrorCode.MALFORMED, 'input', /three parts .* serial component/],
    [
      'urn:epc:id:gdti:0614141.1234x.1',
      Gs1ErrorCode.MALFORMED,
      'documentType',
      /document type .* only the digits/,
    ],
    ['urn:epc:id:gdti:0614141.1234.1', Gs1ErrorCode.MALFORMED, 'documentType', /12 digits together/],
    [
      'urn:epc:id:gdti:0614141.12345.',
      Gs1ErrorCode.MALFORMED,
      'serial',
      /GDTI serial component is empty; .* 1 to 17/,
    ],
    [
      'urn:epc:id:gdti:0614141.12345.a/b',
      Gs1ErrorCode.MALFORMED,
      'serial',
      /GDTI serial .* must write as %2F/,
    ],
    ['urn:epc:id:gdti:0614141.12345.a%2', Gs1ErrorCode.MALFORMED, 'serial', /incomplete percent-escape/],
    ['urn:epc:id:gdti:0614141.12345.a b', Gs1ErrorCode.MALFORMED, 'serial', /set 82/],
    [
      'urn:epc:id:gdti:0614141.12345.123456789012345678',
      Gs1ErrorCode.MALFORMED,
      'serial',
      /GDTI serial component .* has 18 characters; GS1 allows at most 17/,
    ],
    ['urn:epc:idpat:gdti:0614141.12345.*', Gs1ErrorCode.UNSUPPORTED, 'scheme', /unsupported EPC URN scheme/],
    // GIAI
    [
      'urn:epc:id:giai:061414112345400',
      Gs1ErrorCode.MALFORMED,
      'input',
      /two parts .* individual asset reference/,
    ],
    ['urn:epc:id:giai:.12345400', Gs1ErrorCode.MALFORMED, 'companyPrefix', /company prefix is empty/],
    ['urn:epc:id:giai:06141A1.1', Gs1ErrorCode.MALFORMED, 'companyPrefix', /only the digits/],
    ['urn:epc:id:giai:0614141123456.1', Gs1ErrorCode.MALFORMED, 'companyPrefix', /has 13 digits/],
    [
      'urn:epc:id:giai:0614141.',
      Gs1ErrorCode.MALFORMED,
      'assetReference',
      /individual asset reference is empty/,
    ],
    ['urn:epc:id:giai:0614141.a/b', Gs1ErrorCode.MALFORMED, 'assetReference', /must write as %2F/],
    ['urn:epc:id:giai:0614141.a%zz', Gs1ErrorCode.MALFORMED, 'assetReference', /incomplete percent-escape/],
    ['urn:epc:id:giai:0614141.é', Gs1ErrorCode.MALFORMED, 'assetReference', /U\+00E9/],
    [
      `urn:epc:id:giai:0614141.${'x'.repeat(31)}`,
      Gs1ErrorCode.MALFORMED,
      'assetReference',
      /has 31 characters; GS1 allows at most 30/,
    ],
    [
      `urn:epc:id:giai:0614141.${'%3C'.repeat(24)}`,
      Gs1ErrorCode.MALFORMED,
      'assetReference',
      /company prefix \(7 digits\) and the individual asset reference \(24 characters\) must have at most 30/,
    ],
  ])('%s → %s (%s)', (urn, code, field, message) => {
    const error = catchGs1Error(() => parseEpcUrn(urn));
    expect(error.code).toBe(code);
    expect(error.details).toEqual({ value: urn, field });
    expect(error.message).toMatch(message);
    expect(error.status).toBe(400);
    expect(error.issueType).toBe('invalid');
  });

  it('rejects a non-string', () => {
    expect(catchGs1Error(() => parseEpcUrn(42 as unknown as string)).code).toBe(Gs1ErrorCode.MALFORMED);
  });
});

describe('toEpcUrn', () => {
  it('needs the company prefix length, and says so', () => {
    const error = catchGs1Error(() => toEpcUrn({ kind: 'sgtin', gtin: '80614141123458', serial: '6789' }));
    expect(error.code).toBe(Gs1ErrorCode.MALFORMED);
    expect(error.details).toEqual({ value: '80614141123458', field: 'companyPrefixLength' });
    expect(error.message).toMatch(/without its GS1 company prefix length/);
    expect(error.message).toMatch(/withCompanyPrefixLength/);
  });

  it.each<[Gs1Identifier, string]>([
    [{ kind: 'pgln', gln: '0614141007776' }, '0614141007776'],
    [{ kind: 'gdti', gdti: '0614141123452', serial: '006847' }, '0614141123452006847'],
    [{ kind: 'giai', giai: '061414112345400' }, '061414112345400'],
    [{ kind: 'sgln', gln: '0614141123452', extension: '0' }, '0614141123452'],
    [{ kind: 'sscc', sscc: '106141412345678908' }, '106141412345678908'],
  ])('needs the company prefix length of a %j too', (id, key) => {
    const error = catchGs1Error(() => toEpcUrn(id));
    expect(error.code).toBe(Gs1ErrorCode.MALFORMED);
    expect(error.details).toEqual({ value: key, field: 'companyPrefixLength' });
    expect(error.message).toContain(`for ${id.kind} ${key} without its GS1 company prefix length`);
  });

  it.each([
    [8, /"0614141A" is not all digits/],
    [10, /no individual asset reference would be left/],
  ])('refuses to split the GIAI 0614141ABC after %i characters', (length, message) => {
    const error = catchGs1Error(() =>
      toEpcUrn({ kind: 'giai', giai: '0614141ABC', companyPrefixLength: length }),
    );
    expect(error.code).toBe(Gs1ErrorCode.MALFORMED);
    expect(error.details).toEqual({ value: '0614141ABC', field: 'companyPrefixLength' });
    expect(error.message).toMatch(message);
  });

  it.each([5, 13, 7.5, Number.NaN])('rejects companyPrefixLength %s', (length) => {
    const error = catchGs1Error(() =>
      toEpcUrn({ kind: 'sscc', sscc: '106141412345678908', companyPrefixLength: length }),
    );
    expect(error.code).toBe(Gs1ErrorCode.MALFORMED);
    expect(error.details.field).toBe('companyPrefixLength');
  });

  it('validates the identifier first: a wrong check digit is GS1.CHECK_DIGIT naming the expected digit', () => {
    const error = catchGs1Error(() =>
      toEpcUrn({ kind: 'sgtin', gtin: '80614141123459', serial: '1', companyPrefixLength: 7 }),
    );
    expect(error.code).toBe(Gs1ErrorCode.CHECK_DIGIT);
    expect(error.message).toContain('the GS1 check digit of 8061414112345 is 8');
    expect(error.details).toEqual({ value: '80614141123459', field: 'gtin' });
  });

  it('round-trips every valid identifier: toEpcUrn then parseEpcUrn gives it back', () => {
    fc.assert(
      fc.property(gs1Identifier, (id) => {
        const urn = toEpcUrn(id);
        expect(parseEpcUrn(urn)).toEqual(id);
        expect(toEpcUrn(parseEpcUrn(urn))).toBe(urn);
      }),
      { numRuns: 500 },
    );
  });
});
