import { createPrivateKey, createPublicKey, hkdfSync } from 'node:crypto';
import { fromHex, type Hex } from '../core/hex.js';

/**
 * The organisation's X25519 public key, published in OrganizationRegistry so other gateways can encrypt to it.
 * Derived from the master key with HKDF (domain-separated), so it needs no separate key file and changes
 * only when the master key does.
 */
export function organizationEncryptionPublicKey(masterKey: Hex): Uint8Array {
  const seed = Buffer.from(
    hkdfSync('sha256', fromHex(masterKey, 32), new Uint8Array(0), 'careledger/org-encryption/x25519/v1', 32),
  );
  const privateKey = createPrivateKey({
    key: { kty: 'OKP', crv: 'X25519', d: seed.toString('base64url'), x: '' },
    format: 'jwk',
  });
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' });
  return new Uint8Array(Buffer.from(jwk.x as string, 'base64url'));
}
