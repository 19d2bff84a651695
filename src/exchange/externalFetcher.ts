import type { AnchorReader } from '../anchoring/verifyRecordProof.js';
import { CareLedgerError } from '../core/errors.js';
import type { Hex } from '../core/hex.js';
import {
  EXCHANGE_REQUEST_FORMAT,
  ExchangeResponseSchema,
  type ExchangeRequest,
  type ExchangeResponse,
} from './exchangeMessages.js';
import { askMember, memberFailure, type MemberRequestPorts } from './memberRequest.js';
import type { RecordLocator } from './ports.js';
import { verifyReceivedEntries, type DroppedEntry, type VerifiedEntry } from './receivedProofs.js';

/** A member organisation as the OrganizationRegistry describes it. */
export interface MemberProfile {
  organization: Hex;
  name: string;
  active: boolean;
  gatewayUrl: string;
  encryptionPublicKey: Uint8Array;
}

/** Sends one sealed request to a gateway and returns the HTTP answer (throws on network errors and timeouts). */
export type ExchangeTransport = (
  url: string,
  body: string,
  timeoutMs: number,
) => Promise<{ status: number; body: string }>;

/** Asking a holder (sealing identity, transport, replay guard, timeout and retries), and finding the holders. */
export interface ExternalFetcherPorts extends MemberRequestPorts {
  /** The chain address linked to a local Patient. */
  patientAddress(patientId: string): Hex | undefined;
  locator: Pick<RecordLocator, 'holdersOf'>;
  /** A member's registry entry (null: not a member). */
  member(organization: Hex): Promise<MemberProfile | null>;
  chain: { reader: AnchorReader; anchorRegistry: Hex };
}

export interface FetchIntent {
  purpose: ExchangeRequest['purpose'];
  practitioner?: Hex | undefined;
  requestedBy: string;
}

/** What one holder answered, after verification. */
export interface SourceResult {
  organization: Hex;
  name: string;
  fhirBase: string | null;
  /** ok: answered (maybe with nothing); refused: declined the whole request; unreachable / rejected: see message. */
  status: 'ok' | 'refused' | 'unreachable' | 'rejected';
  message?: string;
  code?: string;
  verified: VerifiedEntry[];
  dropped: DroppedEntry[];
  withheld: number;
  withheldReasons: string[];
  pending: number;
}

export interface ExternalFetchResult {
  patientId: string;
  patient: Hex;
  sources: SourceResult[];
}

/**
 * The requesting side of an exchange ("B" asking "A"): finds, through the record locator on chain, every other
 * organisation holding records for the patient's pseudonymous address, asks each one's gateway (the URL and
 * encryption key from the OrganizationRegistry) in a request signed with this organisation's chain key and sealed
 * to theirs, opens the answer only if the holder signed it for this very request, and verifies every resource's
 * proof against the chain before returning it. Holders are asked in parallel; one that is down or slow costs at
 * most `(1 + retries) × timeoutMs` and is reported, not waited for forever.
 */
export class ExternalFetcher {
  private readonly ports: ExternalFetcherPorts;

  constructor(ports: ExternalFetcherPorts) {
    this.ports = ports;
  }

  async fetch(patientId: string, intent: FetchIntent): Promise<ExternalFetchResult> {
    const patient = this.ports.patientAddress(patientId);
    if (!patient) {
      throw new CareLedgerError(
        'EXCHANGE.PATIENT_NOT_LINKED',
        `Patient/${patientId} has no chain key linked here, so other organisations cannot be asked for their records: link the patient's key first (careledger patient link).`,
        { status: 409, issueType: 'business-rule' },
      );
    }
    const self = this.ports.self.address.toLowerCase();
    const holders = (await this.ports.locator.holdersOf(patient)).filter((h) => h.toLowerCase() !== self);
    const sources = await Promise.all(holders.map((holder) => this.fetchFrom(holder, patient, intent)));
    return { patientId, patient, sources };
  }

  private async fetchFrom(holder: Hex, patient: Hex, intent: FetchIntent): Promise<SourceResult> {
    const base: SourceResult = {
      organization: holder,
      name: holder,
      fhirBase: null,
      status: 'ok',
      verified: [],
      dropped: [],
      withheld: 0,
      withheldReasons: [],
      pending: 0,
    };
    const member = await this.ports.member(holder);
    if (!member || !member.active) {
      return {
        ...base,
        ...(member ? { name: member.name } : {}),
        status: 'refused',
        code: 'EXCHANGE.HOLDER_INACTIVE',
        message: `${member?.name ?? holder} is not an active member of the consortium; its records are not asked for.`,
      };
    }
    const gateway = member.gatewayUrl.replace(/\/+$/, '');
    const source: SourceResult = { ...base, name: member.name, fhirBase: `${gateway}/fhir` };
    const request: ExchangeRequest = {
      format: EXCHANGE_REQUEST_FORMAT,
      operation: 'everything',
      patient,
      purpose: intent.purpose,
      ...(intent.practitioner ? { practitioner: intent.practitioner } : {}),
      requestedBy: intent.requestedBy.slice(0, 200) || 'unknown',
    };
    let response: ExchangeResponse;
    try {
      response = await askMember<ExchangeResponse>(this.ports, member, request, ExchangeResponseSchema);
    } catch (error) {
      return { ...source, ...memberFailure(error) };
    }
    if (response.patient.toLowerCase() !== patient.toLowerCase()) {
      return {
        ...source,
        status: 'rejected',
        code: 'EXCHANGE.WRONG_PATIENT',
        message: `${member.name} answered for patient ${response.patient}, not ${patient}; nothing of it is shown.`,
      };
    }
    if (response.refused) {
      return { ...source, status: 'refused', code: response.refused.code, message: response.refused.message };
    }
    const { verified, dropped } = await verifyReceivedEntries(holder, response.entries, this.ports.chain);
    return {
      ...source,
      verified,
      dropped,
      withheld: response.withheld,
      withheldReasons: response.withheldReasons,
      pending: response.pending,
    };
  }
}
