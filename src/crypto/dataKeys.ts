/**
 * Per-patient data keys (DEKs) and their wrapping under the organisation's key-encryption key (KEK).
 *
 * A patient's health data is encrypted under their own DEK, and only the wrapped DEK is stored. Destroying every
 * copy of the wrapped DEK therefore makes that patient's ciphertext unreadable for good wherever it was copied,
 * without touching the data itself (crypto-shredding). That holds only if wrapped keys do not outlive the
 * deletion elsewhere, e.g. in long-lived backups of the key table.
 *
 * Wrapped layout, 61 bytes: `version(1) = 0x01 || nonce(12) || AES-256-GCM(KEK, DEK)(32) || tag(16)`, with the
 * key id (UTF-8) as associated data: a wrapped DEK copied under another key id fails to unwrap, so one patient's
 * key cannot be substituted for another's in the key table.
 */
import { randomFillSync } from 'node:crypto';
import { CareLedgerError } from '../core/errors.js';
import { openAesGcm, SEAL_OVERHEAD, sealAesGcm } from './aesGcm.js';
import { CryptoErrorCode, DataKeyUnwrapError } from './errors.js';
import { assertKeyLength, KEY_LENGTH } from './keyLength.js';

/** Bytes of a data key (AES-256). */
export const DATA_KEY_LENGTH = KEY_LENGTH;
/** Bytes of a wrapped data key: version, nonce, encrypted key and tag. */
export const WRAPPED_DATA_KEY_LENGTH = SEAL_OVERHEAD + DATA_KEY_LENGTH;

/** A new random data key: 32 bytes from the operating system's CSPRNG. */
export function generateDataKey(): Uint8Array {
  // A fresh array rather than randomBytes(): the key must not share memory with anything else.
  return randomFillSync(new Uint8Array(DATA_KEY_LENGTH));
}

/**
 * Encrypts a data key under the KEK, bound to `keyId`. Each call uses a fresh random nonce, so wrapping the same
 * key twice gives different bytes.
 *
 * @param kek - The key-encryption key from {@link deriveKeyEncryptionKey}, 32 bytes.
 * @param dek - The data key, 32 bytes.
 * @param keyId - The identifier the wrapped key is stored under (non-empty); needed again to unwrap.
 * @returns The {@link WRAPPED_DATA_KEY_LENGTH}-byte wrapped key.
 * @throws CareLedgerError `CRYPTO.INVALID_KEY_LENGTH` or `CRYPTO.INVALID_KEY_ID` for a bad argument.
 */
export function wrapDataKey(kek: Uint8Array, dek: Uint8Array, keyId: string): Uint8Array {
  assertKeyLength(kek, 'key-encryption key');
  assertKeyLength(dek, 'data key');
  return sealAesGcm(kek, dek, keyIdAad(keyId));
}

/**
 * Recovers a data key wrapped by {@link wrapDataKey}.
 *
 * @param kek - The key-encryption key it was wrapped with, 32 bytes.
 * @param wrapped - The wrapped key as stored.
 * @param keyId - The key id it was wrapped for.
 * @returns The 32-byte data key.
 * @throws DataKeyUnwrapError (`CRYPTO.KEY_UNWRAP_FAILED`) if the wrapped key has the wrong length or version,
 *   was altered, or the KEK or key id is not the one it was wrapped with.
 * @throws CareLedgerError `CRYPTO.INVALID_KEY_LENGTH` or `CRYPTO.INVALID_KEY_ID` for a bad argument.
 */
export function unwrapDataKey(kek: Uint8Array, wrapped: Uint8Array, keyId: string): Uint8Array {
  assertKeyLength(kek, 'key-encryption key');
  const aad = keyIdAad(keyId);
  // Exact length, not just a minimum: anything else is not a wrapped DEK, and could not yield a 32-byte key.
  if (wrapped.length !== WRAPPED_DATA_KEY_LENGTH) throw new DataKeyUnwrapError('length');
  return openAesGcm(kek, wrapped, aad, (reason) => {
    throw new DataKeyUnwrapError(reason);
  });
}

function keyIdAad(keyId: string): Uint8Array {
  // An empty id would bind the wrapped key to nothing, silently dropping the substitution protection.
  if (typeof keyId !== 'string' || keyId.length === 0) {
    throw new CareLedgerError(CryptoErrorCode.INVALID_KEY_ID, 'key id must be a non-empty string');
  }
  return Buffer.from(keyId, 'utf8');
}
