import { InvalidInputError } from '../../core/errors.js';
import type { Hex } from '../../core/hex.js';
import { isExpiryDate, normalizeGtin, parseDigitalLink } from '../identifiers/index.js';
import type { PackStore, SupplyLedger } from '../custody/ports.js';
import type { SupplyChainState, SupplyChainView } from './ports.js';
import {
  verifyProduct,
  type VerificationChain,
  type VerificationRequest,
  type VerificationResult,
} from './productVerification.js';

/** The query of `GET /verify/product`: the pack's data as printed, or its GS1 Digital Link. */
export interface VerificationQuery {
  gtin?: string | undefined;
  serial?: string | undefined;
  lot?: string | undefined;
  expiry?: string | undefined;
  /** A GS1 Digital Link URI with GTIN, serial and lot (and expiry), e.g. from the pack's 2D code. */
  link?: string | undefined;
  seller?: string | undefined;
}

const bad = (field: string, message: string) =>
  new InvalidInputError('SUPPLY.INVALID_VERIFICATION_REQUEST', message, { details: { field } });

/** Turns the query into a request, with messages that say what to send. */
export function verificationRequestOf(query: VerificationQuery): VerificationRequest {
  let { gtin, serial, lot, expiry } = query;
  if (query.link !== undefined) {
    const data = parseDigitalLink(query.link);
    const id = data.identifier;
    if (id.kind !== 'sgtin') {
      throw bad(
        'link',
        'The Digital Link must name one pack: /01/{GTIN}/10/{lot}/21/{serial} (with ?17={YYMMDD}).',
      );
    }
    gtin = id.gtin;
    serial = id.serial;
    lot = data.lot ?? lot;
    expiry = data.expiry ?? expiry;
  }
  if (gtin === undefined || serial === undefined || lot === undefined) {
    throw bad(
      gtin === undefined ? 'gtin' : serial === undefined ? 'serial' : 'lot',
      "Give gtin, serial and lot (and expiry as YYMMDD), or link=<the pack's GS1 Digital Link URI with its lot>.",
    );
  }
  const normalized = normalizeGtin(gtin);
  if (!/^[\x21-\x7e]{1,20}$/.test(serial))
    throw bad('serial', 'A serial number is 1 to 20 printable characters.');
  if (!/^[\x21-\x7e]{1,20}$/.test(lot)) throw bad('lot', 'A lot number is 1 to 20 printable characters.');
  if (expiry !== undefined && !isExpiryDate(expiry))
    throw bad('expiry', 'The expiry is YYMMDD, as GS1 AI 17 prints it.');
  let seller: Hex | undefined;
  if (query.seller !== undefined) {
    if (!/^0x[0-9a-fA-F]{40}$/.test(query.seller))
      throw bad('seller', "seller is an organisation's chain address (0x…).");
    seller = query.seller as Hex;
  }
  return { gtin: normalized, serial, lot, expiry, seller };
}

/** A verification's answer; `asOfBlock` is the block it reflects when the mirror gave it. */
export type VerificationAnswer = VerificationResult & { asOfBlock?: number };

/**
 * Product verification at any gateway: the chain decides (product, lot, pack state, recall, suspicion, owner). A
 * pack the chain has no record of yet is shown to be in its lot only by a gateway that knows all the lot's serials
 * (the manufacturer, or a partner holding its commissioning documents) and only when their Merkle root is the one
 * on chain, since serial numbers are not on chain.
 *
 * The chain's state comes from the local mirror of the registry (`state`) whenever the mirror is current, so a
 * verification reads no chain; otherwise (mirror behind, failing, or absent) from the chain itself, never from stale
 * state.
 */
export class VerificationService {
  private readonly fromChain: VerificationChain;
  private readonly packs: PackStore;
  private readonly state: SupplyChainState | undefined;
  private readonly now: () => number;

  constructor(deps: {
    ledger: SupplyLedger;
    packs: PackStore;
    state?: SupplyChainState;
    now?: () => number;
  }) {
    this.now = deps.now ?? Date.now;
    const { ledger, packs } = deps;
    this.packs = packs;
    this.state = deps.state;
    this.fromChain = {
      manufacturerOf: (gtin) => ledger.manufacturerOf(gtin),
      lot: (gtin, lot) => ledger.lot(gtin, lot),
      pack: (gtin, lot, serial) => ledger.pack(gtin, lot, serial),
      // The lot's serials as this gateway knows them (its own commissioning, or the manufacturer's documents):
      // believed only when their Merkle root is the lot's root on chain.
      commissioned: (gtin, lot, serial) =>
        ledger.inLot(
          gtin,
          lot,
          { ...this.knownSerials(gtin, lot), count: packs.countOfLot(gtin, lot) },
          serial,
        ),
      async lotsRecordingSerial(gtin, serial) {
        const known = packs.pack(gtin, serial);
        if (!known) return null;
        return (await ledger.pack(gtin, known.lot, serial)).recorded ? [known.lot] : [];
      },
    };
  }

  /**
   * Verifies the pack the query names. `source: 'chain'` reads the chain whatever the mirror's state (for checks
   * that decide a write to the chain, such as custody).
   */
  async verify(query: VerificationQuery, options: { source?: 'chain' } = {}): Promise<VerificationAnswer> {
    const request = verificationRequestOf(query);
    const nowSeconds = Math.floor(this.now() / 1000);
    const view = options.source === 'chain' ? null : await this.state?.current();
    if (!view) return verifyProduct(request, this.fromChain, nowSeconds);
    const result = await verifyProduct(request, this.fromView(view), nowSeconds);
    return { ...result, asOfBlock: view.asOfBlock };
  }

  /** The verification's reads, answered by one view of the mirror (all at the same block). */
  private fromView(view: SupplyChainView): VerificationChain {
    const packs = this.packs;
    return {
      manufacturerOf: async (gtin) => view.manufacturerOf(gtin),
      lot: async (gtin, lot) => view.lot(gtin, lot),
      pack: async (gtin, lot, serial) => view.pack(gtin, lot, serial),
      commissioned: async (gtin, lot, serial) => view.inLot(gtin, lot, this.knownSerials(gtin, lot), serial),
      async lotsRecordingSerial(gtin, serial) {
        const known = packs.pack(gtin, serial);
        if (!known) return null;
        return view.pack(gtin, known.lot, serial).recorded ? [known.lot] : [];
      },
    };
  }

  private knownSerials(gtin: string, lot: string) {
    return {
      count: () => this.packs.countOfLot(gtin, lot),
      serials: () => this.packs.packsOfLot(gtin, lot).map((p) => p.serial),
    };
  }
}
