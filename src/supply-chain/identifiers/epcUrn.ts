/**
 * EPC pure identity URNs (GS1 EPC Tag Data Standard 2.0, sections 6 and 8):
 *
 * | URN | parts | key |
 * | --- | --- | --- |
 * | `urn:epc:id:sgtin:CP.IIR.Serial` | company prefix (6–12 digits), indicator + item reference (together 13 digits), serial | GTIN = indicator, CP, item ref, check digit |
 * | `urn:epc:id:sscc:CP.SR` | company prefix, extension digit + serial reference (together 17 digits) | SSCC = extension digit, CP, serial ref, check digit |
 * | `urn:epc:id:sgln:CP.LR.Ext` | company prefix, location reference (together 12 digits; LR may be empty), extension (`0` = none) | GLN = CP, LR, check digit |
 * | `urn:epc:class:lgtin:CP.IIR.Lot` | as SGTIN, with a batch/lot | GTIN |
 * | `urn:epc:idpat:sgtin:CP.IIR.*` | as SGTIN, every serial | GTIN |
 * | `urn:epc:id:pgln:CP.PartyRef` | company prefix, party reference (together 12 digits; PartyRef may be empty) | party GLN = CP, PartyRef, check digit |
 * | `urn:epc:id:gdti:CP.DocType.Serial` | company prefix, document type (together 12 digits; DocType may be empty), serial (1–17 characters) | GDTI = CP, DocType, check digit, serial |
 * | `urn:epc:id:giai:CP.AssetRef` | company prefix, individual asset reference (together at most 30 characters) | GIAI = CP, AssetRef |
 *
 * The check digit is not written in a URN; serials, lots, extensions, GDTI serials and asset references are `GS3A3`
 * components (see `characterSet82.ts`). The `urn:epc:` prefix, the kind and the scheme are read case-insensitively
 * and written in lower case.
 */
import {
  checkCs82Value,
  escapeUrnComponent,
  fieldLabel,
  GDTI_SERIAL_LABEL,
  MAX_GDTI_SERIAL_LENGTH,
  MAX_GIAI_LENGTH,
  unescapeUrnComponent,
} from './characterSet82.js';
import { fail, Gs1ErrorCode, show, type Gs1Field } from './errors.js';
import { gs1CheckDigit } from './gs1CheckDigit.js';
import {
  checkCompanyPrefixLength,
  MAX_COMPANY_PREFIX_LENGTH,
  MIN_COMPANY_PREFIX_LENGTH,
  validateGs1Identifier,
} from './gs1Keys.js';
import type { Gs1Identifier } from './types.js';

const DIGITS = /^[0-9]*$/;
const EPC_URN = /^urn:epc:([^:]*):([^:]*):(.*)$/is;

/**
 * Reads an EPC pure identity URN: `urn:epc:id:sgtin|sscc|sgln|pgln|gdti|giai`, `urn:epc:class:lgtin` or
 * `urn:epc:idpat:sgtin:CP.IIR.*`.
 * The result carries `companyPrefixLength` (the length of the URN's first component).
 * @throws Gs1IdentifierError GS1.MALFORMED (shape, digits, lengths, escaping), GS1.UNSUPPORTED (another URN
 *   namespace, another EPC scheme, tag/raw URIs, other idpat patterns).
 */
export function parseEpcUrn(urn: string): Gs1Identifier {
  if (typeof urn !== 'string') {
    fail(
      Gs1ErrorCode.MALFORMED,
      `expected an EPC URN string, got a ${urn === null ? 'null' : typeof urn}`,
      urn,
      'input',
    );
  }
  const encoding = /^urn:epc:(tag|raw):/i.exec(urn);
  if (encoding !== null) {
    fail(
      Gs1ErrorCode.UNSUPPORTED,
      `${show(urn)} is an EPC ${(encoding[1] ?? '').toLowerCase()} URI (RFID encoding); use the pure identity URI urn:epc:id:… instead`,
      urn,
      'scheme',
    );
  }
  const match = EPC_URN.exec(urn);
  if (match === null) {
    if (/^urn:[a-z0-9][a-z0-9-]{0,31}:/i.test(urn) && !/^urn:epc:/i.test(urn)) {
      fail(
        Gs1ErrorCode.UNSUPPORTED,
        `${show(urn)} is not an EPC URN (urn:epc:…); only GS1 EPC identifiers are supported`,
        urn,
        'scheme',
      );
    }
    fail(
      Gs1ErrorCode.MALFORMED,
      `${show(urn)} is not an EPC URN; expected e.g. urn:epc:id:sgtin:0614141.812345.6789`,
      urn,
      'input',
    );
  }
  const kind = (match[1] ?? '').toLowerCase();
  const scheme = (match[2] ?? '').toLowerCase();
  const body = match[3] ?? '';
  switch (`${kind}:${scheme}`) {
    case 'id:sgtin':
      return parseSgtinLike(urn, body, 'sgtin');
    case 'class:lgtin':
      return parseSgtinLike(urn, body, 'lgtin');
    case 'idpat:sgtin':
      return parseSgtinLike(urn, body, 'gtin');
    case 'id:sscc':
      return parseSscc(urn, body);
    case 'id:sgln':
      return parseSgln(urn, body);
    case 'id:pgln':
      return parsePgln(urn, body);
    case 'id:gdti':
      return parseGdti(urn, body);
    case 'id:giai':
      return parseGiai(urn, body);
  }
  fail(
    Gs1ErrorCode.UNSUPPORTED,
    `unsupported EPC URN scheme ${show(`urn:epc:${kind}:${scheme}`)}; supported: urn:epc:id:sgtin, urn:epc:id:sscc, ` +
      `urn:epc:id:sgln, urn:epc:id:pgln, urn:epc:id:gdti, urn:epc:id:giai, urn:epc:class:lgtin, urn:epc:idpat:sgtin`,
    urn,
    'scheme',
  );
}

