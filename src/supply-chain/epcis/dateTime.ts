/**
 * `xsd:dateTimeStamp` values as EPCIS 2.0 uses them (`eventTime`, `creationDate`, sensor times): a date and time with
 * a mandatory UTC offset, e.g. `2024-03-04T11:00:30.250+01:00` or `2024-03-04T10:00:30Z`, any number of fractional
 * second digits. Read strictly (real calendar dates, hours 0–23, offsets within ±14:00) so that what passes has one
 * meaning on every node.
 */

/** A parsed `xsd:dateTimeStamp` (frozen: the same text may give the same object). */
export interface DateTimeStamp {
  /** Milliseconds since the epoch (UTC), fractional digits beyond the third truncated. */
  readonly epochMs: number;
  /** The fractional second digits as written (`''` when none). */
  readonly fraction: string;
  /** The written offset in minutes east of UTC (`+01:00` → 60). */
  readonly offsetMinutes: number;
}

const DATE_TIME_STAMP =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,64}))?(Z|[+-]\d{2}:\d{2})$/;
const OFFSET = /^([+-])(\d{2}):(\d{2})$/;

/**
 * Texts read lately and what they gave: an event's time is read when its document is checked, again when it is
 * hashed and when it is stored. Emptied when full, so it holds at most a few documents' worth.
 */
const recent = new Map<string, DateTimeStamp | undefined>();
const RECENT_MAX = 4_096;

/** Reads an `xsd:dateTimeStamp` (years 0001–9999); undefined when `text` is not one. */
export function parseDateTimeStamp(text: string): DateTimeStamp | undefined {
  const known = recent.get(text);
  if (known !== undefined || recent.has(text)) return known;
  const stamp = readDateTimeStamp(text);
  if (recent.size >= RECENT_MAX) recent.clear();
  recent.set(text, stamp);
  return stamp;
}

function readDateTimeStamp(text: string): DateTimeStamp | undefined {
  const match = DATE_TIME_STAMP.exec(text);
  if (match === null) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const fraction = match[7] ?? '';
  const offsetMinutes = match[8] === 'Z' ? 0 : parseOffset(match[8] as string);
  if (offsetMinutes === undefined) return undefined;
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  const date = new Date(0);
  // setUTCFullYear, not Date.UTC: Date.UTC maps years 0–99 to 1900–1999.
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, Number(fraction.padEnd(3, '0').slice(0, 3)));
  return Object.freeze({ epochMs: date.getTime() - offsetMinutes * 60_000, fraction, offsetMinutes });
}

/** Reads a UTC offset `±hh:mm` (at most ±14:00) into minutes east of UTC; undefined when `text` is not one. */
export function parseOffset(text: string): number | undefined {
  const match = OFFSET.exec(text);
  if (match === null) return undefined;
  const hours = Number(match[2]);
  const minutes = Number(match[3]);
  if (minutes > 59 || hours > 14 || (hours === 14 && minutes > 0)) return undefined;
  const total = hours * 60 + minutes;
  return match[1] === '-' ? -total : total;
}

/**
 * A timestamp as the CBV 2.0 event hash writes it: UTC, `Z`, exactly three fractional digits (`…T10:00:30.000Z`).
 * More than three digits are rounded half-up on the fourth (`.1415` → `.142`, `.1414` → `.141`), as the CBV event
 * hash rules say. (The Python reference implementation rounds exact ties such as `.1425` to even; no published
 * vector depends on that.) A value that is not an `xsd:dateTimeStamp` is returned unchanged.
 */
export function toHashTimestamp(text: string): string {
  const parsed = parseDateTimeStamp(text);
  if (parsed === undefined) return text;
  const roundUp = parsed.fraction.length > 3 && parsed.fraction.charCodeAt(3) - 48 >= 5 ? 1 : 0;
  return new Date(parsed.epochMs + roundUp).toISOString();
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}
