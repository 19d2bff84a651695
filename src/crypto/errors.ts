/**
 * Typed failures of CareLedger's envelope encryption. Opening sealed data fails the same way whether it was
 * tampered with, truncated, or opened with the wrong key or associated data: AES-GCM cannot tell these apart, and
 * saying more would help an attacker. Messages and details never contain key material or plaintext.
 */
import { VerificationError } from '../core/errors.js';

/** Stable error codes of the crypto module. */
export const CryptoErrorCode = {
  KEY_UNWRAP_FAILED: 'CRYPTO.KEY_UNWRAP_FAILED',
  DECRYPT_FAILED: 'CRYPTO.DECRYPT_FAILED',
  INVALID_KEY_LENGTH: 'CRYPTO.INVALID_KEY_LENGTH',
  INVALID_KEY_ID: 'CRYPTO.INVALID_KEY_ID',
} as const;

/** One of the {@link CryptoErrorCode} values. */
export type CryptoErrorCode = (typeof CryptoErrorCode)[keyof typeof CryptoErrorCode];

/**
 * Why sealed data could not be opened: `length` (too short, or not the fixed size of a wrapped key), `version`
 * (the first byte is not a format this code knows), `authentication` (the AES-GCM tag does not verify: the bytes
 * were changed, or the key or associated data is not the one they were sealed with).
 */
export type SealedDataFailure = 'length' | 'version' | 'authentication';

// VerificationError declares `name` as the literal 'VerificationError', so a subclass cannot redeclare it with
// another literal; define the own property instead so stack traces still name the precise class.
function setName(error: Error, name: string): void {
  Object.defineProperty(error, 'name', {
    value: name,
    enumerable: false,
    writable: true,
    configurable: true,
  });
}

const REASON_TEXT: Record<SealedDataFailure, string> = {
  length: 'it has the wrong length',
  version: 'its format version is not supported',
  authentication: 'it failed authentication (altered, or the wrong key or associated data)',
};

/** A wrapped data key could not be unwrapped, so the data it protects cannot be read with it (422). */
export class DataKeyUnwrapError extends VerificationError {
  /** Why unwrapping failed. */
  readonly reason: SealedDataFailure;

  /** @param reason - Why unwrapping failed. */
  constructor(reason: SealedDataFailure) {
    super(CryptoErrorCode.KEY_UNWRAP_FAILED, `wrapped data key cannot be unwrapped: ${REASON_TEXT[reason]}`, {
      details: { reason },
    });
    this.reason = reason;
    setName(this, 'DataKeyUnwrapError');
  }
}

/** An encrypted payload could not be decrypted and authenticated; no part of its plaintext is released (422). */
export class PayloadDecryptError extends VerificationError {
  /** Why decryption failed. */
  readonly reason: SealedDataFailure;

  /** @param reason - Why decryption failed. */
  constructor(reason: SealedDataFailure) {
    super(CryptoErrorCode.DECRYPT_FAILED, `payload cannot be decrypted: ${REASON_TEXT[reason]}`, {
      details: { reason },
    });
    this.reason = reason;
    setName(this, 'PayloadDecryptError');
  }
}
