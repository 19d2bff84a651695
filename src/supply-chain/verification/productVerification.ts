import type { Hex } from '../../core/hex.js';

/**
 * DSCSA-style product identifier verification ("PI verification"): is this pack (GTIN, serial, lot, expiry) one its
 * manufacturer really put into commerce, and may it still be sold or dispensed? Pure decision logic over what the
 * chain says; the reads are behind `VerificationChain`.
 */

export type VerificationReason =
  | 'UNKNOWN_PRODUCT'
  | 'UNKNOWN_LOT'
  | 'UNKNOWN_SERIAL'
  | 'LOT_MISMATCH'
  | 'EXPIRY_MISMATCH'
  | 'EXPIRED'
  | 'RECALLED'
  | 'ALREADY_DISPENSED'
  | 'DECOMMISSIONED'
  | 'DESTROYED'
  | 'ILLEGITIMATE'
  | 'SUSPECT'
  | 'WRONG_OWNER';

export interface VerificationRequest {
  gtin: string;
  serial: string;
  lot: string;
  /** GS1 AI 17, YYMMDD (DD 00: end of month), as printed on the pack; optional. */
  expiry?: string | undefined;
  /** The organisation that claims to sell the pack: it must be its current owner. */
  seller?: Hex | undefined;
}

/** What the chain says about a lot and a pack in it (the contract's `lotOf` and `packStatus`). */
export interface ChainLot {
  manufacturer: Hex;
  /** UNIX seconds: the first second at which the lot is expired. */
  expiry: number;
  recalled: boolean;
  recalledAt: number;
  suspect: boolean;
  illegitimate: boolean;
}

/** The {@link ChainLot} of a lot of the registry as read from the chain or its mirror: only what verification reads. */
export function chainLotOf(lot: ChainLot): ChainLot {
  return {
    manufacturer: lot.manufacturer,
    expiry: lot.expiry,
    recalled: lot.recalled,
    recalledAt: lot.recalledAt,
    suspect: lot.suspect,
    illegitimate: lot.illegitimate,
  };
}

export interface ChainPack {
  /** False while the chain holds nothing about the pack (it never left its manufacturer). */
  recorded: boolean;
  owner: Hex;
  state: 'active' | 'dispensed' | 'decommissioned' | 'destroyed';
  suspect: boolean;
  illegitimate: boolean;
}

export interface VerificationChain {
  /** The product's manufacturer, or null for a GTIN no manufacturer registered. */
  manufacturerOf(gtin: string): Promise<Hex | null>;
  /** The lot, or null if its manufacturer never commissioned it. */
  lot(gtin: string, lot: string): Promise<ChainLot | null>;
  pack(gtin: string, lot: string, serial: string): Promise<ChainPack>;
  /**
   * Whether the serial is in the lot's commissioned set when the chain has no record of the pack (only the
   * manufacturer can show it, from its commissioning records); null when this gateway cannot tell.
   */
  commissioned(gtin: string, lot: string, serial: string): Promise<boolean | null>;
  /** Lots of the product in which this serial IS recorded (to tell a wrong lot from an unknown serial). */
  lotsRecordingSerial(gtin: string, serial: string): Promise<string[] | null>;
}

export type VerificationResult =
  | {
      verified: true;
      gtin: string;
      serial: string;
      lot: string;
      expiry: string;
      manufacturer: Hex;
      /** Current owner; the manufacturer while the pack never left it. */
      owner: Hex;
      /** False when the chain has no record of the pack yet and the manufacturer's gateway vouched for it. */
      recorded: boolean;
    }
  | { verified: false; reason: VerificationReason; message: string };

const refuse = (reason: VerificationReason, message: string): VerificationResult => ({
  verified: false,
  reason,
  message,
});

/** YYMMDD (DD 00 = last day of the month) → the first UNIX second after that day, UTC (20YY). */
export function expiryEndSeconds(yymmdd: string): number {
  const year = 2000 + Number(yymmdd.slice(0, 2));
  const month = Number(yymmdd.slice(2, 4));
  const day = Number(yymmdd.slice(4, 6));
  // Day 0 of the next month is the last day of this one; +1 day is the first second after the expiry day.
  const end = day === 0 ? Date.UTC(year, month, 1) : Date.UTC(year, month - 1, day + 1);
  return end / 1000;
}

