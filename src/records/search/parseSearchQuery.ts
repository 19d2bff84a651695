/**
 * Parses a FHIR search query string (already URL-decoded, as `{ name: value | value[] }`) into index lookups.
 *
 * Semantics (https://hl7.org/fhir/R4/search.html): a comma inside one value means OR (`code=a,b`), a repeated
 * parameter means AND (`date=ge2024-01-01&date=lt2024-02-01`). `\,` `\|` `\$` `\\` escape those characters.
 * Strict by default: an unknown parameter or unsupported modifier is an error; with `{ lenient: true }` (the
 * `Prefer: handling=lenient` header) such parameters are skipped and listed in `ignored`. Invalid values are an
 * error in both modes: silently dropping `patient=` would widen the result instead of narrowing it.
 */
import { InvalidInputError } from '../../core/errors.js';
import { DATE_PREFIXES, parseFhirDate, type DateCondition, type DatePrefix } from './dateRange.js';
import {
  isSearchableResourceType,
  SEARCHABLE_RESOURCE_TYPES,
  supportedSearchParameters,
  type IndexedSearchParameter,
  type SearchableResourceType,
} from './searchParameters.js';
import {
  anySystemTokenStrings,
  clearToken,
  exactNameString,
  FHIR_ID_RE,
  hashedToken,
  nameQueryString,
  patientReferenceToken,
  queryTokenString,
  type TokenHasher,
} from './tokenScheme.js';

export const DEFAULT_COUNT = 20;
export const MAX_COUNT = 1000;

export const SEARCH_SORTS = ['_lastUpdated', '-_lastUpdated', '_id', '-_id'] as const;
export type SearchSort = (typeof SEARCH_SORTS)[number];

/** Resources match when they have a token row `(param, t)` for at least one `t` in `anyOf`. */
export interface TokenCondition {
  param: string;
  anyOf: Uint8Array[];
}

/** All conditions must hold (AND); within a TokenCondition any token will do (OR). */
export interface SearchQuery {
  resourceType: SearchableResourceType;
  /** Present when `_id` was given: the resource must have one of these ids (repeats are intersected). */
  ids?: string[];
  /** Conditions on the resource's meta.lastUpdated (a point in time: low = high = the instant in ms). */
  lastUpdated: DateCondition[];
  tokenConditions: TokenCondition[];
  /** Conditions on date rows; see `dateConditionClauses` for the comparisons. */
  dateConditions: DateCondition[];
  count: number;
  offset: number;
  sort: SearchSort;
  /** Parameters skipped in lenient mode (unknown, unsupported modifier, `_count` above the maximum). */
  ignored: string[];
}

export interface ParseSearchOptions {
  /** `Prefer: handling=lenient`: skip unknown parameters and unsupported modifiers instead of failing. */
  lenient?: boolean;
  /**
   * The escaped code systems a clear token parameter of the type has been stored with (the store's list): a code
   * searched in any system is looked up under each of them (see `tokenScheme.ts`).
   */
  codeSystems: (param: string) => readonly string[];
}

export type SearchQueryInput = Readonly<Record<string, string | readonly string[] | undefined>>;

const MODIFIERS: Record<IndexedSearchParameter['type'], readonly string[]> = {
  reference: ['Patient'],
  token: [],
  date: [],
  string: ['exact'],
};

/** Splits on commas not escaped by a backslash; escapes are kept for the caller to resolve. */
function splitUnescaped(value: string, separator: ',' | '|', limit = Infinity): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < value.length; i++) {
    const ch = value[i] as string;
    if (ch === '\\' && i + 1 < value.length) {
      current += ch + (value[i + 1] as string);
      i++;
    } else if (ch === separator && parts.length < limit - 1) {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts;
}

/** Resolves `\\`, `\|`, `\,`, `\$`; any other backslash stays as written. */
function unescape(value: string): string {
  return value.replace(/\\([\\|,$])/g, '$1');
}

function hexKey(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

function dedupe(tokens: Uint8Array[]): Uint8Array[] {
  const seen = new Map<string, Uint8Array>();
  for (const token of tokens) seen.set(hexKey(token), token);
  return [...seen.values()];
}

function invalid(
  parameter: string,
  message: string,
  details: Record<string, unknown> = {},
): InvalidInputError {
  return new InvalidInputError('SEARCH.INVALID_VALUE', message, {
    details: { parameter, ...details },
    issueType: 'value',
  });
}

/** Parses one `[prefix]date` value. */
function parseDateValue(parameter: string, raw: string): Omit<DateCondition, 'param'> {
  const accepted =
    'a FHIR date with an optional prefix eq, ne, gt, lt, ge, le, sa or eb, e.g. ge2024-01-01, lt2024-02, eq2024-03-05T10:30:00Z';
  if (splitUnescaped(raw, ',').length > 1) {
    throw invalid(
      parameter,
      `Search parameter "${parameter}" does not accept comma-separated dates; repeat the parameter to combine conditions (AND).`,
    );
  }
  let prefix: DatePrefix = 'eq';
  let text = raw;
  const prefixMatch = /^([a-z]{2})(.*)$/.exec(raw);
  if (prefixMatch) {
    const [, given = '', rest = ''] = prefixMatch;
    if (!(DATE_PREFIXES as readonly string[]).includes(given)) {
      throw invalid(
        parameter,
        given === 'ap'
          ? `Search parameter "${parameter}": the prefix "ap" is not supported; use ge and le for a range. Expected ${accepted}.`
          : `Search parameter "${parameter}": unknown prefix "${given}". Expected ${accepted}.`,
        { value: raw },
      );
    }
    prefix = given as DatePrefix;
    text = rest;
  }
  // A '+' in an unencoded query string arrives as a space: "2024-03-05T10:30:00 02:00".
  text = text.replace(/ (\d{2}:\d{2})$/, '+$1');
  const parsed = parseFhirDate(text);
  if (!parsed) {
    throw invalid(parameter, `Search parameter "${parameter}": "${raw}" is not ${accepted}.`, { value: raw });
  }
  return { prefix, low: parsed.low, high: parsed.high };
}

function parseInteger(parameter: string, values: readonly string[], accepted: string): number {
  if (values.length !== 1) throw invalid(parameter, `"${parameter}" may be given only once.`);
  const raw = values[0] as string;
  const n = /^\d{1,16}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n)) {
    throw invalid(parameter, `"${parameter}" must be ${accepted}, not "${raw}".`, { value: raw });
  }
  return n;
}

