import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_DIGITAL_LINK_BASE, parseDigitalLink, toDigitalLink } from './digitalLink.js';
import { Gs1ErrorCode, type Gs1Field } from './errors.js';
import type { DigitalLinkData } from './types.js';
import { catchGs1Error, gs1Identifier, withoutPrefixLength } from './testSupport.js';

describe('parseDigitalLink: GS1 Digital Link examples', () => {
  it.each<[string, DigitalLinkData]>([
    ['https://id.gs1.org/01/09521234543213', { identifier: { kind: 'gtin', gtin: '09521234543213' } }],
    [
      'https://id.gs1.org/01/09521234543213/10/ABC123/21/12345',
      { identifier: { kind: 'sgtin', gtin: '09521234543213', serial: '12345' }, lot: 'ABC123' },
    ],
    [
      'https://id.gs1.org/01/09521234543213/10/ABC123?17=261231',
      {
        identifier: { kind: 'lgtin', gtin: '09521234543213', lot: 'ABC123' },
        lot: 'ABC123',
        expiry: '261231',
      },
    ],
    [
      'https://id.gs1.org/01/09520123456788/10/ABC1/21/12345?17=180426',
      {
        identifier: { kind: 'sgtin', gtin: '09520123456788', serial: '12345' },
        lot: 'ABC1',
        expiry: '180426',
      },
    ],
    [
      'https://id.gs1.org/01/09506000134352/21/32a%2Fb',
      { identifier: { kind: 'sgtin', gtin: '09506000134352', serial: '32a/b' } },
    ],
    [
      'https://id.gs1.org/00/106141411234567897',
      { identifier: { kind: 'sscc', sscc: '106141411234567897' } },
    ],
    [
      'https://id.gs1.org/414/9520123456788',
      { identifier: { kind: 'sgln', gln: '9520123456788', extension: '0' } },
    ],
    [
      'https://id.gs1.org/414/0614141123452/254/400',
      { identifier: { kind: 'sgln', gln: '0614141123452', extension: '400' } },
    ],
    // A domain and path of the brand's own, with the lot and expiry in the query.
    [
      'https://example.com/products/01/09521234543213?10=L%2F1&17=261200',
      { identifier: { kind: 'lgtin', gtin: '09521234543213', lot: 'L/1' }, lot: 'L/1', expiry: '261200' },
    ],
    [
      'https://example.com/01/09521234543213/21/S1?10=LOT7',
      { identifier: { kind: 'sgtin', gtin: '09521234543213', serial: 'S1' }, lot: 'LOT7' },
    ],
    // AI 417, 253 and 8004 of the EPC Tag Data Standard examples (PGLN of EPCIS 2.0's examples) and the GS1 event hash
    // reference implementation's vectors.
    ['https://id.gs1.org/417/0614141007776', { identifier: { kind: 'pgln', gln: '0614141007776' } }],
    ['https://id.gs1.org/417/4012345000009', { identifier: { kind: 'pgln', gln: '4012345000009' } }],
    [
      'https://id.gs1.org/253/0614141123452006847',
      { identifier: { kind: 'gdti', gdti: '0614141123452', serial: '006847' } },
    ],
    [
      'https://id.example.com/253/4012345000054987',
      { identifier: { kind: 'gdti', gdti: '4012345000054', serial: '987' } },
    ],
    ['https://id.gs1.org/8004/061414112345400', { identifier: { kind: 'giai', giai: '061414112345400' } }],
    ['https://id.gs1.org/8004/061414132a%2Fb', { identifier: { kind: 'giai', giai: '061414132a/b' } }],
    ['https://id.gs1.org/8004/4000001111', { identifier: { kind: 'giai', giai: '4000001111' } }],
    // Other GS1 data attributes in the query are ignored whatever the key; an expiry date is kept.
    [
      'https://example.com/assets/8004/0614141ABC?linkType=gs1:pip&17=261231',
      { identifier: { kind: 'giai', giai: '0614141ABC' }, expiry: '261231' },
    ],
  ])('%s', (uri, expected) => {
    expect(parseDigitalLink(uri)).toEqual(expected);
  });

  it.each([
    ['https://id.gs1.org/01/9506000134352', '09506000134352'], // GTIN-13
    ['https://id.gs1.org/01/614141000036', '00614141000036'], // GTIN-12 (UPC-A)
    ['https://id.gs1.org/01/96385074', '00000096385074'], // GTIN-8
  ])('pads %s to a 14-digit GTIN', (uri, gtin) => {
    expect(parseDigitalLink(uri).identifier).toEqual({ kind: 'gtin', gtin });
  });

  it('is lenient in what it reads: scheme and host case, ports, a trailing slash, fragments, raw sub-delimiters, lower-case hex', () => {
    expect(parseDigitalLink('HTTP://Example.COM:8080/01/09521234543213/21/AbC!(*)%2a%2f/#top')).toEqual({
      identifier: { kind: 'sgtin', gtin: '09521234543213', serial: 'AbC!(*)*/' },
    });
  });

  it('ignores GS1 data attributes it does not model and non-GS1 query parameters', () => {
    expect(
      parseDigitalLink(
        'https://id.gs1.org/01/09521234543213?linkType=gs1:pip&3103=000189&&17=261231&utm_source=x',
      ),
    ).toEqual({ identifier: { kind: 'gtin', gtin: '09521234543213' }, expiry: '261231' });
  });
});

