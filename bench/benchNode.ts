import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadConfig, type Config } from '../src/config/config.js';
import { startNode, type RunningNode } from '../src/node/startNode.js';
import type { Cleanup } from './cleanup.js';
import { BENCH_TOKEN } from './settings.js';
import { withTimeout } from './timing.js';

export interface BenchNode {
  node: RunningNode;
  config: Config;
  /** Stops the node (once; also registered with the clean-up). */
  stop(): Promise<void>;
}

/**
 * Starts a throwaway node in-process: a temp data folder, free ports, the embedded anvil, the default batch size,
 * `batchAgeMs`, and the bench's random bootstrap token. The node and its folder are registered with `cleanup`
 * before anything can fail, so an interrupted bench leaves nothing behind.
 */
export async function startBenchNode(
  batchAgeMs: number,
  cleanup: Cleanup,
  log: (line: string) => void,
  env: Record<string, string> = {},
): Promise<BenchNode> {
  const dataDir = mkdtempSync(join(tmpdir(), 'careledger-bench-node-'));
  cleanup.defer('remove the node data folder', () => rmSync(dataDir, { recursive: true, force: true }));

  const config = loadConfig({
    CARELEDGER_DATA: dataDir,
    CARELEDGER_ORG_NAME: 'CareLedger bench',
    CARELEDGER_API_TOKEN: BENCH_TOKEN,
    PORT: '0',
    ANVIL_PORT: '0',
    ANCHOR_BATCH_AGE_MS: String(batchAgeMs),
    LOG_LEVEL: 'warn',
    // The read figures are of the store itself; consent decisions are measured on their own (row 8).
    CONSENT_ENFORCEMENT: 'off',
    ...env,
  });
  log(
    `starting a node (batch size ${config.anchoring.batchSize}, batch age ${config.anchoring.batchAgeMs} ms)…`,
  );
  const starting = startNode(config, pino({ level: 'warn' }));
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    // Also stops a node that finished starting only after the timeout below gave up on it.
    const node = await withTimeout(starting, 90_000, 'the node did not start').catch(() => null);
    await node?.stop();
  };
  cleanup.defer('stop the node', stop);
  const node = await withTimeout(starting, 90_000, 'the node did not start within 90 s');
  log(`node up at ${node.url}, chain at ${node.rpcUrl}`);
  return { node, config, stop };
}

/** CPU seconds (user + system) a process has used, from /proc; null where /proc is not available. */
export function processCpuSeconds(pid: number | undefined): number | null {
  if (!pid) return null;
  return statCpuSeconds(`/proc/${pid}/stat`);
}

/**
 * CPU seconds this process's main thread (the node's event loop, in the bench) has used, from /proc; null where
 * /proc is not available. Unlike event-loop utilisation, time the thread waited for a core is not counted.
 */
export function mainThreadCpuSeconds(): number | null {
  return statCpuSeconds(`/proc/${process.pid}/task/${process.pid}/stat`);
}

function statCpuSeconds(file: string): number | null {
  try {
    const stat = readFileSync(file, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of proc(5) (utime, stime), in clock ticks of (almost always) 1/100 s.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}