/**
 * The lookups answering `query` on `resourceType`. `tokenHasher` must be the key-bound hasher used when indexing.
 * Throws InvalidInputError `SEARCH.UNSUPPORTED_RESOURCE_TYPE`, `SEARCH.UNKNOWN_PARAMETER` (unknown parameter or
 * unsupported modifier; not in lenient mode) or `SEARCH.INVALID_VALUE`.
 */
export function parseSearchQuery(
  resourceType: string,
  query: SearchQueryInput,
  tokenHasher: TokenHasher,
  options: ParseSearchOptions,
): SearchQuery {
  if (!isSearchableResourceType(resourceType)) {
    throw new InvalidInputError(
      'SEARCH.UNSUPPORTED_RESOURCE_TYPE',
      `Search is not supported on "${resourceType}". Searchable types: ${SEARCHABLE_RESOURCE_TYPES.join(', ')}.`,
      { details: { resourceType }, issueType: 'not-supported' },
    );
  }
  const lenient = options.lenient === true;
  const definitions = supportedSearchParameters(resourceType);
  const indexed = new Map<string, IndexedSearchParameter>();
  for (const d of definitions) if (d.kind === 'index') indexed.set(d.name, d);
  const supportedNames = definitions.map((d) => d.name).join(', ');

  const result: SearchQuery = {
    resourceType,
    lastUpdated: [],
    tokenConditions: [],
    dateConditions: [],
    count: DEFAULT_COUNT,
    offset: 0,
    sort: '_lastUpdated',
    ignored: [],
  };

  const unsupported = (key: string, message: string, details: Record<string, unknown>): void => {
    if (lenient) {
      result.ignored.push(key);
      return;
    }
    throw new InvalidInputError('SEARCH.UNKNOWN_PARAMETER', message, {
      details: { parameter: key, resourceType, ...details },
      issueType: 'not-supported',
    });
  };
  const unknownParameter = (key: string): void =>
    unsupported(key, `Unknown search parameter "${key}" for ${resourceType}. Supported: ${supportedNames}.`, {
      supported: definitions.map((d) => d.name),
    });
  const unsupportedModifier = (
    key: string,
    name: string,
    modifier: string,
    allowed: readonly string[],
  ): void =>
    unsupported(
      key,
      `Search parameter "${name}" of ${resourceType} does not support the modifier ":${modifier}"; ` +
        (allowed.length === 0
          ? 'it takes no modifier.'
          : `supported: ${allowed.map((m) => `:${m}`).join(', ')}.`),
      { modifier, supportedModifiers: allowed },
    );

  for (const [key, raw] of Object.entries(query)) {
    if (raw === undefined) continue;
    const values: readonly string[] = typeof raw === 'string' ? [raw] : raw;
    if (!values.every((v) => typeof v === 'string'))
      throw invalid(key, `Search parameter "${key}" must be text.`);
    const colon = key.indexOf(':');
    const name = colon === -1 ? key : key.slice(0, colon);
    const modifier = colon === -1 ? undefined : key.slice(colon + 1);

    const fixed = ['_id', '_lastUpdated', '_count', '_offset', '_sort'].includes(name);
    const definition = fixed ? undefined : indexed.get(name);
    if (!fixed && definition === undefined) {
      unknownParameter(key);
      continue;
    }
    const allowedModifiers = definition === undefined ? [] : MODIFIERS[definition.type];
    if (modifier !== undefined && !allowedModifiers.includes(modifier)) {
      unsupportedModifier(key, name, modifier, allowedModifiers);
      continue;
    }
    for (const value of values) {
      if (value === '') {
        throw invalid(key, `Search parameter "${key}" has an empty value.`);
      }
      if (splitUnescaped(value, ',').some((alternative) => alternative === '')) {
        throw invalid(key, `Search parameter "${key}" has an empty alternative in "${value}".`, { value });
      }
    }

    switch (name) {
      case '_id': {
        for (const value of values) {
          const ids = splitUnescaped(value, ',').map(unescape);
          for (const id of ids) {
            if (!FHIR_ID_RE.test(id)) {
              throw invalid(
                key,
                `"_id" values must be FHIR ids (1-64 letters, digits, "-" or "."), not "${id}".`,
                {
                  value: id,
                },
              );
            }
          }
          result.ids =
            result.ids === undefined ? [...new Set(ids)] : result.ids.filter((id) => ids.includes(id));
        }
        continue;
      }
      case '_lastUpdated':
        for (const value of values)
          result.lastUpdated.push({ param: '_lastUpdated', ...parseDateValue(key, value) });
        continue;
      case '_count': {
        const count = parseInteger(key, values, `a whole number from 0 to ${MAX_COUNT}`);
        if (count > MAX_COUNT && lenient) {
          result.count = MAX_COUNT;
          result.ignored.push(key);
        } else if (count > MAX_COUNT) {
          throw invalid(key, `"_count" must be a whole number from 0 to ${MAX_COUNT}, not "${values[0]}".`, {
            value: values[0],
            max: MAX_COUNT,
          });
        } else {
          result.count = count;
        }
        continue;
      }
      case '_offset':
        result.offset = parseInteger(key, values, 'a whole number, 0 or more');
        continue;
      case '_sort': {
        if (values.length !== 1) throw invalid(key, '"_sort" may be given only once.');
        const sort = values[0] as string;
        if (!(SEARCH_SORTS as readonly string[]).includes(sort)) {
          throw invalid(key, `"_sort" must be one of ${SEARCH_SORTS.join(', ')}, not "${sort}".`, {
            value: sort,
            supported: SEARCH_SORTS,
          });
        }
        result.sort = sort as SearchSort;
        continue;
      }
    }
    if (definition === undefined) continue;

    for (const value of values) {
      const alternatives = splitUnescaped(value, ',');
      switch (definition.type) {
        case 'date':
          result.dateConditions.push({ param: definition.indexParam, ...parseDateValue(key, value) });
          break;
        case 'reference':
          result.tokenConditions.push({
            param: definition.indexParam,
            anyOf: dedupe(
              alternatives.map((a) => patientReferenceToken(parsePatientReference(key, unescape(a)))),
            ),
          });
          break;
        case 'token':
          result.tokenConditions.push({
            param: definition.indexParam,
            anyOf: dedupe(
              alternatives.flatMap((a) => {
                const canonical = parseToken(key, a);
                if (definition.hashed) return [hashedToken(tokenHasher, definition.indexParam, canonical)];
                // A code in any system: its `|C` and `S|C` under every system the parameter is stored with.
                if (splitUnescaped(a, '|', 2).length === 1) {
                  const systems = options.codeSystems(definition.indexParam);
                  return anySystemTokenStrings(unescape(a), systems).map(clearToken);
                }
                return [clearToken(canonical)];
              }),
            ),
          });
          break;
        case 'string':
          result.tokenConditions.push({
            param: definition.indexParam,
            anyOf: dedupe(
              alternatives.map((a) => {
                const text = unescape(a);
                const canonical = modifier === 'exact' ? exactNameString(text) : nameQueryString(text);
                if (canonical === null) {
                  throw invalid(
                    key,
                    `Search parameter "${key}": "${text}" has no letters or digits to search for.`,
                  );
                }
                return hashedToken(tokenHasher, definition.indexParam, canonical);
              }),
            ),
          });
          break;
      }
    }
  }
  return result;
}

/** `123`, `Patient/123` → `123`; anything else is an error (only Patient references are indexed). */
function parsePatientReference(parameter: string, value: string): string {
  const id = value.startsWith('Patient/') ? value.slice('Patient/'.length) : value;
  if (!FHIR_ID_RE.test(id)) {
    throw invalid(
      parameter,
      `Search parameter "${parameter}" takes a Patient id or Patient/<id> (ids are 1-64 letters, digits, "-" or "."), not "${value}".`,
      { value },
    );
  }
  return id;
}

/** `system|code`, `code`, `|code`, `system|` → canonical token string. */
function parseToken(parameter: string, alternative: string): string {
  const parts = splitUnescaped(alternative, '|', 2);
  const canonical =
    parts.length === 1
      ? queryTokenString(undefined, unescape(alternative))
      : queryTokenString(unescape(parts[0] as string), unescape(parts[1] as string));
  if (canonical === null) {
    throw invalid(
      parameter,
      `Search parameter "${parameter}" takes system|code, code, |code or system|, not "|".`,
      {
        value: alternative,
      },
    );
  }
  return canonical;
}
