import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { keccak256, toBytes, type Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiToken } from '../../src/auth/apiTokens.js';
import { scopeHash } from '../../src/consent/consentTypedData.js';
import { createChainClients } from '../../src/ledger/chainClients.js';
import { ViemConsentRegistry } from '../../src/ledger/viemConsentRegistry.js';
import { eventually, startTestNode, type TestNode } from '../helpers/inProcessNode.js';
import { chainIdOf, grantConsent, linkPatientKey, revokeConsent } from '../helpers/patientConsent.js';

const FHIR_JSON = { 'content-type': 'application/fhir+json' };

/**
 * Consent enforced on staff reads, end to end: a real node with enforcement on, patients' consents on the real
 * ConsentRegistry (signed by the patients' keys, relayed by the gateway), reads and searches over HTTP.
 */
describe('consent is enforced at every staff read', () => {
  let node: TestNode;
  let clinician: string;
  let chainId: number;
  const alice = privateKeyToAccount(generatePrivateKey());
  const bob = privateKeyToAccount(generatePrivateKey());
  /** The registry reached directly, not through this gateway: stands for a relay by another gateway. */
  let elsewhere: ViemConsentRegistry;

  const read = (path: string, headers: Record<string, string> = {}) =>
    fetch(`${node.url}/fhir/${path}`, { headers: { authorization: `Bearer ${clinician}`, ...headers } });
  const text = async (res: Response) =>
    ((await res.json()) as { issue: { details?: { text?: string } }[] }).issue
      .map((i) => i.details?.text)
      .join(' ');
  const put = async (resource: { resourceType: string; id: string; [k: string]: unknown }) => {
    const res = await node.api(`/fhir/${resource.resourceType}/${resource.id}`, {
      method: 'PUT',
      headers: FHIR_JSON,
      body: JSON.stringify(resource),
    });
    expect(res.status).toBe(201);
  };
  const link = async (patientId: string, account: typeof alice) =>
    expect(await linkPatientKey(node, patientId, account)).toBe(201);
  const grant = (account: typeof alice, scopes: string[], purposes: number): Promise<bigint> =>
    grantConsent(node, account, { grantee: node.organization, scopes: scopes.map(scopeHash), purposes });
  const revokeVia = (ledger: Pick<ViemConsentRegistry, 'nonceOf' | 'domain' | 'relayRevoke'>, id: bigint) =>
    revokeConsent(ledger, alice, id);

  beforeAll(async () => {
    node = await startTestNode({ CONSENT_ENFORCEMENT: 'on' });
    chainId = await chainIdOf(node.url);
    clinician = createApiToken(node.tokens, { name: 'dr.house', role: 'clinician' }).token;
    await put({ resourceType: 'Patient', id: 'alice', name: [{ family: 'Alice' }] });
    await put({ resourceType: 'Patient', id: 'bob', name: [{ family: 'Bob' }] });
    const vital = (id: string, patient: string) => ({
      resourceType: 'Observation',
      id,
      status: 'final',
      category: [
        {
          coding: [
            { system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' },
          ],
        },
      ],
      code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
      subject: { reference: `Patient/${patient}` },
      effectiveDateTime: '2026-01-01T10:00:00Z',
    });
    await put(vital('obs-alice', 'alice'));
    await put(vital('obs-bob', 'bob'));
    await put({
      resourceType: 'Condition',
      id: 'cond-alice',
      subject: { reference: 'Patient/alice' },
      code: { text: 'asthma' },
    });
    await link('alice', alice);
    await link('bob', bob);
    const key = readFileSync(join(node.dataDir, 'keys', 'org-chain.key'), 'utf8').trim() as Hex;
    elsewhere = new ViemConsentRegistry(
      createChainClients(node.rpcUrl, chainId, key),
      node.deployment().consentRegistry,
    );
  });
  afterAll(async () => {
    await node?.destroy();
  });

  it('refuses a clinician without consent, saying which consent is missing; searches leave the data out and say so', async () => {
    const res = await read('Observation/obs-alice');
    expect(res.status).toBe(403);
    expect(await text(res)).toMatch(/consent/i);
    const search = (await (await read('Observation')).json()) as {
      total?: number;
      entry: {
        resource: { resourceType: string; issue?: { details: { text: string } }[] };
        search: { mode: string };
      }[];
    };
    expect(search.entry.filter((e) => e.search.mode === 'match')).toHaveLength(0);
    const outcome = search.entry.find((e) => e.search.mode === 'outcome');
    expect(outcome?.resource.issue?.[0]?.details.text).toMatch(/2 matching resources are left out/);
    expect(search.total).toBeUndefined();
    // Resources of no patient need no consent; a patient's own token needs none either.
    expect((await read('metadata')).status).toBe(200);
  });

  it('allows what a consent covers, for the purposes it names, and nothing else', async () => {
    await grant(alice, ['type:Observation'], 1 /* TREAT */);
    expect((await read('Observation/obs-alice')).status).toBe(200);
    expect((await read('Observation/obs-alice/_history/1')).status).toBe(200);
    const condition = await read('Condition/cond-alice');
    expect(condition.status).toBe(403);
    expect((await read('Observation/obs-alice', { 'x-purpose-of-use': 'HPAYMT' })).status).toBe(403);
    expect((await read('Observation/obs-alice', { 'x-purpose-of-use': 'NONSENSE' })).status).toBe(400);
    const search = (await (await read('Observation')).json()) as {
      entry: { resource: { id?: string }; search: { mode: string } }[];
    };
    expect(search.entry.filter((e) => e.search.mode === 'match').map((e) => e.resource.id)).toEqual([
      'obs-alice',
    ]);
    expect(search.entry.some((e) => e.search.mode === 'outcome')).toBe(true);
  });

  it('enforces a revocation at once when relayed here, and within a block when relayed elsewhere', async () => {
    const first = await grant(alice, ['category:vital-signs'], 1);
    await revokeVia(node.consent!.ledger, first);
    // The Observation consent of the previous test still covers it: revoke that one too, from "another gateway".
    expect((await read('Observation/obs-alice')).status).toBe(200);
    const ids = (await node.consent!.ledger.consentsOf(alice.address))
      .filter((c) => c.revokedAt === null)
      .map((c) => c.id);
    expect(ids).toHaveLength(1);
    const { blockNumber } = await revokeVia(elsewhere, ids[0] as bigint);
    await fetch(node.rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'evm_mine', params: [] }),
    });
    await eventually(
      () => Promise.resolve(node.consent!.lastProcessedBlock() >= Number(blockNumber) + 1),
      'the gateway to see the block after the revocation',
    );
    const res = await read('Observation/obs-alice');
    expect(res.status).toBe(403);
    expect(await text(res)).toMatch(/revoked/i);
  });

  it('lets a provider break the glass without consent, and records it on chain for the patient', async () => {
    const res = await read('Observation/obs-bob', {
      'x-break-glass': 'unconscious in the emergency department',
    });
    expect(res.status).toBe(200);
    const reasonHash = keccak256(toBytes('unconscious in the emergency department'));
    await eventually(async () => {
      const logs = await fetch(node.rpcUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'eth_getLogs',
          params: [{ address: node.deployment().consentRegistry, fromBlock: '0x0', toBlock: 'latest' }],
        }),
      }).then((r) => r.json() as Promise<{ result: { data: string; topics: string[] }[] }>);
      return logs.result.some((l) => l.data.toLowerCase().includes(reasonHash.slice(2)));
    }, 'the BreakGlassAccess event');
  });
});
