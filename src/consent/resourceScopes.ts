import { InvalidInputError } from '../core/errors.js';
import type { Hex } from '../core/hex.js';
import { SUPPORTED_RESOURCE_TYPES } from '../records/supportedTypes.js';
import { categoryScope, resourceScope, scopeHash, typeScope } from './consentTypedData.js';

/**
 * What a consent must name to cover a FHIR R4 resource: its type scope (`type:Observation`), one category
 * scope per category code (`category:laboratory`) and its own resource scope (`resource:Observation/<id>`),
 * plus the clinical date of its data for consents limited to a date range.
 *
 * keccak-256 in JavaScript costs ~10 µs, more than the rest of a decision, so type and category hashes are
 * cached and the resource scope is hashed only when a consent names a scope that could be it.
 */

/** The least a resource must have; typed loosely so Medplum's interfaces and parsed JSON both fit. */
export interface FhirResourceLike {
  readonly resourceType: string;
  readonly id?: string | undefined;
}

/** Bounds the hash caches: category codes come from stored data, which a member could flood. */
const MAX_CACHED_HASHES = 4096;
const typeHashes = new Map<string, Hex>();
const categoryHashes = new Map<string, Hex>();
// Every cached type/category hash. None can be a `resource:` scope hash (different preimages), so a consent
// scope found here never requires hashing the resource scope.
const knownClassHashes = new Set<string>();

function cachedHash(cache: Map<string, Hex>, key: string, scope: string): Hex {
  let hash = cache.get(key);
  if (hash === undefined) {
    hash = scopeHash(scope);
    if (cache.size < MAX_CACHED_HASHES) {
      cache.set(key, hash);
      knownClassHashes.add(hash);
    }
  }
  return hash;
}

/** keccak-256 of `type:<resourceType>`, cached. */
export function typeScopeHash(resourceType: string): Hex {
  return cachedHash(typeHashes, resourceType, typeScope(resourceType));
}

/** keccak-256 of `category:<code>`, cached. */
export function categoryScopeHash(code: string): Hex {
  return cachedHash(categoryHashes, code, categoryScope(code));
}

for (const type of SUPPORTED_RESOURCE_TYPES) typeScopeHash(type);

/**
 * Types whose R4 definition has a `category` element. Its shape varies (CodeableConcept[] for most,
 * one CodeableConcept for Procedure, code[] for AllergyIntolerance); the reader below accepts all three.
 * Patient, Practitioner, Organization, Encounter and Immunization have none.
 */
const CATEGORY_TYPES: ReadonlySet<string> = new Set([
  'Observation',
  'Condition',
  'DiagnosticReport',
  'DocumentReference',
  'AllergyIntolerance',
  'MedicationRequest',
  'Procedure',
]);

/**
 * Where the clinical date of each type's data is, first present wins (R4 element names; `[x]` choices as
 * their typed names). This is when the care happened, not when the record was written, because patients
 * think of consent ranges as "my data from 2019". Onset comes before recordedDate for Condition and
 * AllergyIntolerance alike for that reason. Types not listed (Patient, Practitioner, Organization) have no
 * data date.
 */
const DATA_DATE_PATHS: Readonly<Record<string, readonly string[]>> = {
  Observation: [
    'effectiveDateTime',
    'effectiveInstant',
    'effectivePeriod.start',
    'effectiveTiming.event',
    'issued',
  ],
  Condition: ['onsetDateTime', 'onsetPeriod.start', 'recordedDate'],
  Encounter: ['period.start'],
  DiagnosticReport: ['effectiveDateTime', 'effectivePeriod.start', 'issued'],
  Procedure: ['performedDateTime', 'performedPeriod.start'],
  Immunization: ['occurrenceDateTime'],
  MedicationRequest: ['authoredOn'],
  AllergyIntolerance: ['onsetDateTime', 'onsetPeriod.start', 'recordedDate'],
  DocumentReference: ['date', 'context.period.start'],
};

