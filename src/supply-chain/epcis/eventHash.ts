/**
 * The EPCIS Event Hash ID of GS1 CBV 2.0 (§8.9): a fingerprint of an event that does not depend on how the event was
 * written — JSON or XML, member order, URN or Digital Link, bare CBV word or URI, time zone — so two parties holding
 * the same event compute the same `ni:///sha-256;<hex>?ver=CBV2.0` (RFC 6920) and can use it as its `eventID`.
 *
 * The algorithm builds a *pre-hash string* and hashes its UTF-8 bytes with SHA-256:
 *   1. `eventType=<type>`, then the standard fields in the canonical property order (eventTime, eventTimeZoneOffset,
 *      epcList, parentID, inputEPCList, childEPCs, quantityList, childQuantityList, inputQuantityList, outputEPCList,
 *      outputQuantityList, action, transformationID, bizStep, disposition, persistentDisposition, readPoint,
 *      bizLocation, bizTransactionList, sourceList, destinationList, sensorElementList), each value as `name=value`,
 *      lists as the list name followed by their elements (`epcListepc=…epc=…`), no separators anywhere;
 *   2. then, sorted together: the `ilmd` block, the user extensions of standard fields with an extension point
 *      (`readPoint`, `bizLocation`, sensor elements: written after their parent's name, e.g. `readPoint{ns}x=1`) and
 *      the event-level user extensions, each name written as `{namespace}localName`.
 * Values: leading/trailing whitespace trimmed; timestamps in UTC with `Z` and millisecond precision; numbers without
 * trailing zeros (`1.0` → `1`); CBV values as GS1 Web URIs (`https://ref.gs1.org/cbv/BizStep-shipping`), GS1 Web
 * Vocabulary CURIEs expanded; GS1 identifiers as canonical GS1 Digital Link URIs (`https://id.gs1.org/…`, query
 * string dropped, most specific level only) as the GS1 identifier module writes them. The elements of every list are
 * sorted (by UTF-8 code units, i.e. code points); a business transaction, source or destination is written
 * `type=…` first, then sorted. Left out: `eventID`, `recordTime`, `certificationInfo`, `errorDeclaration`, comments.
 *
 * The details follow the GS1 reference implementation (https://github.com/RalphTro/epcis-event-hash-generator,
 * CBV 2.0 mode), whose published vectors the tests check; e.g. in CBV 2.0 the `sensorElementList` name itself is not
 * written, and extensions inside `readPoint` go to the sorted trailing block rather than after `readPoint`'s id.
 *
 * Limitation: identifiers of EPC schemes the GS1 identifier module does not read (GRAI, GSRN, CPI, …; it reads SGTIN,
 * SSCC, SGLN, LGTIN, GTIN class, PGLN, GDTI and GIAI) are written as sent, where the reference converts them to
 * Digital Link; events using them get a different hash than the reference computes until that module supports them.
 */
import { hash } from 'node:crypto';
import { toHashTimestamp } from './dateTime.js';
import type { EpcisEvent, JsonObject, JsonValue, QuantityElement } from './epcisDocument.js';
import { IdentifierReadings } from './gs1.js';
import { SENSOR_METADATA_MEMBERS, SENSOR_REPORT_MEMBERS } from './sensorMembers.js';
import { toCbvWebUri, type CbvVocabulary } from './vocabulary.js';

/** The algorithm version this module implements, as it appears in the hash URI. */
export const EVENT_HASH_VERSION = 'CBV2.0';

/** The event hash ID: `ni:///sha-256;<64 hex digits>?ver=CBV2.0`. */
export function eventHash(event: EpcisEvent): string {
  return eventHashWith(event, new IdentifierReadings());
}

/** {@link eventHash}, reading identifiers through `readings` (those of the event's document, read once for all). */
export function eventHashWith(event: EpcisEvent, readings: IdentifierReadings): string {
  // SHA-256 of the string's UTF-8 bytes, in hex, in one native call.
  const digest = hash('sha256', new PreHash(event, readings).build(), 'hex');
  return `ni:///sha-256;${digest}?ver=${EVENT_HASH_VERSION}`;
}

