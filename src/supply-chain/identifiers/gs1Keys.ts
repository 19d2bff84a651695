/**
 * Checks of the GS1 keys (GTIN, SSCC, GLN, GDTI, GIAI), of serials, lots and GLN extensions, of company prefix lengths,
 * and of whole {@link Gs1Identifier} objects. Every check throws a {@link Gs1IdentifierError} that says what is wrong.
 */
import {
  checkCs82Value,
  fieldLabel,
  GDTI_SERIAL_LABEL,
  MAX_GDTI_SERIAL_LENGTH,
  MAX_GIAI_LENGTH,
} from './characterSet82.js';
import { fail, Gs1ErrorCode, show, type Gs1Field } from './errors.js';
import { gs1CheckDigit } from './gs1CheckDigit.js';
import type { Gs1Identifier } from './types.js';

/** Shortest and longest GS1 Company Prefix (EPC Tag Data Standard: 6 to 12 digits). */
export const MIN_COMPANY_PREFIX_LENGTH = 6;
export const MAX_COMPANY_PREFIX_LENGTH = 12;

const DIGITS = /^[0-9]+$/;

/** The kinds {@link validateGs1Identifier} knows, for messages. */
const SUPPORTED_KINDS = 'sgtin, sscc, sgln, lgtin, gtin, pgln, gdti or giai';

/**
 * Checks a fixed-length GS1 key: digits only, the right length, the right check digit.
 * @param digits - The key as given.
 * @param length - Its required length (14 GTIN, 18 SSCC, 13 GLN and party GLN, 13 GDTI document type key).
 * @param field - Which key, for the message and `details.field`.
 * @param reported - What to put in `details.value` (the caller's whole input).
 */
export function checkKey(
  digits: unknown,
  length: number,
  field: Gs1Field,
  reported: unknown,
): asserts digits is string {
  const label = fieldLabel(field);
  if (typeof digits !== 'string') {
    fail(
      Gs1ErrorCode.MALFORMED,
      `the ${label} must be a string of ${length} digits, not a ${typeof digits}`,
      reported,
      field,
    );
  }
  if (!DIGITS.test(digits)) {
    fail(
      Gs1ErrorCode.MALFORMED,
      `the ${label} ${show(digits)} must contain only the digits 0-9`,
      reported,
      field,
    );
  }
  if (digits.length !== length) {
    fail(
      Gs1ErrorCode.MALFORMED,
      `the ${label} ${show(digits)} has ${digits.length} digits; a${label === 'SSCC' ? 'n' : ''} ${label} has ${length}` +
        (field === 'gtin' ? ' (normalizeGtin pads a GTIN-8, GTIN-12 or GTIN-13 to 14)' : ''),
      reported,
      field,
    );
  }
  checkCheckDigit(digits, field, reported);
}

/** Checks the last digit of `digits` (digits only, length ≥ 2) is its GS1 check digit. */
export function checkCheckDigit(digits: string, field: Gs1Field, reported: unknown): void {
  const expected = gs1CheckDigit(digits.slice(0, -1));
  const actual = digits.charCodeAt(digits.length - 1) - 48;
  if (expected !== actual) {
    fail(
      Gs1ErrorCode.CHECK_DIGIT,
      `the ${fieldLabel(field)} ${digits} ends in check digit ${actual}, but the GS1 check digit of ` +
        `${digits.slice(0, -1)} is ${expected}: expected ${digits.slice(0, -1)}${expected}; check for a mistyped digit`,
      reported,
      field,
    );
  }
}

/**
 * A GTIN-8, GTIN-12, GTIN-13 or GTIN-14 as the 14-digit GTIN (left-padded with zeros), after checking its digits,
 * length and check digit.
 * @throws Gs1IdentifierError GS1.MALFORMED (not 8/12/13/14 digits) or GS1.CHECK_DIGIT.
 */
export function normalizeGtin(value: string): string {
  return normalizeGtinIn(value, value);
}

/** {@link normalizeGtin}, reporting `reported` (the caller's whole input) in the error details. */
export function normalizeGtinIn(value: unknown, reported: unknown): string {
  if (typeof value !== 'string') {
    fail(
      Gs1ErrorCode.MALFORMED,
      `a GTIN must be a string of 8, 12, 13 or 14 digits, not a ${typeof value}`,
      reported,
      'gtin',
    );
  }
  if (!DIGITS.test(value)) {
    fail(
      Gs1ErrorCode.MALFORMED,
      `the GTIN ${show(value)} must contain only the digits 0-9`,
      reported,
      'gtin',
    );
  }
  if (![8, 12, 13, 14].includes(value.length)) {
    fail(
      Gs1ErrorCode.MALFORMED,
      `the GTIN ${show(value)} has ${value.length} digits; a GTIN has 8, 12, 13 or 14 digits including the check digit`,
      reported,
      'gtin',
    );
  }
  checkCheckDigit(value, 'gtin', reported);
  return value.padStart(14, '0');
}

