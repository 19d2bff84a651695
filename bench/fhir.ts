import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { processCpuSeconds, startBenchNode } from './benchNode.js';
import type { Cleanup } from './cleanup.js';
import { probeCommits, type CommitStats } from './commitProbe.js';
import { measureFhirBreakdown, type FhirBreakdown } from './fhirBreakdown.js';
import { benchOutputDirectory, PhaseProfiler } from './phaseProfiler.js';
import type { FhirLoadJob, FhirLoadMessage, FhirLoadResult, FhirPhase } from './fhirLoadTypes.js';
import { BENCH_TOKEN, type BenchSettings } from './settings.js';
import { startTsWorker } from './tsWorker.js';

export interface FhirResult {
  load: FhirLoadResult;
  /** Event-loop utilisation of the node's thread during each timed phase (as seen from the main thread). */
  nodeEventLoopUtilization: Record<FhirPhase, number | null>;
  /** Node-thread busy time per resource in each phase, µs (utilisation × phase time / resources). */
  nodeBusyUsPerResource: Record<FhirPhase, number | null>;
  /**
   * CPU time of the whole bench process per resource in each phase, µs: every thread (node, validation workers,
   * the load generator, libuv) together; anvil runs in its own process.
   */
  processCpuUsPerResource: Record<FhirPhase, number | null>;
  /** Group commits during each timed phase (the reads phase writes nothing); null if they could not be probed. */
  commits: Record<'single' | 'bundle', CommitStats | null>;
  /** CPU seconds anvil used from the first timed create to the end of the reads (Linux only). */
  anvilCpuSeconds: number | null;
  /** Worker threads validating FHIR for the node (0: on its event loop). */
  validationWorkers: number;
  /** Where one create's CPU goes, in-process; null if that measurement failed. */
  breakdown: FhirBreakdown | null;
  problems: string[];
}

/** The group commits between two cumulative snapshots (the maximum group is the run's so far). */
function commitsBetween(a: CommitStats, b: CommitStats): CommitStats {
  const commits = b.commits - a.commits;
  const records = b.records - a.records;
  return {
    commits,
    records,
    meanGroup: commits > 0 ? records / commits : 0,
    maxGroup: b.maxGroup,
    commitMs: b.commitMs - a.commitMs,
  };
}

function runFhirWorker(
  job: FhirLoadJob,
  cleanup: Cleanup,
  log: (line: string) => void,
  onPhase: (phase: FhirPhase, event: 'start' | 'end') => void,
): Promise<FhirLoadResult> {
  const worker = startTsWorker(new URL('./fhirLoadWorker.ts', import.meta.url), job);
  cleanup.defer('stop the FHIR load worker', () => worker.terminate().then(() => undefined));
  return new Promise<FhirLoadResult>((resolve, reject) => {
    worker.on('message', (message: FhirLoadMessage) => {
      if (message.type === 'log') log(message.line);
      else if (message.type === 'phase') onPhase(message.phase, message.event);
      else if (message.type === 'done') {
        resolve(message.result);
        void worker.terminate();
      } else if (message.type === 'error') reject(new Error(`FHIR load worker failed: ${message.message}`));
    });
    worker.on('error', (error) => reject(error));
    worker.on('exit', (code) => reject(new Error(`FHIR load worker exited (code ${code}) before reporting`)));
  });
}

/**
 * The FHIR section: a fresh node; ~100 Patients; then, each timed on its own, single `POST /fhir/Observation`
 * creates, the same Observations in transaction Bundles, and `GET /fhir/Observation/{id}` reads (after everything
 * created is confirmed on chain). Then, with the node stopped, the in-process CPU breakdown of one create.
 */