/** A lot's on-chain expiry (first expired second) as YYMMDD of its last valid day. */
export function expiryYymmdd(expirySeconds: number): string {
  const last = new Date((expirySeconds - 1) * 1000);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(last.getUTCFullYear() % 100)}${two(last.getUTCMonth() + 1)}${two(last.getUTCDate())}`;
}

/**
 * The verification verdict. Checks run from the identity of the pack (product, lot, serial, printed lot and expiry)
 * to its standing (illegitimate, recalled, suspect, expired, dispensed, out of commerce) to the sale (owner), and
 * the first failure is the answer, with what it means for the person holding the pack.
 */
export async function verifyProduct(
  request: VerificationRequest,
  chain: VerificationChain,
  nowSeconds: number,
): Promise<VerificationResult> {
  const { gtin, serial, lot } = request;
  const id = `GTIN ${gtin}, serial ${serial}, lot ${lot}`;
  const [manufacturer, chainLot, pack] = await Promise.all([
    chain.manufacturerOf(gtin),
    chain.lot(gtin, lot),
    chain.pack(gtin, lot, serial),
  ]);
  if (manufacturer === null) {
    return refuse(
      'UNKNOWN_PRODUCT',
      `No manufacturer registered GTIN ${gtin}: treat the pack as suspect and quarantine it.`,
    );
  }
  if (chainLot === null) {
    const recordedIn = await chain.lotsRecordingSerial(gtin, serial);
    if (recordedIn && recordedIn.length > 0) {
      return refuse(
        'LOT_MISMATCH',
        `Serial ${serial} of GTIN ${gtin} belongs to lot ${recordedIn.join(', ')}, not ${lot}: the label does not match the pack's record; quarantine it.`,
      );
    }
    return refuse(
      'UNKNOWN_LOT',
      `The manufacturer never commissioned lot ${lot} of GTIN ${gtin}: treat the pack as suspect.`,
    );
  }
  let recorded = pack.recorded;
  if (!recorded) {
    const commissioned = await chain.commissioned(gtin, lot, serial);
    if (commissioned !== true) {
      const recordedIn = await chain.lotsRecordingSerial(gtin, serial);
      if (recordedIn && recordedIn.length > 0) {
        return refuse(
          'LOT_MISMATCH',
          `Serial ${serial} of GTIN ${gtin} belongs to lot ${recordedIn.join(', ')}, not ${lot}: quarantine the pack.`,
        );
      }
      return refuse(
        'UNKNOWN_SERIAL',
        commissioned === false
          ? `The manufacturer did not commission serial ${serial} in lot ${lot} of GTIN ${gtin}: a counterfeit or a mislabelled pack; quarantine it.`
          : `The chain has no record of ${id} ever leaving its manufacturer, so a pack in anyone else's hands is suspect; quarantine it and ask the manufacturer.`,
      );
    }
    recorded = false;
  }
  if (request.expiry !== undefined && expiryEndSeconds(request.expiry) !== chainLot.expiry) {
    return refuse(
      'EXPIRY_MISMATCH',
      `The printed expiry ${request.expiry} differs from the lot's ${expiryYymmdd(chainLot.expiry)}: quarantine the pack.`,
    );
  }
  if (chainLot.illegitimate || pack.illegitimate) {
    return refuse(
      'ILLEGITIMATE',
      `${id} was found illegitimate after an investigation: do not sell or dispense it; report it.`,
    );
  }
  if (chainLot.recalled) {
    return refuse(
      'RECALLED',
      `Lot ${lot} of GTIN ${gtin} was recalled by its manufacturer on ${new Date(chainLot.recalledAt * 1000).toISOString()}: do not dispense; return it as the recall instructs.`,
    );
  }
  if (chainLot.suspect || pack.suspect) {
    return refuse(
      'SUSPECT',
      `${id} is quarantined as suspect product pending investigation: do not sell or dispense it.`,
    );
  }
  if (pack.state === 'dispensed') {
    return refuse(
      'ALREADY_DISPENSED',
      `${id} was already dispensed to a patient: this pack is a clone (or a diversion); quarantine it and report it.`,
    );
  }
  if (pack.state === 'decommissioned' || pack.state === 'destroyed') {
    return refuse(
      pack.state === 'destroyed' ? 'DESTROYED' : 'DECOMMISSIONED',
      `${id} was ${pack.state} and is out of commerce: a pack with this identifier is not genuine; quarantine it.`,
    );
  }
  if (nowSeconds >= chainLot.expiry) {
    return refuse(
      'EXPIRED',
      `Lot ${lot} of GTIN ${gtin} expired on ${expiryYymmdd(chainLot.expiry)}: do not dispense.`,
    );
  }
  const owner = recorded ? pack.owner : manufacturer;
  if (request.seller !== undefined && owner.toLowerCase() !== request.seller.toLowerCase()) {
    return refuse(
      'WRONG_OWNER',
      `${request.seller} is not the owner of ${id} (the chain says ${owner}): it cannot sell this pack; do not accept it.`,
    );
  }
  return {
    verified: true,
    gtin,
    serial,
    lot,
    expiry: expiryYymmdd(chainLot.expiry),
    manufacturer,
    owner,
    recorded,
  };
}
