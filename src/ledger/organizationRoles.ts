import { bitFlags } from '../core/bitFlags.js';
import { InvalidInputError } from '../core/errors.js';

/**
 * Roles an organisation plays in the consortium, as the bit flags of the `uint32` roles mask kept by the
 * `OrganizationRegistry` contract. Mirrors `contracts/libraries/OrganizationRoles.sol`; keep the two in step.
 */
export const ORGANIZATION_ROLES = {
  PROVIDER: 1 << 0,
  PAYER: 1 << 1,
  RESEARCHER: 1 << 2,
  MANUFACTURER: 1 << 3,
  DISTRIBUTOR: 1 << 4,
  DISPENSER: 1 << 5,
  DEVICE_VENDOR: 1 << 6,
  REGULATOR: 1 << 7,
} as const;

export type OrganizationRole = keyof typeof ORGANIZATION_ROLES;

/** Mask of every defined role (`OrganizationRoles.ALL_ROLES` on chain). */
export const ALL_ORGANIZATION_ROLES = 0xff;

const ROLE_FLAGS = bitFlags(
  ORGANIZATION_ROLES,
  (role, known) =>
    new InvalidInputError(
      'ORGANIZATION.UNKNOWN_ROLE',
      `Unknown organisation role ${JSON.stringify(role)}; valid roles are ${known.join(', ')}.`,
      { details: { role, validRoles: known } },
    ),
);

/**
 * Combines role names into the on-chain bitmask. Duplicates are harmless; an empty list gives 0 (which the
 * contract rejects on admission). Throws `ORGANIZATION.UNKNOWN_ROLE` for a name that is not a role.
 */
export const rolesToMask = (roles: readonly string[]): number => ROLE_FLAGS.toMask(roles);

/** The role names set in `mask`, in flag order; bits that are not defined roles are ignored. */
export const maskToRoles = (mask: number): OrganizationRole[] => ROLE_FLAGS.fromMask(mask);
