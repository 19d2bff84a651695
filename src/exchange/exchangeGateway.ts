import type { TSchema } from '@sinclair/typebox';
import type { Hex } from '../core/hex.js';
import { openEnvelope, sealEnvelope, type SealedEnvelope } from './envelope.js';
import { EnvelopeError } from './exchangeErrors.js';
import {
  ExchangeRequestSchema,
  exchangeBodyBytes,
  operationOf,
  parseExchangeBody,
  type ExchangeRequest,
} from './exchangeMessages.js';
import type { ExchangeResponder } from './exchangeResponder.js';
import type { MemberProfile } from './externalFetcher.js';
import type { ReplayGuard } from './replayGuard.js';

/**
 * A further kind of request this gateway answers (besides a patient's records): its body schema and the handler
 * that answers an active member `from`.
 */
export interface ExchangeOperation {
  schema: TSchema;
  respond(from: Hex, request: unknown): Promise<Parameters<typeof exchangeBodyBytes>[0]>;
}

export interface ExchangeGatewayPorts {
  self: { address: Hex; signingKey: Hex; encryptionPrivateKey: Uint8Array };
  member(organization: Hex): Promise<MemberProfile | null>;
  replay: ReplayGuard;
  responder: ExchangeResponder;
}

/**
 * The holder's endpoint for other gateways (`POST /exchange/v1/requests`): opens the sealed request (signature,
 * recipient, clock, nonce, then decryption), admits only active members of the consortium, lets the responder (or
 * the registered handler of the request's `operation`, e.g. DSCSA T3s) build the answer, and seals it to the
 * requester's registered key, bound to the request's nonce. Every refusal before the responder is an
 * `EnvelopeError` (4xx), which reveals nothing about any patient.
 */
export class ExchangeGateway {
  private readonly ports: ExchangeGatewayPorts;
  private readonly operations = new Map<string, ExchangeOperation>();

  constructor(ports: ExchangeGatewayPorts) {
    this.ports = ports;
  }

  /** Answers requests whose `operation` is `name` with `operation` (registered by the capability that owns it). */
  addOperation(name: string, operation: ExchangeOperation): void {
    this.operations.set(name, operation);
  }

  async handle(envelope: unknown): Promise<SealedEnvelope> {
    const { self } = this.ports;
    const opened = await openEnvelope(envelope, {
      recipient: { address: self.address, encryptionPrivateKey: self.encryptionPrivateKey },
      expectedKind: 'request',
      replay: this.ports.replay,
      // Checked before the nonce is remembered or anything decrypted: outsiders cannot fill the replay guard.
      acceptSender: async (from) => {
        if ((await this.ports.member(from))?.active) return true;
        throw notAMember(from);
      },
    });
    const member = await this.ports.member(opened.from);
    if (!member || !member.active) throw notAMember(opened.from);
    const name = operationOf(opened.body);
    const operation = name === undefined ? undefined : this.operations.get(name);
    const response = operation
      ? await operation.respond(
          opened.from,
          parseExchangeBody<unknown>(operation.schema, opened.body, `${name} request`),
        )
      : await this.ports.responder.respond(
          opened.from,
          parseExchangeBody<ExchangeRequest>(ExchangeRequestSchema, opened.body, 'exchange request'),
        );
    return sealEnvelope({
      sender: { address: self.address, signingKey: self.signingKey },
      recipient: { address: member.organization, encryptionPublicKey: member.encryptionPublicKey },
      kind: 'response',
      body: exchangeBodyBytes(response),
      inReplyTo: opened.nonce,
    });
  }
}

function notAMember(organization: Hex): EnvelopeError {
  return new EnvelopeError(
    'ENVELOPE.SENDER_NOT_ALLOWED',
    `${organization} is not an active member of the consortium (never admitted, or suspended); this gateway answers members only.`,
  );
}
