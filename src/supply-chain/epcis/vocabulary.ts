/**
 * The GS1 Core Business Vocabulary (CBV 2.0) terms EPCIS events use: business steps, dispositions, business
 * transaction types, source/destination types and error reasons.
 *
 * A term may be written three ways; all normalise to the bare word (`commissioning`), which is how CareLedger keeps
 * and queries it:
 *   - the bare word, as EPCIS 2.0 JSON-LD writes it: `commissioning`;
 *   - the GS1 Web URI (CBV 2.0 §6): `https://ref.gs1.org/cbv/BizStep-commissioning`, or its CURIE
 *     `cbv:BizStep-commissioning`;
 *   - the URN of CBV 1.x / EPCIS XML: `urn:epcglobal:cbv:bizstep:commissioning`.
 * A value in one of the CBV namespaces that is not a CBV 2.0 term is refused (it is a typo or a term of a newer
 * CBV). A URI in any other namespace is a user vocabulary value (EPCIS 2.0 allows them); it is refused too unless the
 * caller opts in with `allowCustom`, and is then kept as written.
 *
 * The word lists are those of CBV 2.0 (GS1, 2022) as the EPCIS 2.0 JSON schema enumerates them
 * (https://github.com/gs1/EPCIS, JSON-Schema/schemas/*-JSON-Schema.json, and the CBV 2.0 additions).
 */
import { InvalidInputError } from '../../core/errors.js';
import { EpcisErrorCode, quote } from './errors.js';

/** CBV 2.0 business steps (CBV 2.0 §7.1, 41 terms). */
export const BIZ_STEPS = [
  'accepting',
  'arriving',
  'assembling',
  'collecting',
  'commissioning',
  'consigning',
  'creating_class_instance',
  'cycle_counting',
  'decommissioning',
  'departing',
  'destroying',
  'disassembling',
  'dispensing',
  'encoding',
  'entering_exiting',
  'holding',
  'inspecting',
  'installing',
  'killing',
  'loading',
  'other',
  'packing',
  'picking',
  'receiving',
  'removing',
  'repackaging',
  'repairing',
  'replacing',
  'reserving',
  'retail_selling',
  'sampling',
  'sensor_reporting',
  'shipping',
  'staging_outbound',
  'stock_taking',
  'stocking',
  'storing',
  'transporting',
  'unloading',
  'unpacking',
  'void_shipping',
] as const;

/** CBV 2.0 dispositions (CBV 2.0 §7.2, 33 terms). */
export const DISPOSITIONS = [
  'active',
  'available',
  'completeness_inferred',
  'completeness_verified',
  'conformant',
  'container_closed',
  'container_open',
  'damaged',
  'destroyed',
  'dispensed',
  'disposed',
  'encoded',
  'expired',
  'in_progress',
  'in_transit',
  'inactive',
  'mismatch_class',
  'mismatch_instance',
  'mismatch_quantity',
  'needs_replacement',
  'no_pedigree_match',
  'non_conformant',
  'non_sellable_other',
  'partially_dispensed',
  'recalled',
  'reserved',
  'retail_sold',
  'returned',
  'sellable_accessible',
  'sellable_not_accessible',
  'stolen',
  'unavailable',
  'unknown',
] as const;

/** CBV 2.0 business transaction types (CBV 2.0 §7.3, 13 terms). */
export const BIZ_TRANSACTION_TYPES = [
  'bol',
  'cert',
  'desadv',
  'inv',
  'pedigree',
  'po',
  'poc',
  'prodorder',
  'recadv',
  'rma',
  'testprd',
  'testres',
  'upevt',
] as const;

/** CBV 2.0 source/destination types (CBV 2.0 §7.4). */
export const SOURCE_DESTINATION_TYPES = ['owning_party', 'possessing_party', 'location'] as const;

/** CBV 2.0 error reasons of an `errorDeclaration` (CBV 2.0 §7.5). */
export const ERROR_REASONS = ['did_not_occur', 'incorrect_data'] as const;

export type BizStep = (typeof BIZ_STEPS)[number];
export type Disposition = (typeof DISPOSITIONS)[number];
export type BizTransactionType = (typeof BIZ_TRANSACTION_TYPES)[number];
export type SourceDestinationType = (typeof SOURCE_DESTINATION_TYPES)[number];
export type ErrorReason = (typeof ERROR_REASONS)[number];

/** A user vocabulary value: an absolute URI outside the CBV namespaces, kept as written. */
export type CustomVocabularyUri = `${string}:${string}`;

/** The five CBV vocabularies. */
export type CbvVocabulary =
  'bizStep' | 'disposition' | 'bizTransactionType' | 'sourceDestinationType' | 'errorReason';

/** The bare words of one vocabulary. */
export type CbvWord<V extends CbvVocabulary> = {
  bizStep: BizStep;
  disposition: Disposition;
  bizTransactionType: BizTransactionType;
  sourceDestinationType: SourceDestinationType;
  errorReason: ErrorReason;
}[V];

