import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { InvalidInputError } from '../core/errors.js';
import { SUPPORTED_RESOURCE_TYPES } from '../records/supportedTypes.js';
import * as typedData from './consentTypedData.js';
import { categoryScope, resourceScope, scopeHash, typeScope } from './consentTypedData.js';
import {
  categoryCodesOf,
  categoryScopeHash,
  dataDateOf,
  dataDateSpanOf,
  parseFhirDateSpan,
  parseFhirDateTime,
  resourceScopes,
  typeScopeHash,
  type FhirResourceLike,
} from './resourceScopes.js';

// Count keccak calls to show what is cached and what is hashed lazily.
vi.mock('./consentTypedData.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('./consentTypedData.js')>();
  return { ...original, scopeHash: vi.fn(original.scopeHash) };
});
const hashCalls = () => vi.mocked(typedData.scopeHash).mock.calls.length;

const seconds = (iso: string) => Date.parse(iso) / 1000;
const cc = (...codes: string[]) => ({
  coding: codes.map((code) => ({ system: 'http://example.org', code })),
});
const r = (resource: Record<string, unknown> & FhirResourceLike) => resource;

describe('resourceScopes', () => {
  it('gives the type, category and resource scope hashes, in that order', () => {
    const obs = resourceScopes(
      r({
        resourceType: 'Observation',
        id: 'o1',
        category: [cc('laboratory'), cc('vital-signs', 'laboratory')],
      }),
    );
    expect(obs.resourceType).toBe('Observation');
    expect(obs.id).toBe('o1');
    expect(obs.categories).toEqual(['laboratory', 'vital-signs']);
    expect(obs.scopes).toEqual([
      scopeHash(typeScope('Observation')),
      scopeHash(categoryScope('laboratory')),
      scopeHash(categoryScope('vital-signs')),
      scopeHash(resourceScope('Observation', 'o1')),
    ]);
    expect(obs.resourceScope).toBe(scopeHash('resource:Observation/o1'));
  });

  it('reads every R4 category shape and ignores types without a category element', () => {
    expect(categoryCodesOf(r({ resourceType: 'Procedure', category: cc('387713003') }))).toEqual([
      '387713003',
    ]);
    expect(
      categoryCodesOf(r({ resourceType: 'AllergyIntolerance', category: ['food', 'medication'] })),
    ).toEqual(['food', 'medication']);
    expect(categoryCodesOf(r({ resourceType: 'Condition', category: [cc('problem-list-item')] }))).toEqual([
      'problem-list-item',
    ]);
    expect(categoryCodesOf(r({ resourceType: 'DiagnosticReport', category: [cc('LAB')] }))).toEqual(['LAB']);
    expect(
      categoryCodesOf(r({ resourceType: 'DocumentReference', category: [cc('clinical-note')] })),
    ).toEqual(['clinical-note']);
    expect(categoryCodesOf(r({ resourceType: 'MedicationRequest', category: [cc('outpatient')] }))).toEqual([
      'outpatient',
    ]);
    // Not R4 elements, so never scopes, even if a document carries them.
    expect(categoryCodesOf(r({ resourceType: 'Immunization', category: [cc('x')] }))).toEqual([]);
    expect(categoryCodesOf(r({ resourceType: 'Encounter', category: [cc('x')] }))).toEqual([]);
    // Malformed entries are skipped, not fatal.
    expect(
      categoryCodesOf(
        r({
          resourceType: 'Observation',
          category: [null, 7, { coding: 'x' }, { coding: [null, { code: '' }] }],
        }),
      ),
    ).toEqual([]);
  });

  it('has no resource scope without an id', () => {
    const scopes = resourceScopes({ resourceType: 'Patient' });
    expect(scopes.id).toBeNull();
    expect(scopes.resourceScope).toBeNull();
    expect(scopes.scopes).toEqual([scopeHash('type:Patient')]);
    expect(scopes.matches(scopeHash('resource:Patient/'))).toBe(false);
  });

  it('refuses a resource without a resourceType', () => {
    expect(() => resourceScopes({} as FhirResourceLike)).toThrow(InvalidInputError);
    expect(() => resourceScopes({ resourceType: '' })).toThrow(/resourceType/);
  });

  it('caches type and category hashes and hashes the resource scope only when a consent could name it', () => {
    const typeObservation = scopeHash('type:Observation');
    const imaging = categoryScopeHash('imaging');
    const otherDocument = scopeHash('resource:Observation/lazy-2');
    const ownDocument = scopeHash('resource:Observation/lazy-1');
    categoryScopeHash('laboratory');
    const before = hashCalls();
    const obs = resourceScopes(
      r({ resourceType: 'Observation', id: 'lazy-1', category: [cc('laboratory')] }),
    );
    expect(obs.matches(typeObservation)).toBe(true);
    expect(obs.matches(categoryScopeHash('laboratory'))).toBe(true);
    // A known type or category hash of something else cannot be this resource's scope.
    expect(obs.matches(typeScopeHash('Condition'))).toBe(false);
    expect(obs.matches(imaging)).toBe(false);
    expect(hashCalls()).toBe(before);
    // An unknown hash might be the resource scope: hashed once, then remembered.
    expect(obs.matches(otherDocument)).toBe(false);
    expect(obs.matches(ownDocument)).toBe(true);
    expect(obs.scopes).toContain(ownDocument);
    expect(hashCalls()).toBe(before + 1);
  });

  it('agrees with scopes.includes for any scope', () => {
    const pool = [
      'type:Observation',
      'type:Condition',
      'category:laboratory',
      'category:vital-signs',
      'category:food',
      'resource:Observation/a',
      'resource:Observation/b',
      'resource:Condition/a',
    ].map(scopeHash);
    fc.assert(
      fc.property(
        fc.constantFrom('Observation', 'Condition', 'AllergyIntolerance'),
        fc.option(fc.constantFrom('a', 'b'), { nil: undefined }),
        fc.subarray(['laboratory', 'vital-signs', 'food']),
        fc.constantFrom(...pool),
        (resourceType, id, codes, scope) => {
          const category = resourceType === 'AllergyIntolerance' ? codes : codes.map((c) => cc(c));
          const scopes = resourceScopes(r({ resourceType, id, category }));
          expect(scopes.matches(scope)).toBe(scopes.scopes.includes(scope));
        },
      ),
    );
  });

  it('hashes the type scope of every supported type like scopeHash', () => {
    for (const type of SUPPORTED_RESOURCE_TYPES) expect(typeScopeHash(type)).toBe(scopeHash(typeScope(type)));
  });
});

