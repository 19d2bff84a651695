import { uuidv7 } from '../../core/uuidv7.js';
import type { CaptureJob, EpcRole, EpcisStore } from './ports.js';

/** One identifier of a captured event: its canonical key and role, and what the GS1 module read in it. */
export interface EventIdentifier {
  /** Canonical GS1 Digital Link URI (or the URI as sent for non-GS1 identifiers). */
  epc: string;
  role: EpcRole;
  /** The GS1 kind (`sgtin`, `sscc`, …); absent for an identifier the GS1 module does not read. */
  kind?: string;
  /** An SGTIN's GTIN (14 digits) and serial. */
  gtin?: string;
  serial?: string;
}

/** An event of a validated EPCIS document, as capture (and custody) needs it. */
export interface CapturedEvent {
  eventType: string;
  /** The sender's `eventID`, else the CBV 2.0 event hash ID (`ni:///sha-256;…?ver=CBV2.0`). */
  eventId: string;
  /** ms since the epoch */
  eventTime: number;
  /** ADD, OBSERVE or DELETE; null for a TransformationEvent. */
  action: string | null;
  /** CBV bare words. */
  bizStep: string | null;
  disposition: string | null;
  /** Canonical GS1 Digital Link URIs (or the URI as sent for non-GS1 identifiers). */
  bizLocation: string | null;
  readPoint: string | null;
  /** Every identifier with its role, each (identifier, role) once, in the order the event lists them. */
  epcs: EventIdentifier[];
  /** The owning party of the sourceList and of the destinationList (canonical keys), when stated. */
  sourceOwner: string | null;
  destinationOwner: string | null;
  /** Instance/lot master data (ILMD) of a commissioning event: its lot and expiry date (YYYY-MM-DD), if given. */
  lot?: string | undefined;
  expiry?: string | undefined;
  /**
   * The event as stored: canonical JSON (RFC 8785) of its JSON as sent (validated), with `eventID` and `recordTime`
   * (the `now` it was read at); and the SHA-256 of its UTF-8 bytes, which its anchoring record holds.
   */
  body: string;
  contentHash: Uint8Array;
}

/**
 * A document still as its JSON text (UTF-8 bytes, as received): the reader parses it, on a worker thread when it
 * runs on one, so a large document is not even parsed on the event loop.
 */
export class EpcisDocumentBytes {
  readonly bytes: Uint8Array;
  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }
}

/** What capture needs of the EPCIS vocabulary and document rules (`../epcis/`), behind one port. */
export interface EpcisDocumentReader {
  /**
   * Validates an EPCISDocument (parsed, or as {@link EpcisDocumentBytes}) and returns its events stamped with `now` as their
   * `recordTime`; throws (or rejects with) a 400 naming every problem, storing nothing. A reader on worker threads
   * answers asynchronously.
   */
  read(document: unknown, now: number): CapturedEvent[] | Promise<CapturedEvent[]>;
}

export interface CaptureServiceOptions {
  store: EpcisStore;
  reader: EpcisDocumentReader;
  anchoring: {
    appendHashes(
      items: { kind: string; contentHash: Uint8Array }[],
      withinCommit?: (receipts: { id: number }[]) => void,
    ): Promise<{ id: number }[]>;
  };
  /**
   * Runs inside the commit that stores the new events (e.g. the supply-chain service recording the packs a
   * commissioning event brings), so what it writes is durable, and rolled back, with them.
   */
  derive?: (events: readonly { event: CapturedEvent; eventId: string }[]) => void;
  /**
   * Runs before the new events are stored (e.g. custody carried onto the chain); a rejection refuses the capture
   * and nothing is stored. What it resolves with is reported in the capture's `effects`.
   */
  beforeStore?: (events: readonly { event: CapturedEvent; eventId: string }[]) => Promise<object[]>;
  now?: () => number;
}

/** Anchoring kind of a captured EPCIS event. */
export const EPCIS_EVENT_KIND = 'epcis.event';

/**
 * EPCIS capture: validates a whole document first (one bad event refuses the document: nothing is stored), gives
 * each event without an `eventID` its CBV 2.0 event hash as id, recognises events stored before (by id) and
 * repeated within the document, and stores the new ones as canonical JSON (with `eventID` and `recordTime`) in
 * one anchoring commit: each event becomes a record of the spine, so any event can be proven unchanged later.
 * Resolves once durable.
 */
export class CaptureService {
  private readonly options: CaptureServiceOptions;
  private readonly now: () => number;
  /** The events captures are storing right now (checked, not yet committed or refused), by id. */
  private readonly storing = new Map<string, Promise<void>>();

  constructor(options: CaptureServiceOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
  }

  async capture(document: unknown): Promise<CaptureJob> {
    const createdAt = this.now();
    const events = await this.options.reader.read(document, createdAt);
    // An event another capture is storing right now is waited for: then it is stored (a duplicate here) or not.
    for (let busy = this.busyWith(events); busy.size > 0; busy = this.busyWith(events)) {
      await Promise.allSettled(busy);
    }
    // From here to the registration below nothing yields, so no other capture can slip the same event in between.
    const seenBefore = this.options.store.existingEventIds(events.map((e) => e.eventId));
    const fresh: { event: CapturedEvent; eventId: string }[] = [];
    const inDocument = new Set<string>();
    for (const event of events) {
      const eventId = event.eventId;
      if (seenBefore.has(eventId) || inDocument.has(eventId)) continue;
      inDocument.add(eventId);
      fresh.push({ event, eventId });
    }
    let settled!: () => void;
    const storing = new Promise<void>((resolve) => (settled = resolve));
    for (const { eventId } of fresh) this.storing.set(eventId, storing);
    try {
      return await this.store(events, fresh, createdAt);
    } finally {
      for (const { eventId } of fresh) this.storing.delete(eventId);
      settled();
    }
  }

  /** The pending stores of other captures that hold any of these events. */
  private busyWith(events: readonly CapturedEvent[]): Set<Promise<void>> {
    const busy = new Set<Promise<void>>();
    if (this.storing.size === 0) return busy;
    for (const { eventId } of events) {
      const pending = this.storing.get(eventId);
      if (pending !== undefined) busy.add(pending);
    }
    return busy;
  }

  /** Custody, then the new events anchored and stored in one commit; resolves once durable. */
  private async store(
    events: readonly CapturedEvent[],
    fresh: { event: CapturedEvent; eventId: string }[],
    createdAt: number,
  ): Promise<CaptureJob> {
    const effects = this.options.beforeStore ? await this.options.beforeStore(fresh) : [];
    const captureId = uuidv7(createdAt);
    const recordTime = createdAt;
    const job: CaptureJob = {
      captureId,
      createdAt,
      finishedAt: createdAt,
      stored: fresh.length,
      duplicates: events.length - fresh.length,
      eventIds: events.map((e) => e.eventId),
    };
    await this.options.anchoring.appendHashes(
      fresh.map(({ event }) => ({ kind: EPCIS_EVENT_KIND, contentHash: event.contentHash })),
      (receipts) => {
        this.options.store.insertEvents(
          fresh.map(({ event }, i) => ({
            recordId: (receipts[i] as { id: number }).id,
            eventId: event.eventId,
            eventType: event.eventType,
            eventTime: event.eventTime,
            recordTime,
            bizStep: event.bizStep,
            disposition: event.disposition,
            bizLocation: event.bizLocation,
            readPoint: event.readPoint,
            captureId,
            body: event.body,
            epcs: event.epcs,
          })),
          { ...job, finishedAt: this.now() },
        );
        this.options.derive?.(fresh);
      },
    );
    return { ...job, effects };
  }
}