/** Checks a company prefix length: an integer from 6 to 12. */
export function checkCompanyPrefixLength(length: unknown, reported: unknown): asserts length is number {
  if (
    typeof length !== 'number' ||
    !Number.isInteger(length) ||
    length < MIN_COMPANY_PREFIX_LENGTH ||
    length > MAX_COMPANY_PREFIX_LENGTH
  ) {
    fail(
      Gs1ErrorCode.MALFORMED,
      `companyPrefixLength must be a whole number from ${MIN_COMPANY_PREFIX_LENGTH} to ${MAX_COMPANY_PREFIX_LENGTH}, ` +
        `got ${typeof length === 'number' ? String(length) : typeof length}`,
      reported,
      'companyPrefixLength',
    );
  }
}

/** Checks a serial (AI 21): 1–20 characters of set 82. */
export function checkSerial(serial: unknown, reported: unknown): asserts serial is string {
  checkText(serial, 'serial', reported);
}

/** Checks a batch/lot (AI 10): 1–20 characters of set 82. */
export function checkLot(lot: unknown, reported: unknown): asserts lot is string {
  checkText(lot, 'lot', reported);
}

/** Checks a GLN extension (AI 254, or `'0'` for none): 1–20 characters of set 82. */
export function checkExtension(extension: unknown, reported: unknown): asserts extension is string {
  checkText(extension, 'extension', reported);
}

/** Checks the serial component of a GDTI (AI 253 after the 13 digits): 1–17 characters of set 82. */
export function checkGdtiSerial(serial: unknown, reported: unknown): asserts serial is string {
  checkText(serial, 'serial', reported, { max: MAX_GDTI_SERIAL_LENGTH, label: GDTI_SERIAL_LABEL });
}

/** Fewest digits a GIAI may start with by GS1's own syntax (AI 8004: N4+X..26), shorter than this module's 6. */
const GS1_MIN_GIAI_PREFIX = 4;

/**
 * Checks a GIAI (AI 8004): at most 30 characters of set 82 that start with a GS1 company prefix of 6–12 digits and
 * go on with an individual asset reference of at least one character.
 * @throws Gs1IdentifierError GS1.MALFORMED, or GS1.UNSUPPORTED for a GIAI that GS1's syntax allows (4 or 5 leading
 *   digits) but whose company prefix cannot have the 6–12 digits this module (like the EPC URN) requires.
 */
export function checkGiai(giai: unknown, reported: unknown): asserts giai is string {
  checkText(giai, 'giai', reported, { max: MAX_GIAI_LENGTH });
  const leadingDigits = /^[0-9]*/.exec(giai)?.[0].length ?? 0;
  if (leadingDigits >= MIN_COMPANY_PREFIX_LENGTH && giai.length > MIN_COMPANY_PREFIX_LENGTH) return;
  if (leadingDigits >= GS1_MIN_GIAI_PREFIX && giai.length > GS1_MIN_GIAI_PREFIX) {
    fail(
      Gs1ErrorCode.UNSUPPORTED,
      `the GIAI (AI 8004) ${show(giai)} cannot start with a GS1 company prefix of ${MIN_COMPANY_PREFIX_LENGTH} to ` +
        `${MAX_COMPANY_PREFIX_LENGTH} digits followed by an individual asset reference; shorter company prefixes are ` +
        `not supported`,
      reported,
      'giai',
    );
  }
  fail(
    Gs1ErrorCode.MALFORMED,
    `the GIAI (AI 8004) ${show(giai)} must start with the GS1 company prefix (${MIN_COMPANY_PREFIX_LENGTH} to ` +
      `${MAX_COMPANY_PREFIX_LENGTH} digits) followed by the individual asset reference`,
    reported,
    'giai',
  );
}

/**
 * Checks that a GIAI can be split after `length` characters: those are digits (the company prefix) and at least one
 * character (the individual asset reference) follows.
 */
