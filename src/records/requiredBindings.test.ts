import type { Bundle, CodeSystem, StructureDefinition, ValueSet } from '@medplum/fhirtypes';
import { beforeAll, describe, expect, it } from 'vitest';
import { FhirError } from './fhirErrors.js';
import {
  buildRequiredBindingChecker,
  getRequiredBindingChecker,
  type RequiredBindingChecker,
} from './requiredBindings.js';
import { SUPPORTED_RESOURCE_TYPES, type SupportedResourceType } from './supportedTypes.js';
import { loadFhirDefinitions, validateFhirResource } from './validateFhirResource.js';

const CONDITION_CLINICAL = 'http://terminology.hl7.org/CodeSystem/condition-clinical';
const CONDITION_VER = 'http://terminology.hl7.org/CodeSystem/condition-ver-status';
const ALLERGY_CLINICAL = 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical';
const ALLERGY_VER = 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification';

/** Realistic, valid resources of the 12 supported types, exercising their required bindings. */
const VALID: Record<SupportedResourceType, any> = {
  Patient: {
    resourceType: 'Patient',
    text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">Agnes Whitlock</div>' },
    identifier: [{ use: 'usual', system: 'urn:oid:2.16.840.1.113883.19.5', value: 'RB-20931' }],
    name: [
      { use: 'official', family: 'Whitlock', given: ['Agnes', 'May'] },
      { use: 'maiden', family: 'Brennan' },
    ],
    telecom: [
      { system: 'phone', value: '555-730-0931', use: 'home' },
      { system: 'email', value: 'agnes@example.org', use: 'work' },
    ],
    gender: 'female',
    birthDate: '1951-07-30',
    address: [{ use: 'home', type: 'both', line: ['3 Birch Hollow'], city: 'Riverbend', state: 'VT' }],
    contact: [{ name: { family: 'Whitlock', given: ['Tom'] }, gender: 'male' }],
    link: [{ other: { reference: 'Patient/old-1' }, type: 'replaces' }],
    extension: [
      {
        url: 'http://hl7.org/fhir/StructureDefinition/patient-birthPlace',
        valueAddress: { use: 'home', city: 'Boston', country: 'US' },
      },
    ],
  },
  Practitioner: {
    resourceType: 'Practitioner',
    identifier: [{ use: 'official', system: 'http://hl7.org/fhir/sid/us-npi', value: '9941339108' }],
    name: [{ use: 'official', family: 'Okafor', given: ['Chinedu'], prefix: ['Dr.'] }],
    telecom: [{ system: 'phone', value: '555-010-2200', use: 'work' }],
    gender: 'male',
  },
  Organization: {
    resourceType: 'Organization',
    name: 'Riverbend Clinic',
    telecom: [
      { system: 'phone', value: '555-730-0000', use: 'work' },
      { system: 'url', value: 'https://clinic.example.org' },
    ],
    address: [{ use: 'work', type: 'physical', city: 'Riverbend', state: 'VT' }],
  },
  Encounter: {
    resourceType: 'Encounter',
    status: 'finished',
    statusHistory: [
      { status: 'arrived', period: { start: '2024-09-03T08:00:00Z', end: '2024-09-03T08:10:00Z' } },
    ],
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB', display: 'ambulatory' },
    subject: { reference: 'Patient/p1' },
    location: [{ location: { reference: 'Location/l1' }, status: 'completed' }],
    period: { start: '2024-09-03T08:00:00Z', end: '2024-09-03T09:00:00Z' },
  },
  Observation: {
    resourceType: 'Observation',
    status: 'final',
    category: [
      {
        coding: [
          { system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' },
        ],
      },
    ],
    code: { coding: [{ system: 'http://loinc.org', code: '85354-9', display: 'Blood pressure panel' }] },
    subject: { reference: 'Patient/p1' },
    effectiveDateTime: '2024-09-03T08:30:00-04:00',
    component: [
      {
        code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }] },
        valueQuantity: { value: 128, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' },
      },
      {
        code: { coding: [{ system: 'http://loinc.org', code: '8462-4' }] },
        valueQuantity: {
          value: 60,
          comparator: '<',
          unit: 'mmHg',
          system: 'http://unitsofmeasure.org',
          code: 'mm[Hg]',
        },
      },
    ],
  },
  Condition: {
    resourceType: 'Condition',
    clinicalStatus: { coding: [{ system: CONDITION_CLINICAL, code: 'active' }] },
    verificationStatus: { coding: [{ system: CONDITION_VER, code: 'confirmed' }] },
    code: {
      coding: [{ system: 'http://snomed.info/sct', code: '44054006', display: 'Diabetes mellitus type 2' }],
    },
    subject: { reference: 'Patient/p1' },
    onsetDateTime: '2019-04-01',
  },
  AllergyIntolerance: {
    resourceType: 'AllergyIntolerance',
    clinicalStatus: { coding: [{ system: ALLERGY_CLINICAL, code: 'active' }] },
    verificationStatus: { coding: [{ system: ALLERGY_VER, code: 'confirmed' }] },
    type: 'allergy',
    category: ['medication'],
    criticality: 'high',
    code: {
      coding: [
        { system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '7980', display: 'Penicillin G' },
      ],
    },
    patient: { reference: 'Patient/p1' },
    reaction: [
      {
        manifestation: [
          { coding: [{ system: 'http://snomed.info/sct', code: '247472004', display: 'Hives' }] },
        ],
        severity: 'moderate',
      },
    ],
  },
  MedicationRequest: {
    resourceType: 'MedicationRequest',
    status: 'active',
    intent: 'order',
    priority: 'routine',
    medicationCodeableConcept: {
      coding: [
        {
          system: 'http://www.nlm.nih.gov/research/umls/rxnorm',
          code: '860975',
          display: 'Metformin 500 MG',
        },
      ],
    },
    subject: { reference: 'Patient/p1' },
    authoredOn: '2024-09-03',
    dosageInstruction: [
      {
        text: '500 mg twice a day with meals',
        timing: {
          repeat: { frequency: 2, period: 1, periodUnit: 'd', when: ['CM', 'CV'], dayOfWeek: ['mon', 'thu'] },
        },
        doseAndRate: [
          { doseQuantity: { value: 500, unit: 'mg', system: 'http://unitsofmeasure.org', code: 'mg' } },
        ],
      },
    ],
  },
  Immunization: {
    resourceType: 'Immunization',
    status: 'completed',
    vaccineCode: {
      coding: [{ system: 'http://hl7.org/fhir/sid/cvx', code: '140', display: 'Influenza, seasonal' }],
    },
    patient: { reference: 'Patient/p1' },
    occurrenceDateTime: '2024-10-01',
  },
  Procedure: {
    resourceType: 'Procedure',
    status: 'completed',
    code: { coding: [{ system: 'http://snomed.info/sct', code: '80146002', display: 'Appendectomy' }] },
    subject: { reference: 'Patient/p1' },
    performedDateTime: '2023-02-11',
  },
  DiagnosticReport: {
    resourceType: 'DiagnosticReport',
    status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code: '58410-2', display: 'CBC panel' }] },
    subject: { reference: 'Patient/p1' },
    result: [{ reference: 'Observation/o1' }],
  },
  DocumentReference: {
    resourceType: 'DocumentReference',
    status: 'current',
    docStatus: 'final',
    type: { coding: [{ system: 'http://loinc.org', code: '34133-9', display: 'Summary of episode note' }] },
    subject: { reference: 'Patient/p1' },
    relatesTo: [{ code: 'replaces', target: { reference: 'DocumentReference/d0' } }],
    content: [{ attachment: { contentType: 'text/plain', data: 'SGVsbG8=' } }],
  },
};

