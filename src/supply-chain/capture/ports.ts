/**
 * Storage port of the EPCIS repository: captured events, their identifiers by role, and capture jobs. `insert` runs
 * inside the anchoring commit of the events (the same transaction as their anchoring records).
 */

/** Where an identifier appears in an event (the EPCIS query parameters match on these). */
export type EpcRole = 'epc' | 'parent' | 'child' | 'input' | 'output' | 'quantity';

/** One captured event as stored. */
export interface StoredEpcisEvent {
  /** The anchoring record of the event (its content hash is the SHA-256 of `body`). */
  recordId: number;
  /** The event's `eventID`: the sender's, or the CBV 2.0 event hash (`ni:///sha-256;…?ver=CBV2.0`). */
  eventId: string;
  eventType: string;
  /** ms since the epoch */
  eventTime: number;
  recordTime: number;
  /** CBV bare words (`shipping`, `in_transit`), null when absent. */
  bizStep: string | null;
  disposition: string | null;
  /** Location identifiers as canonical GS1 Digital Link URIs. */
  bizLocation: string | null;
  readPoint: string | null;
  captureId: string;
  /** The event as stored, canonical JSON (RFC 8785) with `eventID` and `recordTime`: what was anchored. */
  body: string;
  /** Every identifier of the event, as canonical GS1 Digital Link URIs, with its role. */
  epcs: { epc: string; role: EpcRole }[];
}

export interface CaptureJob {
  captureId: string;
  createdAt: number;
  finishedAt: number;
  /** Events stored by this capture. */
  stored: number;
  /** Events of the document already stored before (same eventID): not stored again. */
  duplicates: number;
  eventIds: string[];
  /** What the capture did beyond storing (e.g. custody operations on chain); not stored with the job. */
  effects?: object[];
}

/** One query in the EPCIS Simple Event Query's terms (all conditions AND; lists OR). */
export interface EventQuery {
  eventTypes?: string[];
  eventTimeFrom?: number; // GE_eventTime
  eventTimeBefore?: number; // LT_eventTime
  recordTimeFrom?: number;
  recordTimeBefore?: number;
  bizSteps?: string[];
  dispositions?: string[];
  bizLocations?: string[];
  readPoints?: string[];
  /**
   * Identifier conditions: the event has, in one of `roles`, one of `epcs` or an identifier starting with one of
   * `prefixes` (a class pattern such as every serial of one GTIN).
   */
  epcConditions: { epcs: string[]; prefixes: string[]; roles: EpcRole[] }[];
  eventIds?: string[];
  /** Events after this record id (the page token), in capture order. */
  afterRecordId: number;
  limit: number;
}

/** A stored event as reads return it (its identifiers are in `body`). */
export type EventRow = Omit<StoredEpcisEvent, 'epcs'>;

export interface EpcisStore {
  insertEvents(events: readonly StoredEpcisEvent[], job: CaptureJob): void;
  /** Which of these event ids are stored already. */
  existingEventIds(eventIds: readonly string[]): Set<string>;
  getEvent(eventId: string): EventRow | undefined;
  query(query: EventQuery): EventRow[];
  getCapture(captureId: string): CaptureJob | undefined;
  /**
   * Whether any stored event names `epc` in `role` (one index probe, much cheaper than a query): custody asks it of
   * every case it packs, which is nearly always new. Optional: without it, callers run the query.
   */
  hasIdentifier?(epc: string, role: EpcRole): boolean;
}