describe('dataDateOf', () => {
  const cases: [string, Record<string, unknown> & FhirResourceLike, string | null][] = [
    [
      'Observation effectiveDateTime',
      {
        resourceType: 'Observation',
        effectiveDateTime: '2021-03-04T05:06:07Z',
        issued: '2022-01-01T00:00:00Z',
      },
      '2021-03-04T05:06:07Z',
    ],
    [
      'Observation effectivePeriod.start',
      { resourceType: 'Observation', effectivePeriod: { start: '2021-03-04' } },
      '2021-03-04T00:00:00Z',
    ],
    [
      'Observation effectiveInstant',
      { resourceType: 'Observation', effectiveInstant: '2021-03-04T05:06:07.123Z' },
      '2021-03-04T05:06:07Z',
    ],
    [
      'Observation effectiveTiming.event (earliest)',
      { resourceType: 'Observation', effectiveTiming: { event: ['2021-05-01', '2021-04-01', 'junk'] } },
      '2021-04-01T00:00:00Z',
    ],
    [
      'Observation issued when no effective[x]',
      { resourceType: 'Observation', issued: '2022-01-01T00:00:00Z' },
      '2022-01-01T00:00:00Z',
    ],
    [
      'Condition onsetDateTime before recordedDate',
      { resourceType: 'Condition', onsetDateTime: '2019', recordedDate: '2020-01-01' },
      '2019-01-01T00:00:00Z',
    ],
    [
      'Condition onsetPeriod.start',
      { resourceType: 'Condition', onsetPeriod: { start: '2019-06' } },
      '2019-06-01T00:00:00Z',
    ],
    [
      'Condition recordedDate when onset is a string',
      { resourceType: 'Condition', onsetString: 'childhood', recordedDate: '2020-01-01' },
      '2020-01-01T00:00:00Z',
    ],
    [
      'Encounter period.start',
      { resourceType: 'Encounter', period: { start: '2020-02-02T10:00:00+02:00' } },
      '2020-02-02T08:00:00Z',
    ],
    [
      'DiagnosticReport effectiveDateTime',
      { resourceType: 'DiagnosticReport', effectiveDateTime: '2020-02-02' },
      '2020-02-02T00:00:00Z',
    ],
    [
      'DiagnosticReport issued',
      { resourceType: 'DiagnosticReport', issued: '2020-02-03T00:00:00Z' },
      '2020-02-03T00:00:00Z',
    ],
    [
      'Procedure performedDateTime',
      { resourceType: 'Procedure', performedDateTime: '2018-01-01' },
      '2018-01-01T00:00:00Z',
    ],
    [
      'Procedure performedPeriod.start',
      { resourceType: 'Procedure', performedPeriod: { start: '2018-01-02' } },
      '2018-01-02T00:00:00Z',
    ],
    [
      'Immunization occurrenceDateTime',
      { resourceType: 'Immunization', occurrenceDateTime: '2017-01-01' },
      '2017-01-01T00:00:00Z',
    ],
    ['Immunization occurrenceString', { resourceType: 'Immunization', occurrenceString: 'as a child' }, null],
    [
      'MedicationRequest authoredOn',
      { resourceType: 'MedicationRequest', authoredOn: '2016-01-01' },
      '2016-01-01T00:00:00Z',
    ],
    [
      'AllergyIntolerance onset before recordedDate',
      { resourceType: 'AllergyIntolerance', onsetDateTime: '2015', recordedDate: '2016-01-01' },
      '2015-01-01T00:00:00Z',
    ],
    [
      'AllergyIntolerance recordedDate',
      { resourceType: 'AllergyIntolerance', recordedDate: '2016-01-01' },
      '2016-01-01T00:00:00Z',
    ],
    [
      'DocumentReference date',
      {
        resourceType: 'DocumentReference',
        date: '2014-01-01T00:00:00Z',
        context: { period: { start: '2013-01-01' } },
      },
      '2014-01-01T00:00:00Z',
    ],
    [
      'DocumentReference context.period.start',
      { resourceType: 'DocumentReference', context: { period: { start: '2013-01-01' } } },
      '2013-01-01T00:00:00Z',
    ],
    ['Patient has none', { resourceType: 'Patient', birthDate: '1970-01-01' }, null],
    ['Observation without a date', { resourceType: 'Observation' }, null],
    ['an unparseable date is no date', { resourceType: 'Observation', effectiveDateTime: 'yesterday' }, null],
  ];
  it.each(cases)('%s', (_name, resource, iso) => {
    expect(dataDateOf(resource)).toBe(iso === null ? null : seconds(iso));
    expect(resourceScopes(resource).dataDate).toBe(iso === null ? null : seconds(iso));
  });
});

