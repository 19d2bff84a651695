import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getAddress, type Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiToken } from '../../src/auth/apiTokens.js';
import { consentGrantCommand, consentListCommand, consentRevokeCommand } from '../../src/cli/consent.js';
import {
  consentDomain,
  PURPOSES_OF_USE,
  scopeHash,
  signAppointDelegate,
  signGrant,
  signRemoveDelegate,
  signRevoke,
  type ConsentDomain,
  type ConsentTerms,
} from '../../src/consent/consentTypedData.js';
import { signedLinkRequest } from '../../src/patients/patientLink.js';
import { fhirValidationIssues } from '../../src/records/validateFhirResource.js';
import { captureCli } from '../cli/cliOutput.js';
import { startTestNode, type TestNode } from '../helpers/inProcessNode.js';

const FHIR_JSON = { 'content-type': 'application/fhir+json' };
const JSON_BODY = { 'content-type': 'application/json' };
const GRANTEE = '0x3333333333333333333333333333333333333333';
const HOUR = 3_600n;

const nowSeconds = () => BigInt(Math.floor(Date.now() / 1000));

describe('consents through the HTTP API and the CLI, on a real node', () => {
  let node: TestNode;
  let dir: string;
  let domain: ConsentDomain;
  const aliceKey = generatePrivateKey();
  const alice = privateKeyToAccount(aliceKey);
  const mallory = privateKeyToAccount(generatePrivateKey());

  const post = (path: string, body: unknown, token = node.token) =>
    fetch(`${node.url}${path}`, {
      method: 'POST',
      headers: { ...JSON_BODY, authorization: `Bearer ${token}` },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const json = async (res: Response): Promise<any> => res.json();
  const nonceOf = async (address: string) =>
    BigInt((await json(await node.api(`/consent/signing-info?address=${address}`))).nonce);
  const consentsOf = async (patient: string, token = node.token): Promise<any> => {
    const res = await fetch(`${node.url}/fhir/Consent?patient=${patient}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/fhir\+json/);
    return res.json();
  };

  /** A Grant body signed by `signer` for alice, as a patient's app would send it. */
  async function signedGrant(
    signer: PrivateKeyAccount,
    overrides: { deadline?: bigint; nonce?: bigint; signerAddress?: Hex; chainId?: number } = {},
  ) {
    const now = nowSeconds();
    const terms: ConsentTerms = {
      patient: alice.address,
      grantee: GRANTEE,
      scopes: [scopeHash('type:Observation'), scopeHash('category:laboratory')],
      purposes: PURPOSES_OF_USE.TREAT | PURPOSES_OF_USE.HPAYMT,
      validFrom: now - 60n,
      validUntil: now + 24n * HOUR,
      dataFrom: 0n,
      dataUntil: 0n,
    };
    const deadline = overrides.deadline ?? now + 600n;
    const nonce = overrides.nonce ?? (await nonceOf(signer.address));
    const signature = await signGrant(
      signer,
      overrides.chainId === undefined ? domain : { ...domain, chainId: overrides.chainId },
      terms,
      nonce,
      deadline,
    );
    return {
      terms: {
        patient: alice.address,
        grantee: GRANTEE,
        scopes: ['type:Observation', 'category:laboratory'],
        purposes: ['TREAT', 'HPAYMT'],
        validFrom: terms.validFrom.toString(),
        validUntil: Number(terms.validUntil),
      },
      signer: overrides.signerAddress ?? signer.address,
      deadline: deadline.toString(),
      signature,
    };
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'careledger-consent-'));
    node = await startTestNode();
    for (const id of ['alice', 'bob']) {
      const res = await node.api(`/fhir/Patient/${id}`, {
        method: 'PUT',
        headers: FHIR_JSON,
        body: JSON.stringify({ resourceType: 'Patient', id, name: [{ family: id }] }),
      });
      expect(res.status).toBe(201);
    }
    const health = await json(await fetch(`${node.url}/health`));
    const linked = await post(
      '/admin/patients/alice/link',
      await signedLinkRequest(alice, {
        patientId: 'alice',
        organization: node.organization,
        chainId: health.chain.chainId,
      }),
    );
    expect(linked.status).toBe(201);
    domain = consentDomain(health.chain.chainId, node.deployment().consentRegistry);
  });
  afterAll(async () => {
    await node?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('gives the signing domain, types and nonce of an address', async () => {
    const res = await node.api(`/consent/signing-info?address=${alice.address.toLowerCase()}`);
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body).toMatchObject({
      address: alice.address,
      nonce: '0',
      domain: {
        name: 'CareLedger ConsentRegistry',
        version: '1',
        chainId: domain.chainId,
        verifyingContract: getAddress(node.deployment().consentRegistry),
      },
    });
    expect(Object.keys(body.types).sort()).toEqual(['AppointDelegate', 'Grant', 'RemoveDelegate', 'Revoke']);
    const bad = await node.api('/consent/signing-info?address=nope');
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect((await json(bad)).code).toBe('CONSENT.INVALID_ADDRESS');
  });

  it('grant → active in the FHIR view → refused replays, forgeries, late and malformed bodies → revoke → inactive', async () => {
    const body = await signedGrant(alice);
    const granted = await post('/consent/grants', body);
    expect(granted.status).toBe(201);
    const receipt = await json(granted);
    expect(receipt).toMatchObject({
      consent: `Consent/chain-${receipt.consentId}`,
      patient: 'Patient/alice',
      transactionHash: expect.stringMatching(/^0x[0-9a-f]{64}$/),
      scopes: [
        { hash: scopeHash('type:Observation'), scope: 'type:Observation' },
        { hash: scopeHash('category:laboratory'), scope: 'category:laboratory' },
      ],
    });
    expect(granted.headers.get('location')).toBe(`/fhir/Consent/chain-${receipt.consentId}`);
    const id = `chain-${receipt.consentId}`;

    const bundle = await consentsOf('alice');
    expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'searchset', total: 1 });
    const view = bundle.entry[0].resource;
    expect(fhirValidationIssues(bundle)).toEqual([]);
    expect(view).toMatchObject({
      resourceType: 'Consent',
      id,
      status: 'active',
      patient: { reference: 'Patient/alice' },
      performer: [{ reference: 'Patient/alice' }],
      sourceReference: { identifier: { value: receipt.transactionHash } },
    });
    expect(view.provision.purpose.map((c: any) => c.code)).toEqual(['TREAT', 'HPAYMT']);
    expect(view.provision.class).toEqual([
      { system: 'http://hl7.org/fhir/resource-types', code: 'Observation' },
    ]);
    expect(view.provision.code.map((c: any) => c.text)).toEqual(['category:laboratory']);
    expect(view.provision.actor[0].reference.identifier.value.toLowerCase()).toBe(GRANTEE);
    const read = await node.api(`/fhir/Consent/${id}`);
    expect(read.status).toBe(200);
    expect(await json(read)).toEqual(view);

    // Nothing below may change anything: the nonce and the consents stay as they are.
    const nonce = await nonceOf(alice.address);
    expect(nonce).toBe(1n);

    const replay = await post('/consent/grants', body);
    expect(replay.status).toBe(400);
    const replayed = await json(replay);
    expect(replayed.code).toBe('CONSENT.SIGNATURE_INVALID');
    expect(replayed.detail).toMatch(/already used \(nonce\)/);

    const late = await post('/consent/grants', await signedGrant(alice, { deadline: nowSeconds() - 5n }));
    expect(late.status).toBe(400);
    const expired = await json(late);
    expect(expired.code).toBe('CONSENT.SIGNATURE_EXPIRED');
    expect(expired.detail).toMatch(/sign it again with a later deadline/);

    // Mallory's signature claiming to be Alice's, and Mallory signing as herself for Alice.
    const forged = await post(
      '/consent/grants',
      await signedGrant(mallory, { nonce, signerAddress: alice.address }),
    );
    expect(forged.status).toBe(400);
    expect((await json(forged)).code).toBe('CONSENT.SIGNATURE_INVALID');
    // Alice's own signature, but made for another chain (a replay from a test network, say).
    const foreign = await post('/consent/grants', await signedGrant(alice, { chainId: 1 }));
    expect(foreign.status).toBe(400);
    expect((await json(foreign)).code).toBe('CONSENT.SIGNATURE_INVALID');
    const unauthorized = await post('/consent/grants', await signedGrant(mallory));
    expect(unauthorized.status).toBe(403);
    expect((await json(unauthorized)).detail).toMatch(/may not act for patient/);

    const valid = await signedGrant(alice);
    const malformed: [unknown, string, RegExp][] = [
      ['{"terms": ', 'REQUEST.MALFORMED_JSON', /not valid JSON/],
      [{ ...valid, terms: undefined }, 'REQUEST.INVALID', /must have required property 'terms'/],
      [{ ...valid, extra: 1 }, 'REQUEST.INVALID', /must NOT have additional properties/],
      [{ ...valid, signature: '0x1234' }, 'CONSENT.INVALID_SIGNATURE_FORMAT', /65-byte ECDSA signature/],
      [{ ...valid, terms: { ...valid.terms, grantee: '0x12' } }, 'CONSENT.INVALID_ADDRESS', /terms\.grantee/],
      [
        { ...valid, terms: { ...valid.terms, scopes: ['type:Observation', 'Observation'] } },
        'CONSENT.INVALID_SCOPE',
        /terms\.scopes\[1\]/,
      ],
      [
        { ...valid, terms: { ...valid.terms, purposes: ['CURIOSITY'] } },
        'CONSENT.UNKNOWN_PURPOSE',
        /CURIOSITY/,
      ],
      [{ ...valid, terms: { ...valid.terms, validUntil: 'tomorrow' } }, 'REQUEST.INVALID', /validUntil/],
      [
        { ...valid, terms: { ...valid.terms, validUntil: '18446744073709551616' } },
        'CONSENT.INVALID_INTEGER',
        /more than the largest allowed/,
      ],
    ];
    for (const [bad, code, detail] of malformed) {
      const res = await post('/consent/grants', bad);
      expect(res.status, JSON.stringify(bad).slice(0, 120)).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      const problem = await json(res);
      expect(problem.code, problem.detail).toBe(code);
      expect(problem.detail).toMatch(detail);
    }
    expect(await nonceOf(alice.address)).toBe(nonce);
    expect((await consentsOf('alice')).total).toBe(1);

    const revokeBody = async (consentId: string) => {
      const deadline = nowSeconds() + 600n;
      const signature = await signRevoke(
        alice,
        domain,
        BigInt(consentId),
        await nonceOf(alice.address),
        deadline,
      );
      return {
        consentId: `chain-${consentId}`,
        signer: alice.address,
        deadline: Number(deadline),
        signature,
      };
    };
    const revoked = await post('/consent/revocations', await revokeBody(receipt.consentId));
    expect(revoked.status).toBe(200);
    expect(await json(revoked)).toMatchObject({ consentId: receipt.consentId, consent: `Consent/${id}` });
    const after = (await consentsOf('alice')).entry[0].resource;
    expect(after.status).toBe('inactive');
    expect(after.extension[0].extension[1].valueIdentifier.value).toBe(alice.address);
    expect(after.sourceReference.display).toMatch(/revoked in transaction 0x[0-9a-f]{64}/);
    const again = await post('/consent/revocations', await revokeBody(receipt.consentId));
    expect(again.status).toBe(409);
    expect((await json(again)).code).toBe('CONSENT.ALREADY_REVOKED');
    const unknown = await post('/consent/revocations', await revokeBody('999'));
    expect(unknown.status).toBe(404);
  });

  it("lets staff and the patient's own app submit, and confines a patient's token to their own consents", async () => {
    const reader = createApiToken(node.tokens, { name: 'consent-reader', role: 'reader' });
    const refused = await post('/consent/grants', await signedGrant(alice), reader.token);
    expect(refused.status).toBe(403);
    expect((await json(refused)).code).toBe('AUTH.FORBIDDEN');

    const challenge = await json(await post('/auth/patient/challenge', { address: alice.address }));
    const session = await json(
      await post('/auth/patient/token', {
        address: alice.address,
        nonce: challenge.nonce,
        signature: await alice.signMessage({ message: challenge.message }),
      }),
    );
    const own = await post('/consent/grants', await signedGrant(alice), session.token);
    expect(own.status).toBe(201);
    const other = await post('/consent/grants', await signedGrant(mallory), session.token);
    expect(other.status).toBe(403);
    expect((await json(other)).detail).toMatch(/only messages signed by its own key/);

    const mine = await consentsOf('alice', session.token);
    expect(mine.entry.map((e: any) => e.resource.status)).toEqual(['inactive', 'active']);
    const implicit = await fetch(`${node.url}/fhir/Consent`, {
      headers: { authorization: `Bearer ${session.token}` },
    });
    expect((await json(implicit)).total).toBe(2);
    const bobs = await fetch(`${node.url}/fhir/Consent?patient=bob`, {
      headers: { authorization: `Bearer ${session.token}` },
    });
    expect(bobs.status).toBe(403);
    expect((await json(bobs)).resourceType).toBe('OperationOutcome');
  });

  it('routes /fhir/Consent to the consent views and every other type to the FHIR router', async () => {
    const none = await consentsOf('bob');
    expect(none.total).toBe(0);
    expect(none.entry[0]).toMatchObject({
      search: { mode: 'outcome' },
      resource: { resourceType: 'OperationOutcome', issue: [{ code: 'not-found' }] },
    });
    expect(none.entry[0].resource.issue[0].details.text).toMatch(/Patient\/bob has no linked key/);
    const expectOutcome = async (res: Response, status: number, text: RegExp) => {
      expect(res.status).toBe(status);
      expect(res.headers.get('content-type')).toMatch(/^application\/fhir\+json/);
      const outcome = await json(res);
      expect(outcome.resourceType).toBe('OperationOutcome');
      expect(JSON.stringify(outcome)).toMatch(text);
    };
    await expectOutcome(await node.api('/fhir/Consent/chain-999'), 404, /Consent\/chain-999 is not found/);
    await expectOutcome(await node.api('/fhir/Consent/42'), 404, /ids chain-<n>/);
    await expectOutcome(await node.api('/fhir/Consent?patient=alice&status=active'), 400, /only the search/);
    await expectOutcome(await node.api('/fhir/Consent'), 400, /Search Consent by patient/);
    await expectOutcome(await fetch(`${node.url}/fhir/Consent?patient=alice`), 401, /./);
    await expectOutcome(
      await node.api('/fhir/Consent', {
        method: 'POST',
        headers: FHIR_JSON,
        body: JSON.stringify({ resourceType: 'Consent' }),
      }),
      405,
      /read-only views .*POST \/consent\/grants/,
    );
    await expectOutcome(await node.api('/fhir/Consent/chain-1/_history'), 405, /read-only views/);
    expect((await node.api('/fhir/Patient/alice')).status).toBe(200);
    const observations = await json(await node.api('/fhir/Observation?patient=alice'));
    expect(observations).toMatchObject({ resourceType: 'Bundle', type: 'searchset', total: 0 });
    const metadata = await json(await fetch(`${node.url}/fhir/metadata`));
    const consent = metadata.rest[0].resource.find((r: any) => r.type === 'Consent');
    expect(consent.interaction.map((i: any) => i.code)).toEqual(['read', 'search-type']);
    expect(consent.searchParam.map((p: any) => p.name)).toEqual(['patient']);
  });

  it('careledger consent grant, list and revoke round trip with the patient key file', async () => {
    const key = join(dir, 'alice.key');
    writeFileSync(key, `${aliceKey}\n`, { mode: 0o600 });
    const cli = { url: node.url, token: node.token, json: true };

    const granted = await captureCli(() =>
      consentGrantCommand('alice', {
        ...cli,
        key,
        grantee: GRANTEE,
        purpose: ['treat,HRESCH'],
        scope: ['type:Condition', 'category:problem-list-item', 'resource:DocumentReference/doc-1'],
        until: '2099-12-31',
        dataFrom: '2019',
        dataUntil: '2020-06',
      }),
    );
    expect(granted.stderr).toBe('');
    expect(granted.code).toBe(0);
    const out = JSON.parse(granted.stdout);
    expect(out).toMatchObject({ ok: true, consent: `Consent/chain-${out.consentId}` });

    const listed = await captureCli(() => consentListCommand('alice', { url: node.url, token: node.token }));
    expect(listed.code).toBe(0);
    const block = listed.stdout.split('\n\n').find((b) => b.startsWith(`Consent/chain-${out.consentId}`));
    expect(block).toContain('active');
    expect(block).toContain('purposes  TREAT, HRESCH');
    expect(block).toContain(
      'scopes    type:Condition, category:problem-list-item, resource:DocumentReference/doc-1',
    );
    expect(block).toContain('valid');
    expect(block).toContain('until 2100-01-01T00:00:00Z');
    expect(block).toContain('data      2019-01-01T00:00:00Z to 2020-06-30T23:59:59Z');

    const revoked = await captureCli(() => consentRevokeCommand(`chain-${out.consentId}`, { ...cli, key }));
    expect(revoked.code).toBe(0);
    expect(JSON.parse(revoked.stdout)).toMatchObject({ ok: true, consentId: out.consentId });
    const relisted = await captureCli(() =>
      consentListCommand('alice', { url: node.url, token: node.token }),
    );
    const after = relisted.stdout.split('\n\n').find((b) => b.startsWith(`Consent/chain-${out.consentId}`));
    expect(after).toMatch(/inactive/);
    expect(after).toMatch(/revoked {3}\d{4}-.* by 0x/);

    const twice = await captureCli(() => consentRevokeCommand(out.consentId, { ...cli, key }));
    expect(twice.code).toBe(1);
    expect(JSON.parse(twice.stdout).message).toMatch(/already revoked/);
    const unlinked = await captureCli(() => consentListCommand('bob', { url: node.url, token: node.token }));
    expect(unlinked.code).toBe(1);
    expect(unlinked.stderr).toMatch(/Patient\/bob has no linked key/);
    const badScope = await captureCli(() =>
      consentGrantCommand('alice', {
        ...cli,
        key,
        grantee: GRANTEE,
        purpose: ['TREAT'],
        scope: ['x'],
        until: '2099',
      }),
    );
    expect(badScope.code).toBe(2);
    expect(JSON.parse(badScope.stdout).message).toMatch(/must be a scope string/);
  });

  it('relays a delegate appointment and its removal; the delegate grants in between', async () => {
    const deadline = nowSeconds() + 600n;
    const appointment = { patient: alice.address, delegate: mallory.address, until: 0n };
    const appointed = await post('/consent/delegates', {
      patient: alice.address,
      delegate: mallory.address,
      deadline: deadline.toString(),
      signature: await signAppointDelegate(
        alice,
        domain,
        appointment,
        await nonceOf(alice.address),
        deadline,
      ),
    });
    expect(appointed.status).toBe(201);
    expect(await json(appointed)).toMatchObject({ transactionHash: expect.stringMatching(/^0x/) });

    const byDelegate = await post('/consent/grants', await signedGrant(mallory));
    expect(byDelegate.status).toBe(201);
    const { consentId } = await json(byDelegate);
    const view = await json(await node.api(`/fhir/Consent/chain-${consentId}`));
    expect(view.performer).toEqual([
      {
        identifier: { system: 'urn:careledger:chain-address', value: mallory.address },
        display: 'a delegate of the patient',
      },
    ]);

    const removal = { patient: alice.address, delegate: mallory.address };
    const removed = await post('/consent/delegates/remove', {
      ...removal,
      signer: mallory.address,
      deadline: Number(deadline),
      signature: await signRemoveDelegate(mallory, domain, removal, await nonceOf(mallory.address), deadline),
    });
    expect(removed.status).toBe(200);
    expect((await post('/consent/grants', await signedGrant(mallory))).status).toBe(403);
    const spec = await json(await fetch(`${node.url}/openapi.json`));
    expect(Object.keys(spec.paths)).toEqual(
      expect.arrayContaining([
        '/consent/signing-info',
        '/consent/grants',
        '/consent/revocations',
        '/consent/delegates',
        '/consent/delegates/remove',
      ]),
    );
  });
});