export function checkGiaiCompanyPrefixLength(giai: string, length: number, reported: unknown): void {
  const prefix = giai.slice(0, length);
  if (giai.length > length && /^[0-9]+$/.test(prefix)) return;
  fail(
    Gs1ErrorCode.MALFORMED,
    `the GIAI ${show(giai)} cannot start with a GS1 company prefix of ${length} digits: ` +
      (giai.length <= length
        ? 'no individual asset reference would be left after it'
        : `${show(prefix)} is not all digits`),
    reported,
    'companyPrefixLength',
  );
}

function checkText(
  text: unknown,
  field: Gs1Field,
  reported: unknown,
  options: { max?: number; label?: string } = {},
): asserts text is string {
  if (typeof text !== 'string') {
    fail(
      Gs1ErrorCode.MALFORMED,
      `the ${options.label ?? fieldLabel(field)} must be a string, not a ${typeof text}`,
      reported,
      field,
    );
  }
  checkCs82Value(text, field, reported, options);
}

/**
 * Checks that `id` is a well-formed {@link Gs1Identifier}: a known kind, keys with the right length and check digit,
 * serial/lot/extension of 1–20 characters of set 82 (a GDTI serial 1–17), a GIAI of at most 30 that starts with a
 * company prefix, and any `companyPrefixLength` from 6 to 12 (for a GIAI, one that leaves an asset reference).
 * @returns `id`, typed.
 * @throws Gs1IdentifierError GS1.MALFORMED, GS1.CHECK_DIGIT, or GS1.UNSUPPORTED for an unknown `kind`.
 */
export function validateGs1Identifier(id: unknown): Gs1Identifier {
  if (typeof id !== 'object' || id === null) {
    fail(
      Gs1ErrorCode.MALFORMED,
      `expected a GS1 identifier object with a kind, got ${id === null ? 'null' : typeof id}`,
      id,
      'kind',
    );
  }
  const candidate = id as Record<string, unknown>;
  if (typeof candidate.kind !== 'string') {
    fail(
      Gs1ErrorCode.MALFORMED,
      `a GS1 identifier needs a kind (${SUPPORTED_KINDS}); this one has ${candidate.kind === undefined ? 'none' : `a ${typeof candidate.kind}`}`,
      id,
      'kind',
    );
  }
  switch (candidate.kind) {
    case 'sgtin':
      checkKey(candidate.gtin, 14, 'gtin', candidate.gtin);
      checkSerial(candidate.serial, candidate.serial);
      break;
    case 'lgtin':
      checkKey(candidate.gtin, 14, 'gtin', candidate.gtin);
      checkLot(candidate.lot, candidate.lot);
      break;
    case 'gtin':
      checkKey(candidate.gtin, 14, 'gtin', candidate.gtin);
      break;
    case 'sscc':
      checkKey(candidate.sscc, 18, 'sscc', candidate.sscc);
      break;
    case 'sgln':
      checkKey(candidate.gln, 13, 'gln', candidate.gln);
      checkExtension(candidate.extension, candidate.extension);
      break;
    case 'pgln':
      checkKey(candidate.gln, 13, 'pgln', candidate.gln);
      break;
    case 'gdti':
      checkKey(candidate.gdti, 13, 'gdti', candidate.gdti);
      checkGdtiSerial(candidate.serial, candidate.serial);
      break;
    case 'giai':
      checkGiai(candidate.giai, candidate.giai);
      break;
    default:
      fail(
        Gs1ErrorCode.UNSUPPORTED,
        `unsupported GS1 identifier kind ${show(candidate.kind)}; supported: ${SUPPORTED_KINDS}`,
        candidate.kind,
        'kind',
      );
  }
  if (candidate.companyPrefixLength !== undefined) {
    checkCompanyPrefixLength(candidate.companyPrefixLength, candidate.companyPrefixLength);
    if (candidate.kind === 'giai') {
      checkGiaiCompanyPrefixLength(candidate.giai as string, candidate.companyPrefixLength, candidate.giai);
    }
  }
  return id as Gs1Identifier;
}

/**
 * A copy of `id` with its GS1 Company Prefix length set (e.g. from a GS1 company prefix table), which
 * {@link toEpcUrn} needs for identifiers read from a Digital Link URI.
 * @throws Gs1IdentifierError GS1.MALFORMED when `length` is not 6–12 (for a GIAI: when its first `length`
 *   characters are not all digits or leave no asset reference), or `id` is not a valid identifier.
 */
export function withCompanyPrefixLength<T extends Gs1Identifier>(id: T, length: number): T {
  validateGs1Identifier(id);
  checkCompanyPrefixLength(length, length);
  if (id.kind === 'giai') checkGiaiCompanyPrefixLength(id.giai, length, id.giai);
  return { ...id, companyPrefixLength: length };
}
