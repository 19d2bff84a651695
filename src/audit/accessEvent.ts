import type { AuditEvent, AuditEventEntity, Coding } from '@medplum/fhirtypes';

/**
 * What was done: the FHIR interaction of a read, or a cross-gateway exchange: `disclose` (this gateway sent a
 * patient's records to another member organisation) and `receive` (this gateway fetched them from one).
 */
export type AccessAction = 'read' | 'vread' | 'search' | 'history' | 'disclose' | 'receive';
/** How the access ended: served, refused, or served without consent in a declared emergency. */
export type AccessOutcome = 'allowed' | 'denied' | 'break-glass';

/** Who accessed: the bearer token's name and role, the person it acts for and their chain address, if known. */
export interface AccessAgent {
  tokenName: string;
  role: string;
  /** `Practitioner/…` or `Patient/…` when the token names whom it acts for. */
  subject: string | null;
  chainAddress: string | null;
}

/**
 * One access attempt to one patient's data, as the audit trail keeps it (sealed) and the patient sees it (as a
 * FHIR AuditEvent). It names no clinical content: `entity` is a resource reference, or for a search the resource
 * type and the names of the parameters used, never their values.
 */
export interface AccessEvent {
  /** ms since the epoch */
  at: number;
  /** The organisation whose gateway served (or refused) the access: its chain address. */
  organization: string;
  agent: AccessAgent;
  patientId: string | null;
  action: AccessAction;
  /** `Observation/abc/_history/2`, `Observation/abc/_history`, `Observation?code&date`. */
  entity: string;
  /** Purpose of use, a v3 ActReason code (TREAT, ETREAT, HPAYMT, …, PATRQT for a patient's own reads). */
  purpose: string;
  outcome: AccessOutcome;
  /** Why it was denied (a code such as `NO_CONSENT`). */
  reason?: string | undefined;
  /** The on-chain consent that allowed it (decimal id), or that came closest for a denial. */
  consentId?: string | undefined;
  /** For searches and histories: how many of the patient's resources were returned (or withheld, if denied). */
  resultCount?: number | undefined;
  /** For exchanges: the other organisation's chain address (the recipient of a disclosure, the source of a receipt). */
  counterpart?: string | undefined;
}

export const CHAIN_ADDRESS_SYSTEM = 'urn:careledger:chain-address';
export const TOKEN_NAME_SYSTEM = 'urn:careledger:api-token';
export const API_ROLE_SYSTEM = 'urn:careledger:api-role';
export const ACT_REASON_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';
const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
const RESTFUL_INTERACTION = 'http://hl7.org/fhir/restful-interaction';
const ENTITY_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-entity-type';
const OBJECT_ROLE = 'http://terminology.hl7.org/CodeSystem/object-role';
const SOURCE_TYPE = 'http://terminology.hl7.org/CodeSystem/security-source-type';
const PARTICIPATION_TYPE = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType';

const PURPOSE_DISPLAY: Record<string, string> = {
  TREAT: 'treatment',
  ETREAT: 'Emergency Treatment',
  HPAYMT: 'healthcare payment',
  HRESCH: 'healthcare research',
  PUBHLTH: 'public health',
  HOPERAT: 'healthcare operations',
  PATRQT: 'patient requested',
};

/** The FHIR interaction of each action (a type-level history is `history-type`). */
function interactionOf(event: AccessEvent): Coding {
  switch (event.action) {
    case 'read':
      return { system: RESTFUL_INTERACTION, code: 'read', display: 'read' };
    case 'vread':
      return { system: RESTFUL_INTERACTION, code: 'vread', display: 'vread' };
    case 'search':
      return { system: RESTFUL_INTERACTION, code: 'search-type', display: 'search type' };
    case 'history':
      return /^[A-Za-z]+\/_history$/.test(event.entity)
        ? { system: RESTFUL_INTERACTION, code: 'history-type', display: 'history type' }
        : { system: RESTFUL_INTERACTION, code: 'history-instance', display: 'history instance' };
    case 'disclose':
    case 'receive':
      return { system: RESTFUL_INTERACTION, code: 'operation', display: 'operation' };
  }
}

/** DICOM audit event types: a read is "Patient Record"; an exchange is an export (holder) or import (receiver). */
function eventTypeOf(action: AccessAction): Coding {
  if (action === 'disclose') return { system: DCM, code: '110106', display: 'Export' };
  if (action === 'receive') return { system: DCM, code: '110107', display: 'Import' };
  return { system: DCM, code: '110110', display: 'Patient Record' };
}

const PARAM_NAME_RE = /^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$/;

/**
 * The entity as recorded: for a search, the resource type and the sorted names of its parameters, with any value
 * dropped (`Patient?name=Smith&birthdate=1970` → `Patient?birthdate&name`), since a name or an identifier searched
 * for is personal data; anything that is not a plain parameter name is left out too. Other entities unchanged.
 */
export function auditedEntity(action: AccessAction, entity: string): string {
  if (action !== 'search') return entity;
  const [type = '', query] = entity.split('?', 2) as [string, string | undefined];
  if (query === undefined) return type;
  const names = query
    .split('&')
    .map((part) => part.split('=')[0] ?? '')
    .filter((name) => PARAM_NAME_RE.test(name));
  const sorted = [...new Set(names)].sort();
  return sorted.length === 0 ? type : `${type}?${sorted.join('&')}`;
}

