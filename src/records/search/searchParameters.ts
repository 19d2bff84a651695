/**
 * The search parameters CareLedger supports, per resource type: the single source for indexing
 * (`extractIndexEntries`), query parsing (`parseSearchQuery`) and the CapabilityStatement.
 *
 * Where a parameter implements an R4 SearchParameter exactly, `definition` holds its canonical URL. A few
 * CareLedger aliases (e.g. `code` on Immunization, `date` on Condition and MedicationRequest) have no
 * `definition`; their `documentation` says what they search.
 */
import type { CapabilityStatementRestResourceSearchParam, Resource } from '@medplum/fhirtypes';
import { hullOf, parseFhirDate, periodRange, type DateRange } from './dateRange.js';
import { FHIR_ID_RE } from './tokenScheme.js';
import {
  SUPPORTED_RESOURCE_TYPES,
  isSupportedResourceType,
  type SupportedResourceType,
} from '../supportedTypes.js';

/** Every resource type the store keeps is searchable: one list, in `supportedTypes.ts`. */
export const SEARCHABLE_RESOURCE_TYPES = SUPPORTED_RESOURCE_TYPES;
export type SearchableResourceType = SupportedResourceType;
export const isSearchableResourceType: (value: unknown) => value is SearchableResourceType =
  isSupportedResourceType;

/** A value the extractor found but could not index; `reason` never contains the value itself. */
export interface SkippedValue {
  skipped: string;
}
export type Extracted<T> = T | SkippedValue;

/** A coding (system + code) or an identifier (system + value). */
export interface TokenValue {
  system?: string;
  code: string;
}

interface DefinitionBase {
  /** The name used in queries (and in the CapabilityStatement). */
  name: string;
  /** FHIRPath-like expression of what is searched. */
  expression: string;
  /** One line for CapabilityStatement.rest.resource.searchParam.documentation. */
  documentation: string;
  /** Canonical URL of the R4 SearchParameter this implements, when it implements one exactly. */
  definition?: string;
}

/** `patient`/`subject`: stored as the clear token `Patient/<id>`. */
export interface ReferenceSearchParameter extends DefinitionBase {
  kind: 'index';
  type: 'reference';
  /** The `param` of the index rows; aliases of the same element share it. */
  indexParam: string;
  /** Patient ids referenced (relative `Patient/<id>` references only). */
  extract(resource: Resource): Extracted<string>[];
}

export interface TokenSearchParameter extends DefinitionBase {
  kind: 'index';
  type: 'token';
  indexParam: string;
  /** True for identifying values (identifiers): tokens are hashed, never stored in clear. */
  hashed: boolean;
  extract(resource: Resource): TokenValue[];
}

export interface DateSearchParameter extends DefinitionBase {
  kind: 'index';
  type: 'date';
  indexParam: string;
  extract(resource: Resource): Extracted<DateRange>[];
}

/** Name search: hashed prefixes of folded words (and exact values for `:exact`). */
export interface StringSearchParameter extends DefinitionBase {
  kind: 'index';
  type: 'string';
  indexParam: string;
  /** The name parts searched (family, given, prefix, suffix, text as applicable). */
  extract(resource: Resource): string[];
}

export type IndexedSearchParameter =
  ReferenceSearchParameter | TokenSearchParameter | DateSearchParameter | StringSearchParameter;

/** `_id` and `_lastUpdated`: answered from the resource table, not from the search index. */
export interface ResourceSearchParameter extends DefinitionBase {
  kind: 'resource';
  type: 'token' | 'date';
}

/** `_count`, `_offset`, `_sort`: shape the result page rather than select resources. */
export interface ResultParameter extends DefinitionBase {
  kind: 'result';
  type: 'number' | 'special';
}

export type SearchParameterDefinition = IndexedSearchParameter | ResourceSearchParameter | ResultParameter;