/** True when `value` has the form of a CBV 2.0 SHA-256 event hash ID. */
export function isEventHash(value: string): boolean {
  return /^ni:\/\/\/sha-256;[0-9a-f]{64}\?ver=CBV2\.0$/.test(value);
}

/** The pre-hash string of an event (what {@link eventHash} hashes), for debugging and comparing implementations. */
export function preHashString(event: EpcisEvent): string {
  return new PreHash(event, new IdentifierReadings()).build();
}

// --- Constants -----------------------------------------------------------------------------------------------------

/** Prefixes the reference implementation knows without a declaration; the event's `@context` may override them. */
const DEFAULT_NAMESPACES: Readonly<Record<string, string>> = {
  gs1: 'https://ref.gs1.org/voc/',
  cbv: 'https://ref.gs1.org/cbv/',
  epcis: 'https://ref.gs1.org/epcis/',
  cbvmda: 'urn:epcglobal:cbv:mda',
};

/** The GS1 Web Vocabulary namespace: `gs1:` is always this, as in EPCIS 2.0's context. */
const GS1_VOC = 'https://ref.gs1.org/voc/';

/** CBV 1.x URN prefixes replaced by their Web URI equivalents in any value. */
const CBV_URN_TO_WEB: readonly [string, string][] = [
  ['urn:epcglobal:cbv:bizstep:', 'https://ref.gs1.org/cbv/BizStep-'],
  ['urn:epcglobal:cbv:disp:', 'https://ref.gs1.org/cbv/Disp-'],
  ['urn:epcglobal:cbv:btt:', 'https://ref.gs1.org/cbv/BTT-'],
  ['urn:epcglobal:cbv:sdt:', 'https://ref.gs1.org/cbv/SDT-'],
  ['urn:epcglobal:cbv:er:', 'https://ref.gs1.org/cbv/ER-'],
];

/** Members never hashed wherever they appear (comments), as in the reference implementation. */
const IGNORED_MEMBERS = new Set(['#text', 'rdfs:comment', 'comment', '@context']);

/** A number as Python's `float` → `int`-if-whole → `str` writes it, which is what the reference hashes. */
export function hashNumber(value: number): string {
  if (Number.isInteger(value)) return BigInt(value).toString();
  const exponential = value.toExponential(); // shortest round-trip digits, like Python's repr
  const at = exponential.indexOf('e');
  const exponent = Number(exponential.slice(at + 1));
  if (exponent < -4) {
    return `${exponential.slice(0, at)}e-${String(-exponent).padStart(2, '0')}`;
  }
  return String(value);
}

/** Python `float()` syntax (without inf/nan): optional sign, digits with single underscores, fraction, exponent. */
const PYTHON_FLOAT = /^[+-]?(?:\d(?:_?\d)*(?:\.(?:\d(?:_?\d)*)?)?|\.\d(?:_?\d)*)(?:[eE][+-]?\d(?:_?\d)*)?$/;

/** One node of the generic tree user extensions are written from: a name, an optional value, children. */
interface GenericNode {
  name: string;
  text: string;
  children: GenericNode[];
}

/** Compares by Unicode code points (= UTF-8 byte order), not UTF-16 code units. */
function compareCodePoints(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (0xD800–0xDFFF) encode code points above every BMP character; lift them above 0xFFFF.
    const cx = x >= 0xd800 && x <= 0xdfff ? x + 0x10000 : x;
    const cy = y >= 0xd800 && y <= 0xdfff ? y + 0x10000 : y;
    return cx - cy;
  }
  return a.length - b.length;
}

/** Any UTF-16 surrogate: where code unit order and code point order part. */
const SURROGATE = /[\uD800-\uDFFF]/;

function sorted(strings: string[]): string[] {
  if (strings.length < 2) return strings;
  // Without surrogates, code unit order (the built-in sort, much faster) is code point order.
  for (const s of strings) if (SURROGATE.test(s)) return strings.sort(compareCodePoints);
  return strings.sort();
}

