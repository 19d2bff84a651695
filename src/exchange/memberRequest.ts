import { CareLedgerError } from '../core/errors.js';
import type { Hex } from '../core/hex.js';
import { openEnvelope, sealEnvelope } from './envelope.js';
import { exchangeBodyBytes, parseExchangeBody } from './exchangeMessages.js';
import type { ExchangeTransport, MemberProfile } from './externalFetcher.js';
import type { ReplayGuard } from './replayGuard.js';

/** What asking another member's gateway needs: our sealing identity, the transport, replay guard and bounds. */
export interface MemberRequestPorts {
  self: { address: Hex; signingKey: Hex; encryptionPrivateKey: Uint8Array };
  transport: ExchangeTransport;
  replay: ReplayGuard;
  /** Per attempt; a member gets `1 + retries` attempts at most, so a dead gateway costs a bounded time. */
  timeoutMs: number;
  retries: number;
  /** Waits between attempts (ms): `retryDelayMs × attempt`. */
  retryDelayMs?: number;
}

/** The member's gateway did not answer within the attempts allowed (down, hung, or 502–504 every time). */
export class MemberUnreachableError extends CareLedgerError {
  constructor(message: string) {
    super('EXCHANGE.UNREACHABLE', message, { status: 502, issueType: 'transient' });
  }
}

/** How a failed {@link askMember} stands beside the other members' answers, with the error's code and message. */
export interface MemberFailure {
  status: 'unreachable' | 'refused' | 'rejected';
  code: string;
  message: string;
}

/**
 * Reports a rejection of {@link askMember} as a {@link MemberFailure} — the gateway did not answer: unreachable; it
 * refused this organisation (`EXCHANGE.HOLDER_REFUSED`): refused; any other error of the protocol: rejected — so one
 * member's failure never hides the others' answers. Anything but a `CareLedgerError` (a bug) is rethrown.
 */
export function memberFailure(error: unknown): MemberFailure {
  if (error instanceof MemberUnreachableError) {
    return { status: 'unreachable', code: error.code, message: error.message };
  }
  if (error instanceof CareLedgerError) {
    const status = error.code === 'EXCHANGE.HOLDER_REFUSED' ? 'refused' : 'rejected';
    return { status, code: error.code, message: error.message };
  }
  throw error;
}

const RETRYABLE_STATUS = new Set([502, 503, 504]);

/**
 * Sends one sealed request (`POST {gateway}/exchange/v1/requests`, signed with our chain key and sealed to the
 * member's registered key) and returns the answer parsed with `schema`, opened only if the member signed it for this
 * very request. Network errors, timeouts and 502–504 are retried with a fresh envelope; a 403 is
 * `EXCHANGE.HOLDER_REFUSED`, any other status `EXCHANGE.HOLDER_ERROR`, no answer at all a
 * {@link MemberUnreachableError}. Used by a patient's `$fetch-external` and a regulator's T3 requests alike.
 */
export async function askMember<T>(
  ports: MemberRequestPorts,
  member: MemberProfile,
  body: Parameters<typeof exchangeBodyBytes>[0],
  schema: Parameters<typeof parseExchangeBody>[0],
): Promise<T> {
  const { self, timeoutMs, retries } = ports;
  const delay = ports.retryDelayMs ?? 200;
  const gateway = member.gatewayUrl.replace(/\/+$/, '');
  const url = `${gateway}/exchange/v1/requests`;
  let lastProblem = '';
  for (let attempt = 0; attempt <= retries; attempt++) {
    if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, delay * attempt));
    // A fresh envelope (nonce) per attempt: the member may have seen the previous one.
    const sealed = await sealEnvelope({
      sender: { address: self.address, signingKey: self.signingKey },
      recipient: { address: member.organization, encryptionPublicKey: member.encryptionPublicKey },
      kind: 'request',
      body: exchangeBodyBytes(body),
    });
    let answer: { status: number; body: string };
    try {
      answer = await ports.transport(url, JSON.stringify(sealed), timeoutMs);
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
        { status: 502 },
      );
    }
    const opened = await openEnvelope(envelope, {
      recipient: { address: self.address, encryptionPrivateKey: self.encryptionPrivateKey },
      expectedKind: 'response',
      expectedFrom: member.organization,
      inReplyTo: sealed.nonce,
      replay: ports.replay,
    });
    return parseExchangeBody<T>(schema, opened.body, `answer of ${member.name}`);
  }
  throw new MemberUnreachableError(
    `${member.name}'s gateway (${gateway}) did not answer after ${retries + 1} attempt${retries === 0 ? '' : 's'} of at most ${timeoutMs} ms: ${lastProblem}.`,
  );
}

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
