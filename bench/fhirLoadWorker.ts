/**
 * Worker thread of the FHIR section: creates the Patients, then (each phase timed on its own) single Observation
 * creates, the same kind of Observations in transaction Bundles, and reads of the created Observations, over an
 * undici pool with a fixed number of requests in flight. Bodies are serialised before each phase starts, so the
 * client spends its time sending, not building JSON. Runs in its own thread so it does not share the node's event
 * loop.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { Pool } from 'undici';
import type { HealthBody } from '../src/gateway/schemas.js';
import type {
  FhirLoadJob,
  FhirLoadMessage,
  FhirLoadResult,
  FhirPhase,
  FhirReadJob,
  PhaseResult,
} from './fhirLoadTypes.js';
import { makeObservation, makePatient, prng, transactionBundle } from './fhirResources.js';
import { runLanes, type Attempt } from './lanes.js';
import { epochMs, sleep } from './timing.js';

const FHIR_JSON = 'application/fhir+json';

/** `…/Observation/{id}/_history/1` → `{id}`. */
function idFromLocation(location: string | string[] | undefined): string | null {
  const value = Array.isArray(location) ? location[0] : location;
  const match = value ? /\/([A-Za-z0-9\-.]{1,64})\/_history\/\d+$/.exec(value) : null;
  return match ? (match[1] as string) : null;
}

