import { InvalidInputError, NotFoundError } from '../../core/errors.js';
import type { EpcRole, EventQuery, EventRow } from '../capture/ports.js';
import type { ChainCustodyEntry } from '../custody/ports.js';
import {
  canonicalKey,
  parseDigitalLink,
  parseGs1Identifier,
  type Gs1Identifier,
} from '../identifiers/index.js';
import { containerWindows, within, type AggregationFact, type ContainerWindow } from './containment.js';
import type { TraceDeps } from './ports.js';

/** Every role an identifier can have in an event. */
const ANY_ROLE: EpcRole[] = ['epc', 'parent', 'child', 'input', 'output', 'quantity'];
const PAGE = 1_000;

/** How a step relates to the traced object. */
export type TraceRelation =
  | { kind: 'self' }
  | {
      kind: 'container';
      /** 1: the object's own container; 2: the container of that one… */
      depth: number;
      /** The container the event names, as the aggregation event writes it. */
      container: string;
      /** The containers from the object's own up to that one. */
      via: string[];
    };

export interface TraceStep {
  eventId: string;
  eventType: string;
  eventTime: string;
  recordTime: string;
  bizStep: string | null;
  disposition: string | null;
  bizLocation: string | null;
  readPoint: string | null;
  relation: TraceRelation;
  /** The relation in words: "the pack itself", "in case urn:epc:id:sscc:…", "in pallet … (holding case …)". */
  description: string;
  /** The event as stored and anchored (its canonical JSON is the record's content). */
  event: unknown;
  /** Its anchoring proof, or `'pending'` until its batch is confirmed; absent when proofs were not asked for. */
  proof?: unknown;
}

export interface TraceContainer {
  /** The container's canonical key. */
  container: string;
  /** As the aggregation event writes it. */
  epc: string;
  depth: number;
  /** The containers from the object's own up to this one (canonical keys). */
  path: string[];
  /** While the traced object was in it (both ends inclusive; `until: null`: still is, as far as this gateway knows). */
  from: string;
  until: string | null;
  /** The aggregation events that put it in and took it out (of the container one level down, for depth > 1). */
  addedBy: string;
  removedBy: string | null;
}

export interface TraceCustodyEntry extends Omit<ChainCustodyEntry, 'time'> {
  time: string;
}

export interface Trace {
  epc: string;
  canonical: string;
  kind: 'sgtin' | 'sscc';
  /** The pack's lot, when known here (from its commissioning event, or the Digital Link asked with). */
  lot: { gtin: string; lot: string } | null;
  steps: TraceStep[];
  containers: TraceContainer[];
  /** What the chain recorded about the pack and its lot, oldest first (an SGTIN of a lot known here). */
  custody: TraceCustodyEntry[];
}

export interface TraceOptions {
  /** Include each step's anchoring proof (default true). */
  proofs?: boolean;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** The words for the traced object and its containers, by what it is. */
function vocabulary(kind: 'sgtin' | 'sscc') {
  return kind === 'sgtin'
    ? { self: 'the pack itself', levels: ['case', 'pallet'] }
    : { self: 'the container itself', levels: ['pallet'] };
}

/**
 * Chain of custody of one pack (SGTIN) or logistic unit (SSCC) as this gateway knows it: every stored EPCIS event
 * naming it in any role, and every event naming a container it was in (followed through AggregationEvents: pack →
 * case → pallet) while it was inside, in event-time order, each with its anchoring proof; plus, for a pack whose lot
 * is known here, what the chain recorded about it (transfers, dispensing, …).
 */
export class TraceService {
  private readonly deps: TraceDeps;

  constructor(deps: TraceDeps) {
    this.deps = deps;
  }