export async function runFhir(
  settings: BenchSettings,
  cleanup: Cleanup,
  log: (line: string) => void,
): Promise<FhirResult> {
  const problems: string[] = [];
  const { node, config, stop } = await startBenchNode(settings.batchAgeMs, cleanup, log);
  cleanup.throwIfAborted();

  const probe = probeCommits(node.anchoring);
  if (!probe) problems.push('FHIR: could not probe group-commit sizes (AnchoringService shape changed)');
  const commitsAtStart: Partial<Record<FhirPhase, CommitStats>> = {};
  const commits: Record<'single' | 'bundle', CommitStats | null> = { single: null, bundle: null };
  const elu: Partial<Record<FhirPhase, EventLoopUtilization>> = {};
  const cpuAtStart: Partial<Record<FhirPhase, NodeJS.CpuUsage>> = {};
  const cpuUs: Partial<Record<FhirPhase, number>> = {};
  const nodeEventLoopUtilization: Record<FhirPhase, number | null> = {
    single: null,
    bundle: null,
    reads: null,
  };
  const anvilPid = node.anvil?.pid;
  let anvilCpu0: number | null = null;
  const profiler = new PhaseProfiler(process.env.BENCH_PROFILE, benchOutputDirectory(), log);
  log(`FHIR: creating ${settings.fhirPatients} Patients…`);
  const load = await runFhirWorker(
    {
      url: node.url,
      token: BENCH_TOKEN,
      patients: settings.fhirPatients,
      warmup: settings.fhirWarmup,
      creates: settings.fhirCreates,
      concurrency: settings.fhirConcurrency,
      bundleResources: settings.fhirBundleResources,
      bundleSize: settings.fhirBundleSize,
      bundlesInFlight: settings.fhirBundlesInFlight,
      reads: settings.fhirReads,
      confirmTimeoutMs: settings.confirmTimeoutMs,
      maxFailures: 50,
    },
    cleanup,
    log,
    (phase, event) => {
      if (event === 'start') {
        void profiler.start(phase);
        if (phase === 'single') anvilCpu0 = processCpuSeconds(anvilPid);
        elu[phase] = performance.eventLoopUtilization();
        cpuAtStart[phase] = process.cpuUsage();
        const stats = probe?.stats();
        if (stats) commitsAtStart[phase] = stats;
      } else {
        void profiler.stop(phase);
        const cpu = process.cpuUsage(cpuAtStart[phase]);
        cpuUs[phase] = cpu.user + cpu.system;
        const start = elu[phase];
        if (start) nodeEventLoopUtilization[phase] = performance.eventLoopUtilization(start).utilization;
        const before = commitsAtStart[phase];
        const after = probe?.stats();
        if (phase !== 'reads' && before && after) commits[phase] = commitsBetween(before, after);
      }
    },
  );
  const anvilCpu1 = processCpuSeconds(anvilPid);
  probe?.remove();
  log('stopping the node…');
  await stop();

  const phases = { single: load.single, bundle: load.bundle, reads: load.reads };
  const nodeBusyUsPerResource: Record<FhirPhase, number | null> = { single: null, bundle: null, reads: null };
  const processCpuUsPerResource: Record<FhirPhase, number | null> = {
    single: null,
    bundle: null,
    reads: null,
  };
  for (const phase of ['single', 'bundle', 'reads'] as const) {
    const p = phases[phase];
    const u = nodeEventLoopUtilization[phase];
    if (p.failed > 0)
      problems.push(`FHIR ${phase}: ${p.failed} requests failed, e.g. ${p.errors.join(' | ')}`);
    if (u !== null && p.ok > 0) nodeBusyUsPerResource[phase] = (u * p.seconds * 1e6) / p.ok;
    const cpu = cpuUs[phase];
    if (cpu !== undefined && p.ok > 0) processCpuUsPerResource[phase] = cpu / p.ok;
  }
  if (load.confirmSeconds === null) {
    problems.push(`FHIR: not every create was confirmed on chain within ${settings.confirmTimeoutMs} ms`);
  }

  let breakdown: FhirBreakdown | null = null;
  try {
    log(`FHIR: per-create CPU breakdown, in-process (4 rounds of ${settings.fhirBreakdownMs} ms)…`);
    breakdown = await measureFhirBreakdown(settings.fhirBreakdownMs);
  } catch (error) {
    problems.push(
      `FHIR breakdown failed: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
    );
  }

  return {
    load,
    nodeEventLoopUtilization,
    nodeBusyUsPerResource,
    processCpuUsPerResource,
    commits,
    anvilCpuSeconds: anvilCpu0 !== null && anvilCpu1 !== null ? anvilCpu1 - anvilCpu0 : null,
    validationWorkers: config.fhir.validationWorkers,
    breakdown,
    problems,
  };
}
