import { createHmac } from 'node:crypto';
import type {
  AllergyIntolerance,
  Condition,
  DiagnosticReport,
  DocumentReference,
  Encounter,
  Immunization,
  MedicationRequest,
  Observation,
  Organization,
  Patient,
  Practitioner,
  Procedure,
  Resource,
} from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { MAX_DATE_MS } from './dateRange.js';
import { extractIndexEntries, type IndexEntries } from './extractIndexEntries.js';
import { SEARCHABLE_RESOURCE_TYPES } from './searchParameters.js';

const KEY = Buffer.alloc(32, 0x5a);
const hasher = (v: string): Uint8Array =>
  new Uint8Array(createHmac('sha256', KEY).update(v).digest().subarray(0, 16));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const t = (iso: string) => Date.parse(iso);

const MRN = 'http://hospital.example.org/mrn';
const SSN = 'http://hl7.org/fhir/sid/us-ssn';
const LOINC = 'http://loinc.org';
const SNOMED = 'http://snomed.info/sct';
const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';
const CVX = 'http://hl7.org/fhir/sid/cvx';
const PATIENT_REF = { reference: 'Patient/9f3c2a1e-5b7d-4c8e-a1f2-3b4c5d6e7f80' };
const PATIENT_ID = '9f3c2a1e-5b7d-4c8e-a1f2-3b4c5d6e7f80';

/** Clear rows as `param=text`, hashed rows as `param#hex`, for readable expectations. */
const CLEAR_PARAMS = new Set(['patient', 'code', 'type', 'vaccine-code']);
function rows(entries: IndexEntries): string[] {
  return entries.tokens.map(({ param, token }) =>
    CLEAR_PARAMS.has(param) ? `${param}=${Buffer.from(token).toString('utf8')}` : `${param}#${hex(token)}`,
  );
}
const hashed = (param: string, canonical: string) => `${param}#${hex(hasher(`${param}:${canonical}`))}`;
/** A clear coding stores system|code and system| (a code in any system is found through its system). */
const coding = (param: string, system: string, code: string) => [
  `${param}=${system}|${code}`,
  `${param}=${system}|`,
];
const identifier = (system: string, value: string) => [
  hashed('identifier', `${system}|${value}`),
  hashed('identifier', value),
  hashed('identifier', `${system}|`),
];

// --- Synthea-like fixtures --------------------------------------------------------------------------------------

const patient: Patient = {
  resourceType: 'Patient',
  id: PATIENT_ID,
  identifier: [
    {
      type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }] },
      system: MRN,
      value: 'MRN-0042317',
    },
    {
      type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'SS' }] },
      system: SSN,
      value: '999-45-6789',
    },
  ],
  name: [
    { use: 'official', family: 'Müller', given: ['Jürgen', 'Hans'], prefix: ['Mr.'] },
    { use: 'maiden', family: "O'Brien-Núñez", text: 'Jürgen O’Brien-Núñez' },
  ],
  gender: 'male',
  birthDate: '1968-04-12',
};

const practitioner: Practitioner = {
  resourceType: 'Practitioner',
  id: 'pr-1',
  identifier: [{ system: 'http://hl7.org/fhir/sid/us-npi', value: '9999912345' }],
  name: [{ family: 'Rau', given: ['Elena'], prefix: ['Dr.'] }],
};

const organization: Organization = {
  resourceType: 'Organization',
  id: 'org-1',
  identifier: [
    { system: 'https://github.com/synthetichealth/synthea', value: 'a4a2f7a6-b8a3-3c1e-8c5f-1b2c3d4e5f60' },
  ],
  name: 'Springfield General Hospital',
};

const encounter: Encounter = {
  resourceType: 'Encounter',
  id: 'enc-1',
  identifier: [{ system: MRN.replace('mrn', 'visit'), value: 'V-778899' }],
  status: 'finished',
  class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
  type: [{ coding: [{ system: SNOMED, code: '185349003', display: 'Encounter for check up (procedure)' }] }],
  subject: PATIENT_REF,
  period: { start: '2024-03-05T09:00:00+01:00', end: '2024-03-05T09:45:00+01:00' },
};

