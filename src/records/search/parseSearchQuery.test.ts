import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../core/errors.js';
import { captureError } from '../../testing/fixtures.js';
import { DATE_PREFIXES, parseFhirDate } from './dateRange.js';
import { DEFAULT_COUNT, MAX_COUNT, parseSearchQuery, type SearchQueryInput } from './parseSearchQuery.js';

const KEY = Buffer.alloc(32, 0x33);
const hasher = (v: string): Uint8Array =>
  new Uint8Array(createHmac('sha256', KEY).update(v).digest().subarray(0, 16));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const utf8 = (b: Uint8Array) => Buffer.from(b).toString('utf8');
const H = (v: string) => hex(hasher(v));

/** The code systems the store would know, by index parameter. */
const CODE_SYSTEMS: Record<string, string[]> = {
  code: ['http://loinc.org', 'http://snomed.info/sct'],
  'vaccine-code': ['http://hl7.org/fhir/sid/cvx'],
};
const parse = (type: string, query: SearchQueryInput, lenient = false) =>
  parseSearchQuery(type, query, hasher, { lenient, codeSystems: (param) => CODE_SYSTEMS[param] ?? [] });
const anySystem = (escapedCode: string, systems: string[]) => [
  `|${escapedCode}`,
  ...systems.map((s) => `${s}|${escapedCode}`),
];
/** Token conditions as readable strings: clear tokens as text, hashed ones as hex. */
const conditions = (type: string, query: SearchQueryInput, clear = true) =>
  parse(type, query).tokenConditions.map((c) => ({
    param: c.param,
    anyOf: c.anyOf.map((t) => (clear ? utf8(t) : hex(t))),
  }));
const range = (v: string) => {
  const p = parseFhirDate(v)!;
  return { low: p.low, high: p.high };
};
const errorOf = (type: string, query: SearchQueryInput, lenient = false) =>
  captureError(() => parse(type, query, lenient));

describe('defaults', () => {
  it('an empty query selects everything, 20 per page, oldest first', () => {
    expect(parse('Observation', {})).toEqual({
      resourceType: 'Observation',
      lastUpdated: [],
      tokenConditions: [],
      dateConditions: [],
      count: DEFAULT_COUNT,
      offset: 0,
      sort: '_lastUpdated',
      ignored: [],
    });
    expect(DEFAULT_COUNT).toBe(20);
    expect(MAX_COUNT).toBe(1000);
  });
});

describe('patient / subject', () => {
  it.each([
    [{ patient: '123' }],
    [{ patient: 'Patient/123' }],
    [{ subject: 'Patient/123' }],
    [{ subject: '123' }],
    [{ 'patient:Patient': '123' }],
    [{ 'subject:Patient': 'Patient/123' }],
  ])('%j → Patient/123 in clear', (query) => {
    expect(conditions('Observation', query)).toEqual([{ param: 'patient', anyOf: ['Patient/123'] }]);
  });

  it('rejects references to other types and malformed ids', () => {
    for (const value of [
      'Group/1',
      'https://other.example.org/fhir/Patient/1',
      'Patient/',
      'a b',
      'Patient/1/_history/2',
    ]) {
      const error = errorOf('Observation', { subject: value });
      expect(error.code, value).toBe('SEARCH.INVALID_VALUE');
      expect(error.message).toContain('Patient id or Patient/<id>');
    }
  });

  it('AllergyIntolerance and Immunization have patient but no subject', () => {
    expect(conditions('Immunization', { patient: 'p1' })).toEqual([
      { param: 'patient', anyOf: ['Patient/p1'] },
    ]);
    expect(errorOf('AllergyIntolerance', { subject: 'p1' }).code).toBe('SEARCH.UNKNOWN_PARAMETER');
    expect(errorOf('Patient', { patient: 'p1' }).code).toBe('SEARCH.UNKNOWN_PARAMETER');
  });
});

