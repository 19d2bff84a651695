/**
 * The one error type CareLedger code throws on purpose.
 *
 * Every failure a caller can act on carries a stable `code` (`AREA.REASON`, e.g. `RECORD.TOO_LARGE`), a
 * short human message, optional structured `details`, the HTTP status it maps to and the FHIR
 * `OperationOutcome.issue.code` it maps to (https://hl7.org/fhir/R4/valueset-issue-type.html). The HTTP layer
 * turns it into a problem document (RFC 9457) or an OperationOutcome in exactly one place.
 */
export type FhirIssueType =
  | 'invalid'
  | 'structure'
  | 'required'
  | 'value'
  | 'security'
  | 'login'
  | 'forbidden'
  | 'not-found'
  | 'deleted'
  | 'too-long'
  | 'conflict'
  | 'duplicate'
  | 'not-supported'
  | 'processing'
  | 'business-rule'
  | 'transient'
  | 'timeout'
  | 'exception';

export interface CareLedgerErrorOptions {
  details?: Record<string, unknown>;
  cause?: unknown;
  status?: number;
  issueType?: FhirIssueType;
}

export class CareLedgerError extends Error {
  override readonly name: string = 'CareLedgerError';
  readonly code: string;
  readonly details: Record<string, unknown> | undefined;
  readonly status: number;
  readonly issueType: FhirIssueType;

  constructor(code: string, message: string, options: CareLedgerErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details;
    this.status = options.status ?? 500;
    this.issueType = options.issueType ?? 'exception';
  }
}

/** The request is malformed or a value is out of range (400). */
export class InvalidInputError extends CareLedgerError {
  override readonly name = 'InvalidInputError';
  constructor(code: string, message: string, options: Omit<CareLedgerErrorOptions, 'status'> = {}) {
    super(code, message, { issueType: 'invalid', ...options, status: 400 });
  }
}

/** The thing asked for does not exist (404). */
export class NotFoundError extends CareLedgerError {
  override readonly name = 'NotFoundError';
  constructor(code: string, message: string, options: Omit<CareLedgerErrorOptions, 'status'> = {}) {
    super(code, message, { issueType: 'not-found', ...options, status: 404 });
  }
}

/** The request conflicts with the current state, e.g. a proof asked for before the batch is anchored (409). */
export class ConflictError extends CareLedgerError {
  override readonly name = 'ConflictError';
  constructor(code: string, message: string, options: Omit<CareLedgerErrorOptions, 'status'> = {}) {
    super(code, message, { issueType: 'conflict', ...options, status: 409 });
  }
}

/** A dependency (the chain, the disk) is unavailable right now; the caller may retry (503). */
export class UnavailableError extends CareLedgerError {
  override readonly name = 'UnavailableError';
  constructor(code: string, message: string, options: Omit<CareLedgerErrorOptions, 'status'> = {}) {
    super(code, message, { issueType: 'transient', ...options, status: 503 });
  }
}

/** Configuration or local set-up is wrong; the operator must fix it before the node can start. */
export class ConfigurationError extends CareLedgerError {
  override readonly name = 'ConfigurationError';
  constructor(code: string, message: string, options: Omit<CareLedgerErrorOptions, 'status'> = {}) {
    super(code, message, { issueType: 'exception', ...options, status: 500 });
  }
}

/** Cryptographic evidence does not check out: a proof, a hash or a signature disagrees (422). */
export class VerificationError extends CareLedgerError {
  override readonly name = 'VerificationError';
  constructor(code: string, message: string, options: Omit<CareLedgerErrorOptions, 'status'> = {}) {
    super(code, message, { issueType: 'invalid', ...options, status: 422 });
  }
}
