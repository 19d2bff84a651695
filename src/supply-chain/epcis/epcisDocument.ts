/**
 * EPCIS 2.0 JSON-LD documents (GS1 EPCIS 2.0, 2022): `parseEpcisDocument` checks an `EPCISDocument` and returns its
 * events as typed values — ObjectEvent, AggregationEvent, TransactionEvent, TransformationEvent.
 *
 * What is checked: the document's shape (`@context` with the EPCIS 2.0 context, `type`, `schemaVersion` "2.0",
 * `creationDate`, `epcisBody.eventList`); per event the fields its type may carry and the ones it must carry (with the
 * rules that depend on `action`), date-times with offsets, `eventTime` not in the future beyond a tolerance, CBV 2.0
 * vocabulary (see `vocabulary.ts`), GS1 identifiers through the GS1 identifier module (check digits, lengths, and the
 * right kind for the place: instances in `epcList`, classes in `quantityList`, locations as `readPoint`, parties or
 * locations as sources and destinations), and limits (number of events, string lengths, nesting of user extensions).
 *
 * Every problem of a document is collected (up to `maxProblems`) with its JSON path, e.g.
 * `epcisBody.eventList[3].bizStep`, and the document is refused as a whole with one `EPCIS.INVALID_DOCUMENT` error
 * (see `errors.ts`), so a client can fix everything in one go.
 *
 * What is kept: each event's fields as sent, except that CBV values become bare words (`shipping`) and `recordTime`
 * is dropped (the repository sets it). Identifiers keep their spelling (EPC URN or Digital Link);
 * {@link eventIdentifiers} gives their canonical keys. User extensions (namespace-prefixed members), `ilmd` and
 * `sensorElementList` are kept as JSON, together with the namespace prefixes they use ({@link EpcisEvent.namespaces}),
 * which the event hash needs.
 */
import { InvalidInputError } from '../../core/errors.js';
import { parseDateTimeStamp, parseOffset } from './dateTime.js';
import { EpcisErrorCode, invalidDocument, quote, type EpcisProblem } from './errors.js';
import { IdentifierReadings, type Gs1Identifier } from './gs1.js';
import { SENSOR_METADATA_MEMBERS, SENSOR_REPORT_MEMBERS } from './sensorMembers.js';
import {
  isAbsoluteUri,
  normalizeVocabularyValue,
  type BizStep,
  type BizTransactionType,
  type CbvVocabulary,
  type CustomVocabularyUri,
  type Disposition,
  type ErrorReason,
  type SourceDestinationType,
} from './vocabulary.js';

// --- Types ---------------------------------------------------------------------------------------------------------

export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** The event types this module reads (AssociationEvent is not supported yet). */
export const EPCIS_EVENT_TYPES = [
  'ObjectEvent',
  'AggregationEvent',
  'TransactionEvent',
  'TransformationEvent',
] as const;
export type EpcisEventType = (typeof EPCIS_EVENT_TYPES)[number];

export const EPCIS_ACTIONS = ['ADD', 'OBSERVE', 'DELETE'] as const;
export type EpcisAction = (typeof EPCIS_ACTIONS)[number];

/** The EPCIS 2.0 JSON-LD context URLs a document's `@context` must name (one of them). */
export const EPCIS_CONTEXT_URLS = [
  'https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld',
  'https://ref.gs1.org/standards/epcis/epcis-context.jsonld',
] as const;

/** A quantity of a class of objects (`quantityList`, `childQuantityList`, `inputQuantityList`, `outputQuantityList`). */
export interface QuantityElement {
  /** A class-level identifier: LGTIN (`urn:epc:class:lgtin:…`, `…/01/{gtin}/10/{lot}`) or GTIN class. */
  epcClass: string;
  quantity?: number;
  /** UN/ECE Recommendation 20 unit code (`KGM`); only together with `quantity`. */
  uom?: string;
}

export interface BizTransaction {
  type?: BizTransactionType | CustomVocabularyUri;
  bizTransaction: string;
}

export interface SourceElement {
  type: SourceDestinationType | CustomVocabularyUri;
  source: string;
}

export interface DestinationElement {
  type: SourceDestinationType | CustomVocabularyUri;
  destination: string;
}

export interface PersistentDisposition {
  set?: (Disposition | CustomVocabularyUri)[];
  unset?: (Disposition | CustomVocabularyUri)[];
}

/** `readPoint` or `bizLocation`. */
export interface LocationReference {
  /** SGLN (EPC URN or Digital Link) or another URI (e.g. `geo:`). */
  id: string;
  /** Namespace-prefixed user extension members, as sent. */
  extensions?: JsonObject;
}

export interface ErrorDeclaration {
  declarationTime: string;
  reason?: ErrorReason | CustomVocabularyUri;
  correctiveEventIDs?: string[];
  extensions?: JsonObject;
}

/** What every event type has. */
export interface EpcisEventBase {
  type: EpcisEventType;
  eventID?: string;
  /** As sent: an `xsd:dateTimeStamp` with offset. */
  eventTime: string;
  /** `±hh:mm`. */
  eventTimeZoneOffset: string;
  certificationInfo?: string | string[];
  errorDeclaration?: ErrorDeclaration;
  bizStep?: BizStep | CustomVocabularyUri;
  disposition?: Disposition | CustomVocabularyUri;
  persistentDisposition?: PersistentDisposition;
  readPoint?: LocationReference;
  bizLocation?: LocationReference;
  bizTransactionList?: BizTransaction[];
  sourceList?: SourceElement[];
  destinationList?: DestinationElement[];
  /** Kept as sent (validated: sensor elements are objects, their times are date-time stamps). */
  sensorElementList?: JsonObject[];
  /** Namespace-prefixed (`example:myField`) or absolute-IRI user extension members, as sent. */
  extensions: JsonObject;
  /**
   * The namespace prefixes declared for this event (the document's `@context` objects, then the event's own
   * `@context`), e.g. `{ example: 'https://ns.example.com/epcis/' }`: the event hash spells extension names with them.
   */
  namespaces: Readonly<Record<string, string>>;
}

export interface ObjectEvent extends EpcisEventBase {
  type: 'ObjectEvent';
  action: EpcisAction;
  epcList?: string[];
  quantityList?: QuantityElement[];
  /** Instance/lot master data (e.g. `cbvmda:lotNumber`, `cbvmda:itemExpirationDate`); only with action ADD. */
  ilmd?: JsonObject;
}

export interface AggregationEvent extends EpcisEventBase {
  type: 'AggregationEvent';
  action: EpcisAction;
  /** Required for ADD and DELETE. */
  parentID?: string;
  childEPCs?: string[];
  childQuantityList?: QuantityElement[];
}

export interface TransactionEvent extends EpcisEventBase {
  type: 'TransactionEvent';
  action: EpcisAction;
  bizTransactionList: BizTransaction[];
  parentID?: string;
  epcList?: string[];
  quantityList?: QuantityElement[];
}