// --- The builder ---------------------------------------------------------------------------------------------------

class PreHash {
  private readonly event: EpcisEvent;
  private readonly namespaces: Record<string, string>;
  private readonly readings: IdentifierReadings;

  constructor(event: EpcisEvent, readings: IdentifierReadings) {
    this.event = event;
    this.readings = readings;
    this.namespaces = { ...DEFAULT_NAMESPACES, ...event.namespaces, gs1: GS1_VOC };
  }

  build(): string {
    const e = this.event;
    const fields = e as unknown as Record<string, unknown>;
    const parts: string[] = [`eventType=${e.type}`];
    parts.push(this.value('eventTime', e.eventTime));
    parts.push(this.value('eventTimeZoneOffset', e.eventTimeZoneOffset));
    parts.push(this.identifiers('epcList', fields.epcList));
    parts.push(this.value('parentID', fields.parentID));
    parts.push(this.identifiers('inputEPCList', fields.inputEPCList));
    parts.push(this.identifiers('childEPCs', fields.childEPCs));
    parts.push(this.quantities('quantityList', fields.quantityList));
    parts.push(this.quantities('childQuantityList', fields.childQuantityList));
    parts.push(this.quantities('inputQuantityList', fields.inputQuantityList));
    parts.push(this.identifiers('outputEPCList', fields.outputEPCList));
    parts.push(this.quantities('outputQuantityList', fields.outputQuantityList));
    parts.push(this.value('action', fields.action));
    parts.push(this.value('transformationID', fields.transformationID));
    parts.push(this.vocabulary('bizStep', e.bizStep, 'bizStep'));
    parts.push(this.vocabulary('disposition', e.disposition, 'disposition'));
    if (e.persistentDisposition !== undefined) {
      const set = (e.persistentDisposition.set ?? []).map((d) => this.vocabulary('set', d, 'disposition'));
      const unset = (e.persistentDisposition.unset ?? []).map((d) =>
        this.vocabulary('unset', d, 'disposition'),
      );
      parts.push(this.group('persistentDisposition', [sorted(set).join(''), sorted(unset).join('')], false));
    }
    if (e.readPoint !== undefined)
      parts.push(this.group('readPoint', [this.value('id', e.readPoint.id)], false));
    if (e.bizLocation !== undefined)
      parts.push(this.group('bizLocation', [this.value('id', e.bizLocation.id)], false));
    parts.push(
      this.group(
        'bizTransactionList',
        (e.bizTransactionList ?? []).map(
          (t) =>
            this.vocabulary('type', t.type, 'bizTransactionType') +
            this.value('bizTransaction', t.bizTransaction),
        ),
        true,
      ),
    );
    parts.push(
      this.group(
        'sourceList',
        (e.sourceList ?? []).map(
          (s) => this.vocabulary('type', s.type, 'sourceDestinationType') + this.value('source', s.source),
        ),
        true,
      ),
    );
    parts.push(
      this.group(
        'destinationList',
        (e.destinationList ?? []).map(
          (d) =>
            this.vocabulary('type', d.type, 'sourceDestinationType') +
            this.value('destination', d.destination),
        ),
        true,
      ),
    );
    // CBV 2.0 writes each sensorElement without the list's own name.
    parts.push(sorted((e.sensorElementList ?? []).map((element) => this.sensorElement(element))).join(''));
    parts.push(this.trailing());
    return parts.join('');
  }

  /** `name=value` with the value normalised, or '' when there is no value. */
  private value(name: string, raw: unknown): string {
    if (raw === undefined || raw === null || typeof raw === 'object') return '';
    let text = scalarText(raw).trim();
    if (text === '') return '';
    text = isTimeName(name) ? toHashTimestamp(text) : this.canonical(text);
    return text === '' ? '' : `${name}=${text}`;
  }

  private vocabulary(name: string, raw: string | undefined, vocabulary: CbvVocabulary): string {
    return raw === undefined ? '' : this.value(name, toCbvWebUri(vocabulary, raw));
  }

