/**
 * The GS1 AI encodable character set 82 (GS1 General Specifications, figure 7.11-1) and the two ways it is written
 * inside URIs:
 *
 * - **EPC URNs** (EPC Tag Data Standard, section 5 and table A-1): a component is a `GS3A3Component`: letters, digits
 *   and `! ' ( ) * + , - . : ; = _` as they are, while `" % & / < > ?` must be written `%22 %25 %26 %2F %3C %3E %3F`.
 *   Any `%HH` escape is accepted when reading, provided it stands for one of the 82 characters.
 * - **GS1 Digital Link URIs** (GS1 Digital Link: URI syntax): a path or query value. Written canonically with only
 *   the RFC 3986 unreserved characters of the set (`A-Z a-z 0-9 - . _`) as they are and every other character as
 *   `%HH` (upper-case hex); read leniently (any of the 82 characters except the URI delimiters `% / ?`, and any
 *   `%HH` escape that stands for one of the 82).
 */
import { fail, Gs1ErrorCode, show, type Gs1Field } from './errors.js';

/** The 20 symbols of character set 82; with `A-Z`, `a-z` and `0-9` they make the 82 characters. */
export const CS82_SYMBOLS = `!"%&'()*+,-./:;<=>?_`;

/** Longest serial number (AI 21), batch/lot (AI 10) and GLN extension (AI 254): 20 characters. */
export const MAX_CS82_VALUE_LENGTH = 20;

/** Longest serial component of a GDTI (AI 253): 17 characters. */
export const MAX_GDTI_SERIAL_LENGTH = 17;

/** Longest GIAI (AI 8004), company prefix included: 30 characters. */
export const MAX_GIAI_LENGTH = 30;

const CS82 = new Set<string>([
  ...'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
  ...'abcdefghijklmnopqrstuvwxyz',
  ...'0123456789',
  ...CS82_SYMBOLS,
]);

