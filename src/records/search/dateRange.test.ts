import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DATE_PREFIXES,
  MAX_DATE_MS,
  MIN_DATE_MS,
  dateConditionClauses,
  dateConditionMatches,
  hullOf,
  parseFhirDate,
  periodRange,
  type DatePrefix,
  type DateRange,
} from './dateRange.js';

const t = (iso: string): number => {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new Error(`bad test date ${iso}`);
  return ms;
};

describe('parseFhirDate: every precision', () => {
  it.each([
    ['2024', 'year', '2024-01-01T00:00:00.000Z', '2024-12-31T23:59:59.999Z'],
    ['2024-02', 'month', '2024-02-01T00:00:00.000Z', '2024-02-29T23:59:59.999Z'], // leap year
    ['2023-02', 'month', '2023-02-01T00:00:00.000Z', '2023-02-28T23:59:59.999Z'],
    ['2024-12', 'month', '2024-12-01T00:00:00.000Z', '2024-12-31T23:59:59.999Z'], // month rolls into next year
    ['2024-03-05', 'day', '2024-03-05T00:00:00.000Z', '2024-03-05T23:59:59.999Z'],
    ['2024-02-29', 'day', '2024-02-29T00:00:00.000Z', '2024-02-29T23:59:59.999Z'],
    ['2024-03-05T10:30Z', 'minute', '2024-03-05T10:30:00.000Z', '2024-03-05T10:30:59.999Z'],
    ['2024-03-05T10:30:15Z', 'second', '2024-03-05T10:30:15.000Z', '2024-03-05T10:30:15.999Z'],
    ['2024-03-05T10:30:15.5Z', 'millisecond', '2024-03-05T10:30:15.500Z', '2024-03-05T10:30:15.599Z'],
    ['2024-03-05T10:30:15.25Z', 'millisecond', '2024-03-05T10:30:15.250Z', '2024-03-05T10:30:15.259Z'],
    ['2024-03-05T10:30:15.250Z', 'millisecond', '2024-03-05T10:30:15.250Z', '2024-03-05T10:30:15.250Z'],
    ['2024-03-05T10:30:15.123456789Z', 'millisecond', '2024-03-05T10:30:15.123Z', '2024-03-05T10:30:15.123Z'],
  ])('%s covers its %s', (value, precision, low, high) => {
    expect(parseFhirDate(value)).toEqual({
      low: t(low),
      high: t(high),
      precision,
      hasTimeZone: value.endsWith('Z'),
    });
  });

  it('reads years 0001-0099 literally (not as 1900-1999) and reaches 9999', () => {
    expect(parseFhirDate('0001')).toMatchObject({
      low: t('0001-01-01T00:00:00.000Z'),
      high: t('0001-12-31T23:59:59.999Z'),
    });
    expect(parseFhirDate('0099-06')).toMatchObject({ low: t('0099-06-01T00:00:00.000Z') });
    expect(parseFhirDate('9999')?.high).toBe(t('9999-12-31T23:59:59.999Z'));
  });

  it('reads a leap second as the last second of the minute', () => {
    expect(parseFhirDate('2016-12-31T23:59:60Z')).toMatchObject({
      low: t('2016-12-31T23:59:59.000Z'),
      high: t('2016-12-31T23:59:59.999Z'),
    });
  });
});

describe('parseFhirDate: time zones', () => {
  it.each([
    ['2024-03-05T10:30:15+02:00', '2024-03-05T08:30:15.000Z'],
    ['2024-03-05T10:30:15-05:00', '2024-03-05T15:30:15.000Z'],
    ['2024-03-05T23:30:00-05:00', '2024-03-06T04:30:00.000Z'], // crosses into the next UTC day
    ['2024-03-05T00:15:00+01:00', '2024-03-04T23:15:00.000Z'], // back into the previous UTC day
    ['2024-03-05T10:30:15+05:45', '2024-03-05T04:45:15.000Z'], // Nepal
    ['2024-03-05T10:30:15+14:00', '2024-03-04T20:30:15.000Z'], // Kiribati, the FHIR maximum
    ['2024-03-05T10:30:15-12:00', '2024-03-05T22:30:15.000Z'],
    ['2024-03-05T10:30:15+00:00', '2024-03-05T10:30:15.000Z'],
    ['2024-03-05T10:30:15-00:00', '2024-03-05T10:30:15.000Z'],
  ])('%s starts at %s', (value, low) => {
    const parsed = parseFhirDate(value);
    expect(parsed).toEqual({ low: t(low), high: t(low) + 999, precision: 'second', hasTimeZone: true });
  });

  it('converts minute precision with an offset', () => {
    expect(parseFhirDate('2024-03-05T10:30+02:00')).toMatchObject({
      low: t('2024-03-05T08:30:00.000Z'),
      high: t('2024-03-05T08:30:59.999Z'),
      precision: 'minute',
    });
  });

  it('takes times without an offset, and dates, in UTC (the server time zone)', () => {
    expect(parseFhirDate('2024-03-05T10:30:15')).toEqual({
      low: t('2024-03-05T10:30:15.000Z'),
      high: t('2024-03-05T10:30:15.999Z'),
      precision: 'second',
      hasTimeZone: false,
    });
    expect(parseFhirDate('2024-03-05')?.hasTimeZone).toBe(false);
  });
});

