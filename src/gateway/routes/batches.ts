import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { AnchoringService } from '../../anchoring/anchoringService.js';
import { toHex } from '../../core/hex.js';
import { SequenceParamsSchema } from '../schemas.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** `GET /batches/{sequence}`: a batch's state and, once confirmed, where it is anchored. */
export const batchRoutes: FastifyPluginAsync<{ anchoring: AnchoringService }> = async (
  plain,
  { anchoring },
) => {
  const app = plain.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/batches/:sequence',
    {
      config: { access: 'read' },
      schema: {
        summary: 'One batch: state, root, leaf count and anchoring details',
        params: SequenceParamsSchema,
        response: { 200: { $ref: 'Batch#' }, 404: { $ref: 'Problem#' } },
      },
    },
    async (request) => {
      const b = anchoring.getBatch(request.params.sequence);
      return {
        sequence: b.sequence,
        state: b.state,
        leafCount: b.state === 'open' ? anchoring.status().openBatchRecords : b.leafCount,
        root: b.root ? toHex(b.root) : null,
        openedAt: iso(b.openedAt) as string,
        sealedAt: iso(b.sealedAt),
        attempts: b.attempts,
        lastError: b.lastError,
        transactionHash: b.transactionHash,
        anchor: b.anchor
          ? { ...b.anchor, anchoredAt: new Date(b.anchor.anchoredAt * 1000).toISOString() }
          : null,
      };
    },
  );
};