  /**
   * @param epc - An EPC URN or GS1 Digital Link URI of an SGTIN or SSCC.
   * @throws Gs1IdentifierError (400) for a malformed identifier; `TRACE.UNSUPPORTED_IDENTIFIER` (400) for another
   *   kind; `TRACE.NOT_FOUND` (404) when nothing here mentions it.
   */
  async trace(epc: string, options: TraceOptions = {}): Promise<Trace> {
    const { id, lotFromLink } = readIdentifier(epc);
    if (id.kind !== 'sgtin' && id.kind !== 'sscc') {
      throw new InvalidInputError(
        'TRACE.UNSUPPORTED_IDENTIFIER',
        `${epc.slice(0, 200)} is a ${id.kind.toUpperCase()}; a trace follows a serialised pack (SGTIN: urn:epc:id:sgtin:…, /01/…/21/…) or a logistic unit (SSCC: urn:epc:id:sscc:…, /00/…).`,
        { details: { epc: epc.slice(0, 200), kind: id.kind } },
      );
    }
    const kind = id.kind;
    const canonical = canonicalKey(id);
    const own = this.eventsNaming(canonical);
    const known = id.kind === 'sgtin' ? this.deps.packs.pack(id.gtin, id.serial) : undefined;
    if (own.length === 0 && !known) {
      throw new NotFoundError(
        'TRACE.NOT_FOUND',
        `No event captured at this gateway names ${epc.slice(0, 200)} (as ${canonical}), nor any container holding it: check the identifier, or ask the gateway of the organisation that handled it (capture its documents here to trace it here).`,
        { details: { epc: epc.slice(0, 200), canonical } },
      );
    }

    const facts = new Map<string, AggregationFact[]>();
    const windows = containerWindows(canonical, (key) => {
      let found = facts.get(key);
      if (!found) {
        found = this.aggregationFactsOf(key);
        facts.set(key, found);
      }
      return found;
    });

    const words = vocabulary(kind);
    const steps = new Map<string, { row: EventRow; relation: TraceRelation; description: string }>();
    for (const row of own)
      steps.set(row.eventId, { row, relation: { kind: 'self' }, description: words.self });
    // Shallower containers first, so an event naming both a case and its pallet is told as the case's.
    for (const window of [...windows].sort((a, b) => a.depth - b.depth)) {
      const rows = this.eventsNaming(window.container, window);
      for (const row of rows) {
        if (steps.has(row.eventId) || !within(window, row.eventTime)) continue;
        steps.set(row.eventId, {
          row,
          relation: {
            kind: 'container',
            depth: window.depth,
            container: window.containerEpc,
            via: window.pathEpcs.slice(0, -1),
          },
          description: describe(window, words.levels),
        });
      }
    }
    const ordered = [...steps.values()].sort(
      (a, b) => a.row.eventTime - b.row.eventTime || a.row.recordId - b.row.recordId,
    );
    const withProofs = options.proofs ?? true;

    const lot =
      id.kind === 'sgtin'
        ? known
          ? { gtin: known.gtin, lot: known.lot }
          : lotFromLink
            ? { gtin: id.gtin, lot: lotFromLink }
            : null
        : null;
    const custody =
      id.kind === 'sgtin' && lot && this.deps.packHistory
        ? (await this.deps.packHistory(lot.gtin, lot.lot, id.serial)).map((e) => ({
            ...e,
            time: iso(e.time * 1000),
          }))
        : [];

    return {
      epc,
      canonical,
      kind,
      lot,
      steps: ordered.map(({ row, relation, description }) => ({
        eventId: row.eventId,
        eventType: row.eventType,
        eventTime: iso(row.eventTime),
        recordTime: iso(row.recordTime),
        bizStep: row.bizStep,
        disposition: row.disposition,
        bizLocation: row.bizLocation,
        readPoint: row.readPoint,
        relation,
        description,
        event: JSON.parse(row.body) as unknown,
        ...(withProofs ? { proof: this.deps.proofOf(row.recordId) } : {}),
      })),
      containers: windows.map((w) => ({
        container: w.container,
        epc: w.containerEpc,
        depth: w.depth,
        path: w.path,
        from: iso(w.from),
        until: w.until === null ? null : iso(w.until),
        addedBy: w.addedBy,
        removedBy: w.removedBy,
      })),
      custody,
    };
  }

