import { createServer, request as httpRequest, type Server } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditEvent, Bundle, OperationOutcome } from '@medplum/fhirtypes';
import Database from 'better-sqlite3';
import { createPublicClient, http, type Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { networkDown, networkUp } from '../../src/cli/network/network.js';
import type { NetworkFile, NetworkOrganization } from '../../src/cli/network/networkFile.js';
import { isAlive } from '../../src/cli/network/processes.js';
import { orgReinstateCommand, orgSuspendCommand } from '../../src/cli/org.js';
import { canonicalJson } from '../../src/core/canonicalJson.js';
import { signGrant, signRevoke, scopeHash, type ConsentDomain } from '../../src/consent/consentTypedData.js';
import { createChainClients } from '../../src/ledger/chainClients.js';
import { organizationRegistryAbi, recordLocatorAbi } from '../../src/ledger/generated/contracts.js';
import { toHex } from '../../src/core/hex.js';
import { organizationEncryptionPublicKey } from '../../src/keys/organizationEncryptionKey.js';
import { captureCli } from '../cli/cliOutput.js';
import { freeBasePort, quiet } from '../helpers/network.js';
import { linkPatientKey } from '../helpers/patientConsent.js';

/**
 * Three gateways (hospital, clinic, insurer) as separate processes on one anvil, started by `network up`: the
 * clinic fetches a patient's records held at the hospital ($fetch-external), with and without consent, after a
 * revocation, while suspended, through a proxy that flips a byte, and with a third holder stopped.
 */

const FHIR_JSON = 'application/fhir+json';

async function call(
  org: NetworkOrganization,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: any }> {
  const res = await fetch(`${org.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${org.token}`,
      accept: FHIR_JSON,
      ...(body === undefined
        ? {}
        : { 'content-type': path.startsWith('/fhir') ? FHIR_JSON : 'application/json' }),
      ...headers,
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

async function create(org: NetworkOrganization, resource: Record<string, unknown>): Promise<string> {
  const res = await call(org, 'POST', `/fhir/${String(resource.resourceType)}`, resource);
  expect(res.status, JSON.stringify(res.json)).toBe(201);
  return res.json.id as string;
}

const observation = (patientId: string, i: number) => ({
  resourceType: 'Observation',
  status: 'final',
  code: { coding: [{ system: 'http://loinc.org', code: '8867-4', display: 'Heart rate' }] },
  subject: { reference: `Patient/${patientId}` },
  effectiveDateTime: `2026-11-${String(1 + (i % 20)).padStart(2, '0')}T08:00:00Z`,
  valueQuantity: { value: 60 + i, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
});

async function fetchExternal(
  org: NetworkOrganization,
  patientId: string,
): Promise<{ status: number; bundle: Bundle; outcome: OperationOutcome | undefined; ms: number }> {
  const t0 = Date.now();
  const res = await call(org, 'GET', `/fhir/Patient/${patientId}/$fetch-external`);
  const bundle = res.json as Bundle;
  const outcome = bundle.entry?.find((e) => e.resource?.resourceType === 'OperationOutcome')?.resource as
    OperationOutcome | undefined;
  return { status: res.status, bundle, outcome, ms: Date.now() - t0 };
}

const matches = (bundle: Bundle, type?: string) =>
  (bundle.entry ?? []).filter(
    (e) => e.search?.mode === 'match' && (type === undefined || e.resource?.resourceType === type),
  );

/** Signs (as the patient) and relays through `via` a grant to `grantee`; the consent id. */
async function grant(
  via: NetworkOrganization,
  patient: PrivateKeyAccount,
  grantee: Hex,
  scopes: string[],
): Promise<string> {
  const info = await call(via, 'GET', `/consent/signing-info?address=${patient.address}`);
  expect(info.status).toBe(200);
  const now = Math.floor(Date.now() / 1000);
  const terms = {
    patient: patient.address,
    grantee,
    scopes: scopes.map(scopeHash),
    purposes: 1, // TREAT
    validFrom: BigInt(now - 60),
    validUntil: BigInt(now + 86_400),
    dataFrom: 0n,
    dataUntil: 0n,
  };
  const deadline = BigInt(now + 600);
  const signature = await signGrant(
    patient,
    info.json.domain as ConsentDomain,
    terms,
    BigInt(info.json.nonce),
    deadline,
  );
  const res = await call(via, 'POST', '/consent/grants', {
    terms: {
      patient: patient.address,
      grantee,
      scopes,
      purposes: ['TREAT'],
      validFrom: now - 60,
      validUntil: now + 86_400,
    },
    signer: patient.address,
    deadline: Number(deadline),
    signature,
  });
  expect(res.status, JSON.stringify(res.json)).toBe(201);
  return res.json.consentId as string;
}

async function revoke(
  via: NetworkOrganization,
  patient: PrivateKeyAccount,
  consentId: string,
): Promise<void> {
  const info = await call(via, 'GET', `/consent/signing-info?address=${patient.address}`);
  const deadline = BigInt(Math.floor(Date.now() / 1000) + 600);
  const signature = await signRevoke(
    patient,
    info.json.domain as ConsentDomain,
    BigInt(consentId),
    BigInt(info.json.nonce),
    deadline,
  );
  const res = await call(via, 'POST', '/consent/revocations', {
    consentId,
    signer: patient.address,
    deadline: Number(deadline),
    signature,
  });
  expect(res.status, JSON.stringify(res.json)).toBe(200);
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** A proxy in front of `target` that flips one byte in the middle of every response body. */
function tamperingProxy(target: string): Promise<{ server: Server; url: string; flipped: () => number }> {
  let flipped = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const upstream = httpRequest(
        `${target}${req.url ?? '/'}`,
        { method: req.method, headers: { ...req.headers, host: new URL(target).host } },
        (up) => {
          const body: Buffer[] = [];
          up.on('data', (c: Buffer) => body.push(c));
          up.on('end', () => {
            const bytes = Buffer.concat(body);
            if (bytes.length > 0) {
              // Inside the JSON's ciphertext (base64url): a different but still valid character.
              const at = Math.floor(bytes.length / 2);
              bytes[at] = bytes[at] === 0x41 ? 0x42 : 0x41;
              flipped++;
            }
            const headers = { ...up.headers, 'content-length': String(bytes.length) };
            res.writeHead(up.statusCode ?? 502, headers);
            res.end(bytes);
          });
        },
      );
      upstream.on('error', () => {
        res.writeHead(502);
        res.end();
      });
      upstream.end(Buffer.concat(chunks));
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const address = server.address() as { port: number };
      resolve({ server, url: `http://127.0.0.1:${address.port}`, flipped: () => flipped });
    }),
  );
}

describe('cross-organisation exchange between three gateways', () => {
  let root: string;
  let dir: string;
  let net: NetworkFile;
  let hospital: NetworkOrganization;
  let clinic: NetworkOrganization;
  let insurer: NetworkOrganization;
  const patient = privateKeyToAccount(generatePrivateKey());
  let hospitalPatient: string;
  let clinicPatient: string;
  const observations: string[] = [];
  const saved: Record<string, string | undefined> = {};

  /** Links the patient's key to Patient/`patientId` at `org` (as `careledger patient link` does). */
  const linkAt = async (org: NetworkOrganization, patientId: string) => {
    const status = await linkPatientKey(
      { url: org.url, organization: org.address },
      patientId,
      patient,
      org.token,
    );
    expect(status).toBe(201);
  };

  /** Polls the RecordLocator until the patient's holders satisfy `done`; resolves with them. */
  const holdersWhen = (what: string, done: (holders: readonly Hex[]) => boolean) => {
    const client = createPublicClient({ transport: http(net.anvil.rpcUrl) });
    const locator = net.contracts?.recordLocator as Hex;
    return until(what, async () => {
      const holders = await client.readContract({
        address: locator,
        abi: recordLocatorAbi,
        functionName: 'holdersOf',
        args: [patient.address],
      });
      return done(holders) ? holders : undefined;
    });
  };

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'careledger-exchange-'));
    dir = join(root, 'net');
    // Settings the gateways inherit: anchor quickly, and give up on a dead peer quickly.
    for (const [name, value] of Object.entries({
      ANCHOR_BATCH_AGE_MS: '200',
      EXCHANGE_TIMEOUT_MS: '3000',
      EXCHANGE_RETRIES: '1',
      FHIR_VALIDATION_WORKERS: '0',
      LOG_LEVEL: 'warn',
    })) {
      saved[name] = process.env[name];
      process.env[name] = value;
    }
    const basePort = await freeBasePort();
    net = await quiet(() => networkUp({ orgs: 3, dir, basePort }));
    [hospital, clinic, insurer] = net.organizations as [
      NetworkOrganization,
      NetworkOrganization,
      NetworkOrganization,
    ];
  }, 180_000);

  afterAll(async () => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    if (existsSync(join(dir, 'network.json'))) {
      await quiet(() => networkDown({ dir, graceMs: 5_000 })).catch(() => undefined);
    }
    rmSync(root, { recursive: true, force: true });
  }, 60_000);

  it('publishes only that an organisation holds records for a patient, once the patient links their key', async () => {
    hospitalPatient = await create(hospital, {
      resourceType: 'Patient',
      name: [{ family: 'Okafor', given: ['Adaeze'] }],
      birthDate: '1984-03-02',
    });
    for (let i = 0; i < 5; i++) observations.push(await create(hospital, observation(hospitalPatient, i)));
    clinicPatient = await create(clinic, { resourceType: 'Patient', name: [{ family: 'Okafor' }] });
    await linkAt(hospital, hospitalPatient);
    await linkAt(clinic, clinicPatient);

    const holders = await holdersWhen('both holders on the locator', (list) => list.length === 2);
    expect(holders.map((h) => h.toLowerCase()).sort()).toEqual(
      [hospital.address, clinic.address].map((a) => a.toLowerCase()).sort(),
    );
  }, 60_000);

  it('without consent the clinic receives nothing, and is told how much was withheld', async () => {
    const { status, bundle, outcome } = await fetchExternal(clinic, clinicPatient);
    expect(status).toBe(200);
    expect(bundle.total).toBe(0);
    expect(matches(bundle)).toHaveLength(0);
    const withheld = outcome?.issue.find((i) => i.code === 'suppressed');
    expect(withheld?.diagnostics).toMatch(/hospital .* withheld 6 resources .*NO_CONSENT/);
  }, 60_000);

  let consentId: string;
  it('with consent the clinic receives every resource, each verified against the chain, and keeps a Provenance', async () => {
    consentId = await grant(hospital, patient, clinic.address, ['type:Patient', 'type:Observation']);
    const { bundle, outcome } = await until('everything anchored at the hospital', async () => {
      const r = await fetchExternal(clinic, clinicPatient);
      return r.bundle.total === 6 ? r : undefined;
    });
    const received = matches(bundle);
    expect(received.map((e) => e.resource?.id).sort()).toEqual([hospitalPatient, ...observations].sort());
    for (const entry of received) {
      expect(entry.fullUrl).toBe(
        `${hospital.url}/fhir/${entry.resource?.resourceType}/${entry.resource?.id}`,
      );
    }
    const patientCopy = received.find((e) => e.resource?.resourceType === 'Patient')?.resource as {
      name: { family: string }[];
    };
    expect(patientCopy.name[0]?.family).toBe('Okafor');
    expect(outcome?.issue.filter((i) => i.severity === 'error') ?? []).toHaveLength(0);

    const provenance = bundle.entry?.find((e) => e.resource?.resourceType === 'Provenance')?.resource as any;
    expect(provenance.target).toEqual([{ reference: `Patient/${clinicPatient}` }]);
    expect(provenance.agent[0].who.identifier.value.toLowerCase()).toBe(hospital.address.toLowerCase());
    expect(provenance.entity).toHaveLength(6);
    for (const entity of provenance.entity) {
      expect(entity.what.reference).toMatch(
        new RegExp(`^${hospital.url}/fhir/(Patient|Observation)/[^/]+/_history/1$`),
      );
      expect(entity.what.identifier.value).toMatch(/^urn:careledger:sha256:[0-9a-f]{64}$/);
    }
    // Each content hash is the SHA-256 of exactly the bytes received.
    const { createHash } = await import('node:crypto');
    for (const entry of received) {
      const hash = createHash('sha256').update(canonicalJson(entry.resource)).digest('hex');
      expect(provenance.entity.some((e: any) => e.what.identifier.value.endsWith(hash))).toBe(true);
    }
  }, 90_000);

  it('both sides audit the exchange: the patient sees the disclosure and the receipt', async () => {
    const atHospital = await call(hospital, 'GET', `/fhir/AuditEvent?patient=${hospitalPatient}&_count=100`);
    const disclosures =
      (atHospital.json as Bundle).entry
        ?.map((e) => e.resource as AuditEvent)
        .filter((e) => e.type.code === '110106') ?? [];
    expect(disclosures.length).toBeGreaterThanOrEqual(2); // refused, then allowed
    expect(
      disclosures.some(
        (e) =>
          e.outcome === '0' &&
          e.agent.some((a) => a.who?.identifier?.value?.toLowerCase() === clinic.address.toLowerCase()),
      ),
    ).toBe(true);
    expect(disclosures.some((e) => e.outcome === '4')).toBe(true);

    const atClinic = await call(clinic, 'GET', `/fhir/AuditEvent?patient=${clinicPatient}&_count=100`);
    const receipts =
      (atClinic.json as Bundle).entry
        ?.map((e) => e.resource as AuditEvent)
        .filter((e) => e.type.code === '110107') ?? [];
    expect(receipts.some((e) => e.outcome === '0' && /6 resources returned/.test(e.outcomeDesc ?? ''))).toBe(
      true,
    );
  }, 30_000);

  it('the clinic can later prove what it was shown: its Provenances are anchored', async () => {
    const list = await call(clinic, 'GET', `/fhir/Provenance?patient=${clinicPatient}`);
    expect(list.status).toBe(200);
    const provenances = (list.json as Bundle).entry ?? [];
    expect(provenances.length).toBeGreaterThanOrEqual(1);
    const id = provenances[0]?.resource?.id as string;
    const raw = await fetch(`${clinic.url}/fhir/Provenance/${id}`, {
      headers: { authorization: `Bearer ${clinic.token}` },
    });
    const bytes = Buffer.from(await raw.arrayBuffer());
    const proof = await until('the Provenance anchored', async () => {
      const res = await call(clinic, 'GET', `/fhir/Provenance/${id}/$proof`);
      return res.status === 200 ? res.json : undefined;
    });
    const { createHash } = await import('node:crypto');
    expect(proof.record.contentHash).toBe(`0x${createHash('sha256').update(bytes).digest('hex')}`);
    expect(proof.record.kind).toBe('exchange.provenance');
    expect(proof.anchor.organization.toLowerCase()).toBe(clinic.address.toLowerCase());
    // The copies are kept once per version, sealed (no clear PHI in the clinic's database), whatever the refetches.
    const db = new Database(join(clinic.dataDir, 'careledger.db'), { readonly: true });
    try {
      const rows = db.prepare('SELECT resource_type, payload FROM exchange_copies').all() as {
        resource_type: string;
        payload: Buffer;
      }[];
      expect(rows.map((r) => r.resource_type).sort()).toEqual([
        'Observation',
        'Observation',
        'Observation',
        'Observation',
        'Observation',
        'Patient',
      ]);
      for (const row of rows) expect(row.payload.includes(Buffer.from('Okafor'))).toBe(false);
    } finally {
      db.close();
    }
    // Read-only, and not for other organisations' eyes: written by the server alone.
    expect((await call(clinic, 'POST', '/fhir/Provenance', { resourceType: 'Provenance' })).status).toBe(405);
  }, 30_000);

  it('a response altered in transit (one byte, by a proxy) is detected and nothing of it is shown', async () => {
    const proxy = await tamperingProxy(hospital.url);
    const hospitalKey = readFileSync(join(hospital.dataDir, 'keys', 'org-chain.key'), 'utf8').trim() as Hex;
    const masterKey = readFileSync(join(hospital.dataDir, 'keys', 'master.key'), 'utf8').trim() as Hex;
    const clients = createChainClients(net.anvil.rpcUrl, net.anvil.chainId, hospitalKey);
    const updateEndpoint = async (url: string) => {
      const hash = await clients.walletClient.writeContract({
        address: net.contracts?.organizationRegistry as Hex,
        abi: organizationRegistryAbi,
        functionName: 'updateEndpoint',
        args: [url, toHex(organizationEncryptionPublicKey(masterKey))],
      });
      await clients.publicClient.waitForTransactionReceipt({ hash });
    };
    try {
      await updateEndpoint(proxy.url);
      const { bundle, outcome } = await fetchExternal(clinic, clinicPatient);
      expect(proxy.flipped()).toBeGreaterThan(0);
      expect(matches(bundle)).toHaveLength(0);
      const rejected = outcome?.issue.find((i) => i.code === 'security');
      expect(rejected?.details?.text).toBe('ENVELOPE.BAD_SIGNATURE');
      expect(rejected?.diagnostics).toMatch(/rejected and nothing of it is shown/);
    } finally {
      await updateEndpoint(hospital.url);
      proxy.server.close();
    }
  }, 60_000);

  it('a suspended organisation is refused from the next request on, and served again once reinstated', async () => {
    const suspend = await captureCli(() =>
      orgSuspendCommand({ network: dir, address: clinic.address, reason: 'audit' }),
    );
    expect(suspend.code, suspend.stderr).toBe(0);
    try {
      const { bundle, outcome } = await fetchExternal(clinic, clinicPatient);
      expect(matches(bundle)).toHaveLength(0);
      expect(JSON.stringify(outcome)).toMatch(/not an active member/);
    } finally {
      const reinstate = await captureCli(() =>
        orgReinstateCommand({ network: dir, address: clinic.address }),
      );
      expect(reinstate.code, reinstate.stderr).toBe(0);
    }
    const { bundle } = await fetchExternal(clinic, clinicPatient);
    expect(bundle.total).toBe(6);
  }, 60_000);

  it('after the patient revokes the consent, the clinic receives nothing more', async () => {
    await revoke(clinic, patient, consentId);
    const { bundle, outcome } = await fetchExternal(clinic, clinicPatient);
    expect(bundle.total).toBe(0);
    expect(outcome?.issue.find((i) => i.code === 'suppressed')?.diagnostics).toMatch(
      /withheld 6 resources .*REVOKED/,
    );
  }, 60_000);

  it('a stopped gateway is reported clearly and quickly while the others keep serving', async () => {
    // The insurer holds records for the patient too, then stops.
    const insurerPatient = await create(insurer, { resourceType: 'Patient', name: [{ family: 'Okafor' }] });
    await linkAt(insurer, insurerPatient);
    await holdersWhen('three holders', (list) => list.length === 3);
    await grant(hospital, patient, clinic.address, ['type:Observation']);
    process.kill(insurer.pid as number, 'SIGKILL');
    await until('the insurer gone', async () => (isAlive(insurer.pid) ? undefined : true));

    const { bundle, outcome, ms } = await until('observations verified again', async () => {
      const r = await fetchExternal(clinic, clinicPatient);
      return matches(r.bundle, 'Observation').length === 5 ? r : undefined;
    });
    // 1 + EXCHANGE_RETRIES attempts of at most EXCHANGE_TIMEOUT_MS (3 s) each, plus the retry pause.
    expect(ms).toBeLessThan(8_000);
    expect(matches(bundle, 'Observation')).toHaveLength(5);
    const missing = outcome?.issue.find((i) => i.code === 'transient');
    expect(missing?.severity).toBe('error');
    expect(missing?.diagnostics).toMatch(/insurer .* did not answer after 2 attempts/);
    // The clinic keeps working on its own data.
    await create(clinic, observation(clinicPatient, 1));
  }, 90_000);

  it("erasing the patient at the hospital withdraws the hospital from the patient's holders", async () => {
    const erase = await call(hospital, 'POST', `/admin/patients/${hospitalPatient}/erase`);
    expect(erase.status, JSON.stringify(erase.json)).toBe(200);
    const holders = await holdersWhen(
      'the hospital withdrawn',
      (list) => !list.some((h) => h.toLowerCase() === hospital.address.toLowerCase()),
    );
    expect(holders.map((h) => h.toLowerCase())).toContain(clinic.address.toLowerCase());
  }, 30_000);

  it('refuses bad requests on the gateway-to-gateway endpoint without a crash', async () => {
    const post = (body: string, type = 'application/json') =>
      fetch(`${hospital.url}/exchange/v1/requests`, {
        method: 'POST',
        headers: { 'content-type': type },
        body,
      });
    for (const body of ['{}', '[]', '{"format":"careledger.exchange/v1"}', 'null']) {
      const res = await post(body);
      expect(res.status).toBe(400);
      const problem = (await res.json()) as { code?: string; detail?: string };
      expect(problem.detail).toBeTruthy();
    }
    expect((await post('x'.repeat(100_000))).status).toBe(413);
    // A Patient without a linked key cannot be looked up elsewhere: the error says what to do.
    const unlinked = await call(clinic, 'GET', `/fhir/Patient/not-here/$fetch-external`);
    expect(unlinked.status).toBe(409);
    expect(JSON.stringify(unlinked.json)).toMatch(/careledger patient link/);
  }, 30_000);
});