interface VocabularyDefinition {
  /** How messages name it, after the EPCIS field that holds it. */
  readonly label: string;
  readonly words: readonly string[];
  readonly set: ReadonlySet<string>;
  /** The term's prefix in the CBV Web URI and CURIE: `BizStep-` → `https://ref.gs1.org/cbv/BizStep-x`. */
  readonly webTerm: string;
  /** The CBV 1.x URN prefix, e.g. `urn:epcglobal:cbv:bizstep:`. */
  readonly urnPrefix: string;
  readonly errorCode: EpcisErrorCode;
}

/** The namespace of CBV 2.0 Web URIs. */
export const CBV_WEB_NAMESPACE = 'https://ref.gs1.org/cbv/';
/** The CBV 1.x URN namespace; every `urn:epcglobal:cbv:` value is CBV's. */
const CBV_URN_NAMESPACE = 'urn:epcglobal:cbv:';

function define(
  label: string,
  words: readonly string[],
  webTerm: string,
  urnPrefix: string,
  errorCode: EpcisErrorCode,
): VocabularyDefinition {
  return { label, words, set: new Set(words), webTerm, urnPrefix, errorCode };
}

const VOCABULARIES: Record<CbvVocabulary, VocabularyDefinition> = {
  bizStep: define(
    'bizStep',
    BIZ_STEPS,
    'BizStep-',
    'urn:epcglobal:cbv:bizstep:',
    EpcisErrorCode.UNKNOWN_BIZSTEP,
  ),
  disposition: define(
    'disposition',
    DISPOSITIONS,
    'Disp-',
    'urn:epcglobal:cbv:disp:',
    EpcisErrorCode.UNKNOWN_DISPOSITION,
  ),
  bizTransactionType: define(
    'business transaction type',
    BIZ_TRANSACTION_TYPES,
    'BTT-',
    'urn:epcglobal:cbv:btt:',
    EpcisErrorCode.UNKNOWN_BIZ_TRANSACTION_TYPE,
  ),
  sourceDestinationType: define(
    'source/destination type',
    SOURCE_DESTINATION_TYPES,
    'SDT-',
    'urn:epcglobal:cbv:sdt:',
    EpcisErrorCode.UNKNOWN_SOURCE_DESTINATION_TYPE,
  ),
  errorReason: define(
    'error reason',
    ERROR_REASONS,
    'ER-',
    'urn:epcglobal:cbv:er:',
    EpcisErrorCode.UNKNOWN_ERROR_REASON,
  ),
};

/** True when `value` is one of the bare words of `vocabulary`. */
export function isCbvWord<V extends CbvVocabulary>(vocabulary: V, value: unknown): value is CbvWord<V> {
  return typeof value === 'string' && VOCABULARIES[vocabulary].set.has(value);
}

/** The GS1 Web URI of a CBV term: `cbvWebUri('bizStep', 'shipping')` → `https://ref.gs1.org/cbv/BizStep-shipping`. */
export function cbvWebUri<V extends CbvVocabulary>(vocabulary: V, word: CbvWord<V>): string {
  return `${CBV_WEB_NAMESPACE}${VOCABULARIES[vocabulary].webTerm}${word}`;
}

/** The CBV 1.x URN of a CBV term: `cbvUrn('disposition', 'in_transit')` → `urn:epcglobal:cbv:disp:in_transit`. */
export function cbvUrn<V extends CbvVocabulary>(vocabulary: V, word: CbvWord<V>): string {
  return `${VOCABULARIES[vocabulary].urnPrefix}${word}`;
}

export interface NormalizeVocabularyOptions {
  /**
   * Accept a URI outside the CBV namespaces as a user vocabulary value (kept as written). Default false: only CBV 2.0
   * terms are accepted.
   */
  allowCustom?: boolean;
}

/**
 * The bare CBV word a value stands for, or (with `allowCustom`) the user vocabulary URI as written.
 *
 * @throws InvalidInputError with the vocabulary's code (`EPCIS.UNKNOWN_BIZSTEP`, `EPCIS.UNKNOWN_DISPOSITION`,
 *   `EPCIS.UNKNOWN_BIZ_TRANSACTION_TYPE`, `EPCIS.UNKNOWN_SOURCE_DESTINATION_TYPE`, `EPCIS.UNKNOWN_ERROR_REASON`),
 *   issue type `value`, `details: { vocabulary, value, suggestion? }`, when the value is not a term of the vocabulary
 *   in any of its spellings (nor an accepted user vocabulary URI); the message says what is allowed.
 */
