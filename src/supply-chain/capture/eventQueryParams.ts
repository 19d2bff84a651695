import { InvalidInputError } from '../../core/errors.js';
import type { EpcRole, EventQuery } from './ports.js';

/** What parsing query values needs from the GS1 and CBV rules (`../identifiers`, `../epcis`). */
export interface QueryVocabulary {
  /** An identifier (EPC URN or Digital Link) as stored: its canonical key; `prefix` for a class pattern (`idpat`). */
  identifier(value: string): { key: string } | { prefix: string };
  /** A CBV business step or disposition as stored (the bare word); throws a 400 for an unknown one. */
  bizStep(value: string): string;
  disposition(value: string): string;
}

export const EVENT_TYPES = [
  'ObjectEvent',
  'AggregationEvent',
  'TransactionEvent',
  'TransformationEvent',
  'AssociationEvent',
] as const;

const MATCH_ROLES: Record<string, EpcRole[]> = {
  MATCH_epc: ['epc', 'child'],
  MATCH_parentID: ['parent'],
  MATCH_inputEPC: ['input'],
  MATCH_outputEPC: ['output'],
  MATCH_anyEPC: ['epc', 'child', 'parent', 'input', 'output'],
  MATCH_epcClass: ['quantity'],
  MATCH_anyEPCClass: ['quantity'],
};

export const DEFAULT_PER_PAGE = 30;
export const MAX_PER_PAGE = 1_000;

const SUPPORTED = [
  'eventType',
  'GE_eventTime',
  'LT_eventTime',
  'GE_recordTime',
  'LT_recordTime',
  'EQ_bizStep',
  'EQ_disposition',
  'EQ_bizLocation',
  'EQ_readPoint',
  'EQ_eventID',
  ...Object.keys(MATCH_ROLES),
  'perPage',
  'nextPageToken',
];

const bad = (parameter: string, message: string) =>
  new InvalidInputError('EPCIS.INVALID_QUERY', `${parameter}: ${message}`, { details: { parameter } });

/** The values of a parameter: repeated, and each split on `|` (the EPCIS REST list separator). */
function values(raw: string | string[] | undefined): string[] {
  const all = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  return all
    .flatMap((v) => v.split('|'))
    .map((v) => v.trim())
    .filter((v) => v !== '');
}

function time(parameter: string, raw: string | string[] | undefined): number | undefined {
  const [value, extra] = values(raw);
  if (value === undefined) return undefined;
  if (extra !== undefined) throw bad(parameter, 'give one time.');
  // RFC 3339 with a zone (Z or ±hh:mm): a time without one would mean different instants on different servers.
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/.test(value)) {
    throw bad(
      parameter,
      `"${value.slice(0, 60)}" is not a date-time with a zone, e.g. 2026-11-24T10:00:00Z.`,
    );
  }
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw bad(parameter, `"${value.slice(0, 60)}" is not a valid date-time.`);
  return ms;
}

/** A page token: the last record id of the previous page, opaque to clients. */
export function pageToken(recordId: number): string {
  return Buffer.from(`r${recordId}`, 'utf8').toString('base64url');
}

function fromPageToken(token: string): number {
  const decoded = Buffer.from(token, 'base64url').toString('utf8');
  const match = /^r(\d{1,15})$/.exec(decoded);
  if (!match)
    throw bad('nextPageToken', 'this is not a page token this server gave; start again without it.');
  return Number(match[1]);
}

/**
 * The EPCIS 2.0 REST query parameters of `GET /events` (the Simple Event Query's) as an `EventQuery`. Unknown
 * parameters are errors, so a typo does not silently widen the result; every value is checked.
 */
export function parseEventQuery(
  params: Record<string, string | string[] | undefined>,
  vocabulary: QueryVocabulary,
): EventQuery {
  for (const name of Object.keys(params)) {
    if (!SUPPORTED.includes(name)) {
      throw bad(name, `not a query parameter this repository supports; use ${SUPPORTED.join(', ')}.`);
    }
  }
  const query: EventQuery = { epcConditions: [], afterRecordId: 0, limit: DEFAULT_PER_PAGE };
  const types = values(params.eventType);
  if (types.length > 0) {
    for (const t of types) {
      if (!(EVENT_TYPES as readonly string[]).includes(t)) {
        throw bad('eventType', `"${t.slice(0, 60)}" is not an event type; use ${EVENT_TYPES.join(', ')}.`);
      }
    }
    query.eventTypes = types;
  }
  const set = <K extends keyof EventQuery>(key: K, value: EventQuery[K] | undefined) => {
    if (value !== undefined) query[key] = value;
  };
  set('eventTimeFrom', time('GE_eventTime', params.GE_eventTime));
  set('eventTimeBefore', time('LT_eventTime', params.LT_eventTime));
  set('recordTimeFrom', time('GE_recordTime', params.GE_recordTime));
  set('recordTimeBefore', time('LT_recordTime', params.LT_recordTime));
  const list = (name: string, map: (v: string) => string) => {
    const vs = values(params[name]);
    return vs.length > 0 ? vs.map(map) : undefined;
  };
  set(
    'bizSteps',
    list('EQ_bizStep', (v) => vocabulary.bizStep(v)),
  );
  set(
    'dispositions',
    list('EQ_disposition', (v) => vocabulary.disposition(v)),
  );
  const location = (name: string) =>
    list(name, (v) => {
      const id = vocabulary.identifier(v);
      if ('prefix' in id) throw bad(name, 'give a location, not a pattern.');
      return id.key;
    });
  set('bizLocations', location('EQ_bizLocation'));
  set('readPoints', location('EQ_readPoint'));
  set(
    'eventIds',
    list('EQ_eventID', (v) => v),
  );
  for (const [name, roles] of Object.entries(MATCH_ROLES)) {
    const vs = values(params[name]);
    if (vs.length === 0) continue;
    const epcs: string[] = [];
    const prefixes: string[] = [];
    for (const v of vs) {
      const id = vocabulary.identifier(v);
      if ('key' in id) epcs.push(id.key);
      else prefixes.push(id.prefix);
    }
    query.epcConditions.push({ epcs, prefixes, roles });
  }
  const [perPage, extraPerPage] = values(params.perPage);
  if (perPage !== undefined) {
    const n = Number(perPage);
    if (extraPerPage !== undefined || !Number.isInteger(n) || n < 1 || n > MAX_PER_PAGE) {
      throw bad('perPage', `give a whole number from 1 to ${MAX_PER_PAGE}.`);
    }
    query.limit = n;
  }
  const [token] = values(params.nextPageToken);
  if (token !== undefined) query.afterRecordId = fromPageToken(token);
  return query;
}
