/**
 * Cross-gateway fetch (row 9): two in-process nodes on one chain. Node A (the holder) runs the embedded anvil and
 * holds a patient's record of 1 Patient + 199 Observations; node B (the requester) joins A's chain as a member A
 * admitted (name, PROVIDER, gateway URL, X25519 key) before it started. The patient's key is linked at both, and
 * the patient granted B (and A itself, for the baseline) TREAT access to `type:Patient` and `type:Observation`.
 * Timed: `GET {B}/fhir/Patient/{id}/$fetch-external`, one at a time, against the same 200 resources read from A's
 * own store by A's own staff (`GET /fhir/Patient/{id}` + `GET /fhir/Observation?patient={id}&_count=200`, consent
 * enforced and audited there too), the two alternating so a slow spell of the machine hits both. The record is
 * written in three anchored batches (the Patient, then two Bundles of Observations), so B checks three roots.
 */
import { performance } from 'node:perf_hooks';
import type { Bundle, OperationOutcome, Provenance } from '@medplum/fhirtypes';
import { createTestClient, http, parseEther } from 'viem';
import { generatePrivateKey, privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts';
import { admitOrganization } from '../src/cli/org.js';
import { organizationEncryptionPublicKey } from '../src/keys/organizationEncryptionKey.js';
import { freeLoopbackPort } from '../src/ledger/anvil/embeddedAnvil.js';
import { createChainClients } from '../src/ledger/chainClients.js';
import { rolesToMask } from '../src/ledger/organizationRoles.js';
import type { RunningNode } from '../src/node/startNode.js';
import { signedLinkRequest } from '../src/patients/patientLink.js';
import { startBenchNode } from './benchNode.js';
import type { Cleanup } from './cleanup.js';
import { fmt, fmtRatio, type Row } from './report.js';
import { makeObservation, makePatient, prng, transactionBundle } from './fhirResources.js';
import { grantTreat } from './patientConsent.js';
import { BENCH_TOKEN, type BenchSettings } from './settings.js';
import { percentile, sleep } from './timing.js';

/** Resources in the patient's record at the holder: the Patient and 199 Observations. */
const RECORD_SIZE = 200;
const BUNDLE_SIZE = 100;
const FHIR_JSON = 'application/fhir+json';

export interface LatencyStats {
  ok: number;
  failed: number;
  latencyMs: { p50: number; p90: number; max: number; mean: number };
  /** Resources per second at the median latency (`RECORD_SIZE / p50`). */
  resourcesPerSecond: number | null;
  /** Mean bytes of the answer(s) per fetch. */
  meanBytes: number;
}

export interface ExchangeFetchResult {
  resources: number;
  fetches: number;
  setupSeconds: number;
  crossGateway: LatencyStats;
  local: LatencyStats;
  /** Cross-gateway p50 latency over local p50 latency. */
  latencyRatio: number | null;
  /** Distinct Merkle roots among the received proofs (B looks each one up on chain once per fetch). */
  distinctRoots: number | null;
  problems: string[];
}

interface Answer {
  ms: number;
  bytes: number;
  /** Why this answer does not count, or null. */
  problem: string | null;
  roots: number | null;
}

export async function runExchangeFetch(
  settings: BenchSettings,
  cleanup: Cleanup,
  log: (line: string) => void,
): Promise<ExchangeFetchResult> {
  const problems: string[] = [];
  const setupStart = performance.now();

  // A: the holder, with its own embedded chain; its account is the consortium admin. A fixed port, because the
  // gateway URL it admits itself with is what B calls (with PORT=0 it would register `http://127.0.0.1:0`).
  const aKey = generatePrivateKey();
  const aPort = await freeLoopbackPort();
  const a = await startBenchNode(settings.batchAgeMs, cleanup, log, {
    CONSENT_ENFORCEMENT: 'on',
    CARELEDGER_ORG_NAME: 'bench holder',
    CARELEDGER_ORG_KEY: aKey,
    PORT: String(aPort),
    CARELEDGER_GATEWAY_URL: `http://127.0.0.1:${aPort}`,
  });
  const deployment = a.node.deployment();

  // B: the requester, admitted by A and funded on A's chain before it starts (as `network up` does for members).
  const bKey = generatePrivateKey();
  const bMasterKey = generatePrivateKey();
  const bAddress = privateKeyToAccount(bKey).address;
  const bPort = await freeLoopbackPort();
  const bUrl = `http://127.0.0.1:${bPort}`;
  const admin = createChainClients(a.node.rpcUrl, deployment.chainId, aKey);
  await createTestClient({ mode: 'anvil', chain: admin.chain, transport: http(a.node.rpcUrl) }).setBalance({
    address: bAddress,
    value: parseEther('1000000'),
  });
  await admitOrganization(admin, deployment.organizationRegistry, {
    address: bAddress,
    name: 'bench requester',
    roles: rolesToMask(['PROVIDER']),
    gatewayUrl: bUrl,
    encryptionPublicKey: organizationEncryptionPublicKey(bMasterKey),
  });
  log(`exchange fetch: admitted the requester ${bAddress} at ${bUrl}; starting it on ${a.node.rpcUrl}…`);
  const b = await startBenchNode(settings.batchAgeMs, cleanup, log, {
    CONSENT_ENFORCEMENT: 'on',
    CARELEDGER_ORG_NAME: 'bench requester',
    CHAIN_RPC_URL: a.node.rpcUrl,
    CARELEDGER_ORG_REGISTRY: deployment.organizationRegistry,
    CARELEDGER_ANCHOR_REGISTRY: deployment.anchorRegistry,
    CARELEDGER_CONSENT_REGISTRY: deployment.consentRegistry,
    CARELEDGER_RECORD_LOCATOR: deployment.recordLocator,
    CARELEDGER_SUPPLY_CHAIN_REGISTRY: deployment.supplyChainRegistry,
    CARELEDGER_ORG_KEY: bKey,
    CARELEDGER_MASTER_KEY: bMasterKey,
    PORT: String(bPort),
    CARELEDGER_GATEWAY_URL: bUrl,
  });

  const api = (node: RunningNode, path: string, init: RequestInit = {}) =>
    fetch(`${node.url}${path}`, {
      ...init,
      headers: {
        authorization: `Bearer ${BENCH_TOKEN}`,
        accept: FHIR_JSON,
        'x-purpose-of-use': 'TREAT',
        ...(init.headers ?? {}),
      },
    });
  const expectOk = async (res: Response, what: string) => {
    if (!res.ok) throw new Error(`${what}: HTTP ${res.status} ${(await res.text()).slice(0, 300)}`);
    return res;
  };
  const put = async (node: RunningNode, path: string, body: object, what: string) =>
    expectOk(
      await api(node, path, {
        method: 'PUT',
        headers: { 'content-type': FHIR_JSON },
        body: JSON.stringify(body),
      }),
      what,
    );

  // The same person at both organisations, under each one's own Patient id.
  const rnd = prng(0xe7);
  const person = makePatient(0, rnd);
  const aId = 'xf-holder';
  const bId = 'xf-requester';
  log(`exchange fetch: a patient with ${RECORD_SIZE} resources at the holder, linked at both, consents…`);
  await put(a.node, `/fhir/Patient/${aId}`, { ...person, id: aId }, 'Patient at the holder');
  await put(b.node, `/fhir/Patient/${bId}`, { ...person, id: bId }, 'Patient at the requester');
  const patient = privateKeyToAccount(generatePrivateKey());
  await linkKey(a.node, aId, patient, deployment.chainId).then((res) => expectOk(res, 'link at the holder'));
  await linkKey(b.node, bId, patient, deployment.chainId).then((res) =>
    expectOk(res, 'link at the requester'),
  );
  // Relayed through A (as consentReads does): B for the exchange, A for its own staff's baseline reads (with
  // enforcement on, A's staff need the patient's consent too).
  for (const grantee of [b.node.organization, a.node.organization]) {
    await grantTreat(a.node.consent.ledger, patient, grantee, ['type:Patient', 'type:Observation']);
  }
  // Everything at A anchored before the next write (else the fetch reports resources as pending), so the record
  // spans a known number of batches: the Patient in one, each Bundle of Observations in the next ones.
  const deadline = Date.now() + settings.confirmTimeoutMs;
  const waitFor = async (what: string, probe: () => Promise<boolean>) => {
    while (!(await probe())) {
      if (Date.now() > deadline) throw new Error(`exchange fetch: timed out waiting for ${what}`);
      await sleep(50);
    }
  };
  const anchored = () =>
    waitFor("the holder's resources anchored", async () => {
      const h = (await (await api(a.node, '/health')).json()) as {
        anchoring: { pendingRecords: number; batches: { sealed: number; submitted: number } };
      };
      const s = h.anchoring;
      return s.pendingRecords === 0 && s.batches.sealed === 0 && s.batches.submitted === 0;
    });
  await anchored();
  for (let first = 0; first < RECORD_SIZE - 1; first += BUNDLE_SIZE) {
    const count = Math.min(BUNDLE_SIZE, RECORD_SIZE - 1 - first);
    const resources = Array.from({ length: count }, (_, k) => makeObservation(first + k, aId, rnd));
    await expectOk(
      await api(a.node, '/fhir', {
        method: 'POST',
        headers: { 'content-type': FHIR_JSON },
        body: JSON.stringify(transactionBundle(resources, first)),
      }),
      'Observation Bundle at the holder',
    );
    await anchored();
  }
  // A on the locator: announced in the background after the link.
  await waitFor('the holder on the record locator', async () =>
    (await b.node.recordLocator.holdersOf(patient.address)).some(
      (h) => h.toLowerCase() === a.node.organization.toLowerCase(),
    ),
  );

  const crossGateway = async (): Promise<Answer> => {
    const t0 = performance.now();
    const res = await api(b.node, `/fhir/Patient/${bId}/$fetch-external`);
    const text = await res.text();
    const ms = performance.now() - t0;
    return { ms, bytes: Buffer.byteLength(text), ...checkExternal(res.status, text) };
  };
  const local = async (): Promise<Answer> => {
    const t0 = performance.now();
    const p = await api(a.node, `/fhir/Patient/${aId}`);
    const pText = await p.text();
    const o = await api(a.node, `/fhir/Observation?patient=${aId}&_count=${RECORD_SIZE}`);
    const oText = await o.text();
    const ms = performance.now() - t0;
    return {
      ms,
      bytes: Buffer.byteLength(pText) + Buffer.byteLength(oText),
      ...checkLocal(p.status, o.status, oText),
      roots: null,
    };
  };

  // Warm-up (untimed): the first complete answer; also the first cross-gateway connection and consent reads.
  let lastProblem: string | null = null;
  await waitFor('a complete cross-gateway answer', async () => {
    lastProblem = (await crossGateway()).problem;
    if (lastProblem !== null) await sleep(200);
    return lastProblem === null;
  }).catch((error: unknown) => {
    throw new Error(`${error instanceof Error ? error.message : String(error)} (last: ${lastProblem})`);
  });
  const warmLocal = await local();
  if (warmLocal.problem !== null) throw new Error(`exchange fetch: local read: ${warmLocal.problem}`);
  const setupSeconds = (performance.now() - setupStart) / 1000;

  log(
    `exchange fetch: ${settings.exchangeFetches} cross-gateway fetches of ${RECORD_SIZE} resources, each followed by the same read from the holder's store…`,
  );
  const cross: Answer[] = [];
  const near: Answer[] = [];
  for (let i = 0; i < settings.exchangeFetches; i++) {
    cleanup.throwIfAborted();
    cross.push(await crossGateway());
    near.push(await local());
  }
  await b.stop();
  await a.stop();

  const report = (what: string, answers: Answer[]) => {
    const failed = answers.filter((x) => x.problem !== null);
    if (failed.length > 0) {
      const examples = [...new Set(failed.map((x) => x.problem))].slice(0, 3).join(' | ');
      problems.push(
        `exchange fetch: ${failed.length} of ${answers.length} ${what} incomplete, e.g. ${examples}`,
      );
    }
  };
  report('cross-gateway fetches', cross);
  report('local reads', near);
  const crossStats = stats(cross);
  const localStats = stats(near);
  const roots = [...new Set(cross.map((x) => x.roots).filter((r): r is number => r !== null))];
  if (roots.length > 1)
    problems.push(`exchange fetch: answers named different numbers of roots (${roots.join(', ')})`);
  return {
    resources: RECORD_SIZE,
    fetches: cross.length,
    setupSeconds,
    crossGateway: crossStats,
    local: localStats,
    latencyRatio:
      crossStats.ok > 0 && localStats.ok > 0 ? crossStats.latencyMs.p50 / localStats.latencyMs.p50 : null,
    distinctRoots: roots.length > 0 ? Math.max(...roots) : null,
    problems,
  };
}

/** Links `account` to Patient/`patientId` at `node` with a signed link statement (as `careledger patient link`). */
async function linkKey(
  node: RunningNode,
  patientId: string,
  account: PrivateKeyAccount,
  chainId: number,
): Promise<Response> {
  const request = await signedLinkRequest(account, { patientId, organization: node.organization, chainId });
  return fetch(`${node.url}/admin/patients/${patientId}/link`, {
    method: 'POST',
    headers: { authorization: `Bearer ${BENCH_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(request),
  });
}

/** A `$fetch-external` answer counts when it has every resource, verified, and no error issue. */
function checkExternal(status: number, text: string): { problem: string | null; roots: number | null } {
  if (status !== 200) return { problem: `HTTP ${status} ${text.slice(0, 200)}`, roots: null };
  const bundle = JSON.parse(text) as Bundle;
  const matches = (bundle.entry ?? []).filter((e) => e.search?.mode === 'match').length;
  const outcome = bundle.entry?.find((e) => e.resource?.resourceType === 'OperationOutcome')?.resource as
    OperationOutcome | undefined;
  const provenance = bundle.entry?.find((e) => e.resource?.resourceType === 'Provenance')?.resource as
    Provenance | undefined;
  // Each entity names the root of the batch its proof leads to (exchangeProvenance).
  const roots = new Set(
    (provenance?.entity ?? []).map((e) => /root (0x[0-9a-f]{64})/i.exec(e.what.display ?? '')?.[1]),
  );
  roots.delete(undefined);
  const errors = (outcome?.issue ?? []).filter((i) => i.severity === 'error' || i.severity === 'fatal');
  const issues = (outcome?.issue ?? []).map((i) => i.diagnostics ?? i.code).join('; ');
  const problem =
    bundle.total !== RECORD_SIZE || matches !== RECORD_SIZE || errors.length > 0
      ? `total ${bundle.total ?? 'n/a'}, ${matches} entries, ${errors.length} error issues${issues ? `: ${issues.slice(0, 300)}` : ''}`
      : null;
  return { problem, roots: provenance ? roots.size : null };
}

/** The local read counts when the Patient and all its Observations came back. */
function checkLocal(
  patientStatus: number,
  searchStatus: number,
  searchText: string,
): { problem: string | null } {
  if (patientStatus !== 200 || searchStatus !== 200) {
    return { problem: `HTTP ${patientStatus} / ${searchStatus} ${searchText.slice(0, 200)}` };
  }
  const bundle = JSON.parse(searchText) as Bundle;
  const matches = (bundle.entry ?? []).filter((e) => e.search?.mode === 'match').length;
  return matches === RECORD_SIZE - 1
    ? { problem: null }
    : { problem: `the search returned ${matches} Observations, not ${RECORD_SIZE - 1}` };
}

function stats(answers: Answer[]): LatencyStats {
  const ok = answers.filter((x) => x.problem === null);
  const sorted = Float64Array.from(ok.map((x) => x.ms)).sort();
  const p50 = percentile(sorted, 50);
  return {
    ok: ok.length,
    failed: answers.length - ok.length,
    latencyMs: {
      p50,
      p90: percentile(sorted, 90),
      max: percentile(sorted, 100),
      mean: ok.length > 0 ? sorted.reduce((s, v) => s + v, 0) / ok.length : 0,
    },
    resourcesPerSecond: ok.length > 0 && p50 > 0 ? (RECORD_SIZE * 1000) / p50 : null,
    meanBytes: ok.length > 0 ? ok.reduce((s, x) => s + x.bytes, 0) / ok.length : 0,
  };
}

/** Row 9 of the table: latency and resources/s of the cross-gateway fetch, against the holder's own store. */
export function exchangeFetchRows(x: ExchangeFetchResult | null): Row[] {
  const cross = x && x.crossGateway.ok > 0 ? x.crossGateway : null;
  const local = x && x.local.ok > 0 ? x.local : null;
  const ms = (v: number | null | undefined) => (v == null ? 'n/a' : `${fmt(v, 1)} ms`);
  const perSecond = (v: number | null | undefined) => (v == null ? 'n/a' : `${fmt(v)}/s`);
  const ratio = (a: number | null | undefined, b: number | null | undefined) =>
    a != null && b != null && b > 0 ? a / b : null;
  return [
    {
      figure: `9. Cross-gateway fetch, ${RECORD_SIZE} resources, p50`,
      value: ms(cross?.latencyMs.p50),
      baseline: `local store ${ms(local?.latencyMs.p50)}`,
      ratio: fmtRatio(ratio(cross?.latencyMs.p50, local?.latencyMs.p50)),
      target: '',
      status: '',
    },
    {
      figure: '   resources/s, every proof verified',
      value: perSecond(cross?.resourcesPerSecond),
      baseline: `local store ${perSecond(local?.resourcesPerSecond)}`,
      ratio: fmtRatio(ratio(cross?.resourcesPerSecond, local?.resourcesPerSecond)),
      target: '',
      status: '',
    },
  ];
}

/** The detail line under the table: what one fetch does, and the figures behind row 9. */
export function exchangeFetchDetail(x: ExchangeFetchResult): string {
  const lat = (v: LatencyStats) =>
    `p50 ${fmt(v.latencyMs.p50, 1)} ms, p90 ${fmt(v.latencyMs.p90, 1)} ms, max ${fmt(v.latencyMs.max, 1)} ms`;
  const rate = (v: LatencyStats) =>
    v.resourcesPerSecond === null ? 'n/a' : `${fmt(v.resourcesPerSecond)}/s`;
  return (
    `cross-gateway fetch: node B asks node A (same chain) for a patient's ${x.resources} resources (1 Patient, ` +
    `${x.resources - 1} Observations; setup ${fmt(x.setupSeconds, 1)} s). Each fetch: a request signed with B's ` +
    `chain key and sealed to A's X25519 key; A checks B's standing and the patient's consent per resource, attaches ` +
    `each proof, audits the disclosure and seals the answer; B opens it, verifies every proof, looks each root up on ` +
    `chain once per fetch (${x.distinctRoots ?? 'n/a'} distinct roots), keeps the copies and one anchored Provenance ` +
    `and audits the receipt. ${x.crossGateway.ok} of ${x.fetches} fetches complete, one at a time after a warm-up: ` +
    `${lat(x.crossGateway)}, ${rate(x.crossGateway)} at p50, answer ${fmt(x.crossGateway.meanBytes / 1024)} KiB. ` +
    `Same resources from A's store (GET Patient + Observation search by A's staff, consent checked, audited), ` +
    `alternating with the fetches: ${x.local.ok} of ${x.fetches}, ${lat(x.local)}, ${rate(x.local)}, ` +
    `${fmt(x.local.meanBytes / 1024)} KiB`
  );
}
