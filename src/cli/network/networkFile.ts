import {
  chmodSync,
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { ConfigurationError } from '../../core/errors.js';
import type { Hex } from '../../core/hex.js';

export type ProcessState = 'running' | 'stopped';

/** The local chain of a network: one anvil, its state in `<dir>/chain`. */
export interface NetworkAnvil {
  pid: number | null;
  port: number;
  rpcUrl: string;
  chainId: number;
  log: string;
  state: ProcessState;
}

/** One gateway of a network. `token` is its admin API token (CARELEDGER_API_TOKEN). */
export interface NetworkOrganization {
  name: string;
  roles: string[];
  address: Hex;
  port: number;
  url: string;
  token: string;
  dataDir: string;
  log: string;
  pid: number | null;
  state: ProcessState;
}

/** `<dir>/network.json`: what `careledger network up` started, for `status` and `down` from any shell. */
export interface NetworkFile {
  version: 1;
  dir: string;
  basePort: number;
  anvil: NetworkAnvil;
  /**
   * The founder's contracts, as its /health lists them; `recordLocator` and `supplyChainRegistry` are absent in
   * files of older versions.
   */
  contracts: {
    organizationRegistry: Hex;
    anchorRegistry: Hex;
    consentRegistry: Hex;
    recordLocator?: Hex;
    supplyChainRegistry?: Hex;
  } | null;
  organizations: NetworkOrganization[];
  updatedAt: string;
}

export const NETWORK_FILE = 'network.json';

export function networkFilePath(dir: string): string {
  return join(dir, NETWORK_FILE);
}

/** The network file of `dir`, or undefined when there is none. */
export function readNetworkFile(dir: string): NetworkFile | undefined {
  const file = networkFilePath(dir);
  if (!existsSync(file)) return undefined;
  let parsed: NetworkFile;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as NetworkFile;
  } catch (cause) {
    throw new ConfigurationError('NETWORK.FILE_CORRUPT', `${file} is not valid JSON.`, { cause });
  }
  if (parsed?.version !== 1 || !parsed.anvil || !Array.isArray(parsed.organizations)) {
    throw new ConfigurationError('NETWORK.FILE_CORRUPT', `${file} is not a CareLedger network file.`);
  }
  return parsed;
}

/** Writes the network file atomically, owner-only (0600): it holds every gateway's admin token. */
export function writeNetworkFile(dir: string, network: NetworkFile): void {
  const file = networkFilePath(dir);
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, `${JSON.stringify({ ...network, updatedAt: new Date().toISOString() }, null, 2)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}
