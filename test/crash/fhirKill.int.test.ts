import { randomBytes, randomInt } from 'node:crypto';
import { Pool } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupNodeProcesses, makeTempDataDir, startNodeProcess } from '../helpers/nodeProcess.js';
import { TEST_AUTH } from '../helpers/testToken.js';
import {
  checkProofOnChain,
  checkRecordAgainstProof,
  parseRecordProof,
} from '../../src/anchoring/verifyRecordProof.js';
import type { RecordProof } from '../../src/anchoring/recordProof.js';
import type { Hex } from '../../src/core/hex.js';
import { createAnchorReader } from '../../src/ledger/viemAnchorReader.js';
import { assertNoFailures, describe as describeError, waitUntilAllAnchored } from './crashSupport.js';

const PATIENTS = 20;
const CONCURRENCY = 32;
const BATCH_SIZE = 1_000;
const BATCH_AGE_MS = 300;
/** Upper bound on writes sent before the kill, so a writer that never reaches the kill point still ends. */
const MAX_WRITES = 8_000;
/** Roughly one write in this many is a Patient update (when some patient has no update in flight). */
const PATIENT_UPDATE_EVERY = 8;
/** How long, after everything is reported anchored, a `$proof` may still answer 409 (not anchored yet). */
const PROOF_WAIT_MS = 20_000;

const NODE_ENV = {
  ANCHOR_BATCH_SIZE: String(BATCH_SIZE),
  ANCHOR_BATCH_AGE_MS: String(BATCH_AGE_MS),
  FHIR_VALIDATION_WORKERS: '1', // as in production: validation on a worker thread
};
const FHIR_JSON = 'application/fhir+json';
const MARKER_SYSTEM = 'urn:careledger:test:crash-marker';

type WrittenType = 'Patient' | 'Observation';

/** A FHIR write the node acknowledged (201/200): the stored JSON and ETag it answered with. */
interface AckedWrite {
  type: WrittenType;
  id: string;
  version: number;
  json: string;
  etag: string;
  marker: string;
  /** The patient the write is for (the Patient itself, or the Observation's subject). */
  patient: string;
  phase: string;
}

/** A write that got no acknowledgement: the node may or may not have stored it. */
interface UnackedWrite {
  type: WrittenType;
  marker: string;
  patient: string;
  error: string;
  /** False when it failed before the kill (a real failure). */
  expected: boolean;
}

/** A version to check against the node and the chain. */
interface VersionToCheck {
  type: WrittenType;
  id: string;
  version: number;
  /** The acknowledged JSON; absent for a version nobody acknowledged (it only has to be complete). */
  json?: string;
  where: string;
}

const run = randomBytes(4).toString('hex');
const patientIds = Array.from({ length: PATIENTS }, (_, i) => `crash-${run}-p${i}`);

function patientResource(id: string, marker: string, revision: number) {
  return {
    resourceType: 'Patient',
    id,
    identifier: [{ system: MARKER_SYSTEM, value: marker }],
    name: [{ family: `Crash${id.replaceAll('-', '')}`, given: ['Revision', String(revision)] }],
    gender: 'female',
    birthDate: '1970-05-06',
  };
}

function observationResource(patient: string, marker: string, n: number) {
  return {
    resourceType: 'Observation',
    identifier: [{ system: MARKER_SYSTEM, value: marker }],
    status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code: '8867-4', display: 'Heart rate' }] },
    subject: { reference: `Patient/${patient}` },
    effectiveDateTime: new Date(Date.UTC(2024, 0, 1) + n * 60_000).toISOString(),
    valueQuantity: {
      value: 40 + (n % 120),
      unit: 'beats/minute',
      system: 'http://unitsofmeasure.org',
      code: '/min',
    },
  };
}

