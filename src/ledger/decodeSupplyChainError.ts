import { InvalidAddressError, type BaseError } from 'viem';
import {
  ConflictError,
  InvalidInputError,
  NotFoundError,
  VerificationError,
  type CareLedgerError,
} from '../core/errors.js';
import {
  ContractForbiddenError,
  ContractRejectedError,
  decodeContractError,
  plain,
  type ContractErrorTable,
} from './decodeContractError.js';
import { maskToRoles } from './organizationRoles.js';
import { gtinFromBytes14 } from './supplyChainIds.js';

/** The caller may not do this: not an active member, wrong role, not the owner or holder (403). */
export class SupplyChainForbiddenError extends ContractForbiddenError {
  override readonly name = 'SupplyChainForbiddenError';
}

/** The SupplyChainRegistry refused in a way this gateway does not know, or a mined transaction reverted (502). */
export class SupplyChainRejectedError extends ContractRejectedError {
  override readonly name = 'SupplyChainRejectedError';
}

/** `PackState` names, by their ABI value. */
export const PACK_STATES = ['active', 'dispensed', 'decommissioned', 'destroyed'] as const;
export type PackStateName = (typeof PACK_STATES)[number];

/** UNIX seconds as an ISO time, or just the number when it is out of the Date range. */
function when(seconds: unknown): string {
  const value = BigInt(String(seconds));
  if (value > 8_640_000_000_000n) return `${value} (UNIX seconds)`;
  return `${new Date(Number(value) * 1000).toISOString()} (${value} in UNIX seconds)`;
}

/**
 * Turns a viem error from a `SupplyChainRegistry` call into a `CareLedgerError` a person can act on. Every
 * custom error of the contract has its own code (`SUPPLY.*`), its arguments in `details` (a GTIN as its 14
 * digits, a pack state by name):
 *
 * | status | class | custom errors (`SupplyChainRegistry…` → code) |
 * | --- | --- | --- |
 * | 400 | InvalidInputError | `ZeroAddress` → `ZERO_ADDRESS`, `SelfTransfer` → `SELF_TRANSFER`, `InactiveRecipient` → `RECIPIENT_NOT_ACTIVE`, `InvalidGtin` → `INVALID_GTIN`, `InvalidSerial` → `INVALID_SERIAL`, `InvalidLotNumber` → `INVALID_LOT_NUMBER`, `InvalidLotHash` → `INVALID_LOT_HASH`, `EmptyLot` → `EMPTY_LOT`, `InvalidExpiry` → `INVALID_EXPIRY`, `MissingReference` → `MISSING_REFERENCE`, `EmptyBatch` → `EMPTY_BATCH`, `BatchTooLarge` → `BATCH_TOO_LARGE`, `LengthMismatch` → `LENGTH_MISMATCH`, `IndexOutOfBounds` → `INDEX_OUT_OF_BOUNDS` |
 * | 403 | SupplyChainForbiddenError | `UnauthorizedOrganization` → `ORGANIZATION_NOT_ACTIVE`, `MissingRole` → `MISSING_ROLE`, `NotProductOwner` → `NOT_PRODUCT_OWNER`, `NotOwner` → `NOT_OWNER`, `NotLotAuthority` → `NOT_LOT_AUTHORITY`, `NotHolder` → `NOT_HOLDER`, `NotLotHolder` → `NOT_LOT_HOLDER`, `NotInvestigator` → `NOT_INVESTIGATOR` |
 * | 404 | NotFoundError | `UnknownProduct` → `UNKNOWN_PRODUCT`, `UnknownLot` → `UNKNOWN_LOT` |
 * | 409 | ConflictError | `ProductExists` → `PRODUCT_EXISTS`, `LotExists` → `LOT_EXISTS`, `PackAlreadyDispensed` → `ALREADY_DISPENSED`, `PackOutOfCommerce` → `OUT_OF_COMMERCE`, `PackSuspect` → `PACK_SUSPECT`, `PackIllegitimate` → `PACK_ILLEGITIMATE`, `LotSuspect` → `LOT_SUSPECT`, `LotIllegitimate` → `LOT_ILLEGITIMATE`, `LotRecalled` → `LOT_RECALLED`, `LotAlreadyRecalled` → `ALREADY_RECALLED`, `LotExpired` → `LOT_EXPIRED`, `PackNotSuspect` → `PACK_NOT_SUSPECT`, `LotNotSuspect` → `LOT_NOT_SUSPECT` |
 * | 422 | VerificationError | `NotInLot` → `NOT_IN_LOT` |
 * | 502 | SupplyChainRejectedError | any other revert → `REJECTED` |
 *
 * A malformed address becomes an `InvalidInputError` (`SUPPLY.INVALID_ADDRESS`, 400). Other failures become an
 * `UnavailableError` (503): a call to an address without the contract (`SUPPLY.CONTRACT_MISSING`), a receipt that
 * does not come in time (`CHAIN.RECEIPT_TIMEOUT`), a nonce lost to other transactions of the same account
 * (`CHAIN.NONCE_CLASH`), an unreachable or timing-out chain (`CHAIN.UNAVAILABLE`). Anything else (already a
 * `CareLedgerError`, not a viem error) is returned unchanged. The original error is the `cause`.
 */
