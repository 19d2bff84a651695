import { CareLedgerError, InvalidInputError } from '../core/errors.js';
import type { Hex } from '../core/hex.js';
import { maskToRoles } from '../ledger/organizationRoles.js';
import {
  BREAK_GLASS_POLICY,
  PURPOSE_ROLES,
  mayBreakGlass,
  purposeBit,
  purposeRoleMask,
} from './accessPolicy.js';
import { maskToPurposes, type PurposeOfUse } from './consentTypedData.js';

/**
 * The access decision for one read of one patient's resource: pure, no I/O, a few microseconds.
 *
 * Order of the rules (the first that applies decides):
 * 1. An organisation that is not an active member is refused, even in an emergency: suspension is the
 *    consortium's way to cut a member off, and the chain refuses its break-glass record anyway
 *    (`recordBreakGlass` is `onlyActiveOrganization`).
 * 2. The organisation's roles must allow the purpose of use (`accessPolicy.ts`); no consent widens that.
 * 3. Break-glass is allowed, without consent, for ETREAT by a PROVIDER (`BREAK_GLASS_POLICY`) and always
 *    reported as such, even if a consent would also cover the read, so every declared emergency reaches the
 *    patient's break-glass report. Asked for by anyone else, it is ignored and consents decide.
 * 4. Otherwise a consent must match: for this patient, granted to the organisation or to the acting
 *    practitioner, naming one of the resource's scopes and the purpose, covering the data's date if it has a
 *    range, not revoked and in force (`validFrom <= now < validUntil`).
 *
 * A consent with a data date range does not cover a resource without a data date: we cannot show the data is
 * inside the range, and a patient who said "only my data from 2020" did not agree to undated data either
 * (fail closed).
 */

/** UNIX seconds, as the chain (`uint64`, bigint in viem) or a store (number) gives them. */
export type UnixSeconds = number | bigint;

/** The fields of an on-chain consent a decision reads; any consent record with these fields fits. */
export interface ConsentView {
  readonly id: bigint | number;
  readonly patient: Hex;
  readonly grantee: Hex;
  /** keccak-256 scope hashes, lower-case hex (as viem decodes `bytes32` and `scopeHash` returns). */
  readonly scopes: readonly Hex[];
  /** Purposes-of-use mask (`PURPOSES_OF_USE` flags). */
  readonly purposes: number;
  readonly validFrom: UnixSeconds;
  readonly validUntil: UnixSeconds;
  /** Inclusive bounds of the data's dates; 0 = unbounded on that side. */
  readonly dataFrom: UnixSeconds;
  readonly dataUntil: UnixSeconds;
  /** When it was revoked; null or 0 = not revoked. */
  readonly revokedAt: UnixSeconds | null;
}

export interface AccessCaller {
  readonly organization: Hex;
  /** From the `OrganizationRegistry`: admitted and not suspended. */
  readonly organizationActive: boolean;
  /** The organisation's roles mask (`ORGANIZATION_ROLES` flags). */
  readonly organizationRoles: number;
  /** The practitioner acting, when known: a consent may name them rather than their organisation. */
  readonly practitioner?: Hex | undefined;
}

/** What is being read; a `ResourceScopes` (from `resourceScopes`) fits and is the fast way. */
export interface ResourceMatch {
  /** Every scope hash the resource matches. */
  readonly scopes: readonly Hex[];
  /** UNIX seconds of the data's clinical date, or null. */
  readonly dataDate: number | null;
  /**
   * Where a partial date ends (`2019` → 2019-12-31T23:59:59Z), checked against `dataUntil`; default
   * `dataDate`.
   */
  readonly dataDateEnd?: number | null;
  /** Optional faster test of one consent scope; must agree with `scopes.includes(scope)`. */
  matches?(scope: Hex): boolean;
  /** For messages only. */
  readonly resourceType?: string;
  readonly categories?: readonly string[];
}

export interface AccessRequest {
  readonly patient: Hex;
  readonly caller: AccessCaller;
  readonly purpose: PurposeOfUse;
  readonly resource: ResourceMatch;
  /** A declared emergency; `reason` is kept off chain and its hash recorded on chain. */
  readonly breakGlass?: { readonly reason: string } | undefined;
}