  /** Every stored event naming `key` in any role (within the window's event times, when given), by record id. */
  private eventsNaming(key: string, window?: { from: number; until: number | null }): EventRow[] {
    return this.all({
      epcConditions: [{ epcs: [key], prefixes: [], roles: ANY_ROLE }],
      ...(window
        ? {
            eventTimeFrom: window.from,
            ...(window.until === null ? {} : { eventTimeBefore: window.until + 1 }),
          }
        : {}),
    });
  }

  /**
   * The AggregationEvents that decide where `key` was: those naming it as a child, and every aggregation event of
   * each parent they name (a DELETE without children empties the parent).
   */
  private aggregationFactsOf(key: string): AggregationFact[] {
    const asChild = this.all({
      eventTypes: ['AggregationEvent'],
      epcConditions: [{ epcs: [key], prefixes: [], roles: ['child'] }],
    });
    const parents = new Set<string>();
    const out: AggregationFact[] = [];
    for (const row of asChild) {
      const fact = factOf(row);
      if (fact) parents.add(fact.parent);
    }
    if (parents.size === 0) return out;
    const rows = this.all({
      eventTypes: ['AggregationEvent'],
      epcConditions: [{ epcs: [...parents], prefixes: [], roles: ['parent'] }],
    });
    for (const row of rows) {
      const fact = factOf(row);
      if (fact) out.push(fact);
    }
    return out;
  }

  private all(query: Omit<EventQuery, 'afterRecordId' | 'limit'>): EventRow[] {
    const out: EventRow[] = [];
    let after = 0;
    for (;;) {
      const rows = this.deps.events.query({ ...query, afterRecordId: after, limit: PAGE });
      out.push(...rows);
      const last = rows[rows.length - 1];
      if (rows.length < PAGE || !last) return out;
      after = last.recordId;
    }
  }
}

/** An identifier from the path: EPC URN or Digital Link (whose lot, if it has one, is kept). */
function readIdentifier(epc: string): { id: Gs1Identifier; lotFromLink?: string | undefined } {
  if (/^https?:\/\//i.test(epc)) {
    const link = parseDigitalLink(epc);
    return { id: link.identifier, lotFromLink: link.lot };
  }
  return { id: parseGs1Identifier(epc) };
}

/** An identifier as its canonical key; a URI that is not a GS1 identifier as written. */
function keyOf(value: string): string {
  try {
    return canonicalKey(parseGs1Identifier(value));
  } catch {
    return value;
  }
}

function factOf(row: EventRow): AggregationFact | undefined {
  const event = JSON.parse(row.body) as { action?: unknown; parentID?: unknown; childEPCs?: unknown };
  if (typeof event.parentID !== 'string' || typeof event.action !== 'string') return undefined;
  const children = Array.isArray(event.childEPCs) ? (event.childEPCs as unknown[]) : [];
  return {
    recordId: row.recordId,
    eventId: row.eventId,
    eventTime: row.eventTime,
    action: event.action,
    parent: keyOf(event.parentID),
    parentEpc: event.parentID,
    children: children.filter((c): c is string => typeof c === 'string').map(keyOf),
  };
}

/** "in case X", "in pallet Y (holding case X)", "in container Z (holding pallet Y, holding case X)". */
function describe(window: ContainerWindow, levels: readonly string[]): string {
  const name = (depth: number) => levels[depth - 1] ?? 'container';
  const here = `in ${name(window.depth)} ${window.containerEpc}`;
  const below = window.pathEpcs
    .slice(0, -1)
    .map((epc, i) => `${name(i + 1)} ${epc}`)
    .reverse();
  return below.length === 0 ? here : `${here} (holding ${below.join(', holding ')})`;
}