export function normalizeVocabularyValue<V extends CbvVocabulary>(
  vocabulary: V,
  value: unknown,
  options: NormalizeVocabularyOptions & { allowCustom: true },
): CbvWord<V> | CustomVocabularyUri;
export function normalizeVocabularyValue<V extends CbvVocabulary>(
  vocabulary: V,
  value: unknown,
  options?: NormalizeVocabularyOptions,
): CbvWord<V>;
export function normalizeVocabularyValue<V extends CbvVocabulary>(
  vocabulary: V,
  value: unknown,
  options: NormalizeVocabularyOptions = {},
): CbvWord<V> | CustomVocabularyUri {
  const definition = VOCABULARIES[vocabulary];
  if (typeof value !== 'string') {
    throw unknownTerm(definition, value, `a ${definition.label} must be a string`);
  }
  const word = wordOf(definition, value);
  if (word !== undefined) {
    if (definition.set.has(word)) return word as CbvWord<V>;
    throw unknownTerm(definition, value, `${quote(word)} is not a CBV 2.0 ${definition.label}`, word);
  }
  if (inCbvNamespace(value)) {
    throw unknownTerm(
      definition,
      value,
      `${quote(value)} is in a CBV namespace but not a CBV 2.0 ${definition.label}`,
    );
  }
  if (isAbsoluteUri(value)) {
    if (options.allowCustom === true) return value as CustomVocabularyUri;
    throw unknownTerm(
      definition,
      value,
      `${quote(value)} is not a CBV 2.0 ${definition.label} (user vocabulary values are not accepted here)`,
    );
  }
  throw unknownTerm(definition, value, `unknown ${definition.label} ${quote(value)}`, value);
}

/** {@link normalizeVocabularyValue} for `bizStep` without user vocabulary: throws `EPCIS.UNKNOWN_BIZSTEP`. */
export function normalizeBizStep(value: unknown): BizStep {
  return normalizeVocabularyValue('bizStep', value);
}

/** {@link normalizeVocabularyValue} for `disposition` without user vocabulary: throws `EPCIS.UNKNOWN_DISPOSITION`. */
export function normalizeDisposition(value: unknown): Disposition {
  return normalizeVocabularyValue('disposition', value);
}

/** {@link normalizeVocabularyValue} for business transaction types: throws `EPCIS.UNKNOWN_BIZ_TRANSACTION_TYPE`. */
export function normalizeBizTransactionType(value: unknown): BizTransactionType {
  return normalizeVocabularyValue('bizTransactionType', value);
}

/** {@link normalizeVocabularyValue} for source/destination types: throws `EPCIS.UNKNOWN_SOURCE_DESTINATION_TYPE`. */
export function normalizeSourceDestinationType(value: unknown): SourceDestinationType {
  return normalizeVocabularyValue('sourceDestinationType', value);
}

/**
 * The GS1 Web URI a CBV value stands for, as the CBV 2.0 event hash writes it: bare words, URNs and `cbv:` CURIEs of
 * `vocabulary` become `https://ref.gs1.org/cbv/…`; anything else (a user vocabulary URI) is returned unchanged.
 * Never throws.
 */
export function toCbvWebUri(vocabulary: CbvVocabulary, value: string): string {
  const definition = VOCABULARIES[vocabulary];
  const word = wordOf(definition, value);
  return word === undefined ? value : `${CBV_WEB_NAMESPACE}${definition.webTerm}${word}`;
}

/** The word of a value written in one of the vocabulary's spellings (known or not), else undefined. */
function wordOf(definition: VocabularyDefinition, value: string): string | undefined {
  const web = `${CBV_WEB_NAMESPACE}${definition.webTerm}`;
  if (value.startsWith(web)) return value.slice(web.length);
  const curie = `cbv:${definition.webTerm}`;
  if (value.startsWith(curie)) return value.slice(curie.length);
  if (value.startsWith(definition.urnPrefix)) return value.slice(definition.urnPrefix.length);
  if (/^[a-z][a-z0-9_]*$/.test(value)) return value;
  return undefined;
}

function inCbvNamespace(value: string): boolean {
  return (
    value.startsWith(CBV_WEB_NAMESPACE) || value.startsWith(CBV_URN_NAMESPACE) || value.startsWith('cbv:')
  );
}

/** An absolute URI (RFC 3986 scheme, then something, no whitespace). */
export function isAbsoluteUri(value: string): boolean {
  return /^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$/.test(value);
}

function unknownTerm(
  definition: VocabularyDefinition,
  value: unknown,
  what: string,
  word?: string,
): InvalidInputError {
  const suggestion = word === undefined ? undefined : closest(word, definition.words);
  const hint = suggestion === undefined ? '' : ` (did you mean ${quote(suggestion)}?)`;
  const allowed =
    `allowed: a CBV 2.0 ${definition.label} (${definition.words.join(', ')}) as a bare word, ` +
    `GS1 Web URI (${CBV_WEB_NAMESPACE}${definition.webTerm}…) or URN (${definition.urnPrefix}…)`;
  const details: Record<string, unknown> = {
    vocabulary: definition.label,
    value: typeof value === 'string' ? value.slice(0, 200) : typeof value,
  };
  if (suggestion !== undefined) details.suggestion = suggestion;
  return new InvalidInputError(definition.errorCode, `${what}${hint}; ${allowed}`, {
    issueType: 'value',
    details,
  });
}

/** The word of `words` nearest to `word` by edit distance, if within 2 edits (a likely typo). */
function closest(word: string, words: readonly string[]): string | undefined {
  if (word.length > 40) return undefined;
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of words) {
    const distance = editDistance(word, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(substitution, (previous[j] as number) + 1, (current[j - 1] as number) + 1));
    }
    previous = current;
  }
  return previous[b.length] as number;
}