describe('parseDigitalLink: errors', () => {
  const gtinUri = 'https://id.gs1.org/01/09521234543213';
  it.each<[string, string, Gs1Field, RegExp]>([
    ['ftp://id.gs1.org/01/09521234543213', Gs1ErrorCode.MALFORMED, 'input', /is not a GS1 Digital Link URI/],
    ['id.gs1.org/01/09521234543213', Gs1ErrorCode.MALFORMED, 'input', /is not a GS1 Digital Link URI/],
    [` ${gtinUri}`, Gs1ErrorCode.MALFORMED, 'input', /white space/],
    ['https:///01/09521234543213', Gs1ErrorCode.MALFORMED, 'host', /not a valid host name/],
    ['https://user@id.gs1.org/01/09521234543213', Gs1ErrorCode.MALFORMED, 'host', /not a valid host name/],
    ['https://id.gs1.org/', Gs1ErrorCode.MALFORMED, 'path', /no GS1 primary key/],
    ['https://id.gs1.org/99/123', Gs1ErrorCode.MALFORMED, 'path', /no GS1 primary key/],
    ['https://id.gs1.org/01', Gs1ErrorCode.MALFORMED, 'path', /"01" at its end has no value/],
    [`${gtinUri}/21`, Gs1ErrorCode.MALFORMED, 'path', /"21" at its end has no value/],
    ['https://id.gs1.org/01//21/1', Gs1ErrorCode.MALFORMED, 'gtin', /AI 01 \(GTIN\) has an empty value/],
    ['https://id.gs1.org/01/09521234543', Gs1ErrorCode.MALFORMED, 'gtin', /has 11 digits/],
    ['https://id.gs1.org/01/0952123454321A', Gs1ErrorCode.MALFORMED, 'gtin', /only the digits/],
    ['https://id.gs1.org/01/09521234543214', Gs1ErrorCode.CHECK_DIGIT, 'gtin', /expected 09521234543213/],
    ['https://id.gs1.org/01/0952123454321', Gs1ErrorCode.CHECK_DIGIT, 'gtin', /is 4: expected 0952123454324/],
    [`${gtinUri}/21/12345/10/ABC`, Gs1ErrorCode.MALFORMED, 'path', /wrong order; .* 22, then 10, then 21/],
    [`${gtinUri}/21/1/21/2`, Gs1ErrorCode.MALFORMED, 'path', /AI 21 appears twice/],
    [`${gtinUri}/22/V1`, Gs1ErrorCode.UNSUPPORTED, 'path', /consumer product variant/],
    [`${gtinUri}/235/X`, Gs1ErrorCode.UNSUPPORTED, 'path', /third-party controlled/],
    [`${gtinUri}/17/261231`, Gs1ErrorCode.MALFORMED, 'path', /AI 17 is not a key qualifier/],
    [`${gtinUri}/414/0614141123452`, Gs1ErrorCode.MALFORMED, 'path', /one primary key/],
    [`${gtinUri}/foo/bar`, Gs1ErrorCode.MALFORMED, 'path', /"foo" is not an Application Identifier/],
    [
      'https://id.gs1.org/00/106141412345678908/21/1',
      Gs1ErrorCode.MALFORMED,
      'path',
      /key qualifiers \(none\)/,
    ],
    ['https://id.gs1.org/8003/00614141123452400', Gs1ErrorCode.UNSUPPORTED, 'path', /AI 8003 \(GRAI\)/],
    [`${gtinUri}/21/a%2`, Gs1ErrorCode.MALFORMED, 'serial', /incomplete percent-escape/],
    [`${gtinUri}/21/a%C3%A9`, Gs1ErrorCode.MALFORMED, 'serial', /%C3, which stands for/],
    [`${gtinUri}/21/a b`, Gs1ErrorCode.MALFORMED, 'serial', /not allowed in a GS1 Digital Link/],
    [`${gtinUri}/21/${'x'.repeat(21)}`, Gs1ErrorCode.MALFORMED, 'serial', /has 21 characters/],
    [`${gtinUri}/10/${'%2F'.repeat(21)}`, Gs1ErrorCode.MALFORMED, 'lot', /has 21 characters/],
    [`${gtinUri}?21=1`, Gs1ErrorCode.MALFORMED, 'query', /belongs in the path/],
    [`${gtinUri}?01=09521234543213`, Gs1ErrorCode.MALFORMED, 'query', /belongs in the path/],
    [`${gtinUri}?17=261331`, Gs1ErrorCode.MALFORMED, 'expiry', /month 13/],
    [`${gtinUri}?17=26123`, Gs1ErrorCode.MALFORMED, 'expiry', /must be 6 digits YYMMDD/],
    [`${gtinUri}?17=261231&17=261231`, Gs1ErrorCode.MALFORMED, 'expiry', /more than once/],
    [`${gtinUri}?10=`, Gs1ErrorCode.MALFORMED, 'lot', /has an empty value/],
    [`${gtinUri}/10/A?10=A`, Gs1ErrorCode.MALFORMED, 'lot', /twice/],
    [
      'https://id.gs1.org/00/106141412345678908?10=A',
      Gs1ErrorCode.MALFORMED,
      'lot',
      /qualifies a GTIN \(AI 01\) only/,
    ],
    ['https://id.gs1.org/414/0614141123452/254/0', Gs1ErrorCode.MALFORMED, 'extension', /reserved/],
    [
      'https://id.gs1.org/00/10614141234567890',
      Gs1ErrorCode.MALFORMED,
      'sscc',
      /has 17 digits; an SSCC has 18/,
    ],
    ['https://id.gs1.org/414/0614141123453', Gs1ErrorCode.CHECK_DIGIT, 'gln', /expected 0614141123452/],
    // Party GLN (AI 417)
    ['https://id.gs1.org/417//', Gs1ErrorCode.MALFORMED, 'pgln', /AI 417 \(party GLN\) has an empty value/],
    [
      'https://id.gs1.org/417/061414100777',
      Gs1ErrorCode.MALFORMED,
      'pgln',
      /has 12 digits; a party GLN has 13/,
    ],
    ['https://id.gs1.org/417/061414100777X', Gs1ErrorCode.MALFORMED, 'pgln', /only the digits/],
    ['https://id.gs1.org/417/0614141007777', Gs1ErrorCode.CHECK_DIGIT, 'pgln', /expected 0614141007776/],
    [
      'https://id.gs1.org/417/0614141007776/254/1',
      Gs1ErrorCode.MALFORMED,
      'path',
      /after the party GLN \(AI 417\) .* key qualifiers \(none\)/,
    ],
    [
      'https://id.gs1.org/417/0614141007776?10=A',
      Gs1ErrorCode.MALFORMED,
      'lot',
      /qualifies a GTIN \(AI 01\) only, not a party GLN \(AI 417\)/,
    ],
    [`${gtinUri}?417=0614141007776`, Gs1ErrorCode.MALFORMED, 'query', /belongs in the path/],
    // GDTI (AI 253)
    [
      'https://id.gs1.org/253/0614141123452',
      Gs1ErrorCode.UNSUPPORTED,
      'serial',
      /GDTI without serial component names a document type/,
    ],
    ['https://id.gs1.org/253/061414112345X1', Gs1ErrorCode.MALFORMED, 'gdti', /starts with 13 digits/],
    ['https://id.gs1.org/253/0614141', Gs1ErrorCode.MALFORMED, 'gdti', /starts with 13 digits/],
    [
      'https://id.gs1.org/253/0614141123453006847',
      Gs1ErrorCode.CHECK_DIGIT,
      'gdti',
      /GDTI document type key 0614141123453 .* expected 0614141123452/,
    ],
    [
      `https://id.gs1.org/253/0614141123452${'1'.repeat(18)}`,
      Gs1ErrorCode.MALFORMED,
      'serial',
      /GDTI serial component .* has 18 characters; GS1 allows at most 17/,
    ],
    ['https://id.gs1.org/253/0614141123452a%C3%A9', Gs1ErrorCode.MALFORMED, 'gdti', /%C3, which stands for/],
    ['https://id.gs1.org/253/0614141123452/21/1', Gs1ErrorCode.MALFORMED, 'path', /key qualifiers \(none\)/],
    [
      'https://id.gs1.org/253/0614141123452006847?10=A',
      Gs1ErrorCode.MALFORMED,
      'lot',
      /not a GDTI \(AI 253\)/,
    ],
    // GIAI (AI 8004)
    [`https://id.gs1.org/8004/0614141${'x'.repeat(24)}`, Gs1ErrorCode.MALFORMED, 'giai', /has 31 characters/],
    [
      'https://id.gs1.org/8004/12ABC',
      Gs1ErrorCode.MALFORMED,
      'giai',
      /must start with the GS1 company prefix/,
    ],
    ['https://id.gs1.org/8004/ABC', Gs1ErrorCode.MALFORMED, 'giai', /must start with the GS1 company prefix/],
    ['https://id.gs1.org/8004/1234ABC', Gs1ErrorCode.UNSUPPORTED, 'giai', /shorter company prefixes/],
    ['https://id.gs1.org/8004/123456', Gs1ErrorCode.UNSUPPORTED, 'giai', /shorter company prefixes/],
    [
      'https://id.gs1.org/8004/0614141a b',
      Gs1ErrorCode.MALFORMED,
      'giai',
      /not allowed in a GS1 Digital Link/,
    ],
    ['https://id.gs1.org/8004/0614141A/21/1', Gs1ErrorCode.MALFORMED, 'path', /after the GIAI \(AI 8004\)/],
    ['https://id.gs1.org/8004/0614141A?10=A', Gs1ErrorCode.MALFORMED, 'lot', /not a GIAI \(AI 8004\)/],
  ])('%s → %s (%s)', (uri, code, field, message) => {
    const error = catchGs1Error(() => parseDigitalLink(uri));
    expect(error.code).toBe(code);
    expect(error.details).toEqual({ value: uri, field });
    expect(error.message).toMatch(message);
  });
});

