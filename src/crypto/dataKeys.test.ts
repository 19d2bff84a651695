import { createDecipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CareLedgerError, VerificationError } from '../core/errors.js';
import {
  DATA_KEY_LENGTH,
  generateDataKey,
  unwrapDataKey,
  WRAPPED_DATA_KEY_LENGTH,
  wrapDataKey,
} from './dataKeys.js';
import { CryptoErrorCode, DataKeyUnwrapError, type SealedDataFailure } from './errors.js';
import { deriveKeyEncryptionKey } from './keyEncryptionKey.js';

const KEK = deriveKeyEncryptionKey(new Uint8Array(randomBytes(32)));
const OTHER_KEK = deriveKeyEncryptionKey(new Uint8Array(randomBytes(32)));
const KEY_ID = 'Patient/123';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

function flipBit(bytes: Uint8Array, index: number, bit = 0): Uint8Array {
  const copy = bytes.slice();
  copy[index]! ^= 1 << bit;
  return copy;
}

/** Asserts `fn` throws a DataKeyUnwrapError for `reason`, whose message and details hold no key bytes. */
function expectUnwrapFailure(fn: () => unknown, reason: SealedDataFailure, secrets: Uint8Array[] = []): void {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(DataKeyUnwrapError);
  expect(thrown).toBeInstanceOf(VerificationError);
  const error = thrown as DataKeyUnwrapError;
  expect(error).toMatchObject({
    name: 'DataKeyUnwrapError',
    code: 'CRYPTO.KEY_UNWRAP_FAILED',
    status: 422,
    reason,
    details: { reason },
  });
  const visible = `${error.message} ${JSON.stringify(error.details)} ${String(error.stack)}`;
  for (const secret of secrets) {
    expect(visible).not.toContain(hex(secret));
    expect(visible).not.toContain(Buffer.from(secret).toString('base64'));
  }
}

describe('generateDataKey', () => {
  it('gives 32 fresh random bytes in memory of their own', () => {
    const keys = Array.from({ length: 64 }, () => generateDataKey());
    for (const key of keys) {
      expect(key).toBeInstanceOf(Uint8Array);
      expect(key.length).toBe(DATA_KEY_LENGTH);
      expect(key.buffer.byteLength).toBe(32);
    }
    expect(new Set(keys.map(hex)).size).toBe(keys.length);
  });
});

