/**
 * FHIR date values as inclusive millisecond ranges, and the R4 prefix rules for matching them.
 *
 * Every FHIR date, dateTime or instant stands for a range whose width is its precision: `2024` covers the whole
 * year, `2024-03` the month, `2024-03-05` the day, `2024-03-05T10:30Z` that minute, `2024-03-05T10:30:15Z` that
 * second and `…15.250Z` that millisecond (https://hl7.org/fhir/R4/search.html#date). A Period covers start..end
 * (each end at its own precision); a missing end is open (`MIN_DATE_MS` / `MAX_DATE_MS`).
 *
 * Time zones: a value with a time and an offset (`Z`, `+02:00`) is converted to UTC. Values without a time
 * (`2024-03-05`) and times without an offset are taken in UTC: UTC is this server's time zone for search, so the
 * same string always means the same range, whether it was stored or queried.
 */

/** Earliest and latest instants a JavaScript Date can hold; used for the open ends of a Period. */
export const MIN_DATE_MS = -8.64e15;
export const MAX_DATE_MS = 8.64e15;

export type DatePrecision = 'year' | 'month' | 'day' | 'minute' | 'second' | 'millisecond';

/** An inclusive range of milliseconds since the Unix epoch: `low <= t <= high`, always with `low <= high`. */
export interface DateRange {
  low: number;
  high: number;
}

export interface ParsedDate extends DateRange {
  precision: DatePrecision;
  /** False when the value has a time but no offset (then UTC was assumed) or has no time at all. */
  hasTimeZone: boolean;
}

// YYYY[-MM[-DD[Thh:mm[:ss[.f{1,9}]][Z|±hh:mm]]]]
const DATE_RE =
  /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

/** Milliseconds since the epoch of a UTC calendar time; months may overflow (13 = January of the next year). */
function utcMs(year: number, month: number, day: number, hour = 0, minute = 0, second = 0, ms = 0): number {
  const date = new Date(0);
  // setUTCFullYear, unlike Date.UTC, does not map years 0–99 to 1900–1999.
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, ms);
  return date.getTime();
}

function daysInMonth(year: number, month: number): number {
  return new Date(utcMs(year, month + 1, 1) - DAY_MS).getUTCDate();
}

/** Offset of `Z` / `±hh:mm` in minutes, or null when out of the FHIR range (-14:00..+14:00, minutes < 60). */
function offsetMinutes(zone: string): number | null {
  if (zone === 'Z') return 0;
  const hours = Number(zone.slice(1, 3));
  const minutes = Number(zone.slice(4, 6));
  if (minutes > 59 || hours > 14 || (hours === 14 && minutes > 0)) return null;
  return (zone.startsWith('-') ? -1 : 1) * (hours * 60 + minutes);
}

/**
 * Parses a FHIR date, dateTime or instant (also the minute precision search allows, `2024-03-05T10:30`) into the
 * range it covers. Returns null for anything else: wrong shape, year 0000, month 13, 30 February, hour 24, offset
 * beyond ±14:00. A leap second (`:60`) is read as the last second of that minute.
 */
export function parseFhirDate(value: string): ParsedDate | null {
  const m = DATE_RE.exec(value);
  if (!m) return null;
  const [, yearText, monthText, dayText, hourText, minuteText, secondText, fraction, zone] = m;
  const year = Number(yearText);
  if (year < 1) return null;
  if (monthText === undefined) {
    return { low: utcMs(year, 1, 1), high: utcMs(year + 1, 1, 1) - 1, precision: 'year', hasTimeZone: false };
  }
  const month = Number(monthText);
  if (month < 1 || month > 12) return null;
  if (dayText === undefined) {
    return {
      low: utcMs(year, month, 1),
      high: utcMs(year, month + 1, 1) - 1,
      precision: 'month',
      hasTimeZone: false,
    };
  }
  const day = Number(dayText);
  if (day < 1 || day > daysInMonth(year, month)) return null;
  if (hourText === undefined || minuteText === undefined) {
    const low = utcMs(year, month, day);
    return { low, high: low + DAY_MS - 1, precision: 'day', hasTimeZone: false };
  }
  const hour = Number(hourText);
  const minute = Number(minuteText);
  if (hour > 23 || minute > 59) return null;
  const offset = zone === undefined ? 0 : offsetMinutes(zone);
  if (offset === null) return null;
  const hasTimeZone = zone !== undefined;
  const localMinute = utcMs(year, month, day, hour, minute) - offset * MINUTE_MS;
  if (secondText === undefined) {
    return { low: localMinute, high: localMinute + MINUTE_MS - 1, precision: 'minute', hasTimeZone };
  }
  if (Number(secondText) > 60) return null;
  const second = Math.min(Number(secondText), 59);
  const secondStart = localMinute + second * 1000;
  if (fraction === undefined) {
    return { low: secondStart, high: secondStart + 999, precision: 'second', hasTimeZone };
  }
  // ".5" covers .500–.599, ".25" .250–.259, ".250" exactly .250; digits past the millisecond stay inside it.
  const low = secondStart + Number(fraction.padEnd(3, '0').slice(0, 3));
  const width = fraction.length >= 3 ? 1 : 10 ** (3 - fraction.length);
  return { low, high: low + width - 1, precision: 'millisecond', hasTimeZone };
}

/** The shape of a FHIR Period, read defensively (stored resources are not trusted to be valid). */
export interface PeriodLike {
  start?: unknown;
  end?: unknown;
}

