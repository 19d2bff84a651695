import type { AnchorReader } from '../anchoring/verifyRecordProof.js';
import { CareLedgerError } from '../core/errors.js';
import type { Hex } from '../core/hex.js';
import { openEnvelope, sealEnvelope } from './envelope.js';
import {
  EXCHANGE_REQUEST_FORMAT,
  ExchangeResponseSchema,
  exchangeBodyBytes,
  parseExchangeBody,
  type ExchangeRequest,
  type ExchangeResponse,
} from './exchangeMessages.js';
import type { RecordLocator } from './ports.js';
import { verifyReceivedEntries, type DroppedEntry, type VerifiedEntry } from './receivedProofs.js';
import type { ReplayGuard } from './replayGuard.js';

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

export interface ExternalFetcherPorts {
  self: { address: Hex; signingKey: Hex; encryptionPrivateKey: Uint8Array };
  /** The chain address linked to a local Patient. */
  patientAddress(patientId: string): Hex | undefined;
  locator: Pick<RecordLocator, 'holdersOf'>;
  /** A member's registry entry (null: not a member). */
  member(organization: Hex): Promise<MemberProfile | null>;
  transport: ExchangeTransport;
  chain: { reader: AnchorReader; anchorRegistry: Hex };
  replay: ReplayGuard;
  /** Per attempt; a holder gets `1 + retries` attempts at most, so a dead gateway costs a bounded time. */
  timeoutMs: number;
  retries: number;
  /** Waits between attempts (ms): `retryDelayMs × attempt`. */
  retryDelayMs?: number;
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

const RETRYABLE_STATUS = new Set([502, 503, 504]);

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
      response = await this.ask(member, gateway, request);
    } catch (error) {
      if (error instanceof Unreachable) {
        return { ...source, status: 'unreachable', code: 'EXCHANGE.UNREACHABLE', message: error.message };
      }
      if (error instanceof CareLedgerError) {
        const status = error.code === 'EXCHANGE.HOLDER_REFUSED' ? 'refused' : 'rejected';
        return { ...source, status, code: error.code, message: error.message };
      }
      throw error;
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

  /** One request with bounded retries (network errors, timeouts, 502–504 only): the opened, parsed answer. */
  private async ask(
    member: MemberProfile,
    gateway: string,
    request: ExchangeRequest,
  ): Promise<ExchangeResponse> {
    const { self, timeoutMs, retries } = this.ports;
    const delay = this.ports.retryDelayMs ?? 200;
    const url = `${gateway}/exchange/v1/requests`;
    let lastProblem = '';
    for (let attempt = 0; attempt <= retries; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, delay * attempt));
      // A fresh envelope (nonce) per attempt: the holder may have seen the previous one.
      const sealed = await sealEnvelope({
        sender: { address: self.address, signingKey: self.signingKey },
        recipient: { address: member.organization, encryptionPublicKey: member.encryptionPublicKey },
        kind: 'request',
        body: exchangeBodyBytes(request),
      });
      let answer: { status: number; body: string };
      try {
        answer = await this.ports.transport(url, JSON.stringify(sealed), timeoutMs);
      } catch (error) {
        lastProblem = error instanceof Error ? error.message : String(error);
        continue;
      }
      if (RETRYABLE_STATUS.has(answer.status)) {
        lastProblem = `HTTP ${answer.status}`;
        continue;
      }
      if (answer.status === 403) {
        throw new CareLedgerError(
          'EXCHANGE.HOLDER_REFUSED',
          `${member.name}'s gateway refused this organisation: ${problemText(answer.body)}`,
          { status: 403, issueType: 'forbidden' },
        );
      }
      if (answer.status !== 200) {
        throw new CareLedgerError(
          'EXCHANGE.HOLDER_ERROR',
          `${member.name}'s gateway answered HTTP ${answer.status}: ${problemText(answer.body)}`,
          { status: 502, issueType: 'exception' },
        );
      }
      let envelope: unknown;
      try {
        envelope = JSON.parse(answer.body);
      } catch {
        throw new CareLedgerError(
          'EXCHANGE.BAD_ANSWER',
          `${member.name}'s gateway did not answer with an envelope.`,
          {
            status: 502,
          },
        );
      }
      const opened = await openEnvelope(envelope, {
        recipient: { address: self.address, encryptionPrivateKey: self.encryptionPrivateKey },
        expectedKind: 'response',
        expectedFrom: member.organization,
        inReplyTo: sealed.nonce,
        replay: this.ports.replay,
      });
      return parseExchangeBody<ExchangeResponse>(
        ExchangeResponseSchema,
        opened.body,
        `answer of ${member.name}`,
      );
    }
    throw new Unreachable(
      `${member.name}'s gateway (${gateway}) did not answer after ${retries + 1} attempt${retries === 0 ? '' : 's'} of at most ${timeoutMs} ms: ${lastProblem}.`,
    );
  }
}

class Unreachable extends Error {}

/** The message of a problem document or OperationOutcome, else the start of the body. */
function problemText(body: string): string {
  try {
    const parsed = JSON.parse(body) as {
      detail?: unknown;
      title?: unknown;
      issue?: { diagnostics?: unknown }[];
    };
    const text = parsed.detail ?? parsed.issue?.[0]?.diagnostics ?? parsed.title;
    if (typeof text === 'string') return text.slice(0, 500);
  } catch {
    // not JSON
  }
  return body.slice(0, 200);
}