function parseSgtinLike(urn: string, body: string, kind: 'sgtin' | 'lgtin' | 'gtin'): Gs1Identifier {
  const first = body.indexOf('.');
  const second = first < 0 ? -1 : body.indexOf('.', first + 1);
  const lastName = kind === 'sgtin' ? 'serial number' : kind === 'lgtin' ? 'lot' : '*';
  if (second < 0) {
    fail(
      Gs1ErrorCode.MALFORMED,
      `${show(urn)} must have three parts separated by ".": company prefix, indicator and item reference, ${lastName}`,
      urn,
      'input',
    );
  }
  const companyPrefix = body.slice(0, first);
  const itemReference = body.slice(first + 1, second);
  const last = body.slice(second + 1);
  if (kind === 'gtin') {
    if (companyPrefix === '*' || itemReference === '*') {
      fail(
        Gs1ErrorCode.UNSUPPORTED,
        `${show(urn)}: only the pattern CompanyPrefix.ItemReference.* (every serial of one GTIN) is supported`,
        urn,
        'input',
      );
    }
    if (last !== '*') {
      fail(
        Gs1ErrorCode.MALFORMED,
        `${show(urn)}: an urn:epc:idpat:sgtin pattern must end in ".*"; for one item use urn:epc:id:sgtin`,
        urn,
        'serial',
      );
    }
  }
  checkDigitsPart(companyPrefix, 'companyPrefix', urn);
  checkCompanyPrefixPart(companyPrefix, urn);
  checkDigitsPart(itemReference, 'itemReference', urn);
  if (companyPrefix.length + itemReference.length !== 13) {
    fail(
      Gs1ErrorCode.MALFORMED,
      `${show(urn)}: the company prefix (${companyPrefix.length} digits) and the indicator and item reference ` +
        `(${itemReference.length} digits) must have 13 digits together`,
      urn,
      'itemReference',
    );
  }
  const withoutCheck = itemReference.slice(0, 1) + companyPrefix + itemReference.slice(1);
  const gtin = withoutCheck + String(gs1CheckDigit(withoutCheck));
  const companyPrefixLength = companyPrefix.length;
  if (kind === 'gtin') return { kind: 'gtin', gtin, companyPrefixLength };
  const field: Gs1Field = kind === 'sgtin' ? 'serial' : 'lot';
  const text = unescapeUrnComponent(last, field, urn);
  checkCs82Value(text, field, urn);
  return kind === 'sgtin'
    ? { kind: 'sgtin', gtin, serial: text, companyPrefixLength }
    : { kind: 'lgtin', gtin, lot: text, companyPrefixLength };
}

function parseSscc(urn: string, body: string): Gs1Identifier {
  const parts = body.split('.');
  if (parts.length !== 2) {
    fail(
      Gs1ErrorCode.MALFORMED,
      `${show(urn)} must have two parts separated by ".": company prefix, extension digit and serial reference`,
      urn,
      'input',
    );
  }
  const [companyPrefix = '', serialReference = ''] = parts;
  checkDigitsPart(companyPrefix, 'companyPrefix', urn);
  checkCompanyPrefixPart(companyPrefix, urn);
  checkDigitsPart(serialReference, 'serialReference', urn);
  if (companyPrefix.length + serialReference.length !== 17) {
    fail(
      Gs1ErrorCode.MALFORMED,
      `${show(urn)}: the company prefix (${companyPrefix.length} digits) and the extension digit and serial reference ` +
        `(${serialReference.length} digits) must have 17 digits together`,
      urn,
      'serialReference',
    );
  }
  const withoutCheck = serialReference.slice(0, 1) + companyPrefix + serialReference.slice(1);
  return {
    kind: 'sscc',
    sscc: withoutCheck + String(gs1CheckDigit(withoutCheck)),
    companyPrefixLength: companyPrefix.length,
  };
}