const observation: Observation = {
  resourceType: 'Observation',
  id: 'obs-1',
  identifier: [{ system: 'urn:ietf:rfc:3986', value: 'urn:uuid:1d2e3f40-5a6b-4c7d-8e9f-a0b1c2d3e4f5' }],
  status: 'final',
  category: [
    {
      coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }],
    },
  ],
  code: { coding: [{ system: LOINC, code: '8867-4', display: 'Heart rate' }], text: 'Heart rate' },
  subject: PATIENT_REF,
  encounter: { reference: 'Encounter/enc-1' },
  effectiveDateTime: '2024-03-05T09:12:30+01:00',
  valueQuantity: { value: 72, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
};

const condition: Condition = {
  resourceType: 'Condition',
  id: 'cond-1',
  clinicalStatus: {
    coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }],
  },
  code: {
    coding: [
      { system: SNOMED, code: '44054006', display: 'Diabetes mellitus type 2 (disorder)' },
      { system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'E11.9' },
    ],
  },
  subject: PATIENT_REF,
  onsetDateTime: '2015-06-20',
  recordedDate: '2015-06-22T14:05:00Z',
};

const allergy: AllergyIntolerance = {
  resourceType: 'AllergyIntolerance',
  id: 'al-1',
  identifier: [{ system: MRN.replace('mrn', 'allergy'), value: 'AL-5' }],
  patient: PATIENT_REF,
  code: { coding: [{ system: SNOMED, code: '300913006', display: 'Shellfish (substance)' }] },
  reaction: [
    { substance: { coding: [{ system: RXNORM, code: '7980', display: 'Penicillin G' }] }, manifestation: [] },
  ],
  recordedDate: '2019-11-02',
};

const medicationRequest: MedicationRequest = {
  resourceType: 'MedicationRequest',
  id: 'mr-1',
  identifier: [{ system: MRN.replace('mrn', 'rx'), value: 'RX-31337' }],
  status: 'active',
  intent: 'order',
  medicationCodeableConcept: {
    coding: [
      {
        system: RXNORM,
        code: '860975',
        display: '24 HR Metformin hydrochloride 500 MG Extended Release Oral Tablet',
      },
    ],
  },
  subject: PATIENT_REF,
  authoredOn: '2015-06-22T14:30:00-04:00',
};

const immunization: Immunization = {
  resourceType: 'Immunization',
  id: 'imm-1',
  status: 'completed',
  vaccineCode: {
    coding: [{ system: CVX, code: '140', display: 'Influenza, seasonal, injectable, preservative free' }],
  },
  patient: PATIENT_REF,
  occurrenceDateTime: '2023-10-14T11:20:00Z',
  primarySource: true,
};

const procedure: Procedure = {
  resourceType: 'Procedure',
  id: 'proc-1',
  identifier: [{ value: 'PROC-0001' }],
  status: 'completed',
  code: { coding: [{ system: SNOMED, code: '430193006', display: 'Medication Reconciliation (procedure)' }] },
  subject: PATIENT_REF,
  performedPeriod: { start: '2024-03-05T09:15:00+01:00', end: '2024-03-05T09:30:00+01:00' },
};

const diagnosticReport: DiagnosticReport = {
  resourceType: 'DiagnosticReport',
  id: 'dr-1',
  identifier: [{ system: MRN.replace('mrn', 'lab'), value: 'LAB-2024-0305-17' }],
  status: 'final',
  code: { coding: [{ system: LOINC, code: '51990-0', display: 'Basic metabolic panel - Blood' }] },
  subject: PATIENT_REF,
  effectiveDateTime: '2024-03-05T08:00:00Z',
};

