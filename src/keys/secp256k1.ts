import type { Hex } from '../core/hex.js';

// Order of the secp256k1 group: a private key must lie in [1, n-1].
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

/** True if `key` (32 bytes of hex) is usable as an Ethereum account key. */
export function secp256k1PrivateKeyIsValid(key: Hex): boolean {
  const value = BigInt(key);
  return value > 0n && value < SECP256K1_N;
}
