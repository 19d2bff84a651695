import { describe, expect, it } from 'vitest';
import { fhirValidationIssues } from '../records/validateFhirResource.js';
import { auditedEntity, toFhirAuditEvent, type AccessEvent } from './accessEvent.js';

const ORG = '0x1111111111111111111111111111111111111111';
const DOCTOR = '0x2222222222222222222222222222222222222222';

const base: AccessEvent = {
  at: Date.UTC(2026, 0, 2, 3, 4, 5),
  organization: ORG,
  agent: { tokenName: 'dr.house', role: 'clinician', subject: 'Practitioner/house', chainAddress: DOCTOR },
  patientId: 'alice',
  action: 'read',
  entity: 'Observation/obs-1/_history/2',
  purpose: 'TREAT',
  outcome: 'allowed',
  consentId: '7',
};

describe('toFhirAuditEvent', () => {
  const variants: [string, AccessEvent][] = [
    ['an allowed read under a consent', base],
    [
      'a denied vread',
      {
        ...base,
        action: 'vread',
        outcome: 'denied',
        reason: 'NO_CONSENT',
        consentId: undefined,
        agent: { tokenName: 'nurse', role: 'reader', subject: null, chainAddress: null },
      },
    ],
    ['a break-glass read', { ...base, outcome: 'break-glass', purpose: 'ETREAT', consentId: undefined }],
    ['a search with counts', { ...base, action: 'search', entity: 'Observation?code&date', resultCount: 3 }],
    [
      'a type history, withheld',
      {
        ...base,
        action: 'history',
        entity: 'Observation/_history',
        outcome: 'denied',
        reason: 'SCOPE_NOT_CONSENTED',
        resultCount: 2,
      },
    ],
    [
      "a patient's own read",
      {
        ...base,
        purpose: 'PATRQT',
        consentId: undefined,
        agent: {
          tokenName: `patient:${DOCTOR}`,
          role: 'patient',
          subject: 'Patient/alice',
          chainAddress: DOCTOR,
        },
      },
    ],
    [
      'a disclosure to another organisation',
      {
        ...base,
        action: 'disclose',
        entity: 'Patient/alice/$everything',
        resultCount: 6,
        counterpart: DOCTOR,
        agent: {
          tokenName: `dr.b (organisation ${DOCTOR})`,
          role: 'member-organization',
          subject: null,
          chainAddress: null,
        },
      },
    ],
    [
      'a receipt from another organisation, refused',
      {
        ...base,
        action: 'receive',
        entity: 'Patient/alice/$fetch-external',
        outcome: 'denied',
        reason: 'NO_CONSENT',
        resultCount: 0,
        counterpart: DOCTOR,
      },
    ],
  ];

  it.each(variants)('is a valid FHIR R4 AuditEvent: %s', (_name, event) => {
    const resource = toFhirAuditEvent(event, '0190aaaa-bbbb-7ccc-8ddd-eeeeffff0000');
    expect(fhirValidationIssues(resource)).toEqual([]);
  });

  it('maps who, which organisation, what, purpose and outcome', () => {
    const r = toFhirAuditEvent(base, 'a1');
    expect(r).toMatchObject({
      resourceType: 'AuditEvent',
      id: 'a1',
      type: { system: 'http://dicom.nema.org/resources/ontology/DCM', code: '110110' },
      subtype: [{ system: 'http://hl7.org/fhir/restful-interaction', code: 'read' }],
      action: 'R',
      recorded: '2026-01-02T03:04:05.000Z',
      outcome: '0',
      purposeOfEvent: [
        { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'TREAT' }] },
      ],
      source: { observer: { identifier: { system: 'urn:careledger:chain-address', value: ORG } } },
    });
    expect(r.outcomeDesc).toMatch(/consent chain-7/);
    const [requestor, organization] = r.agent;
    expect(requestor).toMatchObject({
      requestor: true,
      altId: 'dr.house',
      who: {
        reference: 'Practitioner/house',
        identifier: { system: 'urn:careledger:chain-address', value: DOCTOR },
      },
    });
    expect(organization).toMatchObject({
      requestor: false,
      who: { identifier: { system: 'urn:careledger:chain-address', value: ORG } },
    });
    expect(r.entity?.[0]).toMatchObject({
      what: { reference: 'Observation/obs-1/_history/2' },
      detail: [{ type: 'consent', valueString: 'Consent/chain-7' }],
    });
    expect(r.entity?.[1]).toMatchObject({ what: { reference: 'Patient/alice' }, role: { code: '1' } });
  });

  it('records an exchange as an export (holder) or import (receiver) naming the other organisation', () => {
    const disclosed = toFhirAuditEvent(
      { ...base, action: 'disclose', entity: 'Patient/alice/$everything', counterpart: DOCTOR },
      'x',
    );
    expect(disclosed.type).toMatchObject({ code: '110106', display: 'Export' });
    expect(disclosed.subtype).toEqual([
      { system: 'http://hl7.org/fhir/restful-interaction', code: 'operation', display: 'operation' },
    ]);
    expect(disclosed.action).toBe('R');
    expect(disclosed.agent[2]).toMatchObject({
      requestor: true,
      who: { identifier: { value: DOCTOR } },
      type: { coding: [{ code: 'IRCP' }] },
    });
    const received = toFhirAuditEvent(
      { ...base, action: 'receive', entity: 'Patient/alice/$fetch-external', counterpart: DOCTOR },
      'y',
    );
    expect(received.type).toMatchObject({ code: '110107', display: 'Import' });
    expect(received.action).toBe('C');
    expect(received.agent[2]).toMatchObject({ requestor: false, type: { coding: [{ code: 'INF' }] } });
    expect(toFhirAuditEvent(base, 'z').agent).toHaveLength(2);
  });

  it('says denied (outcome 4) with the reason, and marks break-glass', () => {
    const denied = toFhirAuditEvent(
      { ...base, outcome: 'denied', reason: 'NO_CONSENT', consentId: undefined },
      'd',
    );
    expect(denied.outcome).toBe('4');
    expect(denied.outcomeDesc).toMatch(/NO_CONSENT/);
    expect(denied.entity?.[0]?.detail).toEqual([{ type: 'denial-reason', valueString: 'NO_CONSENT' }]);
    const glass = toFhirAuditEvent(
      { ...base, outcome: 'break-glass', purpose: 'ETREAT', consentId: undefined },
      'g',
    );
    expect(glass.outcome).toBe('0');
    expect(glass.entity?.[0]?.detail).toEqual([{ type: 'break-glass', valueString: 'true' }]);
    expect(glass.purposeOfEvent?.[0]?.coding?.[0]?.code).toBe('ETREAT');
  });

  it('uses the token name as identifier when the agent has no chain address', () => {
    const r = toFhirAuditEvent(
      { ...base, agent: { tokenName: 'nurse', role: 'reader', subject: null, chainAddress: null } },
      'n',
    );
    expect(r.agent[0]?.who).toEqual({
      identifier: { system: 'urn:careledger:api-token', value: 'nurse' },
      display: 'nurse',
    });
  });

  it('describes a search by type and parameter names only, with the count, and no query values', () => {
    const r = toFhirAuditEvent(
      { ...base, action: 'search', entity: 'Patient?birthdate&name', resultCount: 1 },
      's',
    );
    expect(r.subtype?.[0]?.code).toBe('search-type');
    expect(r.entity?.[0]).toMatchObject({
      description: 'Patient?birthdate&name',
      role: { code: '24', display: 'Query' },
    });
    expect(r.entity?.[0]?.what).toBeUndefined();
    expect(r.entity?.[0]?.detail).toContainEqual({ type: 'returned-count', valueString: '1' });
    expect(JSON.stringify(r)).not.toMatch(/=/);
  });

  it('drops query values given to it, keeping only parameter names', () => {
    const r = toFhirAuditEvent(
      {
        ...base,
        action: 'search',
        entity: 'Patient?name=Smith&identifier=http://mrn|12345&name:exact=Jo&_count=5&bad name=x',
      },
      'v',
    );
    expect(r.entity?.[0]?.description).toBe('Patient?_count&identifier&name&name:exact');
    expect(JSON.stringify(r)).not.toMatch(/Smith|12345|mrn|Jo\b/);
    expect(auditedEntity('search', 'Observation')).toBe('Observation');
    expect(auditedEntity('read', 'Observation/x/_history/1')).toBe('Observation/x/_history/1');
  });

  it('is checked for real: an invalid AuditEvent has issues', () => {
    const r = { ...toFhirAuditEvent(base, 'x'), outcome: 'maybe' };
    expect(fhirValidationIssues(r).length).toBeGreaterThan(0);
  });

  it('tells an instance history from a type history', () => {
    const one = toFhirAuditEvent({ ...base, action: 'history', entity: 'Observation/obs-1/_history' }, 'h1');
    const all = toFhirAuditEvent({ ...base, action: 'history', entity: 'Observation/_history' }, 'h2');
    expect(one.subtype?.[0]?.code).toBe('history-instance');
    expect(all.subtype?.[0]?.code).toBe('history-type');
  });
});
