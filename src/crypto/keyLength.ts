import { CareLedgerError } from '../core/errors.js';
import { CryptoErrorCode } from './errors.js';

/** Every symmetric key in the crypto module (master key, KEK, DEK, search index key) is 256 bits. */
export const KEY_LENGTH = 32;

/**
 * Refuses anything but exactly 32 bytes. Checked up front because Node would accept a *string* as an AES or HMAC
 * key (its UTF-8 bytes), and a short HMAC key would silently weaken every token. A wrong key is a bug or broken
 * set-up, not bad client input, hence the plain 500 CareLedgerError. The message names the role, never the bytes.
 */
export function assertKeyLength(key: Uint8Array, role: string): void {
  if (!(key instanceof Uint8Array) || key.length !== KEY_LENGTH) {
    const got = key instanceof Uint8Array ? `${key.length} bytes` : `a ${typeof key}`;
    throw new CareLedgerError(
      CryptoErrorCode.INVALID_KEY_LENGTH,
      `${role} must be ${KEY_LENGTH} bytes, got ${got}`,
      {
        details: { role, expected: KEY_LENGTH },
      },
    );
  }
}
