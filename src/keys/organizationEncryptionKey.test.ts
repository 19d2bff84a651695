import {
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  type KeyObject,
} from 'node:crypto';
import { describe, it, expect } from 'vitest';
import { fromHex, toHex, type Hex } from '../core/hex.js';
import {
  organizationEncryptionPrivateKey,
  organizationEncryptionPublicKey,
} from './organizationEncryptionKey.js';

const MASTER_A: Hex = `0x${'00112233445566778899aabbccddeeff'.repeat(2)}`;
const MASTER_B: Hex = `0x${'00112233445566778899aabbccddeeff'.repeat(2).slice(0, -1)}0`;

// DER prefixes of an X25519 key (RFC 8410): PKCS#8 private key and SubjectPublicKeyInfo, each followed by 32 bytes.
const PKCS8_X25519_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_X25519_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');

/** The organisation's X25519 private key, re-derived here the way the module documents it (HKDF-SHA256). */
function derivePrivateKey(masterKey: Hex): KeyObject {
  const seed = Buffer.from(
    hkdfSync('sha256', fromHex(masterKey, 32), new Uint8Array(0), 'careledger/org-encryption/x25519/v1', 32),
  );
  return createPrivateKey({ key: Buffer.concat([PKCS8_X25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

function publicKeyObject(raw: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.concat([SPKI_X25519_PREFIX, raw]), format: 'der', type: 'spki' });
}

describe('organizationEncryptionPublicKey', () => {
  it('is 32 bytes and deterministic for one master key', () => {
    const a1 = organizationEncryptionPublicKey(MASTER_A);
    const a2 = organizationEncryptionPublicKey(MASTER_A);
    expect(a1).toBeInstanceOf(Uint8Array);
    expect(a1.length).toBe(32);
    expect(toHex(a1)).toBe(toHex(a2));
    expect(a1).not.toBe(a2); // fresh arrays
  });

  it('differs for another master key (even one differing in a single nibble)', () => {
    expect(MASTER_A).not.toBe(MASTER_B);
    expect(toHex(organizationEncryptionPublicKey(MASTER_B))).not.toBe(
      toHex(organizationEncryptionPublicKey(MASTER_A)),
    );
  });

  it('accepts upper-case hex and gives the same key', () => {
    const upper = `0x${MASTER_A.slice(2).toUpperCase()}` as Hex;
    expect(toHex(organizationEncryptionPublicKey(upper))).toBe(
      toHex(organizationEncryptionPublicKey(MASTER_A)),
    );
  });

  it('is the public half of the HKDF-derived X25519 private key', () => {
    const expected = createPublicKey(derivePrivateKey(MASTER_A)).export({ format: 'der', type: 'spki' });
    expect(expected.subarray(0, SPKI_X25519_PREFIX.length).equals(SPKI_X25519_PREFIX)).toBe(true);
    expect(toHex(organizationEncryptionPublicKey(MASTER_A))).toBe(
      toHex(expected.subarray(SPKI_X25519_PREFIX.length)),
    );
  });

  it('is a real X25519 public key: Diffie-Hellman agrees from both sides', () => {
    for (const master of [MASTER_A, MASTER_B]) {
      const organizationPrivate = derivePrivateKey(master);
      const organizationPublic = publicKeyObject(organizationEncryptionPublicKey(master));
      const peer = generateKeyPairSync('x25519');

      const ours = diffieHellman({ privateKey: organizationPrivate, publicKey: peer.publicKey });
      const theirs = diffieHellman({ privateKey: peer.privateKey, publicKey: organizationPublic });
      expect(ours.length).toBe(32);
      expect(ours.equals(Buffer.alloc(32))).toBe(false);
      expect(theirs.toString('hex')).toBe(ours.toString('hex'));

      // A sender who used the other organisation's key would not reach the same secret.
      const other = master === MASTER_A ? MASTER_B : MASTER_A;
      const wrong = diffieHellman({
        privateKey: peer.privateKey,
        publicKey: publicKeyObject(organizationEncryptionPublicKey(other)),
      });
      expect(wrong.toString('hex')).not.toBe(ours.toString('hex'));
    }
  });

  it('rejects a master key that is not 32 bytes of hex', () => {
    expect(() => organizationEncryptionPublicKey('0x1234')).toThrow(TypeError);
    expect(() => organizationEncryptionPublicKey(`0x${'zz'.repeat(32)}` as Hex)).toThrow(TypeError);
  });
});

describe('organizationEncryptionPrivateKey', () => {
  it('is the 32-byte HKDF output, deterministic, fresh on every call and differing per master key', () => {
    const a1 = organizationEncryptionPrivateKey(MASTER_A);
    const a2 = organizationEncryptionPrivateKey(MASTER_A);
    expect(a1).toBeInstanceOf(Uint8Array);
    expect(a1.length).toBe(32);
    expect(toHex(a1)).toBe(toHex(a2));
    expect(a1).not.toBe(a2);
    const expected = derivePrivateKey(MASTER_A).export({ format: 'der', type: 'pkcs8' });
    expect(toHex(a1)).toBe(toHex(expected.subarray(PKCS8_X25519_PREFIX.length)));
    expect(toHex(organizationEncryptionPrivateKey(MASTER_B))).not.toBe(toHex(a1));
  });

  it('pairs with organizationEncryptionPublicKey: Diffie-Hellman agrees from both sides', () => {
    const raw = organizationEncryptionPrivateKey(MASTER_A);
    const privateKey = createPrivateKey({
      key: Buffer.concat([PKCS8_X25519_PREFIX, raw]),
      format: 'der',
      type: 'pkcs8',
    });
    const peer = generateKeyPairSync('x25519');
    const ours = diffieHellman({ privateKey, publicKey: peer.publicKey });
    const theirs = diffieHellman({
      privateKey: peer.privateKey,
      publicKey: publicKeyObject(organizationEncryptionPublicKey(MASTER_A)),
    });
    expect(theirs.toString('hex')).toBe(ours.toString('hex'));
  });

  it('is not changed by wiping a previously returned copy', () => {
    const first = organizationEncryptionPrivateKey(MASTER_A);
    const hex = toHex(first);
    first.fill(0);
    expect(toHex(organizationEncryptionPrivateKey(MASTER_A))).toBe(hex);
  });

  it('rejects a master key that is not 32 bytes of hex', () => {
    expect(() => organizationEncryptionPrivateKey('0x1234')).toThrow(TypeError);
  });
});
