import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

/**
 * How to run `careledger` itself: the compiled CLI next to this file, or, when running from the TypeScript
 * sources (tests, `tsx`), the sources through tsx from the repository root, so no build is needed.
 */
export function careledgerLauncher(): { args: string[]; cwd: string } {
  const here = import.meta.url;
  if (here.endsWith('.ts')) {
    return {
      args: ['--import', 'tsx', fileURLToPath(new URL('../main.ts', here))],
      cwd: fileURLToPath(new URL('../../..', here)),
    };
  }
  return {
    args: [fileURLToPath(new URL('../main.js', here))],
    cwd: fileURLToPath(new URL('../../..', here)),
  };
}

/**
 * Starts a process that outlives this one: its own process group (`detached`), stdout and stderr appended to
 * `logFile`, not waited for (`unref`). Returns its pid and a promise of its exit while this process watches.
 */
export function spawnDetached(
  command: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; logFile: string },
): { pid: number; exited: Promise<{ code: number | null; signal: string | null }> } {
  const fd = openSync(options.logFile, 'a', 0o600);
  try {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
      child.once('error', () => resolve({ code: null, signal: null }));
    });
    child.unref();
    if (child.pid === undefined) throw new Error(`could not start ${command}`);
    return { pid: child.pid, exited };
  } finally {
    closeSync(fd);
  }
}

export function isAlive(pid: number | null | undefined): pid is number {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  // A zombie (exited, not yet reaped by its parent) is not alive.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return true;
  }
}

/**
 * Whether `pid` is still the process the network started (and not a recycled pid): its command line or
 * environment names `marker` (the anvil state file, or `CARELEDGER_DATA=<folder>`). Without /proc (macOS) a live
 * pid is trusted.
 */
export function isNetworkProcess(pid: number | null | undefined, marker: string): pid is number {
  if (!isAlive(pid)) return false;
  if (!existsSync('/proc')) return true;
  try {
    // Whole entries only: CARELEDGER_DATA=…/org-1 must not match …/org-10.
    const entries = [
      ...readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0'),
      ...readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0'),
    ];
    return entries.includes(marker);
  } catch {
    return false; // not readable: not ours
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function stopProcess(pid: number, graceMs: number): Promise<'stopped' | 'killed' | 'gone'> {
  if (!isAlive(pid)) return 'gone';
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return 'gone';
  }
  const deadline = Date.now() + graceMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
      const hard = Date.now() + 5_000;
      while (isAlive(pid) && Date.now() < hard) await sleep(25);
      return 'killed';
    }
    await sleep(25);
  }
  return 'stopped';
}

/** True if nothing listens on `port` on loopback. */
export function portIsFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The last `chars` characters of a log file, for error messages. */
export function logTail(file: string, chars = 3_000): string {
  try {
    return readFileSync(file, 'utf8').slice(-chars);
  } catch {
    return '';
  }
}
