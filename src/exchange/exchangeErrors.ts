/**
 * Typed failures of the gateway-to-gateway envelope. An envelope arrives from another organisation through
 * proxies we do not trust, so every refusal names the check that failed (and for a malformed envelope the field),
 * never a value from it: values may be huge, hostile or, inside the ciphertext, patient data.
 */
import { CareLedgerError, type FhirIssueType } from '../core/errors.js';

/** Stable error codes of the exchange envelope. */
export const EnvelopeErrorCode = {
  /** Not an envelope of this format: wrong type, unknown or missing member, oversize or badly encoded field. */
  MALFORMED: 'ENVELOPE.MALFORMED',
  /** `format` names a version this gateway does not speak. */
  UNSUPPORTED_FORMAT: 'ENVELOPE.UNSUPPORTED_FORMAT',
  /** A request where a response was expected, or the reverse. */
  WRONG_KIND: 'ENVELOPE.WRONG_KIND',
  /** Addressed to another organisation. */
  NOT_FOR_US: 'ENVELOPE.NOT_FOR_US',
  /** Issued further in the future than the allowed clock skew. */
  CLOCK_SKEW: 'ENVELOPE.CLOCK_SKEW',
  /** Past its expiry (plus the allowed clock skew). */
  EXPIRED: 'ENVELOPE.EXPIRED',
  /** The signature does not recover the claimed sender: altered in transit, or signed with another key. */
  BAD_SIGNATURE: 'ENVELOPE.BAD_SIGNATURE',
  /** Authentic, but from another organisation than the one we are talking to. */
  WRONG_SENDER: 'ENVELOPE.WRONG_SENDER',
  /** Authentic, but the sender is refused by the caller's policy (e.g. not an active member). */
  SENDER_NOT_ALLOWED: 'ENVELOPE.SENDER_NOT_ALLOWED',
  /** A response to another request than the one we sent. */
  NOT_A_REPLY: 'ENVELOPE.NOT_A_REPLY',
  /** This sender's nonce was seen before: a replay. */
  REPLAYED: 'ENVELOPE.REPLAYED',
  /** Authentic, but not encrypted to our current key (the sender used a stale registered key). */
  UNDECRYPTABLE: 'ENVELOPE.UNDECRYPTABLE',
  /** The replay guard is full of unexpired nonces; try again later. */
  REPLAY_GUARD_FULL: 'ENVELOPE.REPLAY_GUARD_FULL',
  /** The body to seal is larger than the format allows. */
  BODY_TOO_LARGE: 'ENVELOPE.BODY_TOO_LARGE',
  /** Our own call is wrong (a key, address or option); a bug or misconfiguration on this side. */
  INVALID_ARGUMENT: 'ENVELOPE.INVALID_ARGUMENT',
} as const;

/** One of the {@link EnvelopeErrorCode} values. */
export type EnvelopeErrorCode = (typeof EnvelopeErrorCode)[keyof typeof EnvelopeErrorCode];

// One place maps each code to its HTTP status and FHIR issue type, so the two cannot drift apart per call site.
// 400: the bytes are not an acceptable envelope; 401: it does not authenticate the sender to us right now;
// 403: authentic but refused; 409: authentic but conflicts with what we have seen or asked.
const MAPPING: Record<EnvelopeErrorCode, { status: number; issueType: FhirIssueType }> = {
  'ENVELOPE.MALFORMED': { status: 400, issueType: 'invalid' },
  'ENVELOPE.UNSUPPORTED_FORMAT': { status: 400, issueType: 'invalid' },
  'ENVELOPE.WRONG_KIND': { status: 400, issueType: 'invalid' },
  'ENVELOPE.NOT_FOR_US': { status: 401, issueType: 'security' },
  'ENVELOPE.CLOCK_SKEW': { status: 401, issueType: 'security' },
  'ENVELOPE.EXPIRED': { status: 401, issueType: 'security' },
  'ENVELOPE.BAD_SIGNATURE': { status: 401, issueType: 'security' },
  'ENVELOPE.WRONG_SENDER': { status: 401, issueType: 'security' },
  'ENVELOPE.SENDER_NOT_ALLOWED': { status: 403, issueType: 'security' },
  'ENVELOPE.NOT_A_REPLY': { status: 409, issueType: 'security' },
  'ENVELOPE.REPLAYED': { status: 409, issueType: 'security' },
  'ENVELOPE.UNDECRYPTABLE': { status: 400, issueType: 'security' },
  'ENVELOPE.REPLAY_GUARD_FULL': { status: 503, issueType: 'transient' },
  'ENVELOPE.BODY_TOO_LARGE': { status: 413, issueType: 'too-long' },
  'ENVELOPE.INVALID_ARGUMENT': { status: 500, issueType: 'exception' },
};

/** Every failure of sealing or opening an envelope. `code` says which check failed; see {@link EnvelopeErrorCode}. */
export class EnvelopeError extends CareLedgerError {
  override readonly name = 'EnvelopeError';
  override readonly code: EnvelopeErrorCode;

  constructor(
    code: EnvelopeErrorCode,
    message: string,
    options: { details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(code, message, { ...options, ...MAPPING[code] });
    this.code = code;
  }
}

/**
 * The envelope is malformed: `field` names the member at fault ('' for the envelope as a whole), `reason` says
 * what it must be. The member's value is never included.
 */
export function malformed(field: string, reason: string): EnvelopeError {
  // JSON.stringify: a member name comes from the sender and may hold quotes, control characters or lone surrogates.
  const subject = field === '' ? 'the envelope' : `member ${JSON.stringify(field)}`;
  return new EnvelopeError(EnvelopeErrorCode.MALFORMED, `Malformed envelope: ${subject} ${reason}.`, {
    details: { field, reason },
  });
}
