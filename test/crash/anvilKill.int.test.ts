import { afterEach, describe, expect, it } from 'vitest';
import type { HealthBody } from '../../src/gateway/schemas.js';
import {
  anvilPidOf,
  cleanupNodeProcesses,
  isAlive,
  makeTempDataDir,
  startNodeProcess,
  waitForPidExit,
  type NodeProcess,
} from '../helpers/nodeProcess.js';
import {
  assertNoFailures,
  distinctBatches,
  duplicateProblems,
  getHealth,
  makeRecordBytes,
  verifyAcknowledged,
  waitFor,
  waitForNextStateDump,
  waitUntilAllAnchored,
  writeRecords,
  type AckedRecord,
} from './crashSupport.js';

/** anvil dumps its state every 5 s, so a kill shortly after a dump loses the anchors made since. */
const STATE_INTERVAL_S = 5;
/** Writes after a dump must be anchored and the kill done within this much of it, well before the next dump. */
const KILL_WINDOW_MS = 3_000;
const BATCH_SIZE = 100;
const BATCH_AGE_MS = 200;
const RECORDS_PER_ROUND = 300;
const NODE_ENV = {
  ANVIL_STATE_INTERVAL: String(STATE_INTERVAL_S),
  ANCHOR_BATCH_SIZE: String(BATCH_SIZE),
  ANCHOR_BATCH_AGE_MS: String(BATCH_AGE_MS),
};

/** Hands out writer numbers and record bytes across the rounds of one scenario. */
function recordSource(total: number) {
  const bytes = makeRecordBytes(total);
  let next = 0;
  return {
    bytesOf: (n: number) => bytes[n] as Buffer,
    take(count: number): number[] {
      if (next + count > total) throw new Error('the test ran out of prepared records');
      const items = Array.from({ length: count }, (_, i) => next + i);
      next += count;
      return items;
    },
  };
}

async function writeAll(
  node: NodeProcess,
  items: number[],
  bytesOf: (n: number) => Buffer,
  phase: string,
): Promise<AckedRecord[]> {
  const result = await writeRecords({ url: node.url, items, bytesOf, concurrency: 16, phase });
  assertNoFailures(
    result.failed.map((f) => `writer #${f.n}: ${f.error}`),
    `writes failed (${phase})`,
  );
  return result.acked;
}

/**
 * Waits for a fresh state dump, then writes a round of records and waits until they are anchored, all within
 * `KILL_WINDOW_MS` of the dump (retrying with the next dump if the box was too slow). Returns the records written
 * after the last dump: the ones whose anchors a kill of anvil right now loses.
 */
async function writeRightAfterADump(
  node: NodeProcess,
  source: ReturnType<typeof recordSource>,
  written: AckedRecord[],
): Promise<{ lost: AckedRecord[]; dumpAt: number }> {
  for (let attempt = 1; attempt <= 3; attempt++) {
    const dumpAt = await waitForNextStateDump(node.dataDir, (STATE_INTERVAL_S + 5) * 1_000);
    const acked = await writeAll(
      node,
      source.take(RECORDS_PER_ROUND),
      source.bytesOf,
      `after dump ${attempt}`,
    );
    written.push(...acked);
    await waitUntilAllAnchored(node.url, 20_000);
    if (Date.now() - dumpAt < KILL_WINDOW_MS) return { lost: acked, dumpAt };
  }
  throw new Error(
    `could not write and anchor ${RECORDS_PER_ROUND} records within ${KILL_WINDOW_MS} ms of a dump`,
  );
}

async function verifyEverything(node: NodeProcess, acked: AckedRecord[], health: HealthBody): Promise<void> {
  assertNoFailures(duplicateProblems(acked), 'duplicate acknowledgements');
  if (!health.chain.rpcUrl) throw new Error('the node reports no embedded chain RPC URL');
  const verification = await verifyAcknowledged(acked, {
    url: node.url,
    rpcUrl: health.chain.rpcUrl,
    anchorRegistry: health.contracts.anchorRegistry,
  });
  assertNoFailures(verification.failures, 'acknowledged records that are not stored and anchored intact');
  for (const sequence of distinctBatches(acked)) expect(verification.batches.has(sequence)).toBe(true);
}

