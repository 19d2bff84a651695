import { InvalidInputError } from '../core/errors.js';
import { ORGANIZATION_ROLES, type OrganizationRole } from '../ledger/organizationRoles.js';
import { PURPOSE_OF_USE_SYSTEM, PURPOSES_OF_USE, type PurposeOfUse } from './consentTypedData.js';

/**
 * Which organisation roles may read patient data for which purpose of use. A consent can only ever narrow
 * this: a payer never reads for treatment, whatever a patient signed.
 *
 * Purposes are codes of the HL7 v3 PurposeOfUse value set
 * (https://terminology.hl7.org/ValueSet-v3-PurposeOfUse.html, codes from the v3 ActReason code system),
 * as mirrored by the `PURPOSE_*` flags of `contracts/ConsentRegistry.sol`. Roles are those of the
 * `OrganizationRegistry` (`src/ledger/organizationRoles.ts`). An organisation with several roles may use
 * every purpose any of its roles allows.
 *
 * | purpose | meaning                        | roles                                   |
 * | ------- | ------------------------------ | --------------------------------------- |
 * | TREAT   | treatment                      | PROVIDER, DISPENSER                     |
 * | ETREAT  | emergency treatment            | PROVIDER, DISPENSER                     |
 * | HPAYMT  | healthcare payment             | PAYER                                   |
 * | HRESCH  | healthcare research            | RESEARCHER                              |
 * | PUBHLTH | public health                  | REGULATOR                               |
 * | HOPERAT | healthcare operations          | PROVIDER                                |
 * | PATRQT  | patient requested (for them)   | any member (every role)                 |
 *
 * Keep this a plain table: it is what reviewers and auditors read.
 */
export const PURPOSE_ROLES: Readonly<Record<PurposeOfUse, readonly OrganizationRole[]>> = {
  TREAT: ['PROVIDER', 'DISPENSER'],
  ETREAT: ['PROVIDER', 'DISPENSER'],
  HPAYMT: ['PAYER'],
  HRESCH: ['RESEARCHER'],
  PUBHLTH: ['REGULATOR'],
  HOPERAT: ['PROVIDER'],
  PATRQT: [
    'PROVIDER',
    'PAYER',
    'RESEARCHER',
    'MANUFACTURER',
    'DISTRIBUTOR',
    'DISPENSER',
    'DEVICE_VENDOR',
    'REGULATOR',
  ],
};

/**
 * Emergency (break-glass) access: without consent, only for emergency treatment by a care provider, always
 * flagged and recorded on chain (`ConsentRegistry.recordBreakGlass`). A dispenser may treat in an
 * emergency with consent, but cannot break the glass: dispensing is not where emergencies are decided.
 */
export const BREAK_GLASS_POLICY: Readonly<{ purpose: PurposeOfUse; roles: readonly OrganizationRole[] }> = {
  purpose: 'ETREAT',
  roles: ['PROVIDER'],
};

function roleMask(roles: readonly OrganizationRole[]): number {
  return roles.reduce((mask, role) => mask | ORGANIZATION_ROLES[role], 0);
}

// Precomputed so a decision is one map lookup and one AND.
const PURPOSE_ROLE_MASKS: ReadonlyMap<string, number> = new Map(
  (Object.keys(PURPOSE_ROLES) as PurposeOfUse[]).map((purpose) => [
    purpose,
    roleMask(PURPOSE_ROLES[purpose]),
  ]),
);
const BREAK_GLASS_ROLE_MASK = roleMask(BREAK_GLASS_POLICY.roles);

const PURPOSE_BITS: ReadonlyMap<string, number> = new Map(Object.entries(PURPOSES_OF_USE));

function unknownPurpose(purpose: string): InvalidInputError {
  const supported = Object.keys(PURPOSES_OF_USE);
  return new InvalidInputError(
    'CONSENT.UNKNOWN_PURPOSE',
    `Unsupported purpose of use ${JSON.stringify(purpose)}; supported codes of ${PURPOSE_OF_USE_SYSTEM} are ` +
      `${supported.join(', ')}.`,
    { details: { code: purpose, system: PURPOSE_OF_USE_SYSTEM, supportedCodes: supported } },
  );
}

/** The purpose's bit in the on-chain purposes mask; throws `CONSENT.UNKNOWN_PURPOSE` for anything else. */
export function purposeBit(purpose: string): number {
  const bit = PURPOSE_BITS.get(purpose);
  if (bit === undefined) throw unknownPurpose(purpose);
  return bit;
}

/** The roles allowed to use `purpose`, as a roles mask; throws `CONSENT.UNKNOWN_PURPOSE` for anything else. */
export function purposeRoleMask(purpose: string): number {
  const mask = PURPOSE_ROLE_MASKS.get(purpose);
  if (mask === undefined) throw unknownPurpose(purpose);
  return mask;
}

/** True if an organisation with the roles mask `roles` may read patient data for `purpose`. */
export function mayUsePurpose(roles: number, purpose: PurposeOfUse): boolean {
  return (roles & purposeRoleMask(purpose)) !== 0;
}

/** True if an organisation with the roles mask `roles` may break the glass for `purpose`. */
export function mayBreakGlass(roles: number, purpose: PurposeOfUse): boolean {
  return purpose === BREAK_GLASS_POLICY.purpose && (roles & BREAK_GLASS_ROLE_MASK) !== 0;
}
