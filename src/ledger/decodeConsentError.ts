import type { BaseError } from 'viem';
import { CareLedgerError, ConflictError, InvalidInputError, NotFoundError } from '../core/errors.js';
import {
  ContractForbiddenError,
  ContractRejectedError,
  decodeContractError,
  namedArgs,
  type ContractErrorTable,
} from './decodeContractError.js';

/** The account may not do this for this patient, or the organisation may not use the registry (403). */
export class ConsentForbiddenError extends ContractForbiddenError {
  override readonly name = 'ConsentForbiddenError';
}

/** The ConsentRegistry refused in a way this gateway does not know, or a mined transaction reverted (502). */
export class ConsentRegistryRejectedError extends ContractRejectedError {
  override readonly name = 'ConsentRegistryRejectedError';
}

/** UNIX seconds as an ISO time, or just the number when it is out of the Date range. */
function when(seconds: unknown): string {
  const value = typeof seconds === 'bigint' ? seconds : BigInt(String(seconds));
  if (value > 8_640_000_000_000n) return `${value} (UNIX seconds)`;
  return `${new Date(Number(value) * 1000).toISOString()} (${value} in UNIX seconds)`;
}

/**
 * Turns a viem error from a `ConsentRegistry` call into a `CareLedgerError` a person can act on:
 *
 * | custom error | class | status | code |
 * | --- | --- | --- | --- |
 * | `ConsentRegistryExpiredSignature` | InvalidInputError | 400 | `CONSENT.SIGNATURE_EXPIRED` |
 * | `ConsentRegistryInvalidSignature` | InvalidInputError | 400 | `CONSENT.SIGNATURE_INVALID` |
 * | `ConsentRegistryZeroAddress` | InvalidInputError | 400 | `CONSENT.ZERO_ADDRESS` |
 * | `ConsentRegistryInvalidGrantee` | InvalidInputError | 400 | `CONSENT.INVALID_GRANTEE` |
 * | `ConsentRegistryInvalidScopeCount` | InvalidInputError | 400 | `CONSENT.INVALID_SCOPE_COUNT` |
 * | `ConsentRegistryZeroScope` | InvalidInputError | 400 | `CONSENT.ZERO_SCOPE` |
 * | `ConsentRegistryInvalidPurposes` | InvalidInputError | 400 | `CONSENT.INVALID_PURPOSES` |
 * | `ConsentRegistryInvalidValidity` | InvalidInputError | 400 | `CONSENT.INVALID_VALIDITY` |
 * | `ConsentRegistryInvalidDataRange` | InvalidInputError | 400 | `CONSENT.INVALID_DATA_RANGE` |
 * | `ConsentRegistryInvalidDelegate` | InvalidInputError | 400 | `CONSENT.INVALID_DELEGATE` |
 * | `ConsentRegistryInvalidExpiry` | InvalidInputError | 400 | `CONSENT.INVALID_DELEGATION_EXPIRY` |
 * | `ConsentRegistryMissingReason` | InvalidInputError | 400 | `CONSENT.MISSING_REASON` |
 * | `InvalidAccountNonce` (OpenZeppelin `Nonces`, unused today) | InvalidInputError | 400 | `CONSENT.INVALID_NONCE` |
 * | `ConsentRegistryUnauthorized` | ConsentForbiddenError | 403 | `CONSENT.UNAUTHORIZED` |
 * | `ConsentRegistryUnauthorizedOrganization` | ConsentForbiddenError | 403 | `CONSENT.ORGANIZATION_NOT_ACTIVE` |
 * | `ConsentRegistryUnknownConsent` | NotFoundError | 404 | `CONSENT.NOT_FOUND` |
 * | `ConsentRegistryNotDelegate` | NotFoundError | 404 | `CONSENT.NOT_DELEGATE` |
 * | `ConsentRegistryAlreadyRevoked` | ConflictError | 409 | `CONSENT.ALREADY_REVOKED` |
 * | `ConsentRegistryDelegateExists` | ConflictError | 409 | `CONSENT.DELEGATE_EXISTS` |
 * | any other revert | ConsentRegistryRejectedError | 502 | `CONSENT.REJECTED` |
 *
 * Other failures become an `UnavailableError` (503): a call to an address without the contract
 * (`CONSENT.REGISTRY_MISSING`), a receipt that does not come in time (`CHAIN.RECEIPT_TIMEOUT`), a nonce lost to
 * other transactions of the same account (`CHAIN.NONCE_CLASH`), an unreachable or timing-out chain
 * (`CHAIN.UNAVAILABLE`). Anything else (already a `CareLedgerError`, not a viem error) is returned unchanged. The
 * original error is the `cause`.
 */
export function decodeConsentError(error: unknown): unknown {
  return decodeContractError(error, CONSENT_ERRORS);
}

const CONSENT_ERRORS: ContractErrorTable = {
  contract: 'ConsentRegistry',
  area: 'CONSENT',
  missingCode: 'CONSENT.REGISTRY_MISSING',
  addressSetting: 'CARELEDGER_CONSENT_REGISTRY',
  receiptTimeoutAdvice: ': check the consent before sending it again.',
  Rejected: ConsentRegistryRejectedError,
  fromRevert,
};

