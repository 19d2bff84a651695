/**
 * The one place this module reads GS1 identifiers, through the GS1 identifier module (`../identifiers/`): EPC URNs
 * and GS1 Digital Link URIs of the kinds it supports (SGTIN, SSCC, SGLN, LGTIN, GTIN class, PGLN, GDTI, GIAI). Other
 * EPC schemes (GRAI, GSRN, CPI, …), GDTIs without serial component and non-GS1 URIs are "opaque" here: valid EPCIS
 * identifiers, kept and compared as written.
 */
import {
  canonicalKey,
  Gs1ErrorCode,
  Gs1IdentifierError,
  parseGs1Identifier,
  type Gs1Identifier,
} from '../identifiers/index.js';

export type { Gs1Identifier };

/** What a URI value is, as far as GS1 keys go. */
export type IdentifierReading =
  | { status: 'gs1'; id: Gs1Identifier; key: string }
  | { status: 'opaque' }
  | { status: 'invalid'; error: Gs1IdentifierError };

/**
 * Reads `value` as a GS1 identifier. A value the GS1 module parses is `gs1` (with its canonical Digital Link URI as
 * `key`); one it refuses is `invalid` only when it claims to be a GS1 key (an `urn:epc:` URN, or an http(s) URI whose
 * path names a GS1 primary key the module handles: `/01/`, `/00/`, `/414/`, `/417/`, `/253/`, `/8004/` and their
 * short names) and the module does not report it as merely unsupported; anything else is `opaque`.
 */
export function readIdentifier(value: string): IdentifierReading {
  // Only URNs and http(s) URIs can be GS1 identifiers; the GS1 module is not asked about anything else (a bare number
  // in a user extension must stay a number).
  if (!/^(?:urn:|https?:\/\/)/i.test(value)) return { status: 'opaque' };
  // A URN outside `urn:epc:` (e.g. a CBV business transaction) is never a GS1 key the module reads, nor one that
  // claims to be: the module would refuse it, and the answer would be `opaque` whatever its reason; say so without
  // building the error.
  if (!/^urn:epc:/i.test(value) && /^urn:/i.test(value)) return { status: 'opaque' };
  // Likewise an http(s) URI none of whose path segments can be a key the module reads (each segment follows a "/"),
  // e.g. a CBV Web URI: refused by the module whatever else it holds, so `opaque` unless it claims to be a GS1 key.
  if (/^https?:/i.test(value) && !SUPPORTED_KEY_SEGMENT.test(value) && !looksLikeGs1(value)) {
    return { status: 'opaque' };
  }
  try {
    const id = parseGs1Identifier(value);
    return { status: 'gs1', id, key: canonicalKey(id) };
  } catch (error) {
    if (!(error instanceof Gs1IdentifierError)) throw error;
    if (error.code === Gs1ErrorCode.UNSUPPORTED || !looksLikeGs1(value)) return { status: 'opaque' };
    return { status: 'invalid', error };
  }
}

/**
 * The canonical GS1 Digital Link URI of a GS1 identifier (`https://id.gs1.org/01/…/21/…`), or the value as written
 * when it is not one the GS1 module reads. Never throws.
 */
export function identifierKey(value: string): string {
  const reading = readIdentifier(value);
  return reading.status === 'gs1' ? reading.key : value;
}

/**
 * {@link readIdentifier} and {@link identifierKey} remembered for the life of this object: one per document, since
 * a document names the same packs, cases, locations and CBV Web URIs many times over (checked, hashed and keyed for
 * every event that lists them). Readings are pure functions of the text, so a remembered one is the same answer;
 * they are shared, never to be changed by callers.
 */
export class IdentifierReadings {
  private readonly readings = new Map<string, IdentifierReading>();
  /**
   * What the event hash writes for a value of the document (a CBV URI as a Web URI, a number, an identifier as its
   * canonical Digital Link, …), by the value; kept by the event hash, which alone knows the rule.
   */
  readonly hashValues = new Map<string, string>();

  read(value: string): IdentifierReading {
    let reading = this.readings.get(value);
    if (reading === undefined) {
      reading = readIdentifier(value);
      this.readings.set(value, reading);
    }
    return reading;
  }

  key(value: string): string {
    const reading = this.read(value);
    return reading.status === 'gs1' ? reading.key : value;
  }
}

/** Where a Digital Link key the GS1 module reads could start: `/00`, `/01`, `/414`, `/417`, `/253`, `/8004`. */
const SUPPORTED_KEY_SEGMENT = /\/(?:00|01|414|417|253|8004)/;

const DIGITAL_LINK_PRIMARY_KEY =
  /^https?:\/\/[^/?#]+(?:\/[^?#]*)?\/(?:00|01|414|417|253|8004|sscc|gtin|gln|gdti|giai)\/[0-9]/i;

function looksLikeGs1(value: string): boolean {
  return /^urn:epc:/i.test(value) || DIGITAL_LINK_PRIMARY_KEY.test(value);
}
