import { Type, type Static } from '@sinclair/typebox';

const Hash = Type.String({ pattern: '^0x[0-9a-f]{64}$' });

export const ProblemSchema = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.String(),
    details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { $id: 'Problem', description: 'RFC 9457 problem document' },
);

export const RecordReceiptSchema = Type.Object(
  {
    id: Type.Integer(),
    kind: Type.String(),
    contentHash: Hash,
    leafHash: Hash,
    receivedAt: Type.String({ format: 'date-time' }),
    batch: Type.Object({ sequence: Type.Integer(), leafIndex: Type.Integer() }),
    links: Type.Object({ self: Type.String(), proof: Type.String() }),
  },
  {
    $id: 'RecordReceipt',
    description: 'Acknowledgement that a record is durably stored and queued for anchoring',
  },
);
export type RecordReceiptBody = Static<typeof RecordReceiptSchema>;

export const RecordViewSchema = Type.Object(
  {
    id: Type.Integer(),
    kind: Type.String(),
    contentHash: Hash,
    leafHash: Hash,
    receivedAt: Type.String({ format: 'date-time' }),
    batch: Type.Object({
      sequence: Type.Integer(),
      state: Type.Union([
        Type.Literal('open'),
        Type.Literal('sealed'),
        Type.Literal('submitted'),
        Type.Literal('confirmed'),
      ]),
      leafIndex: Type.Integer(),
    }),
  },
  { $id: 'RecordView' },
);

export const KindQuerySchema = Type.Object({
  kind: Type.String({
    minLength: 1,
    maxLength: 64,
    description: 'What the record is, e.g. fhir.Observation',
  }),
});

export const IdParamsSchema = Type.Object({ id: Type.Integer({ minimum: 1 }) });
export const SequenceParamsSchema = Type.Object({ sequence: Type.Integer({ minimum: 1 }) });

export const BatchBodySchema = Type.Object(
  {
    records: Type.Array(
      Type.Object(
        {
          kind: Type.String({ minLength: 1, maxLength: 64 }),
          content: Type.String({ contentEncoding: 'base64', description: 'The record bytes, base64' }),
        },
        { additionalProperties: false },
      ),
      { minItems: 1 },
    ),
  },
  { additionalProperties: false },
);

export const BatchViewSchema = Type.Object(
  {
    sequence: Type.Integer(),
    state: Type.String(),
    leafCount: Type.Integer(),
    root: Type.Union([Hash, Type.Null()]),
    openedAt: Type.String({ format: 'date-time' }),
    sealedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    attempts: Type.Integer(),
    lastError: Type.Union([Type.String(), Type.Null()]),
    transactionHash: Type.Union([
      Type.String({ description: 'The latest anchoring transaction sent' }),
      Type.Null(),
    ]),
    anchor: Type.Union([
      Type.Object({
        chainId: Type.Integer(),
        contract: Type.String(),
        organization: Type.String(),
        transactionHash: Type.String(),
        blockNumber: Type.Integer(),
        blockHash: Type.String(),
        anchoredAt: Type.String({ format: 'date-time' }),
      }),
      Type.Null(),
    ]),
  },
  { $id: 'Batch' },
);

export const HealthSchema = Type.Object(
  {
    status: Type.Union([Type.Literal('ok'), Type.Literal('degraded')]),
    organization: Type.Object({ address: Type.String(), name: Type.String() }),
    chain: Type.Object({
      mode: Type.Union([Type.Literal('embedded'), Type.Literal('external')]),
      reachable: Type.Boolean(),
      chainId: Type.Union([Type.Integer(), Type.Null()]),
      latestBlock: Type.Union([Type.Integer(), Type.Null()]),
      rpcUrl: Type.Union([Type.String(), Type.Null()]),
      error: Type.Optional(Type.String()),
    }),
    contracts: Type.Object({
      organizationRegistry: Type.String(),
      anchorRegistry: Type.String(),
      consentRegistry: Type.String(),
      recordLocator: Type.String(),
      supplyChainRegistry: Type.String(),
    }),
    anchoring: Type.Object({
      openBatchRecords: Type.Integer(),
      pendingRecords: Type.Integer(),
      batches: Type.Object({
        open: Type.Integer(),
        sealed: Type.Integer(),
        submitted: Type.Integer(),
        confirmed: Type.Integer(),
      }),
      oldestPendingSince: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
      lastConfirmed: Type.Union([
        Type.Object({ sequence: Type.Integer(), anchoredAt: Type.String() }),
        Type.Null(),
      ]),
      submitter: Type.Object({
        state: Type.String(),
        lastError: Type.Union([Type.String(), Type.Null()]),
        reanchoredBatches: Type.Integer(),
      }),
    }),
  },
  { $id: 'Health' },
);
export type HealthBody = Static<typeof HealthSchema>;

const Address = Type.String({ pattern: '^0x[0-9a-f]{40}$' });

/** `POST /supply/t3/requests`: the pack whose T3s to collect from every organisation that handled it. */
export const T3RequestBodySchema = Type.Object(
  {
    gtin: Type.String({ minLength: 1, maxLength: 14, description: 'the GTIN (8, 12, 13 or 14 digits)' }),
    serial: Type.String({ minLength: 1, maxLength: 20, description: 'the serial number, AI (21)' }),
  },
  { additionalProperties: false },
);

/** What a T3 request collected: verified T3s (merged), every organisation asked and how it answered, what was dropped. */
export const T3RequestResultSchema = Type.Object(
  {
    gtin: Type.String(),
    serial: Type.String(),
    t3: Type.Array(
      Type.Object({
        document: Type.Unknown({ description: 'the T3 document (careledger.dscsa.t3/v1)' }),
        signature: Type.String({
          description: "the seller's EIP-191 signature over the document's canonical JSON",
        }),
        signer: Address,
        documentHash: Type.String({ description: 'SHA-256 (hex) of the signed T3 as canonical JSON' }),
        heldBy: Type.Array(Address, { description: 'every organisation that sent this very T3' }),
      }),
      { description: 'every T3 that passed the checks, oldest first, once however many holders sent it' },
    ),
    sources: Type.Array(
      Type.Object({
        organization: Address,
        name: Type.String(),
        roles: Type.Array(
          Type.Union([Type.Literal('manufacturer'), Type.Literal('seller'), Type.Literal('buyer')]),
        ),
        status: Type.Union([
          Type.Literal('ok'),
          Type.Literal('refused'),
          Type.Literal('unreachable'),
          Type.Literal('rejected'),
        ]),
        code: Type.Optional(Type.String()),
        message: Type.Optional(Type.String()),
        received: Type.Integer({ minimum: 0 }),
        verified: Type.Integer({ minimum: 0 }),
      }),
      { description: 'every organisation that handled the pack on chain, asked in parallel' },
    ),
    dropped: Type.Array(
      Type.Object({
        source: Address,
        t3: Type.Union([Type.String(), Type.Null()]),
        code: Type.String(),
        message: Type.String(),
      }),
      {
        description:
          'T3s that failed a check (malformed, not signed by their seller, not of this pack, conflicting)',
      },
    ),
  },
  { description: 'The T3s of a pack as collected from every organisation that handled it' },
);