// FHIR date, dateTime and instant (https://hl7.org/fhir/R4/datatypes.html#dateTime): a time needs seconds and
// a zone.
const FHIR_DATE_TIME_RE =
  /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(Z|[+-]\d{2}:\d{2}))?)?)?$/;

/** The span of time a FHIR date value denotes, in UNIX seconds, both ends inclusive. */
export interface DataDateSpan {
  readonly start: number;
  readonly end: number;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function isLeap(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

// Date.UTC maps years 0–99 to 1900–1999; setUTCFullYear does not, and carries overflowing months and days.
function utcMs(year: number, monthIndex: number, day: number, hour = 0, minute = 0, second = 0): number {
  const date = new Date(0);
  date.setUTCFullYear(year, monthIndex, day);
  date.setUTCHours(hour, minute, second, 0);
  return date.getTime();
}

/**
 * The span a FHIR date/dateTime/instant denotes, or null if it is not one: `2019` is all of 2019, `2019-03`
 * all of March, `2019-03-04` that day (dates without a time in UTC), a dateTime its second. Consents with a
 * date range must contain the whole span: a year-only date is not "before June".
 */
export function parseFhirDateSpan(value: unknown): DataDateSpan | null {
  if (typeof value !== 'string') return null;
  const m = FHIR_DATE_TIME_RE.exec(value);
  if (m === null) return null;
  const year = Number(m[1]);
  const month = m[2] === undefined ? 1 : Number(m[2]);
  const day = m[3] === undefined ? 1 : Number(m[3]);
  const hour = m[4] === undefined ? 0 : Number(m[4]);
  const minute = m[5] === undefined ? 0 : Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 60) return null;
  const daysInMonth = month === 2 && isLeap(year) ? 29 : (DAYS_IN_MONTH[month - 1] as number);
  if (day < 1 || day > daysInMonth) return null;
  const zone = m[7];
  let startMs = utcMs(year, month - 1, day, hour, minute, second);
  if (zone !== undefined && zone !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    startMs -= sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6))) * 60_000;
  }
  const start = Math.floor(startMs / 1000);
  if (m[4] !== undefined) return { start, end: start };
  // A partial date ends one second before the next day, month or year begins.
  const nextMs =
    m[3] !== undefined
      ? utcMs(year, month - 1, day + 1)
      : m[2] !== undefined
        ? utcMs(year, month, 1)
        : utcMs(year + 1, 0, 1);
  return { start, end: nextMs / 1000 - 1 };
}

/** UNIX seconds of the first instant a FHIR date/dateTime/instant denotes, or null if it is not one. */
export function parseFhirDateTime(value: unknown): number | null {
  return parseFhirDateSpan(value)?.start ?? null;
}

// The paths split once, not per resource.
const DATA_DATE_KEYS: ReadonlyMap<string, readonly (readonly string[])[]> = new Map(
  Object.entries(DATA_DATE_PATHS).map(([type, paths]) => [type, paths.map((path) => path.split('.'))]),
);