type Case = { type: SupportedResourceType; expression: string; mutate: (r: any) => void };

/** One wrong code per required binding, with the FHIRPath the issue must name. */
const INVALID: Case[] = [
  { type: 'Patient', expression: 'Patient.gender', mutate: (r) => (r.gender = 'unknown-gender') },
  { type: 'Patient', expression: 'Patient.name[1].use', mutate: (r) => (r.name[1].use = 'birth') },
  {
    type: 'Patient',
    expression: 'Patient.telecom[1].system',
    mutate: (r) => (r.telecom[1].system = 'telex'),
  },
  { type: 'Patient', expression: 'Patient.telecom[0].use', mutate: (r) => (r.telecom[0].use = 'cell') },
  { type: 'Patient', expression: 'Patient.address[0].use', mutate: (r) => (r.address[0].use = 'vacation') },
  { type: 'Patient', expression: 'Patient.address[0].type', mutate: (r) => (r.address[0].type = 'mailing') },
  { type: 'Patient', expression: 'Patient.identifier[0].use', mutate: (r) => (r.identifier[0].use = 'main') },
  { type: 'Patient', expression: 'Patient.contact[0].gender', mutate: (r) => (r.contact[0].gender = 'M') },
  { type: 'Patient', expression: 'Patient.link[0].type', mutate: (r) => (r.link[0].type = 'merged') },
  { type: 'Patient', expression: 'Patient.text.status', mutate: (r) => (r.text.status = 'manual') },
  {
    type: 'Patient',
    expression: 'Patient.extension[0].valueAddress.use',
    mutate: (r) => (r.extension[0].valueAddress.use = 'birth'),
  },
  { type: 'Practitioner', expression: 'Practitioner.gender', mutate: (r) => (r.gender = 'Male') },
  {
    type: 'Practitioner',
    expression: 'Practitioner.name[0].use',
    mutate: (r) => (r.name[0].use = 'professional'),
  },
  {
    type: 'Organization',
    expression: 'Organization.telecom[1].system',
    mutate: (r) => (r.telecom[1].system = 'web'),
  },
  {
    type: 'Organization',
    expression: 'Organization.address[0].type',
    mutate: (r) => (r.address[0].type = 'hq'),
  },
  { type: 'Encounter', expression: 'Encounter.status', mutate: (r) => (r.status = 'completed') },
  {
    type: 'Encounter',
    expression: 'Encounter.statusHistory[0].status',
    mutate: (r) => (r.statusHistory[0].status = 'checked-in'),
  },
  {
    type: 'Encounter',
    expression: 'Encounter.location[0].status',
    mutate: (r) => (r.location[0].status = 'done'),
  },
  { type: 'Observation', expression: 'Observation.status', mutate: (r) => (r.status = 'bogus') },
  {
    type: 'Observation',
    expression: 'Observation.component[1].valueQuantity.comparator',
    mutate: (r) => (r.component[1].valueQuantity.comparator = '=<'),
  },
  {
    type: 'Condition',
    expression: 'Condition.clinicalStatus',
    mutate: (r) => (r.clinicalStatus.coding[0].code = 'current'),
  },
  {
    type: 'Condition',
    expression: 'Condition.verificationStatus',
    mutate: (r) => (r.verificationStatus.coding[0].code = 'certain'),
  },
  {
    type: 'AllergyIntolerance',
    expression: 'AllergyIntolerance.clinicalStatus',
    mutate: (r) => (r.clinicalStatus.coding[0].code = 'recurrence'),
  },
  {
    type: 'AllergyIntolerance',
    expression: 'AllergyIntolerance.verificationStatus',
    mutate: (r) => (r.verificationStatus.coding[0].code = 'provisional'),
  },
  {
    type: 'AllergyIntolerance',
    expression: 'AllergyIntolerance.type',
    mutate: (r) => (r.type = 'sensitivity'),
  },
  {
    type: 'AllergyIntolerance',
    expression: 'AllergyIntolerance.category[0]',
    mutate: (r) => (r.category[0] = 'drug'),
  },
  {
    type: 'AllergyIntolerance',
    expression: 'AllergyIntolerance.criticality',
    mutate: (r) => (r.criticality = 'severe'),
  },
  {
    type: 'AllergyIntolerance',
    expression: 'AllergyIntolerance.reaction[0].severity',
    mutate: (r) => (r.reaction[0].severity = 'high'),
  },
  {
    type: 'MedicationRequest',
    expression: 'MedicationRequest.status',
    mutate: (r) => (r.status = 'ongoing'),
  },
  {
    type: 'MedicationRequest',
    expression: 'MedicationRequest.intent',
    mutate: (r) => (r.intent = 'prescription'),
  },
  {
    type: 'MedicationRequest',
    expression: 'MedicationRequest.priority',
    mutate: (r) => (r.priority = 'high'),
  },
  {
    type: 'MedicationRequest',
    expression: 'MedicationRequest.dosageInstruction[0].timing.repeat.periodUnit',
    mutate: (r) => (r.dosageInstruction[0].timing.repeat.periodUnit = 'day'),
  },
  {
    type: 'MedicationRequest',
    expression: 'MedicationRequest.dosageInstruction[0].timing.repeat.when[1]',
    mutate: (r) => (r.dosageInstruction[0].timing.repeat.when[1] = 'DINNER'),
  },
  {
    type: 'MedicationRequest',
    expression: 'MedicationRequest.dosageInstruction[0].timing.repeat.dayOfWeek[0]',
    mutate: (r) => (r.dosageInstruction[0].timing.repeat.dayOfWeek[0] = 'monday'),
  },
  // event-status has on-hold, but immunization-status only lists completed | entered-in-error | not-done.
  { type: 'Immunization', expression: 'Immunization.status', mutate: (r) => (r.status = 'on-hold') },
  { type: 'Procedure', expression: 'Procedure.status', mutate: (r) => (r.status = 'done') },
  { type: 'DiagnosticReport', expression: 'DiagnosticReport.status', mutate: (r) => (r.status = 'complete') },
  { type: 'DocumentReference', expression: 'DocumentReference.status', mutate: (r) => (r.status = 'final') },
  {
    type: 'DocumentReference',
    expression: 'DocumentReference.docStatus',
    mutate: (r) => (r.docStatus = 'current'),
  },
  {
    type: 'DocumentReference',
    expression: 'DocumentReference.relatesTo[0].code',
    mutate: (r) => (r.relatesTo[0].code = 'supersedes'),
  },
];