describe('parseFhirDate: rejects what is not a FHIR date', () => {
  it.each([
    '',
    '24',
    '0000',
    '2024-1',
    '2024-13',
    '2024-00',
    '2024-02-30',
    '2023-02-29',
    '2024-04-31',
    '2024-03-00',
    '2024-3-5',
    '2024-03-05T10',
    '2024-03-05T24:00:00Z',
    '2024-03-05T10:60Z',
    '2024-03-05T10:30:61Z',
    '2024-03-05Z',
    '2024-03-05T10:30:00+0200',
    '2024-03-05T10:30:00+14:30',
    '2024-03-05T10:30:00+15:00',
    '2024-03-05T10:30:00+02:60',
    '2024-03-05t10:30:00z',
    '2024-03-05T10:30:00.Z',
    '2024-03-05T10:30:00.1234567890Z',
    ' 2024-03-05',
    '2024-03-05 ',
    '2024-03-05T10:30:00 02:00',
    'ge2024',
    '20240305',
  ])('%j', (value) => {
    expect(parseFhirDate(value)).toBeNull();
  });
});

describe('periodRange', () => {
  it('covers start (low end) to end (high end), each at its own precision', () => {
    expect(periodRange({ start: '2024-03-01T09:00:00Z', end: '2024-03' })).toEqual({
      low: t('2024-03-01T09:00:00.000Z'),
      high: t('2024-03-31T23:59:59.999Z'),
    });
  });

  it('leaves a missing end open', () => {
    expect(periodRange({ start: '2024-03-01' })).toEqual({
      low: t('2024-03-01T00:00:00.000Z'),
      high: MAX_DATE_MS,
    });
    expect(periodRange({ end: '2024-03-01' })).toEqual({
      low: MIN_DATE_MS,
      high: t('2024-03-01T23:59:59.999Z'),
    });
    expect(MIN_DATE_MS).toBe(-8.64e15);
    expect(MAX_DATE_MS).toBe(8.64e15);
  });

  it('indexes an inverted period as the hull of both values', () => {
    expect(periodRange({ start: '2024-03-10', end: '2024-03-01' })).toEqual({
      low: t('2024-03-01T00:00:00.000Z'),
      high: t('2024-03-10T23:59:59.999Z'),
    });
  });

  it('is null when empty or when a present side is invalid', () => {
    expect(periodRange({})).toBeNull();
    expect(periodRange({ start: 'yesterday', end: '2024-03-01' })).toBeNull();
    expect(periodRange({ start: '2024-03-01', end: 42 })).toBeNull();
  });

  it('hullOf spans all ranges', () => {
    expect(hullOf([])).toBeNull();
    expect(
      hullOf([
        { low: 5, high: 9 },
        { low: 1, high: 2 },
        { low: 7, high: 12 },
      ]),
    ).toEqual({ low: 1, high: 12 });
  });
});

