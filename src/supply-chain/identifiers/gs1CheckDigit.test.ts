import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Gs1ErrorCode, Gs1IdentifierError } from './errors.js';
import { gs1CheckDigit, hasValidCheckDigit } from './gs1CheckDigit.js';
import { catchGs1Error, digits, validKey } from './testSupport.js';

describe('gs1CheckDigit', () => {
  // Examples from the EPC Tag Data Standard and the GS1 General Specifications.
  it.each([
    ['8061414112345', 8], // GTIN-14 80614141123458 (TDS SGTIN example)
    ['0952123454321', 3], // GTIN 09521234543213 (GS1 Digital Link examples)
    ['400638133393', 1], // GTIN-13 4006381333931
    ['0614141000036'.slice(0, -1), 6], // GTIN-13 0614141000036
    ['10614141234567890', 8], // SSCC 106141412345678908 (TDS SSCC example)
    ['061414112345', 2], // GLN 0614141123452 (TDS SGLN example)
    ['9638507', 4], // GTIN-8 96385074
    ['0', 0],
  ])('the check digit of %s is %i', (body, check) => {
    expect(gs1CheckDigit(body)).toBe(check);
  });

  it('weights 3 then 1 from the right, whatever the length', () => {
    expect(gs1CheckDigit('1')).toBe(7); // 1×3 = 3 → 7
    expect(gs1CheckDigit('10')).toBe(9); // 0×3 + 1×1 = 1 → 9
    expect(gs1CheckDigit('100')).toBe(7); // 0×3 + 0×1 + 1×3 = 3 → 7
  });

  it.each(['', '12a4', ' 123', '１２３', '12.3'])('rejects %j as GS1.MALFORMED (field digits)', (input) => {
    const error = catchGs1Error(() => gs1CheckDigit(input));
    expect(error).toBeInstanceOf(Gs1IdentifierError);
    expect(error.code).toBe(Gs1ErrorCode.MALFORMED);
    expect(error.details).toEqual({ value: input, field: 'digits' });
  });
});

describe('hasValidCheckDigit', () => {
  it.each(['80614141123458', '106141412345678908', '0614141123452', '4006381333931', '96385074'])(
    'accepts %s',
    (key) => expect(hasValidCheckDigit(key)).toBe(true),
  );

  it.each(['80614141123459', '106141412345678909', '0614141123453', '', '7', 'abc', '8061414112345x'])(
    'rejects %j without throwing',
    (key) => expect(hasValidCheckDigit(key)).toBe(false),
  );

  it('never throws, whatever it is given', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => typeof hasValidCheckDigit(text) === 'boolean'),
    );
    expect(hasValidCheckDigit(undefined as unknown as string)).toBe(false);
  });

  it.each([
    ['GTIN', 14],
    ['SSCC', 18],
    ['GLN', 13],
    ['GTIN-8', 8],
  ])('rejects every single-digit change of a valid %s (%i digits)', (_name, length) => {
    fc.assert(
      fc.property(
        validKey(length),
        fc.nat({ max: length - 1 }),
        fc.integer({ min: 1, max: 9 }),
        (key, position, shift) => {
          expect(hasValidCheckDigit(key)).toBe(true);
          const changed = String((Number(key[position]) + shift) % 10);
          const mutated = key.slice(0, position) + changed + key.slice(position + 1);
          expect(hasValidCheckDigit(mutated)).toBe(false);
        },
      ),
    );
  });

  it('a key is valid exactly when its last digit is gs1CheckDigit of the rest', () => {
    fc.assert(
      fc.property(digits(13), fc.integer({ min: 0, max: 9 }), (body, last) => {
        expect(hasValidCheckDigit(body + String(last))).toBe(gs1CheckDigit(body) === last);
      }),
    );
  });
});