describe('code (clear tokens)', () => {
  it.each([
    ['http://loinc.org|8867-4', ['http://loinc.org|8867-4']],
    ['|8867-4', ['|8867-4']],
    ['http://loinc.org|', ['http://loinc.org|']],
    ['sys|a\\|b', ['sys|a\\|b']], // escaped bar inside the code
    ['sys\\|x|c', ['sys\\|x|c']], // escaped bar inside the system
  ])('code=%s looks up %s', (value, canonical) => {
    expect(conditions('Observation', { code: value })).toEqual([{ param: 'code', anyOf: canonical }]);
  });

  it.each([
    ['8867-4', '8867-4'],
    ['a\\,b', 'a\\,b'], // escaped comma: one code "a,b"
    ['a\\$b', 'a\\$b'],
  ])('code=%s (any system) looks up |code and system|code for each known system', (value, escaped) => {
    expect(conditions('Observation', { code: value })).toEqual([
      { param: 'code', anyOf: anySystem(escaped, CODE_SYSTEMS.code!) },
    ]);
  });

  it('a code in any system of a parameter with no known system looks up |code only', () => {
    expect(conditions('DocumentReference', { type: '34117-2' })).toEqual([
      { param: 'type', anyOf: ['|34117-2'] },
    ]);
  });

  it('identifiers (hashed) keep one lookup for a value in any system', () => {
    expect(conditions('Patient', { identifier: 'MRN-1' }, false)).toEqual([
      { param: 'identifier', anyOf: [H('identifier:MRN-1')] },
    ]);
  });

  it('comma = OR within one condition; repeated parameter = AND (two conditions)', () => {
    expect(conditions('Observation', { code: 'http://loinc.org|8867-4,http://loinc.org|8480-6' })).toEqual([
      { param: 'code', anyOf: ['http://loinc.org|8867-4', 'http://loinc.org|8480-6'] },
    ]);
    expect(conditions('Condition', { code: ['http://snomed.info/sct|', '44054006'] })).toEqual([
      { param: 'code', anyOf: ['http://snomed.info/sct|'] },
      { param: 'code', anyOf: anySystem('44054006', CODE_SYSTEMS.code!) },
    ]);
  });

  it('deduplicates alternatives', () => {
    expect(conditions('Observation', { code: '1,1,http://loinc.org|1' })).toEqual([
      { param: 'code', anyOf: anySystem('1', CODE_SYSTEMS.code!) },
    ]);
  });

  it('aliases look up the standard index param', () => {
    expect(conditions('Immunization', { code: 'http://hl7.org/fhir/sid/cvx|140' })).toEqual([
      { param: 'vaccine-code', anyOf: ['http://hl7.org/fhir/sid/cvx|140'] },
    ]);
    expect(conditions('Immunization', { 'vaccine-code': '140' })).toEqual([
      { param: 'vaccine-code', anyOf: anySystem('140', CODE_SYSTEMS['vaccine-code']!) },
    ]);
    expect(conditions('Encounter', { code: '185349003' })).toEqual([
      { param: 'type', anyOf: ['|185349003'] },
    ]);
    expect(conditions('DocumentReference', { type: 'http://loinc.org|34117-2' })).toEqual([
      { param: 'type', anyOf: ['http://loinc.org|34117-2'] },
    ]);
  });

  it('rejects "|" alone and empty alternatives', () => {
    expect(errorOf('Observation', { code: '|' }).code).toBe('SEARCH.INVALID_VALUE');
    expect(errorOf('Observation', { code: 'a,,b' }).code).toBe('SEARCH.INVALID_VALUE');
    expect(errorOf('Observation', { code: 'a,' }).code).toBe('SEARCH.INVALID_VALUE');
  });

  it.each(['text', 'not', 'above', 'below', 'in', 'not-in', 'of-type', 'missing'])(
    'rejects the token modifier :%s',
    (modifier) => {
      const error = errorOf('Observation', { [`code:${modifier}`]: 'x' });
      expect(error.code).toBe('SEARCH.UNKNOWN_PARAMETER');
      expect(error.message).toBe(
        `Search parameter "code" of Observation does not support the modifier ":${modifier}"; it takes no modifier.`,
      );
      expect(error.issueType).toBe('not-supported');
    },
  );
});

describe('identifier (hashed tokens)', () => {
  it('hashes identifier:<canonical> for each token form', () => {
    const mrn = 'http://hospital.example.org/mrn';
    expect(
      conditions('Patient', { identifier: `${mrn}|MRN-0042317,|MRN-0042317,MRN-0042317,${mrn}|` }, false),
    ).toEqual([
      {
        param: 'identifier',
        anyOf: [
          H(`identifier:${mrn}|MRN-0042317`),
          H('identifier:|MRN-0042317'),
          H('identifier:MRN-0042317'),
          H(`identifier:${mrn}|`),
        ],
      },
    ]);
  });

  it('never puts the clear value in the query tokens', () => {
    const query = parse('Patient', { identifier: 'http://hl7.org/fhir/sid/us-ssn|999-45-6789' });
    for (const token of query.tokenConditions.flatMap((c) => c.anyOf)) {
      expect(Buffer.from(token).includes(Buffer.from('999-45-6789'))).toBe(false);
      expect(token).toHaveLength(16);
    }
  });
});

