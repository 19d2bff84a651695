import {
  eventIdentifiers,
  eventTimeMillis,
  eventToJson,
  parseEpcisDocument,
  type EpcisParseOptions,
} from '../epcis/epcisDocument.js';
import { eventHash } from '../epcis/eventHash.js';
import { identifierKey } from '../epcis/gs1.js';
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
      const parsed = parseEpcisDocument(document, { ...options, now });
      return parsed.events.map((event) => ({
        json: eventToJson(event),
        eventType: event.type,
        eventId: event.eventID ?? eventHash(event),
        eventTime: eventTimeMillis(event),
        bizStep: event.bizStep ?? null,
        disposition: event.disposition ?? null,
        bizLocation: event.bizLocation ? identifierKey(event.bizLocation.id) : null,
        readPoint: event.readPoint ? identifierKey(event.readPoint.id) : null,
        epcs: eventIdentifiers(event),
      }));
    },
  };
}
