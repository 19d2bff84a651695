import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestNode, type TestNode } from '../helpers/inProcessNode.js';

/**
 * Writes are checked (validated, canonicalised, indexed) on a worker before they are prepared, for the version
 * expected at that moment. Concurrent updates of one resource take versions from each other in between: every
 * stored version must still carry its own versionId, hash to what was anchored, and the index must be the last one.
 */
describe('concurrent updates of one resource through the validation workers', () => {
  let node: TestNode;
  const fhir = (path: string, init: RequestInit = {}) =>
    node.api(`/fhir/${path}`, {
      ...init,
      headers: { 'content-type': 'application/fhir+json', ...(init.headers ?? {}) },
    });

  beforeAll(async () => {
    node = await startTestNode({ FHIR_VALIDATION_WORKERS: '1' });
  });
  afterAll(async () => {
    await node?.destroy();
  });

  it('gives each update its own version, stores each with its versionId and anchored hash, indexes the last', async () => {
    const created = await fhir('Patient', {
      method: 'POST',
      body: JSON.stringify({ resourceType: 'Patient', name: [{ family: 'Original' }] }),
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };

    const families = Array.from({ length: 12 }, (_, i) => `Concurrent${String.fromCharCode(65 + i)}`);
    const answers = await Promise.all(
      families.map((family) =>
        fhir(`Patient/${id}`, {
          method: 'PUT',
          body: JSON.stringify({ resourceType: 'Patient', id, name: [{ family }] }),
        }).then(async (res) => ({ status: res.status, body: (await res.json()) as any })),
      ),
    );
    for (const a of answers) expect(a.status).toBe(200);
    const versions = answers.map((a) => Number(a.body.meta.versionId)).sort((x, y) => x - y);
    expect(versions).toEqual(Array.from({ length: 12 }, (_, i) => i + 2));

    const familyOf = new Map<number, string>();
    for (const a of answers) {
      const version = Number(a.body.meta.versionId);
      const res = await fhir(`Patient/${id}/_history/${version}`);
      expect(res.status).toBe(200);
      const bytes = new Uint8Array(await res.arrayBuffer());
      const stored = JSON.parse(new TextDecoder().decode(bytes));
      expect(stored.meta.versionId).toBe(String(version));
      expect(stored.name[0].family).toBe(a.body.name[0].family);
      familyOf.set(version, stored.name[0].family);
      const proof: any = await eventually(async () => {
        const p = await fhir(`Patient/${id}/_history/${version}/$proof`);
        return p.status === 200 ? p.json() : undefined;
      }, `the proof of version ${version}`);
      expect(proof.record.contentHash).toBe(`0x${createHash('sha256').update(bytes).digest('hex')}`);
    }

    const latest = familyOf.get(13) as string;
    const search = async (family: string) =>
      ((await (await fhir(`Patient?family=${family}`)).json()) as { total: number }).total;
    expect(await search(latest)).toBe(1);
    for (const family of [...families.filter((f) => f !== latest), 'Original'])
      expect(await search(family)).toBe(0);
  }, 60_000);
});
