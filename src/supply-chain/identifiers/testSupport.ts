/**
 * Test support shared by this folder's tests: fast-check arbitraries of valid GS1 identifiers and an error catcher.
 * Not exported by `index.ts`.
 */
import fc from 'fast-check';
import { CS82_SYMBOLS } from './characterSet82.js';
import { Gs1IdentifierError } from './errors.js';
import { gs1CheckDigit } from './gs1CheckDigit.js';
import type { GtinClass, Lgtin, Sgln, Sgtin, Sscc } from './types.js';

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

/** A serial, lot or GLN extension: 1–20 characters of set 82. */
export const cs82Value: fc.Arbitrary<string> = fc.string({
  unit: fc.constantFrom(...CS82_CHARS),
  minLength: 1,
  maxLength: 20,
});

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

/** Any valid identifier, with its company prefix length. */
export const gs1Identifier = fc.oneof(sgtin, lgtin, gtinClass, sscc, sgln);

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
