import type { Hex } from '../core/hex.js';
import type { FhirCaller, PatientDataAccess, ReadBasis } from '../records/fhirAccess.js';
import { parsePurposeOfUse, type ConsentGuard, type ReadIntent } from './consentGuard.js';
import type { FhirResourceLike } from './resourceScopes.js';

/**
 * The FHIR router's consent check, backed by the ConsentGuard: the caller's declared purpose (default TREAT),
 * break-glass reason and practitioner address become the read intent. A declared emergency is always ETREAT.
 */
export class ConsentReadAccess implements PatientDataAccess {
  private readonly guard: ConsentGuard;

  constructor(guard: ConsentGuard) {
    this.guard = guard;
  }

  /** The basis of an allowed read (for the audit trail); a denial rejects with the guard's 403. */
  async check(caller: FhirCaller, patientId: string, resource: unknown): Promise<ReadBasis> {
    const decision = await this.guard.assertMayRead(
      intentOf(caller),
      patientId,
      resource as FhirResourceLike,
    );
    if (decision.allowed && decision.basis === 'consent') {
      return { basis: 'consent', consentId: String(decision.consentId) };
    }
    return { basis: 'break-glass' };
  }
}

export function intentOf(caller: FhirCaller): ReadIntent {
  const breakGlass = caller.breakGlassReason?.trim() ? { reason: caller.breakGlassReason.trim() } : undefined;
  return {
    purpose: breakGlass ? 'ETREAT' : parsePurposeOfUse(caller.purpose, 'TREAT'),
    practitioner: caller.practitioner as Hex | undefined,
    breakGlass,
  };
}
