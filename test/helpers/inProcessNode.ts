import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../../src/config/config.js';
import { startNode, type RunningNode } from '../../src/node/startNode.js';
import { freePort } from './testAnvil.js';
import { TEST_TOKEN } from './testToken.js';

export interface TestNode extends RunningNode {
  dataDir: string;
  /** The admin bearer token the node was started with. */
  token: string;
  /** `fetch` on the node's base URL with the admin token. */
  api(path: string, init?: RequestInit): Promise<Response>;
  /** Stops the node and deletes its data folder. */
  destroy(): Promise<void>;
}

export { TEST_TOKEN } from './testToken.js';

/** `fetch(baseUrl + path)` with a bearer token. */
export function authorizedFetch(
  baseUrl: string,
  token: string,
  path: string,
  init: RequestInit = {},
): Promise<Response> {
  const headers = new Headers(init.headers);
  if (!headers.has('authorization')) headers.set('authorization', `Bearer ${token}`);
  return fetch(`${baseUrl}${path}`, { ...init, headers });
}

/** Starts a real node in this process (embedded anvil, SQLite, HTTP on a free loopback port). */
export async function startTestNode(env: Record<string, string> = {}, dataDir?: string): Promise<TestNode> {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'careledger-test-'));
  const config = loadConfig({
    CARELEDGER_DATA: dir,
    PORT: String(await freePort()),
    ANVIL_PORT: '0',
    ANCHOR_BATCH_AGE_MS: '150',
    CHAIN_CHECK_INTERVAL_MS: '300',
    LOG_LEVEL: 'silent',
    CARELEDGER_API_TOKEN: TEST_TOKEN,
    // Validation in-process: a worker pool costs each of the suite's many nodes a second of start-up. The pool has
    // its own tests and runs under the FHIR client and crash tests (which set FHIR_VALIDATION_WORKERS).
    FHIR_VALIDATION_WORKERS: '0',
    // Most tests are not about consent; the consent tests switch enforcement on.
    CONSENT_ENFORCEMENT: 'off',
    ...env,
  });
  const node = await startNode(config, pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }));
  const token = config.auth.bootstrapToken ?? TEST_TOKEN;
  return {
    ...node,
    dataDir: dir,
    token,
    api: (path, init = {}) => authorizedFetch(node.url, token, path, init),
    async destroy() {
      await node.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls `check` until it returns a truthy value or the deadline passes. */
export async function eventually<T>(
  check: () => Promise<T | undefined | false>,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`,
      );
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** JSON-RPC call to the node's chain (for anvil's own methods such as evm_setAutomine). */
export async function rpc(url: string, method: string, params: unknown[] = []): Promise<unknown> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  const body = (await res.json()) as { result?: unknown; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}

/** Appends one record over HTTP and returns its receipt; fails the test unless the node answers 201. */
export async function appendRecord(
  node: { url: string; token?: string },
  text: string,
  kind = 'test.record',
): Promise<Record<string, any>> {
  const res = await authorizedFetch(node.url, node.token ?? TEST_TOKEN, `/records?kind=${kind}`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream' },
    body: text,
  });
  if (res.status !== 201) throw new Error(`appending a record answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as Record<string, any>;
}
