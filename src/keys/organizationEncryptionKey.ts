import { createPrivateKey, createPublicKey, hkdfSync } from 'node:crypto';
import { fromHex, type Hex } from '../core/hex.js';

// DER prefix of an X25519 private key in PKCS#8 (RFC 8410), followed by the 32 raw key bytes. DER rather than a
// JWK because a JWK private key also wants its public half `x`, which is what we are about to compute.
const PKCS8_X25519_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

/**
 * The organisation's X25519 private key (32 raw bytes, RFC 7748 scalar before clamping), with which it opens what
 * other gateways encrypt to its registered public key. Derived from the master key with HKDF (domain-separated),
 * so it needs no separate key file and changes only when the master key does. The caller owns the returned
 * array: it is fresh on every call, so it may be wiped after use.
 *
 * @throws TypeError when `masterKey` is not 32 bytes of 0x-prefixed hex.
 */
export function organizationEncryptionPrivateKey(masterKey: Hex): Uint8Array {
  return new Uint8Array(
    hkdfSync('sha256', fromHex(masterKey, 32), new Uint8Array(0), 'careledger/org-encryption/x25519/v1', 32),
  );
}

/**
 * The organisation's X25519 public key, published in OrganizationRegistry so other gateways can encrypt to it:
 * the public half of {@link organizationEncryptionPrivateKey}.
 *
 * @throws TypeError when `masterKey` is not 32 bytes of 0x-prefixed hex.
 */
export function organizationEncryptionPublicKey(masterKey: Hex): Uint8Array {
  const seed = organizationEncryptionPrivateKey(masterKey);
  const der = Buffer.concat([PKCS8_X25519_PREFIX, seed]);
  const privateKey = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  // The KeyObject holds its own copy; wipe ours rather than leave key bytes for the garbage collector.
  seed.fill(0);
  der.fill(0);
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' });
  return new Uint8Array(Buffer.from(jwk.x as string, 'base64url'));
}
