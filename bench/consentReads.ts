/**
 * FHIR reads with consent enforcement on: a fresh node with `CONSENT_ENFORCEMENT=on`; Patients whose keys are linked
 * and who each granted the node's organisation TREAT access to their Observations on the real ConsentRegistry;
 * Observations created in transaction Bundles; then timed `GET /fhir/Observation/{id}` by a clinician. The same
 * reads with enforcement off are the FHIR section's (row 6), measured in the same run.
 */
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import type { Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { signedLinkRequest } from '../src/patients/patientLink.js';
import { startBenchNode } from './benchNode.js';
import type { Cleanup } from './cleanup.js';
import type { FhirLoadMessage, FhirReadJob, PhaseResult } from './fhirLoadTypes.js';
import { makeObservation, makePatient, prng, transactionBundle } from './fhirResources.js';
import { grantTreat } from './patientConsent.js';
import { BENCH_TOKEN, type BenchSettings } from './settings.js';
import { startTsWorker } from './tsWorker.js';

export interface ConsentReadsResult {
  patients: number;
  observations: number;
  setupSeconds: number;
  reads: PhaseResult;
  /** Node-thread busy time per read, µs. */
  nodeBusyUsPerRead: number | null;
}

const OBSERVATIONS = 2_000;

export async function runConsentReads(
  settings: BenchSettings,
  cleanup: Cleanup,
  log: (line: string) => void,
): Promise<ConsentReadsResult> {
  const { node, stop } = await startBenchNode(settings.batchAgeMs, cleanup, log, {
    CONSENT_ENFORCEMENT: 'on',
  });
  const setupStart = performance.now();
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${node.url}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${BENCH_TOKEN}`, ...(init.headers ?? {}) },
    });
  const expectOk = async (res: Response, what: string) => {
    if (!res.ok) throw new Error(`${what}: HTTP ${res.status} ${(await res.text()).slice(0, 300)}`);
    return res;
  };
  const chainId = ((await (await api('/health')).json()) as { chain: { chainId: number } }).chain.chainId;
  const ledger = node.consent.ledger;
  const domain = await ledger.domain();
  const rnd = prng(0xc0);
  const patients = settings.fhirPatients;
  log(`consent reads: ${patients} Patients with linked keys, each granting TREAT on Observations…`);
  for (let i = 0; i < patients; i++) {
    const id = `cp-${i}`;
    await expectOk(
      await api(`/fhir/Patient/${id}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/fhir+json' },
        body: JSON.stringify({ ...makePatient(i, rnd), id }),
      }),
      `Patient ${id}`,
    );
    const account = privateKeyToAccount(generatePrivateKey());
    const request = await signedLinkRequest(account, {
      patientId: id,
      organization: node.organization,
      chainId,
    });
    await expectOk(
      await api(`/admin/patients/${id}/link`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(request),
      }),
      `link ${id}`,
    );
    await grantTreat(ledger, account, node.organization as Hex, ['type:Observation'], { domain, nonce: 0n });
  }
  log(`consent reads: ${OBSERVATIONS.toLocaleString('en-US')} Observations in transaction Bundles…`);
  const paths: string[] = [];
  for (let b = 0; b < OBSERVATIONS / 100; b++) {
    const resources = Array.from({ length: 100 }, (_, k) =>
      makeObservation(b * 100 + k, `cp-${Math.floor(rnd() * patients)}`, rnd),
    );
    const res = await expectOk(
      await api('/fhir', {
        method: 'POST',
        headers: { 'content-type': 'application/fhir+json' },
        body: JSON.stringify(transactionBundle(resources, b * 100)),
      }),
      'Observation Bundle',
    );
    const reply = (await res.json()) as { entry?: { response?: { location?: string } }[] };
    for (const entry of reply.entry ?? []) {
      const m = /(Observation\/[A-Za-z0-9\-.]+)\/_history/.exec(entry.response?.location ?? '');
      if (m) paths.push(`/fhir/${m[1]}`);
    }
  }
  // As in the FHIR section: everything anchored first, so anchoring does not land in the read figure; then one
  // untimed read per patient fills the consent cache (steady state: the cache-hit path, as row 8 measures).
  for (const deadline = Date.now() + settings.confirmTimeoutMs; Date.now() < deadline;) {
    const a = (
      (await (await api('/health')).json()) as {
        anchoring: { pendingRecords: number; batches: { sealed: number; submitted: number } };
      }
    ).anchoring;
    if (a.pendingRecords === 0 && a.batches.sealed === 0 && a.batches.submitted === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const warmed = new Set<string>();
  for (const path of paths) {
    const res = await api(path, { headers: { 'x-purpose-of-use': 'TREAT' } });
    await expectOk(res, `warm-up read ${path}`);
    const subject = /"reference":"Patient\/([^"]+)"/.exec(await res.text())?.[1];
    if (subject) warmed.add(subject);
    if (warmed.size >= patients) break;
  }
  const setupSeconds = (performance.now() - setupStart) / 1000;

  log(
    `consent reads: ${settings.fhirReads.toLocaleString('en-US')} reads with consent checks, ${settings.fhirConcurrency} in flight…`,
  );
  let elu: EventLoopUtilization | null = null;
  let busy: number | null = null;
  const job: FhirReadJob = {
    url: node.url,
    token: BENCH_TOKEN,
    paths,
    reads: settings.fhirReads,
    concurrency: settings.fhirConcurrency,
    maxFailures: 50,
    headers: { 'x-purpose-of-use': 'TREAT' },
  };
  const worker = startTsWorker(new URL('./fhirLoadWorker.ts', import.meta.url), job);
  cleanup.defer('stop the consent read worker', () => worker.terminate().then(() => undefined));
  const reads = await new Promise<PhaseResult>((resolve, reject) => {
    worker.on('message', (message: FhirLoadMessage) => {
      if (message.type === 'log') log(message.line);
      else if (message.type === 'phase') {
        if (message.event === 'start') elu = performance.eventLoopUtilization();
        else if (elu) busy = performance.eventLoopUtilization(elu).utilization;
      } else if (message.type === 'readsDone') {
        resolve(message.result);
        void worker.terminate();
      } else if (message.type === 'error')
        reject(new Error(`consent read worker failed: ${message.message}`));
    });
    worker.on('error', reject);
    worker.on('exit', (code) =>
      reject(new Error(`consent read worker exited (code ${code}) before reporting`)),
    );
  });
  await stop();
  return {
    patients,
    observations: paths.length,
    setupSeconds,
    reads,
    nodeBusyUsPerRead: busy !== null && reads.ok > 0 ? (busy * reads.seconds * 1e6) / reads.ok : null,
  };
}
