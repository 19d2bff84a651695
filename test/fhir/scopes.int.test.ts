import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiToken } from '../../src/auth/apiTokens.js';
import { startTestNode, type TestNode } from '../helpers/inProcessNode.js';

const FHIR_JSON = 'application/fhir+json';

describe('SMART scopes and patient tokens on the FHIR API', () => {
  let node: TestNode;
  const as =
    (token: string) =>
    (path: string, init: RequestInit = {}) =>
      fetch(`${node.url}/fhir/${path}`, {
        ...init,
        headers: { authorization: `Bearer ${token}`, 'content-type': FHIR_JSON, ...(init.headers ?? {}) },
      });
  const message = async (res: Response) =>
    ((await res.json()) as { issue: { details?: { text?: string } }[] }).issue[0]?.details?.text ?? '';
  const put = (resource: { resourceType: string; id: string; [k: string]: unknown }) =>
    node.api(`/fhir/${resource.resourceType}/${resource.id}`, {
      method: 'PUT',
      headers: { 'content-type': FHIR_JSON },
      body: JSON.stringify(resource),
    });
  const observation = (id: string, patient: string) => ({
    resourceType: 'Observation',
    id,
    status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
    subject: { reference: `Patient/${patient}` },
  });

  beforeAll(async () => {
    node = await startTestNode();
    for (const r of [
      { resourceType: 'Patient', id: 'alice', name: [{ family: 'Alice' }] },
      { resourceType: 'Patient', id: 'bob', name: [{ family: 'Bob' }] },
      { resourceType: 'Practitioner', id: 'dr-who', name: [{ family: 'Who' }] },
      observation('obs-alice', 'alice'),
      observation('obs-bob', 'bob'),
    ]) {
      expect((await put(r)).status).toBe(201);
    }
  });
  afterAll(async () => {
    await node?.destroy();
  });

  it('a reader scoped to Observation reads Observations only, and is told why otherwise', async () => {
    const fhir = as(
      createApiToken(node.tokens, { name: 'obs-reader', role: 'reader', scopes: 'user/Observation.read' })
        .token,
    );
    expect((await fhir('Observation/obs-bob')).status).toBe(200);
    expect(((await (await fhir('Observation')).json()) as { total: number }).total).toBe(2);
    const refused = await fhir('Patient/alice');
    expect(refused.status).toBe(403);
    expect(await message(refused)).toBe(
      "This token's scopes (user/Observation.read) do not allow reading Patient.",
    );
    expect((await fhir('Patient?name=Alice')).status).toBe(403);
  });

  it('a clinician scoped to write Observations cannot write a Patient, alone or inside a transaction', async () => {
    const fhir = as(
      createApiToken(node.tokens, { name: 'lab-robot', role: 'clinician', scopes: 'user/Observation.cruds' })
        .token,
    );
    const created = await fhir('Observation', {
      method: 'POST',
      body: JSON.stringify(observation('x', 'alice')),
    });
    expect(created.status).toBe(201);
    const patient = await fhir('Patient', {
      method: 'POST',
      body: JSON.stringify({ resourceType: 'Patient' }),
    });
    expect(patient.status).toBe(403);
    expect(await message(patient)).toMatch(/do not allow writing Patient/);
    const bundle = await fhir('', {
      method: 'POST',
      body: JSON.stringify({
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          {
            resource: observation('in-bundle', 'alice'),
            request: { method: 'PUT', url: 'Observation/in-bundle' },
          },
          {
            resource: { resourceType: 'Patient', id: 'carol' },
            request: { method: 'PUT', url: 'Patient/carol' },
          },
        ],
      }),
    });
    expect(bundle.status).toBe(403);
    expect((await node.api('/fhir/Observation/in-bundle')).status).toBe(404);
    expect((await node.api('/fhir/Patient/carol')).status).toBe(404);
  });

  it("a patient's token reads exactly their own record", async () => {
    const fhir = as(
      createApiToken(node.tokens, { name: 'alice-app', role: 'patient', subject: 'Patient/alice' }).token,
    );
    expect((await fhir('Patient/alice')).status).toBe(200);
    expect((await fhir('Observation/obs-alice')).status).toBe(200);
    expect((await fhir('Observation/obs-alice/_history/1')).status).toBe(200);
    for (const path of ['Patient/bob', 'Observation/obs-bob', 'Observation/obs-bob/_history/1']) {
      const res = await fhir(path);
      expect(res.status, path).toBe(403);
      expect(await message(res)).toMatch(/is not part of Patient\/alice's record/);
    }
    // Alice has obs-alice and the one the lab robot posted for her; Bob's is not among them.
    const observations = (await (await fhir('Observation')).json()) as {
      total: number;
      entry: { resource: { id: string; subject: { reference: string } } }[];
    };
    expect(observations.total).toBe(2);
    expect(observations.entry.every((e) => e.resource.subject.reference === 'Patient/alice')).toBe(true);
    expect(observations.entry.map((e) => e.resource.id)).toContain('obs-alice');
    const patients = (await (await fhir('Patient')).json()) as { total: number };
    expect(patients.total).toBe(1);
    expect(((await (await fhir('Patient?_id=bob')).json()) as { total: number }).total).toBe(0);
    expect((await fhir('Practitioner')).status).toBe(403);
    expect((await fhir('Observation/_history')).status).toBe(403);
    const write = await fhir('Observation', {
      method: 'POST',
      body: JSON.stringify(observation('y', 'alice')),
    });
    expect(write.status).toBe(403);
  });
});