const documentReference: DocumentReference = {
  resourceType: 'DocumentReference',
  id: 'doc-1',
  masterIdentifier: {
    system: 'urn:ietf:rfc:3986',
    value: 'urn:oid:1.2.840.113619.2.62.994044785528.114289542805',
  },
  identifier: [{ system: MRN.replace('mrn', 'docs'), value: 'DOC-4411' }],
  status: 'current',
  type: { coding: [{ system: LOINC, code: '34117-2', display: 'History and physical note' }] },
  subject: PATIENT_REF,
  date: '2024-03-05T10:02:17.123+01:00',
  content: [{ attachment: { contentType: 'text/plain', data: 'Tm90ZQ==' } }],
};

const ALL: Resource[] = [
  patient,
  practitioner,
  organization,
  encounter,
  observation,
  condition,
  allergy,
  medicationRequest,
  immunization,
  procedure,
  diagnosticReport,
  documentReference,
];

describe('extractIndexEntries: one realistic resource of every supported type', () => {
  it('covers every searchable type', () => {
    expect(ALL.map((r) => r.resourceType).sort()).toEqual([...SEARCHABLE_RESOURCE_TYPES].sort());
  });

  it('Patient: hashed identifiers and name prefixes, birthdate, own id as patientId', () => {
    const entries = extractIndexEntries(patient, hasher);
    expect(entries.patientId).toBe(PATIENT_ID);
    expect(entries.dates).toEqual([
      { param: 'birthdate', low: t('1968-04-12T00:00:00.000Z'), high: t('1968-04-12T23:59:59.999Z') },
    ]);
    const r = rows(entries);
    expect(r.filter((x) => x.startsWith('identifier'))).toEqual([
      ...identifier(MRN, 'MRN-0042317'),
      ...identifier(SSN, '999-45-6789'),
    ]);
    expect(r).not.toContain('patient=Patient/' + PATIENT_ID); // no patient param on Patient itself
    for (const q of [
      'm',
      'mu',
      'mul',
      'muller',
      'ju',
      'jurgen',
      'hans',
      'mr',
      'o',
      'obrien',
      'brien',
      'nunez',
      'obriennunez',
    ]) {
      expect(r, `name:${q}`).toContain(hashed('name', q));
    }
    for (const q of ['mul', 'obr', 'nun']) expect(r).toContain(hashed('family', q));
    for (const q of ['jur', 'han']) expect(r).toContain(hashed('given', q));
    expect(r).not.toContain(hashed('family', 'hans'));
    expect(r).not.toContain(hashed('given', 'mul'));
    expect(r).toContain(hashed('name', '=Müller'));
    expect(r).toContain(hashed('family', "=O'Brien-Núñez"));
    expect(r).toContain(hashed('given', '=Jürgen'));
    expect(entries.skipped).toEqual([]);
  });

  it('Practitioner and Organization: hashed identifiers only, no patient', () => {
    const p = extractIndexEntries(practitioner, hasher);
    expect(rows(p)).toEqual(identifier('http://hl7.org/fhir/sid/us-npi', '9999912345'));
    expect(p.dates).toEqual([]);
    expect(p.patientId).toBeNull();
    const o = extractIndexEntries(organization, hasher);
    expect(rows(o)).toEqual(
      identifier('https://github.com/synthetichealth/synthea', 'a4a2f7a6-b8a3-3c1e-8c5f-1b2c3d4e5f60'),
    );
    expect(o.patientId).toBeNull();
  });

  it('Encounter: patient, identifier, type (SNOMED), period converted to UTC', () => {
    const entries = extractIndexEntries(encounter, hasher);
    expect(entries.patientId).toBe(PATIENT_ID);
    expect(rows(entries)).toEqual([
      `patient=Patient/${PATIENT_ID}`,
      ...identifier('http://hospital.example.org/visit', 'V-778899'),
      ...coding('type', SNOMED, '185349003'),
    ]);
    expect(entries.dates).toEqual([
      { param: 'date', low: t('2024-03-05T08:00:00.000Z'), high: t('2024-03-05T08:45:00.999Z') },
    ]);
  });

  it('Observation: LOINC code, effectiveDateTime to the second', () => {
    const entries = extractIndexEntries(observation, hasher);
    expect(rows(entries)).toEqual([
      `patient=Patient/${PATIENT_ID}`,
      ...identifier('urn:ietf:rfc:3986', 'urn:uuid:1d2e3f40-5a6b-4c7d-8e9f-a0b1c2d3e4f5'),
      ...coding('code', LOINC, '8867-4'),
    ]);
    expect(entries.dates).toEqual([
      { param: 'date', low: t('2024-03-05T08:12:30.000Z'), high: t('2024-03-05T08:12:30.999Z') },
    ]);
    expect(entries.patientId).toBe(PATIENT_ID);
  });

  it('Condition: every coding, onset-date, recorded-date and date (onset first)', () => {
    const entries = extractIndexEntries(condition, hasher);
    expect(rows(entries)).toEqual([
      `patient=Patient/${PATIENT_ID}`,
      ...coding('code', SNOMED, '44054006'),
      ...coding('code', 'http://hl7.org/fhir/sid/icd-10-cm', 'E11.9'),
    ]);
    const onset = { low: t('2015-06-20T00:00:00.000Z'), high: t('2015-06-20T23:59:59.999Z') };
    expect(entries.dates).toEqual([
      { param: 'onset-date', ...onset },
      { param: 'recorded-date', low: t('2015-06-22T14:05:00.000Z'), high: t('2015-06-22T14:05:00.999Z') },
      { param: 'date', ...onset },
    ]);
  });

  it('Condition without onset: date falls back to recordedDate; onsetPeriod is a range', () => {
    const noOnset = extractIndexEntries({ ...condition, onsetDateTime: undefined }, hasher);
    expect(noOnset.dates.find((d) => d.param === 'date')).toEqual({
      param: 'date',
      low: t('2015-06-22T14:05:00.000Z'),
      high: t('2015-06-22T14:05:00.999Z'),
    });
    const period = extractIndexEntries(
      { ...condition, onsetDateTime: undefined, onsetPeriod: { start: '2015' } },
      hasher,
    );
    expect(period.dates.filter((d) => d.param === 'onset-date')).toEqual([
      { param: 'onset-date', low: t('2015-01-01T00:00:00.000Z'), high: MAX_DATE_MS },
    ]);
  });

  it('AllergyIntolerance: patient (not subject), code and reaction substance, recordedDate', () => {
    const entries = extractIndexEntries(allergy, hasher);
    expect(rows(entries)).toEqual([
      `patient=Patient/${PATIENT_ID}`,
      ...identifier('http://hospital.example.org/allergy', 'AL-5'),
      ...coding('code', SNOMED, '300913006'),
      ...coding('code', RXNORM, '7980'),
    ]);
    expect(entries.dates).toEqual([
      { param: 'date', low: t('2019-11-02T00:00:00.000Z'), high: t('2019-11-02T23:59:59.999Z') },
    ]);
    expect(entries.patientId).toBe(PATIENT_ID);
  });

  it('MedicationRequest: RxNorm medicationCodeableConcept, authoredOn (stored once for authoredon and date)', () => {
    const entries = extractIndexEntries(medicationRequest, hasher);
    expect(rows(entries)).toEqual([
      `patient=Patient/${PATIENT_ID}`,
      ...identifier('http://hospital.example.org/rx', 'RX-31337'),
      ...coding('code', RXNORM, '860975'),
    ]);
    expect(entries.dates).toEqual([
      { param: 'authoredon', low: t('2015-06-22T18:30:00.000Z'), high: t('2015-06-22T18:30:00.999Z') },
    ]);
  });

  it('MedicationRequest with a medicationReference has no code rows', () => {
    const { medicationCodeableConcept: _, ...rest } = medicationRequest;
    const entries = extractIndexEntries(
      { ...rest, medicationReference: { reference: 'Medication/m1' } },
      hasher,
    );
    expect(rows(entries).filter((r) => r.startsWith('code'))).toEqual([]);
  });

  it('Immunization: CVX vaccine code, occurrenceDateTime, patient', () => {
    const entries = extractIndexEntries(immunization, hasher);
    expect(rows(entries)).toEqual([`patient=Patient/${PATIENT_ID}`, ...coding('vaccine-code', CVX, '140')]);
    expect(entries.dates).toEqual([
      { param: 'date', low: t('2023-10-14T11:20:00.000Z'), high: t('2023-10-14T11:20:00.999Z') },
    ]);
    expect(entries.patientId).toBe(PATIENT_ID);
  });

  it('Procedure: identifier without system, SNOMED code, performedPeriod', () => {
    const entries = extractIndexEntries(procedure, hasher);
    expect(rows(entries)).toEqual([
      `patient=Patient/${PATIENT_ID}`,
      hashed('identifier', '|PROC-0001'),
      hashed('identifier', 'PROC-0001'),
      ...coding('code', SNOMED, '430193006'),
    ]);
    expect(entries.dates).toEqual([
      { param: 'date', low: t('2024-03-05T08:15:00.000Z'), high: t('2024-03-05T08:30:00.999Z') },
    ]);
  });

  it('DiagnosticReport: LOINC panel, effectiveDateTime', () => {
    const entries = extractIndexEntries(diagnosticReport, hasher);
    expect(rows(entries)).toEqual([
      `patient=Patient/${PATIENT_ID}`,
      ...identifier('http://hospital.example.org/lab', 'LAB-2024-0305-17'),
      ...coding('code', LOINC, '51990-0'),
    ]);
    expect(entries.dates).toEqual([
      { param: 'date', low: t('2024-03-05T08:00:00.000Z'), high: t('2024-03-05T08:00:00.999Z') },
    ]);
  });

  it('DocumentReference: masterIdentifier and identifier, LOINC type, date to the millisecond', () => {
    const entries = extractIndexEntries(documentReference, hasher);
    expect(rows(entries)).toEqual([
      `patient=Patient/${PATIENT_ID}`,
      ...identifier('urn:ietf:rfc:3986', 'urn:oid:1.2.840.113619.2.62.994044785528.114289542805'),
      ...identifier('http://hospital.example.org/docs', 'DOC-4411'),
      ...coding('type', LOINC, '34117-2'),
    ]);
    expect(entries.dates).toEqual([
      { param: 'date', low: t('2024-03-05T09:02:17.123Z'), high: t('2024-03-05T09:02:17.123Z') },
    ]);
  });
});

