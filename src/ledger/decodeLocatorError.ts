import {
  BaseError,
  ContractFunctionExecutionError,
  ContractFunctionRevertedError,
  ContractFunctionZeroDataError,
  HttpRequestError,
  InvalidAddressError,
  NonceTooLowError,
  SocketClosedError,
  TimeoutError,
  WaitForTransactionReceiptTimeoutError,
} from 'viem';
import {
  CareLedgerError,
  InvalidInputError,
  NotFoundError,
  UnavailableError,
  type CareLedgerErrorOptions,
} from '../core/errors.js';

/** This organisation may not announce in the RecordLocator: it is not an active consortium member (403). */
export class LocatorForbiddenError extends CareLedgerError {
  override readonly name = 'LocatorForbiddenError';
  constructor(code: string, message: string, options: Omit<CareLedgerErrorOptions, 'status'> = {}) {
    super(code, message, { issueType: 'forbidden', ...options, status: 403 });
  }
}

/** The RecordLocator refused in a way this gateway does not know, or a mined transaction reverted (502). */
export class RecordLocatorRejectedError extends CareLedgerError {
  override readonly name = 'RecordLocatorRejectedError';
  constructor(code: string, message: string, options: Omit<CareLedgerErrorOptions, 'status'> = {}) {
    super(code, message, { issueType: 'exception', ...options, status: 502 });
  }
}

/** JSON-safe copies of revert arguments (bigints as decimal strings) for `details`. */
function plain(value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
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
  if (error instanceof CareLedgerError || !(error instanceof BaseError)) return error;
  const reverted = error.walk((e) => e instanceof ContractFunctionRevertedError);
  if (reverted instanceof ContractFunctionRevertedError) {
    if (reverted.data) return fromRevert(reverted.data.errorName, reverted.data.args ?? [], error);
    return new RecordLocatorRejectedError(
      'LOCATOR.REJECTED',
      `The RecordLocator refused the call: ${reverted.reason ?? reverted.shortMessage}.`,
      { cause: error },
    );
  }
  const invalidAddress = error.walk((e) => e instanceof InvalidAddressError);
  if (invalidAddress instanceof InvalidAddressError) {
    return new InvalidInputError(
      'LOCATOR.INVALID_ADDRESS',
      `${invalidAddress.shortMessage} A patient is known to the RecordLocator by a 0x-prefixed 20-byte ` +
        `chain address.`,
      { cause: error },
    );
  }
  if (error.walk((e) => e instanceof ContractFunctionZeroDataError)) {
    const call = error.walk((e) => e instanceof ContractFunctionExecutionError);
    const address = call instanceof ContractFunctionExecutionError ? call.contractAddress : undefined;
    return new UnavailableError(
      'LOCATOR.CONTRACT_MISSING',
      `No RecordLocator answers at ${address ?? 'the configured address'} on this chain; check ` +
        `CARELEDGER_RECORD_LOCATOR and CHAIN_RPC_URL (an embedded chain redeploys it on its own).`,
      { details: { address }, cause: error },
    );
  }
  if (error.walk((e) => e instanceof NonceTooLowError)) {
    return new UnavailableError(
      'CHAIN.NONCE_CLASH',
      `Other transactions of this organisation kept taking the nonce of this one (${error.shortMessage}); ` +
        `nothing was recorded: retry.`,
      { cause: error },
    );
  }
  if (error.walk((e) => e instanceof WaitForTransactionReceiptTimeoutError)) {
    return new UnavailableError(
      'CHAIN.RECEIPT_TIMEOUT',
      `The transaction was sent but not mined in time (${error.shortMessage}); it may still be mined. ` +
        `Announcing and releasing are idempotent: simply try again.`,
      { cause: error },
    );
  }
  if (
    error.walk(
      (e) => e instanceof HttpRequestError || e instanceof TimeoutError || e instanceof SocketClosedError,
    )
  ) {
    return new UnavailableError(
      'CHAIN.UNAVAILABLE',
      `The chain could not be reached (${error.shortMessage}); retry once it is back.`,
      { cause: error },
    );
  }
  return error;
}

function fromRevert(name: string, args: readonly unknown[], cause: unknown): CareLedgerError {
  const [a, b] = args;
  const s = (value: unknown) => String(value);
  const details = (names: string[]) =>
    Object.fromEntries(names.map((key, i) => [key, plain(args[i])])) as Record<string, unknown>;
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
      return new RecordLocatorRejectedError(
        'LOCATOR.REJECTED',
        `The RecordLocator refused the call with ${name}; this gateway does not know that error (is the ` +
          `contract newer than the gateway?).`,
        { details: { error: name, args: args.map(plain) }, cause },
      );
  }
}
