import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiToken } from '../../src/auth/apiTokens.js';
import { patientEraseCommand, type PatientEraseOptions } from '../../src/cli/patient.js';
import { startTestNode, type TestNode } from '../helpers/inProcessNode.js';
import { freePort } from '../helpers/testAnvil.js';
import { captureCli } from './cliOutput.js';

const FHIR_JSON = { 'content-type': 'application/fhir+json' };

describe('careledger patient erase', () => {
  let node: TestNode;
  const erase = (id: string, options: Partial<PatientEraseOptions> = {}) =>
    captureCli(() => patientEraseCommand(id, { url: node.url, token: node.token, ...options }));
  const put = async (resource: { resourceType: string; id: string; [key: string]: unknown }) => {
    const res = await node.api(`/fhir/${resource.resourceType}/${resource.id}`, {
      method: 'PUT',
      headers: FHIR_JSON,
      body: JSON.stringify(resource),
    });
    expect(res.status).toBe(201);
  };

  beforeAll(async () => {
    node = await startTestNode();
    await put({ resourceType: 'Patient', id: 'erase-me', name: [{ family: 'Gone' }] });
    await put({
      resourceType: 'Observation',
      id: 'erase-me-obs',
      status: 'final',
      code: { text: 'weight' },
      subject: { reference: 'Patient/erase-me' },
    });
  });
  afterAll(async () => {
    await node?.destroy();
  });

  it('refuses a clinician token with 403 and erases nothing', async () => {
    const clinician = createApiToken(node.tokens, { name: 'dr.erase', role: 'clinician' });
    const result = await erase('erase-me', { token: clinician.token });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/may not erase patients; erasure needs an admin token/);
    expect(result.stderr).toMatch(/The role "clinician" may not administer this gateway here/);
    expect((await node.api('/fhir/Patient/erase-me')).status).toBe(200);
  });

  it('refuses an unknown token with the server’s message', async () => {
    const result = await erase('erase-me', { token: 'not-a-token' });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('refused the token: The bearer token is not known to this gateway.');
  });

  it('erases with an admin token: the patient and their data then read 410', async () => {
    const result = await erase('erase-me');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Erased Patient/erase-me');
    expect(result.stdout).toContain('2 resources (every version) can no longer be read');
    expect((await node.api('/fhir/Patient/erase-me')).status).toBe(410);
    expect((await node.api('/fhir/Observation/erase-me-obs')).status).toBe(410);
    const search = (await (await node.api('/fhir/Observation?patient=erase-me')).json()) as { total: number };
    expect(search.total).toBe(0);

    const again = await erase('erase-me', { json: true });
    expect(again.code).toBe(1);
    const body = JSON.parse(again.stdout);
    expect(body).toMatchObject({ erased: false, patient: 'Patient/erase-me', status: 410 });
    expect(body.message).toMatch(/already erased/);
  });

  it('answers 404 for a patient with no data, and refuses ids that are not FHIR ids', async () => {
    const unknown = await erase('nobody-here');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/holds no data for Patient\/nobody-here; nothing was erased/);

    const bad = await erase('Patient/abc');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/is not a FHIR id/);
  });

  it('exits 2 when the gateway is unreachable', async () => {
    const port = await freePort();
    const result = await erase('erase-me', { url: `http://127.0.0.1:${port}` });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/Cannot reach the gateway/);
  });
});
