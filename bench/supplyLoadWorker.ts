/**
 * Worker thread of the supply-chain sections, so the load generator does not share the node's event loop:
 *
 * - `capture`: builds and serialises every EPCIS document first (packaging-line documents, `epcisDocuments.ts`), then
 *   posts the warm-up documents and then the timed ones to `POST /epcis/capture`, `inFlight` at a time, over an
 *   undici pool; an answer counts when it is 202 and says every event of the document was stored.
 * - `verify`: `GET /verify/product` for the given queries, `concurrency` at a time; an answer counts when it is the
 *   expected verdict (verified for a genuine pack, UNKNOWN_SERIAL for a serial never commissioned).
 */
import { performance } from 'node:perf_hooks';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { Pool } from 'undici';
import { documentSeries } from './epcisDocuments.js';
import { runLanes, type Attempt, type LaneStats } from './lanes.js';

export interface CaptureLoadJob {
  kind: 'capture';
  url: string;
  token: string;
  warmupDocuments: number;
  documents: number;
  eventsPerDocument: number;
  packsPerCase: number;
  /** Documents of one lot (a new lot number every this many documents). */
  documentsPerLot: number;
  inFlight: number;
  maxFailures: number;
  /** Time of the first event; later ones follow a second apart. */
  startMs: number;
  /** The packs' expiry date, YYYY-MM-DD. */
  expiry: string;
  /** First pack and case numbers (the verification lot uses others). */
  firstPack: number;
  firstCase: number;
}

export interface CaptureLoadResult {
  warmup: LaneStats;
  /** `ok` counts events stored; `requests` documents. */
  capture: LaneStats;
  /** Per timed document (all alike in shape). */
  eventsPerDocument: number;
  identifiersPerEvent: number;
  packsPerDocument: number;
  meanDocumentBytes: number;
  /** Time spent building and serialising the documents (before any timing). */
  buildSeconds: number;
}

export interface VerifyLoadJob {
  kind: 'verify';
  url: string;
  token: string;
  queries: { path: string; genuine: boolean }[];
  count: number;
  concurrency: number;
  maxFailures: number;
  /** Send no more after this long (the count is then not reached: `skipped` says by how much). */
  budgetMs: number;
}

export interface VerifyLoadResult {
  verify: LaneStats;
  genuine: number;
  unknown: number;
}

export type SupplyLoadMessage =
  | { type: 'log'; line: string }
  | { type: 'phase'; event: 'start' | 'end' }
  | { type: 'done'; result: CaptureLoadResult | VerifyLoadResult }
  | { type: 'error'; message: string };

const fmt = (n: number) => n.toLocaleString('en-US');