describe('extractIndexEntries: privacy', () => {
  const identifying = [
    'MRN-0042317',
    '999-45-6789',
    '9999912345',
    'V-778899',
    'AL-5',
    'RX-31337',
    'PROC-0001',
    'LAB-2024-0305-17',
    'DOC-4411',
    '1.2.840.113619',
    'Müller',
    'muller',
    'mull',
    'Jürgen',
    'jurgen',
    'Hans',
    'hans',
    'brien',
    'Núñez',
    'nunez',
    'Elena',
    'Rau',
    '1968',
  ];
  it('no identifier value or name appears in clear in any token (UTF-8, Latin-1 or UTF-16)', () => {
    for (const resource of ALL) {
      const { tokens } = extractIndexEntries(resource, hasher);
      for (const { param, token } of tokens) {
        const bytes = Buffer.from(token);
        for (const secret of identifying) {
          for (const encoding of ['utf8', 'latin1', 'utf16le'] as const) {
            const needle = Buffer.from(secret, encoding);
            expect(bytes.includes(needle), `${resource.resourceType} ${param} contains ${secret}`).toBe(
              false,
            );
          }
        }
      }
    }
  });

  it('identifier and name tokens are all 16-byte hashes', () => {
    for (const resource of ALL) {
      for (const { param, token } of extractIndexEntries(resource, hasher).tokens) {
        if (['identifier', 'name', 'family', 'given'].includes(param)) expect(token).toHaveLength(16);
      }
    }
  });

  it('tokens depend on the key: another key gives other identifier and name tokens', () => {
    const other = (v: string) =>
      new Uint8Array(createHmac('sha256', Buffer.alloc(32, 1)).update(v).digest().subarray(0, 16));
    const a = extractIndexEntries(patient, hasher).tokens.map((x) => hex(x.token));
    const b = new Set(extractIndexEntries(patient, other).tokens.map((x) => hex(x.token)));
    expect(a.filter((x) => b.has(x))).toEqual([]);
  });
});

