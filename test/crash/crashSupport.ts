import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { Static } from '@sinclair/typebox';
import { Pool } from 'undici';
import { TEST_AUTH } from '../helpers/testToken.js';
import {
  checkProofOnChain,
  checkRecordAgainstProof,
  parseRecordProof,
} from '../../src/anchoring/verifyRecordProof.js';
import type { RecordProof } from '../../src/anchoring/recordProof.js';
import { toHex, type Hex } from '../../src/core/hex.js';
import { sha256 } from '../../src/core/sha256.js';
import type {
  BatchViewSchema,
  HealthBody,
  RecordReceiptBody,
  RecordViewSchema,
} from '../../src/gateway/schemas.js';
import { createAnchorReader } from '../../src/ledger/viemAnchorReader.js';

export type RecordView = Static<typeof RecordViewSchema>;
export type BatchView = Static<typeof BatchViewSchema>;

export const RECORD_KIND = 'test.crash';

/** A record the node acknowledged with 201: what was sent and the receipt that came back. */
export interface AckedRecord {
  /** The writer's own number for the record (0…N-1). */
  n: number;
  bytes: Buffer;
  receipt: RecordReceiptBody;
  phase: string;
}

export interface FailedWrite {
  n: number;
  error: string;
  /** True when the failure came after `stopped()` turned true (e.g. the node was killed on purpose). */
  expected: boolean;
}

export interface WriteResult {
  acked: AckedRecord[];
  failed: FailedWrite[];
  /** Records never sent because the writer stopped first. */
  notSent: number[];
}

export interface WriteOptions {
  url: string;
  /** Writer numbers of the records to send, in order. */
  items: number[];
  bytesOf: (n: number) => Buffer;
  concurrency: number;
  phase: string;
  /** Called after every acknowledgement, with how many this call has received so far. */
  onAck?: (ack: AckedRecord, acknowledged: number) => void;
  /** Once true, workers take no new records, and failures count as expected. */
  stopped?: () => boolean;
}

/** Unique record bytes: the writer number plus random bytes, so no two runs or records collide. */
export function makeRecordBytes(count: number): Buffer[] {
  return Array.from({ length: count }, (_, n) =>
    Buffer.from(`record-${n}-${randomBytes(12).toString('hex')}`),
  );
}

/**
 * Sends records with `POST /records` over `concurrency` keep-alive connections, each connection one request at
 * a time, and remembers every 201 receipt. A failed request is never retried here: it was not acknowledged.
 */
export async function writeRecords(options: WriteOptions): Promise<WriteResult> {
  const queue = [...options.items];
  const stopped = options.stopped ?? (() => false);
  const result: WriteResult = { acked: [], failed: [], notSent: [] };
  const pool = new Pool(options.url, {
    connections: options.concurrency,
    pipelining: 1,
    headersTimeout: 30_000,
    bodyTimeout: 30_000,
  });
  const worker = async () => {
    while (queue.length > 0 && !stopped()) {
      const n = queue.shift() as number;
      const bytes = options.bytesOf(n);
      try {
        const res = await pool.request({
          method: 'POST',
          path: `/records?kind=${RECORD_KIND}`,
          headers: { 'content-type': 'application/octet-stream', ...TEST_AUTH },
          body: bytes,
        });
        const text = await res.body.text();
        if (res.statusCode !== 201) {
          result.failed.push({
            n,
            error: `HTTP ${res.statusCode}: ${text.slice(0, 300)}`,
            expected: stopped(),
          });
          continue;
        }
        const ack: AckedRecord = {
          n,
          bytes,
          receipt: JSON.parse(text) as RecordReceiptBody,
          phase: options.phase,
        };
        result.acked.push(ack);
        options.onAck?.(ack, result.acked.length);
      } catch (error) {
        result.failed.push({ n, error: describe(error), expected: stopped() });
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: options.concurrency }, worker));
  } finally {
    await pool.destroy();
  }
  result.notSent = queue;
  return result;
}

