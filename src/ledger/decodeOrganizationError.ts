import { CareLedgerError, ConflictError, InvalidInputError, NotFoundError } from '../core/errors.js';
import { ContractForbiddenError, plain, revertIn } from './decodeContractError.js';
import { maskToRoles } from './organizationRoles.js';

/** The caller lacks the consortium admin role on the OrganizationRegistry (403). */
export class OrganizationForbiddenError extends ContractForbiddenError {
  override readonly name = 'OrganizationForbiddenError';
}

/** True when `error` is a CareLedgerError this module made from a registry revert. */
export function isOrganizationRegistryRefusal(error: unknown): error is CareLedgerError {
  return error instanceof CareLedgerError && error.code.startsWith('ORGANIZATION.');
}

/**
 * Turns a viem error from an `OrganizationRegistry` call into a `CareLedgerError` a person can act on:
 *
 * | custom error | code |
 * | --- | --- |
 * | `AccessControlUnauthorizedAccount` | `ORGANIZATION.NOT_ADMIN` (403) |
 * | `OrganizationRegistryAlreadyRegistered` | `ORGANIZATION.ALREADY_REGISTERED` (409) |
 * | `OrganizationRegistryUnknownOrganization` | `ORGANIZATION.UNKNOWN` (404) |
 * | `OrganizationRegistryNotActive` | `ORGANIZATION.NOT_ACTIVE` (409) |
 * | `OrganizationRegistryNotSuspended` | `ORGANIZATION.NOT_SUSPENDED` (409) |
 * | `OrganizationRegistryEmptyName` | `ORGANIZATION.EMPTY_NAME` (400) |
 * | `OrganizationRegistryInvalidRoles` | `ORGANIZATION.INVALID_ROLES` (400) |
 * | `OrganizationRegistryZeroAddress` | `ORGANIZATION.ZERO_ADDRESS` (400) |
 * | any other revert | `ORGANIZATION.REJECTED` (409) |
 *
 * Anything that is not a revert (network, node) is returned unchanged.
 */
export function decodeOrganizationError(error: unknown): unknown {
  const reverted = revertIn(error);
  if (!reverted) return error;
  const name = reverted.data?.errorName;
  const args = (reverted.data?.args ?? []).map(plain);
  const account = String(args[0]);
  const options = { cause: error, details: { error: name, args } };
  switch (name) {
    case 'AccessControlUnauthorizedAccount':
      return new OrganizationForbiddenError(
        'ORGANIZATION.NOT_ADMIN',
        `The account ${account} is not a consortium admin of this OrganizationRegistry; use the admin's key ` +
          `(by default the founding node's keys/org-chain.key).`,
        options,
      );
    case 'OrganizationRegistryAlreadyRegistered':
      return new ConflictError(
        'ORGANIZATION.ALREADY_REGISTERED',
        `The organisation ${account} is already registered; suspend or reinstate it instead of admitting it again.`,
        options,
      );
    case 'OrganizationRegistryUnknownOrganization':
      return new NotFoundError(
        'ORGANIZATION.UNKNOWN',
        `The organisation ${account} has never been admitted to this consortium.`,
        options,
      );
    case 'OrganizationRegistryNotActive':
      return new ConflictError(
        'ORGANIZATION.NOT_ACTIVE',
        `The organisation ${account} is not active (already suspended, or never admitted).`,
        options,
      );
    case 'OrganizationRegistryNotSuspended':
      return new ConflictError(
        'ORGANIZATION.NOT_SUSPENDED',
        `The organisation ${account} is not suspended, so there is nothing to reinstate.`,
        options,
      );
    case 'OrganizationRegistryEmptyName':
      return new InvalidInputError('ORGANIZATION.EMPTY_NAME', 'An organisation needs a name.', options);
    case 'OrganizationRegistryInvalidRoles': {
      const mask = Number(args[0]);
      return new InvalidInputError(
        'ORGANIZATION.INVALID_ROLES',
        `The roles mask ${mask} is not a non-empty combination of roles` +
          (maskToRoles(mask).length ? ` (known: ${maskToRoles(mask).join(', ')})` : '') +
          '.',
        options,
      );
    }
    case 'OrganizationRegistryZeroAddress':
      return new InvalidInputError(
        'ORGANIZATION.ZERO_ADDRESS',
        'The zero address cannot be an organisation.',
        options,
      );
    default:
      return new ConflictError(
        'ORGANIZATION.REJECTED',
        `The OrganizationRegistry refused the call${name ? ` with ${name}` : ''}: ${reverted.reason ?? reverted.shortMessage}`,
        options,
      );
  }
}