describe('parseFhirDateTime', () => {
  it('places partial dates at their start, in UTC, and honours zones', () => {
    expect(parseFhirDateTime('2024')).toBe(seconds('2024-01-01T00:00:00Z'));
    expect(parseFhirDateTime('2024-02')).toBe(seconds('2024-02-01T00:00:00Z'));
    expect(parseFhirDateTime('2024-02-29')).toBe(seconds('2024-02-29T00:00:00Z'));
    expect(parseFhirDateTime('2024-01-01T10:00:00-05:30')).toBe(seconds('2024-01-01T15:30:00Z'));
    expect(parseFhirDateTime('2024-01-01T10:00:00.999Z')).toBe(seconds('2024-01-01T10:00:00Z'));
    expect(parseFhirDateTime('0050-01-01')).toBe(new Date('0050-01-01T00:00:00Z').getTime() / 1000);
  });

  it('spans the whole of a partial date, and one second of a dateTime', () => {
    const span = (value: string) => {
      const s = parseFhirDateSpan(value);
      return s === null
        ? null
        : [new Date(s.start * 1000).toISOString(), new Date(s.end * 1000).toISOString()];
    };
    expect(span('2019')).toEqual(['2019-01-01T00:00:00.000Z', '2019-12-31T23:59:59.000Z']);
    expect(span('2019-02')).toEqual(['2019-02-01T00:00:00.000Z', '2019-02-28T23:59:59.000Z']);
    expect(span('2024-02')).toEqual(['2024-02-01T00:00:00.000Z', '2024-02-29T23:59:59.000Z']);
    expect(span('2019-12')).toEqual(['2019-12-01T00:00:00.000Z', '2019-12-31T23:59:59.000Z']);
    expect(span('2019-12-31')).toEqual(['2019-12-31T00:00:00.000Z', '2019-12-31T23:59:59.000Z']);
    expect(span('2019-03-04T05:06:07.890+01:00')).toEqual([
      '2019-03-04T04:06:07.000Z',
      '2019-03-04T04:06:07.000Z',
    ]);
    expect(span('0099')).toEqual(['0099-01-01T00:00:00.000Z', '0099-12-31T23:59:59.000Z']);
    expect(span('2019-02-29')).toBeNull();
  });

  it('gives a resource the span of its date, a Timing its first to last event', () => {
    const condition = resourceScopes({
      resourceType: 'Condition',
      onsetDateTime: '2019',
    } as FhirResourceLike);
    expect(condition.dataDate).toBe(seconds('2019-01-01T00:00:00Z'));
    expect(condition.dataDateEnd).toBe(seconds('2019-12-31T23:59:59Z'));
    const timed = r({
      resourceType: 'Observation',
      effectiveTiming: { event: ['2021-05', '2021-04-02', 'junk'] },
    });
    expect(dataDateSpanOf(timed)).toEqual({
      start: seconds('2021-04-02T00:00:00Z'),
      end: seconds('2021-05-31T23:59:59Z'),
    });
    expect(resourceScopes({ resourceType: 'Patient' }).dataDateEnd).toBeNull();
  });

  it('rejects what is not a FHIR date, dateTime or instant', () => {
    for (const bad of [
      '2023-02-29',
      '2024-13',
      '2024-00-10',
      '2024-01-32',
      '2024-01-01T10:00:00',
      '2024-01-01T25:00:00Z',
      '2024-01-01T10:00Z',
      '24-01-01',
      ' 2024',
      7,
      null,
      undefined,
    ]) {
      expect(parseFhirDateTime(bad)).toBeNull();
    }
  });
});
