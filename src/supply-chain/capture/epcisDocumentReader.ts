import {
  eventIdentifiersWith,
  eventTimeMillis,
  eventToJson,
  parseEpcisDocument,
  type EpcisEvent,
  type EpcisParseOptions,
} from '../epcis/epcisDocument.js';
import { eventHashWith } from '../epcis/eventHash.js';
import { IdentifierReadings } from '../epcis/gs1.js';
import type { CapturedEvent, EpcisDocumentReader } from './captureService.js';

/**
 * The capture's view of an EPCIS document, from the EPCIS module: every event checked, its JSON as it will be
 * stored, its time, CBV words, locations and identifiers as canonical keys, and its id (the sender's `eventID`, else
 * the CBV 2.0 event hash, so the same event sent twice without ids is recognised).
 */
export function epcisDocumentReader(
  options: Pick<EpcisParseOptions, 'futureToleranceMs' | 'maxEvents'> = {},
): EpcisDocumentReader {
  return {
    read(document, now): CapturedEvent[] {
      // Each identifier of the document read once, for its checks, the event hashes and the canonical keys.
      const identifiers = new IdentifierReadings();
      const parsed = parseEpcisDocument(document, { ...options, now, identifiers });
      return parsed.events.map((event) => ({
        json: eventToJson(event),
        eventType: event.type,
        eventId: event.eventID ?? eventHashWith(event, identifiers),
        eventTime: eventTimeMillis(event),
        bizStep: event.bizStep ?? null,
        disposition: event.disposition ?? null,
        bizLocation: event.bizLocation ? identifiers.key(event.bizLocation.id) : null,
        readPoint: event.readPoint ? identifiers.key(event.readPoint.id) : null,
        epcs: eventIdentifiersWith(event, identifiers),
        ...lotData(event),
      }));
    },
  };
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
