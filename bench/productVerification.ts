/**
 * Product verification (row 11), on the manufacturer's node of row 10: a lot of `productLotPacks` packs is
 * commissioned (one EPCIS document) and committed on chain (`POST /supply/lots/commit`: product registered, the
 * lot's Merkle root and expiry); once everything is anchored, `GET /verify/product` is timed for random packs of the
 * lot by their printed data (GTIN, serial, lot, expiry) — nine in ten genuine, one in ten a serial never commissioned
 * (answered UNKNOWN_SERIAL) — from the load worker thread, a few requests in flight, for at most
 * `productVerifyMaxMs`. Every answer is checked.
 *
 * Baseline, same run, count and concurrency: the three chain reads every verification makes (product, lot, pack
 * status through the node's own `SupplyLedger`, in-process, no HTTP and no SQLite), so the ratio shows what the
 * gateway adds to the chain's own answer time.
 */
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { supplyChainLedger } from '../src/ledger/supplyChainLedger.js';
import type { BenchNode } from './benchNode.js';
import type { Cleanup } from './cleanup.js';
import { BENCH_GTIN, commissioningDocument } from './epcisDocuments.js';
import { prng } from './fhirResources.js';
import { runLanes, type LaneStats } from './lanes.js';
import { fmt, fmtRatio, status, type Row } from './report.js';
import { BENCH_TOKEN, type BenchSettings } from './settings.js';
import { runSupplyWorker } from './supplyWorker.js';
import { sleep } from './timing.js';

export const VERIFICATION_TARGET_P99_MS = 5;
const LOT = 'V0001';

export interface ProductVerificationResult {
  lotPacks: number;
  /** Capture of the lot's commissioning document, and its commit on chain (mined), seconds. */
  captureSeconds: number;
  commitSeconds: number;
  warmup: number;
  concurrency: number;
  /** `ok` = verifications with the expected verdict. */
  load: LaneStats;
  genuine: number;
  unknown: number;
  nodeEventLoopUtilization: number | null;
  nodeBusyUsPerVerification: number | null;
  /** The three chain reads alone, same count and concurrency, in-process. */
  chainReads: LaneStats | null;
  problems: string[];
}

