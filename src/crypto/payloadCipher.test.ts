import { createDecipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CareLedgerError, VerificationError } from '../core/errors.js';
import { generateDataKey } from './dataKeys.js';
import { CryptoErrorCode, PayloadDecryptError, type SealedDataFailure } from './errors.js';
import { decryptPayload, encryptPayload } from './payloadCipher.js';

const utf8 = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'utf8'));
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

const DEK = generateDataKey();
const AAD = utf8('Patient/123/_history/2');
const PLAINTEXT = utf8('{"resourceType":"Patient","id":"123","name":[{"family":"Müller"}]}');

function flipBit(bytes: Uint8Array, index: number, bit = 0): Uint8Array {
  const copy = bytes.slice();
  copy[index]! ^= 1 << bit;
  return copy;
}

/** Asserts `fn` throws a PayloadDecryptError for `reason` that does not echo key or plaintext. */
function expectDecryptFailure(fn: () => unknown, reason: SealedDataFailure): void {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(PayloadDecryptError);
  expect(thrown).toBeInstanceOf(VerificationError);
  const error = thrown as PayloadDecryptError;
  expect(error).toMatchObject({
    name: 'PayloadDecryptError',
    code: 'CRYPTO.DECRYPT_FAILED',
    status: 422,
    reason,
    details: { reason },
  });
  const visible = `${error.message} ${JSON.stringify(error.details)}`;
  expect(visible).not.toContain(hex(DEK));
  expect(visible).not.toContain('Müller');
}