describe('extractIndexEntries: names', () => {
  const prefixTokens = (p: Patient, param = 'name') =>
    new Set(
      extractIndexEntries(p, hasher)
        .tokens.filter((r) => r.param === param)
        .map((r) => hex(r.token)),
    );
  const lookup = (param: string, folded: string) => hex(hasher(`${param}:${folded}`));

  it('finds "Müller" by mul, MÜL, Mül and Mu+combining diaeresis (all fold to "mul")', () => {
    const tokens = prefixTokens({ resourceType: 'Patient', name: [{ family: 'Müller' }] });
    expect(tokens.has(lookup('name', 'mul'))).toBe(true);
    expect(tokens.has(lookup('name', 'muller'))).toBe(true);
    expect(tokens.has(lookup('name', 'mull3'))).toBe(false);
    expect(tokens.has(lookup('name', 'ull'))).toBe(false); // starts-with, not contains
  });

  it('stores decomposed and composed spellings identically', () => {
    const composed = prefixTokens({ resourceType: 'Patient', name: [{ family: 'Müller' }] });
    const decomposed = prefixTokens({ resourceType: 'Patient', name: [{ family: 'Mu\u0308ller' }] });
    expect([...decomposed].sort()).toEqual([...composed].sort());
  });

  it('indexes at most 32 characters per prefix and deduplicates repeated names', () => {
    const long = 'Wolfeschlegelsteinhausenbergerdorff';
    const entries = extractIndexEntries(
      { resourceType: 'Patient', name: [{ family: long }, { family: long, given: [long] }] },
      hasher,
    );
    // 32 prefixes + 1 exact, for each of name, family, given.
    expect(entries.tokens.filter((r) => r.param === 'name')).toHaveLength(33);
    expect(entries.tokens.filter((r) => r.param === 'family')).toHaveLength(33);
    expect(entries.tokens.filter((r) => r.param === 'given')).toHaveLength(33);
  });
});

