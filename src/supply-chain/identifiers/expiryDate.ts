/**
 * GS1 AI (17) expiration dates: `YYMMDD`, where `DD = 00` means the day is not given and the date is the last day of
 * the month (GS1 General Specifications 3.4.5). The century of `YY` follows General Specifications 7.12: with `now`'s
 * year, if `YY` minus the current two-digit year is 51 to 99 the date is in the previous century, if it is −99 to −50
 * in the next century, otherwise in the current one (a window of 49 years back and 50 ahead).
 *
 * Note: GSCN 21-040 asks healthcare labels from 2025 on to give a real day rather than `00`; reading `00` stays valid.
 */
import { fail, Gs1ErrorCode, show } from './errors.js';

const YYMMDD = /^([0-9]{2})([0-9]{2})([0-9]{2})$/;

/** The four-digit year of a two-digit GS1 year, relative to `now` (General Specifications 7.12). */
export function gs1FullYear(twoDigitYear: number, now: Date = new Date()): number {
  const currentYear = now.getUTCFullYear();
  const currentTwoDigits = currentYear % 100;
  const century = currentYear - currentTwoDigits;
  const difference = twoDigitYear - currentTwoDigits;
  if (difference >= 51) return century - 100 + twoDigitYear;
  if (difference <= -50) return century + 100 + twoDigitYear;
  return century + twoDigitYear;
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

interface ParsedExpiry {
  year: number;
  month: number;
  day: number;
}

/** The parsed date, or the reason it is not one. */
function parseExpiry(yymmdd: unknown, now: Date): ParsedExpiry | string {
  if (typeof yymmdd !== 'string') return `an expiration date must be a YYMMDD string, not a ${typeof yymmdd}`;
  const match = YYMMDD.exec(yymmdd);
  if (match === null) return `the expiration date (AI 17) ${show(yymmdd)} must be 6 digits YYMMDD`;
  const year = gs1FullYear(Number(match[1]), now);
  const month = Number(match[2]);
  const day = Number(match[3]);
  if (month < 1 || month > 12)
    return `the expiration date (AI 17) ${yymmdd} has month ${match[2]}; it must be 01 to 12`;
  const lastDay = daysInMonth(year, month);
  if (day > lastDay) {
    return `the expiration date (AI 17) ${yymmdd} has day ${match[3]}, but ${year}-${match[2]} has ${lastDay} days (00 means the end of the month)`;
  }
  return { year, month, day: day === 0 ? lastDay : day };
}

/**
 * True when `yymmdd` is a valid AI (17) date: 6 digits, month 01–12, day 00 (end of month) up to the month's last day
 * (29 February only in a leap year, the century resolved relative to `now`). Never throws.
 */
export function isExpiryDate(yymmdd: string, now: Date = new Date()): boolean {
  return typeof parseExpiry(yymmdd, now) !== 'string';
}

/**
 * The end (23:59:59.999 UTC) of the day an AI (17) date names; `DD = 00` gives the last day of the month.
 * @param now - The reference for the century rule (default: the current time).
 * @throws Gs1IdentifierError GS1.MALFORMED when `yymmdd` is not a valid date.
 */
export function expiryToDate(yymmdd: string, now: Date = new Date()): Date {
  const parsed = parseExpiry(yymmdd, now);
  if (typeof parsed === 'string') fail(Gs1ErrorCode.MALFORMED, parsed, yymmdd, 'expiry');
  return new Date(Date.UTC(parsed.year, parsed.month - 1, parsed.day, 23, 59, 59, 999));
}

/** Throws GS1.MALFORMED (reporting `reported`) unless `yymmdd` is a valid AI (17) date. */
export function checkExpiry(yymmdd: string, reported: unknown, now: Date = new Date()): void {
  const parsed = parseExpiry(yymmdd, now);
  if (typeof parsed === 'string') fail(Gs1ErrorCode.MALFORMED, parsed, reported, 'expiry');
}
