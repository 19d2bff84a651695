/**
 * The one error type of the GS1 identifier module. Every failure is a {@link Gs1IdentifierError} (an
 * {@link InvalidInputError}: HTTP 400, FHIR issue type `invalid`) with one of three stable codes and
 * `details: { value, field? }`, so callers can match on the code and show the message to a person.
 */
import { InvalidInputError } from '../../core/errors.js';

/** Stable error codes of the GS1 identifier module. */
export const Gs1ErrorCode = {
  /** Not the right shape: wrong characters, wrong length, missing or extra parts, bad escaping, bad order. */
  MALFORMED: 'GS1.MALFORMED',
  /** The digits are well formed but the last one is not the GS1 mod-10 check digit of the others. */
  CHECK_DIGIT: 'GS1.CHECK_DIGIT',
  /**
   * A valid GS1 or EPC construct this module does not handle (e.g. GRAI, tag URIs, consumer product variant, a GDTI
   * without serial component).
   */
  UNSUPPORTED: 'GS1.UNSUPPORTED',
} as const;

/** One of the {@link Gs1ErrorCode} values. */
export type Gs1ErrorCode = (typeof Gs1ErrorCode)[keyof typeof Gs1ErrorCode];

/** Which part of the input was wrong. */
export type Gs1Field =
  | 'input'
  | 'gtin'
  | 'sscc'
  | 'gln'
  | 'pgln'
  | 'gdti'
  | 'giai'
  | 'serial'
  | 'lot'
  | 'extension'
  | 'companyPrefix'
  | 'companyPrefixLength'
  | 'itemReference'
  | 'serialReference'
  | 'locationReference'
  | 'partyReference'
  | 'documentType'
  | 'assetReference'
  | 'expiry'
  | 'digits'
  | 'kind'
  | 'scheme'
  | 'host'
  | 'path'
  | 'query'
  | 'base';

/** `details` of every {@link Gs1IdentifierError}. A type alias (not an interface) so it is a `Record<string, unknown>`. */
export type Gs1ErrorDetails = {
  /** The value the caller passed (a URN, a URI, a GTIN, …), cut to {@link MAX_DETAIL_VALUE_LENGTH} characters. */
  value: string;
  /** The part of it that is wrong, when one part is. */
  field?: Gs1Field;
};

/** Longest `details.value` kept; longer values are cut, so a huge input cannot bloat logs or responses. */
export const MAX_DETAIL_VALUE_LENGTH = 200;

/**
 * A GS1 identifier (GTIN, SSCC, GLN, GDTI, GIAI, serial, lot, EPC URN, Digital Link URI) is malformed or not supported.
 */
export class Gs1IdentifierError extends InvalidInputError {
  declare readonly code: Gs1ErrorCode;
  declare readonly details: Gs1ErrorDetails;

  /**
   * @param code - One of {@link Gs1ErrorCode}.
   * @param message - What is wrong and, where it helps, what the right form is.
   * @param value - The offending value as the caller gave it (cut to 200 characters here).
   * @param field - The part of `value` that is wrong.
   */
  constructor(code: Gs1ErrorCode, message: string, value: unknown, field?: Gs1Field) {
    const details: Gs1ErrorDetails = { value: detailValue(value) };
    if (field !== undefined) details.field = field;
    super(code, message, { details });
    // InvalidInputError declares `name` as a literal type, so a subclass cannot redeclare it; define the own
    // property instead so logs and stack traces name the precise class (as src/merkle/errors.ts does).
    Object.defineProperty(this, 'name', {
      value: 'Gs1IdentifierError',
      enumerable: false,
      writable: true,
      configurable: true,
    });
  }
}

function detailValue(value: unknown): string {
  let text: string;
  if (typeof value === 'string') text = value;
  else if (value === undefined) text = 'undefined';
  else {
    try {
      text = typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
    } catch {
      text = Object.prototype.toString.call(value);
    }
  }
  return text.length > MAX_DETAIL_VALUE_LENGTH ? text.slice(0, MAX_DETAIL_VALUE_LENGTH) : text;
}

/** Throws a {@link Gs1IdentifierError}; `never`, so TypeScript narrows after a call. */
export function fail(code: Gs1ErrorCode, message: string, value: unknown, field?: Gs1Field): never {
  throw new Gs1IdentifierError(code, message, value, field);
}

/** Quotes a piece of user input for a message: JSON string syntax (control characters visible), at most 60 characters. */
export function show(text: string): string {
  const cut = text.length > 60 ? `${text.slice(0, 57)}...` : text;
  return JSON.stringify(cut);
}