  /** `name` followed by its non-empty parts (sorted when `sort`), or '' when all are empty. */
  private group(name: string, parts: string[], sort: boolean): string {
    const present = parts.filter((part) => part !== '');
    if (present.length === 0) return '';
    return name + (sort ? sorted(present) : present).join('');
  }

  private identifiers(name: string, list: unknown): string {
    if (!Array.isArray(list)) return '';
    return this.group(
      name,
      list.map((epc) => this.value('epc', epc)),
      true,
    );
  }

  private quantities(name: string, list: unknown): string {
    if (!Array.isArray(list)) return '';
    return this.group(
      name,
      (list as QuantityElement[]).map((q) =>
        this.group(
          'quantityElement',
          [this.value('epcClass', q.epcClass), this.value('quantity', q.quantity), this.value('uom', q.uom)],
          false,
        ),
      ),
      true,
    );
  }

  private sensorElement(element: JsonObject): string {
    const parts: string[] = [];
    const metadata = element.sensorMetadata;
    if (isObject(metadata)) {
      parts.push(
        this.group(
          'sensorMetadata',
          SENSOR_METADATA_MEMBERS.map((key) => this.sensorValue(key, metadata[key])),
          false,
        ),
      );
    }
    const reports = Array.isArray(element.sensorReport) ? element.sensorReport.filter(isObject) : [];
    parts.push(
      sorted(
        reports.map((report) =>
          this.group(
            'sensorReport',
            SENSOR_REPORT_MEMBERS.map((key) => this.sensorValue(key, report[key])),
            false,
          ),
        ),
      ).join(''),
    );
    return this.group('sensorElement', parts, false);
  }

  private sensorValue(key: string, raw: JsonValue | undefined): string {
    if (typeof raw === 'string' && /^[A-Za-z][A-Za-z0-9_]*$/.test(raw.trim())) {
      // Bare terms: measurement types and alert types are GS1 Web Vocabulary terms, components CBV terms.
      if (key === 'type' || key === 'exception') return this.value(key, `${GS1_VOC}${raw.trim()}`);
      if (key === 'component') return this.value(key, `https://ref.gs1.org/cbv/Comp-${raw.trim()}`);
    }
    return this.value(key, raw);
  }

  /** ILMD, extensions of standard fields and event-level extensions, sorted together. */
  private trailing(): string {
    const e = this.event;
    const nodes: GenericNode[] = this.members(e.extensions);
    if ((e.type === 'ObjectEvent' || e.type === 'TransformationEvent') && e.ilmd !== undefined) {
      nodes.push({ name: 'ilmd', text: '', children: this.members(e.ilmd) });
    }
    for (const [name, location] of [
      ['readPoint', e.readPoint],
      ['bizLocation', e.bizLocation],
    ] as const) {
      const children = this.members(location?.extensions ?? {});
      if (children.length > 0) nodes.push({ name, text: '', children });
    }
    for (const element of e.sensorElementList ?? []) {
      const children: GenericNode[] = [];
      const metadata = element.sensorMetadata;
      if (isObject(metadata)) {
        const extra = this.members(metadata, SENSOR_METADATA_MEMBERS);
        if (extra.length > 0) children.push({ name: 'sensorMetadata', text: '', children: extra });
      }
      for (const report of Array.isArray(element.sensorReport) ? element.sensorReport : []) {
        if (!isObject(report)) continue;
        const extra = this.members(report, SENSOR_REPORT_MEMBERS);
        if (extra.length > 0) children.push({ name: 'sensorReport', text: '', children: extra });
      }
      children.push(...this.members(element, ['sensorMetadata', 'sensorReport']));
      if (children.length > 0) nodes.push({ name: 'sensorElement', text: '', children });
    }
    return this.render(nodes);
  }

