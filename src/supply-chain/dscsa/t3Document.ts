import { canonicalJson } from '../../core/canonicalJson.js';
import type { Hex } from '../../core/hex.js';

/**
 * The DSCSA "T3" of one change of ownership: transaction information (what, how many, when, from whom to whom),
 * transaction history (the T3s of earlier changes of ownership of the same packs, as this seller received them) and
 * the seller's transaction statement, signed by the seller's organisation key.
 */
export const T3_FORMAT = 'careledger.dscsa.t3/v1';

export const TRANSACTION_STATEMENT =
  'The seller, as the entity transferring ownership in this transaction: (1) is authorized as required under the ' +
  'Drug Supply Chain Security Act; (2) received the product from a person that is authorized as required under the ' +
  'Act; (3) received transaction information and a transaction statement from the prior owner of the product, as ' +
  'required under section 582 of the Act; (4) did not knowingly ship a suspect or illegitimate product; (5) had ' +
  'systems and processes in place to comply with verification requirements under section 582 of the Act; (6) did ' +
  'not knowingly provide false transaction information; and (7) did not knowingly alter the transaction history.';

export interface T3Party {
  organization: Hex;
  name: string;
}

export interface T3Product {
  gtin: string;
  lot: string;
  /** YYYY-MM-DD, when known. */
  expiry: string | null;
  serials: string[];
  quantity: number;
}

/** One earlier change of ownership, as referenced from a later T3. */
export interface T3HistoryEntry {
  t3: string;
  seller: Hex;
  buyer: Hex;
  transactionDate: string;
  /** SHA-256 of that T3's signed document (canonical JSON). */
  documentHash: string;
}

export interface T3Document {
  format: typeof T3_FORMAT;
  id: string;
  transactionInformation: {
    products: T3Product[];
    transactionDate: string;
    shipmentDate: string;
    seller: T3Party;
    buyer: T3Party;
    /** The EPCIS shipping event this change of ownership was captured with. */
    shipmentEventId: string;
    /** The chain transaction that moved the packs. */
    chainTransaction: Hex;
  };
  transactionHistory: T3HistoryEntry[];
  transactionStatement: string;
}

/** A T3 as exchanged and stored: the document, its seller's signature over its canonical JSON, and the signer. */
export interface SignedT3 {
  document: T3Document;
  signature: Hex;
  signer: Hex;
}

/** The bytes a T3 signature covers. */
export function t3SigningBytes(document: T3Document): Uint8Array {
  return Buffer.from(canonicalJson(document), 'utf8');
}
