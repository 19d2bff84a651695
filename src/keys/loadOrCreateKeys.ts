import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  writeSync,
  chmodSync,
} from 'node:fs';
import { join } from 'node:path';
import { ConfigurationError } from '../core/errors.js';
import { isHex, toHex, type Hex } from '../core/hex.js';
import { secp256k1PrivateKeyIsValid } from './secp256k1.js';

/** The organisation's secrets: its chain account key and the master key that wraps data keys. */
export interface OrganizationKeys {
  chainKey: Hex;
  masterKey: Hex;
  /** Where each key came from, for the start-up log (never the key itself). */
  sources: {
    chainKey: 'config' | 'created' | 'data-folder';
    masterKey: 'config' | 'created' | 'data-folder';
  };
}

export interface LoadOrCreateKeysParameters {
  dataDir: string;
  chainKey?: Hex | undefined;
  masterKey?: Hex | undefined;
}

const KEY_FILES = { chainKey: 'org-chain.key', masterKey: 'master.key' } as const;

/**
 * Returns the organisation's keys: from configuration when given, else from `<data>/keys/`, else newly created
 * there with owner-only permissions (directory 0700, files 0600, written atomically and fsynced). A key file
 * that others can read is refused, as ssh does, because it would leak every patient's data key.
 */
export function loadOrCreateKeys(params: LoadOrCreateKeysParameters): OrganizationKeys {
  const dir = join(params.dataDir, 'keys');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);

  const pick = (name: keyof typeof KEY_FILES, configured: Hex | undefined, create: () => Hex) => {
    if (configured) return { key: configured, source: 'config' as const };
    const file = join(dir, KEY_FILES[name]);
    const existing = readKeyFile(file);
    if (existing) return { key: existing, source: 'data-folder' as const };
    const key = create();
    writeKeyFile(file, key);
    return { key, source: 'created' as const };
  };

  const chain = pick('chainKey', params.chainKey, createChainKey);
  if (!secp256k1PrivateKeyIsValid(chain.key)) {
    throw new ConfigurationError(
      'KEYS.INVALID_CHAIN_KEY',
      'The organisation chain key is not a valid secp256k1 private key.',
    );
  }
  const master = pick('masterKey', params.masterKey, () => toHex(randomBytes(32)));
  return {
    chainKey: chain.key,
    masterKey: master.key,
    sources: { chainKey: chain.source, masterKey: master.source },
  };
}

/**
 * The master key for tools that must not create keys (`careledger audit`): from configuration, else from
 * `<data>/keys/master.key`; undefined when neither exists.
 */
export function readMasterKey(dataDir: string, configured?: Hex | undefined): Hex | undefined {
  return configured ?? readKeyFile(join(dataDir, 'keys', KEY_FILES.masterKey));
}

function createChainKey(): Hex {
  for (;;) {
    const key = toHex(randomBytes(32));
    if (secp256k1PrivateKeyIsValid(key)) return key;
  }
}

function readKeyFile(file: string): Hex | undefined {
  let mode: number;
  try {
    mode = statSync(file).mode;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new ConfigurationError(
      'KEYS.PERMISSIONS_TOO_OPEN',
      `Key file ${file} is readable by other users (mode ${(mode & 0o777).toString(8)}); run "chmod 600 ${file}".`,
    );
  }
  const text = readFileSync(file, 'utf8').trim();
  if (!isHex(text, 32)) {
    throw new ConfigurationError(
      'KEYS.CORRUPT',
      `Key file ${file} does not hold 32 bytes of 0x-prefixed hex.`,
    );
  }
  return text as Hex;
}

function writeKeyFile(file: string, key: Hex): void {
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, `${key}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}