export interface TransformationEvent extends EpcisEventBase {
  type: 'TransformationEvent';
  inputEPCList?: string[];
  inputQuantityList?: QuantityElement[];
  outputEPCList?: string[];
  outputQuantityList?: QuantityElement[];
  transformationID?: string;
  ilmd?: JsonObject;
}

export type EpcisEvent = ObjectEvent | AggregationEvent | TransactionEvent | TransformationEvent;

/** A checked EPCIS document. */
export interface ParsedEpcisDocument {
  schemaVersion: '2.0';
  creationDate: string;
  /** The `@context` as sent. */
  context: JsonValue;
  /** The namespace prefixes its `@context` declares. */
  namespaces: Readonly<Record<string, string>>;
  events: EpcisEvent[];
}

export interface EpcisParseOptions {
  /** The node's clock, ms since the epoch (default `Date.now()`). */
  now?: number;
  /** How far `eventTime` may be ahead of `now` (default 5 minutes): clocks drift, events from the future do not. */
  futureToleranceMs?: number;
  /** Most events a document may hold (default 10,000). */
  maxEvents?: number;
  /** Most problems reported before giving up (default 100). */
  maxProblems?: number;
  /** Longest string value accepted anywhere (default 2,048 characters). */
  maxStringLength?: number;
  /** Deepest nesting of a user extension, `ilmd` or sensor element value (default 16). */
  maxExtensionDepth?: number;
  /** Accept user vocabulary URIs (outside the CBV namespaces) for bizStep, disposition and types (default false). */
  allowCustomVocabulary?: boolean;
  /**
   * Where identifier readings are remembered (default: a fresh one per call); pass the same one to
   * `eventHashWith` and {@link eventIdentifiersWith} for the document's events so each identifier is read once.
   */
  identifiers?: IdentifierReadings;
}

/** The defaults of {@link EpcisParseOptions}. */
export const EPCIS_PARSE_DEFAULTS = {
  futureToleranceMs: 5 * 60_000,
  maxEvents: 10_000,
  maxProblems: 100,
  maxStringLength: 2_048,
  maxExtensionDepth: 16,
  allowCustomVocabulary: false,
} as const;

// --- Public functions ----------------------------------------------------------------------------------------------

/**
 * Checks an EPCIS 2.0 JSON-LD `EPCISDocument` (already `JSON.parse`d) and returns its events.
 * @throws InvalidInputError `EPCIS.INVALID_DOCUMENT` (400) with `details: { problems, truncated }` listing every
 *   problem (see {@link EpcisProblem}); nothing is returned for a document with any problem.
 */
export function parseEpcisDocument(input: unknown, options: EpcisParseOptions = {}): ParsedEpcisDocument {
  const reader = new Reader(options);
  let document: ParsedEpcisDocument | undefined;
  try {
    document = reader.document(input);
  } catch (error) {
    if (error !== STOP) throw error;
  }
  if (reader.problems.length > 0 || document === undefined) {
    throw invalidDocument(reader.problems, reader.truncated);
  }
  return document;
}

/**
 * Checks one event given on its own (e.g. one read back from storage, or sent with its own `@context`). Paths in
 * problems start at the event (`bizStep`, `epcList[2]`).
 * @param namespaces - Prefixes in effect besides the event's own `@context` (e.g. its document's).
 * @throws InvalidInputError `EPCIS.INVALID_DOCUMENT` as {@link parseEpcisDocument}.
 */
export function parseEpcisEvent(
  input: unknown,
  options: EpcisParseOptions & { namespaces?: Readonly<Record<string, string>> } = {},
): EpcisEvent {
  const reader = new Reader(options);
  let event: EpcisEvent | undefined;
  try {
    event = reader.event(input, '', undefined, options.namespaces ?? {});
  } catch (error) {
    if (error !== STOP) throw error;
  }
  if (reader.problems.length > 0 || event === undefined)
    throw invalidDocument(reader.problems, reader.truncated);
  return event;
}

/** `eventTime` in ms since the epoch. */
export function eventTimeMillis(event: EpcisEvent): number {
  const parsed = parseDateTimeStamp(event.eventTime);
  if (parsed === undefined) {
    throw new InvalidInputError(
      EpcisErrorCode.INVALID_VALUE,
      `eventTime ${quote(event.eventTime)} is not a date-time`,
    );
  }
  return parsed.epochMs;
}

/** Where an identifier appears in an event (the EPCIS query parameters `MATCH_epc`, `MATCH_parentID`, … match on these). */
export type EpcisIdentifierRole = 'epc' | 'parent' | 'child' | 'input' | 'output' | 'quantity';

/**
 * Every object identifier of an event with its role, as canonical GS1 Digital Link URIs (identifiers the GS1 module
 * does not read are kept as sent), each (identifier, role) once.
 */
export function eventIdentifiers(event: EpcisEvent): { epc: string; role: EpcisIdentifierRole }[] {
  return eventIdentifiersWith(event, new IdentifierReadings());
}

/** {@link eventIdentifiers}, reading identifiers through `identifiers` (those of the event's document). */
export function eventIdentifiersWith(
  event: EpcisEvent,
  identifiers: IdentifierReadings,
): { epc: string; role: EpcisIdentifierRole }[] {
  return eventIdentifierReadings(event, identifiers).map(({ epc, role }) => ({ epc, role }));
}

/**
 * {@link eventIdentifiersWith}, each with the GS1 module's reading of it (`id`, absent for an identifier it does not
 * read as GS1).
 */
export function eventIdentifierReadings(
  event: EpcisEvent,
  identifiers: IdentifierReadings,
): { epc: string; role: EpcisIdentifierRole; id?: Gs1Identifier }[] {
  const into: IdentifierList = { out: [], seen: new Set<string>(), identifiers };
  switch (event.type) {
    case 'ObjectEvent':
      addIdentifiers(into, event.epcList, 'epc');
      addQuantities(into, event.quantityList);
      break;
    case 'AggregationEvent':
      addIdentifier(into, event.parentID, 'parent');
      addIdentifiers(into, event.childEPCs, 'child');
      addQuantities(into, event.childQuantityList);
      break;
    case 'TransactionEvent':
      addIdentifier(into, event.parentID, 'parent');
      addIdentifiers(into, event.epcList, 'epc');
      addQuantities(into, event.quantityList);
      break;
    case 'TransformationEvent':
      addIdentifiers(into, event.inputEPCList, 'input');
      addIdentifiers(into, event.outputEPCList, 'output');
      addQuantities(into, event.inputQuantityList);
      addQuantities(into, event.outputQuantityList);
      break;
  }
  return into.out;
}

/** The identifiers of an event being listed, each (identifier, role) once. */
interface IdentifierList {
  out: { epc: string; role: EpcisIdentifierRole; id?: Gs1Identifier }[];
  seen: Set<string>;
  identifiers: IdentifierReadings;
}

