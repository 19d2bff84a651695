import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { anvilBinaryPath } from '../../src/ledger/anvil/anvilBinary.js';

/** A free TCP port on loopback, chosen by the OS. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface TestAnvil {
  rpcUrl: string;
  port: number;
  process: ChildProcess;
  /** Stops anvil (SIGTERM, then SIGKILL after a grace period). */
  stop(): Promise<void>;
}

/** Waits until a JSON-RPC endpoint answers `eth_chainId`. */
export async function waitForRpc(rpcUrl: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(rpcUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
      });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`anvil at ${rpcUrl} did not answer within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts a real anvil on a free loopback port for a test; extra CLI arguments are passed through. */
export async function startTestAnvil(extraArgs: string[] = []): Promise<TestAnvil> {
  const port = await freePort();
  const child = spawn(
    anvilBinaryPath(),
    ['--host', '127.0.0.1', '--port', String(port), '--silent', ...extraArgs],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  const rpcUrl = `http://127.0.0.1:${port}`;
  await waitForRpc(rpcUrl);
  return {
    rpcUrl,
    port,
    process: child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * A fresh random account funded with 1,000 ether through anvil's `anvil_setBalance`, so tests never depend on
 * anvil's well-known development keys.
 */
export async function fundedTestKey(rpcUrl: string): Promise<`0x${string}`> {
  const { generatePrivateKey, privateKeyToAddress } = await import('viem/accounts');
  const key = generatePrivateKey();
  const res = await fetch(rpcUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'anvil_setBalance',
      params: [privateKeyToAddress(key), '0x3635c9adc5dea00000'],
    }),
  });
  if (!res.ok) throw new Error(`anvil_setBalance failed: ${res.status}`);
  return key;
}
