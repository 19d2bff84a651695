import type { AccessDecision } from '../consent/consentDecision.js';
import type { ReadIntent } from '../consent/consentGuard.js';
import type { FhirResourceLike } from '../consent/resourceScopes.js';
import { CareLedgerError } from '../core/errors.js';
import type { Hex } from '../core/hex.js';
import type { FhirCaller, AccessDetails } from '../records/fhirAccess.js';
import {
  EXCHANGE_RESPONSE_FORMAT,
  type ExchangeEntry,
  type ExchangeRequest,
  type ExchangeResponse,
} from './exchangeMessages.js';

/** What the holder's side needs: the patient's records, their proofs, the consent decision and the audit trail. */
export interface ExchangeResponderPorts {
  /** Any member's standing in the OrganizationRegistry (briefly cached). */
  standingOf(organization: Hex): Promise<{ active: boolean; roles: number }>;
  /** The local Patient linked to a chain address, if any. */
  patientIdOf(address: Hex): string | undefined;
  /** The patient's current resources (not deleted) as stored (canonical JSON), the Patient itself included. */
  patientRecord(patientId: string): { resourceType: string; id: string; json: string; recordId: number }[];
  /** The record proof of a version by its anchoring record; throws `PROOF.NOT_ANCHORED_YET` until confirmed. */
  proof(recordId: number): unknown;
  /** One request's consent decisions for `caller` (the patient's consents read afresh from the chain). */
  access(
    caller: { organization: Hex; active: boolean; roles: number },
    intent: ReadIntent,
    patientId: string,
  ): Promise<(resource: FhirResourceLike) => AccessDecision>;
  /** The access audit trail; resolves once the entry is durable. */
  recordAccess(caller: FhirCaller, details: AccessDetails): Promise<void>;
  now?: () => number;
}

/**
 * The holder's side of an exchange ("A" answering "B"): checks that the requesting organisation is an active
 * member, finds the patient by their chain address, and returns every current resource the patient's on-chain
 * consent lets that organisation see for the declared purpose, each with its anchoring proof. What is refused is
 * counted, never named. Every answer, refusals included, is in the patient's access audit trail before it leaves.
 */
export class ExchangeResponder {
  private readonly ports: ExchangeResponderPorts;
  private readonly now: () => number;

  constructor(ports: ExchangeResponderPorts) {
    this.ports = ports;
    this.now = ports.now ?? Date.now;
  }

  async respond(from: Hex, request: ExchangeRequest): Promise<ExchangeResponse> {
    const empty = (refused: { code: string; message: string }): ExchangeResponse => ({
      format: EXCHANGE_RESPONSE_FORMAT,
      patient: request.patient,
      refused,
      entries: [],
      withheld: 0,
      withheldReasons: [],
      pending: 0,
      servedAt: this.now(),
    });
    const standing = await this.ports.standingOf(from);
    if (!standing.active) {
      // Not audited against a patient: an outsider's request must not reveal whether the patient is known here.
      return empty({
        code: 'EXCHANGE.ORGANIZATION_INACTIVE',
        message: `Organisation ${from} is not an active member of the consortium (suspended or never admitted); this gateway shares nothing with it.`,
      });
    }
    const patientId = this.ports.patientIdOf(request.patient as Hex);
    if (patientId === undefined) {
      return empty({
        code: 'EXCHANGE.PATIENT_UNKNOWN',
        message: `No patient with chain address ${request.patient} is linked at this gateway.`,
      });
    }
    const caller: FhirCaller = {
      scopes: [],
      patientId: null,
      purpose: request.purpose,
      practitioner: request.practitioner,
      tokenName: `${request.requestedBy} (organisation ${from})`,
      role: 'member-organization',
      subject: null,
    };
    const intent: ReadIntent = {
      purpose: request.purpose,
      practitioner: request.practitioner as Hex | undefined,
    };
    const entries: ExchangeEntry[] = [];
    const reasons = new Set<string>();
    let withheld = 0;
    let pending = 0;
    let consentId: string | undefined;
    const decide = await this.ports.access({ organization: from, ...standing }, intent, patientId);
    for (const stored of this.ports.patientRecord(patientId)) {
      const resource = JSON.parse(stored.json) as FhirResourceLike;
      const decision = decide(resource);
      if (!decision.allowed) {
        withheld++;
        reasons.add(decision.reason);
        continue;
      }
      if (decision.basis === 'consent') consentId ??= String(decision.consentId);
      let proof: unknown;
      try {
        proof = this.ports.proof(stored.recordId);
      } catch (error) {
        if (error instanceof CareLedgerError && error.code === 'PROOF.NOT_ANCHORED_YET') {
          pending++;
          continue;
        }
        throw error;
      }
      entries.push({ resource: stored.json, proof });
    }
    const allowed = entries.length + pending > 0;
    await this.ports.recordAccess(caller, {
      action: 'disclose',
      entity: `Patient/${patientId}/$everything`,
      patientId,
      outcome: allowed ? 'allowed' : 'denied',
      ...(allowed ? {} : { reason: [...reasons][0] ?? 'NO_DATA' }),
      ...(consentId !== undefined ? { consentId } : {}),
      resultCount: allowed ? entries.length : withheld,
      counterpart: from,
    });
    return {
      format: EXCHANGE_RESPONSE_FORMAT,
      patient: request.patient,
      entries,
      withheld,
      withheldReasons: [...reasons].sort(),
      pending,
      servedAt: this.now(),
    };
  }
}