export type DenialReason =
  | 'ORGANIZATION_INACTIVE'
  | 'ROLE_NOT_ALLOWED_FOR_PURPOSE'
  | 'NO_CONSENT'
  | 'WRONG_GRANTEE'
  | 'SCOPE_NOT_CONSENTED'
  | 'PURPOSE_NOT_CONSENTED'
  | 'DATA_OUTSIDE_CONSENTED_RANGE'
  | 'CONSENT_REVOKED'
  | 'CONSENT_NOT_YET_VALID'
  | 'CONSENT_EXPIRED';

export interface AccessDenial {
  readonly allowed: false;
  readonly reason: DenialReason;
  /** One sentence saying what is missing and what to do. */
  readonly message: string;
  /** The consent that came closest, when the reason is about one. */
  readonly consentId?: bigint | number;
}

export type AccessDecision =
  | { readonly allowed: true; readonly basis: 'consent'; readonly consentId: bigint | number }
  | { readonly allowed: true; readonly basis: 'break-glass' }
  | AccessDenial;

/**
 * How close a consent came, for picking the reason to report: a consent for another grantee says little; one
 * for this grantee that covers the data and purpose but was revoked or has lapsed says exactly what to fix.
 * Coverage (scope, purpose, date) ranks below status (revoked, time), because re-granting a consent that
 * never covered the data would not help.
 */
const CLOSENESS: Readonly<Record<ConsentFailure, number>> = {
  WRONG_GRANTEE: 1,
  SCOPE_NOT_CONSENTED: 2,
  PURPOSE_NOT_CONSENTED: 3,
  DATA_OUTSIDE_CONSENTED_RANGE: 4,
  CONSENT_REVOKED: 5,
  CONSENT_NOT_YET_VALID: 6,
  CONSENT_EXPIRED: 6,
};

type ConsentFailure = Exclude<
  DenialReason,
  'ORGANIZATION_INACTIVE' | 'ROLE_NOT_ALLOWED_FOR_PURPOSE' | 'NO_CONSENT'
>;

const BREAK_GLASS: AccessDecision = Object.freeze({ allowed: true, basis: 'break-glass' });

// Addresses may come checksummed (viem) or lower-case; `ref` is already lower-case.
function sameAddress(value: string, ref: string): boolean {
  return value === ref || value.toLowerCase() === ref;
}

/** Why `consent` does not allow the read, or null if it does. Checks run in `CLOSENESS` order. */
function failureOf(
  consent: ConsentView,
  organization: string,
  practitioner: string | null,
  resource: ResourceMatch,
  bit: number,
  now: number,
): ConsentFailure | null {
  const grantee = consent.grantee;
  if (!sameAddress(grantee, organization) && (practitioner === null || !sameAddress(grantee, practitioner))) {
    return 'WRONG_GRANTEE';
  }
  let covered = false;
  for (const scope of consent.scopes) {
    if (resource.matches === undefined ? resource.scopes.includes(scope) : resource.matches(scope)) {
      covered = true;
      break;
    }
  }
  if (!covered) return 'SCOPE_NOT_CONSENTED';
  if ((consent.purposes & bit) === 0) return 'PURPOSE_NOT_CONSENTED';
  const dataFrom = Number(consent.dataFrom);
  const dataUntil = Number(consent.dataUntil);
  // Comparisons are written so that a missing or NaN value denies (fail closed).
  if (dataFrom !== 0 || dataUntil !== 0) {
    const date = resource.dataDate;
    const end = resource.dataDateEnd ?? date;
    if (
      date === null ||
      end === null ||
      (dataFrom !== 0 && !(date >= dataFrom)) ||
      (dataUntil !== 0 && !(end <= dataUntil))
    ) {
      return 'DATA_OUTSIDE_CONSENTED_RANGE';
    }
  }
  if (consent.revokedAt !== null && Number(consent.revokedAt) !== 0) return 'CONSENT_REVOKED';
  if (!(now >= Number(consent.validFrom))) return 'CONSENT_NOT_YET_VALID';
  if (!(now < Number(consent.validUntil))) return 'CONSENT_EXPIRED';
  return null;
}

