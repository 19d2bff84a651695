import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { InvalidInputError } from '../core/errors.js';
import { PURPOSES_OF_USE } from '../consent/consentTypedData.js';

/**
 * The bodies that travel, sealed, between gateways (see `envelope.ts` for the sealing). Both sides parse what
 * they open with these schemas, so a member gateway that sends nonsense gets a clear refusal, not a crash.
 */

const Address = Type.String({ pattern: '^0x[0-9a-fA-F]{40}$' });
const Purpose = Type.Union([
  Type.Literal('TREAT'),
  Type.Literal('ETREAT'),
  Type.Literal('HPAYMT'),
  Type.Literal('HRESCH'),
  Type.Literal('PUBHLTH'),
  Type.Literal('HOPERAT'),
  Type.Literal('PATRQT'),
]);
// Every purpose the consent registry knows, and no other: a new purpose must be added above too.
const _purposesComplete: Record<keyof typeof PURPOSES_OF_USE, true> = {
  TREAT: true,
  ETREAT: true,
  HPAYMT: true,
  HRESCH: true,
  PUBHLTH: true,
  HOPERAT: true,
  PATRQT: true,
};
void _purposesComplete;

export const EXCHANGE_REQUEST_FORMAT = 'careledger.exchange.request/v1';
export const EXCHANGE_RESPONSE_FORMAT = 'careledger.exchange.response/v1';

/** "Send me what you hold for this patient that their consent lets me see, with proofs." */
export const ExchangeRequestSchema = Type.Object(
  {
    format: Type.Literal(EXCHANGE_REQUEST_FORMAT),
    operation: Type.Literal('everything'),
    /** The patient's pseudonymous chain address (the key they linked at both gateways). */
    patient: Address,
    purpose: Purpose,
    /** The requesting practitioner's chain address, when their token has one (a consent may name them). */
    practitioner: Type.Optional(Address),
    /** Who asked at the requesting gateway (a token name), for the holder's audit trail. */
    requestedBy: Type.String({ minLength: 1, maxLength: 200 }),
  },
  { additionalProperties: false },
);
export type ExchangeRequest = Static<typeof ExchangeRequestSchema>;

/** One resource as the holder stores it (canonical JSON, exactly the anchored bytes) and its record proof. */
export const ExchangeEntrySchema = Type.Object(
  {
    resource: Type.String({ minLength: 2, maxLength: 64 * 1024 * 1024 }),
    /** A `careledger.record-proof/v1` document; the receiver checks it with `parseRecordProof`. */
    proof: Type.Unknown(),
  },
  { additionalProperties: false },
);
export type ExchangeEntry = Static<typeof ExchangeEntrySchema>;

export const ExchangeResponseSchema = Type.Object(
  {
    format: Type.Literal(EXCHANGE_RESPONSE_FORMAT),
    patient: Address,
    /** Set when the holder refuses the whole request (no such patient, organisation not allowed, …). */
    refused: Type.Optional(
      Type.Object(
        { code: Type.String({ maxLength: 100 }), message: Type.String({ maxLength: 2_000 }) },
        { additionalProperties: false },
      ),
    ),
    entries: Type.Array(ExchangeEntrySchema, { maxItems: 100_000 }),
    /** Resources the patient's consent does not cover for the requester: only how many, and why, never which. */
    withheld: Type.Integer({ minimum: 0 }),
    withheldReasons: Type.Array(Type.String({ maxLength: 100 }), { maxItems: 20 }),
    /** Resources covered by consent but not yet anchored on chain (no proof yet): ask again shortly. */
    pending: Type.Integer({ minimum: 0 }),
    servedAt: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);
export type ExchangeResponse = Static<typeof ExchangeResponseSchema>;

/** The request kind "send me the DSCSA T3s of this pack you sent or received" (answered by `T3ResponseSchema`). */
export const T3_OPERATION = 'dscsa-t3';
export const T3_RESPONSE_FORMAT = 'careledger.exchange.t3-response/v1';

export const T3RequestSchema = Type.Object(
  {
    format: Type.Literal(EXCHANGE_REQUEST_FORMAT),
    operation: Type.Literal(T3_OPERATION),
    /** The pack: its GTIN-14 and serial. */
    gtin: Type.String({ pattern: '^[0-9]{14}$' }),
    serial: Type.String({ minLength: 1, maxLength: 20 }),
    /** Who asked at the requesting gateway (a token name), for the holder's audit trail. */
    requestedBy: Type.String({ minLength: 1, maxLength: 200 }),
  },
  { additionalProperties: false },
);
export type T3Request = Static<typeof T3RequestSchema>;

export const T3ResponseSchema = Type.Object(
  {
    format: Type.Literal(T3_RESPONSE_FORMAT),
    gtin: Type.String({ pattern: '^[0-9]{14}$' }),
    serial: Type.String({ minLength: 1, maxLength: 20 }),
    /** Set when the holder refuses (the requester is neither a regulator nor a party to any of its T3s, …). */
    refused: Type.Optional(
      Type.Object(
        { code: Type.String({ maxLength: 100 }), message: Type.String({ maxLength: 2_000 }) },
        { additionalProperties: false },
      ),
    ),
    /** Each T3 as the holder stores it: the canonical JSON of the signed T3; the requester checks every one. */
    t3: Type.Array(Type.String({ maxLength: 4 * 1024 * 1024 }), { maxItems: 10_000 }),
    servedAt: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);
export type T3Response = Static<typeof T3ResponseSchema>;

/** The `operation` of a request body, if it is a JSON object naming one (to pick the schema to parse it with). */
export function operationOf(bytes: Uint8Array): string | undefined {
  try {
    const value: unknown = JSON.parse(
      Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'),
    );
    const operation = (value as { operation?: unknown } | null)?.operation;
    return typeof operation === 'string' ? operation : undefined;
  } catch {
    return undefined;
  }
}

/** Parses JSON bytes against a schema; the error names the first wrong field. */
export function parseExchangeBody<T>(
  schema: Parameters<typeof Value.Check>[0],
  bytes: Uint8Array,
  what: string,
): T {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch {
    throw new InvalidInputError('EXCHANGE.MALFORMED', `The ${what} is not JSON.`);
  }
  if (Value.Check(schema, value)) return value as T;
  const first = Value.Errors(schema, value).First();
  throw new InvalidInputError(
    'EXCHANGE.MALFORMED',
    `The ${what} is not valid: ${first?.path || '/'}: ${first?.message ?? 'invalid'}.`,
    { details: { path: first?.path ?? '/' } },
  );
}

/** JSON bytes of a body. */
export function exchangeBodyBytes(
  body: ExchangeRequest | ExchangeResponse | T3Request | T3Response,
): Uint8Array {
  return Buffer.from(JSON.stringify(body), 'utf8');
}
