import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it, expect } from 'vitest';
import { ConfigurationError } from '../core/errors.js';
import { isHex, type Hex } from '../core/hex.js';
import { captureError } from '../testing/fixtures.js';
import { loadOrCreateKeys } from './loadOrCreateKeys.js';

const posix = process.platform !== 'win32';
const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const hex32 = (value: bigint): Hex => `0x${value.toString(16).padStart(64, '0')}`;
const CHAIN_KEY = hex32(0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318n);
const MASTER_KEY: Hex = `0x${'7e'.repeat(32)}`;

let dataDir: string;
let keysDir: string;
const mode = (path: string): number => statSync(path).mode & 0o777;

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'careledger-keys-'));
  keysDir = join(dataDir, 'keys');
});
afterEach(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

function writeKey(name: string, content: string, fileMode: number): string {
  mkdirSync(keysDir, { recursive: true, mode: 0o700 });
  const file = join(keysDir, name);
  writeFileSync(file, content, { mode: fileMode });
  chmodSync(file, fileMode);
  return file;
}

describe('loadOrCreateKeys', () => {
  it('creates both keys in <data>/keys, owner-only, then reuses them', () => {
    const first = loadOrCreateKeys({ dataDir });
    expect(first.sources).toEqual({ chainKey: 'created', masterKey: 'created' });
    expect(isHex(first.chainKey, 32)).toBe(true);
    expect(isHex(first.masterKey, 32)).toBe(true);
    expect(first.chainKey).not.toBe(first.masterKey);
    const chainValue = BigInt(first.chainKey);
    expect(chainValue > 0n && chainValue < N).toBe(true);

    expect(readdirSync(keysDir).sort()).toEqual(['master.key', 'org-chain.key']); // no temp files left
    expect(readFileSync(join(keysDir, 'org-chain.key'), 'utf8')).toBe(`${first.chainKey}\n`);
    expect(readFileSync(join(keysDir, 'master.key'), 'utf8')).toBe(`${first.masterKey}\n`);
    if (posix) {
      expect(mode(keysDir)).toBe(0o700);
      expect(mode(join(keysDir, 'org-chain.key'))).toBe(0o600);
      expect(mode(join(keysDir, 'master.key'))).toBe(0o600);
    }

    const second = loadOrCreateKeys({ dataDir });
    expect(second).toEqual({
      chainKey: first.chainKey,
      masterKey: first.masterKey,
      sources: { chainKey: 'data-folder', masterKey: 'data-folder' },
    });
  });

  it('creates different keys for different data folders', () => {
    const other = mkdtempSync(join(tmpdir(), 'careledger-keys-'));
    try {
      const a = loadOrCreateKeys({ dataDir });
      const b = loadOrCreateKeys({ dataDir: other });
      expect(a.chainKey).not.toBe(b.chainKey);
      expect(a.masterKey).not.toBe(b.masterKey);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('prefers keys from configuration and writes neither to disk', () => {
    const keys = loadOrCreateKeys({ dataDir, chainKey: CHAIN_KEY, masterKey: MASTER_KEY });
    expect(keys).toEqual({
      chainKey: CHAIN_KEY,
      masterKey: MASTER_KEY,
      sources: { chainKey: 'config', masterKey: 'config' },
    });
    expect(readdirSync(keysDir)).toEqual([]);
  });

  it('takes configuration over an existing key file, and creates only what is missing', () => {
    const created = loadOrCreateKeys({ dataDir, masterKey: MASTER_KEY });
    expect(created.sources).toEqual({ chainKey: 'created', masterKey: 'config' });
    expect(created.masterKey).toBe(MASTER_KEY);
    expect(readdirSync(keysDir)).toEqual(['org-chain.key']);

    const overridden = loadOrCreateKeys({ dataDir, chainKey: CHAIN_KEY });
    expect(overridden.chainKey).toBe(CHAIN_KEY);
    expect(overridden.sources).toEqual({ chainKey: 'config', masterKey: 'created' });
    // The configured chain key did not replace the file.
    expect(readFileSync(join(keysDir, 'org-chain.key'), 'utf8')).toBe(`${created.chainKey}\n`);
  });

  it.skipIf(!posix)('tightens an existing keys directory to 0700', () => {
    mkdirSync(keysDir, { recursive: true });
    chmodSync(keysDir, 0o755);
    loadOrCreateKeys({ dataDir });
    expect(mode(keysDir)).toBe(0o700);
  });

  it.skipIf(!posix)('refuses a key file others can read (0644) with KEYS.PERMISSIONS_TOO_OPEN', () => {
    const file = writeKey('master.key', `${MASTER_KEY}\n`, 0o644);
    const error = captureError(() => loadOrCreateKeys({ dataDir, chainKey: CHAIN_KEY }));
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.code).toBe('KEYS.PERMISSIONS_TOO_OPEN');
    expect(error.message).toContain('mode 644');
    expect(error.message).toContain(`chmod 600 ${file}`);
    expect(error.message).not.toContain(MASTER_KEY.slice(2, 18));
    // The file was left alone.
    expect(mode(file)).toBe(0o644);
    expect(readFileSync(file, 'utf8')).toBe(`${MASTER_KEY}\n`);
  });

  it.skipIf(!posix)('refuses a group-readable chain key file too (0640)', () => {
    writeKey('org-chain.key', `${CHAIN_KEY}\n`, 0o640);
    expect(captureError(() => loadOrCreateKeys({ dataDir })).code).toBe('KEYS.PERMISSIONS_TOO_OPEN');
  });

  it('accepts a 0600 key file written by the operator', () => {
    writeKey('org-chain.key', `  ${CHAIN_KEY}\n\n`, 0o600);
    const keys = loadOrCreateKeys({ dataDir });
    expect(keys.chainKey).toBe(CHAIN_KEY);
    expect(keys.sources.chainKey).toBe('data-folder');
  });

  for (const [name, content] of [
    ['not hex', 'hello\n'],
    ['missing 0x', `${MASTER_KEY.slice(2)}\n`],
    ['31 bytes', `${MASTER_KEY.slice(0, -2)}\n`],
    ['empty', ''],
  ] as const) {
    it(`refuses a corrupt key file (${name}) with KEYS.CORRUPT`, () => {
      const file = writeKey('master.key', content, 0o600);
      const error = captureError(() => loadOrCreateKeys({ dataDir }));
      expect(error).toBeInstanceOf(ConfigurationError);
      expect(error.code).toBe('KEYS.CORRUPT');
      expect(error.message).toBe(`Key file ${file} does not hold 32 bytes of 0x-prefixed hex.`);
    });
  }

  for (const [name, key] of [
    ['zero', hex32(0n)],
    ['n', hex32(N)],
    ['n + 1', hex32(N + 1n)],
    ['2^256 - 1', hex32(2n ** 256n - 1n)],
  ] as const) {
    it(`refuses a configured chain key that is not a secp256k1 private key (${name})`, () => {
      const error = captureError(() => loadOrCreateKeys({ dataDir, chainKey: key, masterKey: MASTER_KEY }));
      expect(error).toBeInstanceOf(ConfigurationError);
      expect(error.code).toBe('KEYS.INVALID_CHAIN_KEY');
      expect(error.message).not.toContain(key.slice(2, 18));
      expect(readdirSync(keysDir)).toEqual([]);
    });
  }

  it('accepts the extreme valid chain keys 1 and n - 1', () => {
    for (const key of [hex32(1n), hex32(N - 1n)]) {
      expect(loadOrCreateKeys({ dataDir, chainKey: key, masterKey: MASTER_KEY }).chainKey).toBe(key);
    }
  });

  it('refuses an invalid chain key found in the data folder', () => {
    writeKey('org-chain.key', `${hex32(0n)}\n`, 0o600);
    const error = captureError(() => loadOrCreateKeys({ dataDir }));
    expect(error.code).toBe('KEYS.INVALID_CHAIN_KEY');
    expect(existsSync(join(keysDir, 'master.key'))).toBe(false);
  });
});