/**
 * Decides whether `request` may read the resource, given every consent of the patient (`consents`, in any
 * order; other patients' consents are ignored) at `now` (UNIX seconds). Throws `CONSENT.UNKNOWN_PURPOSE` for a
 * purpose that is not a supported code and `CONSENT.BREAK_GLASS_REASON_REQUIRED` for an emergency without a
 * reason; every other outcome is a decision.
 */
export function decideAccess(
  request: AccessRequest,
  consents: readonly ConsentView[],
  now: number,
): AccessDecision {
  const { caller, purpose } = request;
  const bit = purposeBit(purpose);
  const allowedRoles = purposeRoleMask(purpose);
  const breakGlassReason: unknown = request.breakGlass?.reason;
  if (
    request.breakGlass !== undefined &&
    (typeof breakGlassReason !== 'string' || breakGlassReason.trim() === '')
  ) {
    throw new InvalidInputError(
      'CONSENT.BREAK_GLASS_REASON_REQUIRED',
      'Emergency (break-glass) access needs a reason; say why the patient cannot consent now.',
    );
  }
  if (!caller.organizationActive) return deny(request, 'ORGANIZATION_INACTIVE');
  if ((caller.organizationRoles & allowedRoles) === 0) return deny(request, 'ROLE_NOT_ALLOWED_FOR_PURPOSE');
  if (request.breakGlass !== undefined && mayBreakGlass(caller.organizationRoles, purpose)) {
    return BREAK_GLASS;
  }

  const patient = request.patient.toLowerCase();
  const organization = caller.organization.toLowerCase();
  const practitioner = caller.practitioner === undefined ? null : caller.practitioner.toLowerCase();
  let closest: ConsentView | null = null;
  let closestFailure: ConsentFailure | null = null;
  for (const consent of consents) {
    if (!sameAddress(consent.patient, patient)) continue;
    const failure = failureOf(consent, organization, practitioner, request.resource, bit, now);
    if (failure === null) return { allowed: true, basis: 'consent', consentId: consent.id };
    const rank = CLOSENESS[failure];
    const best = closestFailure === null ? 0 : CLOSENESS[closestFailure];
    // Ties go to the newest consent: the one the patient most likely meant.
    if (rank > best || (rank === best && closest !== null && consent.id > closest.id)) {
      closest = consent;
      closestFailure = failure;
    }
  }
  if (closest === null || closestFailure === null) return deny(request, 'NO_CONSENT');
  // Consents granted to others are none of the caller's business: not even their ids.
  return closestFailure === 'WRONG_GRANTEE'
    ? deny(request, 'WRONG_GRANTEE')
    : deny(request, closestFailure, closest);
}

/** The 403 error for a denial, for the HTTP layer to turn into an OperationOutcome (issue code `forbidden`). */
export function accessDeniedError(denial: AccessDenial): CareLedgerError {
  return new CareLedgerError(`CONSENT.${denial.reason}`, denial.message, {
    status: 403,
    issueType: 'forbidden',
    details:
      denial.consentId === undefined
        ? { reason: denial.reason }
        : { reason: denial.reason, consentId: String(denial.consentId) },
  });
}

// ---- messages: built only on denial ----

function isoTime(seconds: UnixSeconds): string {
  const ms = Number(seconds) * 1000;
  return Number.isFinite(ms) && Math.abs(ms) <= 8.64e15
    ? new Date(ms).toISOString().replace('.000Z', 'Z')
    : `${String(seconds)} (UNIX seconds)`;
}

function dataLabel(resource: ResourceMatch): string {
  const type = resource.resourceType ?? 'this resource';
  const categories = resource.categories ?? [];
  if (categories.length === 0) return type;
  return `${type} (${categories.length === 1 ? 'category' : 'categories'} ${categories.join(', ')})`;
}

function granteeLabel(caller: AccessCaller): string {
  return caller.practitioner === undefined
    ? `organisation ${caller.organization}`
    : `organisation ${caller.organization} or practitioner ${caller.practitioner}`;
}

function purposesAllowedTo(roles: number): PurposeOfUse[] {
  return (Object.keys(PURPOSE_ROLES) as PurposeOfUse[]).filter((p) => (roles & purposeRoleMask(p)) !== 0);
}