async function capture(
  job: CaptureLoadJob,
  post: (m: SupplyLoadMessage) => void,
): Promise<CaptureLoadResult> {
  const log = (line: string) => post({ type: 'log', line });
  const t0 = performance.now();
  const bodies: string[] = [];
  let identifiers = 0;
  let events = 0;
  let packs = 0;
  for (const { index, built } of documentSeries(job)) {
    if (index >= job.warmupDocuments) {
      identifiers += built.identifiers;
      events += built.events;
      packs += built.packs;
    }
    bodies.push(JSON.stringify(built.document));
  }
  const timed = bodies.slice(job.warmupDocuments);
  const meanDocumentBytes = timed.reduce((s, b) => s + Buffer.byteLength(b), 0) / Math.max(1, timed.length);
  const buildSeconds = (performance.now() - t0) / 1000;

  const pool = new Pool(job.url, { connections: job.inFlight, pipelining: 1 });
  const headers = {
    authorization: `Bearer ${job.token}`,
    'content-type': 'application/ld+json',
    accept: 'application/json',
  };
  const send =
    (list: string[]) =>
    async (i: number): Promise<Attempt> => {
      const res = await pool.request({ path: '/epcis/capture', method: 'POST', headers, body: list[i] });
      const text = await res.body.text();
      if (res.statusCode !== 202) return { ok: 0, error: `HTTP ${res.statusCode} ${text.slice(0, 300)}` };
      const answer = JSON.parse(text) as { stored?: number; duplicates?: number };
      if (answer.stored !== job.eventsPerDocument || answer.duplicates !== 0) {
        return { ok: 0, error: `stored ${answer.stored}, duplicates ${answer.duplicates}` };
      }
      return { ok: answer.stored };
    };
  try {
    const warmupBodies = bodies.slice(0, job.warmupDocuments);
    log(`EPCIS capture: ${fmt(warmupBodies.length)} warm-up documents…`);
    const warmup = await runLanes(warmupBodies.length, job.inFlight, job.maxFailures, send(warmupBodies));
    log(
      `EPCIS capture: ${fmt(timed.length)} documents of ${job.eventsPerDocument} events ` +
        `(${fmt(Math.round(meanDocumentBytes / 1024))} KiB each), ${job.inFlight} in flight…`,
    );
    post({ type: 'phase', event: 'start' });
    const stats = await runLanes(timed.length, job.inFlight, job.maxFailures, send(timed), (ok, failed) =>
      log(`  … capture: ${fmt(ok)} events stored${failed ? `, ${failed} documents failed` : ''}`),
    );
    post({ type: 'phase', event: 'end' });
    return {
      warmup,
      capture: stats,
      eventsPerDocument: timed.length > 0 ? events / timed.length : 0,
      identifiersPerEvent: events > 0 ? identifiers / events : 0,
      packsPerDocument: timed.length > 0 ? packs / timed.length : 0,
      meanDocumentBytes,
      buildSeconds,
    };
  } finally {
    await pool.close().catch(() => undefined);
  }
}

async function verify(job: VerifyLoadJob, post: (m: SupplyLoadMessage) => void): Promise<VerifyLoadResult> {
  const pool = new Pool(job.url, { connections: job.concurrency, pipelining: 1 });
  const headers = { authorization: `Bearer ${job.token}`, accept: 'application/json' };
  let genuine = 0;
  let unknown = 0;
  const send = async (i: number): Promise<Attempt> => {
    const query = job.queries[i % job.queries.length] as { path: string; genuine: boolean };
    const res = await pool.request({ path: query.path, method: 'GET', headers });
    const text = await res.body.text();
    if (res.statusCode !== 200) return { ok: 0, error: `HTTP ${res.statusCode} ${text.slice(0, 300)}` };
    const answer = JSON.parse(text) as { verified?: boolean; reason?: string };
    if (query.genuine ? answer.verified !== true : answer.reason !== 'UNKNOWN_SERIAL') {
      return { ok: 0, error: `${query.path}: unexpected answer ${text.slice(0, 200)}` };
    }
    if (query.genuine) genuine++;
    else unknown++;
    return { ok: 1 };
  };
  try {
    post({ type: 'phase', event: 'start' });
    const stats = await runLanes(
      job.count,
      job.concurrency,
      job.maxFailures,
      send,
      (ok, failed) =>
        post({
          type: 'log',
          line: `  … verifications: ${fmt(ok)} answered${failed ? `, ${failed} failed` : ''}`,
        }),
      job.budgetMs,
    );
    post({ type: 'phase', event: 'end' });
    return { verify: stats, genuine, unknown };
  } finally {
    await pool.close().catch(() => undefined);
  }
}

if (parentPort) {
  const port: MessagePort = parentPort;
  const post = (message: SupplyLoadMessage) => port.postMessage(message);
  const job = workerData as CaptureLoadJob | VerifyLoadJob;
  (job.kind === 'capture' ? capture(job, post) : verify(job, post)).then(
    (result) => post({ type: 'done', result }),
    (error: unknown) =>
      post({
        type: 'error',
        message: error instanceof Error ? (error.stack ?? error.message) : String(error),
      }),
  );
}
