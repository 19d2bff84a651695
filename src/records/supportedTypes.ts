/** The FHIR R4 resource types this store keeps (https://hl7.org/fhir/R4/resourcelist.html). */
export const SUPPORTED_RESOURCE_TYPES = [
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

export type SupportedResourceType = (typeof SUPPORTED_RESOURCE_TYPES)[number];

export function isSupportedResourceType(value: unknown): value is SupportedResourceType {
  return typeof value === 'string' && (SUPPORTED_RESOURCE_TYPES as readonly string[]).includes(value);
}

/** FHIR ids: 1–64 of letters, digits, '-' and '.' (https://hl7.org/fhir/R4/datatypes.html#id). */
export const FHIR_ID_RE = /^[A-Za-z0-9\-.]{1,64}$/;
