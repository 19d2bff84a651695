import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiToken } from '../../src/auth/apiTokens.js';
import { authorizedFetch, startTestNode, type TestNode } from '../helpers/inProcessNode.js';

describe('bearer tokens on a real node', () => {
  let node: TestNode;
  beforeAll(async () => {
    node = await startTestNode();
  });
  afterAll(async () => {
    await node?.destroy();
  });

  const append = (token: string | null) =>
    fetch(`${node.url}/records?kind=test.auth`, {
      method: 'POST',
      headers: {
        'content-type': 'application/octet-stream',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: 'auth test',
    });

  async function problemCode(res: Response): Promise<string> {
    return ((await res.json()) as { code: string }).code;
  }

  it('keeps /health and /openapi.json public', async () => {
    expect((await fetch(`${node.url}/health`)).status).toBe(200);
    expect((await fetch(`${node.url}/openapi.json`)).status).toBe(200);
  });

  it('refuses data routes without a token, with a malformed header, or with an unknown token', async () => {
    let res = await append(null);
    expect(res.status).toBe(401);
    expect(await problemCode(res)).toBe('AUTH.MISSING_TOKEN');
    res = await fetch(`${node.url}/records/1`, { headers: { authorization: 'Basic abc' } });
    expect(res.status).toBe(401);
    expect(await problemCode(res)).toBe('AUTH.MALFORMED');
    res = await append('clt_' + 'A'.repeat(43));
    expect(res.status).toBe(401);
    expect(await problemCode(res)).toBe('AUTH.INVALID_TOKEN');
  });

  it('lets a clinician write and a reader only read', async () => {
    const clinician = createApiToken(node.tokens, { name: 'dr.jones', role: 'clinician' });
    const reader = createApiToken(node.tokens, { name: 'auditor', role: 'reader' });
    const created = await append(clinician.token);
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: number };

    const refused = await append(reader.token);
    expect(refused.status).toBe(403);
    expect(await problemCode(refused)).toBe('AUTH.FORBIDDEN');
    expect((await authorizedFetch(node.url, reader.token, `/records/${id}`)).status).toBe(200);
  });

  it('refuses revoked and expired tokens', async () => {
    const revoked = createApiToken(node.tokens, { name: 'leaver', role: 'clinician' });
    expect(node.tokens.revokeToken('leaver', Date.now())).toBe(1);
    let res = await append(revoked.token);
    expect(res.status).toBe(401);
    expect(await problemCode(res)).toBe('AUTH.REVOKED_TOKEN');

    const expired = createApiToken(node.tokens, {
      name: 'temp',
      role: 'clinician',
      expiresInDays: 1,
      now: Date.now() - 2 * 86_400_000,
    });
    res = await append(expired.token);
    expect(res.status).toBe(401);
    expect(await problemCode(res)).toBe('AUTH.EXPIRED_TOKEN');
  });
});
