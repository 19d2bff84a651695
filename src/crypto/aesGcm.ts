/**
 * The one AES-256-GCM layout CareLedger stores, shared by wrapped data keys and encrypted payloads:
 * `version(1) = 0x01 || nonce(12) || ciphertext || tag(16)`. Internal to the crypto module.
 *
 * The nonce is random per call. With 96-bit random nonces NIST SP 800-38D allows 2^32 encryptions under one key;
 * a DEK encrypts the versions of one patient's resources and the KEK wraps one DEK per patient, both far below.
 */
import { createCipheriv, createDecipheriv, randomFillSync } from 'node:crypto';
import type { SealedDataFailure } from './errors.js';

/** The first byte of every sealed value: the format version. */
export const SEALED_VERSION = 0x01;
/** Bytes of the GCM nonce (the 96-bit size GCM is defined for without an extra GHASH). */
export const NONCE_LENGTH = 12;
/** Bytes of the GCM tag; always the full 128 bits, never truncated. */
export const TAG_LENGTH = 16;
const HEADER_LENGTH = 1 + NONCE_LENGTH;
/** Bytes a sealed value adds to its plaintext: version, nonce and tag. */
export const SEAL_OVERHEAD = HEADER_LENGTH + TAG_LENGTH;

// GCM nonces must be unique, not secret (each is stored in clear beside its ciphertext), so they are drawn from a
// pool the CSPRNG fills in bulk: one randomFillSync call costs about 1.8 µs whether it fills 12 bytes or 3 KiB,
// about a quarter of a whole 1 KiB encryption. Every pool byte is handed out exactly once, and the pool holds no
// key or plaintext, so nothing sensitive is cached (Node's randomUUID keeps a similar entropy cache). Worker
// threads load their own copy of this module, and child processes never share its memory.
const NONCE_POOL_SIZE = NONCE_LENGTH * 256;
const noncePool = new Uint8Array(NONCE_POOL_SIZE);
let noncePoolOffset = NONCE_POOL_SIZE; // empty: filled on first use, not at import

function writeFreshNonce(target: Uint8Array, offset: number): void {
  if (noncePoolOffset === NONCE_POOL_SIZE) {
    randomFillSync(noncePool);
    noncePoolOffset = 0;
  }
  target.set(noncePool.subarray(noncePoolOffset, noncePoolOffset + NONCE_LENGTH), offset);
  noncePoolOffset += NONCE_LENGTH;
}

/** Encrypts `plaintext` under `key` (32 bytes, checked by the caller) bound to `aad`, in the layout above. */
export function sealAesGcm(key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  // A fresh, exactly sized array: the result owns its memory (no pooled Buffer slab whose neighbours `.buffer`
  // would expose), and nonce, ciphertext and tag are written into place rather than concatenated.
  const sealed = new Uint8Array(SEAL_OVERHEAD + plaintext.length);
  sealed[0] = SEALED_VERSION;
  writeFreshNonce(sealed, 1);
  const cipher = createCipheriv('aes-256-gcm', key, sealed.subarray(1, HEADER_LENGTH), {
    authTagLength: TAG_LENGTH,
  });
  cipher.setAAD(aad);
  sealed.set(cipher.update(plaintext), HEADER_LENGTH);
  cipher.final(); // GCM is a stream mode: final() emits no bytes, it computes the tag
  sealed.set(cipher.getAuthTag(), HEADER_LENGTH + plaintext.length);
  return sealed;
}

/**
 * Decrypts and authenticates a value made by {@link sealAesGcm}; on any failure calls `fail`, which must throw.
 * Nothing is returned unless the tag verifies, so callers never see unauthenticated plaintext.
 */
export function openAesGcm(
  key: Uint8Array,
  sealed: Uint8Array,
  aad: Uint8Array,
  fail: (reason: SealedDataFailure) => never,
): Uint8Array {
  if (sealed.length < SEAL_OVERHEAD) fail('length');
  if (sealed[0] !== SEALED_VERSION) fail('version');
  const tagStart = sealed.length - TAG_LENGTH;
  // subarray views, no copies: the nonce, ciphertext and tag are read in place.
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(1, HEADER_LENGTH), {
    authTagLength: TAG_LENGTH,
  });
  decipher.setAuthTag(sealed.subarray(tagStart));
  decipher.setAAD(aad);
  const plaintext = decipher.update(sealed.subarray(HEADER_LENGTH, tagStart));
  try {
    decipher.final();
  } catch {
    // Wipe the unauthenticated plaintext rather than leave it for the garbage collector.
    plaintext.fill(0);
    return fail('authentication');
  }
  return new Uint8Array(plaintext.buffer, plaintext.byteOffset, plaintext.byteLength);
}
