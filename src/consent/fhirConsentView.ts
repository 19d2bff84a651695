import type { Bundle, CodeableConcept, Coding, Consent, ConsentProvision, Period } from '@medplum/fhirtypes';
import type { Hex } from '../core/hex.js';
import { maskToPurposes, PURPOSE_OF_USE_SYSTEM, type PurposeOfUse } from './consentTypedData.js';
import type { ConsentRecord, ConsentTransaction } from './ports.js';

/**
 * A read-only FHIR R4 `Consent` view of a consent recorded in the `ConsentRegistry`
 * (https://hl7.org/fhir/R4/consent.html). The chain is the record; this view is built on every read and never
 * stored. Mapping choices:
 *
 * | on chain | FHIR | why |
 * | --- | --- | --- |
 * | consent id | `id` `chain-<id>`; `identifier` (system names the chain and the registry, value the id) | ids of the chain cannot clash with ids of stored resources; the identifier is globally unique |
 * | revoked, `validUntil` passed / `validFrom` ahead / otherwise | `status` `inactive` / `proposed` / `active` | R4 has no `revoked` status; `inactive` is "no longer in force". `proposed` = recorded, not yet in force |
 * | — | `scope` `patient-privacy`, `category` LOINC 59284-0, `policyRule` v3-ActCode `OPTIN` | a patient's opt-in permission to disclose; `policyRule` also satisfies invariant ppc-1 |
 * | patient address | `patient`: `Patient/<id>` when linked here, always with the address as identifier | a consent names a key; the gateway knows whose key it is |
 * | `grantedAt` | `dateTime` | when the chain recorded it (block time) |
 * | `grantedBy` | `performer` (identifier; `Patient/<id>` too when the patient signed themselves) | the patient or the delegate who signed |
 * | `validFrom`–`validUntil` | `provision.period` (no `start` for 0) | `validUntil` is exclusive on chain; FHIR periods are read inclusively, a one-second difference |
 * | grantee | `provision.actor` with role v3-ParticipationType `IRCP` and the address as identifier | the information recipient: an organisation's or a practitioner's account |
 * | purposes mask | `provision.purpose`, v3-ActReason codings | the codes are the ActReason codes already |
 * | `type:<T>` scopes | `provision.class`, system `http://hl7.org/fhir/resource-types` | the consent-content-class binding lists resource types this way |
 * | `category:<code>` scopes | `provision.code`, with the code system the code is known from (if any) and the scope string as `text` | the registry matches the code in any system; the system shown is a reading aid |
 * | `resource:<T>/<id>` scopes | `provision.data`, meaning `instance`, reference `T/id` | one named resource |
 * | scopes known only by hash | `provision.code` with system `urn:careledger:consent-scope-hash` | kept visible rather than dropped; nothing on chain says what they are |
 * | `dataFrom`–`dataUntil` | `provision.dataPeriod` (a side of 0 is left open) | both ends inclusive, as on chain |
 * | registry, chain, grant transaction | `sourceReference` (identifier: the transaction, when this gateway relayed it; display: all of it) | where to check the consent independently |
 * | `revokedAt`, `revokedBy` | extension `urn:careledger:fhir:consent-revocation` (`revokedAt`, `revokedBy`); `meta.lastUpdated` | R4 Consent has no element for a revocation |
 *
 * On chain any one scope is enough for a resource to be covered: the scopes listed in `class`, `code` and `data`
 * are alternatives, not conditions to meet together.
 */

/** Identifier system of chain addresses (patients, signers, grantees). */
export const CHAIN_ADDRESS_SYSTEM = 'urn:careledger:chain-address';
/** Code system of scope hashes whose scope string this gateway does not know. */
export const SCOPE_HASH_SYSTEM = 'urn:careledger:consent-scope-hash';
/** The extension carrying a revocation. */
export const REVOCATION_EXTENSION = 'urn:careledger:fhir:consent-revocation';
export const RESOURCE_TYPES_SYSTEM = 'http://hl7.org/fhir/resource-types';

/** The identifier system of consent ids of one registry on one chain. */
export function consentIdentifierSystem(chainId: number, contract: Hex): string {
  return `urn:careledger:consent-registry:eip155:${chainId}:${contract.toLowerCase()}`;
}

