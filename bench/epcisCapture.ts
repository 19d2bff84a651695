/**
 * EPCIS capture (row 10): a manufacturer's node (`CARELEDGER_ORG_ROLES=MANUFACTURER`) takes packaging-line documents
 * of 100 events (commissioning with ILMD lot and expiry, packing into SSCC cases, shipping with sources and
 * destinations; `epcisDocuments.ts`) on `POST /epcis/capture`, a few documents in flight, from a load worker thread.
 * Each document is validated whole, its events get their CBV 2.0 event hash ids and canonical JSON bodies (on the
 * node's EPCIS reader worker threads when it has a core to spare), are stored with their identifiers by role,
 * anchored as records of the spine, and the packs they commission recorded, in one group commit; the answer comes
 * once it is durable.
 *
 * Baseline, measured in the same run after the node stopped: the very rows the node wrote for the timed documents
 * (events, identifiers by role, capture jobs, packs: computed by the node's own capture logic against an in-memory
 * store) inserted into a fresh database with the node's schema, one fsynced transaction per document, by the node's
 * own store statements; no validation, hashing, anchoring records or HTTP. The in-process run that computes those
 * rows is timed too: the capture logic's CPU per event without HTTP, SQLite or worker threads.
 */
import { join } from 'node:path';
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { CaptureService } from '../src/supply-chain/capture/captureService.js';
import { epcisDocumentReader } from '../src/supply-chain/capture/epcisDocumentReader.js';
import type { CaptureJob, StoredEpcisEvent } from '../src/supply-chain/capture/ports.js';
import { commissionedPacks } from '../src/supply-chain/custody/commissionedPacks.js';
import type { PackRecord } from '../src/supply-chain/custody/ports.js';
import { openDatabase } from '../src/store/sqlite/openDatabase.js';
import { SqliteEpcisStore } from '../src/store/sqlite/sqliteEpcisStore.js';
import { SqliteSupplyStore } from '../src/store/sqlite/sqliteSupplyStore.js';
import { mainThreadCpuSeconds, processCpuSeconds, type BenchNode } from './benchNode.js';
import type { Cleanup } from './cleanup.js';
import { probeCommits, type CommitStats } from './commitProbe.js';
import { documentSeries } from './epcisDocuments.js';
import type { LaneStats } from './lanes.js';
import { fmt, fmtRatio, status, type Row } from './report.js';
import { BENCH_TOKEN, type BenchSettings } from './settings.js';
import type { CaptureLoadJob } from './supplyLoadWorker.js';
import { runSupplyWorker } from './supplyWorker.js';

export const EPCIS_TARGET_EVENTS_PER_SECOND = 10_000;

export interface EpcisBaseline {
  /** Documents (transactions) and events inserted. */
  documents: number;
  events: number;
  /** Rows: events, identifiers, packs (capture jobs not counted). */
  rows: { events: number; identifiers: number; packs: number };
  seconds: number;
  eventsPerSecond: number;
  /** The node's capture logic in-process (validation, event hash ids, canonical JSON, SHA-256), µs per event. */
  captureLogicUsPerEvent: number;
}

export interface EpcisCaptureResult {
  documents: number;
  eventsPerDocument: number;
  identifiersPerEvent: number;
  packsPerDocument: number;
  meanDocumentBytes: number;
  inFlight: number;
  warmupEvents: number;
  /** `ok` = events stored, `requests` = documents, latency per document. */
  load: LaneStats;
  nodeEventLoopUtilization: number | null;
  /** Node-thread busy time per event stored, µs. */
  nodeBusyUsPerEvent: number | null;
  /** Node-thread CPU time per event stored, µs (Linux; busy time minus any wait for a core). */
  nodeCpuUsPerEvent: number | null;
  /** CPU of the whole bench process (node thread, load worker, libuv) per event stored, µs; anvil not included. */
  processCpuUsPerEvent: number | null;
  commits: CommitStats | null;
  anvilCpuSeconds: number | null;
  baseline: EpcisBaseline | null;
  problems: string[];
}