function invalid(c: Case): any {
  const resource = structuredClone(VALID[c.type]);
  c.mutate(resource);
  return resource;
}

describe('required bindings (FHIR R4 definitions)', () => {
  let checker: RequiredBindingChecker;
  beforeAll(() => {
    checker = getRequiredBindingChecker();
  });

  it('has a valid sample for every supported type', () => {
    expect(Object.keys(VALID).sort()).toEqual([...SUPPORTED_RESOURCE_TYPES].sort());
  });

  it.each(SUPPORTED_RESOURCE_TYPES)('accepts a valid %s', (type) => {
    expect(checker.check(VALID[type])).toEqual([]);
  });

  it.each(INVALID)('rejects a wrong code at $expression', (c) => {
    const issues = checker.check(invalid(c));
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ severity: 'error', code: 'code-invalid', expression: [c.expression] });
  });

  it('describes the value, the value set and the allowed codes', () => {
    const [issue] = checker.check({ ...VALID.Observation, status: 'bogus' });
    expect(issue?.details?.text).toBe(
      'Value "bogus" is not in the required value set http://hl7.org/fhir/ValueSet/observation-status ' +
        '(allowed: registered, preliminary, final, amended, corrected, cancelled, entered-in-error, unknown)',
    );
    // More than 12 codes: the count instead of the list.
    const [when] = checker.check(invalid(INVALID.find((c) => c.expression.endsWith('when[1]')) as Case));
    expect(when?.details?.text).toMatch(/^Value "DINNER" is not in .*event-timing \(\d+ allowed codes\)$/);
  });

  it('reports every violation, in arrays and nested backbone elements', () => {
    const patient = structuredClone(VALID.Patient);
    patient.gender = 'f';
    patient.name[0].use = 'formal';
    patient.telecom[1].use = 'office';
    patient.contact[0].gender = 'x';
    expect(checker.check(patient).map((i) => i.expression?.[0])).toEqual([
      'Patient.name[0].use',
      'Patient.telecom[1].use',
      'Patient.gender',
      'Patient.contact[0].gender',
    ]);
  });

  it('accepts codes nested in the code system hierarchy', () => {
    // condition-clinical: active > recurrence, relapse; inactive > remission, resolved.
    const condition = structuredClone(VALID.Condition);
    condition.clinicalStatus.coding[0].code = 'remission';
    expect(checker.check(condition)).toEqual([]);
    expect(checker.check({ ...VALID.Observation, status: 'corrected' })).toEqual([]); // amended > corrected
  });

  it('checks a CodeableConcept: one coding from the value set is enough; other systems are not judged', () => {
    const bad = { system: CONDITION_CLINICAL, code: 'bogus' };
    const good = { system: CONDITION_CLINICAL, code: 'resolved' };
    const snomed = { system: 'http://snomed.info/sct', code: '73425007' };
    const withCodings = (...coding: object[]) => ({ ...VALID.Condition, clinicalStatus: { coding } });
    expect(checker.check(withCodings(bad, good))).toEqual([]);
    expect(checker.check(withCodings(snomed, good))).toEqual([]);
    expect(checker.check(withCodings(snomed))).toEqual([]);
    expect(checker.check({ ...VALID.Condition, clinicalStatus: { text: 'active' } })).toEqual([]);
    const issues = checker.check(withCodings(snomed, bad));
    expect(issues).toHaveLength(1);
    expect(issues[0]?.expression).toEqual(['Condition.clinicalStatus']);
    expect(issues[0]?.details?.text).toContain(`Value "bogus" (system ${CONDITION_CLINICAL}) is not in`);
  });

  it('does not check elements whose binding is not required (Encounter.class is extensible)', () => {
    const encounter = structuredClone(VALID.Encounter);
    encounter.class.code = 'NOT-AN-ACT-CODE';
    expect(checker.check(encounter)).toEqual([]);
  });

  it('does not check an element whose value set cannot be enumerated (Attachment.contentType: MIME types)', () => {
    expect(checker.valueSets.get('http://hl7.org/fhir/ValueSet/mimetypes')).toBe(false);
    expect(checker.valueSets.get('http://hl7.org/fhir/ValueSet/observation-status')).toBe(true);
    const doc = structuredClone(VALID.DocumentReference);
    doc.content[0].attachment.contentType = 'application/x-made-up';
    expect(checker.check(doc)).toEqual([]);
  });

  it('checks contained resources, extensions and primitive extensions', () => {
    const patient = {
      ...VALID.Patient,
      contained: [{ resourceType: 'Observation', status: 'done', code: { text: 'x' } }],
      _gender: { extension: [{ url: 'http://example.org/x', valueQuantity: { value: 1, comparator: '~' } }] },
    };
    expect(checker.check(patient).map((i) => i.expression?.[0])).toEqual([
      'Patient.contained[0].status',
      'Patient._gender.extension[0].valueQuantity.comparator',
    ]);
  });

  it('ignores what is not a resource of a known type', () => {
    expect(checker.check(null)).toEqual([]);
    expect(checker.check({ resourceType: 'NotAType', status: 'x' })).toEqual([]);
  });
});