/** Checks a write answer and turns it into an acknowledgement; throws saying what is wrong with it. */
function acknowledgement(
  type: WrittenType,
  marker: string,
  patient: string,
  phase: string,
  status: number,
  etag: unknown,
  text: string,
): AckedWrite {
  const body = JSON.parse(text) as any;
  const version = Number(body?.meta?.versionId);
  const id = String(body?.id);
  if (body?.resourceType !== type) throw new Error(`answered a ${String(body?.resourceType)}`);
  if (body?.identifier?.[0]?.value !== marker) throw new Error(`answered JSON without the marker ${marker}`);
  if (etag !== `W/"${version}"`) throw new Error(`ETag ${String(etag)} for meta.versionId ${version}`);
  if (type === 'Observation' && (status !== 201 || version !== 1))
    throw new Error(`create answered ${status} with version ${version}`);
  return { type, id, version, json: text, etag, marker, patient, phase };
}

describe('kill -9 of the gateway while a writer sends FHIR creates and updates', () => {
  afterEach(async () => {
    await cleanupNodeProcesses();
  }, 60_000);

  it('after a restart, every acknowledged FHIR write is stored byte for byte, anchored and searchable', async () => {
    const startedAt = Date.now();
    const dataDir = makeTempDataDir();
    const first = await startNodeProcess({ dataDir, env: NODE_ENV });
    const acked: AckedWrite[] = [];
    const unacked: UnackedWrite[] = [];

    // 1. The patients, with known ids (PUT creates them).
    const setupPool = new Pool(first.url, { connections: 8, pipelining: 1 });
    try {
      await Promise.all(
        patientIds.map(async (id) => {
          const marker = `${run}-${id}-v1`;
          const res = await setupPool.request({
            method: 'PUT',
            path: `/fhir/Patient/${id}`,
            headers: { 'content-type': FHIR_JSON, ...TEST_AUTH },
            body: JSON.stringify(patientResource(id, marker, 1)),
          });
          const text = await res.body.text();
          if (res.statusCode !== 201)
            throw new Error(`PUT Patient/${id} answered ${res.statusCode}: ${text.slice(0, 300)}`);
          const ack = acknowledgement('Patient', marker, id, 'setup', 201, res.headers.etag, text);
          expect(ack.version, `Patient/${id} is new`).toBe(1);
          expect(ack.id).toBe(id);
          acked.push(ack);
        }),
      );
    } finally {
      await setupPool.destroy();
    }

    // 2. 32 writers: Observation creates with Patient updates mixed in; SIGKILL after 1,500–2,500 acknowledgements.
    const killAfter = 1_500 + randomInt(1_001);
    let killed = false;
    let sent = 0;
    let ackedInRun = 0;
    /** Patients with an update in flight: at most one per patient, so versions are known exactly. */
    const updating = new Set<string>();
    /** Highest acknowledged version per patient. */
    const patientVersion = new Map(patientIds.map((id) => [id, 1]));
    const writerPool = new Pool(first.url, {
      connections: CONCURRENCY,
      pipelining: 1,
      headersTimeout: 30_000,
      bodyTimeout: 30_000,
    });
    const writer = async () => {
      while (!killed && sent < MAX_WRITES) {
        const n = sent++;
        const free = patientIds.filter((id) => !updating.has(id));
        const update = n % PATIENT_UPDATE_EVERY === PATIENT_UPDATE_EVERY - 1 && free.length > 0;
        const patient = update
          ? (free[randomInt(free.length)] as string)
          : (patientIds[randomInt(PATIENTS)] as string);
        const type: WrittenType = update ? 'Patient' : 'Observation';
        const marker = `${run}-${type === 'Patient' ? patient : 'obs'}-w${n}`;
        if (update) updating.add(patient);
        try {
          const res = await writerPool.request(
            update
              ? {
                  method: 'PUT',
                  path: `/fhir/Patient/${patient}`,
                  headers: { 'content-type': FHIR_JSON, ...TEST_AUTH },
                  body: JSON.stringify(patientResource(patient, marker, n)),
                }
              : {
                  method: 'POST',
                  path: '/fhir/Observation',
                  headers: { 'content-type': FHIR_JSON, ...TEST_AUTH },
                  body: JSON.stringify(observationResource(patient, marker, n)),
                },
          );
          const text = await res.body.text();
          const ok = update ? res.statusCode === 200 : res.statusCode === 201;
          if (!ok) throw new Error(`HTTP ${res.statusCode}: ${text.slice(0, 300)}`);
          const ack = acknowledgement(
            type,
            marker,
            patient,
            'before the kill',
            res.statusCode,
            res.headers.etag,
            text,
          );
          if (update) {
            const expected = (patientVersion.get(patient) as number) + 1;
            if (ack.version !== expected)
              throw new Error(
                `update of Patient/${patient} answered version ${ack.version}, expected ${expected}`,
              );
            patientVersion.set(patient, ack.version);
          }
          acked.push(ack);
          ackedInRun++;
          if (!killed && ackedInRun >= killAfter) {
            killed = true;
            first.kill('SIGKILL');
          }
        } catch (error) {
          unacked.push({ type, marker, patient, error: describeError(error), expected: killed });
        } finally {
          if (update) updating.delete(patient);
        }
      }
    };
    try {
      await Promise.all(Array.from({ length: CONCURRENCY }, writer));
    } finally {
      await writerPool.destroy();
    }
    const exit = await first.exited;
    expect(
      killed,
      `the writer never reached the kill point (${ackedInRun} of ${killAfter} acknowledged)`,
    ).toBe(true);
    expect(exit.signal).toBe('SIGKILL');
    assertNoFailures(
      unacked.filter((u) => !u.expected).map((u) => `${u.type} ${u.marker}: ${u.error}`),
      'FHIR writes failed before the node was killed',
    );
    expect(unacked.length, 'no request was in flight when the node was killed').toBeGreaterThan(0);
    const killedAt = Date.now();
    const updates = acked.filter((a) => a.type === 'Patient' && a.phase !== 'setup').length;
    console.log(
      `[fhirKill] killed the node at ${ackedInRun} acknowledged writes (target ${killAfter}; ${updates} Patient ` +
        `updates) ${killedAt - startedAt} ms into the test; ${unacked.length} requests failed in flight`,
    );

    // 3. Restart on the same data folder and wait until everything stored is anchored.
    const second = await startNodeProcess({ dataDir, env: NODE_ENV });
    const listeningAt = Date.now();
    const health = await waitUntilAllAnchored(second.url, 30_000);
    const anchoredAt = Date.now();
    const rpcUrl = health.chain.rpcUrl;
    if (!rpcUrl) throw new Error('the restarted node reports no embedded chain RPC URL');
    const anchorRegistry = health.contracts.anchorRegistry as Hex;

    const pool = new Pool(second.url, { connections: 16, pipelining: 1 });
    const get = async (path: string) => {
      const res = await pool.request({ method: 'GET', path, headers: TEST_AUTH });
      return { status: res.statusCode, etag: res.headers.etag, text: await res.body.text() };
    };
    const failures: string[] = [];
    /** Proofs by version (`Type/id/v`), and one representative proof per Merkle root. */
    const proofs = new Map<string, RecordProof>();
    const byRoot = new Map<string, RecordProof>();
    const proofDeadline = Date.now() + PROOF_WAIT_MS;

    /** vread gives back the acknowledged JSON byte for byte (or any JSON, for an unacknowledged version), and its
     * `$proof` exists and verifies offline against exactly those bytes. */
    const checkVersion = async (v: VersionToCheck): Promise<void> => {
      const path = `/fhir/${v.type}/${v.id}/_history/${v.version}`;
      const read = await get(path);
      if (read.status !== 200) {
        failures.push(`${v.where}: GET ${path} answered ${read.status}: ${read.text.slice(0, 200)}`);
        return;
      }
      if (v.json !== undefined && read.text !== v.json)
        failures.push(
          `${v.where}: vread differs from the acknowledged JSON:\n  got  ${read.text}\n  sent ${v.json}`,
        );
      if (read.etag !== `W/"${v.version}"`) failures.push(`${v.where}: vread ETag ${String(read.etag)}`);
      let proofRes = await get(`${path}/$proof`);
      while (proofRes.status === 409 && Date.now() < proofDeadline) {
        await new Promise((r) => setTimeout(r, 200));
        proofRes = await get(`${path}/$proof`);
      }
      if (proofRes.status !== 200) {
        failures.push(
          `${v.where}: GET ${path}/$proof answered ${proofRes.status}: ${proofRes.text.slice(0, 300)}`,
        );
        return;
      }
      try {
        const proof = parseRecordProof(JSON.parse(proofRes.text));
        checkRecordAgainstProof(Buffer.from(read.text), proof);
        if (proof.record.kind !== `fhir.${v.type}`)
          failures.push(`${v.where}: proof is for a record of kind ${proof.record.kind}`);
        proofs.set(`${v.type}/${v.id}/${v.version}`, proof);
        if (!byRoot.has(proof.tree.root)) byRoot.set(proof.tree.root, proof);
      } catch (error) {
        failures.push(`${v.where}: proof does not verify against the stored JSON: ${describeError(error)}`);
      }
    };
    const checkAll = async (versions: VersionToCheck[]) => {
      const queue = [...versions];
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          for (let next = queue.shift(); next; next = queue.shift()) await checkVersion(next);
        }),
      );
    };

    try {
      // 4. Every acknowledged version: byte-identical vread, proof against those bytes.
      const ackedKeys = new Set<string>();
      for (const a of acked) {
        const key = `${a.type}/${a.id}/${a.version}`;
        if (ackedKeys.has(key)) failures.push(`${key} was acknowledged twice`);
        ackedKeys.add(key);
      }
      await checkAll(
        acked.map((a) => ({
          type: a.type,
          id: a.id,
          version: a.version,
          json: a.json,
          where: `acknowledged ${a.type}/${a.id}/_history/${a.version} (${a.marker}, ${a.phase})`,
        })),
      );

      // 5. Unacknowledged versions that exist anyway must be complete: Patient versions above the last acknowledged.
      const extra: VersionToCheck[] = [];
      const inFlightUpdates = new Map<string, number>();
      for (const u of unacked) if (u.type === 'Patient') inFlightUpdates.set(u.patient, 1);
      for (const id of patientIds) {
        const current = await get(`/fhir/Patient/${id}`);
        const lastAcked = patientVersion.get(id) as number;
        if (current.status !== 200) {
          failures.push(`Patient/${id}: GET answered ${current.status}: ${current.text.slice(0, 200)}`);
          continue;
        }
        const version = Number((JSON.parse(current.text) as any).meta?.versionId);
        const allowed = lastAcked + (inFlightUpdates.get(id) ?? 0);
        if (version < lastAcked || version > allowed)
          failures.push(
            `Patient/${id}: current version ${version}; acknowledged up to ${lastAcked}, allowed ${allowed}`,
          );
        for (let v = lastAcked + 1; v <= Math.min(version, allowed); v++)
          extra.push({
            type: 'Patient',
            id,
            version: v,
            where: `unacknowledged Patient/${id}/_history/${v}`,
          });
      }

      // 6. Search by patient: every acknowledged Observation, and nothing but in-flight ones besides.
      const ackedObs = new Map<string, AckedWrite>();
      for (const a of acked) if (a.type === 'Observation') ackedObs.set(a.marker, a);
      const inFlightObs = new Set(unacked.filter((u) => u.type === 'Observation').map((u) => u.marker));
      let found = 0;
      let foundUnacked = 0;
      for (const patient of patientIds) {
        const res = await get(`/fhir/Observation?patient=${patient}&_count=1000`);
        if (res.status !== 200) {
          failures.push(`search for ${patient} answered ${res.status}: ${res.text.slice(0, 300)}`);
          continue;
        }
        const bundle = JSON.parse(res.text) as any;
        const entries = (bundle.entry ?? []) as any[];
        const expected = [...ackedObs.values()].filter((a) => a.patient === patient);
        const seen = new Set<string>();
        let extras = 0;
        for (const entry of entries) {
          const resource = entry.resource;
          const marker = String(resource?.identifier?.[0]?.value);
          if (seen.has(marker)) failures.push(`search for ${patient}: ${marker} appears twice`);
          seen.add(marker);
          const ack = ackedObs.get(marker);
          if (ack) {
            if (ack.patient !== patient || resource.id !== ack.id)
              failures.push(`search for ${patient}: ${marker} found as Observation/${resource.id}`);
            else if (JSON.stringify(resource) !== JSON.stringify(JSON.parse(ack.json)))
              failures.push(
                `search for ${patient}: Observation/${ack.id} differs from the acknowledged JSON`,
              );
          } else if (inFlightObs.has(marker)) {
            extras++;
            extra.push({
              type: 'Observation',
              id: String(resource.id),
              version: Number(resource.meta?.versionId),
              where: `unacknowledged Observation/${resource.id} (${marker})`,
            });
          } else {
            failures.push(`search for ${patient}: Observation/${resource?.id} (${marker}) was never sent`);
          }
        }
        for (const a of expected)
          if (!seen.has(a.marker))
            failures.push(`search for ${patient}: acknowledged Observation/${a.id} (${a.marker}) is missing`);
        if (bundle.total !== expected.length + extras || entries.length !== bundle.total)
          failures.push(
            `search for ${patient}: total ${bundle.total}, ${entries.length} entries; ` +
              `expected ${expected.length} acknowledged + ${extras} in-flight`,
          );
        found += entries.length;
        foundUnacked += extras;
      }
      await checkAll(extra);

      // 7. Every Merkle root in those proofs is anchored on the node's chain as the proofs say (once per root).
      const reader = createAnchorReader(rpcUrl);
      for (const [root, proof] of byRoot) {
        try {
          await checkProofOnChain(proof, reader, { expectedContract: anchorRegistry });
        } catch (error) {
          failures.push(
            `root ${root} (batch ${proof.batch.sequence}): not verified on chain: ${describeError(error)}`,
          );
        }
      }
      const recordIds = new Map<number, string>();
      for (const [key, proof] of proofs) {
        const rep = byRoot.get(proof.tree.root) as RecordProof;
        if (
          JSON.stringify([proof.tree, proof.batch, proof.anchor]) !==
          JSON.stringify([rep.tree, rep.batch, rep.anchor])
        )
          failures.push(
            `${key}: its proof's anchor differs from the one verified for root ${proof.tree.root}`,
          );
        const other = recordIds.get(proof.record.id);
        if (other !== undefined) failures.push(`${key} and ${other} share ledger record ${proof.record.id}`);
        recordIds.set(proof.record.id, key);
      }

      assertNoFailures(failures, 'acknowledged FHIR writes not intact after the kill and restart');
      expect(proofs.size).toBe(acked.length + extra.length);
      expect(found).toBe(ackedObs.size + foundUnacked);
      console.log(
        `[fhirKill] restart listened ${listeningAt - killedAt} ms after the kill; all anchored ${anchoredAt - listeningAt} ms ` +
          `later; verified ${acked.length} acknowledged versions (${ackedObs.size} Observations) and ` +
          `${extra.length} unacknowledged ones that were stored, ${byRoot.size} roots on chain, in ` +
          `${Date.now() - anchoredAt} ms; test took ${Date.now() - startedAt} ms`,
      );
    } finally {
      await pool.destroy();
    }
  }, 90_000);
});