describe('encryptPayload / decryptPayload', () => {
  it('round-trip empty, small, 1 KiB and 1 MiB payloads', () => {
    for (const size of [0, 1, 15, 16, 17, 1024, 1024 * 1024]) {
      const plaintext = new Uint8Array(randomBytes(size));
      const sealed = encryptPayload(DEK, plaintext, AAD);
      expect(sealed.length).toBe(size + 29);
      const opened = decryptPayload(DEK, sealed, AAD);
      expect(opened).toBeInstanceOf(Uint8Array);
      expect(Buffer.from(opened).equals(Buffer.from(plaintext))).toBe(true);
    }
  });

  it('accept an empty AAD and AAD given as a view into a larger buffer', () => {
    const empty = new Uint8Array(0);
    expect(hex(decryptPayload(DEK, encryptPayload(DEK, PLAINTEXT, empty), empty))).toBe(hex(PLAINTEXT));
    const backing = utf8('xxPatient/123/_history/2yy');
    const view = backing.subarray(2, backing.length - 2);
    expect(hex(decryptPayload(DEK, encryptPayload(DEK, PLAINTEXT, view), AAD))).toBe(hex(PLAINTEXT));
  });

  it('has the documented layout: 0x01 || nonce(12) || ciphertext || tag(16), AAD authenticated', () => {
    const sealed = encryptPayload(DEK, PLAINTEXT, AAD);
    expect(sealed[0]).toBe(0x01);
    const tagStart = sealed.length - 16;
    // Decrypted here with node:crypto alone, from the layout as documented.
    const decipher = createDecipheriv('aes-256-gcm', DEK, sealed.subarray(1, 13), { authTagLength: 16 });
    decipher.setAuthTag(sealed.subarray(tagStart));
    decipher.setAAD(AAD);
    const plain = Buffer.concat([decipher.update(sealed.subarray(13, tagStart)), decipher.final()]);
    expect(plain.toString('hex')).toBe(hex(PLAINTEXT));
  });

  it('returns results that own their memory (no shared pool slab behind .buffer)', () => {
    const sealed = encryptPayload(DEK, PLAINTEXT, AAD);
    expect(sealed.byteOffset).toBe(0);
    expect(sealed.buffer.byteLength).toBe(sealed.length);
    const opened = decryptPayload(DEK, sealed, AAD);
    expect(opened.buffer.byteLength).toBe(opened.length);
  });

  it('uses a fresh nonce per call: the same plaintext encrypts differently every time', () => {
    const seals = Array.from({ length: 64 }, () => encryptPayload(DEK, PLAINTEXT, AAD));
    expect(new Set(seals.map((s) => hex(s.subarray(1, 13)))).size).toBe(seals.length);
    expect(new Set(seals.map((s) => hex(s.subarray(13)))).size).toBe(seals.length);
    for (const sealed of seals) expect(hex(decryptPayload(DEK, sealed, AAD))).toBe(hex(PLAINTEXT));
  });

  it('keeps nonces unique across many encryptions (several refills of the nonce pool)', () => {
    const nonces = new Set<string>();
    for (let i = 0; i < 2000; i++) nonces.add(hex(encryptPayload(DEK, PLAINTEXT, AAD).subarray(1, 13)));
    expect(nonces.size).toBe(2000);
  });

  it('does not leave the plaintext visible in the sealed bytes', () => {
    const sealed = Buffer.from(encryptPayload(DEK, PLAINTEXT, AAD));
    expect(sealed.includes(Buffer.from('Müller'))).toBe(false);
    expect(sealed.includes(Buffer.from('resourceType'))).toBe(false);
  });

  describe('refuse with PayloadDecryptError', () => {
    const sealed = encryptPayload(DEK, PLAINTEXT, AAD);
    const tagStart = sealed.length - 16;

    it('a flipped bit in the nonce', () => {
      for (let i = 1; i < 13; i++)
        expectDecryptFailure(() => decryptPayload(DEK, flipBit(sealed, i), AAD), 'authentication');
    });

    it('a flipped bit in the ciphertext', () => {
      for (let i = 13; i < tagStart; i++) {
        expectDecryptFailure(() => decryptPayload(DEK, flipBit(sealed, i, i % 8), AAD), 'authentication');
      }
    });

    it('a flipped bit in the tag', () => {
      for (let i = tagStart; i < sealed.length; i++) {
        expectDecryptFailure(() => decryptPayload(DEK, flipBit(sealed, i, 7), AAD), 'authentication');
      }
    });

    it('a wrong version byte', () => {
      for (const version of [0x00, 0x02, 0x81]) {
        const changed = sealed.slice();
        changed[0] = version;
        expectDecryptFailure(() => decryptPayload(DEK, changed, AAD), 'version');
      }
    });

    it('truncation: shorter than the overhead, or missing the end of the tag or ciphertext', () => {
      for (const length of [0, 1, 13, 28]) {
        expectDecryptFailure(() => decryptPayload(DEK, sealed.subarray(0, length), AAD), 'length');
      }
      for (const length of [29, 30, sealed.length - 1]) {
        expectDecryptFailure(() => decryptPayload(DEK, sealed.subarray(0, length), AAD), 'authentication');
      }
      // Dropping ciphertext bytes while keeping the tag.
      const cut = new Uint8Array(sealed.length - 1);
      cut.set(sealed.subarray(0, tagStart - 1));
      cut.set(sealed.subarray(tagStart), tagStart - 1);
      expectDecryptFailure(() => decryptPayload(DEK, cut, AAD), 'authentication');
    });

    it('appended bytes', () => {
      const longer = new Uint8Array(sealed.length + 1);
      longer.set(sealed);
      expectDecryptFailure(() => decryptPayload(DEK, longer, AAD), 'authentication');
    });

    it('a wrong AAD: the ciphertext of one version moved to another', () => {
      for (const other of [
        'Patient/123/_history/1',
        'Patient/124/_history/2',
        'Patient/123/_history/2 ',
        '',
      ]) {
        expectDecryptFailure(() => decryptPayload(DEK, sealed, utf8(other)), 'authentication');
      }
    });

    it('a wrong key (another patient’s data key)', () => {
      expectDecryptFailure(() => decryptPayload(generateDataKey(), sealed, AAD), 'authentication');
    });
  });

  it('refuses a data key that is not 32 bytes as a programming error', () => {
    const sealed = encryptPayload(DEK, PLAINTEXT, AAD);
    for (const fn of [
      () => encryptPayload(new Uint8Array(16), PLAINTEXT, AAD),
      () => decryptPayload(DEK.subarray(0, 31), sealed, AAD),
      () => encryptPayload('d'.repeat(32) as never, PLAINTEXT, AAD),
    ]) {
      let thrown: unknown;
      try {
        fn();
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(CareLedgerError);
      expect((thrown as CareLedgerError).code).toBe(CryptoErrorCode.INVALID_KEY_LENGTH);
      expect((thrown as CareLedgerError).message).toMatch(/^data key must be 32 bytes/);
    }
  });
});
