import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { SupplyNotification } from '../../supply-chain/notifications/ports.js';
import type {
  InvestigationRequest,
  QuarantineRequest,
  ReportView,
} from '../../supply-chain/suspect/suspectService.js';

export interface SupplySuspectRouteOptions {
  quarantine(request: QuarantineRequest): Promise<unknown>;
  investigate(request: InvestigationRequest): Promise<unknown>;
  reports(query: { limit?: number | undefined; pageToken?: string | undefined }): {
    reports: ReportView[];
    nextPageToken: string | null;
  };
  report(id: string): ReportView;
  notifications: {
    /** Newest first, or (with `after`) oldest first after that id. */
    list(page: {
      limit: number;
      before?: number | undefined;
      after?: number | undefined;
    }): SupplyNotification[];
    /** Every notification as it is stored; returns what unsubscribes. */
    subscribe(listener: (notification: SupplyNotification) => void): () => void;
  };
  /** Interval of the streams' keep-alive comments. */
  keepAliveMs?: number | undefined;
}

const problems = { '4xx': { $ref: 'Problem#' }, '5xx': { $ref: 'Problem#' } };
const target = {
  gtin: Type.String({ pattern: '^[0-9]{14}$', description: 'the GTIN-14' }),
  lot: Type.String({ minLength: 1, maxLength: 20 }),
  serials: Type.Optional(
    Type.Array(Type.String({ minLength: 1, maxLength: 20 }), {
      minItems: 1,
      maxItems: 256,
      description: 'the packs; leave out for the whole lot',
    }),
  ),
};

/**
 * Suspect product (DSCSA): `POST /supply/suspect` (quarantine packs or a lot on chain), `POST /supply/investigations`
 * (the outcome; an illegitimate finding produces an anchored, signed notification report, delivered to every
 * regulator and every organisation that handled the packs), `GET /supply/reports[/{id}]` (made or received here),
 * and this organisation's notifications: `GET /supply/notifications` (paged) and `GET /supply/notifications/stream`
 * (Server-Sent Events).
 */
export const supplySuspectRoutes: FastifyPluginAsync<SupplySuspectRouteOptions> = async (plain, options) => {
  const app = plain.withTypeProvider<TypeBoxTypeProvider>();
  app.post(
    '/supply/suspect',
    {
      config: { access: 'write' },
      schema: {
        summary:
          'Quarantine packs (or a whole lot) as suspect product; the reason stays here, its hash goes on chain',
        body: Type.Object(
          { ...target, reason: Type.String({ minLength: 1, maxLength: 10_000 }) },
          { additionalProperties: false },
        ),
        response: problems,
      },
    },
    async (request, reply) => reply.status(201).send(await options.quarantine(request.body)),
  );

  app.post(
    '/supply/investigations',
    {
      config: { access: 'write' },
      schema: {
        summary:
          'Record the outcome of the investigation of quarantined packs (or lot); "illegitimate" produces a notification report',
        body: Type.Object(
          {
            ...target,
            outcome: Type.Union([Type.Literal('cleared'), Type.Literal('illegitimate')]),
            report: Type.String({ minLength: 1, maxLength: 10_000 }),
          },
          { additionalProperties: false },
        ),
        response: problems,
      },
    },
    async (request, reply) => reply.status(201).send(await options.investigate(request.body)),
  );

  app.get(
    '/supply/reports',
    {
      config: { access: 'read' },
      schema: {
        summary:
          'Illegitimate-product notification reports made here (with their deliveries) or received from their finder, newest first',
        querystring: Type.Object(
          {
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
            pageToken: Type.Optional(Type.String({ maxLength: 200 })),
          },
          { additionalProperties: false },
        ),
        response: problems,
      },
    },
    async (request) => options.reports(request.query),
  );
  app.get(
    '/supply/reports/:id',
    {
      config: { access: 'read' },
      schema: {
        summary: 'One notification report: the document, its hash, anchoring record and chain transaction',
        params: Type.Object({ id: Type.String({ maxLength: 60 }) }),
        response: problems,
      },
    },
    async (request) => options.report(request.params.id),
  );

  app.get(
    '/supply/notifications',
    {
      config: { access: 'read' },
      schema: {
        summary:
          'Recalls, quarantines, investigations and receipts concerning this organisation, newest first',
        querystring: Type.Object(
          {
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
            before: Type.Optional(
              Type.Integer({ minimum: 1, description: 'the last id of the previous page' }),
            ),
          },
          { additionalProperties: false },
        ),
        response: problems,
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 50;
      const rows = options.notifications.list({ limit: limit + 1, before: request.query.before });
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        notifications: page,
        next: rows.length > limit && last ? `/supply/notifications?limit=${limit}&before=${last.id}` : null,
      };
    },
  );

  /** Open streams, ended when the server closes (a stream never goes idle by itself). */
  const streams = new Set<() => void>();
  app.addHook('preClose', async () => {
    for (const end of [...streams]) end();
  });
  app.get(
    '/supply/notifications/stream',
    {
      config: { access: 'read' },
      schema: {
        summary:
          'Server-Sent Events: every new notification as it is stored (event "notification"; Last-Event-ID resumes)',
        response: problems,
      },
    },
    (request, reply) => {
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      let lastSent = 0;
      const send = (n: SupplyNotification) => {
        if (n.id <= lastSent || res.destroyed || res.writableEnded) return;
        lastSent = n.id;
        res.write(`id: ${n.id}\nevent: notification\ndata: ${JSON.stringify(n)}\n\n`);
      };
      const unsubscribe = options.notifications.subscribe(send);
      const keepAlive = setInterval(() => {
        if (!res.destroyed) res.write(': keep-alive\n\n');
      }, options.keepAliveMs ?? 15_000);
      const close = () => {
        clearInterval(keepAlive);
        unsubscribe();
        streams.delete(end);
      };
      const end = () => {
        close();
        res.end();
      };
      streams.add(end);
      // The client left: forget it, and drop its connection (a half-closed socket would hold the server's close).
      const socket = res.socket;
      res.on('close', () => {
        close();
        if (socket && !socket.destroyed) socket.destroy();
      });
      res.write('retry: 2000\n: connected\n\n');
      // A client resuming after a disconnect gets what it missed, then the live ones.
      const header = request.headers['last-event-id'];
      const resumeFrom = typeof header === 'string' && /^\d{1,15}$/.test(header) ? Number(header) : null;
      if (resumeFrom !== null) {
        lastSent = resumeFrom;
        for (const n of options.notifications.list({ limit: 1_000, after: resumeFrom })) send(n);
      }
    },
  );
};