describe('toDigitalLink', () => {
  it('writes the canonical URI under https://id.gs1.org by default', () => {
    expect(DEFAULT_DIGITAL_LINK_BASE).toBe('https://id.gs1.org');
    expect(
      toDigitalLink({ kind: 'sgtin', gtin: '80614141123458', serial: '6789', companyPrefixLength: 7 }),
    ).toBe('https://id.gs1.org/01/80614141123458/21/6789');
    expect(toDigitalLink({ kind: 'lgtin', gtin: '04012345123456', lot: '998877' })).toBe(
      'https://id.gs1.org/01/04012345123456/10/998877',
    );
    expect(toDigitalLink({ kind: 'gtin', gtin: '04012345987652' })).toBe(
      'https://id.gs1.org/01/04012345987652',
    );
    expect(toDigitalLink({ kind: 'sscc', sscc: '106141412345678908' })).toBe(
      'https://id.gs1.org/00/106141412345678908',
    );
    expect(toDigitalLink({ kind: 'sgln', gln: '0614141123452', extension: '0' })).toBe(
      'https://id.gs1.org/414/0614141123452',
    );
    expect(toDigitalLink({ kind: 'sgln', gln: '0614141123452', extension: '400' })).toBe(
      'https://id.gs1.org/414/0614141123452/254/400',
    );
    expect(toDigitalLink({ kind: 'pgln', gln: '0614141007776', companyPrefixLength: 7 })).toBe(
      'https://id.gs1.org/417/0614141007776',
    );
    expect(toDigitalLink({ kind: 'gdti', gdti: '0614141123452', serial: '006847' })).toBe(
      'https://id.gs1.org/253/0614141123452006847',
    );
    expect(toDigitalLink({ kind: 'giai', giai: '061414132a/b', companyPrefixLength: 7 })).toBe(
      'https://id.gs1.org/8004/061414132a%2Fb',
    );
  });

  it('percent-encodes a GDTI serial and a GIAI like any other value, and reads them back', () => {
    const serial = `!"%&'()*+,-./:;<=`; // 17 characters, the most a GDTI serial component has
    const gdti = toDigitalLink({ kind: 'gdti', gdti: '0614141123452', serial });
    expect(gdti).toBe('https://id.gs1.org/253/0614141123452%21%22%25%26%27%28%29%2A%2B%2C-.%2F%3A%3B%3C%3D');
    expect(parseDigitalLink(gdti).identifier).toEqual({ kind: 'gdti', gdti: '0614141123452', serial });
    const giai = toDigitalLink({ kind: 'giai', giai: '0614141?_A' });
    expect(giai).toBe('https://id.gs1.org/8004/0614141%3F_A');
    expect(parseDigitalLink(giai).identifier).toEqual({ kind: 'giai', giai: '0614141?_A' });
  });

  it('percent-encodes every character of set 82 except A-Z a-z 0-9 - . _', () => {
    const serial = `!"%&'()*+,-./:;<=>?_`;
    const uri = toDigitalLink({ kind: 'sgtin', gtin: '09521234543213', serial });
    expect(uri).toBe(
      'https://id.gs1.org/01/09521234543213/21/%21%22%25%26%27%28%29%2A%2B%2C-.%2F%3A%3B%3C%3D%3E%3F_',
    );
    expect(parseDigitalLink(uri).identifier).toEqual({ kind: 'sgtin', gtin: '09521234543213', serial });
  });

  it('takes a base of the caller’s own, with a path, dropping trailing slashes', () => {
    expect(toDigitalLink({ kind: 'gtin', gtin: '09521234543213' }, 'https://example.com/products/')).toBe(
      'https://example.com/products/01/09521234543213',
    );
    expect(toDigitalLink({ kind: 'gtin', gtin: '09521234543213' }, 'http://localhost:8080')).toBe(
      'http://localhost:8080/01/09521234543213',
    );
  });

  it.each([
    'ftp://example.com',
    'https://example.com/?q=1',
    'https://example.com#x',
    'example.com',
    'https://',
  ])('rejects the base %j', (base) => {
    const error = catchGs1Error(() => toDigitalLink({ kind: 'gtin', gtin: '09521234543213' }, base));
    expect(error.code).toBe(Gs1ErrorCode.MALFORMED);
    expect(error.details).toEqual({ value: base, field: 'base' });
  });

  it.each<[unknown, string, Gs1Field]>([
    [{ kind: 'sgtin', gtin: '9521234543213', serial: '1' }, Gs1ErrorCode.MALFORMED, 'gtin'],
    [{ kind: 'sgtin', gtin: '09521234543213', serial: '' }, Gs1ErrorCode.MALFORMED, 'serial'],
    [{ kind: 'sgtin', gtin: '09521234543213' }, Gs1ErrorCode.MALFORMED, 'serial'],
    [{ kind: 'lgtin', gtin: '09521234543213', lot: 'a#b' }, Gs1ErrorCode.MALFORMED, 'lot'],
    [{ kind: 'sscc', sscc: '106141412345678909' }, Gs1ErrorCode.CHECK_DIGIT, 'sscc'],
    [{ kind: 'sgln', gln: '0614141123452' }, Gs1ErrorCode.MALFORMED, 'extension'],
    [{ kind: 'gtin', gtin: 9521234543213 }, Gs1ErrorCode.MALFORMED, 'gtin'],
    [{ kind: 'pgln', gln: '0614141007777' }, Gs1ErrorCode.CHECK_DIGIT, 'pgln'],
    [{ kind: 'pgln', gln: '614141007776' }, Gs1ErrorCode.MALFORMED, 'pgln'],
    [{ kind: 'gdti', gdti: '0614141123453', serial: '1' }, Gs1ErrorCode.CHECK_DIGIT, 'gdti'],
    [{ kind: 'gdti', gdti: '0614141123452' }, Gs1ErrorCode.MALFORMED, 'serial'],
    [{ kind: 'gdti', gdti: '0614141123452', serial: 'x'.repeat(18) }, Gs1ErrorCode.MALFORMED, 'serial'],
    [{ kind: 'gdti', gdti: '0614141123452', serial: 'a#' }, Gs1ErrorCode.MALFORMED, 'serial'],
    [{ kind: 'giai', giai: 614141123 }, Gs1ErrorCode.MALFORMED, 'giai'],
    [{ kind: 'giai', giai: '' }, Gs1ErrorCode.MALFORMED, 'giai'],
    [{ kind: 'giai', giai: `0614141${'x'.repeat(24)}` }, Gs1ErrorCode.MALFORMED, 'giai'],
    [{ kind: 'giai', giai: 'A0614141' }, Gs1ErrorCode.MALFORMED, 'giai'],
    [{ kind: 'giai', giai: '06141ABC' }, Gs1ErrorCode.UNSUPPORTED, 'giai'],
    [
      { kind: 'giai', giai: '0614141ABC', companyPrefixLength: 9 },
      Gs1ErrorCode.MALFORMED,
      'companyPrefixLength',
    ],
    [{ kind: 'grai', grai: '1' }, Gs1ErrorCode.UNSUPPORTED, 'kind'],
    [null, Gs1ErrorCode.MALFORMED, 'kind'],
  ])('rejects the identifier %j', (id, code, field) => {
    const error = catchGs1Error(() => toDigitalLink(id as never));
    expect(error.code).toBe(code);
    expect(error.details.field).toBe(field);
  });

  it('round-trips every valid identifier: toDigitalLink then parseDigitalLink gives it back (less the prefix length)', () => {
    fc.assert(
      fc.property(gs1Identifier, (id) => {
        const uri = toDigitalLink(id);
        const parsed = parseDigitalLink(uri);
        expect(parsed.identifier).toEqual(withoutPrefixLength(id));
        expect(toDigitalLink(parsed.identifier)).toBe(uri);
      }),
      { numRuns: 500 },
    );
  });
});