/** The job of the timed run, also used to rebuild the same documents for the baseline. */
function captureJob(settings: BenchSettings, url: string): CaptureLoadJob {
  const per = settings.epcisDocumentEvents;
  const warmupDocuments = Math.ceil(settings.epcisWarmupEvents / per);
  const documents = Math.ceil(settings.epcisEvents / per);
  const expiry = new Date(Date.now() + 2 * 365 * 86_400_000).toISOString().slice(0, 10);
  return {
    kind: 'capture',
    url,
    token: BENCH_TOKEN,
    warmupDocuments,
    documents,
    eventsPerDocument: per,
    packsPerCase: settings.epcisPacksPerCase,
    documentsPerLot: 25,
    inFlight: settings.epcisDocumentsInFlight,
    maxFailures: 20,
    // One second per event, all of it in the past.
    startMs: Date.now() - ((warmupDocuments + documents) * per + 3_600) * 1000,
    expiry,
    firstPack: 0,
    firstCase: 0,
  };
}

export async function runEpcisCapture(
  settings: BenchSettings,
  bench: BenchNode,
  cleanup: Cleanup,
  log: (line: string) => void,
): Promise<{ result: EpcisCaptureResult; job: CaptureLoadJob }> {
  const problems: string[] = [];
  const { node } = bench;
  const probe = probeCommits(node.anchoring);
  if (!probe) problems.push('EPCIS: could not probe group commits (AnchoringService shape changed)');
  const job = captureJob(settings, node.url);
  let elu: EventLoopUtilization | null = null;
  let cpu0: NodeJS.CpuUsage | null = null;
  let commits0: CommitStats | null = null;
  let anvil0: number | null = null;
  let thread0: number | null = null;
  let threadUs: number | null = null;
  let utilization: number | null = null;
  let cpuUs: number | null = null;
  let commits: CommitStats | null = null;
  let anvilCpuSeconds: number | null = null;
  const out = await runSupplyWorker(job, cleanup, log, (event) => {
    if (event === 'start') {
      elu = performance.eventLoopUtilization();
      cpu0 = process.cpuUsage();
      commits0 = probe?.stats() ?? null;
      anvil0 = processCpuSeconds(node.anvil?.pid);
      thread0 = mainThreadCpuSeconds();
    } else {
      const thread = mainThreadCpuSeconds();
      if (thread !== null && thread0 !== null) threadUs = (thread - thread0) * 1e6;
      if (elu) utilization = performance.eventLoopUtilization(elu).utilization;
      if (cpu0) {
        const c = process.cpuUsage(cpu0);
        cpuUs = c.user + c.system;
      }
      const a = processCpuSeconds(node.anvil?.pid);
      if (a !== null && anvil0 !== null) anvilCpuSeconds = a - anvil0;
      const after = probe?.stats();
      if (commits0 && after) {
        const n = after.commits - commits0.commits;
        const records = after.records - commits0.records;
        commits = {
          commits: n,
          records,
          meanGroup: n > 0 ? records / n : 0,
          maxGroup: after.maxGroup,
          commitMs: after.commitMs - commits0.commitMs,
        };
      }
    }
  });
  probe?.remove();
  const load = out.capture;
  if (load.failed > 0)
    problems.push(`EPCIS capture: ${load.failed} documents failed, e.g. ${load.errors.join(' | ')}`);
  if (out.warmup.failed > 0) {
    problems.push(
      `EPCIS capture warm-up: ${out.warmup.failed} documents failed, e.g. ${out.warmup.errors.join(' | ')}`,
    );
  }
  const perEvent = (v: number | null) => (v !== null && load.ok > 0 ? v / load.ok : null);
  return {
    job,
    result: {
      documents: job.documents,
      eventsPerDocument: out.eventsPerDocument,
      identifiersPerEvent: out.identifiersPerEvent,
      packsPerDocument: out.packsPerDocument,
      meanDocumentBytes: out.meanDocumentBytes,
      inFlight: job.inFlight,
      warmupEvents: out.warmup.ok,
      load,
      nodeEventLoopUtilization: utilization,
      nodeBusyUsPerEvent: perEvent(utilization === null ? null : utilization * load.seconds * 1e6),
      nodeCpuUsPerEvent: perEvent(threadUs),
      processCpuUsPerEvent: perEvent(cpuUs),
      commits,
      anvilCpuSeconds,
      baseline: null,
      problems,
    },
  };
}

