import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { SignedT3WithMeta } from '../../supply-chain/dscsa/t3Service.js';
import { normalizeGtin } from '../../supply-chain/identifiers/index.js';

export interface T3RouteOptions {
  forPack(gtin: string, serial: string): SignedT3WithMeta[];
  get(id: string): SignedT3WithMeta;
  /** A sealed envelope from a seller's gateway carrying a signed T3. */
  receive(envelope: unknown): Promise<{ id: string }>;
}

const problems = { '4xx': { $ref: 'Problem#' }, '5xx': { $ref: 'Problem#' } };

/**
 * DSCSA T3s: `GET /supply/t3?gtin=&serial=` (every T3 naming the pack this organisation sent or received, oldest
 * first, each with its seller's signature) and `GET /supply/t3/{id}`, for the buyer's staff and a regulator's
 * audit (admin or read tokens); `POST /exchange/v1/documents` is where a seller's gateway delivers the T3 of a sale
 * (no bearer token: the sealed envelope authenticates the seller, the T3 carries its signature).
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
    '/exchange/v1/documents',
    { bodyLimit: 16 * 1024 * 1024, schema: { hide: true } },
    async (request, reply) => reply.status(201).send(await options.receive(request.body)),
  );
};
