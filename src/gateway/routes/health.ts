import type { FastifyPluginAsync } from 'fastify';
import type { HealthBody } from '../schemas.js';

/** `GET /health`: chain, contracts and anchoring queue; 503 when the chain cannot be reached. */
export const healthRoutes: FastifyPluginAsync<{ health: () => Promise<HealthBody> }> = async (
  app,
  { health },
) => {
  app.get(
    '/health',
    {
      schema: {
        summary: 'Node health: chain id, latest block, contract addresses and the anchoring queue',
        response: { 200: { $ref: 'Health#' }, 503: { $ref: 'Health#' } },
      },
    },
    async (_request, reply) => {
      const body = await health();
      return reply.status(body.status === 'ok' ? 200 : 503).send(body);
    },
  );
};
