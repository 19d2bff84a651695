import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, type TestNode } from '../helpers/inProcessNode.js';
import { linkPatientKey } from '../helpers/patientConsent.js';

const FHIR_JSON = { 'content-type': 'application/fhir+json' };
const JSON_BODY = { 'content-type': 'application/json' };

describe('a patient signs in with their key and reads their own record over HTTP', () => {
  let node: TestNode;
  const alice = privateKeyToAccount(generatePrivateKey());
  const post = (path: string, body: unknown) =>
    fetch(`${node.url}${path}`, { method: 'POST', headers: JSON_BODY, body: JSON.stringify(body) });

  beforeAll(async () => {
    node = await startTestNode();
    for (const r of [
      { resourceType: 'Patient', id: 'alice', name: [{ family: 'Alice' }] },
      { resourceType: 'Patient', id: 'bob', name: [{ family: 'Bob' }] },
    ]) {
      const res = await node.api(`/fhir/Patient/${r.id}`, {
        method: 'PUT',
        headers: FHIR_JSON,
        body: JSON.stringify(r),
      });
      expect(res.status).toBe(201);
    }
    expect(await linkPatientKey(node, 'alice', alice)).toBe(201);
  });
  afterAll(async () => {
    await node?.destroy();
  });

  it('challenge → signature → token → own Patient only; a replayed signature is refused', async () => {
    const challenge = (await (await post('/auth/patient/challenge', { address: alice.address })).json()) as {
      nonce: string;
      message: string;
    };
    const signature = await alice.signMessage({ message: challenge.message });
    const res = await post('/auth/patient/token', {
      address: alice.address,
      nonce: challenge.nonce,
      signature,
    });
    expect(res.status).toBe(200);
    const session = (await res.json()) as { token: string; tokenType: string; patient: string };
    expect(session).toMatchObject({ tokenType: 'Bearer', patient: 'Patient/alice' });
    const read = (path: string) =>
      fetch(`${node.url}/fhir/${path}`, { headers: { authorization: `Bearer ${session.token}` } });
    expect((await read('Patient/alice')).status).toBe(200);
    expect((await read('Patient/bob')).status).toBe(403);
    expect(((await (await read('Patient')).json()) as { total: number }).total).toBe(1);
    const replay = await post('/auth/patient/token', {
      address: alice.address,
      nonce: challenge.nonce,
      signature,
    });
    expect(replay.status).toBe(401);
    expect(((await replay.json()) as { detail: string }).detail).toMatch(/unknown, used, expired/);
  });

  it('answers malformed sign-in requests with a problem, not a crash', async () => {
    expect((await post('/auth/patient/challenge', { address: 'nope' })).status).toBe(400);
    expect((await post('/auth/patient/challenge', {})).status).toBe(400);
    const bad = await post('/auth/patient/token', { address: alice.address, nonce: 'x', signature: '0x00' });
    expect(bad.status).toBe(401);
  });
});
