import type { OutcomeIssue } from '../fhirErrors.js';
import { fhirValidationIssues, loadFhirDefinitions } from '../validateFhirResource.js';

/** Validates FHIR resources; for each, its issues (empty when valid). */
export interface ResourceValidator {
  validateMany(resources: unknown[]): Promise<OutcomeIssue[][]>;
  close(): Promise<void>;
}

/** Validation on the calling thread (for tools, tests and single-core machines). */
export class InlineValidator implements ResourceValidator {
  constructor() {
    loadFhirDefinitions();
  }

  validateMany(resources: unknown[]): Promise<OutcomeIssue[][]> {
    try {
      return Promise.resolve(resources.map((r) => fhirValidationIssues(r)));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