/** Polls `check` every `intervalMs` until it returns a value; fails after `timeoutMs` saying what it last saw. */
export async function waitFor<T>(
  what: string,
  timeoutMs: number,
  check: () => Promise<T | undefined> | T | undefined,
  options: { intervalMs?: number; lastSeen?: () => string } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
      lastError = undefined;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const seen = options.lastSeen?.();
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}` +
          (lastError !== undefined ? `; last error: ${describe(lastError)}` : '') +
          (seen ? `; last seen: ${seen}` : ''),
      );
    }
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 50));
  }
}

/** `GET /health` (200 when the chain is reachable, 503 when degraded; both carry the body). */
export async function getHealth(url: string): Promise<HealthBody> {
  const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(5_000) });
  if (res.status !== 200 && res.status !== 503) throw new Error(`GET /health answered ${res.status}`);
  return (await res.json()) as HealthBody;
}

export async function getBatch(url: string, sequence: number): Promise<BatchView> {
  const res = await fetch(`${url}/batches/${sequence}`, {
    headers: TEST_AUTH,
    signal: AbortSignal.timeout(5_000),
  });
  if (res.status !== 200) throw new Error(`GET /batches/${sequence} answered ${res.status}`);
  return (await res.json()) as BatchView;
}

/** True when the chain is reachable and no record waits for anchoring (no open, sealed or submitted batch). */
export function allAnchored(h: HealthBody): boolean {
  const b = h.anchoring.batches;
  return h.status === 'ok' && h.anchoring.pendingRecords === 0 && b.open + b.sealed + b.submitted === 0;
}

/** Polls `/health` until every stored record is anchored; returns that health. */
export async function waitUntilAllAnchored(url: string, timeoutMs: number): Promise<HealthBody> {
  let last: HealthBody | undefined;
  return waitFor(
    'every record to be anchored (no open, sealed or submitted batch)',
    timeoutMs,
    async () => {
      last = await getHealth(url);
      return allAnchored(last) ? last : undefined;
    },
    { lastSeen: () => JSON.stringify(last?.anchoring ?? null) },
  );
}

/**
 * Waits for anvil's next periodic state dump (the state file's modification time changes) and returns when it
 * was seen. Everything the chain held before that moment survives an anvil crash; later blocks are lost.
 */
export async function waitForNextStateDump(dataDir: string, timeoutMs: number): Promise<number> {
  const file = join(dataDir, 'chain', 'anvil-state.json');
  const mtime = () => {
    try {
      return statSync(file).mtimeMs;
    } catch {
      return 0;
    }
  };
  const before = mtime();
  return waitFor('anvil to dump its state', timeoutMs, () => (mtime() !== before ? Date.now() : undefined), {
    intervalMs: 5,
  });
}

export interface VerifyOptions {
  url: string;
  /** The node's chain (`health.chain.rpcUrl`). */
  rpcUrl: string;
  /** The AnchorRegistry the node reports (`health.contracts.anchorRegistry`); proofs must name it. */
  anchorRegistry: string;
  concurrency?: number;
}

export interface VerifyResult {
  failures: string[];
  /** One on-chain-verified proof per batch sequence. */
  batches: Map<number, RecordProof>;
}

/**
 * Checks every acknowledged record against the node and the chain: its metadata matches the receipt, its bytes
 * are identical, its proof verifies offline against those bytes, and each batch root in those proofs is anchored
 * on the chain exactly as the proofs say. Proofs of one batch share tree, batch and anchor, so the chain is asked
 * once per batch and every other proof of that batch must agree with the verified one.
 */
export async function verifyAcknowledged(
  records: readonly AckedRecord[],
  options: VerifyOptions,
): Promise<VerifyResult> {
  const failures: string[] = [];
  const representative = new Map<number, RecordProof>();
  const proofs = new Map<number, RecordProof>();
  const pool = new Pool(options.url, { connections: options.concurrency ?? 16, pipelining: 1 });
  const get = async (path: string): Promise<{ status: number; body: Buffer }> => {
    const res = await pool.request({ method: 'GET', path, headers: TEST_AUTH });
    return { status: res.statusCode, body: Buffer.from(await res.body.arrayBuffer()) };
  };

  const checkOne = async (record: AckedRecord): Promise<void> => {
    const { receipt, bytes } = record;
    const id = receipt.id;
    const where = `record ${id} (writer #${record.n}, ${record.phase})`;
    const expectedHash = toHex(sha256(bytes));
    if (receipt.contentHash !== expectedHash)
      failures.push(
        `${where}: receipt contentHash ${receipt.contentHash}, sent bytes hash to ${expectedHash}`,
      );

    const meta = await get(`/records/${id}`);
    if (meta.status !== 200) {
      failures.push(
        `${where}: GET /records/${id} answered ${meta.status}: ${meta.body.toString().slice(0, 200)}`,
      );
      return;
    }
    const view = JSON.parse(meta.body.toString()) as RecordView;
    const mismatches: string[] = [];
    if (view.kind !== receipt.kind) mismatches.push(`kind ${view.kind} ≠ ${receipt.kind}`);
    if (view.contentHash !== receipt.contentHash)
      mismatches.push(`contentHash ${view.contentHash} ≠ ${receipt.contentHash}`);
    if (view.leafHash !== receipt.leafHash)
      mismatches.push(`leafHash ${view.leafHash} ≠ ${receipt.leafHash}`);
    if (view.batch.sequence !== receipt.batch.sequence)
      mismatches.push(`batch ${view.batch.sequence} ≠ ${receipt.batch.sequence}`);
    if (view.batch.leafIndex !== receipt.batch.leafIndex)
      mismatches.push(`leafIndex ${view.batch.leafIndex} ≠ ${receipt.batch.leafIndex}`);
    if (view.batch.state !== 'confirmed') mismatches.push(`batch state ${view.batch.state}`);
    if (mismatches.length > 0) failures.push(`${where}: stored metadata differs: ${mismatches.join('; ')}`);

    const content = await get(`/records/${id}/content`);
    if (content.status !== 200) failures.push(`${where}: GET content answered ${content.status}`);
    else if (!content.body.equals(bytes))
      failures.push(`${where}: stored bytes differ (${content.body.length} bytes vs ${bytes.length} sent)`);

    const proofRes = await get(`/records/${id}/proof`);
    if (proofRes.status !== 200) {
      failures.push(
        `${where}: GET proof answered ${proofRes.status}: ${proofRes.body.toString().slice(0, 200)}`,
      );
      return;
    }
    try {
      const proof = parseRecordProof(JSON.parse(proofRes.body.toString()));
      checkRecordAgainstProof(bytes, proof);
      if (
        proof.record.id !== id ||
        proof.leaf.hash !== receipt.leafHash ||
        proof.leaf.index !== receipt.batch.leafIndex ||
        proof.batch.sequence !== receipt.batch.sequence
      ) {
        failures.push(`${where}: proof is for record ${proof.record.id} at batch ${proof.batch.sequence}`);
      }
      proofs.set(id, proof);
      if (!representative.has(proof.batch.sequence)) representative.set(proof.batch.sequence, proof);
    } catch (error) {
      failures.push(`${where}: proof does not verify against the record: ${describe(error)}`);
    }
  };

  try {
    const queue = [...records];
    await Promise.all(
      Array.from({ length: options.concurrency ?? 16 }, async () => {
        for (let next = queue.shift(); next; next = queue.shift()) await checkOne(next);
      }),
    );
  } finally {
    await pool.destroy();
  }

  // The chain, once per batch root.
  const reader = createAnchorReader(options.rpcUrl);
  for (const [sequence, proof] of representative) {
    try {
      await checkProofOnChain(proof, reader, { expectedContract: options.anchorRegistry as Hex });
    } catch (error) {
      failures.push(`batch ${sequence} (root ${proof.tree.root}): not verified on chain: ${describe(error)}`);
    }
  }
  // Every other proof must name the same tree, batch and anchor as its batch's verified proof.
  for (const [id, proof] of proofs) {
    const rep = representative.get(proof.batch.sequence) as RecordProof;
    const same =
      JSON.stringify([proof.tree, proof.batch, proof.anchor]) ===
      JSON.stringify([rep.tree, rep.batch, rep.anchor]);
    if (!same)
      failures.push(
        `record ${id}: its proof's anchor differs from the one verified for batch ${proof.batch.sequence}`,
      );
  }
  return { failures, batches: representative };
}

