import { CareLedgerError } from '../../core/errors.js';
import type { Hex } from '../../core/hex.js';
import { sha256 } from '../../core/sha256.js';
import { toHex } from '../../core/hex.js';
import type { CapturedEvent } from '../capture/captureService.js';
import type { VerificationReason, VerificationResult } from '../verification/productVerification.js';
import { planCustody, type CustodyContext, type CustodyOperation } from './custodyPlan.js';
import type { PackStore, SupplyLedger } from './ports.js';

/** How each refusal of a pack's verification answers a capture that would move or end it. */
const REFUSALS: Record<VerificationReason, { status: number; code: string }> = {
  WRONG_OWNER: { status: 403, code: 'SUPPLY.NOT_HOLDER' },
  ALREADY_DISPENSED: { status: 409, code: 'SUPPLY.ALREADY_DISPENSED' },
  DECOMMISSIONED: { status: 409, code: 'SUPPLY.OUT_OF_COMMERCE' },
  DESTROYED: { status: 409, code: 'SUPPLY.OUT_OF_COMMERCE' },
  RECALLED: { status: 409, code: 'SUPPLY.RECALLED' },
  SUSPECT: { status: 409, code: 'SUPPLY.SUSPECT' },
  ILLEGITIMATE: { status: 409, code: 'SUPPLY.ILLEGITIMATE' },
  EXPIRED: { status: 409, code: 'SUPPLY.EXPIRED' },
  UNKNOWN_PRODUCT: { status: 422, code: 'SUPPLY.UNKNOWN_PRODUCT' },
  UNKNOWN_LOT: { status: 422, code: 'SUPPLY.UNKNOWN_LOT' },
  UNKNOWN_SERIAL: { status: 422, code: 'SUPPLY.UNKNOWN_SERIAL' },
  LOT_MISMATCH: { status: 422, code: 'SUPPLY.LOT_MISMATCH' },
  EXPIRY_MISMATCH: { status: 422, code: 'SUPPLY.EXPIRY_MISMATCH' },
};

/** Reasons that do not stop a pack leaving commerce for good (a recalled or expired pack may be destroyed). */
const ENDING_ALLOWED = new Set<VerificationReason>(['RECALLED', 'EXPIRED', 'SUSPECT']);

export interface CustodyServiceOptions {
  self: Hex;
  ledger: SupplyLedger;
  packs: PackStore;
  /** Verification of one pack as held by `seller` (this organisation). */
  verify(request: { gtin: string; serial: string; lot: string; seller: Hex }): Promise<VerificationResult>;
  context: Omit<CustodyContext, 'self' | 'packs'>;
  /** Told of every transfer once mined (the DSCSA T3 of the change of ownership is issued there). */
  onTransferred?: (transfer: CustodyOperation & { transactionHash: Hex }) => Promise<void>;
}

/**
 * Carries the custody an EPCIS capture states onto the chain, before the events are stored: every pack a shipment,
 * dispensing, decommissioning or destruction names must be verified as held by this organisation and in commerce
 * (a pack already dispensed is a clone; one this organisation does not hold cannot be sold by it), then one chain
 * operation per lot and step is sent. Any refusal refuses the whole capture, before anything is sent or stored.
 */
export class CustodyService {
  private readonly options: CustodyServiceOptions;

  constructor(options: CustodyServiceOptions) {
    this.options = options;
  }

  /** Plans, checks and applies; resolves with what was done on chain. */
  async apply(
    events: readonly { event: CapturedEvent; eventId: string }[],
  ): Promise<(CustodyOperation & { transactionHash: Hex; blockNumber: number })[]> {
    const { self, ledger, packs } = this.options;
    const operations = planCustody(events, { self, packs, ...this.options.context });
    for (const op of operations) await this.check(op);
    const done: (CustodyOperation & { transactionHash: Hex; blockNumber: number })[] = [];
    for (const op of operations) {
      if (op.action === 'receive') continue; // verified above; the chain already says the packs are ours
      const commissioned = packs.commissionedSerials(op.gtin, op.lot).map((p) => p.serial);
      try {
        const mined = await ledger.custody({
          action: op.action,
          gtin: op.gtin,
          lot: op.lot,
          serials: op.serials,
          to: op.to,
          reference: toHex(
            sha256(Buffer.from(`${op.eventId}|${op.action}|${op.gtin}|${op.lot}`, 'utf8')),
          ) as Hex,
          lotSerials: commissioned.length > 0 ? commissioned : undefined,
        });
        done.push({ ...op, ...mined });
        if (op.action === 'transfer') await this.options.onTransferred?.({ ...op, ...mined });
      } catch (error) {
        if (done.length === 0) throw error;
        // Rare (another sender moved a pack after the checks): say what already happened, so nothing is repeated.
        throw new CareLedgerError(
          'SUPPLY.PARTIALLY_APPLIED',
          `The chain refused ${op.action} of lot ${op.lot} after ${done.map((d) => `${d.action} of lot ${d.lot} (transaction ${d.transactionHash})`).join(', ')} went through; the events were not stored: capture them again without the steps already done. Cause: ${error instanceof Error ? error.message : String(error)}`,
          { status: 409, issueType: 'conflict', details: { done }, cause: error },
        );
      }
    }
    return done;
  }

  private async check(op: CustodyOperation): Promise<void> {
    for (const serial of op.serials) {
      const result = await this.options.verify({
        gtin: op.gtin,
        serial,
        lot: op.lot,
        seller: this.options.self,
      });
      if (result.verified) continue;
      const ending = op.action === 'decommission' || op.action === 'destroy';
      if (ending && ENDING_ALLOWED.has(result.reason)) continue;
      if (op.action === 'receive' && result.reason === 'WRONG_OWNER') {
        throw new CareLedgerError(
          'SUPPLY.NOT_RECEIVED',
          `Event ${op.eventId} receives pack ${op.gtin}/${serial} of lot ${op.lot}, but the chain does not show it transferred to this organisation: ${result.message} Do not accept it until the sender's shipment is recorded; nothing was stored.`,
          {
            status: 409,
            issueType: 'conflict',
            details: { eventId: op.eventId, gtin: op.gtin, serial, lot: op.lot },
          },
        );
      }
      const refusal = REFUSALS[result.reason];
      throw new CareLedgerError(
        refusal.code,
        `Event ${op.eventId} would ${op.action} pack ${op.gtin}/${serial} of lot ${op.lot}, but: ${result.message} Nothing was stored.`,
        {
          status: refusal.status,
          issueType:
            refusal.status === 403 ? 'forbidden' : refusal.status === 409 ? 'conflict' : 'business-rule',
          details: { eventId: op.eventId, gtin: op.gtin, serial, lot: op.lot, reason: result.reason },
        },
      );
    }
  }
}