function fromRevert(name: string, args: readonly unknown[], cause: BaseError): CareLedgerError | undefined {
  const [a, b] = args;
  const s = (value: unknown) => String(value);
  const details = (names: string[]) => namedArgs(args, names);
  switch (name) {
    case 'ConsentRegistryExpiredSignature':
      return new InvalidInputError(
        'CONSENT.SIGNATURE_EXPIRED',
        `The signed message expired at ${when(a)}: ask the signer to sign it again with a later deadline.`,
        { details: details(['deadline']), cause },
      );
    case 'ConsentRegistryInvalidSignature':
      return new InvalidInputError(
        'CONSENT.SIGNATURE_INVALID',
        `The signature does not match the signer ${s(a)} or was already used (nonce): it must be ${s(a)}'s ` +
          `EIP-712 signature of exactly this message, for this chain and ConsentRegistry, with ${s(a)}'s ` +
          `current nonce, and each signature is accepted once; ask the signer to sign again.`,
        { details: details(['signer']), cause },
      );
    case 'ConsentRegistryUnauthorized':
      return new ConsentForbiddenError(
        'CONSENT.UNAUTHORIZED',
        `${s(a)} may not act for patient ${s(b)}: only the patient or one of their active delegates may ` +
          `grant and revoke (and only the patient or the delegate may end a delegation).`,
        { details: details(['account', 'patient']), cause },
      );
    case 'ConsentRegistryUnauthorizedOrganization':
      return new ConsentForbiddenError(
        'CONSENT.ORGANIZATION_NOT_ACTIVE',
        `The organisation ${s(a)} is not an active member of the consortium (not admitted, or suspended), ` +
          `so it may not relay consents or record break-glass access; ask the consortium admin to admit or ` +
          `reinstate it.`,
        { details: details(['organization']), cause },
      );
    case 'ConsentRegistryUnknownConsent':
      return new NotFoundError('CONSENT.NOT_FOUND', `No consent with id ${s(a)} is recorded on chain.`, {
        details: details(['consentId']),
        cause,
      });
    case 'ConsentRegistryAlreadyRevoked':
      return new ConflictError(
        'CONSENT.ALREADY_REVOKED',
        `Consent ${s(a)} is already revoked; there is nothing left to revoke.`,
        { details: details(['consentId']), cause },
      );
    case 'ConsentRegistryZeroAddress':
      return new InvalidInputError(
        'CONSENT.ZERO_ADDRESS',
        'The zero address was given where a patient or another account is required.',
        { cause },
      );
    case 'ConsentRegistryInvalidGrantee':
      return new InvalidInputError(
        'CONSENT.INVALID_GRANTEE',
        `The grantee ${s(a)} is not valid: it must be an account other than the zero address and the patient.`,
        { details: details(['grantee']), cause },
      );
    case 'ConsentRegistryInvalidScopeCount':
      return new InvalidInputError(
        'CONSENT.INVALID_SCOPE_COUNT',
        `A consent must name 1 to 32 scopes; ${s(a)} were given.`,
        { details: details(['count']), cause },
      );
    case 'ConsentRegistryZeroScope':
      return new InvalidInputError(
        'CONSENT.ZERO_SCOPE',
        `Scope ${s(a)} (counting from 0) is zero; every scope must be the hash of a scope string.`,
        { details: details(['index']), cause },
      );
    case 'ConsentRegistryInvalidPurposes':
      return new InvalidInputError(
        'CONSENT.INVALID_PURPOSES',
        `Purposes mask ${s(a)} is not valid: it must combine one or more of the supported purposes of use ` +
          `(TREAT, ETREAT, HPAYMT, HRESCH, PUBHLTH, HOPERAT, PATRQT) and nothing else.`,
        { details: details(['purposes']), cause },
      );
    case 'ConsentRegistryInvalidValidity':
      return new InvalidInputError(
        'CONSENT.INVALID_VALIDITY',
        `The validity period from ${when(a)} until ${when(b)} is empty or already over: the end must be ` +
          `after the start and in the future.`,
        { details: details(['validFrom', 'validUntil']), cause },
      );
    case 'ConsentRegistryInvalidDataRange':
      return new InvalidInputError(
        'CONSENT.INVALID_DATA_RANGE',
        `The data date range is inverted: it starts at ${when(a)}, after its end ${when(b)}.`,
        { details: details(['dataFrom', 'dataUntil']), cause },
      );
    case 'ConsentRegistryInvalidDelegate':
      return new InvalidInputError(
        'CONSENT.INVALID_DELEGATE',
        `${s(a)} cannot be a delegate: a delegate must be an account other than the zero address and the patient.`,
        { details: details(['delegate']), cause },
      );
    case 'ConsentRegistryInvalidExpiry':
      return new InvalidInputError(
        'CONSENT.INVALID_DELEGATION_EXPIRY',
        `The delegation would end at ${when(a)}, which has passed: give 0 (until removed) or a future time.`,
        { details: details(['until']), cause },
      );
    case 'ConsentRegistryMissingReason':
      return new InvalidInputError(
        'CONSENT.MISSING_REASON',
        'Break-glass access must give the hash of its justification (a non-zero reason hash).',
        { cause },
      );
    case 'ConsentRegistryDelegateExists':
      return new ConflictError(
        'CONSENT.DELEGATE_EXISTS',
        `${s(b)} is already an active delegate of patient ${s(a)}; remove the delegation first to change it.`,
        { details: details(['patient', 'delegate']), cause },
      );
    case 'ConsentRegistryNotDelegate':
      return new NotFoundError(
        'CONSENT.NOT_DELEGATE',
        `${s(b)} is not (or no longer) a delegate appointed by patient ${s(a)}.`,
        { details: details(['patient', 'delegate']), cause },
      );
    case 'InvalidAccountNonce':
      return new InvalidInputError(
        'CONSENT.INVALID_NONCE',
        `The message carries the wrong nonce for ${s(a)}, whose current nonce is ${s(b)}: sign again with it.`,
        { details: details(['account', 'currentNonce']), cause },
      );
    default:
      return undefined;
  }
}