describe('name, family, given (hashed prefixes)', () => {
  it.each([
    ['name', 'Smi', 'name:smi'],
    ['name', 'mul', 'name:mul'],
    ['name', 'MÜL', 'name:mul'],
    ['name', "O'Bri", 'name:obri'],
    ['family', 'Mül', 'family:mul'],
    ['given', 'JÜR', 'given:jur'],
    ['name:exact', 'Müller', 'name:=Müller'],
    ['family:exact', 'Mu\u0308ller', 'family:=Müller'],
  ])('%s=%s → tokenHasher(%j)', (key, value, hashedInput) => {
    expect(conditions('Patient', { [key]: value }, false)).toEqual([
      { param: key.split(':')[0], anyOf: [H(hashedInput)] },
    ]);
  });

  it('comma = OR of names', () => {
    expect(conditions('Patient', { name: 'smi,mül' }, false)).toEqual([
      { param: 'name', anyOf: [H('name:smi'), H('name:mul')] },
    ]);
  });

  it('truncates queries longer than 32 characters', () => {
    const long = 'Wolfeschlegelsteinhausenbergerdorffvoralternwaren';
    expect(conditions('Patient', { name: long }, false)).toEqual([
      { param: 'name', anyOf: [H(`name:${long.toLowerCase().slice(0, 32)}`)] },
    ]);
  });

  it('rejects values without letters or digits, and :contains / :missing', () => {
    const error = errorOf('Patient', { name: "-'" });
    expect(error.code).toBe('SEARCH.INVALID_VALUE');
    expect(error.message).toContain('no letters or digits');
    const contains = errorOf('Patient', { 'name:contains': 'ull' });
    expect(contains.code).toBe('SEARCH.UNKNOWN_PARAMETER');
    expect(contains.message).toBe(
      'Search parameter "name" of Patient does not support the modifier ":contains"; supported: :exact.',
    );
    expect(errorOf('Patient', { 'family:missing': 'true' }).code).toBe('SEARCH.UNKNOWN_PARAMETER');
  });

  it('name is only a Patient parameter here', () => {
    expect(errorOf('Practitioner', { name: 'x' }).code).toBe('SEARCH.UNKNOWN_PARAMETER');
  });
});

