import type { Hex } from '../core/hex.js';
import { CareLedgerError } from '../core/errors.js';
import type { ConsentCache } from './consentCache.js';
import { accessDeniedError, decideAccess, type AccessDecision } from './consentDecision.js';
import { isPurposeOfUse, type PurposeOfUse } from './consentTypedData.js';
import type { ConsentLedger, ConsentRecord } from './ports.js';
import { resourceScopes, type FhirResourceLike } from './resourceScopes.js';

/** Who reads, for what, as the consent check sees it. */
export interface ReadIntent {
  purpose: PurposeOfUse;
  /** The practitioner's own chain address, when their token carries one (a consent may name them). */
  practitioner?: Hex | undefined;
  /** A declared emergency (break-glass) with its reason. */
  breakGlass?: { reason: string } | undefined;
}

export interface ConsentGuardOptions {
  /** This gateway's organisation: every staff read is made on its behalf. */
  organization: Hex;
  standing: () => Promise<{ active: boolean; roles: number }>;
  consents: Pick<ConsentLedger, 'consentsOf'>;
  /** The chain address linked to a Patient here, if any. */
  patientAddress: (patientId: string) => Hex | undefined;
  cache: ConsentCache<ConsentRecord>;
  /** The last block whose consent events the cache has seen (reads older than an event are not cached). */
  lastProcessedBlock: () => number;
  /** Called for each allowed break-glass read (to record it on chain and in the audit trail). */
  onBreakGlass?: (patient: Hex, patientId: string, intent: ReadIntent) => void;
  now?: () => number;
}

const ZERO_ADDRESS = '0x0000000000000000000000000000000000000000' as Hex;

/**
 * The consent check of every read of a patient's data by staff: the organisation's standing and roles from the
 * OrganizationRegistry, the patient's consents from the ConsentRegistry (cached per patient, the cache emptied by
 * the registry's events), then `decideAccess`. Pure application logic: no HTTP, no SQL, no viem.
 */
export class ConsentGuard {
  private readonly options: ConsentGuardOptions;
  private readonly now: () => number;

  constructor(options: ConsentGuardOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
  }

  async decide(intent: ReadIntent, patientId: string, resource: FhirResourceLike): Promise<AccessDecision> {
    const standing = await this.options.standing();
    return this.decideAs(
      { organization: this.options.organization, ...standing },
      intent,
      patientId,
      resource,
    );
  }

  /**
   * The decisions for another member organisation reading through this gateway (a cross-gateway exchange), one
   * request's worth: the patient's consents are read from the chain afresh, not from the cache, so a revocation
   * mined just before the request is honoured even if this gateway's event watcher has not seen it yet (exchanges
   * are few and each asks about many resources: one chain read each is cheap). The organisation's standing comes
   * from the caller, which read it from the OrganizationRegistry. An emergency declared by another organisation is
   * not honoured here.
   */
  async organizationAccess(
    caller: { organization: Hex; active: boolean; roles: number },
    intent: ReadIntent,
    patientId: string,
  ): Promise<(resource: FhirResourceLike) => AccessDecision> {
    const linked = this.options.patientAddress(patientId);
    const consents = linked ? await this.options.consents.consentsOf(linked) : [];
    const withoutEmergency = { ...intent, breakGlass: undefined };
    return (resource) => this.decideWith(caller, withoutEmergency, patientId, linked, consents, resource);
  }

  private async decideAs(
    caller: { organization: Hex; active: boolean; roles: number },
    intent: ReadIntent,
    patientId: string,
    resource: FhirResourceLike,
  ): Promise<AccessDecision> {
    const linked = this.options.patientAddress(patientId);
    const consents = linked ? await this.consentsOf(linked) : [];
    return this.decideWith(caller, intent, patientId, linked, consents, resource);
  }

  private decideWith(
    caller: { organization: Hex; active: boolean; roles: number },
    intent: ReadIntent,
    patientId: string,
    linked: Hex | undefined,
    consents: readonly ConsentRecord[],
    resource: FhirResourceLike,
  ): AccessDecision {
    const decision = decideAccess(
      {
        patient: linked ?? ZERO_ADDRESS,
        caller: {
          organization: caller.organization,
          organizationActive: caller.active,
          organizationRoles: caller.roles,
          practitioner: intent.practitioner,
        },
        purpose: intent.purpose,
        resource: resourceScopes(resource),
        breakGlass: intent.breakGlass,
      },
      consents,
      Math.floor(this.now() / 1000),
    );
    if (!decision.allowed && decision.reason === 'NO_CONSENT' && !linked) {
      return {
        ...decision,
        message: `Patient/${patientId} has no key linked at this gateway, so they have granted no consent; link their key (careledger patient link) and ask them to grant one.`,
      };
    }
    if (decision.allowed && decision.basis === 'break-glass') {
      this.options.onBreakGlass?.(linked ?? ZERO_ADDRESS, patientId, intent);
    }
    return decision;
  }

  /** `decide`, throwing the 403 (with the reason and what to do) when the read is not allowed. */
  async assertMayRead(
    intent: ReadIntent,
    patientId: string,
    resource: FhirResourceLike,
  ): Promise<AccessDecision> {
    const decision = await this.decide(intent, patientId, resource);
    if (!decision.allowed) throw accessDeniedError(decision);
    return decision;
  }

  private async consentsOf(patient: Hex): Promise<readonly ConsentRecord[]> {
    const cached = this.options.cache.get(patient);
    if (cached) return cached.consents;
    const asOfBlock = this.options.lastProcessedBlock();
    const consents = await this.options.consents.consentsOf(patient);
    this.options.cache.set(patient, consents, asOfBlock);
    return consents;
  }
}

/** Reads the declared purpose of use (a v3 ActReason code, bare or as `system|code`). */
export function parsePurposeOfUse(value: string | undefined, fallback: PurposeOfUse): PurposeOfUse {
  if (value === undefined || value.trim() === '') return fallback;
  const code = value.trim().split('|').pop()?.toUpperCase() ?? '';
  if (!isPurposeOfUse(code)) {
    throw new CareLedgerError(
      'CONSENT.UNKNOWN_PURPOSE',
      `"${value}" is not a purpose of use this gateway knows; use TREAT, ETREAT, HPAYMT, HRESCH, PUBHLTH, HOPERAT or PATRQT.`,
      { status: 400, issueType: 'invalid' },
    );
  }
  return code;
}
