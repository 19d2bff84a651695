import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { T3RouteOptions } from './t3.js';
import type { CommittedLot } from '../../supply-chain/custody/lotCommissioning.js';
import type { VerificationQuery } from '../../supply-chain/verification/verificationService.js';
import type { VerificationResult } from '../../supply-chain/verification/productVerification.js';

export interface SupplyRouteOptions {
  commitLot(gtin: string, lot: string): Promise<CommittedLot>;
  recallLot(
    gtin: string,
    lot: string,
    reason: string,
  ): Promise<{ transactionHash: string; blockNumber: number }>;
  /** The verdict; `asOfBlock` when answered from the registry mirror. */
  verify(query: VerificationQuery): Promise<VerificationResult & { asOfBlock?: number }>;
  /** Maps a location or party (SGLN/PGLN, URN or Digital Link) to a member organisation; returns its canonical key. */
  setParty(
    party: string,
    organization: string,
    name: string,
  ): { key: string; organization: string; name: string };
  parties(): { key: string; organization: string; name: string }[];
  /** DSCSA T3s (see `t3Routes`, registered beside these). */
  t3?: T3RouteOptions | undefined;
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

  app.post(
    '/supply/lots/recall',
    {
      config: { access: 'admin' },
      schema: {
        summary:
          'Recall a lot (its manufacturer or a regulator): every verification answers "recalled" at once',
        body: Type.Object(
          {
            gtin: Type.String({ pattern: '^[0-9]{14}$' }),
            lot: Type.String({ minLength: 1, maxLength: 20 }),
            reason: Type.String({
              minLength: 1,
              maxLength: 2_000,
              description: 'kept off chain; its hash is recorded',
            }),
          },
          { additionalProperties: false },
        ),
        response: problems,
      },
    },
    async (request) => options.recallLot(request.body.gtin, request.body.lot, request.body.reason),
  );

  app.put(
    '/supply/parties',
    {
      config: { access: 'admin' },
      schema: {
        summary: "Map a trading partner's location or party (SGLN or PGLN) to its member organisation",
        body: Type.Object(
          {
            party: Type.String({
              minLength: 1,
              maxLength: 500,
              description: 'an SGLN or PGLN, EPC URN or Digital Link',
            }),
            organization: Type.String({ pattern: '^0x[0-9a-fA-F]{40}$' }),
            name: Type.String({ minLength: 1, maxLength: 200 }),
          },
          { additionalProperties: false },
        ),
        response: problems,
      },
    },
    async (request) => options.setParty(request.body.party, request.body.organization, request.body.name),
  );
  app.get(
    '/supply/parties',
    {
      config: { access: 'read' },
      schema: { summary: 'The mapped locations and parties', response: problems },
    },
    async () => ({ parties: options.parties() }),
  );

  app.get(
    '/verify/product',
    {
      config: { access: 'read' },
      schema: {
        summary: 'Verify a pack (GTIN, serial, lot, expiry, or its GS1 Digital Link): verified, or why not',
        description:
          "Answered from the gateway's current mirror of the SupplyChainRegistry, with `asOfBlock` (the block the " +
          'answer reflects), or from the chain itself (no `asOfBlock`) while the mirror is behind.',
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
