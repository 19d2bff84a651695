import { hash } from 'node:crypto';

/** A CBV 2.0 event hash ID, whose digest is already a uniform hash of the event. */
const EVENT_HASH_ID = /^ni:\/\/\/sha-256;([0-9a-f]{13})[0-9a-f]{51}\?ver=CBV2\.0$/;

/**
 * The integer an EPCIS event is found by in `epcis_events` (indexed; the `event_id` itself is compared as well, so
 * two ids with one key are told apart): 52 bits of a hash of its `eventID`. For a CBV 2.0 event hash ID they are its
 * digest's first 13 hex digits, otherwise those of the SHA-256 of the id's UTF-8 bytes. Stored in every row: it must
 * never change.
 */
export function epcisEventKey(eventId: string): number {
  const digest = EVENT_HASH_ID.exec(eventId)?.[1] ?? hash('sha256', eventId, 'hex').slice(0, 13);
  return Number.parseInt(digest, 16);
}
