import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { NotFoundError } from '../../core/errors.js';
import { EpcisDocumentBytes, type CaptureService } from '../../supply-chain/capture/captureService.js';
import {
  pageToken,
  parseEventQuery,
  type QueryVocabulary,
} from '../../supply-chain/capture/eventQueryParams.js';
import type { CaptureJob, EpcisStore } from '../../supply-chain/capture/ports.js';

export const EPCIS_CONTEXT = 'https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld';
const JSON_LD = 'application/ld+json; charset=utf-8';

export interface EpcisRouteOptions {
  capture: CaptureService;
  store: EpcisStore;
  vocabulary: QueryVocabulary;
  /** The anchoring proof of a record (throws the spine's 409 until its batch is confirmed). */
  proof(recordId: number): unknown;
  maxDocumentBytes: number;
}

/** The EPCIS 2.0 capture job resource (`GET /capture/{captureID}`) of a finished, successful capture. */
function captureJobView(job: CaptureJob) {
  return {
    captureID: job.captureId,
    createdAt: new Date(job.createdAt).toISOString(),
    finishedAt: new Date(job.finishedAt).toISOString(),
    running: false,
    success: true,
    captureErrorBehaviour: 'rollback',
    errors: [],
    // Beyond the standard: what this capture did with each event of the document.
    stored: job.stored,
    duplicates: job.duplicates,
    eventIDs: job.eventIds,
    ...(job.effects && job.effects.length > 0 ? { effects: job.effects } : {}),
  };
}

/**
 * GS1 EPCIS 2.0 REST binding at `/epcis`: `POST /epcis/capture` (an EPCISDocument in JSON-LD; validated whole,
 * stored and anchored before the answer, so the capture job is already finished: `202` with its `Location`),
 * `GET /epcis/capture/{captureID}`, `GET /epcis/events` (Simple Event Query parameters, paged with `perPage` and
 * `nextPageToken`, the next page in a `Link` header), `GET /epcis/events/{eventID}` and its anchoring proof.
 */
export const epcisRoutes: FastifyPluginAsync<EpcisRouteOptions> = async (app, options) => {
  const { capture, store, vocabulary } = options;
  // A JSON-LD document is handed to the capture as its bytes: the EPCIS reader parses it, on its worker threads when
  // it has them (a syntax error is then the same 400 as a parser's).
  app.addContentTypeParser(
    ['application/ld+json'],
    { parseAs: 'buffer', bodyLimit: options.maxDocumentBytes },
    (_request, body, done) => done(null, new EpcisDocumentBytes(body as Buffer)),
  );

  app.post(
    '/epcis/capture',
    { config: { access: 'write' }, bodyLimit: options.maxDocumentBytes, schema: { hide: true } },
    async (request, reply) => {
      const job = await capture.capture(request.body);
      return reply
        .status(202)
        .header('location', `/epcis/capture/${job.captureId}`)
        .type('application/json; charset=utf-8')
        .send(JSON.stringify(captureJobView(job)));
    },
  );

  app.get(
    '/epcis/capture/:captureId',
    { config: { access: 'read' }, schema: { hide: true } },
    async (request) => {
      const { captureId } = request.params as { captureId: string };
      const job = store.getCapture(captureId);
      if (!job)
        throw new NotFoundError('EPCIS.CAPTURE_NOT_FOUND', `No capture ${captureId.slice(0, 80)} here.`);
      return captureJobView(job);
    },
  );

  app.get('/epcis/events', { config: { access: 'read' }, schema: { hide: true } }, async (request, reply) => {
    const params = request.query as Record<string, string | string[] | undefined>;
    const query = parseEventQuery(params, vocabulary);
    // One more than a page tells whether there is a next page.
    const rows = store.query({ ...query, limit: query.limit + 1 });
    const page = rows.slice(0, query.limit);
    if (rows.length > query.limit) {
      const last = page[page.length - 1];
      if (last) void reply.header('link', `<${nextPageUrl(request, pageToken(last.recordId))}>; rel="next"`);
    }
    return reply.type(JSON_LD).send(
      JSON.stringify({
        '@context': [EPCIS_CONTEXT],
        type: 'EPCISQueryDocument',
        schemaVersion: '2.0',
        creationDate: new Date().toISOString(),
        epcisBody: {
          queryResults: {
            queryName: 'SimpleEventQuery',
            resultsBody: { eventList: page.map((row) => JSON.parse(row.body) as unknown) },
          },
        },
      }),
    );
  });

  const event = (request: FastifyRequest) => {
    const { eventId } = request.params as { eventId: string };
    const row = store.getEvent(eventId);
    if (!row) {
      throw new NotFoundError(
        'EPCIS.EVENT_NOT_FOUND',
        `No event ${eventId.slice(0, 120)} here (percent-encode the eventID in the path).`,
      );
    }
    return row;
  };
  app.get(
    '/epcis/events/:eventId',
    { config: { access: 'read' }, schema: { hide: true } },
    async (request, reply) => reply.type(JSON_LD).send(event(request).body),
  );
  app.get(
    '/epcis/events/:eventId/proof',
    { config: { access: 'read' }, schema: { hide: true } },
    async (request) => options.proof(event(request).recordId),
  );
};

/** This request's URL with `nextPageToken` set (other parameters kept). */
function nextPageUrl(request: FastifyRequest, token: string): string {
  const url = new URL(request.url, `${request.protocol}://${request.host}`);
  url.searchParams.set('nextPageToken', token);
  return url.toString();
}