/**
 * The range a Period covers: from the low end of `start` to the high end of `end`; a missing side is open.
 * Null when neither side is present or a present side is not a valid date. An inverted period (end wholly before
 * start) yields the hull of both values, so the record stays findable.
 */
export function periodRange(period: PeriodLike): DateRange | null {
  const hasStart = period.start !== undefined && period.start !== null;
  const hasEnd = period.end !== undefined && period.end !== null;
  if (!hasStart && !hasEnd) return null;
  const start = hasStart
    ? typeof period.start === 'string'
      ? parseFhirDate(period.start)
      : null
    : undefined;
  const end = hasEnd ? (typeof period.end === 'string' ? parseFhirDate(period.end) : null) : undefined;
  if (start === null || end === null) return null;
  if (start && end && start.low > end.high) {
    return { low: Math.min(start.low, end.low), high: Math.max(start.high, end.high) };
  }
  return { low: start ? start.low : MIN_DATE_MS, high: end ? end.high : MAX_DATE_MS };
}

/** The smallest range covering all the given ranges, or null when there are none. */
export function hullOf(ranges: readonly DateRange[]): DateRange | null {
  if (ranges.length === 0) return null;
  let low = Infinity;
  let high = -Infinity;
  for (const range of ranges) {
    low = Math.min(low, range.low);
    high = Math.max(high, range.high);
  }
  return { low, high };
}

/** The search prefixes supported for date parameters (`ap` is not: its width depends on the current time). */
export const DATE_PREFIXES = ['eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb'] as const;
export type DatePrefix = (typeof DATE_PREFIXES)[number];

/** One date criterion of a query: the stored value must match `prefix` against the query range `[low, high]`. */
export interface DateCondition {
  param: string;
  prefix: DatePrefix;
  low: number;
  high: number;
}

/** A comparison the SQL adapter emits as `<column> <op> ?` with `value` bound: e.g. `high > ?`. */
export interface DateComparison {
  column: 'low' | 'high';
  op: '<' | '<=' | '>' | '>=';
  value: number;
}

/**
 * The condition as SQL-ready comparisons on a stored row `(low, high)`: an OR of ANDs. A date row matches when
 * at least one inner list holds entirely; a resource matches when at least one of its rows for the parameter
 * matches. With Q = [L, H] the query range and S = [low, high] the stored range (both inclusive), the R4 rules
 * (https://hl7.org/fhir/R4/search.html#prefix) become:
 *
 * | prefix | R4 wording (ranges)                                                    | comparisons              |
 * | ------ | ---------------------------------------------------------------------- | ------------------------ |
 * | eq     | Q fully contains S                                                     | low >= L AND high <= H   |
 * | ne     | Q does not fully contain S                                             | low < L  OR  high > H    |
 * | gt     | the range above Q overlaps S                                           | high > H                 |
 * | lt     | the range below Q overlaps S                                           | low < L                  |
 * | ge     | the range above Q overlaps S, or Q fully contains S                    | high > H OR  low >= L    |
 * | le     | the range below Q overlaps S, or Q fully contains S                    | low < L  OR  high <= H   |
 * | sa     | Q does not overlap S, and the range above Q contains S (starts after)  | low > H                  |
 * | eb     | Q does not overlap S, and the range below Q contains S (ends before)   | high < L                 |
 *
 * `ge` is (high > H) OR (low >= L AND high <= H), which simplifies to high > H OR low >= L since the second
 * conjunct only matters when the first disjunct is false; `le` likewise. Note that `ge` is therefore NOT
 * "high >= L": a stored period that starts before L and ends inside Q is not "greater or equal" to Q.
 */
export function dateConditionClauses(
  condition: Pick<DateCondition, 'prefix' | 'low' | 'high'>,
): DateComparison[][] {
  const { low: L, high: H } = condition;
  switch (condition.prefix) {
    case 'eq':
      return [
        [
          { column: 'low', op: '>=', value: L },
          { column: 'high', op: '<=', value: H },
        ],
      ];
    case 'ne':
      return [[{ column: 'low', op: '<', value: L }], [{ column: 'high', op: '>', value: H }]];
    case 'gt':
      return [[{ column: 'high', op: '>', value: H }]];
    case 'lt':
      return [[{ column: 'low', op: '<', value: L }]];
    case 'ge':
      return [[{ column: 'high', op: '>', value: H }], [{ column: 'low', op: '>=', value: L }]];
    case 'le':
      return [[{ column: 'low', op: '<', value: L }], [{ column: 'high', op: '<=', value: H }]];
    case 'sa':
      return [[{ column: 'low', op: '>', value: H }]];
    case 'eb':
      return [[{ column: 'high', op: '<', value: L }]];
  }
}

function compare(left: number, op: DateComparison['op'], right: number): boolean {
  switch (op) {
    case '<':
      return left < right;
    case '<=':
      return left <= right;
    case '>':
      return left > right;
    case '>=':
      return left >= right;
  }
}

/** Whether a stored range matches the condition: exactly what the SQL from `dateConditionClauses` computes. */
export function dateConditionMatches(
  condition: Pick<DateCondition, 'prefix' | 'low' | 'high'>,
  stored: DateRange,
): boolean {
  return dateConditionClauses(condition).some((clause) =>
    clause.every((c) => compare(c.column === 'low' ? stored.low : stored.high, c.op, c.value)),
  );
}