  /** The generic nodes of an object's members (except `skip` and comments); an array member gives one node each. */
  private members(object: JsonObject, skip: readonly string[] = []): GenericNode[] {
    const nodes: GenericNode[] = [];
    for (const [key, value] of Object.entries(object)) {
      if (skip.includes(key) || IGNORED_MEMBERS.has(key) || key.startsWith('@xmlns') || value === null)
        continue;
      const name = this.expandName(key);
      if (Array.isArray(value)) {
        for (const element of value) if (element !== null) nodes.push(this.node(name, element));
      } else {
        nodes.push(this.node(name, value));
      }
    }
    return nodes;
  }

  private node(name: string, value: JsonValue): GenericNode {
    if (Array.isArray(value)) {
      return { name, text: '', children: value.filter((v) => v !== null).map((v) => this.node('', v)) };
    }
    if (isObject(value)) {
      const text = value['#text'];
      return {
        name,
        text: text === undefined || text === null || typeof text === 'object' ? '' : scalarText(text),
        children: this.members(value),
      };
    }
    return { name, text: value === null ? '' : scalarText(value), children: [] };
  }

  private render(nodes: GenericNode[]): string {
    return sorted(
      nodes.map((node) => {
        const text = node.text.trim();
        return `${node.name}${text === '' ? '' : `=${this.canonical(text)}`}${this.render(node.children)}`;
      }),
    ).join('');
  }

  /** `prefix:local` → `{namespace}local` when the prefix is declared (or one of the defaults). */
  private expandName(key: string): string {
    const colon = key.indexOf(':');
    if (colon <= 0) return key;
    const namespace = this.namespaces[key.slice(0, colon)];
    return namespace === undefined ? key : `{${namespace}}${key.slice(colon + 1)}`;
  }

  /** A value as the hash writes it: GS1 CURIEs expanded, CBV URNs as Web URIs, numbers, GS1 Digital Link. */
  private canonical(text: string): string {
    let value = text;
    const colon = value.indexOf(':');
    if (colon > 0) {
      // Only GS1 vocabularies' CURIEs are expanded in values (a user's `example:x` stays as written).
      const namespace = this.namespaces[value.slice(0, colon)];
      if (namespace !== undefined && /^https:\/\/(?:ref\.)?gs1\.org/.test(namespace)) {
        value = namespace + value.slice(colon + 1);
      }
    }
    // The rest depends on the value alone, and a document repeats its values (locations, steps, packs, cases).
    const memo = this.readings.hashValues;
    const known = memo.get(value);
    if (known !== undefined) return known;
    const written = normalisedValue(value, this.readings);
    memo.set(value, written);
    return written;
  }
}

/** A value (its GS1 CURIEs expanded) as the hash writes it: CBV URNs as Web URIs, numbers, GS1 Digital Link. */
function normalisedValue(text: string, readings: IdentifierReadings): string {
  let value = text;
  // Every CBV 1.x prefix starts so, and no replacement brings one in.
  if (value.includes('urn:epcglobal:cbv:')) {
    for (const [urn, web] of CBV_URN_TO_WEB) value = value.replaceAll(urn, web);
  }
  if (PYTHON_FLOAT.test(value)) {
    const number = Number(value.replaceAll('_', ''));
    if (Number.isFinite(number)) return hashNumber(number);
  }
  if (/^(?:urn:|https?:\/\/)/i.test(value)) {
    // Rule 18 (II): a Digital Link's query string is not part of the identifier.
    const reading = readings.read(/^https?:/i.test(value) ? value.replace(/\?.*$/s, '') : value);
    if (reading.status === 'gs1') return reading.key;
  }
  return value;
}

/** Names whose values are timestamps (`eventTime`, sensor `time`, …; not `eventTimeZoneOffset`), remembered. */
const timeNames = new Map<string, boolean>();

function isTimeName(name: string): boolean {
  let time = timeNames.get(name);
  if (time === undefined) {
    const lower = name.toLowerCase();
    time = lower.includes('time') && !lower.includes('offset');
    // Names come from the standard and its sensor members; a bound keeps odd documents from growing it.
    if (timeNames.size < 1_000) timeNames.set(name, time);
  }
  return time;
}

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function scalarText(value: unknown): string {
  if (typeof value === 'number') return hashNumber(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return String(value);
}
