import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, type TestNode } from '../helpers/inProcessNode.js';

describe('FHIR edge cases get OperationOutcomes with the right status', () => {
  let node: TestNode;
  const fhir = (path: string, method = 'GET', body?: unknown) =>
    node.api(`/fhir${path}`, {
      method,
      headers: { 'content-type': 'application/fhir+json' },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
  async function outcome(res: Response): Promise<{ status: number; text: string }> {
    expect(res.headers.get('content-type')).toMatch(/^application\/fhir\+json/);
    const body: any = await res.json();
    expect(body.resourceType).toBe('OperationOutcome');
    return { status: res.status, text: body.issue.map((i: any) => i.details?.text ?? '').join(' ') };
  }

  beforeAll(async () => {
    node = await startTestNode();
  });
  afterAll(async () => {
    await node?.destroy();
  });

  it('refuses a calendar date that does not exist (it could not be searched)', async () => {
    const res = await fhir('/Patient', 'POST', { resourceType: 'Patient', birthDate: '1970-02-30' });
    const { status, text } = await outcome(res);
    expect(status).toBe(400);
    expect(text).toMatch(/birthdate/);
  });

  it('refuses a urn:uuid reference that no entry of the Bundle resolves', async () => {
    const res = await fhir('/', 'POST', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          fullUrl: 'urn:uuid:4a0e3c52-0c3e-4a3b-8d1e-3f1f3b1d2c01',
          resource: {
            resourceType: 'Observation',
            status: 'final',
            code: { text: 'x' },
            subject: { reference: 'urn:uuid:00000000-0000-4000-8000-000000000000' },
          },
          request: { method: 'POST', url: 'Observation' },
        },
      ],
    });
    const { status, text } = await outcome(res);
    expect(status).toBe(422);
    expect(text).toMatch(/does not resolve/);
    const search: any = await (await fhir('/Observation')).json();
    expect(search.total).toBe(0);
  });

  it('refuses conditional entries instead of silently ignoring them', async () => {
    const res = await fhir('/', 'POST', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          resource: { resourceType: 'Organization', name: 'General Hospital' },
          request: { method: 'POST', url: 'Organization', ifNoneExist: 'identifier=https://example.org|1' },
        },
      ],
    });
    const { status, text } = await outcome(res);
    expect(status).toBe(400);
    expect(text).toMatch(/Conditional requests/);
  });

  it('answers a malformed URL and an unsupported method with OperationOutcomes', async () => {
    expect((await outcome(await fhir('/Patient/%ZZ'))).status).toBe(400);
    expect((await outcome(await fhir('/Patient/1', 'PATCH', '[]'))).status).toBe(405);
  });

  it('says plainly that an array is not a resource', async () => {
    const { status, text } = await outcome(await fhir('/Patient', 'POST', []));
    expect(status).toBe(400);
    expect(text).toMatch(/JSON object with a resourceType/);
  });
});
