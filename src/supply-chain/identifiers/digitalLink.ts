/**
 * GS1 Digital Link URIs (GS1 Digital Link: URI syntax, 1.2+), uncompressed form:
 *
 *     http(s)://{any domain}[/{any path of its own}]/{primary AI}/{key}[/{qualifier AI}/{value}…][?{AI}={value}&…]
 *
 * Supported primary keys and their key qualifiers, in the only order the standard allows:
 *
 * | primary key | qualifiers |
 * | --- | --- |
 * | `01` GTIN (GTIN-8/12/13 are read and left-padded to 14) | `10` batch/lot, then `21` serial (`22` consumer product variant: unsupported) |
 * | `00` SSCC (18 digits) | none |
 * | `414` GLN (13 digits) | `254` GLN extension |
 * | `417` party GLN (13 digits) | none |
 * | `253` GDTI (13 digits, then a serial component of 1–17 characters; without one it names a document type: unsupported) | none |
 * | `8004` GIAI (company prefix, then individual asset reference; at most 30 characters) | none |
 *
 * The query may carry `17` (expiry date, YYMMDD) and `10` (batch/lot, when not in the path); other GS1 data attributes
 * and non-GS1 parameters are ignored, a key or key qualifier in the query is an error. The primary key is the
 * leftmost path segment naming a GS1 key AI that is followed by an even number of segments, so a domain may put a
 * path of its own before it (`https://example.com/products/01/…`). Leftmost rather than rightmost: a second key later
 * in the path (`/01/{gtin}/414/{gln}`) is then an error instead of silently becoming the identifier.
 */
import {
  checkCs82Value,
  decodeDigitalLinkValue,
  encodeDigitalLinkValue,
  fieldLabel,
} from './characterSet82.js';
import { fail, Gs1ErrorCode, show, type Gs1Field } from './errors.js';
import { checkExpiry } from './expiryDate.js';
import { checkGdtiSerial, checkGiai, checkKey, normalizeGtinIn, validateGs1Identifier } from './gs1Keys.js';
import type { DigitalLinkData, Gs1Identifier } from './types.js';

/** The Digital Link base URI used when none is given, and by {@link canonicalKey}: GS1's global resolver. */
export const DEFAULT_DIGITAL_LINK_BASE = 'https://id.gs1.org';

const SUPPORTED_KEYS = new Set(['01', '00', '414', '417', '253', '8004']);

/** The supported keys, for messages. */
const SUPPORTED_KEY_LIST = '01 (GTIN), 00 (SSCC), 414 (GLN), 417 (party GLN), 253 (GDTI), 8004 (GIAI)';

/** GS1 keys a Digital Link may start with that this module does not handle (Digital Link 1.2+ grammar). */
const UNSUPPORTED_KEYS: ReadonlyMap<string, string> = new Map([
  ['255', 'GCN'],
  ['401', 'GINC'],
  ['402', 'GSIN'],
  ['415', 'GLN of the invoicing party'],
  ['8003', 'GRAI'],
  ['8006', 'ITIP'],
  ['8010', 'CPID'],
  ['8013', 'GMN'],
  ['8017', 'GSRN of the provider'],
  ['8018', 'GSRN of the recipient'],
]);

/** Key qualifiers of each supported key, in the order the standard requires. */
const QUALIFIER_ORDER: ReadonlyMap<string, readonly string[]> = new Map([
  ['01', ['22', '10', '21']],
  ['00', []],
  ['414', ['254']],
  ['417', []],
  ['253', []],
  ['8004', []],
]);

const KEY_NAMES: ReadonlyMap<string, string> = new Map([
  ['01', 'GTIN'],
  ['00', 'SSCC'],
  ['414', 'GLN'],
  ['417', 'party GLN'],
  ['253', 'GDTI'],
  ['8004', 'GIAI'],
]);

/** Key qualifiers of the standard this module does not model. */
const UNSUPPORTED_QUALIFIERS: ReadonlyMap<string, string> = new Map([
  ['22', 'consumer product variant'],
  ['235', 'third-party controlled serialised extension of the GTIN'],
]);

