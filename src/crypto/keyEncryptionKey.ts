/**
 * Sub-keys of the organisation master key. The master key itself never keys a cipher or a MAC: each use gets its
 * own key from HKDF-SHA256 (RFC 5869) with a distinct, versioned `info` label, so a weakness or leak in one use
 * reveals nothing about the others, and a scheme can be replaced by bumping its label. No salt, as for the
 * organisation's X25519 key: the master key is already uniformly random, and the derivation must be reproducible
 * from the master key alone.
 */
import { hkdfSync } from 'node:crypto';
import { assertKeyLength, KEY_LENGTH } from './keyLength.js';

/** HKDF `info` of the key-encryption key that wraps per-patient data keys. */
export const KEY_WRAPPING_INFO = 'careledger/key-wrapping/v1';
/** HKDF `info` of the key that HMACs search tokens. */
export const SEARCH_INDEX_INFO = 'careledger/search-index/v1';

/**
 * The key-encryption key (KEK, 32 bytes) that wraps every data key of the organisation
 * (see {@link wrapDataKey}). Deterministic: the same master key always gives the same KEK.
 *
 * @param masterKey - The organisation master key, 32 bytes.
 * @throws CareLedgerError `CRYPTO.INVALID_KEY_LENGTH` if the master key is not 32 bytes.
 */
export function deriveKeyEncryptionKey(masterKey: Uint8Array): Uint8Array {
  return deriveSubkey(masterKey, KEY_WRAPPING_INFO);
}

/**
 * The key (32 bytes) for HMAC-ing searchable tokens of identifiers and names ({@link hmacToken}). Separate from the
 * KEK so that the search index, which must stay stable for lookups, is independent of key wrapping.
 *
 * @param masterKey - The organisation master key, 32 bytes.
 * @throws CareLedgerError `CRYPTO.INVALID_KEY_LENGTH` if the master key is not 32 bytes.
 */
export function deriveSearchIndexKey(masterKey: Uint8Array): Uint8Array {
  return deriveSubkey(masterKey, SEARCH_INDEX_INFO);
}

function deriveSubkey(masterKey: Uint8Array, info: string): Uint8Array {
  assertKeyLength(masterKey, 'master key');
  // hkdfSync returns a fresh ArrayBuffer; wrapping it is not a copy.
  return new Uint8Array(hkdfSync('sha256', masterKey, new Uint8Array(0), info, KEY_LENGTH));
}