describe('dates', () => {
  it('date=ge2024-01-01&date=lt2024-02-01: two AND-ed conditions', () => {
    expect(parse('Observation', { date: ['ge2024-01-01', 'lt2024-02-01'] }).dateConditions).toEqual([
      { param: 'date', prefix: 'ge', ...range('2024-01-01') },
      { param: 'date', prefix: 'lt', ...range('2024-02-01') },
    ]);
  });

  it('no prefix means eq', () => {
    expect(parse('Patient', { birthdate: '1968-04-12' }).dateConditions).toEqual([
      { param: 'birthdate', prefix: 'eq', ...range('1968-04-12') },
    ]);
  });

  it.each(DATE_PREFIXES)('accepts the prefix %s', (prefix) => {
    expect(parse('Encounter', { date: `${prefix}2024-03` }).dateConditions).toEqual([
      { param: 'date', prefix, ...range('2024-03') },
    ]);
  });

  it.each([
    ['2024', '2024'],
    ['2024-03', '2024-03'],
    ['2024-03-05', '2024-03-05'],
    ['2024-03-05T10:30', '2024-03-05T10:30Z'],
    ['2024-03-05T10:30:15Z', '2024-03-05T10:30:15Z'],
    ['2024-03-05T10:30:15.120+02:00', '2024-03-05T08:30:15.120Z'],
    ['2024-03-05T10:30:15 02:00', '2024-03-05T08:30:15Z'], // '+' decoded as space
    ['2024-03-05T10:30:15-05:00', '2024-03-05T15:30:15Z'],
  ])('reads %s at its precision', (value, same) => {
    expect(parse('Observation', { date: `gt${value}` }).dateConditions[0]).toEqual({
      param: 'date',
      prefix: 'gt',
      ...range(same),
    });
  });

  it('maps aliases to their index param', () => {
    expect(parse('MedicationRequest', { date: '2015' }).dateConditions[0]?.param).toBe('authoredon');
    expect(parse('MedicationRequest', { authoredon: '2015' }).dateConditions[0]?.param).toBe('authoredon');
    expect(parse('Condition', { 'onset-date': '2015' }).dateConditions[0]?.param).toBe('onset-date');
  });

  it('rejects ap with a hint, unknown prefixes and malformed dates', () => {
    const ap = errorOf('Observation', { date: 'ap2024-01-01' });
    expect(ap.code).toBe('SEARCH.INVALID_VALUE');
    expect(ap.message).toContain('the prefix "ap" is not supported');
    expect(ap.details).toMatchObject({ parameter: 'date', value: 'ap2024-01-01' });
    const unknownPrefix = errorOf('Observation', { date: 'xx2024-01-01' });
    expect(unknownPrefix.code).toBe('SEARCH.INVALID_VALUE');
    expect(unknownPrefix.message).toContain('unknown prefix "xx"');
    for (const bad of [
      '2024-13',
      '2024-02-30',
      'GE2024',
      'ge',
      'gt2024-03-05T25:00Z',
      'yesterday',
      '05/03/2024',
      '2024-03-05T10',
    ]) {
      const error = errorOf('Observation', { date: bad });
      expect(error.code, bad).toBe('SEARCH.INVALID_VALUE');
      expect(error.message).toContain('e.g. ge2024-01-01');
    }
  });

  it('rejects comma-separated dates (repeat the parameter instead)', () => {
    const error = errorOf('Observation', { date: '2024-01,2024-03' });
    expect(error.code).toBe('SEARCH.INVALID_VALUE');
    expect(error.message).toContain('repeat the parameter');
  });

  it('rejects date modifiers', () => {
    expect(errorOf('Observation', { 'date:missing': 'true' }).code).toBe('SEARCH.UNKNOWN_PARAMETER');
  });
});

describe('_id and _lastUpdated', () => {
  it('_id: comma = any of; repeats intersect', () => {
    expect(parse('Patient', { _id: 'a,b' }).ids).toEqual(['a', 'b']);
    expect(parse('Patient', { _id: ['a,b', 'b,c'] }).ids).toEqual(['b']);
    expect(parse('Patient', { _id: ['a', 'c'] }).ids).toEqual([]);
    expect(parse('Patient', {}).ids).toBeUndefined();
  });

  it('_id: rejects invalid ids', () => {
    const error = errorOf('Patient', { _id: 'ok,not ok' });
    expect(error.code).toBe('SEARCH.INVALID_VALUE');
    expect(error.details).toMatchObject({ parameter: '_id', value: 'not ok' });
  });

  it('_lastUpdated: date conditions kept apart from index conditions', () => {
    const q = parse('Observation', { _lastUpdated: ['gt2024-01-01T00:00:00Z', 'le2024-06'] });
    expect(q.lastUpdated).toEqual([
      { param: '_lastUpdated', prefix: 'gt', ...range('2024-01-01T00:00:00Z') },
      { param: '_lastUpdated', prefix: 'le', ...range('2024-06') },
    ]);
    expect(q.dateConditions).toEqual([]);
    expect(errorOf('Observation', { _lastUpdated: 'soon' }).code).toBe('SEARCH.INVALID_VALUE');
  });

  it('rejects modifiers on _id', () => {
    expect(errorOf('Patient', { '_id:not': 'a' }).code).toBe('SEARCH.UNKNOWN_PARAMETER');
  });
});

