import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { CareLedgerError } from '../../core/errors.js';
import type { T3RetrievalResult } from '../../supply-chain/dscsa/t3Retrieval.js';
import type { SignedT3WithMeta } from '../../supply-chain/dscsa/t3Service.js';
import { normalizeGtin } from '../../supply-chain/identifiers/index.js';
import { T3RequestBodySchema, T3RequestResultSchema } from '../schemas.js';

export interface T3RouteOptions {
  forPack(gtin: string, serial: string): SignedT3WithMeta[];
  get(id: string): SignedT3WithMeta;
  /** A sealed envelope from a member's gateway carrying a signed T3 or illegitimate-product report. */
  receive(envelope: unknown): Promise<{ id: string }>;
  /** Asks every organisation that handled the pack for its T3s of it, and verifies and merges what they send. */
  request(query: {
    gtin: string;
    serial: string;
    requestedBy: string;
    role?: string | undefined;
  }): Promise<T3RetrievalResult>;
}

const problems = { '4xx': { $ref: 'Problem#' }, '5xx': { $ref: 'Problem#' } };

/**
 * DSCSA T3s: `GET /supply/t3?gtin=&serial=` (every T3 naming the pack this organisation sent or received, oldest
 * first, each with its seller's signature) and `GET /supply/t3/{id}`, for the buyer's staff and a regulator's
 * audit (admin or read tokens); `POST /supply/t3/requests` collects the T3s of a pack from every organisation that
 * handled it (a regulator's request; others get only the T3s they are a party to); `POST /exchange/v1/documents` is
 * where a member's gateway delivers the T3 of a sale or an illegitimate-product report (no bearer token: the sealed
 * envelope authenticates the sender, the document carries its signature).
 */
export const t3Routes: FastifyPluginAsync<T3RouteOptions> = async (plain, options) => {
  const app = plain.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/supply/t3',
    {
      config: { access: 'read' },
      schema: {
        summary: 'The DSCSA T3s (transaction information, history, statement) naming a pack',
        querystring: Type.Object(
          { gtin: Type.String({ maxLength: 14 }), serial: Type.String({ minLength: 1, maxLength: 20 }) },
          { additionalProperties: false },
        ),
        response: problems,
      },
    },
    async (request) => ({ t3: options.forPack(normalizeGtin(request.query.gtin), request.query.serial) }),
  );
  app.get(
    '/supply/t3/:id',
    {
      config: { access: 'read' },
      schema: {
        summary: 'One DSCSA T3',
        params: Type.Object({ id: Type.String({ maxLength: 100 }) }),
        response: problems,
      },
    },
    async (request) => options.get(request.params.id),
  );
  app.post(
    '/supply/t3/requests',
    {
      config: { access: 'read' },
      schema: {
        summary:
          'Collect the T3s of a pack from every organisation that handled it on chain (a regulator’s request), each signature verified',
        body: T3RequestBodySchema,
        response: { 200: T3RequestResultSchema, ...problems },
      },
    },
    async (request) => {
      const principal = request.principal;
      if (principal?.role === 'patient') {
        throw new CareLedgerError(
          'T3.FORBIDDEN',
          "T3 requests ask other organisations for a pack's transaction documents on this organisation's behalf; they are for staff tokens, not a patient's.",
          { status: 403, issueType: 'forbidden' },
        );
      }
      return options.request({
        gtin: request.body.gtin,
        serial: request.body.serial,
        requestedBy: principal?.name ?? 'unknown',
        role: principal?.role,
      });
    },
  );
  app.post(
    '/exchange/v1/documents',
    { bodyLimit: 16 * 1024 * 1024, schema: { hide: true } },
    async (request, reply) => reply.status(201).send(await options.receive(request.body)),
  );
};
