/**
 * Test support shared by this folder's tests: fast-check arbitraries of valid GS1 identifiers and an error catcher.
 * Not exported by `index.ts`.
 */
import fc from 'fast-check';
import { CS82_SYMBOLS } from './characterSet82.js';
import { Gs1IdentifierError } from './errors.js';
import { gs1CheckDigit } from './gs1CheckDigit.js';
import type { Gdti, Giai, Gs1Identifier, GtinClass, Lgtin, Pgln, Sgln, Sgtin, Sscc } from './types.js';

/** The 82 characters of the GS1 AI encodable character set 82. */
export const CS82_CHARS: readonly string[] = [
  ...'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
  ...'abcdefghijklmnopqrstuvwxyz',
  ...'0123456789',
  ...CS82_SYMBOLS,
];

/** Exactly `length` digits. */
export const digits = (length: number): fc.Arbitrary<string> =>
  fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: length, maxLength: length });

/** A key of `length` digits whose last digit is its GS1 check digit. */
export const validKey = (length: number): fc.Arbitrary<string> =>
  digits(length - 1).map((body) => body + String(gs1CheckDigit(body)));

/** 1 to `maxLength` characters of set 82. */
export const cs82String = (maxLength: number): fc.Arbitrary<string> =>
  fc.string({ unit: fc.constantFrom(...CS82_CHARS), minLength: 1, maxLength });

/** A serial, lot or GLN extension: 1–20 characters of set 82. */
export const cs82Value: fc.Arbitrary<string> = cs82String(20);

export const companyPrefixLength: fc.Arbitrary<number> = fc.integer({ min: 6, max: 12 });

export const sgtin: fc.Arbitrary<Sgtin> = fc.record({
  kind: fc.constant('sgtin' as const),
  gtin: validKey(14),
  serial: cs82Value,
  companyPrefixLength,
});

export const lgtin: fc.Arbitrary<Lgtin> = fc.record({
  kind: fc.constant('lgtin' as const),
  gtin: validKey(14),
  lot: cs82Value,
  companyPrefixLength,
});

export const gtinClass: fc.Arbitrary<GtinClass> = fc.record({
  kind: fc.constant('gtin' as const),
  gtin: validKey(14),
  companyPrefixLength,
});

export const sscc: fc.Arbitrary<Sscc> = fc.record({
  kind: fc.constant('sscc' as const),
  sscc: validKey(18),
  companyPrefixLength,
});

export const sgln: fc.Arbitrary<Sgln> = fc.record({
  kind: fc.constant('sgln' as const),
  gln: validKey(13),
  extension: fc.oneof(fc.constant('0'), cs82Value),
  companyPrefixLength,
});

export const pgln: fc.Arbitrary<Pgln> = fc.record({
  kind: fc.constant('pgln' as const),
  gln: validKey(13),
  companyPrefixLength,
});

export const gdti: fc.Arbitrary<Gdti> = fc.record({
  kind: fc.constant('gdti' as const),
  gdti: validKey(13),
  serial: cs82String(17),
  companyPrefixLength,
});

/** A GIAI: a company prefix of `companyPrefixLength` digits, then 1 to 30 − that many characters of set 82. */
export const giai: fc.Arbitrary<Giai> = companyPrefixLength.chain((length) =>
  fc.record({
    kind: fc.constant('giai' as const),
    giai: fc.tuple(digits(length), cs82String(30 - length)).map(([prefix, reference]) => prefix + reference),
    companyPrefixLength: fc.constant(length),
  }),
);

/** Any valid identifier, with its company prefix length. */
export const gs1Identifier: fc.Arbitrary<Gs1Identifier> = fc.oneof(
  sgtin,
  lgtin,
  gtinClass,
  sscc,
  sgln,
  pgln,
  gdti,
  giai,
);

/**
 * The company prefix lengths `id` can be given: 6–12, except that a GIAI's must cover digits only and leave an asset
 * reference.
 */
export function prefixLengthsOf(id: Gs1Identifier): number[] {
  const all = [6, 7, 8, 9, 10, 11, 12];
  if (id.kind !== 'giai') return all;
  return all.filter((length) => id.giai.length > length && /^[0-9]+$/.test(id.giai.slice(0, length)));
}

/** `id` without `companyPrefixLength` (as a Digital Link gives it back). */
export function withoutPrefixLength<T extends { companyPrefixLength?: number }>(
  id: T,
): Omit<T, 'companyPrefixLength'> {
  const { companyPrefixLength: _ignored, ...rest } = id;
  return rest;
}

/** The {@link Gs1IdentifierError} `action` throws; fails the test if it throws nothing or anything else. */
export function catchGs1Error(action: () => unknown): Gs1IdentifierError {
  try {
    action();
  } catch (error) {
    if (error instanceof Gs1IdentifierError) return error;
    throw new Error(`expected a Gs1IdentifierError, got ${String(error)}`, { cause: error });
  }
  throw new Error('expected a Gs1IdentifierError, but nothing was thrown');
}
