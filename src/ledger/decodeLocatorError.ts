import { InvalidAddressError, type BaseError } from 'viem';
import { CareLedgerError, InvalidInputError, NotFoundError } from '../core/errors.js';
import {
  ContractForbiddenError,
  ContractRejectedError,
  decodeContractError,
  namedArgs,
  type ContractErrorTable,
} from './decodeContractError.js';

/** This organisation may not announce in the RecordLocator: it is not an active consortium member (403). */
export class LocatorForbiddenError extends ContractForbiddenError {
  override readonly name = 'LocatorForbiddenError';
}

/** The RecordLocator refused in a way this gateway does not know, or a mined transaction reverted (502). */
export class RecordLocatorRejectedError extends ContractRejectedError {
  override readonly name = 'RecordLocatorRejectedError';
}

/**
 * Turns a viem error from a `RecordLocator` call into a `CareLedgerError` a person can act on:
 *
 * | custom error | class | status | code |
 * | --- | --- | --- | --- |
 * | `RecordLocatorZeroAddress` | InvalidInputError | 400 | `LOCATOR.ZERO_ADDRESS` |
 * | `RecordLocatorUnauthorizedOrganization` | LocatorForbiddenError | 403 | `LOCATOR.ORGANIZATION_NOT_ACTIVE` |
 * | `RecordLocatorNotHeld` | NotFoundError | 404 | `LOCATOR.NOT_HELD` |
 * | any other revert | RecordLocatorRejectedError | 502 | `LOCATOR.REJECTED` |
 *
 * (`ViemRecordLocator.release` treats `LOCATOR.NOT_HELD` as done: releasing is idempotent.)
 *
 * A malformed patient address becomes an `InvalidInputError` (`LOCATOR.INVALID_ADDRESS`, 400). Other failures
 * become an `UnavailableError` (503): a call to an address without the contract (`LOCATOR.CONTRACT_MISSING`),
 * a receipt that does not come in time (`CHAIN.RECEIPT_TIMEOUT`), a nonce lost to other transactions of the
 * same account (`CHAIN.NONCE_CLASH`), an unreachable or timing-out chain (`CHAIN.UNAVAILABLE`). Anything else
 * (already a `CareLedgerError`, not a viem error) is returned unchanged. The original error is the `cause`.
 */
export function decodeLocatorError(error: unknown): unknown {
  return decodeContractError(error, LOCATOR_ERRORS);
}

const LOCATOR_ERRORS: ContractErrorTable = {
  contract: 'RecordLocator',
  area: 'LOCATOR',
  missingCode: 'LOCATOR.CONTRACT_MISSING',
  addressSetting: 'CARELEDGER_RECORD_LOCATOR',
  receiptTimeoutAdvice: '. Announcing and releasing are idempotent: simply try again.',
  Rejected: RecordLocatorRejectedError,
  fromRevert,
  before(error) {
    const invalidAddress = error.walk((e) => e instanceof InvalidAddressError);
    if (!(invalidAddress instanceof InvalidAddressError)) return undefined;
    return new InvalidInputError(
      'LOCATOR.INVALID_ADDRESS',
      `${invalidAddress.shortMessage} A patient is known to the RecordLocator by a 0x-prefixed 20-byte ` +
        `chain address.`,
      { cause: error },
    );
  },
};

function fromRevert(name: string, args: readonly unknown[], cause: BaseError): CareLedgerError | undefined {
  const [a, b] = args;
  const s = (value: unknown) => String(value);
  const details = (names: string[]) => namedArgs(args, names);
  switch (name) {
    case 'RecordLocatorZeroAddress':
      return new InvalidInputError(
        'LOCATOR.ZERO_ADDRESS',
        'The zero address cannot be a patient: give the chain address the patient linked at this organisation.',
        { cause },
      );
    case 'RecordLocatorUnauthorizedOrganization':
      return new LocatorForbiddenError(
        'LOCATOR.ORGANIZATION_NOT_ACTIVE',
        `The organisation ${s(a)} is not an active member of the consortium (not admitted, or suspended), ` +
          `so it may not announce that it holds records; ask the consortium admin to admit or reinstate it.`,
        { details: details(['organization']), cause },
      );
    case 'RecordLocatorNotHeld':
      return new NotFoundError(
        'LOCATOR.NOT_HELD',
        `The organisation ${s(b)} has no RecordLocator entry for patient ${s(a)} (never announced, or ` +
          `already released), so there is nothing to release.`,
        { details: details(['patient', 'organization']), cause },
      );
    default:
      return undefined;
  }
}