/** The category codes every gateway can name, with the code system each is known from. */
export const WELL_KNOWN_CATEGORIES: readonly { code: string; system: string; display: string }[] = [
  ...(
    [
      ['social-history', 'Social History'],
      ['vital-signs', 'Vital Signs'],
      ['imaging', 'Imaging'],
      ['laboratory', 'Laboratory'],
      ['procedure', 'Procedure'],
      ['survey', 'Survey'],
      ['exam', 'Exam'],
      ['therapy', 'Therapy'],
      ['activity', 'Activity'],
    ] as const
  ).map(([code, display]) => ({
    code,
    display,
    system: 'http://terminology.hl7.org/CodeSystem/observation-category',
  })),
  ...(
    [
      ['problem-list-item', 'Problem List Item'],
      ['encounter-diagnosis', 'Encounter Diagnosis'],
    ] as const
  ).map(([code, display]) => ({
    code,
    display,
    system: 'http://terminology.hl7.org/CodeSystem/condition-category',
  })),
  ...(
    [
      ['food', 'Food'],
      ['medication', 'Medication'],
      ['environment', 'Environment'],
      ['biologic', 'Biologic'],
    ] as const
  ).map(([code, display]) => ({ code, display, system: 'http://hl7.org/fhir/allergy-intolerance-category' })),
  ...(
    [
      ['inpatient', 'Inpatient'],
      ['outpatient', 'Outpatient'],
      ['community', 'Community'],
      ['discharge', 'Discharge'],
    ] as const
  ).map(([code, display]) => ({
    code,
    display,
    system: 'http://terminology.hl7.org/CodeSystem/medicationrequest-category',
  })),
  ...(
    [
      ['LAB', 'Laboratory'],
      ['RAD', 'Radiology'],
    ] as const
  ).map(([code, display]) => ({ code, display, system: 'http://terminology.hl7.org/CodeSystem/v2-0074' })),
  {
    code: 'clinical-note',
    display: 'Clinical Note',
    system: 'http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category',
  },
];

const CATEGORY_BY_CODE = new Map(WELL_KNOWN_CATEGORIES.map((c) => [c.code, c]));

const PURPOSE_DISPLAY: Record<PurposeOfUse, string> = {
  TREAT: 'treatment',
  ETREAT: 'Emergency Treatment',
  HPAYMT: 'healthcare payment',
  HRESCH: 'healthcare research',
  PUBHLTH: 'public health',
  HOPERAT: 'healthcare operations',
  PATRQT: 'patient requested',
};

/** What the view needs besides the record. */
export interface ConsentViewContext {
  /** The Patient the consent's patient address is linked to at this gateway, if any. */
  patientId: string | null;
  chainId: number;
  /** The ConsentRegistry's address. */
  contract: Hex;
  /** UNIX seconds, for the status. */
  now: bigint;
  /** The scope string behind a hash, when known. */
  scopeName?: (hash: Hex) => string | undefined;
  /** The transactions this gateway relayed for the consent, when it did. */
  transactions?: { grant?: ConsentTransaction | undefined; revocation?: ConsentTransaction | undefined };
}

export type ConsentViewStatus = 'active' | 'inactive' | 'proposed';

/** `inactive` once revoked or past `validUntil`, `proposed` before `validFrom`, else `active`. */
export function consentStatus(record: ConsentRecord, now: bigint): ConsentViewStatus {
  if (record.revokedAt !== null || now >= record.validUntil) return 'inactive';
  if (now < record.validFrom) return 'proposed';
  return 'active';
}

/** The largest UNIX second FHIR can write (9999-12-31T23:59:59Z; years have four digits). */
const LAST_FHIR_SECOND = 253_402_300_799n;

/** UNIX seconds as a FHIR dateTime/instant (UTC, whole seconds); undefined beyond year 9999. */
export function fhirDateTime(seconds: bigint): string | undefined {
  if (seconds < 0n || seconds > LAST_FHIR_SECOND) return undefined;
  return new Date(Number(seconds) * 1000).toISOString().replace('.000Z', 'Z');
}

function period(start: bigint, end: bigint): Period | undefined {
  const p: Period = {};
  const s = start === 0n ? undefined : fhirDateTime(start);
  const e = end === 0n ? undefined : fhirDateTime(end);
  if (s !== undefined) p.start = s;
  if (e !== undefined) p.end = e;
  return s === undefined && e === undefined ? undefined : p;
}

function addressIdentifier(address: Hex) {
  return { system: CHAIN_ADDRESS_SYSTEM, value: address };
}

const same = (a: Hex, b: Hex) => a.toLowerCase() === b.toLowerCase();

/** The scopes of a consent sorted into the provision's `class`, `code` and `data`. */
function scopeElements(record: ConsentRecord, scopeName: (hash: Hex) => string | undefined) {
  const classes: Coding[] = [];
  const codes: CodeableConcept[] = [];
  const data: NonNullable<ConsentProvision['data']> = [];
  for (const hash of record.scopes) {
    const scope = scopeName(hash);
    const colon = scope?.indexOf(':') ?? -1;
    const kind = scope === undefined || colon < 0 ? undefined : scope.slice(0, colon);
    const value = scope === undefined ? '' : scope.slice(colon + 1);
    if (kind === 'type') {
      classes.push({ system: RESOURCE_TYPES_SYSTEM, code: value });
    } else if (kind === 'category') {
      const known = CATEGORY_BY_CODE.get(value);
      codes.push({
        coding: [known ? { system: known.system, code: value, display: known.display } : { code: value }],
        text: scope,
      });
    } else if (kind === 'resource') {
      data.push({ meaning: 'instance', reference: { reference: value } });
    } else {
      codes.push({
        coding: [{ system: SCOPE_HASH_SYSTEM, code: hash.toLowerCase() }],
        text: 'a scope this gateway knows only by its keccak-256 hash',
      });
    }
  }
  return { classes, codes, data };
}

