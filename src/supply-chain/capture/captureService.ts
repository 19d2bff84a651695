import { sha256 } from '../../core/sha256.js';
import { uuidv7 } from '../../core/uuidv7.js';
import { canonicalEventJson } from './canonicalEventJson.js';
import type { CaptureJob, EpcRole, EpcisStore, StoredEpcisEvent } from './ports.js';

/** An event of a validated EPCIS document, as capture needs it. */
export interface CapturedEvent {
  /** The event's JSON as sent (validated), without `recordTime`. */
  json: Record<string, unknown>;
  eventType: string;
  /** The sender's `eventID`, else the CBV 2.0 event hash ID (`ni:///sha-256;…?ver=CBV2.0`). */
  eventId: string;
  /** ms since the epoch */
  eventTime: number;
  /** CBV bare words. */
  bizStep: string | null;
  disposition: string | null;
  /** Canonical GS1 Digital Link URIs (or the URI as sent for non-GS1 identifiers). */
  bizLocation: string | null;
  readPoint: string | null;
  epcs: { epc: string; role: EpcRole }[];
  /** Instance/lot master data (ILMD) of a commissioning event: its lot and expiry date (YYYY-MM-DD), if given. */
  lot?: string | undefined;
  expiry?: string | undefined;
}

/** What capture needs of the EPCIS vocabulary and document rules (`../epcis/`), behind one port. */
export interface EpcisDocumentReader {
  /** Validates an EPCISDocument and returns its events; throws a 400 naming every problem, storing nothing. */
  read(document: unknown, now: number): CapturedEvent[];
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

  constructor(options: CaptureServiceOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
  }

  async capture(document: unknown): Promise<CaptureJob> {
    const createdAt = this.now();
    const events = this.options.reader.read(document, createdAt);
    const withIds = events.map((event) => ({ event, eventId: event.eventId }));
    const seenBefore = this.options.store.existingEventIds(withIds.map((e) => e.eventId));
    const fresh: typeof withIds = [];
    const inDocument = new Set<string>();
    for (const e of withIds) {
      if (seenBefore.has(e.eventId) || inDocument.has(e.eventId)) continue;
      inDocument.add(e.eventId);
      fresh.push(e);
    }
    const effects = this.options.beforeStore ? await this.options.beforeStore(fresh) : [];
    const captureId = uuidv7(createdAt);
    const recordTime = createdAt;
    const rows = fresh.map(({ event, eventId }) => {
      const body = canonicalEventJson({
        ...event.json,
        eventID: eventId,
        recordTime: new Date(recordTime).toISOString(),
      });
      return {
        row: {
          recordId: 0,
          eventId,
          eventType: event.eventType,
          eventTime: event.eventTime,
          recordTime,
          bizStep: event.bizStep,
          disposition: event.disposition,
          bizLocation: event.bizLocation,
          readPoint: event.readPoint,
          captureId,
          body,
          epcs: event.epcs,
        } satisfies StoredEpcisEvent,
        hash: sha256(Buffer.from(body, 'utf8')),
      };
    });
    const job: CaptureJob = {
      captureId,
      createdAt,
      finishedAt: createdAt,
      stored: rows.length,
      duplicates: withIds.length - rows.length,
      eventIds: withIds.map((e) => e.eventId),
    };
    await this.options.anchoring.appendHashes(
      rows.map((r) => ({ kind: EPCIS_EVENT_KIND, contentHash: r.hash })),
      (receipts) => {
        this.options.store.insertEvents(
          rows.map((r, i) => ({ ...r.row, recordId: (receipts[i] as { id: number }).id })),
          { ...job, finishedAt: this.now() },
        );
        this.options.derive?.(fresh);
      },
    );
    return { ...job, effects };
  }
}