/** One sentence for `outcomeDesc`: what happened, on what basis, and for searches how many resources. */
export function outcomeDescription(event: AccessEvent): string {
  const count =
    event.resultCount === undefined
      ? ''
      : ` (${event.resultCount} resource${event.resultCount === 1 ? '' : 's'} ${event.outcome === 'denied' ? 'withheld' : 'returned'})`;
  switch (event.outcome) {
    case 'allowed':
      return event.consentId !== undefined
        ? `Allowed under consent chain-${event.consentId}${count}.`
        : `Allowed${count}.`;
    case 'break-glass':
      return `Allowed without consent: emergency access (break-glass) declared${count}.`;
    case 'denied':
      return `Denied: ${event.reason ?? 'not allowed'}${count}.`;
  }
}

/**
 * The FHIR R4 AuditEvent of an access (https://hl7.org/fhir/R4/auditevent.html), following the Basic Audit Log
 * Patterns: type DCM 110110 "Patient Record", subtype the RESTful interaction, action R, outcome 0 (success) or
 * 4 (minor failure: refused), the purpose of use; agent 1 the requestor (the person, their token name as `altId`
 * and login identifier, their chain address), agent 2 the organisation; source the gateway organisation;
 * entity 1 what was accessed (with the consent, break-glass and counts as details), entity 2 the Patient.
 */
export function toFhirAuditEvent(event: AccessEvent, id: string): AuditEvent {
  const purpose: Coding = {
    system: ACT_REASON_SYSTEM,
    code: event.purpose,
    ...(PURPOSE_DISPLAY[event.purpose] ? { display: PURPOSE_DISPLAY[event.purpose] } : {}),
  };
  const organization = { system: CHAIN_ADDRESS_SYSTEM, value: event.organization };
  const { agent } = event;
  const query = event.action === 'search';
  const details: NonNullable<AuditEventEntity['detail']> = [];
  if (event.consentId !== undefined)
    details.push({ type: 'consent', valueString: `Consent/chain-${event.consentId}` });
  if (event.outcome === 'break-glass') details.push({ type: 'break-glass', valueString: 'true' });
  if (event.reason !== undefined) details.push({ type: 'denial-reason', valueString: event.reason });
  if (event.resultCount !== undefined) {
    details.push({
      type: event.outcome === 'denied' ? 'withheld-count' : 'returned-count',
      valueString: String(event.resultCount),
    });
  }
  const accessed: AuditEventEntity = {
    ...(query
      ? { description: auditedEntity(event.action, event.entity) }
      : { what: { reference: event.entity } }),
    type: { system: ENTITY_TYPE, code: '2', display: 'System Object' },
    role: query
      ? { system: OBJECT_ROLE, code: '24', display: 'Query' }
      : { system: OBJECT_ROLE, code: '4', display: 'Domain Resource' },
    ...(details.length > 0 ? { detail: details } : {}),
  };
  const entity: AuditEventEntity[] = [accessed];
  if (event.patientId !== null) {
    entity.push({
      what: { reference: `Patient/${event.patientId}` },
      type: { system: ENTITY_TYPE, code: '1', display: 'Person' },
      role: { system: OBJECT_ROLE, code: '1', display: 'Patient' },
    });
  }
  return {
    resourceType: 'AuditEvent',
    id,
    type: eventTypeOf(event.action),
    subtype: [interactionOf(event)],
    action: event.action === 'receive' ? 'C' : 'R',
    recorded: new Date(event.at).toISOString(),
    outcome: event.outcome === 'denied' ? '4' : '0',
    outcomeDesc: outcomeDescription(event),
    purposeOfEvent: [{ coding: [purpose] }],
    agent: [
      {
        type: { coding: [{ system: PARTICIPATION_TYPE, code: 'IRCP', display: 'information recipient' }] },
        role: [{ coding: [{ system: API_ROLE_SYSTEM, code: agent.role }] }],
        who: {
          ...(agent.subject ? { reference: agent.subject } : {}),
          identifier: agent.chainAddress
            ? { system: CHAIN_ADDRESS_SYSTEM, value: agent.chainAddress }
            : { system: TOKEN_NAME_SYSTEM, value: agent.tokenName },
          display: agent.tokenName,
        },
        altId: agent.tokenName,
        requestor: true,
        purposeOfUse: [{ coding: [purpose] }],
      },
      {
        type: { coding: [{ system: PARTICIPATION_TYPE, code: 'CST', display: 'custodian' }] },
        who: { identifier: organization },
        requestor: false,
      },
      ...(event.counterpart
        ? [
            {
              type: {
                coding: [
                  event.action === 'receive'
                    ? { system: PARTICIPATION_TYPE, code: 'INF', display: 'informant' }
                    : { system: PARTICIPATION_TYPE, code: 'IRCP', display: 'information recipient' },
                ],
              },
              who: { identifier: { system: CHAIN_ADDRESS_SYSTEM, value: event.counterpart } },
              requestor: event.action === 'disclose',
            },
          ]
        : []),
    ],
    source: {
      observer: { identifier: organization },
      type: [{ system: SOURCE_TYPE, code: '3', display: 'Web Server' }],
    },
    entity,
  };
}
