import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CareLedgerError } from '../core/errors.js';
import { CryptoErrorCode } from './errors.js';
import { HMAC_TOKEN_LENGTH, hmacToken } from './hmacToken.js';
import { deriveSearchIndexKey } from './keyEncryptionKey.js';

const KEY = deriveSearchIndexKey(new Uint8Array(randomBytes(32)));
const OTHER_KEY = deriveSearchIndexKey(new Uint8Array(randomBytes(32)));
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

describe('hmacToken', () => {
  it('is 16 bytes and deterministic', () => {
    const token = hmacToken(KEY, 'identifier|urn:oid:2.16.840.1.113883.2.4.6.3|999999990');
    expect(HMAC_TOKEN_LENGTH).toBe(16);
    expect(token).toBeInstanceOf(Uint8Array);
    expect(token.length).toBe(16);
    expect(token.buffer.byteLength).toBe(16);
    expect(hex(hmacToken(KEY, 'identifier|urn:oid:2.16.840.1.113883.2.4.6.3|999999990'))).toBe(hex(token));
  });

  it('is the first 16 bytes of HMAC-SHA256(key, UTF-8 value)', () => {
    for (const value of ['', 'smith', 'Müller', '李小龍', '\u{1F600}']) {
      const full = createHmac('sha256', KEY).update(Buffer.from(value, 'utf8')).digest();
      expect(hex(hmacToken(KEY, value))).toBe(full.subarray(0, 16).toString('hex'));
    }
  });

  it('differs by key and by value', () => {
    expect(hex(hmacToken(OTHER_KEY, 'smith'))).not.toBe(hex(hmacToken(KEY, 'smith')));
    const values = ['smith', 'Smith', 'smith ', 'smyth', 'name|smith', 'family|smith'];
    expect(new Set(values.map((v) => hex(hmacToken(KEY, v)))).size).toBe(values.length);
  });

  it('hashes the value as given: normalising (case, NFC) is the caller’s job', () => {
    expect(hex(hmacToken(KEY, 'Jos\u00e9'))).not.toBe(hex(hmacToken(KEY, 'Jose\u0301')));
    expect(hex(hmacToken(KEY, 'Jose\u0301'.normalize('NFC')))).toBe(hex(hmacToken(KEY, 'Jos\u00e9')));
  });

  it('refuses an index key that is not 32 bytes', () => {
    for (const bad of [new Uint8Array(0), new Uint8Array(16), new Uint8Array(64), 's'.repeat(32) as never]) {
      let thrown: unknown;
      try {
        hmacToken(bad, 'smith');
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(CareLedgerError);
      expect((thrown as CareLedgerError).code).toBe(CryptoErrorCode.INVALID_KEY_LENGTH);
    }
  });
});
