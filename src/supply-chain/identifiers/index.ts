/** GS1 identifiers (EPC URNs, GS1 Digital Link, check digits, expiry dates): the module's public surface. */
export * from './gs1Identifiers.js';
export { gs1CheckDigit, hasValidCheckDigit } from './gs1CheckDigit.js';
