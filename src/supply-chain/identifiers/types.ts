/**
 * The GS1 identifiers CareLedger's supply chain works with. Keys are held in their full GS1 form (with check digit,
 * where the key has one), serials and lots as the characters a person reads (never percent-escaped).
 * `companyPrefixLength` (6–12) is how many digits of the key are the GS1 Company Prefix: EPC URNs need it to split the
 * key, Digital Link URIs do not carry it, and it is not part of an identifier's identity ({@link canonicalKey}
 * ignores it).
 */

/** One serialised trade item: GTIN + serial number (`urn:epc:id:sgtin`, Digital Link `/01/{gtin}/21/{serial}`). */
export interface Sgtin {
  kind: 'sgtin';
  /** 14 digits including the check digit (GTIN-8/12/13 left-padded with zeros). */
  gtin: string;
  /** 1–20 characters of the GS1 AI encodable character set 82. */
  serial: string;
  companyPrefixLength?: number;
}

/** One logistic unit (`urn:epc:id:sscc`, Digital Link `/00/{sscc}`). */
export interface Sscc {
  kind: 'sscc';
  /** 18 digits: extension digit, company prefix, serial reference, check digit. */
  sscc: string;
  companyPrefixLength?: number;
}

/** A physical location, optionally a sub-location (`urn:epc:id:sgln`, Digital Link `/414/{gln}[/254/{ext}]`). */
export interface Sgln {
  kind: 'sgln';
  /** 13 digits including the check digit. */
  gln: string;
  /** The GLN extension component (AI 254), 1–20 characters of set 82; `'0'` means none (the GLN itself). */
  extension: string;
  companyPrefixLength?: number;
}

/** A product class and batch/lot (`urn:epc:class:lgtin`, Digital Link `/01/{gtin}/10/{lot}`). */
export interface Lgtin {
  kind: 'lgtin';
  /** 14 digits including the check digit. */
  gtin: string;
  /** 1–20 characters of set 82. */
  lot: string;
  companyPrefixLength?: number;
}

/** A product class: every instance of one GTIN (`urn:epc:idpat:sgtin:CP.IIR.*`, Digital Link `/01/{gtin}`). */
export interface GtinClass {
  kind: 'gtin';
  /** 14 digits including the check digit. */
  gtin: string;
  companyPrefixLength?: number;
}

/** A party: a legal or functional entity, e.g. an owning party (`urn:epc:id:pgln`, Digital Link `/417/{gln}`). */
export interface Pgln {
  kind: 'pgln';
  /** The party's GLN: 13 digits including the check digit. */
  gln: string;
  companyPrefixLength?: number;
}

/**
 * One document: document type + serial component (`urn:epc:id:gdti`, Digital Link `/253/{gdti}{serial}`). A GDTI
 * without a serial component names a document type, not a document, and has no EPC: it is not modelled here.
 */
export interface Gdti {
  kind: 'gdti';
  /** The 13-digit document type key: company prefix, document type, check digit. */
  gdti: string;
  /** The serial component: 1–17 characters of set 82, written straight after the 13 digits in AI (253). */
  serial: string;
  companyPrefixLength?: number;
}

/** One individual asset (`urn:epc:id:giai`, Digital Link `/8004/{giai}`). */
export interface Giai {
  kind: 'giai';
  /**
   * The whole GIAI: the GS1 company prefix (6–12 digits) followed by the individual asset reference, at most 30
   * characters of set 82 in all. It has no check digit.
   */
  giai: string;
  companyPrefixLength?: number;
}

/** Any identifier this module reads and writes. */
export type Gs1Identifier = Sgtin | Sscc | Sgln | Lgtin | GtinClass | Pgln | Gdti | Giai;

/** What a GS1 Digital Link URI says: the identifier, plus the batch/lot and expiry date it carries. */
export interface DigitalLinkData {
  /**
   * The most specific identifier: an {@link Sgtin} when there is a serial, else an {@link Lgtin} when there is a lot
   * (in the path, or in the query as `?10=`), else a {@link GtinClass}; or an {@link Sscc}, {@link Sgln},
   * {@link Pgln}, {@link Gdti} or {@link Giai}.
   */
  identifier: Gs1Identifier;
  /** The batch/lot (AI 10), decoded, from the path or the query; present only when the URI has one. */
  lot?: string;
  /** The expiration date (AI 17) as `YYMMDD` (DD may be `00`); present only when the URI has one. */
  expiry?: string;
}