describe('extractIndexEntries: dates and odd input', () => {
  const obs = (extra: Partial<Observation>): Observation => ({
    resourceType: 'Observation',
    status: 'final',
    code: { text: 'x' },
    ...extra,
  });

  it('effectivePeriod, effectiveInstant and effectiveTiming (outer limits)', () => {
    expect(
      extractIndexEntries(obs({ effectivePeriod: { start: '2024-01-01', end: '2024-01-31' } }), hasher).dates,
    ).toEqual([{ param: 'date', low: t('2024-01-01T00:00:00.000Z'), high: t('2024-01-31T23:59:59.999Z') }]);
    expect(extractIndexEntries(obs({ effectiveInstant: '2024-01-01T10:00:00.5Z' }), hasher).dates).toEqual([
      { param: 'date', low: t('2024-01-01T10:00:00.500Z'), high: t('2024-01-01T10:00:00.599Z') },
    ]);
    const timing = obs({
      effectiveTiming: {
        event: ['2024-01-10T08:00:00Z', '2024-01-03T08:00:00Z'],
        repeat: {
          boundsPeriod: { start: '2024-01-01', end: '2024-01-31' },
          frequency: 1,
          period: 2,
          periodUnit: 'd',
        },
      },
    });
    expect(extractIndexEntries(timing, hasher).dates).toEqual([
      { param: 'date', low: t('2024-01-01T00:00:00.000Z'), high: t('2024-01-31T23:59:59.999Z') },
    ]);
  });

  it('reports invalid dates and non-indexable Patient references in skipped, without values', () => {
    const entries = extractIndexEntries(
      obs({
        effectiveDateTime: '2024-02-30',
        subject: { reference: 'urn:uuid:8a4b2c1d-0000-4000-8000-000000000001' },
      }),
      hasher,
    );
    expect(entries.dates).toEqual([]);
    expect(entries.patientId).toBeNull();
    expect(entries.skipped).toEqual([
      { param: 'patient', reason: 'unresolved urn: reference' },
      { param: 'date', reason: 'not a valid FHIR date/dateTime/instant' },
    ]);
    expect(JSON.stringify(entries.skipped)).not.toContain('2024-02-30');
  });

  it('indexes nothing for a Group subject and gives no patientId', () => {
    const entries = extractIndexEntries(obs({ subject: { reference: 'Group/g1' } }), hasher);
    expect(entries.tokens).toEqual([]);
    expect(entries.patientId).toBeNull();
    expect(entries.skipped).toEqual([]);
  });

  it('survives malformed JSON shapes without throwing', () => {
    const weird = {
      resourceType: 'Observation',
      code: { coding: [null, 'x', { code: 42 }, { system: LOINC, code: '1-8' }] },
      subject: 'Patient/1',
      identifier: { value: 'single-not-array' },
      effectivePeriod: 'not-a-period',
      effectiveTiming: { event: 'not-a-date' },
    } as unknown as Resource;
    const entries = extractIndexEntries(weird, hasher);
    expect(rows(entries)).toEqual([
      hashed('identifier', '|single-not-array'),
      hashed('identifier', 'single-not-array'),
      ...coding('code', LOINC, '1-8'),
    ]);
    expect(entries.skipped).toEqual([
      { param: 'date', reason: 'not a valid FHIR Period' },
      { param: 'date', reason: 'Timing with an invalid event or bounds' },
    ]);
  });

  it('yields no rows for a type that is not searchable', () => {
    const entries = extractIndexEntries({ resourceType: 'Bundle', type: 'collection' } as Resource, hasher);
    expect(entries).toEqual({ tokens: [], dates: [], systems: [], patientId: null, skipped: [] });
  });

  it('a Patient without a valid id has no patientId', () => {
    expect(extractIndexEntries({ resourceType: 'Patient' }, hasher).patientId).toBeNull();
    expect(extractIndexEntries({ resourceType: 'Patient', id: 'bad id' }, hasher).patientId).toBeNull();
  });

  it('deduplicates identical rows', () => {
    const twice = obs({
      code: {
        coding: [
          { system: LOINC, code: '8867-4' },
          { system: LOINC, code: '8867-4' },
        ],
      },
      identifier: [{ value: 'A' }, { value: 'A' }],
    });
    const entries = extractIndexEntries(twice, hasher);
    const r = rows(entries);
    expect(r).toHaveLength(new Set(r).size);
    expect(r).toHaveLength(4); // code: system|code, system|; identifier: |A, A
    expect(entries.systems).toEqual([{ param: 'code', system: LOINC }]);
  });

  // Erasure finds a patient's resources by their `patient` token (no index of patient ids is kept), which is right
  // only if a resource has a patientId exactly when it has that token.
  it.each(SEARCHABLE_RESOURCE_TYPES.filter((type) => type !== 'Patient'))(
    '%s: a patientId exactly when a patient token names it',
    (resourceType) => {
      const references: unknown[] = [
        { reference: 'Patient/p-1' },
        { reference: 'Patient/p-1/_history/2' },
        { reference: 'http://other.example.org/fhir/Patient/p-1' },
        { reference: '#contained' },
        { reference: 'Group/g-1' },
        { reference: 'Patient/not a valid id' },
        { display: 'no reference' },
        'Patient/p-1',
        null,
      ];
      for (const reference of references) {
        for (const path of ['subject', 'patient']) {
          const resource = { resourceType, id: 'r-1', [path]: reference } as unknown as Resource;
          const entries = extractIndexEntries(resource, hasher);
          const patientTokens = entries.tokens
            .filter((row) => row.param === 'patient')
            .map((row) => Buffer.from(row.token).toString('utf8'));
          expect(
            entries.patientId === null ? [] : [`Patient/${entries.patientId}`],
            `${path}: ${JSON.stringify(reference)}`,
          ).toEqual(patientTokens);
        }
      }
    },
  );
});
