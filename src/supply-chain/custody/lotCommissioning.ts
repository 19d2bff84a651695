import { ConflictError, NotFoundError } from '../../core/errors.js';
import { expiryEndSeconds } from '../verification/productVerification.js';
import type { PackStore, SupplyLedger } from './ports.js';

export interface CommittedLot {
  gtin: string;
  lot: string;
  packs: number;
  /** YYYY-MM-DD */
  expiry: string;
  transactionHash: `0x${string}`;
  blockNumber: number;
}

/**
 * Puts a lot commissioned here (its EPCIS commissioning events captured at this gateway) on chain: the product is
 * registered as this organisation's if it is not yet, then the lot is committed with the Merkle root of its packs'
 * hashed ids and its expiry. Serial numbers never reach the chain; anyone holding a pack can later prove it belongs
 * to the lot, and any partner can verify it.
 */
export async function commitLot(
  gtin: string,
  lot: string,
  deps: { packs: PackStore; ledger: SupplyLedger; self: `0x${string}` },
): Promise<CommittedLot> {
  const packs = deps.packs.commissionedSerials(gtin, lot);
  if (packs.length === 0) {
    throw new NotFoundError(
      'SUPPLY.LOT_NOT_COMMISSIONED_HERE',
      `No pack of lot ${lot} of GTIN ${gtin} was commissioned at this gateway: capture its commissioning events (ObjectEvent, bizStep commissioning, ILMD lotNumber and itemExpirationDate) first.`,
    );
  }
  const expiries = [...new Set(packs.map((p) => p.expiry))];
  if (expiries.length !== 1 || expiries[0] === null || !/^\d{4}-\d{2}-\d{2}$/.test(expiries[0] as string)) {
    throw new ConflictError(
      'SUPPLY.LOT_EXPIRY_UNCLEAR',
      `The commissioning events of lot ${lot} give ${expiries.map((e) => e ?? 'no expiry').join(', ')} as its expiry; a lot has one expiry date (ILMD itemExpirationDate, YYYY-MM-DD).`,
    );
  }
  const expiry = expiries[0] as string;
  const manufacturer = await deps.ledger.manufacturerOf(gtin);
  if (manufacturer === null) await deps.ledger.registerProduct(gtin);
  else if (manufacturer.toLowerCase() !== deps.self.toLowerCase()) {
    throw new ConflictError(
      'SUPPLY.NOT_THE_MANUFACTURER',
      `GTIN ${gtin} is registered to ${manufacturer}, not to this organisation: only its manufacturer commissions its lots.`,
    );
  }
  const mined = await deps.ledger.commissionLot({
    gtin,
    lot,
    serials: packs.map((p) => p.serial),
    expiry: expiryEndSeconds(expiry.slice(2).replaceAll('-', '')),
  });
  return { gtin, lot, packs: packs.length, expiry, ...mined };
}