export async function runProductVerification(
  settings: BenchSettings,
  bench: BenchNode,
  cleanup: Cleanup,
  log: (line: string) => void,
): Promise<ProductVerificationResult> {
  const problems: string[] = [];
  const { node } = bench;
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${node.url}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${BENCH_TOKEN}`, ...(init.headers ?? {}) },
    });
  const expect = async (res: Response, code: number, what: string) => {
    if (res.status !== code)
      throw new Error(`${what}: HTTP ${res.status} ${(await res.text()).slice(0, 300)}`);
    return res;
  };

  const packs = settings.productLotPacks;
  const serials = Array.from({ length: packs }, (_, i) => `V${String(i).padStart(7, '0')}`);
  const expiryDate = new Date(Date.now() + 2 * 365 * 86_400_000).toISOString().slice(0, 10);
  const printedExpiry = expiryDate.slice(2).replaceAll('-', '');
  log(`product verification: commissioning lot ${LOT} of ${fmt(packs)} packs and committing it on chain…`);
  const t0 = performance.now();
  await expect(
    await api('/epcis/capture', {
      method: 'POST',
      headers: { 'content-type': 'application/ld+json' },
      body: JSON.stringify(
        commissioningDocument({
          serials,
          perEvent: 100,
          lot: LOT,
          expiry: expiryDate,
          startMs: Date.now() - (packs + 3_600) * 1000,
        }),
      ),
    }),
    202,
    'capture of the lot',
  );
  const t1 = performance.now();
  const committed = (await (
    await expect(
      await api('/supply/lots/commit', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ gtin: BENCH_GTIN, lot: LOT }),
      }),
      201,
      'lot commit',
    )
  ).json()) as { packs: number };
  const t2 = performance.now();
  if (committed.packs !== packs)
    problems.push(`product verification: the lot was committed with ${committed.packs} packs, not ${packs}`);

  // Everything anchored first (the capture bench's events too), so anchoring does not land in the figure.
  for (const deadline = Date.now() + settings.confirmTimeoutMs; ;) {
    const a = (
      (await (await api('/health')).json()) as {
        anchoring: { pendingRecords: number; batches: { sealed: number; submitted: number } };
      }
    ).anchoring;
    if (a.pendingRecords === 0 && a.batches.sealed === 0 && a.batches.submitted === 0) break;
    if (Date.now() > deadline) {
      problems.push('product verification: records still unanchored when the verifications started');
      break;
    }
    await sleep(50);
  }

  const rnd = prng(0x5c);
  const queries = Array.from(
    { length: Math.max(1_000, Math.min(settings.productVerifications, 20_000)) },
    () => {
      const genuine = rnd() >= 0.1;
      const serial = genuine
        ? (serials[Math.floor(rnd() * packs)] as string)
        : `X${String(Math.floor(rnd() * 1e7)).padStart(7, '0')}`;
      return {
        genuine,
        serial,
        path: `/verify/product?gtin=${BENCH_GTIN}&serial=${serial}&lot=${LOT}&expiry=${printedExpiry}`,
      };
    },
  );
  const warmupTarget = Math.min(300, queries.length);
  log(`product verification: up to ${warmupTarget} warm-up verifications (at most 5 s)…`);
  const warm = await runSupplyWorker(
    {
      kind: 'verify',
      url: node.url,
      token: BENCH_TOKEN,
      queries: queries.slice(0, warmupTarget).map(({ path, genuine }) => ({ path, genuine })),
      count: warmupTarget,
      concurrency: settings.productVerifyConcurrency,
      maxFailures: 20,
      budgetMs: 5_000,
    },
    cleanup,
    log,
    () => undefined,
  );
  const warmup = warm.verify.ok;
  if (warm.verify.failed > 0) {
    problems.push(
      `product verification warm-up: ${warm.verify.failed} failed, e.g. ${warm.verify.errors.join(' | ')}`,
    );
  }

  log(
    `product verification: ${fmt(settings.productVerifications)} verifications of lot ${LOT}, ` +
      `${settings.productVerifyConcurrency} in flight (at most ${fmt(settings.productVerifyMaxMs / 1000)} s)…`,
  );
  let elu: EventLoopUtilization | null = null;
  let utilization: number | null = null;
  const out = await runSupplyWorker(
    {
      kind: 'verify',
      url: node.url,
      token: BENCH_TOKEN,
      queries: queries.map(({ path, genuine }) => ({ path, genuine })),
      count: settings.productVerifications,
      concurrency: settings.productVerifyConcurrency,
      maxFailures: 50,
      budgetMs: settings.productVerifyMaxMs,
    },
    cleanup,
    log,
    (event) => {
      if (event === 'start') elu = performance.eventLoopUtilization();
      else if (elu) utilization = performance.eventLoopUtilization(elu).utilization;
    },
  );
  if (out.verify.failed > 0) {
    problems.push(`product verification: ${out.verify.failed} failed, e.g. ${out.verify.errors.join(' | ')}`);
  }
  if (out.verify.skipped > 0) {
    problems.push(
      `product verification: stopped after ${fmt(settings.productVerifyMaxMs / 1000)} s with ` +
        `${fmt(out.verify.requests + out.verify.failed)} of ${fmt(settings.productVerifications)} verifications sent`,
    );
  }

  // Baseline: the verification's three chain reads alone, in-process, same count and concurrency.
  let chainReads: LaneStats | null = null;
  try {
    const count = out.verify.requests + out.verify.failed;
    log(`product verification: ${fmt(count)} times the chain reads alone (product, lot, pack status)…`);
    const ledger = supplyChainLedger(node.supplyChainRegistry);
    const read = async (i: number) => {
      const q = queries[i % queries.length] as (typeof queries)[number];
      await Promise.all([
        ledger.manufacturerOf(BENCH_GTIN),
        ledger.lot(BENCH_GTIN, LOT),
        ledger.pack(BENCH_GTIN, LOT, q.serial),
      ]);
      return { ok: 1 };
    };
    await runLanes(warmupTarget, settings.productVerifyConcurrency, 20, read, undefined, 5_000);
    chainReads = await runLanes(
      Math.max(1, count),
      settings.productVerifyConcurrency,
      50,
      read,
      undefined,
      settings.productVerifyMaxMs,
    );
  } catch (error) {
    problems.push(
      `product verification baseline failed: ${error instanceof Error ? error.message : String(error)}`,
    );
  }

  const load = out.verify;
  return {
    lotPacks: packs,
    captureSeconds: (t1 - t0) / 1000,
    commitSeconds: (t2 - t1) / 1000,
    warmup,
    concurrency: settings.productVerifyConcurrency,
    load,
    genuine: out.genuine,
    unknown: out.unknown,
    nodeEventLoopUtilization: utilization,
    nodeBusyUsPerVerification:
      utilization !== null && load.ok > 0 ? (utilization * load.seconds * 1e6) / load.ok : null,
    chainReads,
    problems,
  };
}

/** Row 11: verifications per second and their p99, against the three chain reads alone. */
export function productVerificationRows(x: ProductVerificationResult | null): Row[] {
  const v = x && x.load.ok > 0 ? x.load : null;
  const c = x?.chainReads && x.chainReads.ok > 0 ? x.chainReads : null;
  const ratio = (a: number | null | undefined, b: number | null | undefined) =>
    a != null && b != null && b > 0 ? a / b : null;
  const ms = (n: number | null | undefined) => (n == null ? 'n/a' : `${fmt(n, 2)} ms`);
  const perSecond = (n: number | null | undefined) => (n == null ? 'n/a' : `${fmt(n)}/s`);
  return [
    {
      figure: '11. Product verifications/s',
      value: perSecond(v?.perSecond),
      baseline: `3 chain reads alone ${perSecond(c?.perSecond)}`,
      ratio: fmtRatio(ratio(v?.perSecond, c?.perSecond)),
      target: '',
      status: '',
    },
    {
      figure: '    verification p99',
      value: ms(v?.latencyMs.p99),
      baseline: `3 chain reads alone ${ms(c?.latencyMs.p99)}`,
      ratio: fmtRatio(ratio(v?.latencyMs.p99, c?.latencyMs.p99)),
      target: `≤ ${VERIFICATION_TARGET_P99_MS} ms`,
      status: status(v?.latencyMs.p99 ?? null, VERIFICATION_TARGET_P99_MS, 'atMost'),
    },
  ];
}

export function productVerificationDetail(x: ProductVerificationResult): string {
  const l = x.load;
  const c = x.chainReads;
  const lat = (s: LaneStats) =>
    `p50 ${fmt(s.latencyMs.p50, 2)} ms, p90 ${fmt(s.latencyMs.p90, 2)} ms, p99 ${fmt(s.latencyMs.p99, 2)} ms, max ${fmt(s.latencyMs.max, 1)} ms`;
  return (
    `product verification: lot of ${fmt(x.lotPacks)} packs captured in ${fmt(x.captureSeconds, 2)} s and committed on ` +
    `chain in ${fmt(x.commitSeconds, 2)} s; ${fmt(l.ok)} verifications answered as expected (${fmt(x.genuine)} genuine ` +
    `packs verified, ${fmt(x.unknown)} unknown serials refused), ${l.failed} not, in ${fmt(l.seconds, 2)} s, ` +
    `${x.concurrency} in flight after ${x.warmup} warm-up; ${lat(l)}; node thread ` +
    `${x.nodeEventLoopUtilization === null ? 'n/a' : `${fmt(x.nodeEventLoopUtilization * 100)}%`} busy, ` +
    `${x.nodeBusyUsPerVerification === null ? 'n/a' : `${fmt(x.nodeBusyUsPerVerification)} µs`} per verification. ` +
    (c
      ? `Baseline: the 3 chain reads every verification makes (product, lot, pack status; eth_call on the embedded ` +
        `anvil) alone, in-process, same count and concurrency: ${fmt(c.perSecond)}/s, ${lat(c)}`
      : 'Baseline: not measured')
  );
}