/** The FHIR R4 Consent view of an on-chain consent (see the mapping above). */
export function fhirConsent(record: ConsentRecord, context: ConsentViewContext): Consent {
  const { patientId, chainId, contract } = context;
  const id = record.id.toString();
  const patientReference = patientId === null ? undefined : `Patient/${patientId}`;
  const signedByPatient = same(record.grantedBy, record.patient);
  const { classes, codes, data } = scopeElements(record, context.scopeName ?? (() => undefined));
  const grantTx = context.transactions?.grant;
  const revocationTx = context.transactions?.revocation;

  const provision: ConsentProvision = {
    type: 'permit',
    actor: [
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
        reference: { identifier: addressIdentifier(record.grantee) },
      },
    ],
    purpose: maskToPurposes(record.purposes).map((code) => ({
      system: PURPOSE_OF_USE_SYSTEM,
      code,
      display: PURPOSE_DISPLAY[code],
    })),
  };
  const validity = period(record.validFrom, record.validUntil);
  if (validity) provision.period = validity;
  if (classes.length > 0) provision.class = classes;
  if (codes.length > 0) provision.code = codes;
  const dataPeriod = period(record.dataFrom, record.dataUntil);
  if (dataPeriod) provision.dataPeriod = dataPeriod;
  if (data.length > 0) provision.data = data;

  const where =
    `ConsentRegistry ${contract} on chain ${chainId} (eip155:${chainId}), consent ${id}` +
    (grantTx ? `, granted in transaction ${grantTx.transactionHash} (block ${grantTx.blockNumber})` : '') +
    (revocationTx
      ? `, revoked in transaction ${revocationTx.transactionHash} (block ${revocationTx.blockNumber})`
      : '');
  const lastUpdated = fhirDateTime(record.revokedAt ?? record.grantedAt);
  const consent: Consent = {
    resourceType: 'Consent',
    id: `chain-${id}`,
    ...(lastUpdated ? { meta: { lastUpdated } } : {}),
    identifier: [{ system: consentIdentifierSystem(chainId, contract), value: id }],
    status: consentStatus(record, context.now),
    scope: {
      coding: [
        {
          system: 'http://terminology.hl7.org/CodeSystem/consentscope',
          code: 'patient-privacy',
          display: 'Privacy Consent',
        },
      ],
    },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0', display: 'Patient Consent' }] }],
    patient: {
      ...(patientReference ? { reference: patientReference } : {}),
      identifier: addressIdentifier(record.patient),
    },
    performer: [
      {
        ...(signedByPatient && patientReference ? { reference: patientReference } : {}),
        identifier: addressIdentifier(record.grantedBy),
        display: signedByPatient ? 'the patient' : 'a delegate of the patient',
      },
    ],
    sourceReference: {
      ...(grantTx
        ? {
            identifier: {
              system: `urn:careledger:chain-transaction:eip155:${chainId}`,
              value: grantTx.transactionHash,
            },
          }
        : {}),
      display: where,
    },
    policyRule: {
      coding: [
        { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN', display: 'opt-in' },
      ],
    },
    provision,
  };
  const grantedAt = fhirDateTime(record.grantedAt);
  if (grantedAt) consent.dateTime = grantedAt;
  if (record.revokedAt !== null) {
    const revokedAt = fhirDateTime(record.revokedAt);
    consent.extension = [
      {
        url: REVOCATION_EXTENSION,
        extension: [
          ...(revokedAt ? [{ url: 'revokedAt', valueDateTime: revokedAt }] : []),
          ...(record.revokedBy
            ? [{ url: 'revokedBy', valueIdentifier: addressIdentifier(record.revokedBy) }]
            : []),
        ],
      },
    ];
  }
  return consent;
}

/** A FHIR searchset Bundle of Consent views. */
export function consentSearchBundle(
  consents: readonly Consent[],
  baseUrl: string,
  selfUrl: string,
): Bundle<Consent> {
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    total: consents.length,
    link: [{ relation: 'self', url: selfUrl }],
    entry: consents.map((resource) => ({
      fullUrl: `${baseUrl}/Consent/${resource.id}`,
      resource,
      search: { mode: 'match' },
    })),
  };
}