function parseSgln(urn: string, body: string): Gs1Identifier {
  const first = body.indexOf('.');
  const second = first < 0 ? -1 : body.indexOf('.', first + 1);
  if (second < 0) {
    fail(
      Gs1ErrorCode.MALFORMED,
      `${show(urn)} must have three parts separated by ".": company prefix, location reference, extension (0 for none)`,
      urn,
      'input',
    );
  }
  const companyPrefix = body.slice(0, first);
  const gln = glnOf(urn, companyPrefix, body.slice(first + 1, second), 'locationReference');
  const extension = unescapeUrnComponent(body.slice(second + 1), 'extension', urn);
  checkCs82Value(extension, 'extension', urn);
  return { kind: 'sgln', gln, extension, companyPrefixLength: companyPrefix.length };
}

function parsePgln(urn: string, body: string): Gs1Identifier {
  const parts = body.split('.');
  if (parts.length !== 2) {
    fail(
      Gs1ErrorCode.MALFORMED,
      `${show(urn)} must have two parts separated by ".": company prefix, party reference`,
      urn,
      'input',
    );
  }
  const [companyPrefix = '', partyReference = ''] = parts;
  const gln = glnOf(urn, companyPrefix, partyReference, 'partyReference');
  return { kind: 'pgln', gln, companyPrefixLength: companyPrefix.length };
}

function parseGdti(urn: string, body: string): Gs1Identifier {
  const first = body.indexOf('.');
  const second = first < 0 ? -1 : body.indexOf('.', first + 1);
  if (second < 0) {
    fail(
      Gs1ErrorCode.MALFORMED,
      `${show(urn)} must have three parts separated by ".": company prefix, document type, serial component`,
      urn,
      'input',
    );
  }
  const companyPrefix = body.slice(0, first);
  const gdti = glnOf(urn, companyPrefix, body.slice(first + 1, second), 'documentType');
  const serial = unescapeUrnComponent(body.slice(second + 1), 'serial', urn, GDTI_SERIAL_LABEL);
  checkCs82Value(serial, 'serial', urn, { max: MAX_GDTI_SERIAL_LENGTH, label: GDTI_SERIAL_LABEL });
  return { kind: 'gdti', gdti, serial, companyPrefixLength: companyPrefix.length };
}

function parseGiai(urn: string, body: string): Gs1Identifier {
  const dot = body.indexOf('.');
  if (dot < 0) {
    fail(
      Gs1ErrorCode.MALFORMED,
      `${show(urn)} must have two parts separated by ".": company prefix, individual asset reference`,
      urn,
      'input',
    );
  }
  const companyPrefix = body.slice(0, dot);
  checkDigitsPart(companyPrefix, 'companyPrefix', urn);
  checkCompanyPrefixPart(companyPrefix, urn);
  const assetReference = unescapeUrnComponent(body.slice(dot + 1), 'assetReference', urn);
  checkCs82Value(assetReference, 'assetReference', urn, { max: MAX_GIAI_LENGTH });
  if (companyPrefix.length + assetReference.length > MAX_GIAI_LENGTH) {
    fail(
      Gs1ErrorCode.MALFORMED,
      `${show(urn)}: the company prefix (${companyPrefix.length} digits) and the individual asset reference ` +
        `(${assetReference.length} characters) must have at most ${MAX_GIAI_LENGTH} characters together`,
      urn,
      'assetReference',
    );
  }
  return { kind: 'giai', giai: companyPrefix + assetReference, companyPrefixLength: companyPrefix.length };
}

/**
 * The 13-digit key (with check digit) of a company prefix and a reference that make 12 digits together: a GLN, a
 * party GLN, or a GDTI's document type key. The reference may be empty (a 12-digit company prefix).
 */
function glnOf(urn: string, companyPrefix: string, reference: string, field: Gs1Field): string {
  checkDigitsPart(companyPrefix, 'companyPrefix', urn);
  checkCompanyPrefixPart(companyPrefix, urn);
  if (!DIGITS.test(reference)) {
    fail(
      Gs1ErrorCode.MALFORMED,
      `${show(urn)}: the ${fieldLabel(field)} ${show(reference)} must contain only the digits 0-9`,
      urn,
      field,
    );
  }
  if (companyPrefix.length + reference.length !== 12) {
    fail(
      Gs1ErrorCode.MALFORMED,
      `${show(urn)}: the company prefix (${companyPrefix.length} digits) and the ${fieldLabel(field)} ` +
        `(${reference.length} digits) must have 12 digits together`,
      urn,
      field,
    );
  }
  const withoutCheck = companyPrefix + reference;
  return withoutCheck + String(gs1CheckDigit(withoutCheck));
}

