import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { privateKeyToAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiToken } from '../../src/auth/apiTokens.js';
import {
  patientKeygenCommand,
  patientLinkCommand,
  type PatientLinkOptions,
} from '../../src/cli/patientKeys.js';
import { startTestNode, type TestNode } from '../helpers/inProcessNode.js';
import { captureCli } from './cliOutput.js';

const FHIR_JSON = { 'content-type': 'application/fhir+json' };

describe('careledger patient keygen and link, against a real gateway', () => {
  let node: TestNode;
  let dir: string;
  const keygen = (out: string, force = false) =>
    captureCli(() => Promise.resolve(patientKeygenCommand({ out, force, json: true })));
  const link = (id: string, key: string, options: Partial<PatientLinkOptions> = {}) =>
    captureCli(() =>
      patientLinkCommand(id, { url: node.url, token: node.token, key, json: true, ...options }),
    );
  const createPatient = async (id: string) => {
    const res = await node.api(`/fhir/Patient/${id}`, {
      method: 'PUT',
      headers: FHIR_JSON,
      body: JSON.stringify({ resourceType: 'Patient', id, name: [{ family: 'Linked' }] }),
    });
    expect(res.status).toBe(201);
  };
  const addressOf = (file: string) =>
    privateKeyToAccount(readFileSync(file, 'utf8').trim() as `0x${string}`).address;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'careledger-patient-keys-'));
    node = await startTestNode();
    await createPatient('alice');
    await createPatient('bob');
  });
  afterAll(async () => {
    await node?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keygen writes a 0600 key file, prints its address, and never overwrites one silently', async () => {
    const file = join(dir, 'alice.key');
    const run = await keygen(file);
    expect(run.code).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(run.stdout).address).toBe(addressOf(file));
    const before = readFileSync(file, 'utf8');
    const again = await keygen(file);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already exists; a patient key is never overwritten/);
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('links a key to a Patient with a clinician token; the link is readable; linking again changes nothing', async () => {
    const file = join(dir, 'alice.key');
    const clinician = createApiToken(node.tokens, { name: 'front-desk', role: 'clinician' });
    const first = await link('alice', file, { token: clinician.token });
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ linked: true, created: true, address: addressOf(file) });
    const shown = await node.api('/admin/patients/alice/link');
    expect(shown.status).toBe(200);
    const body = (await shown.json()) as { address: string; statement: string };
    expect(body.address).toBe(addressOf(file));
    expect(body.statement).toContain(`Organization: ${node.organization}`);
    const again = await link('alice', file);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ linked: true, created: false });
  });

  it('refuses a second key for a Patient, a key already used by another Patient, and an unknown Patient', async () => {
    const second = join(dir, 'second.key');
    expect((await keygen(second)).code).toBe(0);
    const other = await link('alice', second);
    expect(other.code).toBe(1);
    expect(JSON.parse(other.stdout).message).toMatch(
      /already linked to 0x[0-9a-fA-F]{40}; a Patient has one key/,
    );
    const reused = await link('bob', join(dir, 'alice.key'));
    expect(reused.code).toBe(1);
    expect(JSON.parse(reused.stdout).message).toMatch(/already linked to another Patient/);
    const unknown = await link('nobody', second);
    expect(unknown.code).toBe(1);
    expect(JSON.parse(unknown.stdout).status).toBe(404);
    expect((await node.api('/admin/patients/bob/link')).status).toBe(404);
  });

  it('refuses a key file other users can read, and a reader token', async () => {
    const loose = join(dir, 'loose.key');
    expect((await keygen(loose)).code).toBe(0);
    chmodSync(loose, 0o644);
    const run = await link('bob', loose);
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout).message).toMatch(/readable by other users .*chmod 600/);
    chmodSync(loose, 0o600);
    const reader = createApiToken(node.tokens, { name: 'auditor', role: 'reader' });
    const refused = await link('bob', loose, { token: reader.token });
    expect(refused.code).toBe(2);
    expect(JSON.parse(refused.stdout).status).toBe(403);
  });

  it('answers a forged or malformed link request with a problem that says what is wrong, and stores nothing', async () => {
    const post = (body: unknown) =>
      node.api('/admin/patients/bob/link', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const forged = await post({
      address: node.organization,
      issuedAt: new Date().toISOString(),
      signature: `0x${'11'.repeat(65)}`,
    });
    expect(forged.status).toBe(400);
    expect(((await forged.json()) as { detail: string }).detail).toMatch(/signature/);
    const missing = await post({ address: node.organization });
    expect(missing.status).toBe(400);
    const stale = await post({
      address: node.organization,
      issuedAt: '2020-01-01T00:00:00Z',
      signature: `0x${'11'.repeat(65)}`,
    });
    expect(stale.status).toBe(400);
    expect(((await stale.json()) as { detail: string }).detail).toMatch(/sign a fresh one/);
    expect((await node.api('/admin/patients/bob/link')).status).toBe(404);
  });
});
