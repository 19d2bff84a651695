import { describe, expect, it } from 'vitest';
import type { Hex } from '../core/hex.js';
import { fhirValidationIssues } from '../records/validateFhirResource.js';
import { categoryScope, PURPOSES_OF_USE, resourceScope, scopeHash, typeScope } from './consentTypedData.js';
import {
  CHAIN_ADDRESS_SYSTEM,
  consentSearchBundle,
  consentStatus,
  fhirConsent,
  fhirDateTime,
  REVOCATION_EXTENSION,
  SCOPE_HASH_SYSTEM,
  type ConsentViewContext,
} from './fhirConsentView.js';
import type { ConsentRecord } from './ports.js';

const PATIENT: Hex = '0x1111111111111111111111111111111111111111';
const DELEGATE: Hex = '0x2222222222222222222222222222222222222222';
const GRANTEE: Hex = '0x3333333333333333333333333333333333333333';
const CONTRACT: Hex = '0x5FbDB2315678afecb367f032d93F642f64180aa3';
const TX: Hex = `0x${'ab'.repeat(32)}`;
const UNKNOWN: Hex = `0x${'cd'.repeat(32)}`;

const T0 = 1_767_225_600n; // 2026-01-01T00:00:00Z
const DAY = 86_400n;

const names = new Map<Hex, string>(
  [
    typeScope('Observation'),
    categoryScope('laboratory'),
    categoryScope('my-own-code'),
    resourceScope('DocumentReference', 'doc-1'),
  ].map((s) => [scopeHash(s), s]),
);

function record(overrides: Partial<ConsentRecord> = {}): ConsentRecord {
  return {
    id: 7n,
    patient: PATIENT,
    grantee: GRANTEE,
    scopes: [
      scopeHash(typeScope('Observation')),
      scopeHash(categoryScope('laboratory')),
      scopeHash(categoryScope('my-own-code')),
      scopeHash(resourceScope('DocumentReference', 'doc-1')),
      UNKNOWN,
    ],
    purposes: PURPOSES_OF_USE.TREAT | PURPOSES_OF_USE.HPAYMT,
    validFrom: T0,
    validUntil: T0 + 30n * DAY,
    dataFrom: T0 - 365n * DAY,
    dataUntil: 0n,
    grantedBy: PATIENT,
    grantedAt: T0 - 60n,
    revokedAt: null,
    revokedBy: null,
    ...overrides,
  };
}

function context(overrides: Partial<ConsentViewContext> = {}): ConsentViewContext {
  return {
    patientId: 'alice',
    chainId: 31337,
    contract: CONTRACT,
    now: T0 + DAY,
    scopeName: (hash) => names.get(hash),
    transactions: { grant: { transactionHash: TX, blockNumber: 12 } },
    ...overrides,
  };
}

