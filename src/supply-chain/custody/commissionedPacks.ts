import type { CapturedEvent } from '../capture/captureService.js';
import type { PackRecord } from './ports.js';

/**
 * The packs a captured event commissions: an ObjectEvent that ADDs serialised GTINs (SGTIN) in business step
 * `commissioning`, with the lot (and expiry) in its ILMD. Other events, and packs without a lot, commission nothing
 * here: a lot is what the chain knows packs by.
 */
export function commissionedPacks(event: CapturedEvent): PackRecord[] {
  if (event.eventType !== 'ObjectEvent' || event.bizStep !== 'commissioning' || event.lot === undefined)
    return [];
  if (event.action !== 'ADD') return [];
  const packs: PackRecord[] = [];
  for (const { role, kind, gtin, serial } of event.epcs) {
    // The epcList's SGTINs (as the GS1 module read them when the document was checked).
    if (role !== 'epc' || kind !== 'sgtin' || gtin === undefined || serial === undefined) continue;
    packs.push({ gtin, serial, lot: event.lot, expiry: event.expiry ?? null, origin: 'commissioned' });
  }
  return packs;
}
