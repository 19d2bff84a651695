import { spawn, type ChildProcess } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { UnavailableError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { anvilBinaryPath } from './anvilBinary.js';

export interface EmbeddedAnvilOptions {
  dataDir: string;
  /** 0 picks a free port once; restarts reuse it. */
  port: number;
  chainId: number;
  /** How often anvil dumps its state to disk; a crash loses at most this much chain history. */
  stateIntervalSeconds: number;
  logger: Logger;
  /** Called after anvil was restarted following a crash (its state may be older than before). */
  onRestarted?: () => void;
}

/**
 * Runs Foundry's anvil (from the `@foundry-rs/anvil` npm package) as the node's embedded chain: loopback only,
 * state in `<data>/chain/anvil-state.json`, dumped every `stateIntervalSeconds` and on a clean stop. If anvil
 * dies, it is started again from its last dump and `onRestarted` tells the node to re-check what the chain
 * still holds. A pid file lets a restarted node stop an anvil orphaned by a node crash before starting its own.
 */
export class EmbeddedAnvil {
  private readonly options: EmbeddedAnvilOptions;
  private readonly dir: string;
  private readonly stateFile: string;
  private readonly pidFile: string;
  private child: ChildProcess | null = null;
  private port = 0;
  private stopping = false;
  private restarts = 0;
  /** Crashes in a row, each within a minute of its start; sets the restart back-off. */
  private rapidCrashes = 0;
  private startedAt = 0;
  private stderrTail = '';

  constructor(options: EmbeddedAnvilOptions) {
    this.options = options;
    this.dir = join(options.dataDir, 'chain');
    this.stateFile = join(this.dir, 'anvil-state.json');
    this.pidFile = join(this.dir, 'anvil.pid');
  }

  get rpcUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  status(): { running: boolean; pid: number | null; restarts: number; rpcUrl: string } {
    return {
      running: this.child !== null,
      pid: this.child?.pid ?? null,
      restarts: this.restarts,
      rpcUrl: this.rpcUrl,
    };
  }

  async start(): Promise<void> {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    await this.stopOrphan();
    this.port = this.options.port || (await freeLoopbackPort());
    this.stopping = false;
    await this.launch();
  }

  /** Stops anvil with SIGTERM so it dumps its state, then SIGKILL if it does not exit in time. */
  async stop(): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (!child) return;
    await terminate(child, 15_000);
    this.child = null;
    rmSync(this.pidFile, { force: true });
  }

  private async launch(): Promise<void> {
    this.prepareStateFile();
    const args = [
      '--host',
      '127.0.0.1',
      '--port',
      String(this.port),
      '--chain-id',
      String(this.options.chainId),
      '--state',
      this.stateFile,
      '--state-interval',
      String(this.options.stateIntervalSeconds),
      '--silent',
    ];
    this.startedAt = Date.now();
    const child = spawn(anvilBinaryPath(), args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    this.stderrTail = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString()).slice(-2_000);
    });
    child.once('exit', (code, signal) => this.onExit(child, code, signal));
    // If this process exits without stop() (an uncaught error, process.exit), take anvil along (SIGTERM: it still
    // dumps its state). A SIGKILL of this process cannot be caught; the pid file covers that on the next start.
    const onProcessExit = () => child.kill('SIGTERM');
    process.once('exit', onProcessExit);
    child.once('exit', () => process.removeListener('exit', onProcessExit));
    if (child.pid) writeFileSync(this.pidFile, String(child.pid));
    await this.waitUntilReady(child);
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child !== child) return;
    this.child = null;
    if (this.stopping) return;
    this.restarts++;
    // Back off only while anvil keeps crashing soon after start; one crash after a long run restarts quickly.
    this.rapidCrashes = Date.now() - this.startedAt < 60_000 ? this.rapidCrashes + 1 : 1;
    const delay = Math.min(200 * 2 ** Math.min(this.rapidCrashes, 6), 10_000);
    this.options.logger.warn(
      { code, signal, restartInMs: delay, stderr: this.stderrTail.trim() || undefined },
      'embedded anvil exited; restarting it from its last saved state',
    );
    setTimeout(() => {
      if (this.stopping) return;
      this.launch()
        .then(() => {
          this.options.logger.info({ rpcUrl: this.rpcUrl }, 'embedded anvil restarted');
          this.options.onRestarted?.();
        })
        .catch((error: unknown) =>
          this.options.logger.error({ err: String(error) }, 'embedded anvil failed to restart'),
        );
    }, delay).unref();
  }

  /**
   * Keeps a last-known-good copy of the state dump. A dump cut short by a crash is not valid JSON and would stop
   * anvil from starting; then the previous good copy is used (older, and the node re-anchors what it lacks).
   */
  private prepareStateFile(): void {
    const backup = `${this.stateFile}.good`;
    if (!existsSync(this.stateFile)) return;
    if (isValidJson(this.stateFile)) {
      copyFileSync(this.stateFile, backup);
      return;
    }
    const aside = `${this.stateFile}.corrupt-${Date.now()}`;
    renameSync(this.stateFile, aside);
    if (existsSync(backup)) copyFileSync(backup, this.stateFile);
    this.options.logger.warn(
      { movedTo: aside },
      'the anvil state dump was damaged; starting from the last good copy',
    );
  }

  private async waitUntilReady(child: ChildProcess): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new UnavailableError(
          'CHAIN.ANVIL_FAILED',
          `The embedded anvil exited during start-up: ${this.stderrTail.trim() || `exit ${child.exitCode}`}`,
        );
      }
      try {
        const res = await fetch(this.rpcUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
          signal: AbortSignal.timeout(1_000),
        });
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    await terminate(child, 2_000);
    throw new UnavailableError(
      'CHAIN.ANVIL_TIMEOUT',
      `The embedded anvil did not answer on ${this.rpcUrl} within 30 s.`,
    );
  }

  /** Stops an anvil left running by a node that crashed, so its state is dumped and its port freed. */
  private async stopOrphan(): Promise<void> {
    if (!existsSync(this.pidFile)) return;
    const pid = Number(readFileSync(this.pidFile, 'utf8').trim());
    rmSync(this.pidFile, { force: true });
    if (!Number.isInteger(pid) || pid <= 0 || !isAnvilFor(pid, this.stateFile)) return;
    this.options.logger.warn({ pid }, 'stopping an embedded anvil left over from a previous run');
    process.kill(pid, 'SIGTERM');
    const deadline = Date.now() + 15_000;
    while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  }
}

function isValidJson(file: string): boolean {
  try {
    JSON.parse(readFileSync(file, 'utf8'));
    return true;
  } catch {
    return false;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function isAnvilFor(pid: number, stateFile: string): boolean {
  if (!isAlive(pid)) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(stateFile);
  } catch {
    return false; // no /proc (macOS): never kill a process we cannot identify
  }
}

async function terminate(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

export async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
