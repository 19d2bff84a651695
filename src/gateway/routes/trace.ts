import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { Trace, TraceOptions } from '../../supply-chain/trace/traceService.js';

export interface TraceRouteOptions {
  trace(epc: string, options: TraceOptions): Promise<Trace>;
}

const problems = { '4xx': { $ref: 'Problem#' }, '5xx': { $ref: 'Problem#' } };

/**
 * `GET /trace/{epc}`: the chain of custody of a pack (SGTIN) or logistic unit (SSCC) as this gateway knows it — every
 * EPCIS event naming it, and those of the cases and pallets it was in while inside, each with its anchoring proof
 * (`?include=none` leaves the proofs out) — plus the pack's custody on chain.
 */
export const traceRoutes: FastifyPluginAsync<TraceRouteOptions> = async (plain, options) => {
  const app = plain.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/trace/:epc',
    {
      config: { access: 'read' },
      schema: {
        summary:
          'Chain of custody of a pack or case: its EPCIS events and those of its containers while inside, with proofs, and its custody on chain',
        params: Type.Object({
          epc: Type.String({
            minLength: 1,
            maxLength: 500,
            description: 'an SGTIN or SSCC, EPC URN or GS1 Digital Link, percent-encoded',
          }),
        }),
        querystring: Type.Object(
          {
            include: Type.Optional(
              Type.Union([Type.Literal('proofs'), Type.Literal('none')], {
                description: 'proofs (default): each step with its anchoring proof; none: without (faster)',
              }),
            ),
          },
          { additionalProperties: false },
        ),
        response: problems,
      },
    },
    async (request) =>
      options.trace(request.params.epc, { proofs: (request.query.include ?? 'proofs') === 'proofs' }),
  );
};