function checkDigitsPart(part: string, field: Gs1Field, urn: string): void {
  if (part.length === 0)
    fail(Gs1ErrorCode.MALFORMED, `${show(urn)}: the ${fieldLabel(field)} is empty`, urn, field);
  if (!DIGITS.test(part)) {
    fail(
      Gs1ErrorCode.MALFORMED,
      `${show(urn)}: the ${fieldLabel(field)} ${show(part)} must contain only the digits 0-9`,
      urn,
      field,
    );
  }
}

function checkCompanyPrefixPart(companyPrefix: string, urn: string): void {
  if (companyPrefix.length < MIN_COMPANY_PREFIX_LENGTH || companyPrefix.length > MAX_COMPANY_PREFIX_LENGTH) {
    fail(
      Gs1ErrorCode.MALFORMED,
      `${show(urn)}: the GS1 company prefix ${companyPrefix} has ${companyPrefix.length} digits; it must have ` +
        `${MIN_COMPANY_PREFIX_LENGTH} to ${MAX_COMPANY_PREFIX_LENGTH}`,
      urn,
      'companyPrefix',
    );
  }
}

/**
 * Writes the EPC URN of an identifier (`urn:epc:id:sgtin|sscc|sgln|pgln|gdti|giai`, `urn:epc:class:lgtin`, or
 * `urn:epc:idpat:sgtin:CP.IIR.*` for a {@link GtinClass}), escaping serials, lots, extensions and asset references
 * per the TDS.
 * @throws Gs1IdentifierError GS1.MALFORMED when `id.companyPrefixLength` is missing (a URN cannot be written
 *   without knowing where the company prefix ends: set it with `withCompanyPrefixLength`) or `id` is invalid;
 *   GS1.CHECK_DIGIT for a key with a wrong check digit.
 */
export function toEpcUrn(id: Gs1Identifier): string {
  const valid = validateGs1Identifier(id);
  const length = valid.companyPrefixLength;
  if (length === undefined) {
    const key = primaryKey(valid);
    fail(
      Gs1ErrorCode.MALFORMED,
      `cannot write an EPC URN for ${valid.kind} ${key} without its GS1 company prefix length: the URN splits the key ` +
        `into company prefix and reference. Set companyPrefixLength (6-12, from the owner's GS1 company prefix) ` +
        `with withCompanyPrefixLength(id, length)`,
      key,
      'companyPrefixLength',
    );
  }
  checkCompanyPrefixLength(length, length);
  switch (valid.kind) {
    case 'sgtin':
    case 'lgtin':
    case 'gtin': {
      const companyPrefix = valid.gtin.slice(1, 1 + length);
      const itemReference = valid.gtin.slice(0, 1) + valid.gtin.slice(1 + length, 13);
      const head = `${companyPrefix}.${itemReference}`;
      if (valid.kind === 'sgtin') return `urn:epc:id:sgtin:${head}.${escapeUrnComponent(valid.serial)}`;
      if (valid.kind === 'lgtin') return `urn:epc:class:lgtin:${head}.${escapeUrnComponent(valid.lot)}`;
      return `urn:epc:idpat:sgtin:${head}.*`;
    }
    case 'sscc': {
      const companyPrefix = valid.sscc.slice(1, 1 + length);
      const serialReference = valid.sscc.slice(0, 1) + valid.sscc.slice(1 + length, 17);
      return `urn:epc:id:sscc:${companyPrefix}.${serialReference}`;
    }
    case 'sgln': {
      const companyPrefix = valid.gln.slice(0, length);
      const locationReference = valid.gln.slice(length, 12);
      return `urn:epc:id:sgln:${companyPrefix}.${locationReference}.${escapeUrnComponent(valid.extension)}`;
    }
    case 'pgln':
      return `urn:epc:id:pgln:${valid.gln.slice(0, length)}.${valid.gln.slice(length, 12)}`;
    case 'gdti': {
      const head = `${valid.gdti.slice(0, length)}.${valid.gdti.slice(length, 12)}`;
      return `urn:epc:id:gdti:${head}.${escapeUrnComponent(valid.serial)}`;
    }
    case 'giai':
      // validateGs1Identifier has checked the first `length` characters are digits and leave an asset reference.
      return `urn:epc:id:giai:${valid.giai.slice(0, length)}.${escapeUrnComponent(valid.giai.slice(length))}`;
  }
}

/** The identifier's GS1 key as a person reads it, for messages: GTIN, SSCC, GLN, GDTI (with serial) or GIAI. */
function primaryKey(id: Gs1Identifier): string {
  switch (id.kind) {
    case 'sscc':
      return id.sscc;
    case 'sgln':
    case 'pgln':
      return id.gln;
    case 'gdti':
      return id.gdti + id.serial;
    case 'giai':
      return id.giai;
    default:
      return id.gtin;
  }
}