describe('_count, _offset, _sort', () => {
  it.each([
    ['0', 0],
    ['1', 1],
    ['50', 50],
    ['1000', 1000],
  ])('_count=%s', (value, count) => {
    expect(parse('Observation', { _count: value }).count).toBe(count);
  });

  it.each(['1001', '-1', '1.5', 'ten', '1e3', ' 5', '99999999999999999999'])(
    '_count=%j is rejected',
    (value) => {
      const error = errorOf('Observation', { _count: value });
      expect(error.code).toBe('SEARCH.INVALID_VALUE');
      expect(error.message).toBe(`"_count" must be a whole number from 0 to 1000, not "${value}".`);
      expect(error).toBeInstanceOf(InvalidInputError);
      expect(error.status).toBe(400);
    },
  );

  it('_count may be given once', () => {
    expect(errorOf('Observation', { _count: ['10', '20'] }).message).toBe('"_count" may be given only once.');
  });

  it('lenient mode clamps _count above the maximum and says so', () => {
    const q = parse('Observation', { _count: '5000' }, true);
    expect(q.count).toBe(MAX_COUNT);
    expect(q.ignored).toEqual(['_count']);
    expect(errorOf('Observation', { _count: '-5' }, true).code).toBe('SEARCH.INVALID_VALUE');
  });

  it('_offset', () => {
    expect(parse('Observation', { _offset: '40' }).offset).toBe(40);
    expect(errorOf('Observation', { _offset: '-1' }).code).toBe('SEARCH.INVALID_VALUE');
  });

  it('_sort', () => {
    for (const sort of ['_lastUpdated', '-_lastUpdated', '_id', '-_id'] as const) {
      expect(parse('Observation', { _sort: sort }).sort).toBe(sort);
    }
    const error = errorOf('Observation', { _sort: 'date' });
    expect(error.code).toBe('SEARCH.INVALID_VALUE');
    expect(error.message).toBe('"_sort" must be one of _lastUpdated, -_lastUpdated, _id, -_id, not "date".');
    expect(errorOf('Observation', { _sort: '_id,-_lastUpdated' }).code).toBe('SEARCH.INVALID_VALUE');
  });
});

describe('unknown parameters, strict and lenient', () => {
  it('strict: SEARCH.UNKNOWN_PARAMETER naming the parameter and what is supported', () => {
    const error = errorOf('Observation', { 'value-quantity': 'gt5' });
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.code).toBe('SEARCH.UNKNOWN_PARAMETER');
    expect(error.status).toBe(400);
    expect(error.issueType).toBe('not-supported');
    expect(error.message).toBe(
      'Unknown search parameter "value-quantity" for Observation. Supported: _id, _lastUpdated, patient, subject, identifier, code, date, _count, _offset, _sort.',
    );
    expect(error.details).toMatchObject({ parameter: 'value-quantity', resourceType: 'Observation' });
  });

  it.each([
    '_include',
    '_summary',
    'patient.name',
    '_has:Observation:patient:code',
    '__proto__',
    'constructor',
    'Code',
  ])('strict rejects %s', (key) => {
    expect(errorOf('Observation', { [key]: 'x' }).code).toBe('SEARCH.UNKNOWN_PARAMETER');
  });

  it('lenient: skips unknown parameters and unsupported modifiers, lists them, applies the rest', () => {
    const q = parse(
      'Observation',
      { foo: 'bar', 'code:text': 'heart', code: '8867-4', _summary: 'count' },
      true,
    );
    expect(q.ignored).toEqual(['foo', 'code:text', '_summary']);
    expect(q.tokenConditions.map((c) => ({ param: c.param, anyOf: c.anyOf.map(utf8) }))).toEqual([
      { param: 'code', anyOf: anySystem('8867-4', CODE_SYSTEMS.code!) },
    ]);
  });

  it('lenient still rejects invalid values (ignoring them would widen the result)', () => {
    expect(errorOf('Observation', { patient: '' }, true).code).toBe('SEARCH.INVALID_VALUE');
    expect(errorOf('Observation', { date: 'garbage' }, true).code).toBe('SEARCH.INVALID_VALUE');
    expect(errorOf('Observation', { patient: 'Group/1' }, true).code).toBe('SEARCH.INVALID_VALUE');
  });

  it('empty values are rejected', () => {
    const error = errorOf('Observation', { patient: '' });
    expect(error.code).toBe('SEARCH.INVALID_VALUE');
    expect(error.message).toBe('Search parameter "patient" has an empty value.');
  });

  it('ignores undefined entries', () => {
    expect(parse('Observation', { code: undefined }).tokenConditions).toEqual([]);
  });

  it('rejects a resource type that is not searchable', () => {
    const error = errorOf('Bundle', {});
    expect(error.code).toBe('SEARCH.UNSUPPORTED_RESOURCE_TYPE');
    expect(error.message).toContain('Searchable types: Patient, Practitioner');
  });
});
