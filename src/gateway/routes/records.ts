import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { AnchoringService } from '../../anchoring/anchoringService.js';
import type { RecordReceipt } from '../../anchoring/recordWriter.js';
import { InvalidInputError, CareLedgerError } from '../../core/errors.js';
import { BatchBodySchema, IdParamsSchema, KindQuerySchema, type RecordReceiptBody } from '../schemas.js';

const OCTET = 'application/octet-stream';
const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function receiptBody(r: RecordReceipt): RecordReceiptBody {
  return {
    id: r.id,
    kind: r.kind,
    contentHash: r.contentHash,
    leafHash: r.leafHash,
    receivedAt: new Date(r.receivedAt).toISOString(),
    batch: { sequence: r.batchSequence, leafIndex: r.leafIndex },
    links: { self: `/records/${r.id}`, proof: `/records/${r.id}/proof` },
  };
}

function requireMediaType(request: FastifyRequest, expected: string): void {
  const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== expected) {
    throw new CareLedgerError(
      'REQUEST.UNSUPPORTED_MEDIA_TYPE',
      `This endpoint takes Content-Type ${expected}, not ${type || '(none)'}.`,
      {
        status: 415,
        issueType: 'not-supported',
      },
    );
  }
}

/** The record routes: append (one or many), read metadata and bytes, and fetch the inclusion proof. */
export const recordRoutes: FastifyPluginAsync<{
  anchoring: AnchoringService;
  limits: { maxRecordBytes: number; maxBatchRecords: number };
}> = async (plain, { anchoring, limits }) => {
  const app = plain.withTypeProvider<TypeBoxTypeProvider>();

  // Records are opaque bytes: take the body as a Buffer, capped at the record size limit.
  app.addContentTypeParser(
    OCTET,
    { parseAs: 'buffer', bodyLimit: limits.maxRecordBytes },
    (_req, body, done) => done(null, body),
  );

  app.post(
    '/records',
    {
      bodyLimit: limits.maxRecordBytes,
      config: { access: 'write' },
      schema: {
        summary: 'Append one record (the raw bytes as application/octet-stream); acknowledged once durable',
        querystring: KindQuerySchema,
        response: { 201: { $ref: 'RecordReceipt#' }, '4xx': { $ref: 'Problem#' } },
      },
    },
    async (request, reply) => {
      requireMediaType(request, OCTET);
      const body = request.body as Buffer | undefined;
      const receipt = await anchoring.append(request.query.kind, body ?? new Uint8Array(0));
      return reply.status(201).header('location', `/records/${receipt.id}`).send(receiptBody(receipt));
    },
  );

  // base64 inflates by 4/3; allow the whole batch of maximum-size records plus JSON overhead, capped at 256 MiB.
  const batchBodyLimit = Math.min(
    256 * 1_048_576,
    Math.ceil(limits.maxBatchRecords * (limits.maxRecordBytes * 1.34 + 256)),
  );
  app.post(
    '/records/batch',
    {
      bodyLimit: batchBodyLimit,
      config: { access: 'write' },
      schema: {
        summary: `Append up to ${limits.maxBatchRecords} records atomically (all or none), as JSON with base64 content`,
        body: BatchBodySchema,
        response: {
          201: {
            type: 'object',
            properties: { records: { type: 'array', items: { $ref: 'RecordReceipt#' } } },
          },
          '4xx': { $ref: 'Problem#' },
        },
      },
    },
    async (request, reply) => {
      requireMediaType(request, 'application/json');
      const { records } = request.body;
      if (records.length > limits.maxBatchRecords) {
        throw new InvalidInputError(
          'RECORD.BATCH_TOO_LARGE',
          `A batch request may hold at most ${limits.maxBatchRecords} records; this one has ${records.length}.`,
        );
      }
      const decoded = records.map((r, index) => {
        if (!BASE64_RE.test(r.content)) {
          throw new InvalidInputError('RECORD.BAD_BASE64', `records[${index}].content is not valid base64.`, {
            details: { index },
          });
        }
        return { kind: r.kind, content: Buffer.from(r.content, 'base64') };
      });
      const receipts = await anchoring.appendMany(decoded);
      return reply.status(201).send({ records: receipts.map(receiptBody) });
    },
  );

  app.get(
    '/records/:id',
    {
      config: { access: 'read' },
      schema: {
        summary: "A record's metadata and anchoring state",
        params: IdParamsSchema,
        response: { 200: { $ref: 'RecordView#' }, 404: { $ref: 'Problem#' } },
      },
    },
    async (request) => anchoring.getRecord(request.params.id),
  );

  app.get(
    '/records/:id/content',
    {
      config: { access: 'read' },
      schema: {
        summary: "A record's bytes",
        params: IdParamsSchema,
        response: { 404: { $ref: 'Problem#' } },
      },
    },
    async (request, reply) => {
      const content = anchoring.getContent(request.params.id);
      if (content === null) {
        throw new CareLedgerError(
          'RECORD.CONTENT_ELSEWHERE',
          `Record ${request.params.id} is held here by hash only; its content lives in its own store.`,
          {
            status: 404,
            issueType: 'not-found',
          },
        );
      }
      return reply.type(OCTET).send(Buffer.from(content.buffer, content.byteOffset, content.byteLength));
    },
  );

  app.get(
    '/records/:id/proof',
    {
      config: { access: 'read' },
      schema: {
        summary: "The record's self-contained inclusion proof (409 until its batch is confirmed on chain)",
        params: IdParamsSchema,
        response: { 200: { $ref: 'RecordProof#' }, 404: { $ref: 'Problem#' }, 409: { $ref: 'Problem#' } },
      },
    },
    async (request, reply) => {
      try {
        return anchoring.getProof(request.params.id);
      } catch (error) {
        if (error instanceof CareLedgerError && error.code === 'PROOF.NOT_ANCHORED_YET')
          void reply.header('retry-after', '2');
        throw error;
      }
    },
  );
};
