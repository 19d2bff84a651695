import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiToken } from '../../src/auth/apiTokens.js';
import {
  checkProofOnChain,
  checkRecordAgainstProof,
  parseRecordProof,
} from '../../src/anchoring/verifyRecordProof.js';
import { scopeHash } from '../../src/consent/consentTypedData.js';
import { createAnchorReader } from '../../src/ledger/viemAnchorReader.js';
import { signedLinkRequest } from '../../src/patients/patientLink.js';
import { eventually, startTestNode, type TestNode } from '../helpers/inProcessNode.js';
import { grantConsent } from '../helpers/patientConsent.js';

const FHIR_JSON = { 'content-type': 'application/fhir+json' };
const JSON_BODY = { 'content-type': 'application/json' };
const PATIENT = 'alice-q7w';
const OTHER = 'bob-k2z';
const CLINICIAN = 'dr.house-x9';

/**
 * The access audit trail end to end: a real node with consent enforced; a clinician's denied, allowed,
 * break-glass and search accesses become AuditEvents; the patient signs in with their key and reads exactly those;
 * each entry is anchored and its proof verifies; the database keeps neither the reader nor the patient in clear.
 */
describe('every access to a patient’s data is an anchored AuditEvent the patient can read', () => {
  let node: TestNode;
  let chainId: number;
  let clinician: string;
  let patientToken: string;
  let consentId: bigint;
  const alice = privateKeyToAccount(generatePrivateKey());
  const bob = privateKeyToAccount(generatePrivateKey());

  const get = (path: string, token: string, headers: Record<string, string> = {}) =>
    fetch(`${node.url}/fhir/${path}`, { headers: { authorization: `Bearer ${token}`, ...headers } });
  const put = async (resource: { resourceType: string; id: string; [k: string]: unknown }) => {
    const res = await node.api(`/fhir/${resource.resourceType}/${resource.id}`, {
      method: 'PUT',
      headers: FHIR_JSON,
      body: JSON.stringify(resource),
    });
    expect(res.status).toBe(201);
  };
  const link = async (patientId: string, account: typeof alice) => {
    const request = await signedLinkRequest(account, { patientId, organization: node.organization, chainId });
    const res = await node.api(`/admin/patients/${patientId}/link`, {
      method: 'POST',
      headers: JSON_BODY,
      body: JSON.stringify(request),
    });
    expect(res.status).toBe(201);
  };
  const grant = (account: typeof alice, scopes: string[], purposes: number): Promise<bigint> =>
    grantConsent(node, account, {
      grantee: node.organization as Hex,
      scopes: scopes.map(scopeHash),
      purposes,
    });
  const signIn = async (account: typeof alice): Promise<string> => {
    const post = (path: string, body: unknown) =>
      fetch(`${node.url}${path}`, { method: 'POST', headers: JSON_BODY, body: JSON.stringify(body) });
    const challenge = (await (
      await post('/auth/patient/challenge', { address: account.address })
    ).json()) as {
      nonce: string;
      message: string;
    };
    const signature = await account.signMessage({ message: challenge.message });
    const res = await post('/auth/patient/token', {
      address: account.address,
      nonce: challenge.nonce,
      signature,
    });
    expect(res.status).toBe(200);
    return ((await res.json()) as { token: string }).token;
  };
  const trailOf = async (patientId: string, token: string, query = '') => {
    const res = await get(`AuditEvent?patient=${patientId}${query}`, token);
    expect(res.status).toBe(200);
    return (await res.json()) as {
      resourceType: string;
      type: string;
      total: number;
      link: { relation: string; url: string }[];
      entry: { fullUrl: string; resource: any }[];
    };
  };

  beforeAll(async () => {
    node = await startTestNode({ CONSENT_ENFORCEMENT: 'on' });
    chainId = ((await (await fetch(`${node.url}/health`)).json()) as { chain: { chainId: number } }).chain
      .chainId;
    clinician = createApiToken(node.tokens, {
      name: CLINICIAN,
      role: 'clinician',
      subject: 'Practitioner/house',
    }).token;
    await put({ resourceType: 'Patient', id: PATIENT, name: [{ family: 'Liddell' }] });
    await put({ resourceType: 'Patient', id: OTHER, name: [{ family: 'Builder' }] });
    const vital = (id: string, patient: string) => ({
      resourceType: 'Observation',
      id,
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
      subject: { reference: `Patient/${patient}` },
      effectiveDateTime: '2026-01-01T10:00:00Z',
    });
    await put(vital('obs-a', PATIENT));
    await put(vital('obs-b', OTHER));
    await put({ resourceType: 'Practitioner', id: 'house', name: [{ family: 'House' }] });
    await link(PATIENT, alice);
    await link(OTHER, bob);
  });
  afterAll(async () => {
    await node?.destroy();
  });

  it('records a denied, an allowed, a break-glass read and a search by staff', async () => {
    expect((await get('Observation/obs-a', clinician)).status).toBe(403);
    consentId = await grant(alice, ['type:Observation'], 1 /* TREAT */);
    expect((await get('Observation/obs-a', clinician)).status).toBe(200);
    const glass = await get('Observation/obs-a/_history/1', clinician, {
      'x-break-glass': 'unconscious in the emergency department',
    });
    expect(glass.status).toBe(200);
    const search = await get('Observation?code=http://loinc.org|8867-4', clinician);
    expect(search.status).toBe(200);
    const bundle = (await search.json()) as { entry: { search: { mode: string } }[] };
    expect(bundle.entry.filter((e) => e.search.mode === 'match')).toHaveLength(1); // bob's is withheld
    // Resources of no patient are not audited.
    expect((await get('Practitioner/house', clinician)).status).toBe(200);
    await node.audit.flush();
  });

  it('lets the patient, signed in with their key, see exactly those accesses, newest first', async () => {
    patientToken = await signIn(alice);
    const bundle = await trailOf(PATIENT, patientToken);
    expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'searchset', total: 4 });
    const [search, glass, allowed, denied] = bundle.entry.map((e) => e.resource);
    for (const event of [search, glass, allowed, denied]) {
      expect(event.resourceType).toBe('AuditEvent');
      expect(event.type.code).toBe('110110');
      expect(event.action).toBe('R');
      expect(event.agent[0]).toMatchObject({
        requestor: true,
        altId: CLINICIAN,
        who: { reference: 'Practitioner/house' },
      });
      expect(event.agent[1]).toMatchObject({
        requestor: false,
        who: { identifier: { system: 'urn:careledger:chain-address', value: node.organization } },
      });
      expect(event.source.observer.identifier.value).toBe(node.organization);
      expect(event.entity[1]).toMatchObject({
        what: { reference: `Patient/${PATIENT}` },
        role: { code: '1' },
      });
    }
    expect(denied).toMatchObject({
      outcome: '4',
      subtype: [{ code: 'read' }],
      purposeOfEvent: [{ coding: [{ code: 'TREAT' }] }],
      entity: [{ what: { reference: 'Observation/obs-a/_history/1' } }, {}],
    });
    expect(denied.entity[0].detail).toContainEqual({ type: 'denial-reason', valueString: 'NO_CONSENT' });
    expect(allowed).toMatchObject({
      outcome: '0',
      subtype: [{ code: 'read' }],
      purposeOfEvent: [{ coding: [{ code: 'TREAT' }] }],
    });
    expect(allowed.entity[0].detail).toContainEqual({
      type: 'consent',
      valueString: `Consent/chain-${consentId}`,
    });
    expect(glass).toMatchObject({
      outcome: '0',
      subtype: [{ code: 'vread' }],
      purposeOfEvent: [{ coding: [{ code: 'ETREAT' }] }],
    });
    expect(glass.entity[0].detail).toContainEqual({ type: 'break-glass', valueString: 'true' });
    expect(search).toMatchObject({
      outcome: '0',
      subtype: [{ code: 'search-type' }],
      entity: [{ description: 'Observation?code', role: { code: '24' } }, {}],
    });
    expect(search.entity[0].detail).toContainEqual({ type: 'returned-count', valueString: '1' });
    // The value searched for is not in the trail.
    expect(JSON.stringify(bundle)).not.toContain('8867-4');
    // Paging, as other searches.
    const page = await trailOf(PATIENT, patientToken, '&_count=2&_offset=2');
    expect(page.total).toBe(4);
    expect(page.entry.map((e) => e.resource.id)).toEqual([allowed.id, denied.id]);
    expect(page.link.map((l) => l.relation).sort()).toEqual(['previous', 'self']);
  });

  it("records the other patient's withheld data separately, and the patient's own reads too", async () => {
    const other = await trailOf(OTHER, node.token);
    expect(other.total).toBe(1);
    expect(other.entry[0]?.resource).toMatchObject({ outcome: '4', subtype: [{ code: 'search-type' }] });
    expect(other.entry[0]?.resource.entity[0].detail).toContainEqual({
      type: 'withheld-count',
      valueString: '1',
    });

    expect((await get('Observation/obs-a', patientToken)).status).toBe(200);
    const own = (await trailOf(PATIENT, patientToken)).entry[0]?.resource;
    expect(own).toMatchObject({
      outcome: '0',
      purposeOfEvent: [{ coding: [{ code: 'PATRQT' }] }],
      agent: [{ who: { reference: `Patient/${PATIENT}` } }, {}],
    });
  });

  it("refuses another patient's trail to a patient, and the trail to staff who are not admins", async () => {
    expect((await get(`AuditEvent?patient=${OTHER}`, patientToken)).status).toBe(403);
    expect((await get(`AuditEvent?patient=${PATIENT}`, clinician)).status).toBe(403);
    const otherEntry = (await trailOf(OTHER, node.token)).entry[0]?.resource.id as string;
    expect((await get(`AuditEvent/${otherEntry}`, patientToken)).status).toBe(403);
    const ownEntry = (await trailOf(PATIENT, patientToken)).entry[0]?.resource.id as string;
    expect((await get(`AuditEvent/${ownEntry}`, patientToken)).status).toBe(200);
    // Only the server writes AuditEvents.
    const write = await fetch(`${node.url}/fhir/AuditEvent`, {
      method: 'POST',
      headers: { authorization: `Bearer ${node.token}`, ...FHIR_JSON },
      body: JSON.stringify({ resourceType: 'AuditEvent' }),
    });
    expect(write.status).toBe(405);
    expect(JSON.stringify(await write.json())).toMatch(/written by this server/);
  });

  it('anchors every entry: its proof verifies against the entry as served and on chain', async () => {
    const { entry } = await trailOf(PATIENT, patientToken);
    const reader = createAnchorReader(node.rpcUrl);
    for (const { resource } of entry) {
      const body = new Uint8Array(await (await get(`AuditEvent/${resource.id}`, patientToken)).arrayBuffer());
      const proof = parseRecordProof(
        await eventually(async () => {
          const res = await get(`AuditEvent/${resource.id}/$proof`, patientToken);
          return res.status === 200 ? ((await res.json()) as unknown) : undefined;
        }, 'the audit entry to be anchored'),
      );
      expect(proof.record.kind).toBe('audit.access');
      checkRecordAgainstProof(body, proof);
      await checkProofOnChain(proof, reader, { expectedContract: node.deployment().anchorRegistry });
    }
  });

  it('keeps neither the reader nor the patient in clear in audit_events', async () => {
    await node.audit.flush();
    const db = new Database(join(node.dataDir, 'careledger.db'), { readonly: true });
    try {
      const rows = db.prepare('SELECT * FROM audit_events').all() as Record<string, unknown>[];
      expect(rows.length).toBeGreaterThanOrEqual(6);
      const raw = Buffer.concat(
        rows.flatMap((row) =>
          Object.values(row).map((v) => (Buffer.isBuffer(v) ? v : Buffer.from(String(v), 'utf8'))),
        ),
      ).toString('latin1');
      for (const secret of [CLINICIAN, PATIENT, OTHER, 'Practitioner/house', alice.address.slice(2)]) {
        expect(raw).not.toContain(secret);
      }
    } finally {
      db.close();
    }
    // Nor do the database files hold the audit JSON in clear anywhere.
    for (const file of readdirSync(node.dataDir).filter((f) => f.startsWith('careledger.db'))) {
      expect(readFileSync(join(node.dataDir, file)).toString('latin1')).not.toContain('restful-interaction');
    }
  });
});