/** AIs that are keys or key qualifiers: they belong in the path, never in the query. */
const PATH_ONLY_AIS = new Set([
  ...SUPPORTED_KEYS,
  ...UNSUPPORTED_KEYS.keys(),
  '21',
  '22',
  '235',
  '254',
  '8011',
  '8019',
  '8020',
  '7040',
]);

const DL_URI = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)(?:\?([^#]*))?(?:#.*)?$/s;
const HOST =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.?(?::[0-9]{1,5})?$/;

/**
 * Reads a GS1 Digital Link URI (any domain) into its identifier, batch/lot and expiry date.
 * @throws Gs1IdentifierError GS1.MALFORMED (not an http(s) URI, no GS1 primary key, a key without value, an empty
 *   value, bad characters or escapes, qualifiers in the wrong order or repeated, an AI that is not a qualifier of the
 *   key, a key or qualifier in the query, an invalid expiry date), GS1.CHECK_DIGIT, GS1.UNSUPPORTED (another GS1 key,
 *   a consumer product variant, compressed URIs are reported as "no primary key").
 */
export function parseDigitalLink(uri: string): DigitalLinkData {
  if (typeof uri !== 'string') {
    fail(
      Gs1ErrorCode.MALFORMED,
      `expected a GS1 Digital Link URI string, got a ${uri === null ? 'null' : typeof uri}`,
      uri,
      'input',
    );
  }
  if (uri.trim() !== uri) {
    fail(
      Gs1ErrorCode.MALFORMED,
      `the GS1 Digital Link URI ${show(uri)} has leading or trailing white space`,
      uri,
      'input',
    );
  }
  const match = DL_URI.exec(uri);
  if (match === null || !/^https?$/i.test(match[1] ?? '')) {
    fail(
      Gs1ErrorCode.MALFORMED,
      `${show(uri)} is not a GS1 Digital Link URI; expected http(s)://domain/01/{GTIN}…, e.g. https://id.gs1.org/01/09521234543213`,
      uri,
      'input',
    );
  }
  const host = match[2] ?? '';
  const path = match[3] ?? '';
  const query = match[4];
  if (!HOST.test(host)) {
    fail(
      Gs1ErrorCode.MALFORMED,
      `${show(uri)}: the domain ${show(host)} is not a valid host name`,
      uri,
      'host',
    );
  }
  const segments = path.split('/').slice(1);
  if (segments.length > 0 && segments[segments.length - 1] === '') segments.pop(); // one trailing "/" is harmless
  const start = findPrimaryKey(segments, uri);
  const pairs: Array<[string, string]> = [];
  for (let i = start; i < segments.length; i += 2) pairs.push([segments[i] ?? '', segments[i + 1] ?? '']);

  const [primaryAi, primaryRaw] = pairs[0] ?? ['', ''];
  const qualifiers = checkQualifiers(primaryAi, pairs.slice(1), uri);
  const attributes = readQuery(query, uri);

  let identifier: Gs1Identifier;
  let lot: string | undefined;
  if (primaryAi === '01') {
    const gtin = normalizeGtinIn(decodeValue(primaryRaw, 'gtin', primaryAi, uri), uri);
    const pathLot = qualifiers.get('10');
    if (pathLot !== undefined && attributes.lot !== undefined) {
      fail(
        Gs1ErrorCode.MALFORMED,
        `${show(uri)} gives the batch/lot (AI 10) twice: in the path and in the query`,
        uri,
        'lot',
      );
    }
    lot = pathLot ?? attributes.lot;
    const serial = qualifiers.get('21');
    if (serial !== undefined) identifier = { kind: 'sgtin', gtin, serial };
    else if (lot !== undefined) identifier = { kind: 'lgtin', gtin, lot };
    else identifier = { kind: 'gtin', gtin };
  } else {
    if (attributes.lot !== undefined) {
      fail(
        Gs1ErrorCode.MALFORMED,
        `${show(uri)}: a batch/lot (AI 10) qualifies a GTIN (AI 01) only, not ${keyPhrase(primaryAi)}`,
        uri,
        'lot',
      );
    }
    identifier = otherKey(primaryAi, primaryRaw, qualifiers, uri);
  }
  const data: DigitalLinkData = { identifier };
  if (lot !== undefined) data.lot = lot;
  if (attributes.expiry !== undefined) data.expiry = attributes.expiry;
  return data;
}

/** "an SSCC", "a GLN", … (AI nn): the key of `ai` with its article, for messages. */
function keyPhrase(ai: string): string {
  const name = KEY_NAMES.get(ai) ?? 'GS1 key';
  return `${/^S/.test(name) ? 'an' : 'a'} ${name} (AI ${ai})`;
}

/** The identifier of a primary key other than a GTIN: SSCC, GLN (+ extension), party GLN, GDTI, GIAI. */
function otherKey(
  ai: string,
  raw: string,
  qualifiers: ReadonlyMap<string, string>,
  uri: string,
): Gs1Identifier {
  switch (ai) {
    case '00': {
      const sscc = decodeValue(raw, 'sscc', ai, uri);
      checkKey(sscc, 18, 'sscc', uri);
      return { kind: 'sscc', sscc };
    }
    case '414': {
      const gln = decodeValue(raw, 'gln', ai, uri);
      checkKey(gln, 13, 'gln', uri);
      const extension = qualifiers.get('254');
      if (extension === '0') {
        fail(
          Gs1ErrorCode.MALFORMED,
          `${show(uri)}: GLN extension "0" is reserved to mean "no extension"; leave out /254/0`,
          uri,
          'extension',
        );
      }
      return { kind: 'sgln', gln, extension: extension ?? '0' };
    }
    case '417': {
      const gln = decodeValue(raw, 'pgln', ai, uri);
      checkKey(gln, 13, 'pgln', uri);
      return { kind: 'pgln', gln };
    }
    case '253':
      return gdtiOf(decodeValue(raw, 'gdti', ai, uri), uri);
    default: {
      // '8004', the last of SUPPORTED_KEYS.
      const giai = decodeValue(raw, 'giai', ai, uri);
      checkGiai(giai, uri);
      return { kind: 'giai', giai };
    }
  }
}

/** A GDTI from the value of AI 253: 13 digits (the document type key, with check digit), then the serial component. */
function gdtiOf(value: string, uri: string): Gs1Identifier {
  const key = value.slice(0, 13);
  if (!/^[0-9]{13}$/.test(key)) {
    fail(
      Gs1ErrorCode.MALFORMED,
      `${show(uri)}: a GDTI (AI 253) starts with 13 digits (company prefix, document type, check digit), ` +
        `got ${show(value)}`,
      uri,
      'gdti',
    );
  }
  checkKey(key, 13, 'gdti', uri);
  const serial = value.slice(13);
  if (serial === '') {
    fail(
      Gs1ErrorCode.UNSUPPORTED,
      `${show(uri)}: a GDTI without serial component names a document type, not one document (it has no EPC); ` +
        `only GDTIs with a serial component are supported`,
      uri,
      'serial',
    );
  }
  checkGdtiSerial(serial, uri);
  return { kind: 'gdti', gdti: key, serial };
}

/** Index of the primary key's AI in `segments`, or a precise error. */
function findPrimaryKey(segments: readonly string[], uri: string): number {
  let firstKeyAt = -1;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i] ?? '';
    const isKey = SUPPORTED_KEYS.has(segment) || UNSUPPORTED_KEYS.has(segment);
    if (!isKey) continue;
    if (firstKeyAt < 0) firstKeyAt = i;
    if ((segments.length - i) % 2 !== 0) continue;
    if (SUPPORTED_KEYS.has(segment)) return i;
    fail(
      Gs1ErrorCode.UNSUPPORTED,
      `${show(uri)}: AI ${segment} (${UNSUPPORTED_KEYS.get(segment) ?? 'GS1 key'}) is a GS1 key this module does not ` +
        `support; supported: ${SUPPORTED_KEY_LIST}`,
      uri,
      'path',
    );
  }
  if (firstKeyAt >= 0) {
    const last = segments[segments.length - 1] ?? '';
    fail(
      Gs1ErrorCode.MALFORMED,
      `${show(uri)}: after /${segments[firstKeyAt] ?? ''}/ the path must be pairs of AI and value, but ${show(last)} ` +
        `at its end has no value`,
      uri,
      'path',
    );
  }
  fail(
    Gs1ErrorCode.MALFORMED,
    `${show(uri)} has no GS1 primary key in its path: expected /01/{GTIN}, /00/{SSCC}, /414/{GLN}, /417/{GLN}, ` +
      `/253/{GDTI} or /8004/{GIAI} ` +
      `(compressed Digital Link URIs are not supported)`,
    uri,
    'path',
  );
}

/** Checks the qualifiers follow the key in the standard's order, once each; returns their decoded values. */
function checkQualifiers(
  key: string,
  pairs: ReadonlyArray<[string, string]>,
  uri: string,
): Map<string, string> {
  const order = QUALIFIER_ORDER.get(key) ?? [];
  const keyName = `${KEY_NAMES.get(key) ?? key} (AI ${key})`;
  const values = new Map<string, string>();
  let lastPosition = -1;
  for (const [ai, raw] of pairs) {
    const position = order.indexOf(ai);
    if (position < 0) {
      if (key === '01' && UNSUPPORTED_QUALIFIERS.has(ai)) {
        fail(
          Gs1ErrorCode.UNSUPPORTED,
          `${show(uri)}: AI ${ai} (${UNSUPPORTED_QUALIFIERS.get(ai) ?? ai}) is not supported`,
          uri,
          'path',
        );
      }
      const allowed = order.length === 0 ? 'none' : order.join(', then ');
      const why =
        SUPPORTED_KEYS.has(ai) || UNSUPPORTED_KEYS.has(ai)
          ? `a Digital Link has one primary key, so /${ai}/ cannot follow it`
          : /^[0-9]{2,4}$/.test(ai)
            ? `AI ${ai} is not a key qualifier of it (data attributes such as 17 belong in the query, ?17=YYMMDD)`
            : `${show(ai)} is not an Application Identifier`;
      fail(
        Gs1ErrorCode.MALFORMED,
        `${show(uri)}: after the ${keyName} the path may only hold its key qualifiers (${allowed}); ${why}`,
        uri,
        'path',
      );
    }
    if (position === lastPosition) {
      fail(Gs1ErrorCode.MALFORMED, `${show(uri)}: AI ${ai} appears twice in the path`, uri, 'path');
    }
    if (position < lastPosition) {
      fail(
        Gs1ErrorCode.MALFORMED,
        `${show(uri)}: key qualifiers are in the wrong order; after the ${keyName} they must come as ${order.join(', then ')}`,
        uri,
        'path',
      );
    }
    lastPosition = position;
    if (key === '01' && ai === '22') {
      fail(
        Gs1ErrorCode.UNSUPPORTED,
        `${show(uri)}: AI 22 (consumer product variant) is not supported`,
        uri,
        'path',
      );
    }
    const field: Gs1Field = ai === '10' ? 'lot' : ai === '21' ? 'serial' : 'extension';
    const value = decodeValue(raw, field, ai, uri);
    checkCs82Value(value, field, uri);
    values.set(ai, value);
  }
  return values;
}

function decodeValue(raw: string, field: Gs1Field, ai: string, uri: string): string {
  if (raw === '') {
    fail(
      Gs1ErrorCode.MALFORMED,
      `${show(uri)}: AI ${ai} (${fieldLabel(field)}) has an empty value`,
      uri,
      field,
    );
  }
  return decodeDigitalLinkValue(raw, field, uri);
}

interface QueryAttributes {
  lot?: string;
  expiry?: string;
}

/** Reads `17` and `10` from the query; rejects keys and qualifiers there; ignores everything else. */
function readQuery(query: string | undefined, uri: string): QueryAttributes {
  const attributes: QueryAttributes = {};
  if (query === undefined || query === '') return attributes;
  for (const parameter of query.split('&')) {
    if (parameter === '') continue;
    const equals = parameter.indexOf('=');
    const name = equals < 0 ? parameter : parameter.slice(0, equals);
    const raw = equals < 0 ? '' : parameter.slice(equals + 1);
    if (PATH_ONLY_AIS.has(name)) {
      fail(
        Gs1ErrorCode.MALFORMED,
        `${show(uri)}: AI ${name} is a GS1 key or key qualifier; it belongs in the path (/${name}/…), not the query`,
        uri,
        'query',
      );
    }
    if (name !== '10' && name !== '17') continue; // other GS1 data attributes and non-GS1 parameters are ignored
    const field: Gs1Field = name === '10' ? 'lot' : 'expiry';
    if (attributes[field === 'lot' ? 'lot' : 'expiry'] !== undefined) {
      fail(Gs1ErrorCode.MALFORMED, `${show(uri)}: the query gives AI ${name} more than once`, uri, field);
    }
    const value = decodeValue(raw, field, name, uri);
    if (field === 'lot') {
      checkCs82Value(value, 'lot', uri);
      attributes.lot = value;
    } else {
      checkExpiry(value, uri);
      attributes.expiry = value;
    }
  }
  return attributes;
}

/**
 * The canonical GS1 Digital Link URI of an identifier: `{base}/01/{gtin}[/10/{lot}|/21/{serial}]`, `{base}/00/{sscc}`,
 * `{base}/414/{gln}[/254/{extension}]`, `{base}/417/{gln}`, `{base}/253/{gdti}{serial}` or `{base}/8004/{giai}`,
 * values percent-encoded except `A-Z a-z 0-9 - . _`.
 * @param base - `http(s)://domain[/path]` without query or fragment; trailing "/" removed. Default
 *   {@link DEFAULT_DIGITAL_LINK_BASE}.
 * @throws Gs1IdentifierError GS1.MALFORMED or GS1.CHECK_DIGIT for an invalid identifier or base.
 */
export function toDigitalLink(id: Gs1Identifier, base: string = DEFAULT_DIGITAL_LINK_BASE): string {
  const valid = validateGs1Identifier(id);
  // The default base (every canonical key) was checked once, when this module loaded.
  const stem = base === DEFAULT_DIGITAL_LINK_BASE ? DEFAULT_STEM : checkBase(base);
  switch (valid.kind) {
    case 'sgtin':
      return `${stem}/01/${valid.gtin}/21/${encodeDigitalLinkValue(valid.serial)}`;
    case 'lgtin':
      return `${stem}/01/${valid.gtin}/10/${encodeDigitalLinkValue(valid.lot)}`;
    case 'gtin':
      return `${stem}/01/${valid.gtin}`;
    case 'sscc':
      return `${stem}/00/${valid.sscc}`;
    case 'sgln':
      return valid.extension === '0'
        ? `${stem}/414/${valid.gln}`
        : `${stem}/414/${valid.gln}/254/${encodeDigitalLinkValue(valid.extension)}`;
    case 'pgln':
      return `${stem}/417/${valid.gln}`;
    case 'gdti':
      return `${stem}/253/${valid.gdti}${encodeDigitalLinkValue(valid.serial)}`;
    case 'giai':
      return `${stem}/8004/${encodeDigitalLinkValue(valid.giai)}`;
  }
}

const DEFAULT_STEM = checkBase(DEFAULT_DIGITAL_LINK_BASE);

function checkBase(base: unknown): string {
  if (typeof base !== 'string') {
    fail(
      Gs1ErrorCode.MALFORMED,
      `the Digital Link base must be a string, not a ${typeof base}`,
      base,
      'base',
    );
  }
  const match = /^(https?):\/\/([^/?#]*)((?:\/[A-Za-z0-9._~!$&'()*+,;=:@%-]*)*)$/i.exec(base);
  if (match === null || !HOST.test(match[2] ?? '')) {
    fail(
      Gs1ErrorCode.MALFORMED,
      `the Digital Link base ${show(base)} must be http(s)://domain[/path] with no query or fragment, e.g. https://id.gs1.org`,
      base,
      'base',
    );
  }
  return base.replace(/\/+$/, '');
}