/**
 * The baseline (run with the node stopped): the timed documents of `job` rebuilt, captured by the node's own
 * `CaptureService` against an in-memory store (timed: the capture logic per event), then the rows it would have
 * stored inserted into a fresh database with the node's schema, one fsynced transaction per document.
 */
export async function epcisBaseline(job: CaptureLoadJob, dir: string): Promise<EpcisBaseline> {
  const documents: unknown[] = [];
  for (const { index, built } of documentSeries(job)) {
    // The same bytes the node parsed.
    if (index >= job.warmupDocuments) documents.push(JSON.parse(JSON.stringify(built.document)));
  }

  const captured: { events: StoredEpcisEvent[]; job: CaptureJob; packs: PackRecord[] }[] = [];
  let nextRecord = 1;
  let pending: { events: StoredEpcisEvent[]; job: CaptureJob } | null = null;
  const service = new CaptureService({
    reader: epcisDocumentReader(),
    store: {
      existingEventIds: () => new Set(),
      insertEvents: (events, capture) => {
        pending = { events: [...events], job: capture };
      },
      getEvent: () => undefined,
      query: () => [],
      getCapture: () => undefined,
    },
    anchoring: {
      appendHashes(items, withinCommit) {
        const receipts = items.map(() => ({ id: nextRecord++ }));
        withinCommit?.(receipts);
        return Promise.resolve(receipts);
      },
    },
    derive: (events) => {
      const p = pending as { events: StoredEpcisEvent[]; job: CaptureJob } | null;
      if (p) captured.push({ ...p, packs: events.flatMap(({ event }) => commissionedPacks(event)) });
      pending = null;
    },
  });
  // Warm up on a copy of the first few, then time the whole set.
  for (const document of documents.slice(0, 5)) {
    await service.capture(structuredClone(document));
  }
  captured.length = 0;
  nextRecord = 1;
  const t0 = performance.now();
  for (const document of documents) await service.capture(document);
  const logicSeconds = (performance.now() - t0) / 1000;
  const events = captured.reduce((s, c) => s + c.events.length, 0);

  const db = openDatabase(join(dir, 'epcis-raw.db'), { synchronous: 'FULL' });
  try {
    // Without the spine's anchoring records, which the events' record ids point to.
    db.pragma('foreign_keys = OFF');
    // The node's own stores: the same statements (many rows each) as the node runs them.
    const eventStore = new SqliteEpcisStore(db);
    const packStore = new SqliteSupplyStore(db);
    const rows = { events: 0, identifiers: 0, packs: 0 };
    const insertDocument = db.transaction((c: (typeof captured)[number]) => {
      eventStore.insertEvents(c.events, c.job);
      for (const e of c.events) rows.identifiers += e.epcs.length;
      rows.events += c.events.length;
      packStore.recordPacks(c.packs);
      rows.packs += c.packs.length;
    });
    const t1 = performance.now();
    for (const c of captured) insertDocument(c);
    const seconds = (performance.now() - t1) / 1000;
    return {
      documents: captured.length,
      events,
      rows,
      seconds,
      eventsPerSecond: events / seconds,
      captureLogicUsPerEvent: (logicSeconds * 1e6) / events,
    };
  } finally {
    db.close();
  }
}

