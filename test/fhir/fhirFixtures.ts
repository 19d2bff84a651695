/**
 * Sample FHIR R4 resources of every type CareLedger keeps, shared by the FHIR integration tests. Each sample
 * carries an identifier, a code (where the type has one) and a date, so every search parameter the server lists
 * has something to find.
 */

/** The twelve resource types the server must support: exactly these, no more. */
export const FHIR_TYPES = [
  'Patient',
  'Practitioner',
  'Organization',
  'Encounter',
  'Observation',
  'Condition',
  'AllergyIntolerance',
  'MedicationRequest',
  'Immunization',
  'Procedure',
  'DiagnosticReport',
  'DocumentReference',
] as const;
export type FhirType = (typeof FHIR_TYPES)[number];

/** Parameters every type accepts (resource-level and result-shaping ones). */
export const COMMON_SEARCH_PARAMS = ['_id', '_lastUpdated', '_count', '_offset', '_sort'] as const;

/** The type-specific search parameters the server must list for each type (and accept, and honour). */
export const TYPE_SEARCH_PARAMS: Record<FhirType, readonly string[]> = {
  Patient: ['identifier', 'name', 'family', 'given', 'birthdate'],
  Practitioner: ['identifier'],
  Organization: ['identifier'],
  Encounter: ['patient', 'subject', 'identifier', 'type', 'code', 'date'],
  Observation: ['patient', 'subject', 'identifier', 'code', 'date'],
  Condition: ['patient', 'subject', 'identifier', 'code', 'onset-date', 'recorded-date', 'date'],
  AllergyIntolerance: ['patient', 'identifier', 'code', 'date'],
  MedicationRequest: ['patient', 'subject', 'identifier', 'code', 'authoredon', 'date'],
  Immunization: ['patient', 'identifier', 'vaccine-code', 'code', 'date'],
  Procedure: ['patient', 'subject', 'identifier', 'code', 'date'],
  DiagnosticReport: ['patient', 'subject', 'identifier', 'code', 'date'],
  DocumentReference: ['patient', 'subject', 'identifier', 'type', 'code', 'date'],
};

export const LOINC = 'http://loinc.org';
export const SNOMED = 'http://snomed.info/sct';
export const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';
export const CVX = 'http://hl7.org/fhir/sid/cvx';
export const TEST_ID_SYSTEM = 'urn:careledger:test:id';
export const MRN_SYSTEM = 'urn:careledger:test:mrn';

export const ATTACHMENT_TEXT = 'Discharge summary: patient stable, follow up in two weeks.';

export interface SampleRefs {
  patient: string;
  practitioner: string;
  organization: string;
  encounter: string;
}

const coded = (system: string, code: string, display?: string) => ({
  coding: [{ system, code, ...(display ? { display } : {}) }],
});

/** The identifier every sample of `type` carries (unique per `tag`). */
export function sampleIdentifier(type: FhirType, tag: string) {
  return { system: TEST_ID_SYSTEM, value: `${type}-${tag}` };
}

/**
 * One valid resource of `type`. Resources that belong to a patient point at `refs.patient`; Encounter-bound ones
 * at `refs.encounter`. `tag` makes identifiers and names unique to one test.
 */
export function sampleResource(type: FhirType, refs: SampleRefs, tag: string): Record<string, any> {
  const identifier = [sampleIdentifier(type, tag)];
  const subject = { reference: `Patient/${refs.patient}` };
  switch (type) {
    case 'Patient':
      return {
        resourceType: 'Patient',
        identifier: [...identifier, { system: MRN_SYSTEM, value: `MRN-${tag}` }],
        name: [{ family: `Family${tag}`, given: ['Given', 'Middle'] }],
        gender: 'female',
        birthDate: '1970-05-06',
      };
    case 'Practitioner':
      return { resourceType: 'Practitioner', identifier, name: [{ family: 'Osler', given: ['William'] }] };
    case 'Organization':
      return { resourceType: 'Organization', identifier, active: true, name: `General Hospital ${tag}` };
    case 'Encounter':
      return {
        resourceType: 'Encounter',
        identifier,
        status: 'finished',
        class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
        type: [coded(SNOMED, '185349003', 'Encounter for check up')],
        subject,
        participant: [{ individual: { reference: `Practitioner/${refs.practitioner}` } }],
        serviceProvider: { reference: `Organization/${refs.organization}` },
        period: { start: '2024-01-10T09:00:00Z', end: '2024-01-10T10:00:00Z' },
      };
    case 'Observation':
      return {
        resourceType: 'Observation',
        identifier,
        status: 'final',
        code: coded(LOINC, '8867-4', 'Heart rate'),
        subject,
        encounter: { reference: `Encounter/${refs.encounter}` },
        effectiveDateTime: '2024-01-10T09:30:00Z',
        valueQuantity: { value: 72, unit: 'beats/minute', system: 'http://unitsofmeasure.org', code: '/min' },
      };
    case 'Condition':
      return {
        resourceType: 'Condition',
        identifier,
        clinicalStatus: coded('http://terminology.hl7.org/CodeSystem/condition-clinical', 'active'),
        code: coded(SNOMED, '38341003', 'Hypertension'),
        subject,
        onsetDateTime: '2020-03-01',
        recordedDate: '2020-03-02',
      };
    case 'AllergyIntolerance':
      return {
        resourceType: 'AllergyIntolerance',
        identifier,
        clinicalStatus: coded('http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', 'active'),
        code: coded(RXNORM, '7980', 'Penicillin G'),
        patient: subject,
        recordedDate: '2023-06-01',
      };
    case 'MedicationRequest':
      return {
        resourceType: 'MedicationRequest',
        identifier,
        status: 'active',
        intent: 'order',
        medicationCodeableConcept: coded(RXNORM, '197361', 'Amlodipine 5 MG Oral Tablet'),
        subject,
        authoredOn: '2024-01-10',
        requester: { reference: `Practitioner/${refs.practitioner}` },
      };
    case 'Immunization':
      return {
        resourceType: 'Immunization',
        identifier,
        status: 'completed',
        vaccineCode: coded(CVX, '208', 'COVID-19 vaccine'),
        patient: subject,
        occurrenceDateTime: '2021-05-01',
      };
    case 'Procedure':
      return {
        resourceType: 'Procedure',
        identifier,
        status: 'completed',
        code: coded(SNOMED, '80146002', 'Appendectomy'),
        subject,
        performedDateTime: '2019-08-15',
      };
    case 'DiagnosticReport':
      return {
        resourceType: 'DiagnosticReport',
        identifier,
        status: 'final',
        code: coded(LOINC, '58410-2', 'CBC panel'),
        subject,
        effectiveDateTime: '2024-01-11',
      };
    case 'DocumentReference':
      return {
        resourceType: 'DocumentReference',
        identifier,
        status: 'current',
        type: coded(LOINC, '34108-1', 'Outpatient note'),
        subject,
        date: '2024-01-12T10:00:00Z',
        content: [
          {
            attachment: {
              contentType: 'text/plain',
              data: Buffer.from(ATTACHMENT_TEXT, 'utf8').toString('base64'),
            },
          },
        ],
      };
  }
}

