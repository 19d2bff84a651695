import { CareLedgerError, type FhirIssueType } from '../core/errors.js';

/** One OperationOutcome issue (https://hl7.org/fhir/R4/operationoutcome.html). */
export interface OutcomeIssue {
  severity: 'fatal' | 'error' | 'warning' | 'information';
  code: string;
  details?: { text: string };
  diagnostics?: string;
  expression?: string[];
}

/**
 * A FHIR error: status, issue type, message, and optionally the exact issues (e.g. from validation) that the
 * OperationOutcome should list.
 */
export class FhirError extends CareLedgerError {
  override readonly name = 'FhirError';
  constructor(
    code: string,
    status: number,
    issueType: FhirIssueType,
    message: string,
    issues?: OutcomeIssue[],
  ) {
    super(code, message, { status, issueType, details: issues ? { issues } : undefined });
  }
}

export const fhirErrors = {
  notFound: (what: string) => new FhirError('FHIR.NOT_FOUND', 404, 'not-found', `${what} is not found.`),
  gone: (what: string, why: string) => new FhirError('FHIR.GONE', 410, 'deleted', `${what} ${why}.`),
  unsupportedType: (type: string) =>
    new FhirError(
      'FHIR.UNSUPPORTED_TYPE',
      404,
      'not-supported',
      `The resource type "${type}" is not supported by this server; see GET /fhir/metadata.`,
    ),
  badRequest: (message: string, expression?: string) =>
    new FhirError('FHIR.BAD_REQUEST', 400, 'invalid', message, [
      {
        severity: 'error',
        code: 'invalid',
        details: { text: message },
        ...(expression ? { expression: [expression] } : {}),
      },
    ]),
  conflict: (message: string) => new FhirError('FHIR.CONFLICT', 409, 'conflict', message),
  preconditionFailed: (message: string) =>
    new FhirError('FHIR.PRECONDITION_FAILED', 412, 'conflict', message),
  unprocessable: (message: string, expression?: string) =>
    new FhirError('FHIR.UNPROCESSABLE', 422, 'processing', message, [
      {
        severity: 'error',
        code: 'processing',
        details: { text: message },
        ...(expression ? { expression: [expression] } : {}),
      },
    ]),
  tooLarge: (message: string, expression?: string) =>
    new FhirError('FHIR.TOO_LARGE', 413, 'too-long', message, [
      {
        severity: 'error',
        code: 'too-long',
        details: { text: message },
        ...(expression ? { expression: [expression] } : {}),
      },
    ]),
};

/** The OperationOutcome for any error: a FhirError's own issues, else one issue from the error's code and message. */
export function operationOutcomeOf(error: CareLedgerError): {
  resourceType: 'OperationOutcome';
  issue: OutcomeIssue[];
} {
  const issues = error.details?.issues as OutcomeIssue[] | undefined;
  return {
    resourceType: 'OperationOutcome',
    issue:
      issues && issues.length > 0
        ? issues
        : [
            {
              severity: error.status >= 500 ? 'fatal' : 'error',
              code: error.issueType,
              details: { text: error.message },
              diagnostics: error.code,
            },
          ],
  };
}