// ---------------------------------------------------------------------------------------------------------------
// Defensive readers: stored resources are JSON from clients, so every element is checked before use.

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function get(value: unknown, key: string): unknown {
  return isObject(value) ? value[key] : undefined;
}

/** An element that may repeat, as a list (a lone value becomes a list of one). */
function list(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function codings(codeableConcepts: unknown): TokenValue[] {
  const out: TokenValue[] = [];
  for (const concept of list(codeableConcepts)) {
    for (const coding of list(get(concept, 'coding'))) {
      const code = text(get(coding, 'code'));
      if (code === undefined) continue;
      const system = text(get(coding, 'system'));
      out.push(system === undefined ? { code } : { system, code });
    }
  }
  return out;
}

function identifiers(values: unknown): TokenValue[] {
  const out: TokenValue[] = [];
  for (const identifier of list(values)) {
    const code = text(get(identifier, 'value'));
    if (code === undefined) continue;
    const system = text(get(identifier, 'system'));
    out.push(system === undefined ? { code } : { system, code });
  }
  return out;
}

const RELATIVE_PATIENT_REF = /^Patient\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/;

/**
 * The Patient id of a Reference, or a reason it cannot be indexed. Only relative `Patient/<id>` (optionally
 * versioned) references are indexed: an absolute URL may name a patient on another server, and `urn:uuid:`
 * references must be resolved by the transaction that stores the resource. Other targets (Group, Device, …) and
 * contained references yield nothing.
 */
export function patientIdFromReference(reference: unknown): Extracted<string> | null {
  const ref = get(reference, 'reference');
  if (typeof ref !== 'string') return null;
  const match = RELATIVE_PATIENT_REF.exec(ref);
  if (match?.[1] !== undefined) return match[1];
  if (/^[a-z][a-z0-9+.-]*:\/\/.*\/Patient\/[^/]+/i.test(ref)) {
    return { skipped: 'absolute Patient reference (only relative Patient/<id> references are indexed)' };
  }
  if (ref.startsWith('urn:')) return { skipped: 'unresolved urn: reference' };
  if (ref.startsWith('Patient/')) return { skipped: 'malformed Patient reference id' };
  return null;
}

function patientRefs(reference: unknown): Extracted<string>[] {
  const id = patientIdFromReference(reference);
  return id === null ? [] : [id];
}

const INVALID_DATE: SkippedValue = { skipped: 'not a valid FHIR date/dateTime/instant' };
const INVALID_PERIOD: SkippedValue = { skipped: 'not a valid FHIR Period' };

function dateValue(value: unknown): Extracted<DateRange>[] {
  if (value === undefined || value === null) return [];
  const parsed = typeof value === 'string' ? parseFhirDate(value) : null;
  return [parsed ? { low: parsed.low, high: parsed.high } : INVALID_DATE];
}

function periodValue(value: unknown): Extracted<DateRange>[] {
  if (value === undefined || value === null) return [];
  if (!isObject(value)) return [INVALID_PERIOD];
  if (value.start === undefined && value.end === undefined) return [];
  return [periodRange(value) ?? INVALID_PERIOD];
}

/**
 * A Timing, per R4 search rules, is searched by its outer limits only: the hull of its `event` dates and its
 * `repeat.boundsPeriod`.
 */
function timingValue(value: unknown): Extracted<DateRange>[] {
  if (value === undefined || value === null) return [];
  const parts = [
    ...list(get(value, 'event')).flatMap(dateValue),
    ...periodValue(get(get(value, 'repeat'), 'boundsPeriod')),
  ];
  const ranges = parts.filter((p): p is DateRange => !('skipped' in p));
  if (ranges.length < parts.length) return [{ skipped: 'Timing with an invalid event or bounds' }];
  const hull = hullOf(ranges);
  return hull ? [hull] : [];
}

/** `prefix[x]`: the dateTime, instant, Period or Timing choices present on the resource. */
function choiceDates(resource: Resource, prefix: string): Extracted<DateRange>[] {
  const r = resource as unknown as Json;
  return [
    ...dateValue(r[`${prefix}DateTime`]),
    ...dateValue(r[`${prefix}Instant`]),
    ...periodValue(r[`${prefix}Period`]),
    ...timingValue(r[`${prefix}Timing`]),
  ];
}

function field(resource: Resource, key: string): unknown {
  return (resource as unknown as Json)[key];
}

function humanNameParts(
  resource: Resource,
  parts: readonly ('family' | 'given' | 'prefix' | 'suffix' | 'text')[],
) {
  const out: string[] = [];
  for (const name of list(field(resource, 'name'))) {
    for (const part of parts) {
      for (const value of list(get(name, part))) {
        const t = text(value);
        if (t !== undefined) out.push(t);
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Builders

const R4 = 'http://hl7.org/fhir/SearchParameter/';

function patientParam(resourceType: string, path: 'subject' | 'patient'): ReferenceSearchParameter {
  const isSubject = path === 'subject';
  return {
    kind: 'index',
    type: 'reference',
    name: 'patient',
    indexParam: 'patient',
    expression: isSubject ? `${resourceType}.subject.where(resolve() is Patient)` : `${resourceType}.patient`,
    documentation: `The patient this ${resourceType} is about: patient=<id> or patient=Patient/<id>.`,
    definition: `${R4}clinical-patient`,
    extract: (resource) => patientRefs(field(resource, path)),
  };
}

function subjectParam(resourceType: string): ReferenceSearchParameter {
  return {
    kind: 'index',
    type: 'reference',
    name: 'subject',
    indexParam: 'patient',
    expression: `${resourceType}.subject`,
    documentation: `The subject of this ${resourceType}; only Patient subjects are searchable: subject=Patient/<id>.`,
    definition: `${R4}${resourceType}-subject`,
    extract: (resource) => patientRefs(field(resource, 'subject')),
  };
}

function codeParam(
  name: string,
  expression: string,
  documentation: string,
  extract: (resource: Resource) => TokenValue[],
  options: { definition?: string; indexParam?: string } = {},
): TokenSearchParameter {
  return {
    kind: 'index',
    type: 'token',
    name,
    indexParam: options.indexParam ?? name,
    hashed: false,
    expression,
    documentation: `${documentation} Token: system|code, code, |code or system|.`,
    ...(options.definition === undefined ? {} : { definition: options.definition }),
    extract,
  };
}

function identifierParam(resourceType: string, definition: string, master = false): TokenSearchParameter {
  return {
    kind: 'index',
    type: 'token',
    name: 'identifier',
    indexParam: 'identifier',
    hashed: true,
    expression: master
      ? `${resourceType}.masterIdentifier | ${resourceType}.identifier`
      : `${resourceType}.identifier`,
    documentation: `A business identifier of the ${resourceType} (system|value, value, |value or system|); indexed as keyed hashes only.`,
    definition,
    extract: (resource) => [
      ...(master ? identifiers(field(resource, 'masterIdentifier')) : []),
      ...identifiers(field(resource, 'identifier')),
    ],
  };
}

function dateParam(
  name: string,
  expression: string,
  documentation: string,
  extract: (resource: Resource) => Extracted<DateRange>[],
  options: { definition?: string; indexParam?: string } = {},
): DateSearchParameter {
  return {
    kind: 'index',
    type: 'date',
    name,
    indexParam: options.indexParam ?? name,
    expression,
    documentation: `${documentation} Prefixes eq, ne, gt, lt, ge, le, sa, eb.`,
    ...(options.definition === undefined ? {} : { definition: options.definition }),
    extract,
  };
}

function nameParam(
  name: 'name' | 'family' | 'given',
  parts: readonly ('family' | 'given' | 'prefix' | 'suffix' | 'text')[],
  definition: string,
  documentation: string,
): StringSearchParameter {
  return {
    kind: 'index',
    type: 'string',
    name,
    indexParam: name,
    expression: parts.map((p) => `Patient.name.${p}`).join(' | '),
    documentation: `${documentation} Case- and accent-insensitive, starts with any word; :exact matches a whole part.`,
    definition,
    extract: (resource) => humanNameParts(resource, parts),
  };
}

const COMMON: readonly SearchParameterDefinition[] = [
  {
    kind: 'resource',
    type: 'token',
    name: '_id',
    expression: 'Resource.id',
    documentation: 'Logical id of the resource; a comma-separated list matches any of them.',
    definition: `${R4}Resource-id`,
  },
  {
    kind: 'resource',
    type: 'date',
    name: '_lastUpdated',
    expression: 'Resource.meta.lastUpdated',
    documentation: 'When the resource version was stored. Prefixes eq, ne, gt, lt, ge, le, sa, eb.',
    definition: `${R4}Resource-lastUpdated`,
  },
];

const RESULT: readonly ResultParameter[] = [
  {
    kind: 'result',
    type: 'number',
    name: '_count',
    expression: '',
    documentation: 'Entries per page: 0 to 1000 (default 20; 0 returns the total only).',
  },
  {
    kind: 'result',
    type: 'number',
    name: '_offset',
    expression: '',
    documentation: 'Number of matching entries to skip before the page (default 0).',
  },
  {
    kind: 'result',
    type: 'special',
    name: '_sort',
    expression: '',
    documentation: 'Sort order: _lastUpdated (default), -_lastUpdated, _id or -_id.',
  },
];

const code = (path: string) => (resource: Resource) => codings(field(resource, path));

const BY_TYPE: Record<SearchableResourceType, readonly IndexedSearchParameter[]> = {
  Patient: [
    identifierParam('Patient', `${R4}Patient-identifier`),
    nameParam(
      'name',
      ['family', 'given', 'prefix', 'suffix', 'text'],
      `${R4}Patient-name`,
      'Any part of a name.',
    ),
    nameParam('family', ['family'], `${R4}individual-family`, 'A family name.'),
    nameParam('given', ['given'], `${R4}individual-given`, 'A given name.'),
    dateParam('birthdate', 'Patient.birthDate', 'Date of birth.', (r) => dateValue(field(r, 'birthDate')), {
      definition: `${R4}individual-birthdate`,
    }),
  ],
  Practitioner: [identifierParam('Practitioner', `${R4}Practitioner-identifier`)],
  Organization: [identifierParam('Organization', `${R4}Organization-identifier`)],
  Encounter: [
    patientParam('Encounter', 'subject'),
    subjectParam('Encounter'),
    identifierParam('Encounter', `${R4}clinical-identifier`),
    codeParam('type', 'Encounter.type', 'Type of encounter.', code('type'), {
      definition: `${R4}clinical-type`,
    }),
    codeParam('code', 'Encounter.type', 'CareLedger alias of type.', code('type'), { indexParam: 'type' }),
    dateParam(
      'date',
      'Encounter.period',
      'When the encounter took place.',
      (r) => periodValue(field(r, 'period')),
      {
        definition: `${R4}clinical-date`,
      },
    ),
  ],
  Observation: [
    patientParam('Observation', 'subject'),
    subjectParam('Observation'),
    identifierParam('Observation', `${R4}clinical-identifier`),
    codeParam('code', 'Observation.code', 'What was observed (e.g. LOINC).', code('code'), {
      definition: `${R4}clinical-code`,
    }),
    dateParam(
      'date',
      'Observation.effective',
      'Clinically relevant time or period.',
      (r) => choiceDates(r, 'effective'),
      {
        definition: `${R4}clinical-date`,
      },
    ),
  ],
  Condition: [
    patientParam('Condition', 'subject'),
    subjectParam('Condition'),
    identifierParam('Condition', `${R4}clinical-identifier`),
    codeParam('code', 'Condition.code', 'The condition (e.g. SNOMED CT).', code('code'), {
      definition: `${R4}clinical-code`,
    }),
    dateParam(
      'onset-date',
      'Condition.onset.as(dateTime) | Condition.onset.as(Period)',
      'Onset as a dateTime or Period.',
      (r) => [...dateValue(field(r, 'onsetDateTime')), ...periodValue(field(r, 'onsetPeriod'))],
      { definition: `${R4}Condition-onset-date` },
    ),
    dateParam(
      'recorded-date',
      'Condition.recordedDate',
      'When first recorded.',
      (r) => dateValue(field(r, 'recordedDate')),
      {
        definition: `${R4}Condition-recorded-date`,
      },
    ),
    dateParam(
      'date',
      'Condition.onset.as(dateTime) | Condition.onset.as(Period), else Condition.recordedDate',
      'CareLedger parameter: onset when present, otherwise the recorded date.',
      (r) => {
        const onset = [...dateValue(field(r, 'onsetDateTime')), ...periodValue(field(r, 'onsetPeriod'))];
        return onset.some((v) => !('skipped' in v))
          ? onset
          : [...onset, ...dateValue(field(r, 'recordedDate'))];
      },
    ),
  ],
  AllergyIntolerance: [
    patientParam('AllergyIntolerance', 'patient'),
    identifierParam('AllergyIntolerance', `${R4}clinical-identifier`),
    codeParam(
      'code',
      'AllergyIntolerance.code | AllergyIntolerance.reaction.substance',
      'The substance (e.g. RxNorm, SNOMED CT).',
      (r) => [
        ...codings(field(r, 'code')),
        ...list(field(r, 'reaction')).flatMap((x) => codings(get(x, 'substance'))),
      ],
      { definition: `${R4}clinical-code` },
    ),
    dateParam(
      'date',
      'AllergyIntolerance.recordedDate',
      'When recorded.',
      (r) => dateValue(field(r, 'recordedDate')),
      {
        definition: `${R4}clinical-date`,
      },
    ),
  ],
  MedicationRequest: [
    patientParam('MedicationRequest', 'subject'),
    subjectParam('MedicationRequest'),
    identifierParam('MedicationRequest', `${R4}clinical-identifier`),
    codeParam(
      'code',
      'MedicationRequest.medication.as(CodeableConcept)',
      'The medication as a code (e.g. RxNorm).',
      code('medicationCodeableConcept'),
      { definition: `${R4}clinical-code` },
    ),
    dateParam(
      'authoredon',
      'MedicationRequest.authoredOn',
      'When the request was written.',
      (r) => dateValue(field(r, 'authoredOn')),
      { definition: `${R4}MedicationRequest-authoredon` },
    ),
    dateParam(
      'date',
      'MedicationRequest.authoredOn',
      'CareLedger alias of authoredon (R4 defines date as the dosage timing, which is not indexed).',
      (r) => dateValue(field(r, 'authoredOn')),
      { indexParam: 'authoredon' },
    ),
  ],
  Immunization: [
    patientParam('Immunization', 'patient'),
    identifierParam('Immunization', `${R4}clinical-identifier`),
    codeParam(
      'vaccine-code',
      'Immunization.vaccineCode',
      'Vaccine administered (e.g. CVX).',
      code('vaccineCode'),
      {
        definition: `${R4}Immunization-vaccine-code`,
      },
    ),
    codeParam('code', 'Immunization.vaccineCode', 'CareLedger alias of vaccine-code.', code('vaccineCode'), {
      indexParam: 'vaccine-code',
    }),
    dateParam(
      'date',
      'Immunization.occurrence.as(dateTime)',
      'When the vaccine was given.',
      (r) => dateValue(field(r, 'occurrenceDateTime')),
      { definition: `${R4}clinical-date` },
    ),
  ],
  Procedure: [
    patientParam('Procedure', 'subject'),
    subjectParam('Procedure'),
    identifierParam('Procedure', `${R4}clinical-identifier`),
    codeParam('code', 'Procedure.code', 'The procedure (e.g. SNOMED CT).', code('code'), {
      definition: `${R4}clinical-code`,
    }),
    dateParam(
      'date',
      'Procedure.performed',
      'When the procedure was performed.',
      (r) => choiceDates(r, 'performed'),
      {
        definition: `${R4}clinical-date`,
      },
    ),
  ],
  DiagnosticReport: [
    patientParam('DiagnosticReport', 'subject'),
    subjectParam('DiagnosticReport'),
    identifierParam('DiagnosticReport', `${R4}clinical-identifier`),
    codeParam('code', 'DiagnosticReport.code', 'The report (e.g. LOINC panel).', code('code'), {
      definition: `${R4}clinical-code`,
    }),
    dateParam(
      'date',
      'DiagnosticReport.effective',
      'Clinically relevant time or period.',
      (r) => choiceDates(r, 'effective'),
      { definition: `${R4}clinical-date` },
    ),
  ],
  DocumentReference: [
    patientParam('DocumentReference', 'subject'),
    subjectParam('DocumentReference'),
    identifierParam('DocumentReference', `${R4}clinical-identifier`, true),
    codeParam('type', 'DocumentReference.type', 'Kind of document (e.g. LOINC).', code('type'), {
      definition: `${R4}clinical-type`,
    }),
    codeParam('code', 'DocumentReference.type', 'CareLedger alias of type.', code('type'), {
      indexParam: 'type',
    }),
    dateParam(
      'date',
      'DocumentReference.date',
      'When the reference was created.',
      (r) => dateValue(field(r, 'date')),
      {
        definition: `${R4}DocumentReference-date`,
      },
    ),
  ],
};

/**
 * Where each supported resource type keeps the reference to its Patient (`null` for Patient itself, whose id is
 * its own, and for types that do not belong to one patient).
 */
export const PATIENT_REFERENCE_PATH: Record<SearchableResourceType, 'subject' | 'patient' | null> = {
  Patient: null,
  Practitioner: null,
  Organization: null,
  Encounter: 'subject',
  Observation: 'subject',
  Condition: 'subject',
  AllergyIntolerance: 'patient',
  MedicationRequest: 'subject',
  Immunization: 'patient',
  Procedure: 'subject',
  DiagnosticReport: 'subject',
  DocumentReference: 'subject',
};

/** Every parameter a search on `resourceType` accepts: `_id`, `_lastUpdated`, the indexed ones, then result ones. */
export function supportedSearchParameters(resourceType: SearchableResourceType): SearchParameterDefinition[] {
  const indexed = isSearchableResourceType(resourceType) ? BY_TYPE[resourceType] : undefined;
  if (indexed === undefined) return [];
  return [...COMMON, ...indexed, ...RESULT];
}

/** The parameters stored in the index for `resourceType`, one per `indexParam` (aliases left out). */
export function indexedSearchParameters(resourceType: SearchableResourceType): IndexedSearchParameter[] {
  const seen = new Set<string>();
  return (BY_TYPE[resourceType] ?? []).filter((p) => {
    if (seen.has(p.indexParam)) return false;
    seen.add(p.indexParam);
    return true;
  });
}

/** The CapabilityStatement.rest.resource.searchParam entry of a definition. */
export function toCapabilitySearchParam(
  parameter: SearchParameterDefinition,
): CapabilityStatementRestResourceSearchParam {
  return {
    name: parameter.name,
    ...(parameter.definition === undefined ? {} : { definition: parameter.definition }),
    type: parameter.type,
    documentation: parameter.documentation,
  };
}

/** Whether `id` is a valid FHIR logical id. */
export function isFhirId(id: unknown): id is string {
  return typeof id === 'string' && FHIR_ID_RE.test(id);
}