describe('kill -9 of the embedded anvil (state dumped every 5 s)', () => {
  afterEach(async () => {
    await cleanupNodeProcesses();
  }, 60_000);

  it('restarts anvil from its older state, notices the lost anchors and re-anchors them', async () => {
    const node = await startNodeProcess({ dataDir: makeTempDataDir(), env: NODE_ENV });
    const source = recordSource(RECORDS_PER_ROUND * 4);
    const acked: AckedRecord[] = [];

    acked.push(...(await writeAll(node, source.take(RECORDS_PER_ROUND), source.bytesOf, 'first round')));
    const beforeHealth = await waitUntilAllAnchored(node.url, 20_000);
    const { lost, dumpAt } = await writeRightAfterADump(node, source, acked);
    const lostBatches = distinctBatches(lost);
    const latest = await getHealth(node.url);
    expect(latest.anchoring.submitter.reanchoredBatches).toBe(0);

    const anvilPid = anvilPidOf(node.dataDir);
    if (anvilPid === undefined) throw new Error('no anvil pid file');
    process.kill(anvilPid, 'SIGKILL');
    const killedAt = Date.now();
    expect(await waitForPidExit(anvilPid, 5_000), `anvil ${anvilPid} survived SIGKILL`).toBe(true);
    console.log(
      `[anvilKill] killed anvil ${killedAt - dumpAt} ms after its state dump; batches ` +
        `${lostBatches.join(', ')} (of ${latest.anchoring.batches.confirmed} confirmed, ` +
        `${beforeHealth.anchoring.batches.confirmed} before the dump) were anchored after it`,
    );

    // The node restarts anvil and notices the chain lost the batches anchored since the dump.
    let last: HealthBody | undefined;
    const restarted = await waitFor(
      'the node to restart anvil (health ok with a new anvil pid)',
      30_000,
      async () => {
        const pid = anvilPidOf(node.dataDir);
        last = await getHealth(node.url);
        return last.status === 'ok' && pid !== undefined && pid !== anvilPid && isAlive(pid)
          ? Date.now()
          : undefined;
      },
      { lastSeen: () => JSON.stringify(last?.chain ?? null) },
    );
    const noticed = await waitFor(
      'the node to re-anchor the lost batches',
      30_000,
      async () => {
        last = await getHealth(node.url);
        return last.anchoring.submitter.reanchoredBatches > 0 ? Date.now() : undefined;
      },
      { lastSeen: () => JSON.stringify(last?.anchoring ?? null) },
    );
    const health = await waitUntilAllAnchored(node.url, 30_000);
    const anchoredAt = Date.now();
    expect(health.anchoring.submitter.reanchoredBatches).toBeGreaterThanOrEqual(lostBatches.length);
    expect(node.process.exitCode, 'the node itself kept running').toBeNull();

    // Meanwhile the node keeps taking records, and every record, old or new, verifies on the restarted chain.
    acked.push(
      ...(await writeAll(node, source.take(RECORDS_PER_ROUND), source.bytesOf, 'after the restart')),
    );
    const finalHealth = await waitUntilAllAnchored(node.url, 20_000);
    await verifyEverything(node, acked, finalHealth);
    console.log(
      `[anvilKill] anvil back ${restarted - killedAt} ms after the kill; loss noticed after ${noticed - killedAt} ms; ` +
        `${health.anchoring.submitter.reanchoredBatches} batches re-anchored, all confirmed ` +
        `${anchoredAt - killedAt} ms after the kill; ${acked.length} records verified`,
    );
  }, 110_000);

  it('kill -9 of both the node and its anvil: after a restart everything acknowledged is anchored and verifiable', async () => {
    const dataDir = makeTempDataDir();
    const first = await startNodeProcess({ dataDir, env: NODE_ENV });
    const source = recordSource(RECORDS_PER_ROUND * 4 + 2_000);
    const acked: AckedRecord[] = [];

    acked.push(...(await writeAll(first, source.take(RECORDS_PER_ROUND), source.bytesOf, 'first round')));
    await waitUntilAllAnchored(first.url, 20_000);
    const { lost, dumpAt } = await writeRightAfterADump(first, source, acked);

    // A writer is busy when both processes are killed; what it got acknowledged must survive too.
    const anvilPid = anvilPidOf(dataDir);
    if (anvilPid === undefined) throw new Error('no anvil pid file');
    let killed = false;
    let killedAt = 0;
    const inFlight = await writeRecords({
      url: first.url,
      items: source.take(2_000),
      bytesOf: source.bytesOf,
      concurrency: 16,
      phase: 'while killed',
      stopped: () => killed,
      onAck: (_ack, acknowledged) => {
        if (killed || acknowledged < 300) return;
        killed = true;
        killedAt = Date.now();
        first.kill('SIGKILL');
        process.kill(anvilPid, 'SIGKILL');
      },
    });
    expect(killed, 'the writer never reached the kill point').toBe(true);
    expect(
      killedAt - dumpAt,
      'the kill must come before anvil’s next state dump, or the chain loses nothing',
    ).toBeLessThan(STATE_INTERVAL_S * 1_000);
    expect((await first.exited).signal).toBe('SIGKILL');
    expect(await waitForPidExit(anvilPid, 5_000), `anvil ${anvilPid} survived SIGKILL`).toBe(true);
    assertNoFailures(
      inFlight.failed.filter((f) => !f.expected).map((f) => `writer #${f.n}: ${f.error}`),
      'writes failed before the kill',
    );
    acked.push(...inFlight.acked);
    console.log(
      `[anvilKill] killed node and anvil ${killedAt - dumpAt} ms after anvil's state dump, with ` +
        `${inFlight.acked.length} records acknowledged by the busy writer and ${inFlight.failed.length} in flight`,
    );

    const second = await startNodeProcess({ dataDir, env: NODE_ENV });
    const listeningAt = Date.now();
    const rest = [...inFlight.failed.map((f) => f.n), ...inFlight.notSent];
    acked.push(...(await writeAll(second, rest, source.bytesOf, 'after the restart')));
    const health = await waitUntilAllAnchored(second.url, 30_000);
    const anchoredAt = Date.now();
    expect(
      health.anchoring.submitter.reanchoredBatches,
      `the restarted node must re-anchor the batches (${distinctBatches(lost).join(', ')}) the chain lost`,
    ).toBeGreaterThanOrEqual(distinctBatches(lost).length);
    await verifyEverything(second, acked, health);
    console.log(
      `[anvilKill] restarted node listening ${listeningAt - killedAt} ms after the kill; ` +
        `${health.anchoring.submitter.reanchoredBatches} batches re-anchored; all ${acked.length} records ` +
        `anchored ${anchoredAt - listeningAt} ms after it listened and verified`,
    );
  }, 110_000);
});