/**
 * A value of search parameter `param` that the sample of `type` (with id `id`, patient `refs.patient` and meta
 * `lastUpdated`) matches, and one it does not match. Result parameters (`_count`, `_offset`, `_sort`) have no
 * "miss": they shape the page rather than select.
 */
export function searchProbe(
  type: FhirType,
  param: string,
  sample: { id: string; lastUpdated: string; patient: string; tag: string },
): { hit: string | string[]; miss?: string } {
  const dates: Record<string, string> = {
    'Patient.birthdate': 'eq1970-05-06',
    'Encounter.date': 'eq2024-01-10',
    'Observation.date': 'eq2024-01-10',
    'Condition.date': 'eq2020-03-01',
    'Condition.onset-date': 'eq2020-03-01',
    'Condition.recorded-date': 'eq2020-03-02',
    'AllergyIntolerance.date': 'eq2023-06-01',
    'MedicationRequest.date': 'eq2024-01-10',
    'MedicationRequest.authoredon': 'eq2024-01-10',
    'Immunization.date': 'eq2021-05-01',
    'Procedure.date': 'eq2019-08-15',
    'DiagnosticReport.date': 'eq2024-01-11',
    'DocumentReference.date': 'eq2024-01-12',
  };
  const codes: Record<string, string> = {
    Encounter: `${SNOMED}|185349003`,
    Observation: `${LOINC}|8867-4`,
    Condition: `${SNOMED}|38341003`,
    AllergyIntolerance: `${RXNORM}|7980`,
    MedicationRequest: `${RXNORM}|197361`,
    Immunization: `${CVX}|208`,
    Procedure: `${SNOMED}|80146002`,
    DiagnosticReport: `${LOINC}|58410-2`,
    DocumentReference: `${LOINC}|34108-1`,
  };
  const date = dates[`${type}.${param}`];
  if (date) return { hit: date, miss: 'eq1901-01-01' };
  switch (param) {
    case '_id':
      return { hit: sample.id, miss: 'no-such-id' };
    case '_lastUpdated':
      return { hit: [`ge${sample.lastUpdated}`, `le${sample.lastUpdated}`], miss: 'lt2000-01-01' };
    case '_count':
      return { hit: '5' };
    case '_offset':
      return { hit: '0' };
    case '_sort':
      return { hit: '-_lastUpdated' };
    case 'patient':
      return { hit: sample.patient, miss: 'someone-else' };
    case 'subject':
      return { hit: `Patient/${sample.patient}`, miss: 'Patient/someone-else' };
    case 'identifier':
      return { hit: `${TEST_ID_SYSTEM}|${type}-${sample.tag}`, miss: `${TEST_ID_SYSTEM}|nobody` };
    case 'code':
    case 'type':
    case 'vaccine-code': {
      const code = codes[type];
      if (!code) throw new Error(`no code for ${type}`);
      return { hit: code, miss: `${code}-not` };
    }
    case 'name':
      return { hit: `family${sample.tag}`.slice(0, 8), miss: 'zzzqqq' };
    case 'family':
      return { hit: `Family${sample.tag}`, miss: 'Smith' };
    case 'given':
      return { hit: 'midd', miss: 'Bob' };
  }
  throw new Error(`no probe for ${type}.${param}`);
}
