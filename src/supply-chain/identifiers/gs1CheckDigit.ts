/**
 * The GS1 mod-10 check digit (GS1 General Specifications 7.9): weights 3 and 1 alternate from the rightmost digit
 * that precedes the check digit (weight 3), the check digit is what brings the weighted sum up to a multiple of 10.
 * The same algorithm serves GTIN-8/12/13/14, GLN (13), SSCC (18) and every other fixed-length GS1 key. Because the
 * weights 1 and 3 are both prime to 10, any single wrong digit changes the check digit.
 */
import { fail, Gs1ErrorCode, show } from './errors.js';

const DIGITS = /^[0-9]+$/;

/**
 * The check digit of `digitsWithoutCheck`.
 * @param digitsWithoutCheck - One or more ASCII digits: the key without its last (check) digit.
 * @returns 0–9.
 * @throws Gs1IdentifierError GS1.MALFORMED when the input is empty or holds anything but the digits 0–9.
 */
export function gs1CheckDigit(digitsWithoutCheck: string): number {
  if (typeof digitsWithoutCheck !== 'string' || !DIGITS.test(digitsWithoutCheck)) {
    fail(
      Gs1ErrorCode.MALFORMED,
      typeof digitsWithoutCheck === 'string'
        ? `cannot compute a GS1 check digit of ${show(digitsWithoutCheck)}: it must be one or more digits 0-9`
        : `cannot compute a GS1 check digit of a ${typeof digitsWithoutCheck}: expected a string of digits`,
      digitsWithoutCheck,
      'digits',
    );
  }
  let sum = 0;
  let weight = 3;
  for (let i = digitsWithoutCheck.length - 1; i >= 0; i--) {
    sum += (digitsWithoutCheck.charCodeAt(i) - 48) * weight;
    weight = 4 - weight;
  }
  return (10 - (sum % 10)) % 10;
}

/**
 * True when `digits` is two or more digits 0–9 whose last digit is the GS1 check digit of the others. Never throws:
 * anything else (empty, non-digits, not a string) is simply `false`.
 */
export function hasValidCheckDigit(digits: string): boolean {
  if (typeof digits !== 'string' || digits.length < 2 || !DIGITS.test(digits)) return false;
  return gs1CheckDigit(digits.slice(0, -1)) === digits.charCodeAt(digits.length - 1) - 48;
}