/** Row 10 of the table: events captured per second, against raw SQLite inserts of the same rows. */
export function epcisCaptureRows(x: EpcisCaptureResult | null, documentEvents: number): Row[] {
  const rate = x && x.load.ok > 0 ? x.load.perSecond : null;
  const raw = x?.baseline?.eventsPerSecond ?? null;
  const logic = x?.baseline?.captureLogicUsPerEvent ?? null;
  const busy = x?.nodeBusyUsPerEvent ?? null;
  const ratio = (a: number | null, b: number | null) => (a !== null && b !== null && b > 0 ? a / b : null);
  const na = (v: number | null, f: (n: number) => string) => (v === null ? 'n/a' : f(v));
  const perSecond = (v: number) => `${fmt(v)}/s`;
  const us = (v: number) => `${fmt(v, v < 100 ? 1 : 0)} µs`;
  return [
    {
      figure: `10. EPCIS events captured/s (documents of ${documentEvents})`,
      value: na(rate, perSecond),
      baseline: `raw SQLite, same rows ${na(raw, perSecond)}`,
      ratio: fmtRatio(ratio(rate, raw)),
      target: `≥ ${fmt(EPCIS_TARGET_EVENTS_PER_SECOND)}/s`,
      status: status(rate, EPCIS_TARGET_EVENTS_PER_SECOND, 'atLeast'),
    },
    {
      figure: '    node thread busy per event',
      value: na(busy, us),
      baseline: `capture logic alone ${na(logic, us)}`,
      ratio: fmtRatio(ratio(busy, logic)),
      target: '',
      status: '',
    },
  ];
}

/** The detail line under the table. */
export function epcisCaptureDetail(x: EpcisCaptureResult): string {
  const l = x.load;
  const b = x.baseline;
  const c = x.commits;
  const pct = (v: number | null) => (v === null ? 'n/a' : `${fmt(v * 100)}%`);
  const us = (v: number | null) => (v === null ? 'n/a' : `${fmt(v, 1)} µs`);
  return (
    `EPCIS capture: ${fmt(l.ok)} events stored in ${fmt(l.seconds, 2)} s from ${fmt(l.requests)} documents of ` +
    `${fmt(x.eventsPerDocument)} events (${fmt(x.meanDocumentBytes / 1024)} KiB, ${fmt(x.identifiersPerEvent, 1)} ` +
    `identifiers and ${fmt(x.packsPerDocument / x.eventsPerDocument, 1)} packs commissioned per event), ` +
    `${x.inFlight} in flight, after ${fmt(x.warmupEvents)} warm-up events; document latency p50 ${fmt(l.latencyMs.p50, 1)} ms, ` +
    `p90 ${fmt(l.latencyMs.p90, 1)} ms, p99 ${fmt(l.latencyMs.p99, 1)} ms, max ${fmt(l.latencyMs.max, 1)} ms; ` +
    `node thread ${pct(x.nodeEventLoopUtilization)} busy, ${us(x.nodeBusyUsPerEvent)} per event ` +
    `(CPU ${us(x.nodeCpuUsPerEvent)}); process CPU (all ` +
    `threads, load worker included) ${us(x.processCpuUsPerEvent)} per event; ` +
    (c
      ? `${fmt(c.commits)} group commits, mean ${fmt(c.meanGroup, 1)} events, ${fmt(c.commitMs / 1000, 2)} s inside ` +
        `commit (${fmt(c.records > 0 ? (c.commitMs * 1000) / c.records : 0, 1)} µs per event); `
      : 'commits not measured; ') +
    `anvil ${x.anvilCpuSeconds === null ? 'n/a' : `${fmt(x.anvilCpuSeconds, 2)} CPU s`}. ` +
    (b
      ? `Baseline: the same ${fmt(b.rows.events)} event rows, ${fmt(b.rows.identifiers)} identifier rows and ` +
        `${fmt(b.rows.packs)} pack rows inserted into the node's schema, one fsynced transaction per document, in ` +
        `${fmt(b.seconds, 2)} s; the capture logic in-process (validation, event hash ids, canonical JSON, SHA-256; ` +
        `no HTTP, no SQLite) ${fmt(b.captureLogicUsPerEvent, 1)} µs per event`
      : 'Baseline: not measured')
  );
}
