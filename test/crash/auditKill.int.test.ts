import { Pool } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupNodeProcesses, makeTempDataDir, startNodeProcess } from '../helpers/nodeProcess.js';
import { TEST_AUTH } from '../helpers/testToken.js';

const OBSERVATIONS = 20;
const CONCURRENCY = 16;
/** Reads answered before the kill. */
const KILL_AFTER = 600;
const NODE_ENV = { FHIR_VALIDATION_WORKERS: '1', ANCHOR_BATCH_AGE_MS: '300' };
const FHIR_JSON = 'application/fhir+json';

/**
 * Reads are audited before they are answered: kill -9 the gateway while clients read, restart it, and every read
 * that was answered 200 has its AuditEvent (there may be more: reads recorded whose answer the kill cut off).
 */
describe('kill -9 of the gateway while clients read a patient record', () => {
  afterEach(async () => {
    await cleanupNodeProcesses();
  }, 60_000);

  it('after a restart, every answered read is in the patient’s access audit trail', async () => {
    const dataDir = makeTempDataDir();
    const first = await startNodeProcess({ dataDir, env: NODE_ENV });
    const headers = { ...TEST_AUTH, 'content-type': FHIR_JSON };
    const put = async (url: string, path: string, body: object) => {
      const res = await fetch(`${url}/fhir/${path}`, { method: 'PUT', headers, body: JSON.stringify(body) });
      expect(res.status, path).toBe(201);
    };
    await put(first.url, 'Patient/pk', { resourceType: 'Patient', id: 'pk', name: [{ family: 'Killed' }] });
    for (let i = 0; i < OBSERVATIONS; i++) {
      await put(first.url, `Observation/ok-${i}`, {
        resourceType: 'Observation',
        id: `ok-${i}`,
        status: 'final',
        code: { text: 'pulse' },
        subject: { reference: 'Patient/pk' },
      });
    }

    const answered = new Map<string, number>();
    let ok = 0;
    let next = 0;
    const pool = new Pool(first.url, { connections: CONCURRENCY, pipelining: 1 });
    const lane = async () => {
      while (ok < KILL_AFTER * 4) {
        const entity = `Observation/ok-${next++ % OBSERVATIONS}/_history/1`;
        try {
          const res = await pool.request({
            path: `/fhir/${entity.replace('/_history/1', '')}`,
            method: 'GET',
            headers: TEST_AUTH,
          });
          await res.body.dump();
          if (res.statusCode !== 200) continue;
          ok++;
          answered.set(entity, (answered.get(entity) ?? 0) + 1);
          if (ok === KILL_AFTER) first.kill('SIGKILL');
        } catch {
          return; // the gateway is gone
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, lane));
    await first.exited;
    await pool.close().catch(() => undefined);
    expect(ok).toBeGreaterThanOrEqual(KILL_AFTER);

    const second = await startNodeProcess({ dataDir, env: NODE_ENV });
    const recorded = new Map<string, number>();
    for (let offset = 0; ; offset += 500) {
      const res = await fetch(`${second.url}/fhir/AuditEvent?patient=pk&_count=500&_offset=${offset}`, {
        headers: TEST_AUTH,
      });
      expect(res.status).toBe(200);
      const page = (await res.json()) as {
        entry?: { resource: { outcome: string; entity: { what?: { reference?: string } }[] } }[];
      };
      const entries = page.entry ?? [];
      for (const { resource } of entries) {
        const what = resource.entity[0]?.what?.reference;
        if (resource.outcome === '0' && what) recorded.set(what, (recorded.get(what) ?? 0) + 1);
      }
      if (entries.length < 500) break;
    }
    const missing = [...answered].filter(([entity, n]) => (recorded.get(entity) ?? 0) < n);
    expect(missing).toEqual([]);
    await second.stop();
  }, 120_000);
});
