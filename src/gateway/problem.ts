import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { CareLedgerError, type FhirIssueType } from '../core/errors.js';
import { operationOutcomeOf } from '../records/fhirErrors.js';

/** An RFC 9457 problem document, CareLedger's error body on every non-FHIR route. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  details?: Record<string, unknown>;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

export function problem(
  status: number,
  code: string,
  detail: string,
  details?: Record<string, unknown>,
): Problem {
  return {
    type: `urn:careledger:problem:${code}`,
    title: TITLES[status] ?? 'Error',
    status,
    detail,
    code,
    ...(details ? { details } : {}),
  };
}

/** Maps Fastify's own request errors to codes and messages a client can act on. */
function fromFastify(error: FastifyError): Problem | undefined {
  if (error.validation) {
    return problem(400, 'REQUEST.INVALID', `The request is invalid: ${error.message}.`);
  }
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return problem(413, 'REQUEST.BODY_TOO_LARGE', 'The request body is larger than this endpoint accepts.');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return problem(415, 'REQUEST.UNSUPPORTED_MEDIA_TYPE', `${error.message}.`);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return problem(400, 'REQUEST.EMPTY_BODY', 'The request has a JSON content type but no body.');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return problem(400, 'REQUEST.BAD_CONTENT_LENGTH', 'The Content-Length header does not match the body.');
  }
  if (error instanceof SyntaxError || error.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
    return problem(400, 'REQUEST.MALFORMED_JSON', `The body is not valid JSON: ${error.message}.`);
  }
  if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
    return problem(error.statusCode, `REQUEST.${error.code ?? 'INVALID'}`, error.message);
  }
  return undefined;
}

/**
 * The one error handler: typed CareLedger errors and client errors become problem documents with their own
 * status; anything else is logged and answered with a 500 that leaks no internals.
 */
export function handleError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  let body: Problem;
  if (error instanceof CareLedgerError) {
    body = problem(error.status, error.code, error.message, error.details);
    if (error.status >= 500) request.log.error({ err: error, code: error.code }, error.message);
  } else {
    const known = fromFastify(error);
    if (known) {
      body = known;
    } else {
      request.log.error({ err: error }, 'unhandled error');
      body = problem(
        500,
        'INTERNAL',
        'An internal error occurred; it has been logged. Nothing was changed by this request unless it was acknowledged.',
      );
    }
  }
  if (request.url === '/fhir' || request.url.startsWith('/fhir/') || request.url.startsWith('/fhir?')) {
    // FHIR clients expect an OperationOutcome, whatever failed (auth, body parsing, limits, the handler).
    const outcome =
      error instanceof CareLedgerError
        ? operationOutcomeOf(error)
        : operationOutcomeOf(
            new CareLedgerError(body.code, body.detail, {
              status: body.status,
              issueType: issueTypeFor(body.status),
            }),
          );
    void reply.status(body.status).type('application/fhir+json; charset=utf-8').send(outcome);
    return;
  }
  void reply.status(body.status).type('application/problem+json').send(body);
}

function issueTypeFor(status: number): FhirIssueType {
  if (status === 401) return 'login';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not-found';
  if (status === 413) return 'too-long';
  if (status === 415) return 'not-supported';
  return status < 500 ? 'invalid' : 'exception';
}