/** Fails with the first problems listed (and how many there were in all). */
export function assertNoFailures(failures: readonly string[], what: string): void {
  if (failures.length === 0) return;
  throw new Error(
    `${what}: ${failures.length} problem(s); first ones:\n- ${failures.slice(0, 25).join('\n- ')}`,
  );
}

/** Ids must be unique, and every writer number acknowledged at most once. */
export function duplicateProblems(records: readonly AckedRecord[]): string[] {
  const problems: string[] = [];
  const ids = new Map<number, number>();
  const numbers = new Set<number>();
  for (const r of records) {
    const other = ids.get(r.receipt.id);
    if (other !== undefined) problems.push(`id ${r.receipt.id} was given to writer #${other} and #${r.n}`);
    ids.set(r.receipt.id, r.n);
    if (numbers.has(r.n)) problems.push(`writer #${r.n} was acknowledged twice`);
    numbers.add(r.n);
  }
  return problems;
}

export function distinctBatches(records: readonly AckedRecord[]): number[] {
  return [...new Set(records.map((r) => r.receipt.batch.sequence))].sort((a, b) => a - b);
}

export function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? ` (${error.cause.message})` : '';
    return `${error.name}: ${error.message.split('\n')[0] ?? ''}${cause}`;
  }
  return String(error);
}