function deny(request: AccessRequest, reason: DenialReason, consent?: ConsentView): AccessDenial {
  const { caller, purpose, patient, resource } = request;
  const data = dataLabel(resource);
  const grantee = granteeLabel(caller);
  const named =
    consent === undefined
      ? ''
      : `Consent ${String(consent.id)} from patient ${patient} to ${consent.grantee}`;
  let message: string;
  switch (reason) {
    case 'ORGANIZATION_INACTIVE':
      message =
        `Organisation ${caller.organization} is not an active member of the consortium (suspended or never ` +
        `admitted), so it may not read patient data, not even in an emergency; the consortium admin must ` +
        `reinstate it.`;
      break;
    case 'ROLE_NOT_ALLOWED_FOR_PURPOSE': {
      const roles = maskToRoles(caller.organizationRoles);
      const usable = purposesAllowedTo(caller.organizationRoles);
      message =
        `Organisation ${caller.organization} (roles: ${roles.length > 0 ? roles.join(', ') : 'none'}) may not ` +
        `read patient data for purpose ${purpose}, which is open to ${PURPOSE_ROLES[purpose].join(', ')}; ` +
        (usable.length > 0
          ? `declare a purpose its roles allow (${usable.join(', ')}).`
          : 'ask the consortium admin for a role that allows it.');
      break;
    }
    case 'NO_CONSENT':
      message = `No consent from patient ${patient} lets ${grantee} read ${data} for purpose ${purpose}; ask the patient to grant one.`;
      break;
    case 'WRONG_GRANTEE':
      message =
        `None of patient ${patient}'s consents is granted to ${grantee}, so it may not read ${data} for ` +
        `purpose ${purpose}; ask the patient to grant one to ${caller.organization}.`;
      break;
    case 'SCOPE_NOT_CONSENTED':
      message = `${named} does not cover ${data}; ask the patient to grant one that covers it for purpose ${purpose}.`;
      break;
    case 'PURPOSE_NOT_CONSENTED':
      message =
        `${named} covers ${data} only for purpose ${maskToPurposes(consent?.purposes ?? 0).join(', ')}, not ` +
        `${purpose}; read for a consented purpose or ask the patient to add ${purpose}.`;
      break;
    case 'DATA_OUTSIDE_CONSENTED_RANGE': {
      const from = Number(consent?.dataFrom ?? 0);
      const until = Number(consent?.dataUntil ?? 0);
      const range = `${from === 0 ? 'any time' : isoTime(from)} to ${until === 0 ? 'any time' : isoTime(until)}`;
      const dated =
        resource.dataDate === null
          ? 'has no clinical date, so it cannot be shown to fall inside the range'
          : resource.dataDateEnd === undefined ||
              resource.dataDateEnd === null ||
              resource.dataDateEnd === resource.dataDate
            ? `is dated ${isoTime(resource.dataDate)}`
            : `is dated ${isoTime(resource.dataDate)} to ${isoTime(resource.dataDateEnd)}`;
      message =
        `${named} covers only ${data} dated ${range}, and this one ${dated}; ask the patient for a consent ` +
        `covering it for purpose ${purpose}.`;
      break;
    }
    case 'CONSENT_REVOKED':
      message =
        `${named} was revoked at ${isoTime(consent?.revokedAt ?? 0)}; ask the patient to grant a new one to ` +
        `read ${data} for purpose ${purpose}.`;
      break;
    case 'CONSENT_NOT_YET_VALID':
      message =
        `${named} takes effect only at ${isoTime(consent?.validFrom ?? 0)}; wait until then or ask the ` +
        `patient for one in force now to read ${data} for purpose ${purpose}.`;
      break;
    case 'CONSENT_EXPIRED':
      message =
        `${named} expired at ${isoTime(consent?.validUntil ?? 0)}; ask the patient to renew it to read ` +
        `${data} for purpose ${purpose}.`;
      break;
  }
  if (request.breakGlass !== undefined && caller.organizationActive) {
    message +=
      ` Break-glass access is only for purpose ${BREAK_GLASS_POLICY.purpose} by a ` +
      `${BREAK_GLASS_POLICY.roles.join(' or ')} organisation.`;
  }
  return consent === undefined
    ? { allowed: false, reason, message }
    : { allowed: false, reason, message, consentId: consent.id };
}