describe('required bindings (compilation rules)', () => {
  const SD = (type: string, elements: any[]): StructureDefinition =>
    ({
      resourceType: 'StructureDefinition',
      url: `http://hl7.org/fhir/StructureDefinition/${type}`,
      name: type,
      status: 'active',
      kind: type === 'Thing' ? 'resource' : 'complex-type',
      abstract: false,
      type,
      derivation: 'specialization',
      snapshot: { element: [{ path: type }, ...elements] },
    }) as StructureDefinition;
  const required = (valueSet: string) => ({ strength: 'required', valueSet: `${valueSet}|4.0.1` });
  const CS = (url: string, codes: string[]): CodeSystem =>
    ({
      resourceType: 'CodeSystem',
      url,
      status: 'active',
      content: 'complete',
      concept: codes.map((code) => ({ code })),
    }) as CodeSystem;
  const VS = (url: string, compose: any): ValueSet =>
    ({ resourceType: 'ValueSet', url, status: 'active', compose }) as ValueSet;

  const definitions: Bundle = {
    resourceType: 'Bundle',
    type: 'collection',
    entry: [
      SD('Coding', [
        { path: 'Coding.system', type: [{ code: 'uri' }] },
        { path: 'Coding.code', type: [{ code: 'code' }] },
      ]),
      SD('Thing', [
        { path: 'Thing.excluded', type: [{ code: 'code' }], binding: required('urn:vs:excluded') },
        { path: 'Thing.imported', type: [{ code: 'code' }], binding: required('urn:vs:imported') },
        { path: 'Thing.filtered', type: [{ code: 'code' }], binding: required('urn:vs:filtered') },
        { path: 'Thing.external', type: [{ code: 'code' }], binding: required('urn:vs:external') },
        { path: 'Thing.coded', type: [{ code: 'Coding' }], binding: required('urn:vs:excluded') },
        { path: 'Thing.part', type: [{ code: 'BackboneElement' }] },
        {
          path: 'Thing.part.kind[x]',
          type: [{ code: 'code' }, { code: 'Coding' }],
          binding: required('urn:vs:imported'),
        },
      ]),
    ].map((resource) => ({ resource })),
  };
  const terminology = [
    CS('urn:cs:abc', ['a', 'b', 'c']),
    CS('urn:cs:xyz', ['x', 'y', 'z']),
    VS('urn:vs:excluded', {
      include: [{ system: 'urn:cs:abc' }],
      exclude: [{ system: 'urn:cs:abc', concept: [{ code: 'b' }] }],
    }),
    VS('urn:vs:imported', {
      include: [{ valueSet: ['urn:vs:excluded'] }, { system: 'urn:cs:xyz', concept: [{ code: 'x' }] }],
    }),
    VS('urn:vs:filtered', {
      include: [{ system: 'urn:cs:abc', filter: [{ property: 'concept', op: 'is-a', value: 'a' }] }],
    }),
    VS('urn:vs:external', { include: [{ system: 'urn:ietf:bcp:47' }] }),
  ];
  const checker = buildRequiredBindingChecker({
    structureDefinitions: [definitions],
    terminology: [terminology],
  });
  const expressions = (thing: object) =>
    checker.check({ resourceType: 'Thing', ...thing }).map((i) => i.expression?.[0]);

  it('expands includes, excludes and imported value sets; skips filters and unknown code systems', () => {
    expect([...checker.valueSets]).toEqual(
      expect.arrayContaining([
        ['urn:vs:excluded', true],
        ['urn:vs:imported', true],
        ['urn:vs:filtered', false],
        ['urn:vs:external', false],
      ]),
    );
    expect(expressions({ excluded: 'a', imported: 'x', filtered: 'anything', external: 'anything' })).toEqual(
      [],
    );
    expect(expressions({ excluded: 'b', imported: 'c' })).toEqual(['Thing.excluded']);
    expect(expressions({ imported: 'y' })).toEqual(['Thing.imported']);
  });

  it('checks a Coding only when its system belongs to the value set', () => {
    expect(expressions({ coded: { system: 'urn:cs:abc', code: 'c' } })).toEqual([]);
    expect(expressions({ coded: { system: 'urn:cs:other', code: 'b' } })).toEqual([]);
    expect(expressions({ coded: { system: 'urn:cs:abc', code: 'b' } })).toEqual(['Thing.coded']);
  });

  it('follows choice types in backbone arrays', () => {
    expect(
      expressions({ part: [{ kindCode: 'x' }, { kindCoding: { system: 'urn:cs:xyz', code: 'x' } }] }),
    ).toEqual([]);
    expect(
      expressions({
        part: [{ kindCode: 'a' }, { kindCode: 'q' }, { kindCoding: { system: 'urn:cs:xyz', code: 'z' } }],
      }),
    ).toEqual(['Thing.part[1].kindCode', 'Thing.part[2].kindCoding']);
  });
});

