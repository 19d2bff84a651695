import { performance } from 'node:perf_hooks';
import { processCpuSeconds, startBenchNode } from './benchNode.js';
import { BENCH_TOKEN } from './settings.js';
import type { Cleanup } from './cleanup.js';
import { probeCommits, type CommitStats } from './commitProbe.js';
import { measureBatchGas, measureSingleRecordGas, type BatchGas, type SingleRecordGas } from './gas.js';
import type { LoadJob, LoadMessage, LoadResult } from './loadTypes.js';
import type { RecordSet } from './records.js';
import type { BenchSettings } from './settings.js';
import { startTsWorker } from './tsWorker.js';

export interface EndToEndResult {
  load: LoadResult;
  ackSeconds: number;
  ackPerSecond: number;
  /** First request until /health showed everything confirmed; null if that never happened in time. */
  anchoredSeconds: number | null;
  anchoredPerSecond: number | null;
  /** Last acknowledgement until everything was confirmed (batch age wait, sealing, anchoring). */
  tailSeconds: number | null;
  commits: CommitStats | null;
  /** Event-loop utilisation of the node's thread from first request to confirmation. */
  nodeEventLoopUtilization: number;
  /** The same, from first request to last acknowledgement only. */
  nodeAckPhaseEventLoopUtilization: number | null;
  /** CPU seconds anvil used during the same span (Linux only). */
  anvilCpuSeconds: number | null;
  batchGas: BatchGas | null;
  singleRecordGas: SingleRecordGas | null;
  problems: string[];
}

function runLoadWorker(
  job: LoadJob,
  cleanup: Cleanup,
  log: (line: string) => void,
  onAcked: () => void,
): Promise<LoadResult> {
  const worker = startTsWorker(new URL('./loadWorker.ts', import.meta.url), job);
  cleanup.defer('stop the load worker', () => worker.terminate().then(() => undefined));
  return new Promise<LoadResult>((resolve, reject) => {
    worker.on('message', (message: LoadMessage) => {
      if (message.type === 'progress') {
        log(
          `  … ${message.acked.toLocaleString('en-US')} acknowledged${message.failed ? `, ${message.failed} failed` : ''}`,
        );
      } else if (message.type === 'acked') {
        onAcked();
        log(
          `  all requests answered (${message.acked.toLocaleString('en-US')} acknowledged); waiting for anchoring`,
        );
      } else if (message.type === 'done') {
        resolve(message.result);
        void worker.terminate();
      } else {
        reject(new Error(`load worker failed: ${message.message}`));
      }
    });
    worker.on('error', (error) => reject(error));
    worker.on('exit', (code) => reject(new Error(`load worker exited (code ${code}) before reporting`)));
  });
}

/**
 * Section 1 and 3: starts a real node (temp data folder, free ports, default batch size, short batch age), loads it
 * over HTTP from a worker thread, waits until every record is confirmed on chain, then measures the gas of its
 * anchor transactions and of one-transaction-per-record anchoring on the same anvil.
 */
export async function runEndToEnd(
  settings: BenchSettings,
  records: RecordSet,
  cleanup: Cleanup,
  log: (line: string) => void,
): Promise<EndToEndResult> {
  const problems: string[] = [];
  const { node, config, stop: stopNode } = await startBenchNode(settings.batchAgeMs, cleanup, log);
  cleanup.throwIfAborted();

  const probe = probeCommits(node.anchoring);
  if (!probe) problems.push('could not probe group-commit sizes (AnchoringService shape changed)');
  const anvilPid = node.anvil?.pid;
  const anvilCpu0 = processCpuSeconds(anvilPid);
  const elu0 = performance.eventLoopUtilization();
  let nodeAckPhaseEventLoopUtilization: number | null = null;

  log(
    `sending ${records.count.toLocaleString('en-US')} records with ${settings.concurrency} requests in flight…`,
  );
  const load = await runLoadWorker(
    {
      url: node.url,
      token: BENCH_TOKEN,
      concurrency: settings.concurrency,
      records,
      confirmTimeoutMs: settings.confirmTimeoutMs,
      healthPollMs: 20,
      maxFailures: Math.max(10, Math.floor(records.count / 100)),
    },
    cleanup,
    log,
    () => {
      nodeAckPhaseEventLoopUtilization = performance.eventLoopUtilization(elu0).utilization;
    },
  );
  const nodeEventLoopUtilization = performance.eventLoopUtilization(elu0).utilization;
  const anvilCpu1 = processCpuSeconds(anvilPid);
  const commits = probe?.stats() ?? null;
  probe?.remove();

  if (load.failed > 0) problems.push(`${load.failed} requests failed, e.g. ${load.errors.join(' | ')}`);
  if (load.confirmedAt === null) {
    problems.push(
      `not every record was confirmed within ${settings.confirmTimeoutMs} ms; last health: ${JSON.stringify(load.finalHealth?.anchoring)}`,
    );
  }
  const ackSeconds = (load.lastAckAt - load.startedAt) / 1000;
  const anchoredSeconds = load.confirmedAt === null ? null : (load.confirmedAt - load.startedAt) / 1000;

  let batchGas: BatchGas | null = null;
  let singleRecordGas: SingleRecordGas | null = null;
  const lastSequence = load.finalHealth?.anchoring.lastConfirmed?.sequence ?? 0;
  const chainId =
    load.finalHealth?.chain.chainId ?? (config.chain.mode === 'embedded' ? config.chain.chainId : 0);
  try {
    log(`reading the gas of ${lastSequence} anchor transactions…`);
    batchGas = await measureBatchGas(node.url, node.rpcUrl, lastSequence);
    if (batchGas.records !== load.acked) {
      problems.push(
        `confirmed batches hold ${batchGas.records} records, but ${load.acked} were acknowledged`,
      );
    }
    log(`anchoring ${settings.singleAnchors} single-record batches for the gas baseline…`);
    singleRecordGas = await measureSingleRecordGas(node.rpcUrl, chainId, records, settings.singleAnchors);
  } catch (error) {
    problems.push(
      `gas measurement failed: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
    );
  }

  log('stopping the node…');
  await stopNode();
  return {
    load,
    ackSeconds,
    ackPerSecond: ackSeconds > 0 ? load.acked / ackSeconds : 0,
    anchoredSeconds,
    anchoredPerSecond: anchoredSeconds ? load.acked / anchoredSeconds : null,
    tailSeconds: load.confirmedAt === null ? null : (load.confirmedAt - load.lastAckAt) / 1000,
    commits,
    nodeEventLoopUtilization,
    nodeAckPhaseEventLoopUtilization,
    anvilCpuSeconds: anvilCpu0 !== null && anvilCpu1 !== null ? anvilCpu1 - anvilCpu0 : null,
    batchGas,
    singleRecordGas,
    problems,
  };
}
