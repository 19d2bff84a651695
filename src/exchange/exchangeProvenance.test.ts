import { describe, expect, it } from 'vitest';
import { fhirValidationIssues, loadFhirDefinitions } from '../records/validateFhirResource.js';
import { exchangeProvenance } from './exchangeProvenance.js';
import type { VerifiedEntry } from './receivedProofs.js';

const HOLDER = '0x1111111111111111111111111111111111111111';
const RECEIVER = '0x2222222222222222222222222222222222222222';
const hash = (c: string) => `0x${c.repeat(64)}`;

const entry = (type: string, id: string, contentHash: string): VerifiedEntry =>
  ({
    json: '{}',
    resource: { resourceType: type, id, meta: { versionId: '3' } },
    proof: {
      record: { contentHash },
      batch: { sequence: 4 },
      tree: { root: hash('b') },
      anchor: { organization: HOLDER, transactionHash: hash('c'), chainId: 31337 },
    },
  }) as unknown as VerifiedEntry;

describe('exchangeProvenance', () => {
  const details = {
    id: '0190aaaa-bbbb-7ccc-8ddd-eeeeffff0000',
    receivedAt: Date.UTC(2026, 10, 24, 12, 0, 0),
    patientId: 'p-1',
    purpose: 'TREAT',
    source: {
      organization: HOLDER as `0x${string}`,
      name: 'hospital',
      fhirBase: 'http://hospital.example/fhir',
    },
    receiver: RECEIVER as `0x${string}`,
    verified: [entry('Observation', 'o1', hash('a')), entry('Patient', 'p9', hash('d'))],
  };

  it('is a valid FHIR R4 Provenance, with and without entities', () => {
    loadFhirDefinitions();
    expect(fhirValidationIssues(exchangeProvenance(details))).toEqual([]);
    expect(fhirValidationIssues(exchangeProvenance({ ...details, verified: [] }))).toEqual([]);
  });

  it('names the patient here, the custodian, and each version received with its holder URL and content hash', () => {
    const p = exchangeProvenance(details);
    expect(p.target).toEqual([{ reference: 'Patient/p-1' }]);
    expect(p.recorded).toBe('2026-11-24T12:00:00.000Z');
    expect(p.agent[0]).toMatchObject({ who: { identifier: { value: HOLDER }, display: 'hospital' } });
    expect(p.agent[1]).toMatchObject({ who: { identifier: { value: RECEIVER } } });
    expect(p.entity?.map((e) => e.what.reference)).toEqual([
      'http://hospital.example/fhir/Observation/o1/_history/3',
      'http://hospital.example/fhir/Patient/p9/_history/3',
    ]);
    expect(p.entity?.[0]?.what.identifier?.value).toBe(`urn:careledger:sha256:${'a'.repeat(64)}`);
    expect(p.entity?.[0]?.what.display).toMatch(/batch 4 .*chain 31337/);
  });
});
