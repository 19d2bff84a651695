import { parseGs1Identifier } from '../identifiers/index.js';
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
  if (event.json.action !== 'ADD' || !Array.isArray(event.json.epcList)) return [];
  const packs: PackRecord[] = [];
  for (const epc of event.json.epcList as unknown[]) {
    if (typeof epc !== 'string') continue;
    let id;
    try {
      id = parseGs1Identifier(epc);
    } catch {
      continue; // not a GS1 identifier (already validated as an EPCIS URI): nothing to commission
    }
    if (id.kind !== 'sgtin') continue;
    packs.push({
      gtin: id.gtin,
      serial: id.serial,
      lot: event.lot,
      expiry: event.expiry ?? null,
      origin: 'commissioned',
    });
  }
  return packs;
}