/** Every character of set 82 (non-empty): the common case of {@link checkCs82Value}, checked in one go. */
const ALL_CS82 = /^[A-Za-z0-9!"%&'()*+,\-./:;<=>?_]+$/;

/** Characters of set 82 an EPC URN writes as they are (no escape needed or allowed to be needed), none or more. */
const URN_PLAIN = /^[A-Za-z0-9!'()*+,\-.:;=_]*$/;

/** Characters of set 82 a Digital Link value may hold as they are (no `%` escape, no delimiter), none or more. */
const DL_PLAIN = /^[A-Za-z0-9!"&'()*+,\-.:;<=>_]*$/;

/** Characters written as they are in a canonical Digital Link value, none or more. */
const DL_UNRESERVED_ALL = /^[A-Za-z0-9._-]*$/;

/** Characters of set 82 that an EPC URN must percent-escape (TDS table A-1). */
const URN_MUST_ESCAPE = new Set<string>(['"', '%', '&', '/', '<', '>', '?']);

/** Characters of set 82 written as they are in a canonical Digital Link URI (RFC 3986 unreserved). */
const DL_UNRESERVED = /^[A-Za-z0-9._-]$/;

/** Characters that delimit a Digital Link path or query and so cannot stand for themselves in a value. */
const DL_DELIMITERS = new Set<string>(['%', '/', '?', '#']);

/** True when `char` (one character) is in the GS1 AI encodable character set 82. */
export function isCs82Char(char: string): boolean {
  return CS82.has(char);
}

/** Names a character for a message: the character quoted, plus its code point when it is not plain ASCII. */
export function describeChar(char: string): string {
  const codePoint = char.codePointAt(0) ?? 0;
  const hex = codePoint.toString(16).toUpperCase().padStart(4, '0');
  return codePoint >= 0x21 && codePoint <= 0x7e ? JSON.stringify(char) : `${JSON.stringify(char)} (U+${hex})`;
}

function percent(char: string): string {
  return `%${char.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`;
}

/** How {@link checkCs82Value} and the decoders name and bound a value, when not as its field does by default. */
export interface Cs82ValueOptions {
  /** Longest allowed value; default {@link MAX_CS82_VALUE_LENGTH} (20). */
  max?: number;
  /** The words a message uses for the value; default {@link fieldLabel}(field). */
  label?: string;
}

/**
 * Checks that a decoded serial, lot, GLN extension (or another value of set 82) is 1 to `max` characters of set 82.
 * @param text - The value as a person reads it (already unescaped).
 * @param field - Which value it is, for the message and `details.field`.
 * @param reported - What to put in `details.value` (the caller's whole input).
 * @param options - Its longest length (default 20) and its name in messages.
 */
export function checkCs82Value(
  text: string,
  field: Gs1Field,
  reported: unknown,
  options: Cs82ValueOptions = {},
): void {
  const max = options.max ?? MAX_CS82_VALUE_LENGTH;
  // The common case: every character in the set and not too long; otherwise the checks below say what is wrong.
  if (text.length <= max && ALL_CS82.test(text)) return;
  const label = options.label ?? fieldLabel(field);
  if (text.length === 0)
    fail(
      Gs1ErrorCode.MALFORMED,
      `the ${label} is empty; it must have 1 to ${max} characters`,
      reported,
      field,
    );
  for (const char of text) {
    if (!CS82.has(char)) {
      fail(
        Gs1ErrorCode.MALFORMED,
        `the ${label} ${show(text)} contains ${describeChar(char)}, which is not in the GS1 AI encodable character set 82 ` +
          `(letters A-Z a-z, digits and ${CS82_SYMBOLS})`,
        reported,
        field,
      );
    }
  }
  if (text.length > max) {
    fail(
      Gs1ErrorCode.MALFORMED,
      `the ${label} ${show(text)} has ${text.length} characters; GS1 allows at most ${max}`,
      reported,
      field,
    );
  }
}

/** Writes a value of set 82 as an EPC URN component: escapes exactly `" % & / < > ?` (TDS table A-1). */
export function escapeUrnComponent(text: string): string {
  let out = '';
  for (const char of text) out += URN_MUST_ESCAPE.has(char) ? percent(char) : char;
  return out;
}

/**
 * Reads an EPC URN component (`GS3A3Component`) back into the characters it stands for.
 * @param label - The words a message uses for the component; default {@link fieldLabel}(field).
 * @throws Gs1IdentifierError GS1.MALFORMED for a bad or incomplete escape, an escape of a character outside set 82,
 *   or a character that must be escaped (or is not allowed at all).
 */
export function unescapeUrnComponent(
  component: string,
  field: Gs1Field,
  reported: unknown,
  label: string = fieldLabel(field),
): string {
  if (URN_PLAIN.test(component)) return component; // nothing escaped, nothing to refuse: the loop would copy it
  let out = '';
  for (let i = 0; i < component.length;) {
    const char = String.fromCodePoint(component.codePointAt(i) ?? 0);
    if (char === '%') {
      out += decodeEscape(component, i, label, field, reported);
      i += 3;
      continue;
    }
    if (URN_MUST_ESCAPE.has(char)) {
      fail(
        Gs1ErrorCode.MALFORMED,
        `the ${label} ${show(component)} contains ${describeChar(char)}, which an EPC URN must write as ${percent(char)}`,
        reported,
        field,
      );
    }
    if (!CS82.has(char)) {
      fail(
        Gs1ErrorCode.MALFORMED,
        `the ${label} ${show(component)} contains ${describeChar(char)}, which is not in the GS1 AI encodable character set 82`,
        reported,
        field,
      );
    }
    out += char;
    i += char.length;
  }
  return out;
}

/** Writes a value of set 82 as a canonical Digital Link path or query value (all but `A-Z a-z 0-9 - . _` escaped). */
export function encodeDigitalLinkValue(text: string): string {
  if (DL_UNRESERVED_ALL.test(text)) return text;
  let out = '';
  for (const char of text) out += DL_UNRESERVED.test(char) ? char : percent(char);
  return out;
}

/**
 * Reads a Digital Link path or query value: `%HH` escapes (either case) of characters of set 82, and characters of set
 * 82 other than `% / ? #` as they are.
 * @throws Gs1IdentifierError GS1.MALFORMED otherwise.
 */
export function decodeDigitalLinkValue(
  raw: string,
  field: Gs1Field,
  reported: unknown,
  label: string = fieldLabel(field),
): string {
  if (DL_PLAIN.test(raw)) return raw; // nothing escaped, nothing to refuse: the loop would copy it
  let out = '';
  for (let i = 0; i < raw.length;) {
    const char = String.fromCodePoint(raw.codePointAt(i) ?? 0);
    if (char === '%') {
      out += decodeEscape(raw, i, label, field, reported);
      i += 3;
      continue;
    }
    if (!CS82.has(char) || DL_DELIMITERS.has(char)) {
      fail(
        Gs1ErrorCode.MALFORMED,
        `the ${label} ${show(raw)} contains ${describeChar(char)}, which is not allowed in a GS1 Digital Link ` +
          `(write a character of the GS1 set 82 that is not a letter, digit, "-", "." or "_" as %HH)`,
        reported,
        field,
      );
    }
    out += char;
    i += char.length;
  }
  return out;
}

function decodeEscape(text: string, at: number, label: string, field: Gs1Field, reported: unknown): string {
  const hex = text.slice(at + 1, at + 3);
  if (!/^[0-9A-Fa-f]{2}$/.test(hex)) {
    fail(
      Gs1ErrorCode.MALFORMED,
      `the ${label} ${show(text)} has an incomplete percent-escape at position ${at + 1}: "%" must be followed by two hex digits`,
      reported,
      field,
    );
  }
  const char = String.fromCharCode(parseInt(hex, 16));
  if (!CS82.has(char)) {
    fail(
      Gs1ErrorCode.MALFORMED,
      `the ${label} ${show(text)} contains %${hex}, which stands for ${describeChar(char)}, a character outside the ` +
        `GS1 AI encodable character set 82`,
      reported,
      field,
    );
  }
  return char;
}

/** The serial component of a GDTI, as messages name it (its `details.field` is `serial`). */
export const GDTI_SERIAL_LABEL = 'GDTI serial component';

/** The words a message uses for a field. */
export function fieldLabel(field: Gs1Field): string {
  switch (field) {
    case 'serial':
      return 'serial number (AI 21)';
    case 'lot':
      return 'batch/lot (AI 10)';
    case 'extension':
      return 'GLN extension (AI 254)';
    case 'companyPrefix':
      return 'GS1 company prefix';
    case 'companyPrefixLength':
      return 'GS1 company prefix length';
    case 'itemReference':
      return 'indicator and item reference';
    case 'serialReference':
      return 'extension digit and serial reference';
    case 'locationReference':
      return 'location reference';
    case 'expiry':
      return 'expiration date (AI 17)';
    case 'gtin':
      return 'GTIN';
    case 'sscc':
      return 'SSCC';
    case 'gln':
      return 'GLN';
    case 'pgln':
      return 'party GLN';
    case 'gdti':
      return 'GDTI document type key';
    case 'giai':
      return 'GIAI';
    case 'partyReference':
      return 'party reference';
    case 'documentType':
      return 'document type';
    case 'assetReference':
      return 'individual asset reference';
    default:
      return field;
  }
}