export function decodeSupplyChainError(error: unknown): unknown {
  return decodeContractError(error, SUPPLY_CHAIN_ERRORS);
}

const SUPPLY_CHAIN_ERRORS: ContractErrorTable = {
  contract: 'SupplyChainRegistry',
  area: 'SUPPLY',
  missingCode: 'SUPPLY.CONTRACT_MISSING',
  addressSetting: 'CARELEDGER_SUPPLY_CHAIN_REGISTRY',
  receiptTimeoutAdvice:
    ". Check the packs' status before sending it again: a repeated transfer or dispense is refused, not doubled.",
  Rejected: SupplyChainRejectedError,
  fromRevert,
  before(error) {
    const invalidAddress = error.walk((e) => e instanceof InvalidAddressError);
    if (!(invalidAddress instanceof InvalidAddressError)) return undefined;
    return new InvalidInputError(
      'SUPPLY.INVALID_ADDRESS',
      `${invalidAddress.shortMessage} An organisation is known by its 0x-prefixed 20-byte chain address.`,
      { cause: error },
    );
  },
};

/** Converts a revert argument for `details`. */
type Converters = Record<string, (value: unknown) => unknown>;

const PREFIX = 'SupplyChainRegistry';

function fromRevert(name: string, args: readonly unknown[], cause: BaseError): CareLedgerError | undefined {
  const [a, b, c] = args;
  const s = (value: unknown) => String(value);
  const gtin = (value: unknown) => gtinFromBytes14(value as `0x${string}`);
  const state = (value: unknown) => PACK_STATES[Number(value)] ?? `state ${s(value)}`;
  const details = (names: string[], convert: Converters = {}) =>
    Object.fromEntries(names.map((key, i) => [key, (convert[key] ?? plain)(args[i])])) as Record<
      string,
      unknown
    >;
  const short = name.startsWith(PREFIX) ? name.slice(PREFIX.length) : '';
  const invalid = (code: string, message: string, names: string[] = [], convert: Converters = {}) =>
    new InvalidInputError(`SUPPLY.${code}`, message, { details: details(names, convert), cause });
  const forbidden = (code: string, message: string, names: string[] = [], convert: Converters = {}) =>
    new SupplyChainForbiddenError(`SUPPLY.${code}`, message, { details: details(names, convert), cause });
  const conflict = (code: string, message: string, names: string[] = [], convert: Converters = {}) =>
    new ConflictError(`SUPPLY.${code}`, message, { details: details(names, convert), cause });
  const notFound = (code: string, message: string, names: string[] = [], convert: Converters = {}) =>
    new NotFoundError(`SUPPLY.${code}`, message, { details: details(names, convert), cause });
  const mismatch = (code: string, message: string, names: string[]) =>
    new VerificationError(`SUPPLY.${code}`, message, { details: details(names), cause });

  switch (short) {
    case 'ZeroAddress':
      return invalid('ZERO_ADDRESS', 'The zero address was given where an organisation is required.');
    case 'SelfTransfer':
      return invalid(
        'SELF_TRANSFER',
        `${s(a)} cannot transfer packs to itself: name the trading partner that receives them.`,
        ['account'],
      );
    case 'InactiveRecipient':
      return invalid(
        'RECIPIENT_NOT_ACTIVE',
        `The recipient ${s(a)} is not an active member of the consortium (not admitted, or suspended), so it ` +
          `cannot receive packs; check the address, or ask the consortium admin about its membership.`,
        ['to'],
      );
    case 'InvalidGtin':
      return invalid(
        'INVALID_GTIN',
        `${JSON.stringify(gtin(a))} is not a valid GTIN-14: give the 14 digits printed after (01), check digit ` +
          `included.`,
        ['gtin'],
        { gtin },
      );
    case 'InvalidSerial':
      return invalid(
        'INVALID_SERIAL',
        'The serial number is not valid: give the 1 to 20 characters printed after (21) exactly (letters, ' +
          `digits and !"%&'()*+,-./:;<=>?_ only).`,
      );
    case 'InvalidLotNumber':
      return invalid(
        'INVALID_LOT_NUMBER',
        'The lot number is not valid: give the 1 to 20 characters printed after (10) exactly (letters, ' +
          `digits and !"%&'()*+,-./:;<=>?_ only).`,
      );
    case 'InvalidLotHash':
      return invalid(
        'INVALID_LOT_HASH',
        'The lot hash cannot be zero: give keccak256 of the lot number exactly as printed after (10) ' +
          '(lotHashOf).',
      );
    case 'EmptyLot':
      return invalid(
        'EMPTY_LOT',
        'A lot needs at least one pack and the (non-zero) Merkle root of its pack ids: build the tree first.',
      );
    case 'InvalidExpiry':
      return invalid(
        'INVALID_EXPIRY',
        `The expiry ${when(a)} has already passed: a lot must be commissioned before it expires.`,
        ['expiry'],
      );
    case 'MissingReference':
      return invalid(
        'MISSING_REFERENCE',
        'A hash of the off-chain document (product data, transaction information, reason or report) is ' +
          'required: give the non-zero hash of the document kept off chain.',
      );
    case 'EmptyBatch':
      return invalid('EMPTY_BATCH', 'No packs were given: name at least one pack.');
    case 'BatchTooLarge':
      return invalid(
        'BATCH_TOO_LARGE',
        `${s(a)} packs were given in one call, more than the ${s(b)} allowed: split them into batches of at ` +
          `most ${s(b)}.`,
        ['count', 'max'],
      );
    case 'LengthMismatch':
      return invalid(
        'LENGTH_MISMATCH',
        `${s(a)} packs were given with ${s(b)} proofs: give one proof per pack (empty for a pack already ` +
          `recorded on chain).`,
        ['packs', 'proofs'],
      );
    case 'IndexOutOfBounds':
      return invalid(
        'INDEX_OUT_OF_BOUNDS',
        `There is no lot at position ${s(a)}: only ${s(b)} lots were commissioned.`,
        ['index', 'count'],
      );
    case 'UnauthorizedOrganization':
      return forbidden(
        'ORGANIZATION_NOT_ACTIVE',
        `The organisation ${s(a)} is not an active member of the consortium (not admitted, or suspended), so it ` +
          `may not take part in the supply chain; ask the consortium admin to admit or reinstate it.`,
        ['organization'],
      );
    case 'MissingRole': {
      const roles = maskToRoles(Number(b)).join(' or ');
      return forbidden(
        'MISSING_ROLE',
        `The organisation ${s(a)} does not have the ${roles} role this requires; ask the consortium admin to ` +
          `change its roles if it should.`,
        ['organization', 'roles'],
        { roles: (value: unknown) => maskToRoles(Number(value)) },
      );
    }
    case 'NotProductOwner':
      return forbidden(
        'NOT_PRODUCT_OWNER',
        `The product ${gtin(a)} belongs to another manufacturer: ${s(b)} may only commission lots of its own ` +
          `products.`,
        ['gtin', 'account'],
        { gtin },
      );
    case 'NotOwner':
      return forbidden(
        'NOT_OWNER',
        `Pack ${s(a)} is owned by ${s(c)}, not by ${s(b)}: only its current owner may move it or change its ` +
          `state. If it is physically here, it was not transferred to you on chain: ask the sender to transfer ` +
          `it, or quarantine it (mark it suspect) if you held it before.`,
        ['packId', 'account', 'owner'],
      );
    case 'NotLotAuthority':
      return forbidden(
        'NOT_LOT_AUTHORITY',
        `${s(b)} may not recall lot ${s(a)}: only its manufacturer or a regulator may; to stop its packs, mark ` +
          `the lot suspect instead.`,
        ['lotId', 'account'],
      );
    case 'NotHolder':
      return forbidden(
        'NOT_HOLDER',
        `${s(b)} never held pack ${s(a)}, so it may not quarantine it: ask its holder, its manufacturer or a ` +
          `regulator to.`,
        ['packId', 'account'],
      );
    case 'NotLotHolder':
      return forbidden(
        'NOT_LOT_HOLDER',
        `${s(b)} never held a pack of lot ${s(a)}, so it may not quarantine the lot: ask its manufacturer or a ` +
          `regulator to.`,
        ['lotId', 'account'],
      );
    case 'NotInvestigator':
      return forbidden(
        'NOT_INVESTIGATOR',
        `${s(b)} did not quarantine ${s(a)} and is not a regulator, so it may not record the investigation's ` +
          `outcome: the member that quarantined it or a regulator must.`,
        ['id', 'account'],
      );
    case 'UnknownProduct':
      return notFound(
        'UNKNOWN_PRODUCT',
        `No product with GTIN ${gtin(a)} is registered: its manufacturer must register it first.`,
        ['gtin'],
        { gtin },
      );
    case 'UnknownLot':
      return notFound(
        'UNKNOWN_LOT',
        `No lot ${s(a)} was commissioned: check the GTIN and lot number it was computed from (lotIdOf). A pack ` +
          `whose lot is unknown to the chain cannot be verified: treat it as suspect.`,
        ['lotId'],
      );
    case 'ProductExists':
      return conflict(
        'PRODUCT_EXISTS',
        `The GTIN ${gtin(a)} is already registered, to ${s(b)}: a GTIN has exactly one owner.`,
        ['gtin', 'manufacturer'],
        { gtin },
      );
    case 'LotExists':
      return conflict('LOT_EXISTS', `Lot ${s(a)} is already commissioned.`, ['lotId']);
    case 'PackAlreadyDispensed':
      return conflict(
        'ALREADY_DISPENSED',
        `Pack ${s(a)} was already dispensed by ${s(b)}: a pack seen again after dispensing is probably a clone ` +
          `(or diverted). Do not dispense it; quarantine it and notify the manufacturer and the regulator.`,
        ['packId', 'dispenser'],
      );
    case 'PackOutOfCommerce':
      return conflict(
        'OUT_OF_COMMERCE',
        `Pack ${s(a)} was ${state(b)} and is out of commerce for good: it may not be traded, dispensed or ` +
          `changed; if it is physically here, quarantine it.`,
        ['packId', 'state'],
        { state },
      );
    case 'PackSuspect':
      return conflict(
        'PACK_SUSPECT',
        `Pack ${s(a)} is quarantined (suspect) pending investigation: keep it aside until the investigation ` +
          `is recorded.`,
        ['packId'],
      );
    case 'PackIllegitimate':
      return conflict(
        'PACK_ILLEGITIMATE',
        `Pack ${s(a)} was found illegitimate: it may never be traded or dispensed again; destroy it and keep ` +
          `the record.`,
        ['packId'],
      );
    case 'LotSuspect':
      return conflict(
        'LOT_SUSPECT',
        `Lot ${s(a)} is quarantined (suspect) pending investigation: none of its packs may move or change ` +
          `until the investigation is recorded.`,
        ['lotId'],
      );
    case 'LotIllegitimate':
      return conflict(
        'LOT_ILLEGITIMATE',
        `Lot ${s(a)} was found illegitimate: none of its packs may be traded or dispensed again; destroy them.`,
        ['lotId'],
      );
    case 'LotRecalled':
      return conflict(
        'LOT_RECALLED',
        `Lot ${s(a)} is recalled: do not dispense or sell its packs; return them to the manufacturer or ` +
          `destroy them.`,
        ['lotId'],
      );
    case 'LotAlreadyRecalled':
      return conflict('ALREADY_RECALLED', `Lot ${s(a)} is already recalled.`, ['lotId']);
    case 'LotExpired':
      return conflict(
        'LOT_EXPIRED',
        `Lot ${s(a)} expired at ${when(b)}: its packs may not be sold or dispensed; return them to the ` +
          `manufacturer or take them out of commerce.`,
        ['lotId', 'expiry'],
      );
    case 'PackNotSuspect':
      return conflict(
        'PACK_NOT_SUSPECT',
        `Pack ${s(a)} is not quarantined, so there is no investigation to conclude.`,
        ['packId'],
      );
    case 'LotNotSuspect':
      return conflict(
        'LOT_NOT_SUSPECT',
        `Lot ${s(a)} is not quarantined, so there is no investigation to conclude.`,
        ['lotId'],
      );
    case 'NotInLot':
      return mismatch(
        'NOT_IN_LOT',
        `Pack ${s(b)} is not in lot ${s(a)}: its Merkle proof does not lead to the lot's commissioned root. ` +
          `Check the lot number on the pack and the proof from the manufacturer's tree; a pack no tree contains ` +
          `is suspect.`,
        ['lotId', 'packId'],
      );
    default:
      return undefined; // SUPPLY.REJECTED (502), by decodeContractError
  }
}
