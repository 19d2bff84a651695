import { CareLedgerError } from '../core/errors.js';

/** No usable credentials (401): missing, malformed, unknown, expired or revoked token. */
export class AuthenticationError extends CareLedgerError {
  override readonly name = 'AuthenticationError';
  constructor(code: string, message: string) {
    super(code, message, { status: 401, issueType: 'login' });
  }
}

/** Valid credentials that do not allow this operation (403). */
export class ForbiddenError extends CareLedgerError {
  override readonly name = 'ForbiddenError';
  constructor(message: string, details?: Record<string, unknown>) {
    super('AUTH.FORBIDDEN', message, { status: 403, issueType: 'forbidden', details });
  }
}
