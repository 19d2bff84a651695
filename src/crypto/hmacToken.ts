import { createHmac } from 'node:crypto';
import { assertKeyLength } from './keyLength.js';

/** Bytes of a search token: half an HMAC-SHA256. */
export const HMAC_TOKEN_LENGTH = 16;

/**
 * A searchable token for an identifier or name, so the index can answer "who has this value?" without storing the
 * value in clear: HMAC-SHA256 under the search index key, truncated to 16 bytes. 128 bits leave accidental
 * collisions out of reach for any index size, at half the storage and comparison cost of the full MAC; a token is
 * only ever compared for equality, never verified as a MAC.
 *
 * The value is hashed exactly as given (UTF-8). Callers normalise it first (case, Unicode NFC, whitespace, per the
 * search parameter's rules), and should prefix it with the parameter (e.g. `identifier|system|value`) so equal
 * values in different fields do not share a token.
 *
 * @param indexKey - The key from {@link deriveSearchIndexKey}, 32 bytes.
 * @param value - The normalised value to tokenise.
 * @returns A new 16-byte token; deterministic for a given key and value.
 * @throws CareLedgerError `CRYPTO.INVALID_KEY_LENGTH` if `indexKey` is not 32 bytes.
 */
export function hmacToken(indexKey: Uint8Array, value: string): Uint8Array {
  assertKeyLength(indexKey, 'search index key');
  const mac = createHmac('sha256', indexKey).update(value, 'utf8').digest();
  // A copy of just the token, so the untruncated MAC is not kept reachable through `.buffer`.
  return new Uint8Array(mac.subarray(0, HMAC_TOKEN_LENGTH));
}
