import { readIdentifier } from '../epcis/gs1.js';
import { normalizeBizStep, normalizeDisposition } from '../epcis/vocabulary.js';
import type { QueryVocabulary } from './eventQueryParams.js';

/**
 * Query values as the repository stores them: GS1 identifiers (EPC URN or Digital Link) as canonical Digital Link
 * keys, a GTIN class pattern (`urn:epc:idpat:sgtin:CP.IIR.*`) as the prefix of every instance of that GTIN, other
 * URIs as written; CBV values (bare word, Web URI or URN) as the bare word. Invalid values are 400s.
 */
export const queryVocabulary: QueryVocabulary = {
  identifier(value) {
    const reading = readIdentifier(value);
    if (reading.status === 'invalid') throw reading.error;
    if (reading.status === 'opaque') return { key: value };
    return reading.id.kind === 'gtin' ? { prefix: `${reading.key}/` } : { key: reading.key };
  },
  bizStep: (value) => normalizeBizStep(value),
  disposition: (value) => normalizeDisposition(value),
};