async function run(job: FhirLoadJob | FhirReadJob, port: MessagePort): Promise<FhirLoadResult | PhaseResult> {
  const post = (message: FhirLoadMessage) => port.postMessage(message);
  const log = (line: string) => post({ type: 'log', line });
  const pool = new Pool(job.url, {
    connections: 'paths' in job ? job.concurrency : Math.max(job.concurrency, job.bundlesInFlight),
    pipelining: 1,
  });
  const auth = { authorization: `Bearer ${job.token}` };
  const writeHeaders = { 'content-type': FHIR_JSON, accept: FHIR_JSON, ...auth };
  const readHeaders = { accept: FHIR_JSON, ...auth, ...('paths' in job ? job.headers : {}) };
  const rnd = prng(0xf41e);

  /** Sends `n` requests, `lanes` at a time; `send(i)` makes request i and says how many resources it handled. */
  const phase = async (
    n: number,
    lanes: number,
    bodyBytes: number,
    send: (i: number) => Promise<Attempt>,
    name?: FhirPhase,
  ): Promise<PhaseResult> => {
    if (name) post({ type: 'phase', phase: name, event: 'start' });
    const progress = name
      ? (ok: number, failed: number) =>
          log(`  … ${name}: ${ok.toLocaleString('en-US')} done${failed ? `, ${failed} failed` : ''}`)
      : undefined;
    const stats = await runLanes(n, lanes, job.maxFailures, send, progress);
    if (name) post({ type: 'phase', phase: name, event: 'end' });
    const { p50, p90, p99, max } = stats.latencyMs;
    return {
      ok: stats.ok,
      failed: stats.failed,
      requests: n,
      errors: stats.errors,
      seconds: stats.seconds,
      perSecond: stats.perSecond,
      latencyMs: { p50, p90, p99, max },
      clientEventLoopUtilization: stats.clientEventLoopUtilization,
      meanBodyBytes: bodyBytes,
    };
  };

  const create = async (path: string, body: string, ids?: string[]): Promise<Attempt> => {
    const res = await pool.request({ path, method: 'POST', headers: writeHeaders, body });
    if (res.statusCode !== 201) {
      return { ok: 0, error: `HTTP ${res.statusCode} ${(await res.body.text()).slice(0, 300)}` };
    }
    await res.body.dump();
    const id = idFromLocation(res.headers.location);
    if (id === null) return { ok: 0, error: 'no Location header' };
    ids?.push(id);
    return { ok: 1 };
  };
  const meanBytes = (bodies: readonly string[]) =>
    bodies.length === 0 ? 0 : bodies.reduce((sum, b) => sum + Buffer.byteLength(b), 0) / bodies.length;

  const readPhase = (paths: readonly string[], reads: number) =>
    phase(
      reads,
      job.concurrency,
      0,
      async (i) => {
        const res = await pool.request({
          path: paths[i % paths.length] as string,
          method: 'GET',
          headers: readHeaders,
        });
        if (res.statusCode !== 200) {
          return { ok: 0, error: `HTTP ${res.statusCode} ${(await res.body.text()).slice(0, 300)}` };
        }
        await res.body.dump();
        return { ok: 1 };
      },
      'reads',
    );

  if ('paths' in job) {
    try {
      return await readPhase(job.paths, job.reads);
    } finally {
      await pool.close().catch(() => undefined);
    }
  }

  try {
    // Patients, each with a name, an MRN and a birth date.
    const patientIds: string[] = [];
    const patientBodies = Array.from({ length: job.patients }, (_, i) => JSON.stringify(makePatient(i, rnd)));
    const patients = await phase(job.patients, Math.min(16, job.concurrency), meanBytes(patientBodies), (i) =>
      create('/fhir/Patient', patientBodies[i] as string, patientIds),
    );
    if (patientIds.length === 0)
      throw new Error(`no Patient could be created: ${patients.errors.join(' | ')}`);

    let obsIndex = 0;
    const observationBodies = (count: number) =>
      Array.from({ length: count }, () =>
        JSON.stringify(
          makeObservation(obsIndex++, patientIds[Math.floor(rnd() * patientIds.length)] as string, rnd),
        ),
      );
    const createdIds: string[] = [];

    log(`FHIR: ${job.warmup.toLocaleString('en-US')} warm-up creates…`);
    const warmupBodies = observationBodies(job.warmup);
    const warmup = await phase(job.warmup, job.concurrency, meanBytes(warmupBodies), (i) =>
      create('/fhir/Observation', warmupBodies[i] as string, createdIds),
    );

    log(
      `FHIR: ${job.creates.toLocaleString('en-US')} single creates (POST /fhir/Observation), ${job.concurrency} in flight…`,
    );
    const singleBodies = observationBodies(job.creates);
    const single = await phase(
      job.creates,
      job.concurrency,
      meanBytes(singleBodies),
      (i) => create('/fhir/Observation', singleBodies[i] as string, createdIds),
      'single',
    );
    singleBodies.length = 0;

    const bundles = Math.ceil(job.bundleResources / job.bundleSize);
    log(
      `FHIR: ${bundles.toLocaleString('en-US')} transaction Bundles of ${job.bundleSize}, ${job.bundlesInFlight} in flight…`,
    );
    const bundleBodies = Array.from({ length: bundles }, (_, b) => {
      const size = Math.min(job.bundleSize, job.bundleResources - b * job.bundleSize);
      const first = obsIndex;
      const resources = Array.from({ length: size }, () =>
        makeObservation(obsIndex++, patientIds[Math.floor(rnd() * patientIds.length)] as string, rnd),
      );
      return JSON.stringify(transactionBundle(resources, first));
    });
    const bundle = await phase(
      bundles,
      job.bundlesInFlight,
      meanBytes(bundleBodies),
      async (i) => {
        const res = await pool.request({
          path: '/fhir',
          method: 'POST',
          headers: writeHeaders,
          body: bundleBodies[i] as string,
        });
        if (res.statusCode !== 200) {
          return { ok: 0, error: `HTTP ${res.statusCode} ${(await res.body.text()).slice(0, 300)}` };
        }
        const reply = (await res.body.json()) as {
          entry?: { response?: { status?: string; location?: string } }[];
        };
        let created = 0;
        for (const entry of reply.entry ?? []) {
          const id = entry.response?.status?.startsWith('201')
            ? idFromLocation(entry.response.location)
            : null;
          if (id !== null) {
            createdIds.push(id);
            created++;
          }
        }
        return created > 0 ? { ok: created } : { ok: 0, error: 'the transaction response created nothing' };
      },
      'bundle',
    );
    bundleBodies.length = 0;

    // Let the node anchor everything before the reads, so its anchoring work does not land in the read figure.
    let confirmSeconds: number | null = null;
    const confirmFrom = epochMs();
    const deadline = confirmFrom + job.confirmTimeoutMs;
    while (epochMs() < deadline) {
      const res = await pool.request({ path: '/health', method: 'GET', headers: auth });
      const health = (await res.body.json()) as HealthBody;
      const a = health.anchoring;
      if (a.pendingRecords === 0 && a.batches.sealed === 0 && a.batches.submitted === 0) {
        confirmSeconds = (epochMs() - confirmFrom) / 1000;
        break;
      }
      await sleep(20);
    }

    // Reads of the created Observations, in a shuffled order.
    const order = new Uint32Array(createdIds.length);
    for (let i = 0; i < order.length; i++) order[i] = i;
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [order[i], order[j]] = [order[j] as number, order[i] as number];
    }
    const readPaths = Array.from(order, (k) => `/fhir/Observation/${createdIds[k] as string}`);
    log(
      `FHIR: ${job.reads.toLocaleString('en-US')} reads (GET /fhir/Observation/{id}) of ${readPaths.length.toLocaleString('en-US')} ids, ${job.concurrency} in flight…`,
    );
    const reads =
      readPaths.length === 0
        ? await phase(0, 1, 0, () => Promise.resolve({ ok: 0 }), 'reads')
        : await readPhase(readPaths, job.reads);

    return {
      patients: patientIds.length,
      patientSeconds: patients.seconds,
      warmup,
      single,
      bundle,
      confirmSeconds,
      reads,
    };
  } finally {
    await pool.close().catch(() => undefined);
  }
}

if (parentPort) {
  const port = parentPort;
  const job = workerData as FhirLoadJob | FhirReadJob;
  run(job, port).then(
    (result) =>
      port.postMessage(
        ('paths' in job
          ? { type: 'readsDone', result: result as PhaseResult }
          : { type: 'done', result: result as FhirLoadResult }) satisfies FhirLoadMessage,
      ),
    (error: unknown) =>
      port.postMessage({
        type: 'error',
        message: error instanceof Error ? (error.stack ?? error.message) : String(error),
      } satisfies FhirLoadMessage),
  );
}
