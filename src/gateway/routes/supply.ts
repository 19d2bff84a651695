import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { CommittedLot } from '../../supply-chain/custody/lotCommissioning.js';
import type { VerificationQuery } from '../../supply-chain/verification/verificationService.js';
import type { VerificationResult } from '../../supply-chain/verification/productVerification.js';

export interface SupplyRouteOptions {
  commitLot(gtin: string, lot: string): Promise<CommittedLot>;
  verify(query: VerificationQuery): Promise<VerificationResult>;
}

const problems = { '4xx': { $ref: 'Problem#' }, '5xx': { $ref: 'Problem#' } };

/**
 * Supply-chain operations beside the EPCIS repository: `POST /supply/lots/commit` (the manufacturer puts a lot whose
 * commissioning events it captured on chain) and `GET /verify/product` (DSCSA product identifier verification: 200
 * with `verified` true, or false and the exact reason).
 */
export const supplyRoutes: FastifyPluginAsync<SupplyRouteOptions> = async (plain, options) => {
  const app = plain.withTypeProvider<TypeBoxTypeProvider>();
  app.post(
    '/supply/lots/commit',
    {
      config: { access: 'write' },
      schema: {
        summary:
          "Commit a lot commissioned here to the chain: its packs' hashed ids as a Merkle root, and its expiry",
        body: Type.Object(
          {
            gtin: Type.String({ pattern: '^[0-9]{14}$', description: 'the GTIN-14' }),
            lot: Type.String({ minLength: 1, maxLength: 20 }),
          },
          { additionalProperties: false },
        ),
        response: problems,
      },
    },
    async (request, reply) =>
      reply.status(201).send(await options.commitLot(request.body.gtin, request.body.lot)),
  );

  app.get(
    '/verify/product',
    {
      config: { access: 'read' },
      schema: {
        summary: 'Verify a pack (GTIN, serial, lot, expiry, or its GS1 Digital Link): verified, or why not',
        querystring: Type.Object(
          {
            gtin: Type.Optional(Type.String({ maxLength: 14 })),
            serial: Type.Optional(Type.String({ maxLength: 20 })),
            lot: Type.Optional(Type.String({ maxLength: 20 })),
            expiry: Type.Optional(Type.String({ maxLength: 6 })),
            link: Type.Optional(Type.String({ maxLength: 500 })),
            seller: Type.Optional(Type.String({ maxLength: 42 })),
          },
          { additionalProperties: false },
        ),
        response: problems,
      },
    },
    async (request) => options.verify(request.query),
  );
};