describe('validateFhirResource with required bindings', () => {
  beforeAll(() => loadFhirDefinitions());

  it.each(SUPPORTED_RESOURCE_TYPES)('accepts the valid %s', (type) => {
    expect(() => validateFhirResource(structuredClone(VALID[type]))).not.toThrow();
  });

  it('rejects Observation.status "bogus" with a 400 listing the issue', () => {
    let error: unknown;
    try {
      validateFhirResource({ ...VALID.Observation, status: 'bogus' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(FhirError);
    const fhirError = error as FhirError;
    expect(fhirError.status).toBe(400);
    expect(fhirError.code).toBe('FHIR.INVALID_RESOURCE');
    expect(fhirError.issueType).toBe('invalid');
    expect(fhirError.message).toMatch(
      /^The resource is not valid FHIR R4: Value "bogus" is not in .* at Observation\.status\.$/,
    );
    expect(fhirError.details).toEqual({
      issues: [expect.objectContaining({ code: 'code-invalid', expression: ['Observation.status'] })],
    });
  });

  it.each(INVALID)('rejects (after structural validation passes) a wrong code at $expression', (c) => {
    expect(() => validateFhirResource(invalid(c))).toThrow(
      expect.objectContaining({
        status: 400,
        details: { issues: [expect.objectContaining({ expression: [c.expression] })] },
      }),
    );
  });
});
