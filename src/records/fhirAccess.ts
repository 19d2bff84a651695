import {
  scopesAllow,
  onlyPatientContext,
  formatSmartScope,
  type ScopeAction,
  type SmartScope,
} from '../auth/smartScopes.js';
import { FhirError } from './fhirErrors.js';
import { patientReferenceToken, PATIENT_REFERENCE_PATH, type SearchQuery } from './search/index.js';
import { isSupportedResourceType } from './supportedTypes.js';

/** Who is calling the FHIR API, as far as the router needs to know: their scopes and, for a patient, who. */
export interface FhirCaller {
  scopes: readonly SmartScope[];
  /** The Patient id a patient's token acts for; null for staff. */
  patientId: string | null;
  /** Declared purpose of use (v3 ActReason code), for the consent check of staff reads. */
  purpose?: string | undefined;
  /** A declared emergency: the reason given for break-glass access. */
  breakGlassReason?: string | undefined;
  /** The practitioner's chain address, when the token carries one. */
  practitioner?: string | undefined;
  /** Who calls, for the access audit trail: the token's name, role and the person it acts for (if any). */
  tokenName?: string | undefined;
  role?: string | undefined;
  subject?: string | null | undefined;
}

/** Why a read of a patient's data was allowed: a consent (its on-chain id, decimal), or a declared emergency. */
export type ReadBasis = { basis: 'consent'; consentId: string } | { basis: 'break-glass' };

/**
 * The consent check of staff reads of a patient's data. Resolves with the basis of the decision when the caller
 * may see `resource`; rejects with a 403 CareLedgerError that says which consent is missing (its `details.reason`
 * the denial code). The router calls it for every resource of a patient it is about to return, except to that
 * patient themselves.
 */
export interface PatientDataAccess {
  check(caller: FhirCaller, patientId: string, resource: unknown): Promise<ReadBasis>;
}

/** What the router reports of one access to one patient's data (see `AccessAudit`). */
export interface AccessDetails {
  /** `disclose`/`receive`: a cross-gateway exchange (see `AccessAction`). */
  action: 'read' | 'vread' | 'search' | 'history' | 'disclose' | 'receive';
  /**
   * What was accessed: `Type/id/_history/v` for a read, `Type/id/_history` or `Type/_history` for a history,
   * `Type?param&param` for a search (parameter names only, never their values).
   */
  entity: string;
  patientId: string;
  outcome: 'allowed' | 'denied' | 'break-glass';
  /** The denial's reason code (e.g. `NO_CONSENT`). */
  reason?: string | undefined;
  /** The consent that allowed the access (or came closest to, for a denial), decimal on-chain id. */
  consentId?: string | undefined;
  /** For searches and histories: how many of the patient's resources were returned (or withheld, if denied). */
  resultCount?: number | undefined;
  /** For exchanges: the other organisation's chain address. */
  counterpart?: string | undefined;
}

/**
 * The access audit trail as the router sees it: one call per access to one patient's data. It resolves once the
 * entry is durable (entries of one event-loop turn share a commit), and rejects with a 503 when it could not be
 * written: the router serves nothing whose access is not recorded.
 */
export interface AccessAudit {
  recordAccess(caller: FhirCaller, details: AccessDetails): Promise<void>;
}

const forbidden = (message: string) => new FhirError('FHIR.FORBIDDEN', 403, 'forbidden', message);

/**
 * Checks the caller's scopes for `action` on `resourceType`. Returns the patient the caller is confined to when
 * only patient-context scopes allow it (null when a user or system scope allows it).
 */
export function checkAccess(caller: FhirCaller, resourceType: string, action: ScopeAction): string | null {
  if (!isSupportedResourceType(resourceType)) return null; // the router answers 404 for it
  if (!scopesAllow(caller.scopes, resourceType, action)) {
    throw forbidden(
      `This token's scopes (${caller.scopes.map(formatSmartScope).join(' ') || 'none'}) do not allow ${action === 'read' ? 'reading' : 'writing'} ${resourceType}.`,
    );
  }
  if (!onlyPatientContext(caller.scopes, resourceType, action)) return null;
  if (caller.patientId === null) {
    throw forbidden(`This token has only patient scopes for ${resourceType} but acts for no patient.`);
  }
  if (action === 'write') {
    throw forbidden(`A patient's token may read their own record here, not write ${resourceType}.`);
  }
  return caller.patientId;
}

/** Refuses a resource outside the patient's compartment (the Patient itself, or what refers to them). */
export function assertInCompartment(
  patientId: string,
  resourceType: string,
  id: string,
  resourcePatientId: string | null,
): void {
  const own = resourceType === 'Patient' ? id === patientId : resourcePatientId === patientId;
  if (!own) {
    throw forbidden(
      `${resourceType}/${id} is not part of Patient/${patientId}'s record; this token reads only that.`,
    );
  }
}

/** Narrows a search to one patient's compartment; types outside any patient compartment are refused. */
export function restrictSearchToPatient(query: SearchQuery, patientId: string): SearchQuery {
  if (query.resourceType === 'Patient') {
    return { ...query, ids: query.ids ? query.ids.filter((id) => id === patientId) : [patientId] };
  }
  if (PATIENT_REFERENCE_PATH[query.resourceType] === null) {
    throw forbidden(
      `${query.resourceType} is not part of a patient's record; a patient's token cannot search it.`,
    );
  }
  return {
    ...query,
    tokenConditions: [
      ...query.tokenConditions,
      { param: 'patient', anyOf: [patientReferenceToken(patientId)] },
    ],
  };
}
