/**
 * Realistic FHIR R4 resources for the FHIR section: Patients with names, an MRN identifier, gender and birth date,
 * and LOINC vital-sign Observations (category vital-signs, UCUM valueQuantity, effectiveDateTime, subject). Built
 * from a seeded PRNG, so every run sends the same kind and size of resources.
 */
import type { Observation, Patient } from '@medplum/fhirtypes';
import { xorshift32 } from './records.js';

/** xorshift32 in [0, 1). */
export function prng(seed: number): () => number {
  const next = xorshift32(seed);
  return () => next() / 0x1_0000_0000;
}

const FAMILY = [
  'Smith',
  'García',
  'Nguyen',
  'Müller',
  "O'Brien",
  'Kowalski',
  'Okafor',
  'Johansson',
  'Rossi',
  'Tanaka',
];
const GIVEN_F = ['Anne-Marie', 'Fatima', 'Chloé', 'Maria', 'Aiko', 'Grace', 'Ingrid', 'Zofia'];
const GIVEN_M = ['James', 'José', 'Minh', 'Lukas', 'Chinedu', 'Erik', 'Marco', 'Kenji'];

/** LOINC vital signs (https://hl7.org/fhir/R4/observation-vitalsigns.html) with a plausible range and UCUM unit. */
const VITALS = [
  {
    loinc: '8867-4',
    display: 'Heart rate',
    unit: 'beats/minute',
    ucum: '/min',
    min: 50,
    max: 120,
    digits: 0,
  },
  {
    loinc: '9279-1',
    display: 'Respiratory rate',
    unit: 'breaths/minute',
    ucum: '/min',
    min: 10,
    max: 24,
    digits: 0,
  },
  { loinc: '8310-5', display: 'Body temperature', unit: 'Cel', ucum: 'Cel', min: 35.8, max: 39.5, digits: 1 },
  { loinc: '29463-7', display: 'Body weight', unit: 'kg', ucum: 'kg', min: 45, max: 130, digits: 1 },
  { loinc: '8302-2', display: 'Body height', unit: 'cm', ucum: 'cm', min: 150, max: 200, digits: 0 },
  {
    loinc: '39156-5',
    display: 'Body mass index (BMI) [Ratio]',
    unit: 'kg/m2',
    ucum: 'kg/m2',
    min: 17,
    max: 40,
    digits: 1,
  },
  {
    loinc: '2708-6',
    display: 'Oxygen saturation in Arterial blood',
    unit: '%',
    ucum: '%',
    min: 88,
    max: 100,
    digits: 0,
  },
  {
    loinc: '8480-6',
    display: 'Systolic blood pressure',
    unit: 'mmHg',
    ucum: 'mm[Hg]',
    min: 95,
    max: 180,
    digits: 0,
  },
  {
    loinc: '8462-4',
    display: 'Diastolic blood pressure',
    unit: 'mmHg',
    ucum: 'mm[Hg]',
    min: 55,
    max: 110,
    digits: 0,
  },
] as const;

const pick = <T>(rnd: () => number, list: readonly T[]): T => list[Math.floor(rnd() * list.length)] as T;
const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** Patient number `i` (no id: the server assigns it). */
export function makePatient(i: number, rnd: () => number): Patient {
  const female = rnd() < 0.5;
  const family = pick(rnd, FAMILY);
  const given = pick(rnd, female ? GIVEN_F : GIVEN_M);
  const year = 1935 + Math.floor(rnd() * 80);
  return {
    resourceType: 'Patient',
    identifier: [
      {
        use: 'usual',
        type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }] },
        system: 'urn:oid:2.16.840.1.113883.19.5',
        value: `MRN-${pad(100_000 + i, 6)}`,
      },
    ],
    active: true,
    name: [{ use: 'official', family, given: [given], text: `${given} ${family}` }],
    telecom: [{ system: 'phone', value: `+1-555-${pad(1000 + i, 4)}`, use: 'home' }],
    gender: female ? 'female' : 'male',
    birthDate: `${year}-${pad(1 + Math.floor(rnd() * 12))}-${pad(1 + Math.floor(rnd() * 28))}`,
  };
}

/** Observation number `i`: one vital sign of `patientId`, taken some time in 2024. */
export function makeObservation(i: number, patientId: string, rnd: () => number): Observation {
  const v = pick(rnd, VITALS);
  const value = Number((v.min + rnd() * (v.max - v.min)).toFixed(v.digits));
  const t = new Date(Date.UTC(2024, 0, 1) + Math.floor(rnd() * 365 * 86_400) * 1000);
  return {
    resourceType: 'Observation',
    identifier: [{ system: 'urn:ietf:rfc:3986', value: `urn:bench:obs:${i}` }],
    status: 'final',
    category: [
      {
        coding: [
          {
            system: 'http://terminology.hl7.org/CodeSystem/observation-category',
            code: 'vital-signs',
            display: 'Vital Signs',
          },
        ],
      },
    ],
    code: { coding: [{ system: 'http://loinc.org', code: v.loinc, display: v.display }], text: v.display },
    subject: { reference: `Patient/${patientId}` },
    effectiveDateTime: t.toISOString().replace('.000Z', 'Z'),
    valueQuantity: { value, unit: v.unit, system: 'http://unitsofmeasure.org', code: v.ucum },
  };
}

/** A transaction Bundle creating `resources` (each entry a POST with a `urn:uuid:` fullUrl). */
export function transactionBundle(
  resources: readonly { resourceType: string }[],
  firstIndex: number,
): object {
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: resources.map((resource, k) => ({
      fullUrl: `urn:uuid:00000000-0000-4000-8000-${(firstIndex + k).toString(16).padStart(12, '0')}`,
      resource,
      request: { method: 'POST', url: resource.resourceType },
    })),
  };
}