function addIdentifier(into: IdentifierList, value: string | undefined, role: EpcisIdentifierRole): void {
  if (value === undefined) return;
  const reading = into.identifiers.read(value);
  const epc = reading.status === 'gs1' ? reading.key : value;
  const key = `${role} ${epc}`;
  if (into.seen.has(key)) return;
  into.seen.add(key);
  into.out.push(reading.status === 'gs1' ? { epc, role, id: reading.id } : { epc, role });
}

function addIdentifiers(
  into: IdentifierList,
  values: readonly string[] | undefined,
  role: EpcisIdentifierRole,
): void {
  if (values === undefined) return;
  for (const value of values) addIdentifier(into, value, role);
}

function addQuantities(into: IdentifierList, list: readonly QuantityElement[] | undefined): void {
  if (list === undefined) return;
  for (const element of list) addIdentifier(into, element.epcClass, 'quantity');
}

/**
 * The event as EPCIS 2.0 JSON again (standard members in the standard's order, then the user extensions), without
 * `recordTime`. When the event's extension members use namespace prefixes, an `@context` naming them is included, so
 * the JSON stands on its own (and hashes to the same event hash).
 */
export function eventToJson(event: EpcisEvent): JsonObject {
  const out: JsonObject = {};
  const source = event as unknown as Record<string, unknown>;
  out.type = event.type;
  for (const key of JSON_ORDER) {
    const value = source[key];
    if (value === undefined) continue;
    if (key === 'readPoint' || key === 'bizLocation') {
      const location = value as LocationReference;
      out[key] = location.extensions ? { id: location.id, ...location.extensions } : { id: location.id };
    } else if (key === 'errorDeclaration') {
      const { extensions, ...rest } = value as ErrorDeclaration;
      out[key] = { ...(rest as JsonObject), ...extensions };
    } else {
      out[key] = value as JsonValue;
    }
  }
  for (const key of Object.keys(event.extensions)) {
    const value = event.extensions[key];
    if (value !== undefined) out[key] = value;
  }
  const used = usedPrefixes(event);
  const context: Record<string, string> = {};
  for (const prefix of used) {
    const namespace = event.namespaces[prefix];
    if (namespace !== undefined) context[prefix] = namespace;
  }
  if (Object.keys(context).length > 0) out['@context'] = [context];
  return out;
}

/** Standard members in the order EPCIS 2.0 lists them (after `type`). */
const JSON_ORDER = [
  'eventID',
  'eventTime',
  'eventTimeZoneOffset',
  'certificationInfo',
  'errorDeclaration',
  'parentID',
  'epcList',
  'childEPCs',
  'inputEPCList',
  'outputEPCList',
  'quantityList',
  'childQuantityList',
  'inputQuantityList',
  'outputQuantityList',
  'action',
  'transformationID',
  'bizStep',
  'disposition',
  'persistentDisposition',
  'readPoint',
  'bizLocation',
  'bizTransactionList',
  'sourceList',
  'destinationList',
  'sensorElementList',
  'ilmd',
] as const;

function usedPrefixes(event: EpcisEvent): Set<string> {
  const prefixes = new Set<string>();
  collectPrefixes(event.extensions, prefixes);
  collectPrefixes(event.readPoint?.extensions, prefixes);
  collectPrefixes(event.bizLocation?.extensions, prefixes);
  collectPrefixes(event.errorDeclaration?.extensions, prefixes);
  collectPrefixes(event.sensorElementList, prefixes);
  if (event.type === 'ObjectEvent' || event.type === 'TransformationEvent')
    collectPrefixes(event.ilmd, prefixes);
  return prefixes;
}

/** Adds the prefixes of every member name in `value` (nested) to `prefixes`. */
function collectPrefixes(value: unknown, prefixes: Set<string>): void {
  if (Array.isArray(value)) {
    for (const element of value) collectPrefixes(element, prefixes);
  } else if (value !== null && typeof value === 'object') {
    for (const key of Object.keys(value)) {
      const colon = key.indexOf(':');
      if (colon > 0) prefixes.add(key.slice(0, colon));
      collectPrefixes((value as Record<string, unknown>)[key], prefixes);
    }
  }
}

// --- The reader ----------------------------------------------------------------------------------------------------

/** Thrown inside the reader once `maxProblems` is reached; never escapes this module. */
const STOP = Symbol('enough problems');

type IdentifierPlace = 'instance' | 'class' | 'location' | 'party' | 'any';

const COMMON_FIELDS = new Set([
  'type',
  'eventID',
  'eventTime',
  'eventTimeZoneOffset',
  'recordTime',
  'certificationInfo',
  'errorDeclaration',
  'bizStep',
  'disposition',
  'persistentDisposition',
  'readPoint',
  'bizLocation',
  'bizTransactionList',
  'sourceList',
  'destinationList',
  'sensorElementList',
  '@context',
]);

const TYPE_FIELDS: Record<EpcisEventType, ReadonlySet<string>> = {
  ObjectEvent: new Set(['action', 'epcList', 'quantityList', 'ilmd']),
  AggregationEvent: new Set(['action', 'parentID', 'childEPCs', 'childQuantityList']),
  TransactionEvent: new Set(['action', 'parentID', 'epcList', 'quantityList']),
  TransformationEvent: new Set([
    'inputEPCList',
    'inputQuantityList',
    'outputEPCList',
    'outputQuantityList',
    'transformationID',
    'ilmd',
  ]),
};

/** Every standard member name of some event type, to tell "not for this type" from "unknown". */
const ALL_STANDARD_FIELDS = new Set([...COMMON_FIELDS, ...Object.values(TYPE_FIELDS).flatMap((s) => [...s])]);

const SENSOR_METADATA_FIELDS: ReadonlySet<string> = new Set(SENSOR_METADATA_MEMBERS);
const SENSOR_REPORT_FIELDS: ReadonlySet<string> = new Set(SENSOR_REPORT_MEMBERS);

const SENSOR_NUMBER_FIELDS = new Set([
  'value',
  'minValue',
  'maxValue',
  'meanValue',
  'sDev',
  'percRank',
  'percValue',
]);
const SENSOR_TIME_FIELDS = new Set(['time', 'startTime', 'endTime']);
const SENSOR_URI_FIELDS = new Set([
  'deviceID',
  'deviceMetadata',
  'rawData',
  'dataProcessingMethod',
  'bizRules',
  'uriValue',
  'microorganism',
  'chemicalSubstance',
  'coordinateReferenceSystem',
]);

/** A namespace-prefixed name (`example:myField`) or an absolute IRI: the names user extensions may have. */
function isExtensionName(key: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_.-]*:\S+$/.test(key);
}