describe('date prefixes: R4 boundary cases against the query 2024-01 (all of January, UTC)', () => {
  const Q = parseFhirDate('2024-01')!;
  const L = Q.low;
  const H = Q.high;
  const day = (d: string): DateRange => {
    const p = parseFhirDate(d)!;
    return { low: p.low, high: p.high };
  };
  // prettier-ignore
  const cases: [string, DateRange, Record<DatePrefix, boolean>][] = [
    ['a day inside', day('2024-01-10'),
      { eq: true, ne: false, gt: false, lt: false, ge: true, le: true, sa: false, eb: false }],
    ['exactly the month', { low: L, high: H },
      { eq: true, ne: false, gt: false, lt: false, ge: true, le: true, sa: false, eb: false }],
    ['first millisecond', { low: L, high: L },
      { eq: true, ne: false, gt: false, lt: false, ge: true, le: true, sa: false, eb: false }],
    ['last millisecond', { low: H, high: H },
      { eq: true, ne: false, gt: false, lt: false, ge: true, le: true, sa: false, eb: false }],
    ['a day in December 2023', day('2023-12-20'),
      { eq: false, ne: true, gt: false, lt: true, ge: false, le: true, sa: false, eb: true }],
    ['the millisecond before', { low: L - 1, high: L - 1 },
      { eq: false, ne: true, gt: false, lt: true, ge: false, le: true, sa: false, eb: true }],
    ['ending on the first millisecond', { low: L - 1000, high: L },
      { eq: false, ne: true, gt: false, lt: true, ge: false, le: true, sa: false, eb: false }],
    ['straddling the start (Dec 15 - Jan 15)', { low: day('2023-12-15').low, high: day('2024-01-15').high },
      { eq: false, ne: true, gt: false, lt: true, ge: false, le: true, sa: false, eb: false }],
    ['straddling the end (Jan 15 - Feb 15)', { low: day('2024-01-15').low, high: day('2024-02-15').high },
      { eq: false, ne: true, gt: true, lt: false, ge: true, le: false, sa: false, eb: false }],
    ['starting on the last millisecond', { low: H, high: H + 1000 },
      { eq: false, ne: true, gt: true, lt: false, ge: true, le: false, sa: false, eb: false }],
    ['the millisecond after', { low: H + 1, high: H + 1 },
      { eq: false, ne: true, gt: true, lt: false, ge: true, le: false, sa: true, eb: false }],
    ['a day in February', day('2024-02-02'),
      { eq: false, ne: true, gt: true, lt: false, ge: true, le: false, sa: true, eb: false }],
    ['covering the month (Dec - Feb)', { low: day('2023-12-01').low, high: day('2024-02-28').high },
      { eq: false, ne: true, gt: true, lt: true, ge: true, le: true, sa: false, eb: false }],
    ['open period started in 2023', { low: day('2023-06-01').low, high: MAX_DATE_MS },
      { eq: false, ne: true, gt: true, lt: true, ge: true, le: true, sa: false, eb: false }],
    ['open period started in February', { low: day('2024-02-01').low, high: MAX_DATE_MS },
      { eq: false, ne: true, gt: true, lt: false, ge: true, le: false, sa: true, eb: false }],
    ['open period ending in December', { low: MIN_DATE_MS, high: day('2023-12-31').high },
      { eq: false, ne: true, gt: false, lt: true, ge: false, le: true, sa: false, eb: true }],
  ];

  for (const [label, stored, expected] of cases) {
    for (const prefix of DATE_PREFIXES) {
      it(`${prefix} ${label}: ${expected[prefix]}`, () => {
        expect(dateConditionMatches({ prefix, low: L, high: H }, stored)).toBe(expected[prefix]);
      });
    }
  }
});

describe('dateConditionClauses: the comparisons the SQL adapter emits', () => {
  it.each([
    ['eq', [['low >= 10', 'high <= 20']]],
    ['ne', [['low < 10'], ['high > 20']]],
    ['gt', [['high > 20']]],
    ['lt', [['low < 10']]],
    ['ge', [['high > 20'], ['low >= 10']]],
    ['le', [['low < 10'], ['high <= 20']]],
    ['sa', [['low > 20']]],
    ['eb', [['high < 10']]],
  ] as const)('%s', (prefix, expected) => {
    const clauses = dateConditionClauses({ prefix, low: 10, high: 20 });
    expect(clauses.map((all) => all.map((c) => `${c.column} ${c.op} ${c.value}`))).toEqual(expected);
  });
});

/** The R4 table (https://hl7.org/fhir/R4/search.html#prefix) for ranges, word for word, on integer sets. */
function r4Matches(prefix: DatePrefix, q: DateRange, s: DateRange): boolean {
  const INF = 1e9;
  const above: DateRange = { low: q.high + 1, high: INF };
  const below: DateRange = { low: -INF, high: q.low - 1 };
  const overlaps = (a: DateRange, b: DateRange) => a.low <= b.high && b.low <= a.high;
  const contains = (outer: DateRange, inner: DateRange) => outer.low <= inner.low && inner.high <= outer.high;
  switch (prefix) {
    case 'eq':
      return contains(q, s);
    case 'ne':
      return !contains(q, s);
    case 'gt':
      return overlaps(above, s);
    case 'lt':
      return overlaps(below, s);
    case 'ge':
      return overlaps(above, s) || contains(q, s);
    case 'le':
      return overlaps(below, s) || contains(q, s);
    case 'sa':
      return !overlaps(q, s) && contains(above, s);
    case 'eb':
      return !overlaps(q, s) && contains(below, s);
  }
}

describe('dateConditionMatches agrees with the R4 wording for every range', () => {
  const range = fc
    .tuple(fc.integer({ min: -40, max: 40 }), fc.integer({ min: 0, max: 30 }))
    .map(([low, width]) => ({ low, high: low + width }));
  it('property', () => {
    fc.assert(
      fc.property(fc.constantFrom(...DATE_PREFIXES), range, range, (prefix, q, s) => {
        expect(dateConditionMatches({ prefix, ...q }, s)).toBe(r4Matches(prefix, q, s));
      }),
      { numRuns: 5000 },
    );
  });
});