describe('fhirConsent', () => {
  it('builds a valid FHIR R4 Consent with every element of the mapping', () => {
    const consent = fhirConsent(record(), context());
    expect(fhirValidationIssues(consent)).toEqual([]);
    expect(consent).toMatchObject({
      resourceType: 'Consent',
      id: 'chain-7',
      status: 'active',
      identifier: [
        { system: 'urn:careledger:consent-registry:eip155:31337:' + CONTRACT.toLowerCase(), value: '7' },
      ],
      scope: { coding: [{ code: 'patient-privacy' }] },
      category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
      patient: { reference: 'Patient/alice', identifier: { system: CHAIN_ADDRESS_SYSTEM, value: PATIENT } },
      dateTime: '2025-12-31T23:59:00Z',
      performer: [{ reference: 'Patient/alice', identifier: { value: PATIENT }, display: 'the patient' }],
      policyRule: { coding: [{ code: 'OPTIN' }] },
      sourceReference: { identifier: { value: TX } },
    });
    expect(consent.sourceReference?.display).toContain(`ConsentRegistry ${CONTRACT} on chain 31337`);
    expect(consent.sourceReference?.display).toContain('block 12');
    const p = consent.provision!;
    expect(p.type).toBe('permit');
    expect(p.period).toEqual({ start: '2026-01-01T00:00:00Z', end: '2026-01-31T00:00:00Z' });
    expect(p.dataPeriod).toEqual({ start: '2025-01-01T00:00:00Z' });
    expect(p.actor).toEqual([
      {
        role: {
          coding: [
            {
              system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType',
              code: 'IRCP',
              display: 'information recipient',
            },
          ],
        },
        reference: { identifier: { system: CHAIN_ADDRESS_SYSTEM, value: GRANTEE } },
      },
    ]);
    expect(p.purpose?.map((c) => [c.system, c.code])).toEqual([
      ['http://terminology.hl7.org/CodeSystem/v3-ActReason', 'TREAT'],
      ['http://terminology.hl7.org/CodeSystem/v3-ActReason', 'HPAYMT'],
    ]);
    expect(p.class).toEqual([{ system: 'http://hl7.org/fhir/resource-types', code: 'Observation' }]);
    expect(p.code).toEqual([
      {
        coding: [
          {
            system: 'http://terminology.hl7.org/CodeSystem/observation-category',
            code: 'laboratory',
            display: 'Laboratory',
          },
        ],
        text: 'category:laboratory',
      },
      { coding: [{ code: 'my-own-code' }], text: 'category:my-own-code' },
      { coding: [{ system: SCOPE_HASH_SYSTEM, code: UNKNOWN }], text: expect.stringContaining('hash') },
    ]);
    expect(p.data).toEqual([{ meaning: 'instance', reference: { reference: 'DocumentReference/doc-1' } }]);
    expect(consent.extension).toBeUndefined();
  });

  it('shows a revoked consent as inactive, with who revoked it and when', () => {
    const consent = fhirConsent(
      record({ revokedAt: T0 + 2n * DAY, revokedBy: DELEGATE }),
      context({
        transactions: {
          grant: { transactionHash: TX, blockNumber: 12 },
          revocation: { transactionHash: UNKNOWN, blockNumber: 15 },
        },
      }),
    );
    expect(fhirValidationIssues(consent)).toEqual([]);
    expect(consent.status).toBe('inactive');
    expect(consent.meta?.lastUpdated).toBe('2026-01-03T00:00:00Z');
    expect(consent.extension).toEqual([
      {
        url: REVOCATION_EXTENSION,
        extension: [
          { url: 'revokedAt', valueDateTime: '2026-01-03T00:00:00Z' },
          { url: 'revokedBy', valueIdentifier: { system: CHAIN_ADDRESS_SYSTEM, value: DELEGATE } },
        ],
      },
    ]);
    expect(consent.sourceReference?.display).toContain(`revoked in transaction ${UNKNOWN} (block 15)`);
  });

  it('names a patient not linked here by address only, and a delegate as performer by address only', () => {
    const consent = fhirConsent(
      record({ grantedBy: DELEGATE, validFrom: 0n, dataFrom: 0n, dataUntil: T0 }),
      context({ patientId: null, transactions: {}, scopeName: undefined }),
    );
    expect(fhirValidationIssues(consent)).toEqual([]);
    expect(consent.patient).toEqual({ identifier: { system: CHAIN_ADDRESS_SYSTEM, value: PATIENT } });
    expect(consent.performer).toEqual([
      {
        identifier: { system: CHAIN_ADDRESS_SYSTEM, value: DELEGATE },
        display: 'a delegate of the patient',
      },
    ]);
    expect(consent.sourceReference).toEqual({ display: expect.stringContaining('consent 7') });
    expect(consent.provision?.period).toEqual({ end: '2026-01-31T00:00:00Z' });
    expect(consent.provision?.dataPeriod).toEqual({ end: '2026-01-01T00:00:00Z' });
    // Without scope names every scope is shown by its hash.
    expect(consent.provision?.code).toHaveLength(5);
    expect(consent.provision?.class).toBeUndefined();
    expect(consent.provision?.data).toBeUndefined();
  });

  it('leaves a validity end beyond year 9999 open and omits an unbounded data range', () => {
    const consent = fhirConsent(
      record({ validUntil: (1n << 64n) - 1n, dataFrom: 0n, dataUntil: 0n }),
      context(),
    );
    expect(fhirValidationIssues(consent)).toEqual([]);
    expect(consent.provision?.period).toEqual({ start: '2026-01-01T00:00:00Z' });
    expect(consent.provision?.dataPeriod).toBeUndefined();
  });
});

describe('consentStatus', () => {
  it('is proposed before validFrom, active in force, inactive when expired or revoked', () => {
    expect(consentStatus(record(), T0 - 1n)).toBe('proposed');
    expect(consentStatus(record(), T0)).toBe('active');
    expect(consentStatus(record(), T0 + 30n * DAY - 1n)).toBe('active');
    expect(consentStatus(record(), T0 + 30n * DAY)).toBe('inactive');
    expect(consentStatus(record({ revokedAt: T0, revokedBy: PATIENT }), T0 - 1n)).toBe('inactive');
  });
});

describe('fhirDateTime', () => {
  it('writes whole UTC seconds and nothing outside four-digit years', () => {
    expect(fhirDateTime(0n)).toBe('1970-01-01T00:00:00Z');
    expect(fhirDateTime(253_402_300_799n)).toBe('9999-12-31T23:59:59Z');
    expect(fhirDateTime(253_402_300_800n)).toBeUndefined();
  });
});

describe('consentSearchBundle', () => {
  it('is a valid searchset with one match entry per Consent', () => {
    const base = 'http://gw.example/fhir';
    const bundle = consentSearchBundle(
      [fhirConsent(record(), context()), fhirConsent(record({ id: 8n }), context())],
      base,
      `${base}/Consent?patient=alice`,
    );
    expect(fhirValidationIssues(bundle)).toEqual([]);
    expect(bundle.total).toBe(2);
    expect(bundle.entry?.map((e) => [e.fullUrl, e.search?.mode])).toEqual([
      [`${base}/Consent/chain-7`, 'match'],
      [`${base}/Consent/chain-8`, 'match'],
    ]);
    expect(fhirValidationIssues(consentSearchBundle([], base, `${base}/Consent?patient=alice`))).toEqual([]);
  });
});
