import { hkdfSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CareLedgerError } from '../core/errors.js';
import { CryptoErrorCode } from './errors.js';
import {
  deriveKeyEncryptionKey,
  deriveSearchIndexKey,
  KEY_WRAPPING_INFO,
  SEARCH_INDEX_INFO,
} from './keyEncryptionKey.js';

const MASTER_A = new Uint8Array(Buffer.from('00112233445566778899aabbccddeeff'.repeat(2), 'hex'));
const MASTER_B = Uint8Array.from(MASTER_A, (byte, i) => (i === 31 ? byte ^ 1 : byte));

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

/** HKDF-SHA256 computed here directly, with the labels spelled out rather than imported. */
function referenceHkdf(master: Uint8Array, info: string): string {
  return Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), info, 32)).toString('hex');
}

describe('deriveKeyEncryptionKey / deriveSearchIndexKey', () => {
  it('use the documented versioned labels', () => {
    expect(KEY_WRAPPING_INFO).toBe('careledger/key-wrapping/v1');
    expect(SEARCH_INDEX_INFO).toBe('careledger/search-index/v1');
  });

  it('match HKDF-SHA256(master, salt = empty, info) computed independently', () => {
    for (const master of [MASTER_A, MASTER_B]) {
      expect(hex(deriveKeyEncryptionKey(master))).toBe(referenceHkdf(master, 'careledger/key-wrapping/v1'));
      expect(hex(deriveSearchIndexKey(master))).toBe(referenceHkdf(master, 'careledger/search-index/v1'));
    }
  });

  it('give 32-byte keys that differ per label, per master key, and from the master key itself', () => {
    const kek = deriveKeyEncryptionKey(MASTER_A);
    const indexKey = deriveSearchIndexKey(MASTER_A);
    expect(kek).toBeInstanceOf(Uint8Array);
    expect(kek.length).toBe(32);
    expect(indexKey.length).toBe(32);
    const all = [kek, indexKey, deriveKeyEncryptionKey(MASTER_B), deriveSearchIndexKey(MASTER_B), MASTER_A];
    expect(new Set(all.map(hex)).size).toBe(all.length);
    // Different from the organisation's X25519 seed too, which uses its own label.
    expect(hex(kek)).not.toBe(referenceHkdf(MASTER_A, 'careledger/org-encryption/x25519/v1'));
  });

  it('are deterministic and return fresh arrays', () => {
    const first = deriveKeyEncryptionKey(MASTER_A);
    const second = deriveKeyEncryptionKey(MASTER_A);
    expect(hex(second)).toBe(hex(first));
    expect(second).not.toBe(first);
    first.fill(0);
    expect(hex(deriveKeyEncryptionKey(MASTER_A))).toBe(hex(second));
  });

  it('refuse a master key that is not 32 bytes, naming the role but not the bytes', () => {
    for (const bad of [new Uint8Array(31), new Uint8Array(33), new Uint8Array(0), 'x'.repeat(32) as never]) {
      for (const derive of [deriveKeyEncryptionKey, deriveSearchIndexKey]) {
        let thrown: unknown;
        try {
          derive(bad);
        } catch (error) {
          thrown = error;
        }
        expect(thrown).toBeInstanceOf(CareLedgerError);
        expect((thrown as CareLedgerError).code).toBe(CryptoErrorCode.INVALID_KEY_LENGTH);
        expect((thrown as CareLedgerError).message).toMatch(/^master key must be 32 bytes/);
      }
    }
  });
});
