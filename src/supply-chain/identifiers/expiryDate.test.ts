import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Gs1ErrorCode } from './errors.js';
import { expiryToDate, gs1FullYear, isExpiryDate } from './expiryDate.js';
import { catchGs1Error, digits } from './testSupport.js';

const IN_2025 = new Date('2025-06-15T12:00:00Z');

describe('gs1FullYear: the century rule of GS1 General Specifications 7.12', () => {
  it.each([
    // now 2025 (two digits 25): YY - 25 in 51..99 → previous century, in -99..-50 → next century.
    [25, 2025],
    [0, 2000],
    [75, 2075], // difference 50: still this century
    [76, 1976], // difference 51: previous century
    [99, 1999],
  ])('in 2025, YY %i is %i', (twoDigits, year) => {
    expect(gs1FullYear(twoDigits, IN_2025)).toBe(year);
  });

  it.each([
    [new Date('2080-01-01T00:00:00Z'), 30, 2130], // difference -50: next century
    [new Date('2080-01-01T00:00:00Z'), 31, 2031], // difference -49: this century
    [new Date('2099-12-31T23:59:59Z'), 0, 2100], // difference -99: next century
    [new Date('2001-01-01T00:00:00Z'), 52, 1952], // difference 51: previous century
    [new Date('2001-01-01T00:00:00Z'), 51, 2051], // difference 50: this century
  ])('at %s, YY %i is %i', (now, twoDigits, year) => {
    expect(gs1FullYear(twoDigits, now)).toBe(year);
  });

  it('always lands within 49 years before and 50 years after now', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1900, max: 2500 }),
        fc.integer({ min: 0, max: 99 }),
        (year, twoDigits) => {
          const now = new Date(Date.UTC(year, 5, 1));
          const full = gs1FullYear(twoDigits, now);
          expect(full % 100).toBe(twoDigits);
          expect(full).toBeGreaterThanOrEqual(year - 49);
          expect(full).toBeLessThanOrEqual(year + 50);
        },
      ),
    );
  });
});

describe('isExpiryDate', () => {
  it.each(['261231', '250200', '240229', '000229', '991231', '260100', '260131'])('accepts %s', (yymmdd) => {
    expect(isExpiryDate(yymmdd, IN_2025)).toBe(true);
  });

  it.each([
    '',
    '2612',
    '2612310',
    '26123a',
    '261301',
    '260001',
    '250229',
    '260431',
    '261232',
    ' 61231',
    '２６１２３１',
  ])('rejects %j', (yymmdd) => {
    expect(isExpiryDate(yymmdd, IN_2025)).toBe(false);
  });

  it('decides 29 February by the century the rule gives: 00 is 2000 (leap) in 2025, 2100 (not leap) in 2080', () => {
    expect(isExpiryDate('000229', IN_2025)).toBe(true);
    expect(isExpiryDate('000229', new Date('2080-01-01T00:00:00Z'))).toBe(false);
  });

  it('never throws', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (text) => typeof isExpiryDate(text) === 'boolean'));
    expect(isExpiryDate(null as unknown as string)).toBe(false);
  });
});

describe('expiryToDate', () => {
  it('is the end of that day, UTC', () => {
    expect(expiryToDate('261231', IN_2025).toISOString()).toBe('2026-12-31T23:59:59.999Z');
    expect(expiryToDate('260101', IN_2025).toISOString()).toBe('2026-01-01T23:59:59.999Z');
  });

  it('reads DD = 00 as the last day of the month, leap years included', () => {
    expect(expiryToDate('250200', IN_2025).toISOString()).toBe('2025-02-28T23:59:59.999Z');
    expect(expiryToDate('240200', IN_2025).toISOString()).toBe('2024-02-29T23:59:59.999Z');
    expect(expiryToDate('260400', IN_2025).toISOString()).toBe('2026-04-30T23:59:59.999Z');
    expect(expiryToDate('261200', IN_2025).toISOString()).toBe('2026-12-31T23:59:59.999Z');
  });

  it('applies the century rule', () => {
    expect(expiryToDate('990101', IN_2025).getUTCFullYear()).toBe(1999);
    expect(expiryToDate('750101', IN_2025).getUTCFullYear()).toBe(2075);
  });

  it('uses the current time by default', () => {
    const thisYear = new Date().getUTCFullYear();
    const yy = String(thisYear % 100).padStart(2, '0');
    expect(expiryToDate(`${yy}0615`).getUTCFullYear()).toBe(thisYear);
  });

  it.each([
    ['2612', /must be 6 digits YYMMDD/],
    ['261301', /month 13; it must be 01 to 12/],
    ['250229', /has day 29, but 2025-02 has 28 days/],
  ])('rejects %s with GS1.MALFORMED', (yymmdd, message) => {
    const error = catchGs1Error(() => expiryToDate(yymmdd, IN_2025));
    expect(error.code).toBe(Gs1ErrorCode.MALFORMED);
    expect(error.details).toEqual({ value: yymmdd, field: 'expiry' });
    expect(error.message).toMatch(message);
  });

  it('agrees with isExpiryDate on every 6-digit string', () => {
    fc.assert(
      fc.property(digits(6), (yymmdd) => {
        if (isExpiryDate(yymmdd, IN_2025)) {
          const date = expiryToDate(yymmdd, IN_2025);
          expect(date.getUTCHours()).toBe(23);
          expect(String(date.getUTCFullYear() % 100).padStart(2, '0')).toBe(yymmdd.slice(0, 2));
          expect(String(date.getUTCMonth() + 1).padStart(2, '0')).toBe(yymmdd.slice(2, 4));
        } else {
          expect(catchGs1Error(() => expiryToDate(yymmdd, IN_2025)).code).toBe(Gs1ErrorCode.MALFORMED);
        }
      }),
    );
  });
});