function valueAt(resource: Record<string, unknown>, keys: readonly string[]): unknown {
  let value: unknown = resource;
  for (const key of keys) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** The span of the resource's clinical date (see `DATA_DATE_PATHS`), or null if it has none. */
export function dataDateSpanOf(resource: FhirResourceLike): DataDateSpan | null {
  const paths = DATA_DATE_KEYS.get(resource.resourceType);
  if (paths === undefined) return null;
  for (const keys of paths) {
    const value = valueAt(resource as unknown as Record<string, unknown>, keys);
    // Timing.event is a list: the data spans its earliest to its latest date.
    let span: DataDateSpan | null = null;
    for (const item of Array.isArray(value) ? value : [value]) {
      const one = parseFhirDateSpan(item);
      if (one !== null) {
        span =
          span === null ? one : { start: Math.min(span.start, one.start), end: Math.max(span.end, one.end) };
      }
    }
    if (span !== null) return span;
  }
  return null;
}

/** UNIX seconds of the start of the resource's clinical date, or null if it has none. */
export function dataDateOf(resource: FhirResourceLike): number | null {
  return dataDateSpanOf(resource)?.start ?? null;
}

function addCode(codes: string[], code: unknown): void {
  if (typeof code === 'string' && code.length > 0 && !codes.includes(code)) codes.push(code);
}

/** The distinct category codes of the resource (codes only, any system), in document order. */
export function categoryCodesOf(resource: FhirResourceLike): string[] {
  const codes: string[] = [];
  if (!CATEGORY_TYPES.has(resource.resourceType)) return codes;
  const category = (resource as unknown as Record<string, unknown>)['category'];
  for (const item of Array.isArray(category) ? category : [category]) {
    if (typeof item === 'string') {
      addCode(codes, item);
    } else if (typeof item === 'object' && item !== null) {
      const coding = (item as { coding?: unknown }).coding;
      if (Array.isArray(coding)) {
        for (const c of coding)
          if (typeof c === 'object' && c !== null) addCode(codes, (c as { code?: unknown }).code);
      }
    }
  }
  return codes;
}

/** The scopes a resource matches and the date of its data; see `resourceScopes`. */
export class ResourceScopes {
  readonly resourceType: string;
  /** The resource's id, or null before it has one (then no single-resource consent can cover it). */
  readonly id: string | null;
  readonly categories: readonly string[];
  /** UNIX seconds of the start of the data's clinical date, or null. */
  readonly dataDate: number | null;
  /** UNIX seconds of its end: later than `dataDate` for a partial date (`2019` ends on 31 December). */
  readonly dataDateEnd: number | null;
  /** The type scope hash, then one hash per category code: cached, never hashed per call. */
  readonly typeAndCategoryScopes: readonly Hex[];
  #resourceScope: Hex | null | undefined;
  #scopes: readonly Hex[] | undefined;

  constructor(resource: FhirResourceLike) {
    const { resourceType, id } = resource;
    if (typeof resourceType !== 'string' || resourceType.length === 0) {
      throw new InvalidInputError(
        'CONSENT.RESOURCE_TYPE_REQUIRED',
        'A resource needs a resourceType to be matched against consents.',
      );
    }
    this.resourceType = resourceType;
    this.id = typeof id === 'string' && id.length > 0 ? id : null;
    this.categories = categoryCodesOf(resource);
    const span = dataDateSpanOf(resource);
    this.dataDate = span === null ? null : span.start;
    this.dataDateEnd = span === null ? null : span.end;
    this.typeAndCategoryScopes = [typeScopeHash(resourceType), ...this.categories.map(categoryScopeHash)];
  }

  /** keccak-256 of `resource:<type>/<id>`, hashed on first use; null without an id. */
  get resourceScope(): Hex | null {
    if (this.#resourceScope === undefined) {
      this.#resourceScope = this.id === null ? null : scopeHash(resourceScope(this.resourceType, this.id));
    }
    return this.#resourceScope;
  }

  /** Every scope hash the resource matches: type, categories, then its own resource scope. */
  get scopes(): readonly Hex[] {
    if (this.#scopes === undefined) {
      const own = this.resourceScope;
      this.#scopes = own === null ? this.typeAndCategoryScopes : [...this.typeAndCategoryScopes, own];
    }
    return this.#scopes;
  }

  /** True if a consent naming `scope` (lower-case hex) covers this resource; hashes only when it must. */
  matches(scope: Hex): boolean {
    for (const own of this.typeAndCategoryScopes) if (own === scope) return true;
    if (this.id === null || knownClassHashes.has(scope)) return false;
    return this.resourceScope === scope;
  }
}

/** The scope hashes `resource` matches and the date of its data (see the file comment). */
export function resourceScopes(resource: FhirResourceLike): ResourceScopes {
  return new ResourceScopes(resource);
}
