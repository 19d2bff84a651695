import { randomInt } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import {
  anvilPidOf,
  cleanupNodeProcesses,
  isAlive,
  makeTempDataDir,
  startNodeProcess,
} from '../helpers/nodeProcess.js';
import {
  assertNoFailures,
  distinctBatches,
  duplicateProblems,
  getBatch,
  makeRecordBytes,
  verifyAcknowledged,
  waitFor,
  waitUntilAllAnchored,
  writeRecords,
  type AckedRecord,
} from './crashSupport.js';

const TOTAL = 10_000;
const CONCURRENCY = 32;
const BATCH_SIZE = 1_000;
const BATCH_AGE_MS = 500;
/** Room for the restart itself (tsx start-up, stopping the orphaned anvil, starting a new one) on a slow box. */
const RESTART_ALLOWANCE_MS = 15_000;

const NODE_ENV = { ANCHOR_BATCH_SIZE: String(BATCH_SIZE), ANCHOR_BATCH_AGE_MS: String(BATCH_AGE_MS) };

describe('kill -9 of the gateway while a writer sends 10,000 records', () => {
  afterEach(async () => {
    await cleanupNodeProcesses();
  }, 60_000);

  it('after a restart, stores every acknowledged record and anchors it with a valid proof', async () => {
    const dataDir = makeTempDataDir();
    const bytes = makeRecordBytes(TOTAL);
    const bytesOf = (n: number) => bytes[n] as Buffer;
    const everyRecord = Array.from({ length: TOTAL }, (_, n) => n);

    // 1. Write until 4,000–6,000 records are acknowledged, then SIGKILL the node with requests in flight.
    const first = await startNodeProcess({ dataDir, env: NODE_ENV });
    const killAfter = 4_000 + randomInt(2_001);
    let killed = false;
    const beforeKill = await writeRecords({
      url: first.url,
      items: everyRecord,
      bytesOf,
      concurrency: CONCURRENCY,
      phase: 'before the kill',
      stopped: () => killed,
      onAck: (_ack, acknowledged) => {
        if (!killed && acknowledged >= killAfter) {
          killed = true;
          first.kill('SIGKILL');
        }
      },
    });
    const exit = await first.exited;
    expect(killed, 'the writer never reached the kill point').toBe(true);
    expect(exit.signal).toBe('SIGKILL');
    assertNoFailures(
      beforeKill.failed.filter((f) => !f.expected).map((f) => `writer #${f.n}: ${f.error}`),
      'writes failed before the node was killed',
    );
    const inFlight = beforeKill.failed.length;
    expect(inFlight, 'no request was in flight when the node was killed').toBeGreaterThan(0);
    const orphanAnvil = anvilPidOf(dataDir);
    expect(orphanAnvil !== undefined && isAlive(orphanAnvil), 'the killed node’s anvil keeps running').toBe(
      true,
    );
    console.log(
      `[gatewayKill] killed the node at ${beforeKill.acked.length} acknowledged records (target ${killAfter}); ` +
        `${inFlight} requests failed in flight, ${beforeKill.notSent.length} not sent yet`,
    );

    // 2. Restart on the same data folder; send the rest while timing how long the pre-kill records take to anchor.
    const preKillBatches = distinctBatches(beforeKill.acked);
    const restartedAt = Date.now();
    const second = await startNodeProcess({ dataDir, env: NODE_ENV });
    const listeningAt = Date.now();
    expect(isAlive(orphanAnvil as number), 'the restarted node stopped the orphaned anvil').toBe(false);
    expect(anvilPidOf(dataDir)).not.toBe(orphanAnvil);

    const unconfirmed = new Set(preKillBatches);
    const preKillConfirmed = waitFor(
      `the ${preKillBatches.length} batches holding pre-kill records to be confirmed`,
      BATCH_AGE_MS + RESTART_ALLOWANCE_MS + 30_000,
      async () => {
        for (const sequence of [...unconfirmed]) {
          if ((await getBatch(second.url, sequence)).state !== 'confirmed') return undefined;
          unconfirmed.delete(sequence);
        }
        return Date.now();
      },
      { lastSeen: () => `unconfirmed batches ${[...unconfirmed].join(', ')}` },
    );
    preKillConfirmed.catch(() => undefined); // awaited below; this only keeps an early failure from going unhandled
    const rest = [...beforeKill.failed.map((f) => f.n), ...beforeKill.notSent].sort((a, b) => a - b);
    const afterRestart = await writeRecords({
      url: second.url,
      items: rest,
      bytesOf,
      concurrency: CONCURRENCY,
      phase: 'after the restart',
    });
    const writtenAt = Date.now();
    const confirmedAt = await preKillConfirmed;
    assertNoFailures(
      afterRestart.failed.map((f) => `writer #${f.n}: ${f.error}`),
      'writes failed after the restart',
    );

    const acked: AckedRecord[] = [...beforeKill.acked, ...afterRestart.acked];
    expect(acked.length).toBe(TOTAL);
    assertNoFailures(duplicateProblems(acked), 'duplicate acknowledgements');

    // 3. Everything anchored, then every acknowledged record checked against the node and the chain.
    const health = await waitUntilAllAnchored(second.url, 60_000);
    const anchoredAt = Date.now();
    if (!health.chain.rpcUrl) throw new Error('the node reports no embedded chain RPC URL');
    const verification = await verifyAcknowledged(acked, {
      url: second.url,
      rpcUrl: health.chain.rpcUrl,
      anchorRegistry: health.contracts.anchorRegistry,
      concurrency: 32,
    });
    assertNoFailures(verification.failures, 'acknowledged records that are not stored and anchored intact');
    for (const sequence of distinctBatches(acked)) expect(verification.batches.has(sequence)).toBe(true);

    const sinceRestart = confirmedAt - restartedAt;
    const sinceListening = confirmedAt - listeningAt;
    console.log(
      `[gatewayKill] restart took ${listeningAt - restartedAt} ms; the ${preKillBatches.length} pre-kill batches ` +
        `were confirmed ${sinceRestart} ms after the restart began (${sinceListening} ms after it listened); ` +
        `the other ${afterRestart.acked.length} records were written in ${writtenAt - listeningAt} ms and all ` +
        `${acked.length} anchored ${anchoredAt - listeningAt} ms after listening, in ` +
        `${health.anchoring.batches.confirmed} batches; verification took ${Date.now() - anchoredAt} ms`,
    );
    expect(
      sinceRestart,
      `pre-kill records must be anchored within the batch age (${BATCH_AGE_MS} ms) plus ${RESTART_ALLOWANCE_MS} ms for the restart`,
    ).toBeLessThanOrEqual(BATCH_AGE_MS + RESTART_ALLOWANCE_MS);
  }, 110_000);
});
