/**
 * GS1 identifiers for the drug supply chain (GS1 EPCIS 2.0, DSCSA): SGTIN, SSCC, SGLN, LGTIN and GTIN classes, party
 * GLNs (PGLN), documents (GDTI with serial) and individual assets (GIAI), read from and written to EPC URNs (EPC Tag
 * Data Standard 2.0) and GS1 Digital Link URIs, plus GTIN normalisation and AI (17) expiry dates. Pure functions;
 * every failure is a {@link Gs1IdentifierError} (`GS1.MALFORMED`, `GS1.CHECK_DIGIT`, `GS1.UNSUPPORTED`).
 *
 * Identity: two identifiers are the same thing exactly when their {@link canonicalKey}s are equal (the canonical
 * Digital Link URI under https://id.gs1.org, which ignores `companyPrefixLength`).
 */
import { DEFAULT_DIGITAL_LINK_BASE, parseDigitalLink, toDigitalLink } from './digitalLink.js';
import { parseEpcUrn } from './epcUrn.js';
import { fail, Gs1ErrorCode, show } from './errors.js';
import type { Gs1Identifier } from './types.js';

export type {
  DigitalLinkData,
  Gdti,
  Giai,
  Gs1Identifier,
  GtinClass,
  Lgtin,
  Pgln,
  Sgln,
  Sgtin,
  Sscc,
} from './types.js';
export { DEFAULT_DIGITAL_LINK_BASE, parseDigitalLink, toDigitalLink } from './digitalLink.js';
export { parseEpcUrn, toEpcUrn } from './epcUrn.js';
export { expiryToDate, gs1FullYear, isExpiryDate } from './expiryDate.js';
export { normalizeGtin, validateGs1Identifier, withCompanyPrefixLength } from './gs1Keys.js';
export { Gs1ErrorCode, Gs1IdentifierError, type Gs1ErrorDetails, type Gs1Field } from './errors.js';

/**
 * Reads an identifier written either as an EPC URN (`urn:…`) or as a GS1 Digital Link URI (`http(s)://…`). For a
 * Digital Link, the lot and expiry beside a serial are dropped: use {@link parseDigitalLink} to keep them.
 * @throws Gs1IdentifierError GS1.MALFORMED when `value` is neither, or as the chosen parser does.
 */
export function parseGs1Identifier(value: string): Gs1Identifier {
  if (typeof value !== 'string') {
    fail(
      Gs1ErrorCode.MALFORMED,
      `expected a GS1 identifier string, got a ${value === null ? 'null' : typeof value}`,
      value,
      'input',
    );
  }
  if (/^urn:/i.test(value)) return parseEpcUrn(value);
  if (/^https?:\/\//i.test(value)) return parseDigitalLink(value).identifier;
  fail(
    Gs1ErrorCode.MALFORMED,
    `${show(value)} is neither an EPC URN (urn:epc:id:sgtin:…) nor a GS1 Digital Link URI (https://id.gs1.org/01/…)`,
    value,
    'input',
  );
}

/**
 * The identity key of an identifier: its canonical Digital Link URI under {@link DEFAULT_DIGITAL_LINK_BASE}. Equal
 * identifiers (however they were written, with or without `companyPrefixLength`) get equal keys, different ones
 * different keys.
 * @throws Gs1IdentifierError GS1.MALFORMED or GS1.CHECK_DIGIT for an invalid identifier.
 */
export function canonicalKey(id: Gs1Identifier): string {
  return toDigitalLink(id, DEFAULT_DIGITAL_LINK_BASE);
}
