import { hash } from 'node:crypto';
import {
  eventIdentifierReadings,
  eventTimeMillis,
  eventToJson,
  parseEpcisDocument,
  type EpcisEvent,
  type EpcisParseOptions,
} from '../epcis/epcisDocument.js';
import { eventHashWith } from '../epcis/eventHash.js';
import { IdentifierReadings, type Gs1Identifier } from '../epcis/gs1.js';
import { canonicalEventJson } from './canonicalEventJson.js';
import {
  EpcisDocumentBytes,
  type CapturedEvent,
  type EpcisDocumentReader,
  type EventIdentifier,
} from './captureService.js';

/**
 * The capture's view of an EPCIS document, from the EPCIS module: every event checked, its time, CBV words,
 * locations, owning parties and identifiers as canonical keys (with what the GS1 module read in them, so custody
 * parses nothing again), its id (the sender's `eventID`, else the CBV 2.0 event hash, so the same event sent twice
 * without ids is recognised), and its stored body (canonical JSON with `eventID` and `recordTime`) with the body's
 * SHA-256. This is the CPU-heavy part of a capture, and a pure function of the document and `now`: it can run on a
 * worker thread (`epcisReaderPool.ts`). A document given as its bytes is parsed here (a `SyntaxError` if it is not
 * JSON).
 */
export function epcisDocumentReader(
  options: Pick<EpcisParseOptions, 'futureToleranceMs' | 'maxEvents'> = {},
): InProcessEpcisReader {
  return {
    read(document, now): CapturedEvent[] {
      const input: unknown = document instanceof EpcisDocumentBytes ? parseJson(document.bytes) : document;
      // Each identifier of the document read once, for its checks, the event hashes and the canonical keys.
      const identifiers = new IdentifierReadings();
      const parsed = parseEpcisDocument(input, { ...options, now, identifiers });
      const recordTime = new Date(now).toISOString();
      return parsed.events.map((event) => {
        const eventId = event.eventID ?? eventHashWith(event, identifiers);
        const json = eventToJson(event); // a fresh object: completed in place
        json.eventID = eventId;
        json.recordTime = recordTime;
        const body = canonicalEventJson(json);
        return {
          eventType: event.type,
          eventId,
          eventTime: eventTimeMillis(event),
          action: 'action' in event ? (event.action ?? null) : null,
          bizStep: event.bizStep ?? null,
          disposition: event.disposition ?? null,
          bizLocation: event.bizLocation ? identifiers.key(event.bizLocation.id) : null,
          readPoint: event.readPoint ? identifiers.key(event.readPoint.id) : null,
          epcs: eventIdentifierReadings(event, identifiers).map(identifier),
          sourceOwner: owningParty(event.sourceList, 'source', identifiers),
          destinationOwner: owningParty(event.destinationList, 'destination', identifiers),
          ...lotData(event),
          body,
          contentHash: sha256Utf8(body),
        };
      });
    },
  };
}

/** The reader where it is called (the event loop, or a worker thread): it answers at once. */
export interface InProcessEpcisReader extends EpcisDocumentReader {
  read(document: unknown, now: number): CapturedEvent[];
}

/** SHA-256 of a string's UTF-8 bytes, in one native call (no Buffer of the text in between). */
function sha256Utf8(text: string): Uint8Array {
  const digest = hash('sha256', text, 'buffer') as unknown as Buffer;
  return new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength);
}

/** JSON text as received, decoded as Fastify decodes a text body (a byte order mark kept, bad bytes replaced). */
export function parseJson(bytes: Uint8Array): unknown {
  return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
}

/** An identifier (its canonical key and role) with the kind, and an SGTIN's GTIN and serial, the GS1 module read. */
function identifier({ epc, role, id }: { epc: string; role: EventIdentifier['role']; id?: Gs1Identifier }) {
  if (id === undefined) return { epc, role };
  return id.kind === 'sgtin'
    ? { epc, role, kind: id.kind, gtin: id.gtin, serial: id.serial }
    : { epc, role, kind: id.kind };
}

/**
 * The owning party of a source or destination list, as a canonical key: the first element of type `owning_party`
 * (the CBV word, or a URI ending in it).
 */
function owningParty(
  list: readonly { type: string }[] | undefined,
  field: 'source' | 'destination',
  identifiers: IdentifierReadings,
): string | null {
  for (const item of (list ?? []) as readonly Record<string, unknown>[]) {
    const type = String(item.type ?? '');
    if (type === 'owning_party' || type.endsWith('SDT-owning_party') || type.endsWith(':owning_party')) {
      const value = item[field];
      if (typeof value === 'string') return identifiers.key(value);
    }
  }
  return null;
}

const MDA = 'urn:epcglobal:cbv:mda:';

/** The lot number and expiry date an event's ILMD gives (CBV master data attributes, any prefix spelling). */
function lotData(event: EpcisEvent): { lot?: string; expiry?: string } {
  const ilmd = 'ilmd' in event ? (event.ilmd as Record<string, unknown> | undefined) : undefined;
  if (!ilmd) return {};
  const out: { lot?: string; expiry?: string } = {};
  for (const [name, value] of Object.entries(ilmd)) {
    if (typeof value !== 'string') continue;
    const colon = name.indexOf(':');
    const prefix = colon > 0 ? name.slice(0, colon) : '';
    // The EPCIS 2.0 context itself defines `cbvmda`, so documents often use it without declaring it.
    const base = prefix ? (event.namespaces[prefix] ?? (prefix === 'cbvmda' ? MDA : undefined)) : undefined;
    const iri = base ? `${base}${name.slice(colon + 1)}` : name;
    if (iri === `${MDA}lotNumber`) out.lot = value;
    else if (iri === `${MDA}itemExpirationDate`) out.expiry = value;
  }
  return out;
}
