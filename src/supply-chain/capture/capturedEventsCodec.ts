import type { CapturedEvent, EventIdentifier } from './captureService.js';

/**
 * The events a reader worker hands back, as one JSON text of flat arrays and one buffer of their content hashes.
 * Structured cloning of the events as objects costs the event loop about four times more than parsing this text (it
 * rebuilds every object member by member); the hashes travel as one transferred buffer.
 */
export interface EncodedEvents {
  json: string;
  /** 32 bytes per event, in order. */
  hashes: Uint8Array;
}

const IDENTIFIER_FIELDS = 5;

/** Encodes events for {@link decodeCapturedEvents}. */
export function encodeCapturedEvents(events: readonly CapturedEvent[]): EncodedEvents {
  const hashes = new Uint8Array(32 * events.length);
  const rows = events.map((e, i) => {
    hashes.set(e.contentHash, 32 * i);
    const identifiers: (string | null)[] = [];
    for (const x of e.epcs) identifiers.push(x.epc, x.role, x.kind ?? null, x.gtin ?? null, x.serial ?? null);
    return [
      e.eventType,
      e.eventId,
      e.eventTime,
      e.action,
      e.bizStep,
      e.disposition,
      e.bizLocation,
      e.readPoint,
      e.sourceOwner,
      e.destinationOwner,
      e.lot ?? null,
      e.expiry ?? null,
      e.body,
      identifiers,
    ];
  });
  return { json: JSON.stringify(rows), hashes };
}

type Row = [
  string,
  string,
  number,
  string | null,
  string | null,
  string | null,
  string | null,
  string | null,
  string | null,
  string | null,
  string | null,
  string | null,
  string,
  (string | null)[],
];

/** The events {@link encodeCapturedEvents} encoded, equal to the originals. */
export function decodeCapturedEvents(encoded: EncodedEvents): CapturedEvent[] {
  const rows = JSON.parse(encoded.json) as Row[];
  const hashes = encoded.hashes;
  const events: CapturedEvent[] = new Array<CapturedEvent>(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i] as Row;
    const flat = r[13];
    const epcs: EventIdentifier[] = [];
    for (let j = 0; j + IDENTIFIER_FIELDS <= flat.length; j += IDENTIFIER_FIELDS) {
      const epc = flat[j] as string;
      const role = flat[j + 1] as EventIdentifier['role'];
      const kind = flat[j + 2];
      if (kind === null) epcs.push({ epc, role });
      else if (kind === 'sgtin')
        epcs.push({ epc, role, kind, gtin: flat[j + 3] as string, serial: flat[j + 4] as string });
      else epcs.push({ epc, role, kind: kind as string });
    }
    const event: CapturedEvent = {
      eventType: r[0],
      eventId: r[1],
      eventTime: r[2],
      action: r[3],
      bizStep: r[4],
      disposition: r[5],
      bizLocation: r[6],
      readPoint: r[7],
      epcs,
      sourceOwner: r[8],
      destinationOwner: r[9],
      body: r[12],
      contentHash: hashes.subarray(32 * i, 32 * i + 32),
    };
    if (r[10] !== null) event.lot = r[10];
    if (r[11] !== null) event.expiry = r[11];
    events[i] = event;
  }
  return events;
}
