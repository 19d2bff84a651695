/**
 * Encryption of health data under a patient's data key: AES-256-GCM, a random 12-byte nonce per call, layout
 * `version(1) = 0x01 || nonce(12) || ciphertext || tag(16)` (29 bytes of overhead).
 *
 * The associated data is the resource identity (e.g. `Patient/123/_history/2`): it is authenticated but not
 * stored, so a ciphertext moved to another resource or version fails to decrypt instead of showing the wrong data.
 */
import { openAesGcm, sealAesGcm } from './aesGcm.js';
import { PayloadDecryptError } from './errors.js';
import { assertKeyLength } from './keyLength.js';

/**
 * Encrypts `plaintext` under `dek`, bound to `aad`. Two calls with the same input give different bytes.
 *
 * @param dek - The patient's data key, 32 bytes.
 * @param plaintext - The bytes to protect (may be empty).
 * @param aad - Associated data, typically the UTF-8 resource identity; must be given again to decrypt.
 * @returns The sealed payload, `plaintext.length + 29` bytes.
 * @throws CareLedgerError `CRYPTO.INVALID_KEY_LENGTH` if `dek` is not 32 bytes.
 */
export function encryptPayload(dek: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  assertKeyLength(dek, 'data key');
  return sealAesGcm(dek, plaintext, aad);
}

/**
 * Decrypts and authenticates a payload made by {@link encryptPayload}. No plaintext is returned unless the whole
 * payload verifies.
 *
 * @param dek - The data key it was encrypted with, 32 bytes.
 * @param sealed - The sealed payload as stored.
 * @param aad - The associated data it was encrypted with.
 * @returns The plaintext.
 * @throws PayloadDecryptError (`CRYPTO.DECRYPT_FAILED`) if the payload is too short, has an unknown version, was
 *   altered, or the key or associated data differs.
 * @throws CareLedgerError `CRYPTO.INVALID_KEY_LENGTH` if `dek` is not 32 bytes.
 */
export function decryptPayload(dek: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array {
  assertKeyLength(dek, 'data key');
  return openAesGcm(dek, sealed, aad, (reason) => {
    throw new PayloadDecryptError(reason);
  });
}