describe('wrapDataKey / unwrapDataKey', () => {
  it('round-trips a data key', () => {
    const dek = generateDataKey();
    const wrapped = wrapDataKey(KEK, dek, KEY_ID);
    expect(hex(unwrapDataKey(KEK, wrapped, KEY_ID))).toBe(hex(dek));
    expect(hex(unwrapDataKey(KEK, wrapped.slice(), KEY_ID))).toBe(hex(dek));
  });

  it('has the documented layout: 0x01 || nonce(12) || AES-256-GCM(dek)(32) || tag(16), key id as AAD', () => {
    const dek = generateDataKey();
    const keyId = 'Patient/ü-7';
    const wrapped = wrapDataKey(KEK, dek, keyId);
    expect(WRAPPED_DATA_KEY_LENGTH).toBe(61);
    expect(wrapped.length).toBe(61);
    expect(wrapped[0]).toBe(0x01);
    // Decrypted here with node:crypto alone, from the layout as documented.
    const decipher = createDecipheriv('aes-256-gcm', KEK, wrapped.subarray(1, 13), { authTagLength: 16 });
    decipher.setAuthTag(wrapped.subarray(45, 61));
    decipher.setAAD(Buffer.from(keyId, 'utf8'));
    const plain = Buffer.concat([decipher.update(wrapped.subarray(13, 45)), decipher.final()]);
    expect(plain.toString('hex')).toBe(hex(dek));
  });

  it('uses a fresh nonce each time, so wrapping the same key twice differs', () => {
    const dek = generateDataKey();
    const wraps = Array.from({ length: 32 }, () => wrapDataKey(KEK, dek, KEY_ID));
    expect(new Set(wraps.map((w) => hex(w.subarray(1, 13)))).size).toBe(wraps.length);
    expect(new Set(wraps.map(hex)).size).toBe(wraps.length);
    for (const wrapped of wraps) expect(hex(unwrapDataKey(KEK, wrapped, KEY_ID))).toBe(hex(dek));
  });

  it('does not contain the data key in clear', () => {
    const dek = generateDataKey();
    expect(hex(wrapDataKey(KEK, dek, KEY_ID))).not.toContain(hex(dek).slice(0, 16));
  });

  describe('refuses tampered or mismatched wrapped keys with DataKeyUnwrapError', () => {
    const dek = generateDataKey();
    const wrapped = wrapDataKey(KEK, dek, KEY_ID);
    const secrets = [dek, KEK];

    it('a flipped bit anywhere in nonce, encrypted key or tag', () => {
      for (let i = 1; i < wrapped.length; i++) {
        for (const bit of [0, 7]) {
          expectUnwrapFailure(
            () => unwrapDataKey(KEK, flipBit(wrapped, i, bit), KEY_ID),
            'authentication',
            secrets,
          );
        }
      }
    });

    it('a flipped bit in the nonce, the encrypted key and the tag (one each, named)', () => {
      expectUnwrapFailure(() => unwrapDataKey(KEK, flipBit(wrapped, 1), KEY_ID), 'authentication');
      expectUnwrapFailure(() => unwrapDataKey(KEK, flipBit(wrapped, 13), KEY_ID), 'authentication');
      expectUnwrapFailure(() => unwrapDataKey(KEK, flipBit(wrapped, 60), KEY_ID), 'authentication');
    });

    it('a wrong version byte', () => {
      for (const version of [0x00, 0x02, 0xff]) {
        const changed = wrapped.slice();
        changed[0] = version;
        expectUnwrapFailure(() => unwrapDataKey(KEK, changed, KEY_ID), 'version', secrets);
      }
    });

    it('a truncated, extended or empty wrapped key', () => {
      for (const length of [0, 1, 29, 60]) {
        expectUnwrapFailure(() => unwrapDataKey(KEK, wrapped.subarray(0, length), KEY_ID), 'length', secrets);
      }
      const extended = new Uint8Array(62);
      extended.set(wrapped);
      expectUnwrapFailure(() => unwrapDataKey(KEK, extended, KEY_ID), 'length', secrets);
    });

    it('another key id (a wrapped key moved to another patient)', () => {
      for (const other of ['Patient/124', 'Patient/123 ', 'patient/123', 'Patient/12']) {
        expectUnwrapFailure(() => unwrapDataKey(KEK, wrapped, other), 'authentication', secrets);
      }
    });

    it('another key-encryption key', () => {
      expectUnwrapFailure(() => unwrapDataKey(OTHER_KEK, wrapped, KEY_ID), 'authentication', secrets);
      expectUnwrapFailure(() => unwrapDataKey(dek, wrapped, KEY_ID), 'authentication', secrets);
    });

    it('a wrapped key spliced from two others (nonce of one, body of another)', () => {
      const second = wrapDataKey(KEK, dek, KEY_ID);
      const spliced = wrapped.slice();
      spliced.set(second.subarray(1, 13), 1);
      expectUnwrapFailure(() => unwrapDataKey(KEK, spliced, KEY_ID), 'authentication', secrets);
    });
  });

  it('refuses keys that are not 32 bytes and an empty key id as programming errors', () => {
    const dek = generateDataKey();
    const cases: [() => unknown, string][] = [
      [() => wrapDataKey(new Uint8Array(16), dek, KEY_ID), CryptoErrorCode.INVALID_KEY_LENGTH],
      [() => wrapDataKey(KEK, new Uint8Array(31), KEY_ID), CryptoErrorCode.INVALID_KEY_LENGTH],
      [() => wrapDataKey(KEK, 'k'.repeat(32) as never, KEY_ID), CryptoErrorCode.INVALID_KEY_LENGTH],
      [
        () => unwrapDataKey(new Uint8Array(33), new Uint8Array(61), KEY_ID),
        CryptoErrorCode.INVALID_KEY_LENGTH,
      ],
      [() => wrapDataKey(KEK, dek, ''), CryptoErrorCode.INVALID_KEY_ID],
      [() => unwrapDataKey(KEK, wrapDataKey(KEK, dek, KEY_ID), ''), CryptoErrorCode.INVALID_KEY_ID],
    ];
    for (const [fn, code] of cases) {
      let thrown: unknown;
      try {
        fn();
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(CareLedgerError);
      expect(thrown).not.toBeInstanceOf(VerificationError);
      expect((thrown as CareLedgerError).code).toBe(code);
      expect((thrown as CareLedgerError).status).toBe(500);
    }
  });
});
