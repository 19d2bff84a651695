import { performance } from 'node:perf_hooks';
import { epochMs, percentile } from './timing.js';

/** What one request did: how many units (events, verifications) it handled, or why it failed (`ok: 0`). */
export interface Attempt {
  ok: number;
  error?: string;
}

export interface LaneStats {
  /** Units handled by successful requests. */
  ok: number;
  /** Requests not sent because the time budget ran out (0 when all were sent). */
  skipped: number;
  /** Successful requests. */
  requests: number;
  /** Failed requests. */
  failed: number;
  /** Up to a few failure descriptions. */
  errors: string[];
  /** First request sent until the last success answered. */
  seconds: number;
  /** Units per second over `seconds`. */
  perSecond: number;
  /** Latency of the successful requests, ms. */
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  /** Event-loop utilisation of the thread sending, during the run. */
  clientEventLoopUtilization: number;
}

const MAX_ERRORS_KEPT = 5;

/**
 * Sends `n` requests, `lanes` at a time (each lane sends its next request when its last one is answered), stopping
 * after `maxFailures` failures, or sending no more once `budgetMs` have passed. `send(i)` makes request i.
 * `progress` is called every 2 s with the units so far.
 */
export async function runLanes(
  n: number,
  lanes: number,
  maxFailures: number,
  send: (i: number) => Promise<Attempt>,
  progress?: (ok: number, failed: number) => void,
  budgetMs = Number.POSITIVE_INFINITY,
): Promise<LaneStats> {
  const latencies = new Float64Array(n);
  const errors: string[] = [];
  let next = 0;
  let requests = 0;
  let ok = 0;
  let failed = 0;
  const elu0 = performance.eventLoopUtilization();
  const startedAt = epochMs();
  let lastOkAt = startedAt;
  const deadline = startedAt + budgetMs;
  const lane = async () => {
    while (failed < maxFailures && epochMs() < deadline) {
      const i = next++;
      if (i >= n) return;
      const t0 = performance.now();
      let attempt: Attempt;
      try {
        attempt = await send(i);
      } catch (error) {
        attempt = { ok: 0, error: error instanceof Error ? error.message : String(error) };
      }
      if (attempt.ok > 0) {
        latencies[requests++] = performance.now() - t0;
        ok += attempt.ok;
        lastOkAt = epochMs();
      } else {
        failed++;
        if (errors.length < MAX_ERRORS_KEPT) errors.push(`request ${i}: ${attempt.error ?? 'failed'}`);
      }
    }
  };
  const timer = progress ? setInterval(() => progress(ok, failed), 2_000) : undefined;
  try {
    await Promise.all(Array.from({ length: Math.min(lanes, n) }, lane));
  } finally {
    clearInterval(timer);
  }
  const clientEventLoopUtilization = performance.eventLoopUtilization(elu0).utilization;
  const seconds = (lastOkAt - startedAt) / 1000;
  const sorted = latencies.slice(0, requests).sort();
  return {
    ok,
    skipped: Math.max(0, n - next),
    requests,
    failed,
    errors,
    seconds,
    perSecond: seconds > 0 ? ok / seconds : 0,
    latencyMs: {
      p50: percentile(sorted, 50),
      p90: percentile(sorted, 90),
      p99: percentile(sorted, 99),
      max: percentile(sorted, 100),
      mean: requests > 0 ? sorted.reduce((s, v) => s + v, 0) / requests : 0,
    },
    clientEventLoopUtilization,
  };
}