/** The length of a list member, 0 when it is not a list. */
function countOf(value: unknown): number {
  return Array.isArray(value) ? value.length : 0;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** `base` + `.key` (or `["key"]` when the key is not a plain name). */
/** How a member name is written in a path (`name`, or `["odd name"]`), remembered for the names documents use. */
const memberParts = new Map<string, string>();

function member(base: string, key: string): string {
  let part = memberParts.get(key);
  if (part === undefined) {
    part = /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? key : `[${JSON.stringify(key)}]`;
    if (memberParts.size < 10_000) memberParts.set(key, part);
  }
  if (base === '') return part.startsWith('[') ? `$${part}` : part;
  return part.startsWith('[') ? `${base}${part}` : `${base}.${part}`;
}

function item(base: string, index: number): string {
  return `${base === '' ? '$' : base}[${index}]`;
}

class Reader {
  readonly problems: EpcisProblem[] = [];
  truncated = false;
  private readonly now: number;
  private readonly tolerance: number;
  private readonly maxEvents: number;
  private readonly maxProblems: number;
  private readonly maxString: number;
  private readonly maxDepth: number;
  private readonly allowCustom: boolean;
  private readonly identifiers: IdentifierReadings;
  /** The index of the event being read, for problems. */
  private eventIndex: number | undefined;

  // Element readers of the lists, made once per document rather than once per list.
  private readonly readUri = (p: string, v: unknown) => this.uri(p, v);
  private readonly readBizTransaction = (p: string, v: unknown) => this.bizTransaction(p, v);
  private readonly readSource = (p: string, v: unknown) => this.sourceOrDestination(p, v, 'source');
  private readonly readDestination = (p: string, v: unknown) => this.sourceOrDestination(p, v, 'destination');
  private readonly readSensorElement = (p: string, v: unknown) => this.sensorElement(p, v);
  private readonly readInstance = (p: string, v: unknown) => this.identifier(p, v, 'instance');
  private readonly readQuantity = (p: string, v: unknown) => this.quantity(p, v);

  constructor(options: EpcisParseOptions) {
    this.now = options.now ?? Date.now();
    this.tolerance = options.futureToleranceMs ?? EPCIS_PARSE_DEFAULTS.futureToleranceMs;
    this.maxEvents = options.maxEvents ?? EPCIS_PARSE_DEFAULTS.maxEvents;
    this.maxProblems = Math.max(1, options.maxProblems ?? EPCIS_PARSE_DEFAULTS.maxProblems);
    this.maxString = options.maxStringLength ?? EPCIS_PARSE_DEFAULTS.maxStringLength;
    this.maxDepth = options.maxExtensionDepth ?? EPCIS_PARSE_DEFAULTS.maxExtensionDepth;
    this.allowCustom = options.allowCustomVocabulary ?? EPCIS_PARSE_DEFAULTS.allowCustomVocabulary;
    this.identifiers = options.identifiers ?? new IdentifierReadings();
  }

  private invalid(path: string, message: string): void {
    this.report(path, EpcisErrorCode.INVALID_VALUE, message);
  }

  private missing(path: string, message: string): void {
    this.report(path, EpcisErrorCode.MISSING_FIELD, message);
  }

  private notAllowed(path: string, message: string): void {
    this.report(path, EpcisErrorCode.FIELD_NOT_ALLOWED, message);
  }

  private report(path: string, code: EpcisErrorCode, message: string): void {
    if (this.problems.length >= this.maxProblems) {
      this.truncated = true;
      throw STOP;
    }
    const problem: EpcisProblem = { path: path === '' ? '$' : path, code, message };
    if (this.eventIndex !== undefined) problem.eventIndex = this.eventIndex;
    this.problems.push(problem);
  }

  // --- Document --------------------------------------------------------------------------------------------------

  document(input: unknown): ParsedEpcisDocument | undefined {
    if (!isPlainObject(input)) {
      this.invalid('', `an EPCIS document must be a JSON object, got ${describe(input)}`);
      return undefined;
    }
    const namespaces = this.context('@context', input['@context'], true);
    if (input.type === undefined) {
      this.missing('type', 'type is required and must be "EPCISDocument"');
    } else if (input.type !== 'EPCISDocument') {
      this.invalid('type', `type must be "EPCISDocument", got ${quote(input.type)}`);
    }
    if (input.schemaVersion === undefined) {
      this.missing('schemaVersion', 'schemaVersion is required and must be "2.0"');
    } else if (input.schemaVersion !== '2.0') {
      this.invalid(
        'schemaVersion',
        `schemaVersion must be the string "2.0" (EPCIS 2.0), got ${quote(input.schemaVersion)}`,
      );
    }
    const creationDate = this.dateTime('creationDate', input.creationDate, true);
    const body = input.epcisBody;
    if (body === undefined) {
      this.missing('epcisBody', 'epcisBody is required, with an eventList');
      return undefined;
    }
    if (!isPlainObject(body)) {
      this.invalid('epcisBody', `epcisBody must be an object, got ${describe(body)}`);
      return undefined;
    }
    const list = body.eventList;
    if (list === undefined) {
      this.missing('epcisBody.eventList', 'epcisBody.eventList is required');
      return undefined;
    }
    if (!Array.isArray(list)) {
      this.invalid(
        'epcisBody.eventList',
        `epcisBody.eventList must be an array of events, got ${describe(list)}`,
      );
      return undefined;
    }
    if (list.length > this.maxEvents) {
      this.report(
        'epcisBody.eventList',
        EpcisErrorCode.LIMIT_EXCEEDED,
        `a document may hold at most ${this.maxEvents} events, this one has ${list.length}; split it`,
      );
      return undefined;
    }
    const events: EpcisEvent[] = [];
    for (let i = 0; i < list.length; i++) {
      if (!(i in list)) continue;
      this.eventIndex = i;
      const event = this.event(list[i], `epcisBody.eventList[${i}]`, i, namespaces);
      if (event !== undefined) events.push(event);
    }
    this.eventIndex = undefined;
    return {
      schemaVersion: '2.0',
      creationDate: creationDate ?? '',
      context: input['@context'] as JsonValue,
      namespaces,
      events,
    };
  }

  /** Reads a JSON-LD `@context` into its namespace prefixes. */
  private context(path: string, value: unknown, isDocument: boolean): Record<string, string> {
    const namespaces: Record<string, string> = {};
    if (value === undefined) {
      if (isDocument) {
        this.missing(path, `@context is required and must name ${EPCIS_CONTEXT_URLS[0]}`);
      }
      return namespaces;
    }
    const entries = Array.isArray(value) ? value : [value];
    let hasEpcisContext = false;
    entries.forEach((entry, index) => {
      const entryPath = Array.isArray(value) ? item(path, index) : path;
      if (typeof entry === 'string') {
        if ((EPCIS_CONTEXT_URLS as readonly string[]).includes(entry)) hasEpcisContext = true;
        else if (!isAbsoluteUri(entry)) {
          this.invalid(entryPath, `a context reference must be a URL, got ${quote(entry)}`);
        }
      } else if (isPlainObject(entry)) {
        for (const [prefix, definition] of Object.entries(entry)) {
          if (prefix.startsWith('@')) continue; // JSON-LD keywords (@version, @protected, …) declare no prefix
          const definitionPath = member(entryPath, prefix);
          const iri =
            typeof definition === 'string'
              ? definition
              : isPlainObject(definition)
                ? definition['@id']
                : null;
          if (typeof iri !== 'string' || !isAbsoluteUri(iri)) {
            this.invalid(
              definitionPath,
              `a namespace must be declared as an absolute IRI (e.g. "https://ns.example.com/epcis/"), got ${quote(definition)}`,
            );
            continue;
          }
          this.string(definitionPath, iri);
          namespaces[prefix] = iri;
        }
      } else {
        this.invalid(
          entryPath,
          `a @context entry must be a context URL or an object of namespace prefixes, got ${describe(entry)}`,
        );
      }
    });
    if (isDocument && !hasEpcisContext) {
      this.invalid(path, `@context must include the EPCIS 2.0 context ${quote(EPCIS_CONTEXT_URLS[0])}`);
    }
    return namespaces;
  }

  // --- Events ----------------------------------------------------------------------------------------------------

  event(
    input: unknown,
    path: string,
    index: number | undefined,
    inherited: Readonly<Record<string, string>>,
  ): EpcisEvent | undefined {
    this.eventIndex = index;
    if (!isPlainObject(input)) {
      this.invalid(path, `an event must be a JSON object, got ${describe(input)}`);
      return undefined;
    }
    const type = input.type;
    if (type === undefined) {
      this.missing(member(path, 'type'), `type is required: one of ${EPCIS_EVENT_TYPES.join(', ')}`);
      return undefined;
    }
    if (typeof type !== 'string' || !(EPCIS_EVENT_TYPES as readonly string[]).includes(type)) {
      this.report(
        member(path, 'type'),
        EpcisErrorCode.UNSUPPORTED_EVENT_TYPE,
        `unsupported event type ${quote(type)}; allowed: ${EPCIS_EVENT_TYPES.join(', ')}`,
      );
      return undefined;
    }
    const eventType = type as EpcisEventType;
    const own = this.context(member(path, '@context'), input['@context'], false);
    const event: Record<string, unknown> = {
      type: eventType,
      extensions: {},
      namespaces: { ...inherited, ...own },
    };
    const extensions = event.extensions as JsonObject;
    const allowed = TYPE_FIELDS[eventType];

    for (const key of Object.keys(input)) {
      if (key === 'type' || key === '@context' || key === 'recordTime') continue;
      const value = input[key];
      const at = member(path, key);
      if (!COMMON_FIELDS.has(key) && !allowed.has(key)) {
        if (key === 'action' && eventType === 'TransformationEvent') {
          this.report(
            at,
            EpcisErrorCode.WRONG_ACTION,
            'a TransformationEvent has no action (its inputs are consumed and outputs produced); remove it',
          );
        } else if (ALL_STANDARD_FIELDS.has(key)) {
          this.notAllowed(
            at,
            `${key} is not a field of ${article(eventType)}; its own fields are ${[...allowed].join(', ')}`,
          );
        } else if (isExtensionName(key)) {
          const copy = this.json(at, value, 1);
          if (copy !== undefined) extensions[key] = copy;
        } else {
          this.notAllowed(
            at,
            `unknown field ${quote(key)} of ${article(eventType)}; a user extension needs a namespace prefix ` +
              `declared in @context (e.g. "example:${key}")`,
          );
        }
        continue;
      }
      const read = this.field(eventType, key, value, at);
      if (read !== undefined) event[key] = read;
    }

    this.requirements(eventType, input, path);
    return event as unknown as EpcisEvent;
  }

  /** Reads one standard member. */
  private field(type: EpcisEventType, key: string, value: unknown, at: string): unknown {
    switch (key) {
      case 'eventID':
        return this.uri(at, value);
      case 'eventTime': {
        const text = this.dateTime(at, value, false);
        if (text !== undefined) this.notInFuture(at, text);
        return text;
      }
      case 'eventTimeZoneOffset':
        if (typeof value !== 'string' || parseOffset(value) === undefined) {
          this.invalid(
            at,
            `eventTimeZoneOffset must be a UTC offset "+hh:mm" or "-hh:mm" (at most 14:00), got ${quote(value)}`,
          );
          return undefined;
        }
        return value;
      case 'certificationInfo':
        if (Array.isArray(value)) return this.list(at, value, this.readUri, false);
        return this.uri(at, value);
      case 'errorDeclaration':
        return this.errorDeclaration(at, value);
      case 'action':
        if (typeof value !== 'string' || !(EPCIS_ACTIONS as readonly string[]).includes(value)) {
          this.report(
            at,
            EpcisErrorCode.WRONG_ACTION,
            `action of ${article(type)} must be ADD, OBSERVE or DELETE, got ${quote(value)}`,
          );
          return undefined;
        }
        return value;
      case 'bizStep':
        return this.vocabulary(at, value, 'bizStep');
      case 'disposition':
        return this.vocabulary(at, value, 'disposition');
      case 'persistentDisposition':
        return this.persistentDisposition(at, value);
      case 'readPoint':
      case 'bizLocation':
        return this.location(at, value);
      case 'bizTransactionList':
        return this.list(at, value, this.readBizTransaction, true);
      case 'sourceList':
        return this.list(at, value, this.readSource, true);
      case 'destinationList':
        return this.list(at, value, this.readDestination, true);
      case 'sensorElementList':
        return this.list(at, value, this.readSensorElement, true);
      case 'epcList':
      case 'childEPCs':
      case 'inputEPCList':
      case 'outputEPCList':
        return this.list(at, value, this.readInstance, false);
      case 'parentID':
        return this.identifier(at, value, 'instance');
      case 'quantityList':
      case 'childQuantityList':
      case 'inputQuantityList':
      case 'outputQuantityList':
        return this.list(at, value, this.readQuantity, false);
      case 'transformationID':
        return this.identifier(at, value, 'any');
      case 'ilmd':
        if (!isPlainObject(value)) {
          this.invalid(at, `ilmd must be an object of master data, got ${describe(value)}`);
          return undefined;
        }
        return this.extensionObject(at, value, 'ilmd');
    }
    return undefined;
  }

  /** The rules that need several fields: required fields by type and action, and type-specific constraints. */
  private requirements(type: EpcisEventType, input: Record<string, unknown>, path: string): void {
    // Plain checks, messages built only for a problem: this runs for every event of every document.
    if (input.eventTime === undefined) {
      this.missing(
        member(path, 'eventTime'),
        'eventTime is required (a date-time with offset, e.g. "2024-03-04T11:00:30.000+01:00")',
      );
    }
    if (input.eventTimeZoneOffset === undefined) {
      this.missing(member(path, 'eventTimeZoneOffset'), 'eventTimeZoneOffset is required (e.g. "+01:00")');
    }
    if (type !== 'TransformationEvent' && input.action === undefined) {
      this.missing(member(path, 'action'), `action is required for ${article(type)}: ADD, OBSERVE or DELETE`);
    }
    const action =
      typeof input.action === 'string' && (EPCIS_ACTIONS as readonly string[]).includes(input.action)
        ? input.action
        : undefined;
    switch (type) {
      case 'ObjectEvent':
        if (countOf(input.epcList) === 0 && countOf(input.quantityList) === 0) {
          this.missing(
            member(path, 'epcList'),
            'an ObjectEvent needs at least one EPC in epcList or one element in quantityList',
          );
        }
        if (input.ilmd !== undefined && action !== undefined && action !== 'ADD') {
          this.notAllowed(
            member(path, 'ilmd'),
            `ilmd (instance/lot master data) is only allowed when action is ADD, not ${action}`,
          );
        }
        break;
      case 'AggregationEvent':
        if ((action === 'ADD' || action === 'DELETE') && input.parentID === undefined) {
          this.missing(
            member(path, 'parentID'),
            `parentID is required when an AggregationEvent's action is ${action} (the container, e.g. an SSCC)`,
          );
        }
        if (action === 'ADD' && countOf(input.childEPCs) === 0 && countOf(input.childQuantityList) === 0) {
          this.missing(
            member(path, 'childEPCs'),
            'an AggregationEvent with action ADD needs at least one child in childEPCs or childQuantityList',
          );
        }
        break;
      case 'TransactionEvent':
        if (countOf(input.bizTransactionList) === 0) {
          this.missing(
            member(path, 'bizTransactionList'),
            'a TransactionEvent needs at least one business transaction in bizTransactionList',
          );
        }
        if (
          countOf(input.epcList) === 0 &&
          countOf(input.quantityList) === 0 &&
          input.parentID === undefined
        ) {
          this.missing(
            member(path, 'epcList'),
            'a TransactionEvent needs at least one object: epcList, quantityList or parentID',
          );
        }
        break;
      case 'TransformationEvent': {
        const inputs = countOf(input.inputEPCList) + countOf(input.inputQuantityList);
        const outputs = countOf(input.outputEPCList) + countOf(input.outputQuantityList);
        if (input.transformationID === undefined && (inputs === 0 || outputs === 0)) {
          this.missing(
            member(path, inputs === 0 ? 'inputEPCList' : 'outputEPCList'),
            'a TransformationEvent without transformationID needs at least one input (inputEPCList or ' +
              'inputQuantityList) and at least one output (outputEPCList or outputQuantityList)',
          );
        } else if (inputs === 0 && outputs === 0) {
          this.missing(
            member(path, 'inputEPCList'),
            'a TransformationEvent needs at least one input or output',
          );
        }
        break;
      }
    }
  }

  private notInFuture(at: string, text: string): void {
    const parsed = parseDateTimeStamp(text);
    if (parsed === undefined) return;
    if (parsed.epochMs > this.now + this.tolerance) {
      this.report(
        at,
        EpcisErrorCode.EVENT_TIME_IN_FUTURE,
        `eventTime ${quote(text)} is in the future: more than ${formatDuration(this.tolerance)} after this ` +
          `node's clock (${new Date(this.now).toISOString()})`,
      );
    }
  }

  // --- Members ---------------------------------------------------------------------------------------------------

  private string(at: string, value: unknown, what = 'a string'): string | undefined {
    if (typeof value !== 'string') {
      this.invalid(at, `expected ${what}, got ${describe(value)}`);
      return undefined;
    }
    if (value.length > this.maxString) {
      this.report(
        at,
        EpcisErrorCode.LIMIT_EXCEEDED,
        `a string may have at most ${this.maxString} characters, this one has ${value.length}`,
      );
      return undefined;
    }
    if (value.trim() === '') {
      this.invalid(at, 'must not be empty');
      return undefined;
    }
    return value;
  }

  private uri(at: string, value: unknown): string | undefined {
    const text = this.string(at, value, 'a URI');
    if (text === undefined) return undefined;
    if (!isAbsoluteUri(text)) {
      this.invalid(at, `expected an absolute URI (e.g. urn:uuid:…, https://…), got ${quote(text)}`);
      return undefined;
    }
    return text;
  }

  private dateTime(at: string, value: unknown, required: boolean): string | undefined {
    if (value === undefined) {
      if (required) this.missing(at, 'a date-time with offset is required here');
      return undefined;
    }
    const text = this.string(at, value, 'a date-time string');
    if (text === undefined) return undefined;
    if (parseDateTimeStamp(text) === undefined) {
      this.invalid(
        at,
        `expected a date-time with offset (xsd:dateTimeStamp, e.g. "2024-03-04T11:00:30.000+01:00"), got ${quote(text)}`,
      );
      return undefined;
    }
    return text;
  }

  private vocabulary(at: string, value: unknown, vocabulary: CbvVocabulary): string | undefined {
    try {
      return normalizeVocabularyValue(vocabulary, value, { allowCustom: this.allowCustom });
    } catch (error) {
      if (!(error instanceof InvalidInputError)) throw error;
      this.report(at, error.code as EpcisErrorCode, error.message);
      return undefined;
    }
  }

  /** A list read element by element; with `nonEmpty`, an empty list is a problem. */
  private list<T>(
    at: string,
    value: unknown,
    read: (path: string, element: unknown) => T | undefined,
    nonEmpty: boolean,
  ): T[] | undefined {
    if (!Array.isArray(value)) {
      this.invalid(at, `expected an array, got ${describe(value)}`);
      return undefined;
    }
    if (nonEmpty && value.length === 0) {
      this.missing(at, 'must not be an empty list (leave it out instead)');
      return undefined;
    }
    const out: T[] = [];
    for (let i = 0; i < value.length; i++) {
      const element = read(item(at, i), i in value ? value[i] : undefined);
      if (element !== undefined) out.push(element);
    }
    return out;
  }

  private identifier(at: string, value: unknown, place: IdentifierPlace): string | undefined {
    const text = this.uri(at, value);
    if (text === undefined) return undefined;
    const reading = this.identifiers.read(text);
    if (reading.status === 'invalid') {
      this.report(at, EpcisErrorCode.INVALID_IDENTIFIER, reading.error.message);
      return undefined;
    }
    if (reading.status === 'gs1') {
      const wrong = wrongKind(reading.id, place);
      if (wrong !== undefined) {
        this.report(at, EpcisErrorCode.WRONG_IDENTIFIER_KIND, wrong);
        return undefined;
      }
    }
    return text;
  }

  private quantity(at: string, value: unknown): QuantityElement | undefined {
    if (!isPlainObject(value)) {
      this.invalid(at, `a quantity element must be an object, got ${describe(value)}`);
      return undefined;
    }
    const out: Partial<QuantityElement> = {};
    for (const [key, member_] of Object.entries(value)) {
      const p = member(at, key);
      if (key === 'epcClass') {
        const id = this.identifier(p, member_, 'class');
        if (id !== undefined) out.epcClass = id;
      } else if (key === 'quantity') {
        if (typeof member_ !== 'number' || !Number.isFinite(member_) || member_ < 0) {
          this.invalid(p, `quantity must be a non-negative number, got ${quote(member_)}`);
        } else out.quantity = member_;
      } else if (key === 'uom') {
        if (typeof member_ !== 'string' || !/^[A-Z0-9]{2,3}$/.test(member_)) {
          this.invalid(
            p,
            `uom must be a UN/ECE Recommendation 20 unit code (2–3 capitals or digits, e.g. "KGM"), got ${quote(member_)}`,
          );
        } else out.uom = member_;
      } else {
        this.notAllowed(p, `a quantity element has only epcClass, quantity and uom; not ${quote(key)}`);
      }
    }
    if (value.epcClass === undefined) this.missing(member(at, 'epcClass'), 'epcClass is required');
    if (value.uom !== undefined && value.quantity === undefined) {
      this.missing(member(at, 'quantity'), 'a quantity element with a uom needs a quantity');
    }
    return out.epcClass === undefined ? undefined : (out as QuantityElement);
  }

  private location(at: string, value: unknown): LocationReference | undefined {
    if (!isPlainObject(value)) {
      this.invalid(at, `expected an object with an id, got ${describe(value)}`);
      return undefined;
    }
    let id: string | undefined;
    const extensions: JsonObject = {};
    for (const [key, member_] of Object.entries(value)) {
      const p = member(at, key);
      if (key === 'id') id = this.identifier(p, member_, 'location');
      else if (isExtensionName(key)) {
        const copy = this.json(p, member_, 1);
        if (copy !== undefined) extensions[key] = copy;
      } else {
        this.notAllowed(p, `unknown field ${quote(key)}; a location has an id and prefixed user extensions`);
      }
    }
    if (value.id === undefined)
      this.missing(member(at, 'id'), 'id is required (an SGLN or other location URI)');
    if (id === undefined) return undefined;
    return Object.keys(extensions).length > 0 ? { id, extensions } : { id };
  }

  private bizTransaction(at: string, value: unknown): BizTransaction | undefined {
    if (!isPlainObject(value)) {
      this.invalid(at, `a business transaction must be an object, got ${describe(value)}`);
      return undefined;
    }
    const out: Partial<BizTransaction> = {};
    for (const [key, member_] of Object.entries(value)) {
      const p = member(at, key);
      if (key === 'type') {
        const type = this.vocabulary(p, member_, 'bizTransactionType');
        if (type !== undefined) out.type = type as BizTransaction['type'];
      } else if (key === 'bizTransaction') {
        const id = this.identifier(p, member_, 'any');
        if (id !== undefined) out.bizTransaction = id;
      } else {
        this.notAllowed(p, `a business transaction has only type and bizTransaction; not ${quote(key)}`);
      }
    }
    if (value.bizTransaction === undefined) {
      this.missing(member(at, 'bizTransaction'), 'bizTransaction (the transaction URI) is required');
    }
    return out.bizTransaction === undefined ? undefined : (out as BizTransaction);
  }

  private sourceOrDestination(
    at: string,
    value: unknown,
    role: 'source' | 'destination',
  ): SourceElement | DestinationElement | undefined {
    if (!isPlainObject(value)) {
      this.invalid(at, `a ${role} must be an object, got ${describe(value)}`);
      return undefined;
    }
    const out: Record<string, string> = {};
    for (const [key, member_] of Object.entries(value)) {
      const p = member(at, key);
      if (key === 'type') {
        const type = this.vocabulary(p, member_, 'sourceDestinationType');
        if (type !== undefined) out.type = type;
      } else if (key === role) {
        const id = this.identifier(p, member_, 'party');
        if (id !== undefined) out[role] = id;
      } else {
        this.notAllowed(p, `a ${role} has only type and ${role}; not ${quote(key)}`);
      }
    }
    if (value.type === undefined) {
      this.missing(member(at, 'type'), `type is required: owning_party, possessing_party or location`);
    }
    if (value[role] === undefined)
      this.missing(member(at, role), `${role} (a party or location URI) is required`);
    if (out.type === undefined || out[role] === undefined) return undefined;
    return out as unknown as SourceElement | DestinationElement;
  }

  private persistentDisposition(at: string, value: unknown): PersistentDisposition | undefined {
    if (!isPlainObject(value)) {
      this.invalid(
        at,
        `persistentDisposition must be an object with set and/or unset, got ${describe(value)}`,
      );
      return undefined;
    }
    const out: PersistentDisposition = {};
    for (const [key, member_] of Object.entries(value)) {
      const p = member(at, key);
      if (key === 'set' || key === 'unset') {
        const list = this.list(p, member_, (q, v) => this.vocabulary(q, v, 'disposition'), true);
        if (list !== undefined) out[key] = list as PersistentDisposition['set'];
      } else {
        this.notAllowed(p, `persistentDisposition has only set and unset; not ${quote(key)}`);
      }
    }
    if (value.set === undefined && value.unset === undefined) {
      this.missing(at, 'persistentDisposition needs set or unset');
    }
    return out;
  }

  private errorDeclaration(at: string, value: unknown): ErrorDeclaration | undefined {
    if (!isPlainObject(value)) {
      this.invalid(at, `errorDeclaration must be an object, got ${describe(value)}`);
      return undefined;
    }
    const out: Partial<ErrorDeclaration> = {};
    const extensions: JsonObject = {};
    for (const [key, member_] of Object.entries(value)) {
      const p = member(at, key);
      if (key === 'declarationTime') out.declarationTime = this.dateTime(p, member_, true);
      else if (key === 'reason')
        out.reason = this.vocabulary(p, member_, 'errorReason') as ErrorDeclaration['reason'];
      else if (key === 'correctiveEventIDs')
        out.correctiveEventIDs = this.list(p, member_, (q, v) => this.uri(q, v), false);
      else if (isExtensionName(key)) {
        const copy = this.json(p, member_, 1);
        if (copy !== undefined) extensions[key] = copy;
      } else {
        this.notAllowed(p, `unknown field ${quote(key)} of an errorDeclaration`);
      }
    }
    if (value.declarationTime === undefined) {
      this.missing(member(at, 'declarationTime'), 'declarationTime is required');
    }
    if (Object.keys(extensions).length > 0) out.extensions = extensions;
    for (const key of Object.keys(out) as (keyof ErrorDeclaration)[])
      if (out[key] === undefined) delete out[key];
    return out.declarationTime === undefined ? undefined : (out as ErrorDeclaration);
  }

  private sensorElement(at: string, value: unknown): JsonObject | undefined {
    if (!isPlainObject(value)) {
      this.invalid(at, `a sensor element must be an object, got ${describe(value)}`);
      return undefined;
    }
    for (const [key, member_] of Object.entries(value)) {
      const p = member(at, key);
      if (key === 'sensorMetadata') {
        if (!isPlainObject(member_)) {
          this.invalid(p, `sensorMetadata must be an object, got ${describe(member_)}`);
        } else this.sensorFields(p, member_, SENSOR_METADATA_FIELDS, 'sensorMetadata');
      } else if (key === 'sensorReport') {
        this.list(
          p,
          member_,
          (q, report) => {
            if (!isPlainObject(report)) {
              this.invalid(q, `a sensor report must be an object, got ${describe(report)}`);
              return undefined;
            }
            this.sensorFields(q, report, SENSOR_REPORT_FIELDS, 'sensorReport');
            return true;
          },
          true,
        );
      } else if (!isExtensionName(key)) {
        this.notAllowed(
          p,
          `unknown field ${quote(key)} of a sensor element; it has sensorMetadata, sensorReport and prefixed user extensions`,
        );
      }
    }
    return this.json(at, value, 1) as JsonObject | undefined;
  }

  private sensorFields(
    at: string,
    value: Record<string, unknown>,
    fields: ReadonlySet<string>,
    what: string,
  ): void {
    for (const [key, member_] of Object.entries(value)) {
      const p = member(at, key);
      if (!fields.has(key)) {
        if (!isExtensionName(key)) {
          this.notAllowed(
            p,
            `unknown field ${quote(key)} of ${what}; allowed: ${[...fields].join(', ')} and prefixed user extensions`,
          );
        }
        continue;
      }
      if (SENSOR_TIME_FIELDS.has(key)) this.dateTime(p, member_, true);
      else if (SENSOR_NUMBER_FIELDS.has(key)) {
        if (typeof member_ !== 'number' || !Number.isFinite(member_)) {
          this.invalid(p, `${key} must be a number, got ${describe(member_)}`);
        }
      } else if (key === 'booleanValue') {
        if (typeof member_ !== 'boolean')
          this.invalid(p, `booleanValue must be true or false, got ${describe(member_)}`);
      } else if (typeof member_ !== 'string') {
        this.invalid(p, `${key} must be a string, got ${describe(member_)}`);
      } else if (SENSOR_URI_FIELDS.has(key)) {
        this.identifier(p, member_, 'any');
      } else {
        this.string(p, member_);
      }
    }
  }

  /** A user extension object (`ilmd`, extension members): names must be prefixed, values JSON within limits. */
  private extensionObject(at: string, value: Record<string, unknown>, what: string): JsonObject | undefined {
    const out: JsonObject = {};
    for (const [key, member_] of Object.entries(value)) {
      const p = member(at, key);
      if (!isExtensionName(key)) {
        this.notAllowed(
          p,
          `${what} members need a namespace prefix declared in @context (e.g. "cbvmda:lotNumber"), got ${quote(key)}`,
        );
        continue;
      }
      const copy = this.json(p, member_, 1);
      if (copy !== undefined) out[key] = copy;
    }
    return out;
  }

  /** A copy of a JSON value after checking it is JSON (no functions, NaN, …) within the string and depth limits. */
  private json(at: string, value: unknown, depth: number): JsonValue | undefined {
    if (depth > this.maxDepth) {
      this.report(at, EpcisErrorCode.LIMIT_EXCEEDED, `nested more than ${this.maxDepth} levels deep`);
      return undefined;
    }
    if (value === null) {
      this.invalid(at, 'null is not accepted here; leave the member out instead');
      return undefined;
    }
    if (typeof value === 'boolean') return value;
    if (typeof value === 'number') {
      if (Number.isFinite(value)) return value;
      this.invalid(at, `${value} is not a JSON number`);
      return undefined;
    }
    if (typeof value === 'string') {
      if (value.length > this.maxString) {
        this.report(
          at,
          EpcisErrorCode.LIMIT_EXCEEDED,
          `a string may have at most ${this.maxString} characters, this one has ${value.length}`,
        );
        return undefined;
      }
      return value;
    }
    if (Array.isArray(value)) {
      const out: JsonValue[] = [];
      for (let i = 0; i < value.length; i++) {
        const copy = this.json(item(at, i), i in value ? value[i] : undefined, depth + 1);
        if (copy !== undefined) out.push(copy);
      }
      return out;
    }
    if (isPlainObject(value)) {
      const out: JsonObject = {};
      for (const [key, member_] of Object.entries(value)) {
        const copy = this.json(member(at, key), member_, depth + 1);
        if (copy !== undefined) out[key] = copy;
      }
      return out;
    }
    this.invalid(at, `${describe(value)} is not a JSON value`);
    return undefined;
  }
}

/**
 * Why a GS1 identifier does not belong in `place`, or undefined when it does. Object lists and `parentID` take
 * instances (SGTIN, SSCC, GIAI, GDTI, … but not a class, nor a party), quantity lists classes (LGTIN, GTIN class),
 * `readPoint`/`bizLocation` locations (SGLN), sources and destinations parties or locations (PGLN, SGLN); elsewhere
 * (`bizTransaction`, `transformationID`, sensor fields) any GS1 identifier goes.
 */
function wrongKind(id: Gs1Identifier, place: IdentifierPlace): string | undefined {
  const name = KIND_NAMES[id.kind];
  switch (place) {
    case 'instance':
      if (id.kind === 'lgtin' || id.kind === 'gtin') {
        return `${name} is a class of objects, not one object; put it in a quantity list (epcClass), not here`;
      }
      if (id.kind === 'pgln') {
        return `${name} is a party, not an object; put it in a sourceList or destinationList (e.g. owning_party), not here`;
      }
      return undefined;
    case 'class':
      if (id.kind === 'lgtin' || id.kind === 'gtin') return undefined;
      return `epcClass must be a class-level identifier (LGTIN or GTIN class, e.g. urn:epc:class:lgtin:…), not ${name}`;
    case 'location':
      if (id.kind === 'sgln') return undefined;
      return `a readPoint or bizLocation must be a location (SGLN, e.g. urn:epc:id:sgln:…), not ${name}`;
    case 'party':
      if (id.kind === 'sgln' || id.kind === 'pgln') return undefined;
      return `a source or destination must be a party or location (PGLN, SGLN), not ${name}`;
    case 'any':
      return undefined;
  }
}

/** Each kind's name with its article, for messages. */
const KIND_NAMES: Record<Gs1Identifier['kind'], string> = {
  sgtin: 'an SGTIN',
  sscc: 'an SSCC',
  sgln: 'an SGLN',
  lgtin: 'an LGTIN',
  gtin: 'a GTIN class',
  pgln: 'a PGLN',
  gdti: 'a GDTI',
  giai: 'a GIAI',
};

/** "an ObjectEvent", "a TransactionEvent". */
function article(type: EpcisEventType): string {
  return `${/^[AEIOU]/.test(type) ? 'an' : 'a'} ${type}`;
}

function formatDuration(ms: number): string {
  if (ms % 60_000 === 0) return `${ms / 60_000} minute${ms === 60_000 ? '' : 's'}`;
  if (ms % 1000 === 0) return `${ms / 1000} s`;
  return `${ms} ms`;
}
