/**
 * Worker thread of the end-to-end section: sends every record with `POST /records` over an undici pool with a
 * fixed number of requests in flight, then polls `GET /health` until every record is confirmed on chain. Runs in
 * its own thread so the load generator does not share the node's event loop.
 */
import { performance } from 'node:perf_hooks';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { Pool } from 'undici';
import type { HealthBody } from '../src/gateway/schemas.js';
import type { LoadJob, LoadMessage, LoadResult } from './loadTypes.js';
import { recordBytes } from './records.js';
import { epochMs, percentile, sleep } from './timing.js';

const MAX_ERRORS_KEPT = 5;

async function run(job: LoadJob, port: MessagePort): Promise<LoadResult> {
  const post = (message: LoadMessage) => port.postMessage(message);
  const { records, concurrency } = job;
  const n = records.count;
  const pool = new Pool(job.url, { connections: concurrency, pipelining: 1 });
  try {
    const paths = records.kinds.map((kind) => `/records?kind=${encodeURIComponent(kind)}`);
    const auth = { authorization: `Bearer ${job.token}` };
    const headers = { 'content-type': 'application/octet-stream', ...auth };
    const latencies = new Float64Array(n);
    const errors: string[] = [];
    let next = 0;
    let acked = 0;
    let failed = 0;
    const fail = (i: number, message: string) => {
      failed++;
      if (errors.length < MAX_ERRORS_KEPT) errors.push(`record ${i}: ${message}`);
    };

    const elu0 = performance.eventLoopUtilization();
    const startedAt = epochMs();
    let lastAckAt = startedAt;
    const progress = setInterval(() => post({ type: 'progress', acked, failed }), 1_000);
    const lane = async () => {
      while (failed < job.maxFailures) {
        const i = next++;
        if (i >= n) return;
        const t0 = performance.now();
        try {
          const res = await pool.request({
            path: paths[records.kindIndex[i] as number] as string,
            method: 'POST',
            headers,
            body: recordBytes(records, i),
          });
          if (res.statusCode === 201) {
            await res.body.dump();
            latencies[acked++] = performance.now() - t0;
            lastAckAt = epochMs();
          } else {
            const text = await res.body.text();
            fail(i, `HTTP ${res.statusCode} ${text.slice(0, 200)}`);
          }
        } catch (error) {
          fail(i, error instanceof Error ? error.message : String(error));
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, lane));
    clearInterval(progress);
    const clientEventLoopUtilization = performance.eventLoopUtilization(elu0).utilization;
    post({ type: 'acked', acked, failed, at: lastAckAt });

    // Every acknowledged record must now reach the chain: poll until nothing is pending or sealed/submitted.
    let finalHealth: HealthBody | null = null;
    let confirmedAt: number | null = null;
    let healthPolls = 0;
    const deadline = epochMs() + job.confirmTimeoutMs;
    while (acked > 0 && epochMs() < deadline) {
      healthPolls++;
      const res = await pool.request({ path: '/health', method: 'GET', headers: auth });
      finalHealth = (await res.body.json()) as HealthBody;
      const a = finalHealth.anchoring;
      if (a.pendingRecords === 0 && a.batches.sealed === 0 && a.batches.submitted === 0) {
        confirmedAt = epochMs();
        break;
      }
      await sleep(job.healthPollMs);
    }

    const sorted = latencies.slice(0, acked).sort();
    let sum = 0;
    for (const v of sorted) sum += v;
    return {
      startedAt,
      lastAckAt,
      confirmedAt,
      acked,
      failed,
      errors,
      latencyMs: {
        p50: percentile(sorted, 50),
        p90: percentile(sorted, 90),
        p99: percentile(sorted, 99),
        max: sorted.length > 0 ? (sorted[sorted.length - 1] as number) : 0,
        mean: acked > 0 ? sum / acked : 0,
      },
      healthPolls,
      finalHealth,
      clientEventLoopUtilization,
    };
  } finally {
    await pool.close().catch(() => undefined);
  }
}

if (parentPort) {
  const port = parentPort;
  run(workerData as LoadJob, port).then(
    (result) => port.postMessage({ type: 'done', result } satisfies LoadMessage),
    (error: unknown) =>
      port.postMessage({
        type: 'error',
        message: error instanceof Error ? (error.stack ?? error.message) : String(error),
      } satisfies LoadMessage),
  );
}
