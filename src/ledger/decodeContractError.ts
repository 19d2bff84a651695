import {
  BaseError,
  ContractFunctionExecutionError,
  ContractFunctionRevertedError,
  ContractFunctionZeroDataError,
  HttpRequestError,
  NonceTooLowError,
  SocketClosedError,
  TimeoutError,
  WaitForTransactionReceiptTimeoutError,
} from 'viem';
import { CareLedgerError, UnavailableError, type CareLedgerErrorOptions } from '../core/errors.js';

/** An account may not do this on a contract, e.g. an organisation that is not an active member (403). */
export class ContractForbiddenError extends CareLedgerError {
  override readonly name: string = 'ContractForbiddenError';
  constructor(code: string, message: string, options: Omit<CareLedgerErrorOptions, 'status'> = {}) {
    super(code, message, { issueType: 'forbidden', ...options, status: 403 });
  }
}

/** A contract refused in a way this gateway does not know, or a mined transaction reverted (502). */
export class ContractRejectedError extends CareLedgerError {
  override readonly name: string = 'ContractRejectedError';
  constructor(code: string, message: string, options: Omit<CareLedgerErrorOptions, 'status'> = {}) {
    super(code, message, { issueType: 'exception', ...options, status: 502 });
  }
}

/** The revert somewhere in `error`'s chain of causes, if `error` is a viem error that has one. */
export function revertIn(error: unknown): ContractFunctionRevertedError | undefined {
  if (!(error instanceof BaseError)) return undefined;
  const reverted = error.walk((e) => e instanceof ContractFunctionRevertedError);
  return reverted instanceof ContractFunctionRevertedError ? reverted : undefined;
}

/** A JSON-safe copy of a revert argument (a bigint as a decimal string) for `details`. */
export function plain(value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

/** `details` naming a revert's arguments in order: `names[i]` is `args[i]` (made JSON-safe). */
export function namedArgs(args: readonly unknown[], names: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(names.map((key, i) => [key, plain(args[i])]));
}

/** What one contract's decoder adds to {@link decodeContractError}. */
export interface ContractErrorTable {
  /** The contract's name in messages, e.g. `RecordLocator`. */
  contract: string;
  /** The prefix of the contract's codes, e.g. `LOCATOR` for `LOCATOR.REJECTED`. */
  area: string;
  /** The code of a call to an address without the contract, e.g. `LOCATOR.CONTRACT_MISSING`. */
  missingCode: string;
  /** The setting that holds the contract's address, e.g. `CARELEDGER_RECORD_LOCATOR`. */
  addressSetting: string;
  /**
   * What to do about a receipt that did not come in time: follows "…; it may still be mined", with its own
   * punctuation (e.g. `. Simply try again.`).
   */
  receiptTimeoutAdvice: string;
  /** The 502 class of this contract's unknown reverts. */
  Rejected: new (
    code: string,
    message: string,
    options?: Omit<CareLedgerErrorOptions, 'status'>,
  ) => CareLedgerError;
  /** The contract's own custom errors; `undefined` for one this gateway does not know. */
  fromRevert(name: string, args: readonly unknown[], cause: BaseError): CareLedgerError | undefined;
  /** A failure of this contract's calls checked after reverts and before the chain's, e.g. a malformed argument. */
  before?(error: BaseError): CareLedgerError | undefined;
}

/**
 * Turns a viem error from a call to a contract into a `CareLedgerError` a person can act on: a custom error by
 * the contract's table (an unknown one, or a revert without data, as `<AREA>.REJECTED`, 502); a call to an
 * address without the contract (`missingCode`), a receipt that does not come in time (`CHAIN.RECEIPT_TIMEOUT`),
 * a nonce lost to other transactions of the same account (`CHAIN.NONCE_CLASH`), an unreachable or timing-out
 * chain (`CHAIN.UNAVAILABLE`) as an `UnavailableError` (503). Anything else (already a `CareLedgerError`, not a
 * viem error) is returned unchanged. The original error is the `cause`.
 */
export function decodeContractError(error: unknown, table: ContractErrorTable): unknown {
  if (error instanceof CareLedgerError || !(error instanceof BaseError)) return error;
  const reverted = revertIn(error);
  if (reverted) {
    if (reverted.data) {
      const { errorName, args = [] } = reverted.data;
      return (
        table.fromRevert(errorName, args, error) ??
        new table.Rejected(
          `${table.area}.REJECTED`,
          `The ${table.contract} refused the call with ${errorName}; this gateway does not know that error (is ` +
            `the contract newer than the gateway?).`,
          { details: { error: errorName, args: args.map(plain) }, cause: error },
        )
      );
    }
    return new table.Rejected(
      `${table.area}.REJECTED`,
      `The ${table.contract} refused the call: ${reverted.reason ?? reverted.shortMessage}.`,
      { cause: error },
    );
  }
  const own = table.before?.(error);
  if (own) return own;
  if (error.walk((e) => e instanceof ContractFunctionZeroDataError)) {
    const call = error.walk((e) => e instanceof ContractFunctionExecutionError);
    const address = call instanceof ContractFunctionExecutionError ? call.contractAddress : undefined;
    return new UnavailableError(
      table.missingCode,
      `No ${table.contract} answers at ${address ?? 'the configured address'} on this chain; check ` +
        `${table.addressSetting} and CHAIN_RPC_URL (an embedded chain redeploys it on its own).`,
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
      `The transaction was sent but not mined in time (${error.shortMessage}); it may still be mined` +
        table.receiptTimeoutAdvice,
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
