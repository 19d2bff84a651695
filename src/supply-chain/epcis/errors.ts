/**
 * Error codes of the EPCIS module. A document that breaks any rule is refused as a whole with one
 * {@link InvalidInputError} coded {@link EpcisErrorCode.INVALID_DOCUMENT} (HTTP 400, FHIR issue type `invalid`) whose
 * `details.problems` lists every problem found ({@link EpcisProblem}: JSON path, specific code, message), so a client
 * can fix them all in one go. The vocabulary functions throw the specific codes directly (issue type `value`).
 */
import { InvalidInputError } from '../../core/errors.js';

/** Stable codes: `INVALID_DOCUMENT` is the error's own code, the others appear in `details.problems[].code`. */
export const EpcisErrorCode = {
  /** The document breaks one or more rules; `details.problems` says which and where. */
  INVALID_DOCUMENT: 'EPCIS.INVALID_DOCUMENT',
  /** Not the right JSON type or shape (an object where a string belongs, a malformed date, …). */
  INVALID_VALUE: 'EPCIS.INVALID_VALUE',
  /** A field the standard requires (for this event type or action) is absent or empty. */
  MISSING_FIELD: 'EPCIS.MISSING_FIELD',
  /** A field this event type (or action) may not carry, or a property name that is neither standard nor prefixed. */
  FIELD_NOT_ALLOWED: 'EPCIS.FIELD_NOT_ALLOWED',
  /** `action` is absent, not ADD/OBSERVE/DELETE, or present on a TransformationEvent. */
  WRONG_ACTION: 'EPCIS.WRONG_ACTION',
  /** `type` of an event is not one of the four supported event types. */
  UNSUPPORTED_EVENT_TYPE: 'EPCIS.UNSUPPORTED_EVENT_TYPE',
  UNKNOWN_BIZSTEP: 'EPCIS.UNKNOWN_BIZSTEP',
  UNKNOWN_DISPOSITION: 'EPCIS.UNKNOWN_DISPOSITION',
  UNKNOWN_BIZ_TRANSACTION_TYPE: 'EPCIS.UNKNOWN_BIZ_TRANSACTION_TYPE',
  UNKNOWN_SOURCE_DESTINATION_TYPE: 'EPCIS.UNKNOWN_SOURCE_DESTINATION_TYPE',
  UNKNOWN_ERROR_REASON: 'EPCIS.UNKNOWN_ERROR_REASON',
  /** A GS1 identifier that is malformed or has a wrong check digit (the GS1 module's message is kept). */
  INVALID_IDENTIFIER: 'EPCIS.INVALID_IDENTIFIER',
  /** A valid GS1 identifier of the wrong kind for its place (a class in `epcList`, an SSCC as `readPoint`, …). */
  WRONG_IDENTIFIER_KIND: 'EPCIS.WRONG_IDENTIFIER_KIND',
  /** `eventTime` is later than the node's clock plus the tolerance. */
  EVENT_TIME_IN_FUTURE: 'EPCIS.EVENT_TIME_IN_FUTURE',
  /** More events than the limit, a string or list longer than allowed, nesting too deep. */
  LIMIT_EXCEEDED: 'EPCIS.LIMIT_EXCEEDED',
} as const;

/** One of the {@link EpcisErrorCode} values. */
export type EpcisErrorCode = (typeof EpcisErrorCode)[keyof typeof EpcisErrorCode];

/** One problem of a refused document. */
export interface EpcisProblem {
  /** Where, as a JSON path from the document root, e.g. `epcisBody.eventList[3].bizStep`. */
  path: string;
  /** The specific code, e.g. `EPCIS.UNKNOWN_BIZSTEP`. */
  code: EpcisErrorCode;
  /** What is wrong and what is allowed. */
  message: string;
  /** The index of the event in `epcisBody.eventList`, when the problem is inside an event. */
  eventIndex?: number;
}

/** The `details` of an {@link EpcisErrorCode.INVALID_DOCUMENT} error. A type alias, so it is a `Record<string, unknown>`. */
export type EpcisDocumentErrorDetails = {
  problems: EpcisProblem[];
  /** True when more problems were found than reported (the limit is a parser option). */
  truncated: boolean;
};

/** Quotes a value for a message: JSON string syntax (control characters visible), at most 80 characters. */
export function quote(value: unknown): string {
  let text: string;
  if (typeof value === 'string') text = value;
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = Object.prototype.toString.call(value);
    }
  }
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 77)}...` : text);
}

/** Builds the refusal of a whole document. */
export function invalidDocument(problems: EpcisProblem[], truncated: boolean): InvalidInputError {
  const head = problems
    .slice(0, 3)
    .map((p) => `${p.path}: ${p.message}`)
    .join('; ');
  const more = problems.length > 3 || truncated ? '; …' : '';
  const count = truncated ? `more than ${problems.length}` : String(problems.length);
  const details: EpcisDocumentErrorDetails = { problems, truncated };
  return new InvalidInputError(
    EpcisErrorCode.INVALID_DOCUMENT,
    `EPCIS document refused, ${count} problem${problems.length === 1 && !truncated ? '' : 's'}: ${head}${more}`,
    { details },
  );
}
