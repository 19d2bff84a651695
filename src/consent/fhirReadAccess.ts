import type { Hex } from '../core/hex.js';
import type { FhirCaller, PatientDataAccess } from '../records/fhirAccess.js';
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

  async check(caller: FhirCaller, patientId: string, resource: unknown): Promise<void> {
    await this.guard.assertMayRead(intentOf(caller), patientId, resource as FhirResourceLike);
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
