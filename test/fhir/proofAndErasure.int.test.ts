/**
 * Anchoring proofs of FHIR versions, checked by `careledger verify` against the node's chain, and erasure of a
 * patient (crypto-shredding): their data becomes unreadable for good while the anchored proofs of existence
 * remain, and nobody else's data is touched.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createApiToken } from '../../src/auth/apiTokens.js';
import { verifyCommand } from '../../src/cli/verify.js';
import { eventually, startTestNode, type TestNode } from '../helpers/inProcessNode.js';

const FHIR_JSON = { 'content-type': 'application/fhir+json' };

describe('FHIR $proof and patient erasure on a real node', () => {
  let node: TestNode;
  let scratch: string;
  let clinicianToken: string;

  const fhir = (path: string, init: RequestInit = {}) => node.api(`/fhir/${path}`, init);
  const json = async (res: Response): Promise<any> => res.json();
  const post = async (type: string, body: object): Promise<any> => {
    const res = await fhir(type, { method: 'POST', headers: FHIR_JSON, body: JSON.stringify(body) });
    if (res.status !== 201) throw new Error(`POST ${type} answered ${res.status}: ${await res.text()}`);
    return res.json();
  };
  const put = (type: string, id: string, body: object) =>
    fhir(`${type}/${id}`, { method: 'PUT', headers: FHIR_JSON, body: JSON.stringify(body) });
  const erase = (id: string, token = node.token) =>
    fetch(`${node.url}/admin/patients/${id}/erase`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
  const total = async (path: string): Promise<number> => {
    const res = await fhir(path);
    expect(res.status, path).toBe(200);
    return (await json(res)).total as number;
  };

  /** The proof of a version, once its batch is confirmed on chain. */
  const proofOf = (type: string, id: string, version: number): Promise<any> =>
    eventually(async () => {
      const res = await fhir(`${type}/${id}/_history/${version}/$proof`);
      if (res.status === 409) return undefined; // not anchored yet
      expect(res.status).toBe(200);
      return json(res);
    }, `the proof of ${type}/${id}/_history/${version}`);

  /** Runs `careledger verify` on the given bytes and proof, with the console muted; returns the exit code. */
  async function verify(bytes: Uint8Array, proof: unknown, name: string): Promise<number> {
    const recordFile = join(scratch, `${name}.json`);
    const proofFile = join(scratch, `${name}.proof.json`);
    writeFileSync(recordFile, bytes);
    writeFileSync(proofFile, JSON.stringify(proof));
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const err = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      return await verifyCommand(recordFile, proofFile, {
        rpc: node.rpcUrl,
        contract: node.deployment().anchorRegistry,
      });
    } finally {
      log.mockRestore();
      err.mockRestore();
    }
  }

  /** The exact bytes the node serves for one version. */
  async function vreadBytes(type: string, id: string, version: number): Promise<Uint8Array> {
    const res = await fhir(`${type}/${id}/_history/${version}`);
    expect(res.status).toBe(200);
    return new Uint8Array(await res.arrayBuffer());
  }

  let patient: any; // erased below
  let observation: any;
  let other: any; // never erased
  let otherObservation: any;
  const saved = new Map<string, { bytes: Uint8Array; proof: any }>();

  beforeAll(async () => {
    node = await startTestNode();
    scratch = mkdtempSync(join(tmpdir(), 'careledger-fhir-proof-'));
    clinicianToken = createApiToken(node.tokens, { name: 'proof-clinician', role: 'clinician' }).token;
    patient = await post('Patient', {
      resourceType: 'Patient',
      name: [{ family: 'Erasable', given: ['Eve'] }],
      identifier: [{ system: 'urn:careledger:test:mrn', value: 'MRN-ERASE-1' }],
      birthDate: '1966-06-06',
    });
    const updated = await put('Patient', patient.id, { ...patient, gender: 'female', meta: undefined });
    expect(updated.status).toBe(200);
    observation = await post('Observation', {
      resourceType: 'Observation',
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
      subject: { reference: `Patient/${patient.id}` },
      effectiveDateTime: '2024-05-01',
      valueQuantity: { value: 61, unit: '/min' },
    });
    other = await post('Patient', { resourceType: 'Patient', name: [{ family: 'Keeper' }] });
    otherObservation = await post('Observation', {
      resourceType: 'Observation',
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
      subject: { reference: `Patient/${other.id}` },
      effectiveDateTime: '2024-05-01',
    });
  });
  afterAll(async () => {
    await node?.destroy();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  describe('$proof', () => {
    it('proves version 1 and version 2 of an updated resource; verify accepts each', async () => {
      for (const version of [1, 2]) {
        const bytes = await vreadBytes('Patient', patient.id, version);
        const proof = await proofOf('Patient', patient.id, version);
        expect(proof.format).toBe('careledger.record-proof/v1');
        expect(proof.record.kind).toBe('fhir.Patient');
        expect(proof.record.contentHash).toBe(`0x${createHash('sha256').update(bytes).digest('hex')}`);
        expect(proof.anchor.contract.toLowerCase()).toBe(node.deployment().anchorRegistry.toLowerCase());
        expect(proof.anchor.organization).toBe(node.organization);
        expect(await verify(bytes, proof, `patient-v${version}`)).toBe(0);
        saved.set(`Patient/v${version}`, { bytes, proof });
      }
      const v1 = saved.get('Patient/v1');
      const v2 = saved.get('Patient/v2');
      expect(v1?.proof.record.id).not.toBe(v2?.proof.record.id);
      // A version's bytes do not pass with another version's proof.
      expect(await verify(v1?.bytes as Uint8Array, v2?.proof, 'crossed')).toBe(1);

      const obsBytes = await vreadBytes('Observation', observation.id, 1);
      const obsProof = await proofOf('Observation', observation.id, 1);
      expect(obsProof.record.kind).toBe('fhir.Observation');
      expect(await verify(obsBytes, obsProof, 'observation')).toBe(0);
      saved.set('Observation/v1', { bytes: obsBytes, proof: obsProof });
    });

    it('fails verification when the saved body is changed by one byte, wherever that byte is', async () => {
      const { bytes, proof } = saved.get('Patient/v2') as { bytes: Uint8Array; proof: any };
      const passed: number[] = [];
      for (let at = 0; at < bytes.length; at++) {
        const tampered = Uint8Array.from(bytes);
        tampered[at] = (tampered[at] as number) ^ 0x01;
        if ((await verify(tampered, proof, 'tampered')) !== 1) passed.push(at);
      }
      expect(passed, 'positions where a flipped byte still verified').toEqual([]);
      expect(await verify(bytes.subarray(0, bytes.length - 1), proof, 'truncated')).toBe(1);
      const changed = Buffer.from(new TextDecoder().decode(bytes).replace('1966-06-06', '1966-06-07'));
      expect(changed.length).toBe(bytes.length);
      expect(await verify(changed, proof, 'changed')).toBe(1);
      // By design a FHIR record file may be re-formatted after download (it is checked as canonical JSON):
      // whitespace alone changes nothing, and the original bytes of course pass.
      const pretty = Buffer.from(JSON.stringify(JSON.parse(new TextDecoder().decode(bytes)), null, 2));
      expect(await verify(pretty, proof, 'pretty')).toBe(0);
      expect(await verify(bytes, proof, 'original')).toBe(0);
    });

    it('answers 404 for a version that does not exist and for an unsupported type', async () => {
      expect((await fhir(`Patient/${patient.id}/_history/9/$proof`)).status).toBe(404);
      expect((await fhir(`Patient/no-such-patient/_history/1/$proof`)).status).toBe(404);
      const res = await fhir(`Medication/x/_history/1/$proof`);
      expect(res.status).toBe(404);
      expect((await json(res)).resourceType).toBe('OperationOutcome');
    });
  });

  describe('erasure', () => {
    it('refuses erasure with a clinician token (403) and leaves the data readable', async () => {
      const res = await erase(patient.id, clinicianToken);
      expect(res.status).toBe(403);
      expect((await fhir(`Patient/${patient.id}`)).status).toBe(200);
      expect((await fhir(`Observation/${observation.id}`)).status).toBe(200);
    });

    it('erases a patient: every resource of theirs is counted', async () => {
      expect(await total(`Observation?patient=${patient.id}`)).toBe(1);
      const res = await erase(patient.id);
      expect(res.status).toBe(200);
      expect(await json(res)).toEqual({ patient: `Patient/${patient.id}`, erasedResources: 2 });
    });

    it('answers 410 Gone for their reads, current and past versions', async () => {
      for (const path of [
        `Patient/${patient.id}`,
        `Patient/${patient.id}/_history/1`,
        `Patient/${patient.id}/_history/2`,
        `Observation/${observation.id}`,
        `Observation/${observation.id}/_history/1`,
      ]) {
        const res = await fhir(path);
        expect(res.status, path).toBe(410);
        const outcome = await json(res);
        expect(outcome.resourceType).toBe('OperationOutcome');
        expect(JSON.stringify(outcome)).not.toContain('Erasable');
      }
    });

    it('leaves them out of every search', async () => {
      for (const query of [
        `Patient?_id=${patient.id}`,
        'Patient?name=erasable',
        'Patient?identifier=urn:careledger:test:mrn|MRN-ERASE-1',
        'Patient?birthdate=1966-06-06',
        `Observation?patient=${patient.id}`,
        `Observation?_id=${observation.id}`,
        'Observation?date=2024-05-01',
      ]) {
        const res = await fhir(query);
        expect(res.status, query).toBe(200);
        const bundle = await json(res);
        const ids = (bundle.entry ?? []).map((e: any) => e.resource.id);
        expect(ids, query).not.toContain(patient.id);
        expect(ids, query).not.toContain(observation.id);
      }
      // The date search still finds the other patient's observation.
      const res = await fhir('Observation?date=2024-05-01');
      expect((await json(res)).entry.map((e: any) => e.resource.id)).toEqual([otherObservation.id]);
    });

    it('keeps history entries (that the versions existed) but without any content', async () => {
      const own = await json(await fhir(`Patient/${patient.id}/_history`));
      expect(own.total).toBe(2);
      for (const entry of own.entry) {
        expect(entry.resource).toBeUndefined();
        expect(entry.response.etag).toMatch(/^W\/"[12]"$/);
      }
      const byType = await json(await fhir('Patient/_history?_count=100'));
      for (const entry of byType.entry) {
        if (entry.fullUrl.endsWith(`/Patient/${patient.id}`)) expect(entry.resource).toBeUndefined();
        if (entry.fullUrl.endsWith(`/Patient/${other.id}`)) expect(entry.resource.id).toBe(other.id);
      }
      expect(JSON.stringify(byType)).not.toContain('Erasable');
      const obsHistory = await json(await fhir(`Observation/${observation.id}/_history`));
      expect(obsHistory.entry.map((e: any) => e.resource)).toEqual([undefined]);
    });

    it('refuses every write for the erased patient with 410', async () => {
      const attempts: [string, () => Promise<Response>][] = [
        ['update the Patient', () => put('Patient', patient.id, { resourceType: 'Patient', id: patient.id })],
        [
          'create an Observation for them',
          () =>
            fhir('Observation', {
              method: 'POST',
              headers: FHIR_JSON,
              body: JSON.stringify({
                resourceType: 'Observation',
                status: 'final',
                code: { text: 'after erasure' },
                subject: { reference: `Patient/${patient.id}` },
              }),
            }),
        ],
        [
          'update their Observation, keeping the subject',
          () =>
            put('Observation', observation.id, {
              resourceType: 'Observation',
              id: observation.id,
              status: 'amended',
              code: { text: 'x' },
              subject: { reference: `Patient/${patient.id}` },
            }),
        ],
        [
          // Moving the resource away from the erased patient must not revive it under another key.
          'update their Observation, dropping the subject',
          () =>
            put('Observation', observation.id, {
              resourceType: 'Observation',
              id: observation.id,
              status: 'amended',
              code: { text: 'x' },
            }),
        ],
        ['delete their Observation', () => fhir(`Observation/${observation.id}`, { method: 'DELETE' })],
        ['delete the Patient', () => fhir(`Patient/${patient.id}`, { method: 'DELETE' })],
        [
          'write for them in a transaction',
          () =>
            fhir('', {
              method: 'POST',
              headers: FHIR_JSON,
              body: JSON.stringify({
                resourceType: 'Bundle',
                type: 'transaction',
                entry: [
                  {
                    resource: { resourceType: 'Organization', name: 'Innocent bystander' },
                    request: { method: 'POST', url: 'Organization' },
                  },
                  {
                    resource: {
                      resourceType: 'Condition',
                      subject: { reference: `Patient/${patient.id}` },
                      code: { text: 'x' },
                    },
                    request: { method: 'POST', url: 'Condition' },
                  },
                ],
              }),
            }),
        ],
      ];
      const versionsBefore = await total('Observation/_history?_count=1');
      const orgsBefore = await total('Organization/_history?_count=1');
      for (const [what, attempt] of attempts) {
        const res = await attempt();
        expect(res.status, what).toBe(410);
        expect((await json(res)).resourceType, what).toBe('OperationOutcome');
      }
      expect(await total('Observation/_history?_count=1')).toBe(versionsBefore);
      expect(await total('Organization/_history?_count=1')).toBe(orgsBefore);
      expect((await fhir(`Observation/${observation.id}`)).status).toBe(410);
      expect(await total(`Observation/${observation.id}/_history`)).toBe(1);
    });

    it('still serves the anchoring proofs: existence remains provable with the bytes saved before', async () => {
      for (const [key, path] of [
        ['Patient/v1', `Patient/${patient.id}/_history/1/$proof`],
        ['Patient/v2', `Patient/${patient.id}/_history/2/$proof`],
        ['Observation/v1', `Observation/${observation.id}/_history/1/$proof`],
      ] as const) {
        const res = await fhir(path);
        expect(res.status, path).toBe(200);
        const proof = await json(res);
        const before = saved.get(key);
        expect(proof, key).toEqual(before?.proof);
        expect(
          await verify(before?.bytes as Uint8Array, proof, `after-erasure-${key.replace('/', '-')}`),
        ).toBe(0);
      }
    });

    it('leaves other patients untouched', async () => {
      const res = await fhir(`Patient/${other.id}`);
      expect(res.status).toBe(200);
      expect(await json(res)).toEqual(other);
      expect(await json(await fhir(`Observation/${otherObservation.id}`))).toEqual(otherObservation);
      expect(await total(`Observation?patient=${other.id}`)).toBe(1);
      expect(await total('Patient?name=keeper')).toBe(1);
      // They can still be written to.
      const updated = await put('Patient', other.id, { ...other, meta: undefined, gender: 'other' });
      expect(updated.status).toBe(200);
      const bytes = await vreadBytes('Patient', other.id, 2);
      expect(await verify(bytes, await proofOf('Patient', other.id, 2), 'other-v2')).toBe(0);
    });

    it('answers 410 when erasing the same patient again, 404 for a patient with no data', async () => {
      const again = await erase(patient.id);
      expect(again.status).toBe(410);
      const unknown = await erase('no-such-patient');
      expect(unknown.status).toBe(404);
    });
  });
});
