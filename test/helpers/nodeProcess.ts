import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './testAnvil.js';
import { TEST_TOKEN } from './testToken.js';

/** The repository root: the CLI runs from its TypeScript sources there (through tsx), so no build is needed. */
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI_ARGS = ['--import', 'tsx', 'src/cli/main.ts', 'start'];
const READY_LINE = /CareLedger node listening on (https?:\/\/\S+)/;
const OUTPUT_TAIL_CHARS = 16_000;

export interface NodeProcessOptions {
  dataDir: string;
  /** HTTP port; a free one is picked when absent. */
  port?: number;
  /** Embedded anvil port; a free one is picked when absent. */
  anvilPort?: number;
  /** Extra environment for the node (ANCHOR_BATCH_AGE_MS, ANVIL_STATE_INTERVAL, …). */
  env?: Record<string, string>;
  /** How long to wait for the "listening" line. */
  readyTimeoutMs?: number;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface NodeProcess {
  /** Base URL of the node's HTTP gateway. */
  url: string;
  dataDir: string;
  port: number;
  anvilPort: number;
  process: ChildProcess;
  pid: number;
  /** Sends a signal to the node process (not to its anvil). */
  kill(signal: NodeJS.Signals): void;
  /** SIGTERM, wait for the exit; SIGKILL if it has not exited after 20 s. */
  stop(): Promise<ExitInfo>;
  /** Resolves when the node process has exited (and been reaped). */
  exited: Promise<ExitInfo>;
  /** The last part of the node's stdout and stderr, for failure messages. */
  output(): string;
}

interface Started {
  stop(): Promise<ExitInfo>;
  kill(signal: NodeJS.Signals): void;
}

/**
 * Every node process started through this module (from the moment it is spawned until it exits), so
 * `cleanupNodeProcesses` can end it even when a test failed, also one that never became ready.
 */
const started = new Set<Started>();
const dataDirs = new Set<string>();

/** A fresh temporary data folder, removed again by `cleanupNodeProcesses`. */
export function makeTempDataDir(prefix = 'careledger-crash-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dataDirs.add(dir);
  return dir;
}

/**
 * Starts `careledger start` in a child process on `dataDir` and waits until it prints its "listening" line.
 * The environment is this process's, minus any external chain setting, plus the given settings.
 */
export async function startNodeProcess(options: NodeProcessOptions): Promise<NodeProcess> {
  const port = options.port ?? (await freePort());
  const anvilPort = options.anvilPort ?? (await freePort());
  dataDirs.add(options.dataDir);
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.CHAIN_RPC_URL; // these tests are about the embedded chain
  Object.assign(env, {
    CARELEDGER_DATA: options.dataDir,
    PORT: String(port),
    ANVIL_PORT: String(anvilPort),
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'info',
    CARELEDGER_API_TOKEN: TEST_TOKEN,
    // The crash tests read back what they wrote; consent has its own tests.
    CONSENT_ENFORCEMENT: 'off',
    ...options.env,
  });

  const child = spawn(process.execPath, CLI_ARGS, {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let tail = '';
  const append = (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-OUTPUT_TAIL_CHARS);
  };
  const output = () => tail;

  let exitInfo: ExitInfo | null = null;
  const exited = new Promise<ExitInfo>((resolve) => {
    child.once('exit', (code, signal) => {
      exitInfo = { code, signal };
      resolve(exitInfo);
    });
    // A process that could not be spawned at all never emits 'exit'.
    child.once('error', () => {
      if (child.pid === undefined) resolve((exitInfo = { code: null, signal: null }));
    });
  });
  const kill = (signal: NodeJS.Signals) => {
    if (exitInfo === null) child.kill(signal);
  };
  const stop = async (): Promise<ExitInfo> => {
    if (exitInfo !== null) return exitInfo;
    child.kill('SIGTERM');
    const timer = setTimeout(() => kill('SIGKILL'), 20_000);
    const info = await exited;
    clearTimeout(timer);
    return info;
  };
  const handle: Started = { stop, kill };
  started.add(handle);
  void exited.then(() => started.delete(handle));

  const readyTimeoutMs = options.readyTimeoutMs ?? 60_000;
  const url = await new Promise<string>((resolve, reject) => {
    let stdoutBuffer = '';
    let ready = false;
    const fail = (why: string) => {
      if (ready) return;
      clearTimeout(timer);
      reject(new Error(`careledger node on ${options.dataDir} ${why}\n--- node output (tail) ---\n${tail}`));
    };
    const timer = setTimeout(() => {
      kill('SIGKILL');
      fail(`did not print its "listening" line within ${readyTimeoutMs} ms`);
    }, readyTimeoutMs);
    child.stdout?.on('data', (chunk: Buffer) => {
      append(chunk);
      if (ready) return;
      stdoutBuffer += chunk.toString();
      const match = READY_LINE.exec(stdoutBuffer);
      if (match?.[1]) {
        ready = true;
        clearTimeout(timer);
        stdoutBuffer = '';
        resolve(match[1]);
      } else {
        stdoutBuffer = stdoutBuffer.slice(-4_000);
      }
    });
    child.stderr?.on('data', append);
    child.once('error', (error) => fail(`could not be started: ${error.message}`));
    // 'close' (not 'exit') so that everything the process printed is in the tail.
    child.once('close', (code, signal) => fail(`exited during start-up (code ${code}, signal ${signal})`));
  });

  return {
    url,
    dataDir: options.dataDir,
    port,
    anvilPort,
    process: child,
    pid: child.pid as number,
    kill,
    stop,
    exited,
    output,
  };
}

/** The pid in `<data>/chain/anvil.pid`, if the file is there. */
export function anvilPidOf(dataDir: string): number | undefined {
  const file = join(dataDir, 'chain', 'anvil.pid');
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Waits until `pid` is gone; false if it is still alive at the deadline. */
export async function waitForPidExit(pid: number, timeoutMs = 20_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

/**
 * Pids of the anvils that belong to `dataDir`: the pid file's (if that process is an anvil on this folder's state
 * file) and, where /proc exists, every process whose command line names this folder's state file. Identifying
 * them by their command line means a recycled pid never gets killed by mistake.
 */
export function anvilPidsFor(dataDir: string): number[] {
  const stateFile = join(dataDir, 'chain', 'anvil-state.json');
  const candidates = new Set<number>();
  const fromFile = anvilPidOf(dataDir);
  if (fromFile !== undefined) candidates.add(fromFile);
  if (existsSync('/proc')) {
    for (const entry of readdirSync('/proc')) {
      if (/^\d+$/.test(entry)) candidates.add(Number(entry));
    }
  }
  return [...candidates].filter((pid) => pid !== process.pid && commandLineOf(pid)?.includes(stateFile));
}

function commandLineOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return undefined;
  }
}

/** SIGKILLs every anvil that belongs to `dataDir` and waits until they are gone. */
export async function killAnvilsOf(dataDir: string): Promise<void> {
  const pids = anvilPidsFor(dataDir);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const pid of pids) await waitForPidExit(pid, 5_000);
}

/**
 * Ends every node process started here (SIGTERM, SIGKILL after 20 s), then every anvil still running on one of
 * the data folders used here, then removes those folders. Call it from afterEach/afterAll: it runs whether or not
 * the test passed.
 */
export async function cleanupNodeProcesses(): Promise<void> {
  await Promise.all([...started].map((node) => node.stop()));
  for (const dir of dataDirs) {
    await killAnvilsOf(dir);
    rmSync(dir, { recursive: true, force: true });
  }
  dataDirs.clear();
}

// Last resort if the test worker itself goes away: never leave nodes or anvils running behind it.
process.once('exit', () => {
  for (const node of started) node.kill('SIGKILL');
  for (const dir of dataDirs) {
    for (const pid of anvilPidsFor(dir)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
});
