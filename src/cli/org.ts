import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createPublicClient, http, type Chain, type PublicClient, type Transport } from 'viem';
import { CareLedgerError, InvalidInputError, UnavailableError } from '../core/errors.js';
import { isHex, toHex, type Hex } from '../core/hex.js';
import {
  createChainClients,
  describeChain,
  fetchChainId,
  type ChainClients,
} from '../ledger/chainClients.js';
import { decodeOrganizationError, isOrganizationRegistryRefusal } from '../ledger/decodeOrganizationError.js';
import { organizationRegistryAbi } from '../ledger/generated/contracts.js';
import { maskToRoles, rolesToMask } from '../ledger/organizationRoles.js';
import { secp256k1PrivateKeyIsValid } from '../keys/secp256k1.js';
import { openDatabase } from '../store/sqlite/openDatabase.js';
import { SqliteAnchorStore } from '../store/sqlite/sqliteAnchorStore.js';
import { readNetworkFile } from './network/networkFile.js';

/** Where the consortium admin operations go and with which key. */
export interface OrgConnectionOptions {
  /** Chain JSON-RPC URL (default CHAIN_RPC_URL, the network's anvil with --network, else the embedded anvil). */
  rpc?: string;
  /** The admin's chain key: a file holding it, or the 0x hex itself (default: <data>/keys/org-chain.key). */
  key?: string;
  /** The OrganizationRegistry address (default CARELEDGER_ORG_REGISTRY, else the founding node's database). */
  registry?: string;
  /** The founding node's data folder (default CARELEDGER_DATA or ./data). */
  data?: string;
  /** A local consortium folder (`careledger network up`): its anvil, its founder's key and the registry. */
  network?: string;
  json?: boolean;
}

export interface OrgAdmitOptions extends OrgConnectionOptions {
  address: string;
  name: string;
  roles: string;
  url?: string;
  encryptionKey?: string;
}

export interface OrgSuspendOptions extends OrgConnectionOptions {
  address: string;
  reason?: string;
}

export interface OrgReinstateOptions extends OrgConnectionOptions {
  address: string;
}

export type OrganizationStatus = 'active' | 'suspended';

/** One member of the consortium as the OrganizationRegistry holds it. */
export interface OrganizationEntry {
  address: Hex;
  name: string;
  status: OrganizationStatus;
  roles: string[];
  rolesMask: number;
  gatewayUrl: string;
  encryptionPublicKey: Hex;
  admittedAt: string;
  updatedAt: string;
}

type ReadClient = PublicClient<Transport, Chain>;

interface Target {
  rpcUrl: string;
  registry: Hex;
  publicClient: ReadClient;
  /** Only when a key was needed. */
  clients?: ChainClients;
}

// ---------------------------------------------------------------------------------------------------------------
// Validation of the options (before anything touches the chain)

export function parseAddress(value: string | undefined, option = '--address'): Hex {
  if (!value || !isHex(value, 20)) {
    throw new InvalidInputError(
      'ORGANIZATION.INVALID_ADDRESS',
      `${option} must be a 0x-prefixed 20-byte address, got ${JSON.stringify(value ?? '')}.`,
    );
  }
  return value.toLowerCase() as Hex;
}

/** "PROVIDER,PAYER" (any case, spaces allowed) → the roles mask; an unknown or missing role is an error. */
export function parseRoles(value: string | undefined): number {
  const names = (value ?? '')
    .split(',')
    .map((r) => r.trim().toUpperCase())
    .filter(Boolean);
  if (names.length === 0) {
    throw new InvalidInputError('ORGANIZATION.NO_ROLES', '--roles needs at least one role, e.g. PROVIDER.');
  }
  return rolesToMask(names);
}

export function parseGatewayUrl(value: string | undefined): string {
  if (value === undefined || value === '') return '';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    url = new URL('invalid:');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidInputError(
      'ORGANIZATION.INVALID_URL',
      `--url must be the gateway's http(s) URL, got ${JSON.stringify(value)}.`,
    );
  }
  return value;
}

/** The organisation's X25519 public key (32 bytes of 0x hex), or empty when not given. */
export function parseEncryptionKey(value: string | undefined): Hex {
  if (value === undefined || value === '') return '0x';
  if (!isHex(value, 32)) {
    throw new InvalidInputError(
      'ORGANIZATION.INVALID_ENCRYPTION_KEY',
      `--encryption-key must be the organisation's X25519 public key as 32 bytes of 0x hex, got ${JSON.stringify(value.slice(0, 80))}.`,
    );
  }
  return value.toLowerCase() as Hex;
}

/** The admin key from --key (hex or a file), CARELEDGER_ORG_KEY, or <data>/keys/org-chain.key. */
function resolveKey(options: OrgConnectionOptions, dataDir: string): Hex {
  let raw: string | undefined;
  let from: string;
  if (options.key) {
    const direct = options.key.startsWith('0x') ? options.key : `0x${options.key}`;
    if (isHex(direct, 32)) {
      raw = direct;
      from = '--key';
    } else {
      if (!existsSync(options.key)) {
        throw new InvalidInputError(
          'ORGANIZATION.KEY_MISSING',
          `--key is neither 32 bytes of hex nor an existing key file: ${options.key}`,
        );
      }
      raw = readFileSync(options.key, 'utf8').trim();
      from = options.key;
    }
  } else if (process.env.CARELEDGER_ORG_KEY) {
    raw = process.env.CARELEDGER_ORG_KEY;
    from = 'CARELEDGER_ORG_KEY';
  } else {
    const file = join(dataDir, 'keys', 'org-chain.key');
    if (!existsSync(file)) {
      throw new InvalidInputError(
        'ORGANIZATION.KEY_MISSING',
        `No admin key: pass --key, set CARELEDGER_ORG_KEY, or point --data at the founding node's folder (no ${file}).`,
      );
    }
    raw = readFileSync(file, 'utf8').trim();
    from = file;
  }
  const key = (raw.startsWith('0x') ? raw : `0x${raw}`).toLowerCase();
  if (!isHex(key, 32) || !secp256k1PrivateKeyIsValid(key as Hex)) {
    // never echo key material
    throw new InvalidInputError('ORGANIZATION.INVALID_KEY', `The key from ${from} is not a valid chain key.`);
  }
  return key as Hex;
}

/** The registry address the founding node deployed on `chainId`, from its database. */
function registryFromDatabase(dataDir: string, chainId: number): Hex | undefined {
  const file = join(dataDir, 'careledger.db');
  if (!existsSync(file)) return undefined;
  const db = openDatabase(file, { readonly: true });
  try {
    const remembered = new SqliteAnchorStore(db).getMeta(`deployment:${chainId}`);
    if (!remembered) return undefined;
    const address = (JSON.parse(remembered) as { organizationRegistry?: string }).organizationRegistry;
    return isHex(address, 20) ? address : undefined;
  } finally {
    db.close();
  }
}

async function resolveTarget(options: OrgConnectionOptions, needKey: boolean): Promise<Target> {
  let dataDir = resolve(options.data ?? process.env.CARELEDGER_DATA ?? './data');
  let rpcUrl = options.rpc ?? process.env.CHAIN_RPC_URL;
  let registry = options.registry ?? process.env.CARELEDGER_ORG_REGISTRY;
  if (options.network) {
    const network = readNetworkFile(resolve(options.network));
    if (!network) {
      throw new InvalidInputError(
        'NETWORK.NOT_FOUND',
        `No network.json in ${resolve(options.network)}; run "careledger network up" first.`,
      );
    }
    rpcUrl = options.rpc ?? network.anvil.rpcUrl;
    const founder = network.organizations[0];
    if (!options.data && founder) dataDir = founder.dataDir;
    registry = options.registry ?? network.contracts?.organizationRegistry;
  }
  rpcUrl ??= `http://127.0.0.1:${process.env.ANVIL_PORT || 8545}`;
  if (!/^https?:\/\/\S+$/.test(rpcUrl)) {
    throw new InvalidInputError('ORGANIZATION.INVALID_RPC', `--rpc must be an http(s) URL, got "${rpcUrl}".`);
  }
  if (registry !== undefined) registry = parseAddress(registry, '--registry');
  const key = needKey ? resolveKey(options, dataDir) : undefined;

  let chainId: number;
  try {
    chainId = await fetchChainId(rpcUrl);
  } catch (cause) {
    throw new UnavailableError('CHAIN.UNREACHABLE', `The chain at ${rpcUrl} does not answer.`, { cause });
  }
  registry ??= registryFromDatabase(dataDir, chainId);
  if (!registry) {
    throw new InvalidInputError(
      'ORGANIZATION.REGISTRY_UNKNOWN',
      `Which OrganizationRegistry? Pass --registry, set CARELEDGER_ORG_REGISTRY, or point --data at the founding ` +
        `node's folder (${dataDir} has no deployment for chain ${chainId}).`,
    );
  }
  const chain = describeChain(chainId, rpcUrl);
  const publicClient = createPublicClient({ chain, transport: http(rpcUrl), pollingInterval: 100 });
  const code = await publicClient.getCode({ address: registry as Hex });
  if (code === undefined || code === '0x') {
    throw new InvalidInputError(
      'ORGANIZATION.REGISTRY_MISSING',
      `No contract at ${registry} on chain ${chainId} (${rpcUrl}).`,
    );
  }
  return {
    rpcUrl,
    registry: registry as Hex,
    publicClient,
    ...(key ? { clients: createChainClients(rpcUrl, chainId, key) } : {}),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Registry operations (also used by `careledger network up`)

export interface AdmitParameters {
  address: Hex;
  name: string;
  roles: number;
  gatewayUrl: string;
  encryptionPublicKey: Hex | Uint8Array;
}

async function send(
  clients: ChainClients,
  registry: Hex,
  call:
    | { functionName: 'admit'; args: readonly [Hex, string, number, string, Hex] }
    | { functionName: 'suspend'; args: readonly [Hex, string] }
    | { functionName: 'reinstate'; args: readonly [Hex] },
): Promise<Hex> {
  try {
    const hash = await clients.walletClient.writeContract({
      address: registry,
      abi: organizationRegistryAbi,
      ...call,
    } as Parameters<typeof clients.walletClient.writeContract>[0]);
    const receipt = await clients.publicClient.waitForTransactionReceipt({ hash });
    if (receipt.status !== 'success') {
      throw new CareLedgerError(
        'ORGANIZATION.REVERTED',
        `The ${call.functionName} transaction ${hash} reverted.`,
      );
    }
    return hash;
  } catch (error) {
    throw decodeOrganizationError(error);
  }
}

export function admitOrganization(clients: ChainClients, registry: Hex, p: AdmitParameters): Promise<Hex> {
  const key =
    typeof p.encryptionPublicKey === 'string' ? p.encryptionPublicKey : toHex(p.encryptionPublicKey);
  return send(clients, registry, {
    functionName: 'admit',
    args: [p.address, p.name, p.roles, p.gatewayUrl, key],
  });
}

export function suspendOrganization(
  clients: ChainClients,
  registry: Hex,
  address: Hex,
  reason: string,
): Promise<Hex> {
  return send(clients, registry, { functionName: 'suspend', args: [address, reason] });
}

export function reinstateOrganization(clients: ChainClients, registry: Hex, address: Hex): Promise<Hex> {
  return send(clients, registry, { functionName: 'reinstate', args: [address] });
}

/** One organisation, or undefined when it was never admitted. */
export async function readOrganization(
  client: ReadClient,
  registry: Hex,
  address: Hex,
): Promise<OrganizationEntry | undefined> {
  try {
    const o = await client.readContract({
      address: registry,
      abi: organizationRegistryAbi,
      functionName: 'getOrganization',
      args: [address],
    });
    return {
      address: address.toLowerCase() as Hex,
      name: o.name,
      status: o.status === 1 ? 'active' : 'suspended',
      roles: maskToRoles(o.roles),
      rolesMask: o.roles,
      gatewayUrl: o.gatewayUrl,
      encryptionPublicKey: o.encryptionPublicKey,
      admittedAt: new Date(Number(o.admittedAt) * 1000).toISOString(),
      updatedAt: new Date(Number(o.updatedAt) * 1000).toISOString(),
    };
  } catch (error) {
    const decoded = decodeOrganizationError(error);
    if (decoded instanceof CareLedgerError && decoded.code === 'ORGANIZATION.UNKNOWN') return undefined;
    throw decoded;
  }
}

/** Every organisation ever admitted, in admission order, with its status. */
export async function listOrganizations(client: ReadClient, registry: Hex): Promise<OrganizationEntry[]> {
  const count = await client.readContract({
    address: registry,
    abi: organizationRegistryAbi,
    functionName: 'organizationCount',
  });
  const entries: OrganizationEntry[] = [];
  for (let i = 0n; i < count; i++) {
    const address = await client.readContract({
      address: registry,
      abi: organizationRegistryAbi,
      functionName: 'organizationAt',
      args: [i],
    });
    const entry = await readOrganization(client, registry, address);
    if (entry) entries.push(entry);
  }
  return entries;
}

// ---------------------------------------------------------------------------------------------------------------
// Commands. Exit 0 when done, 1 when the registry refuses, 2 on other errors (options, key, chain).

async function run(action: () => Promise<void>): Promise<number> {
  try {
    await action();
    return 0;
  } catch (error) {
    const decoded = decodeOrganizationError(error);
    if (decoded instanceof CareLedgerError) {
      console.error(`careledger: ${decoded.message}`);
      return isOrganizationRegistryRefusal(decoded) && decoded.details?.error !== undefined ? 1 : 2;
    }
    console.error(`careledger: ${decoded instanceof Error ? decoded.message : String(decoded)}`);
    return 2;
  }
}

function needClients(target: Target): ChainClients {
  if (!target.clients) throw new Error('internal: no key resolved');
  return target.clients;
}

/** `careledger org admit`: admits an organisation with its name, roles, gateway URL and encryption key. */
export function orgAdmitCommand(options: OrgAdmitOptions): Promise<number> {
  return run(async () => {
    const address = parseAddress(options.address);
    const roles = parseRoles(options.roles);
    const gatewayUrl = parseGatewayUrl(options.url);
    const encryptionPublicKey = parseEncryptionKey(options.encryptionKey);
    const name = options.name?.trim();
    if (!name) throw new InvalidInputError('ORGANIZATION.EMPTY_NAME', '--name must not be empty.');
    const target = await resolveTarget(options, true);
    const transaction = await admitOrganization(needClients(target), target.registry, {
      address,
      name,
      roles,
      gatewayUrl,
      encryptionPublicKey,
    });
    report(options, { action: 'admitted', address, transaction, registry: target.registry }, () =>
      console.log(
        `Admitted ${name} (${address}) as ${maskToRoles(roles).join(',')}` +
          `${gatewayUrl ? `, gateway ${gatewayUrl}` : ''}; transaction ${transaction}.`,
      ),
    );
  });
}

/** `careledger org suspend`: the organisation can no longer anchor, relay consents or read under consent. */
export function orgSuspendCommand(options: OrgSuspendOptions): Promise<number> {
  return run(async () => {
    const address = parseAddress(options.address);
    const target = await resolveTarget(options, true);
    const reason = options.reason ?? '';
    const transaction = await suspendOrganization(needClients(target), target.registry, address, reason);
    report(options, { action: 'suspended', address, reason, transaction, registry: target.registry }, () =>
      console.log(`Suspended ${address}${reason ? ` (${reason})` : ''}; transaction ${transaction}.`),
    );
  });
}

/** `careledger org reinstate`: a suspended organisation becomes active again. */
export function orgReinstateCommand(options: OrgReinstateOptions): Promise<number> {
  return run(async () => {
    const address = parseAddress(options.address);
    const target = await resolveTarget(options, true);
    const transaction = await reinstateOrganization(needClients(target), target.registry, address);
    report(options, { action: 'reinstated', address, transaction, registry: target.registry }, () =>
      console.log(`Reinstated ${address}; transaction ${transaction}.`),
    );
  });
}

/** `careledger org list`: every member with status, roles and gateway URL. */
export function orgListCommand(options: OrgConnectionOptions): Promise<number> {
  return run(async () => {
    const target = await resolveTarget(options, false);
    const organizations = await listOrganizations(target.publicClient, target.registry);
    if (options.json) {
      console.log(JSON.stringify({ registry: target.registry, organizations }, null, 2));
      return;
    }
    console.log(
      `OrganizationRegistry ${target.registry} on ${target.rpcUrl}: ${organizations.length} member(s)`,
    );
    printTable(
      ['address', 'name', 'status', 'roles', 'gateway', 'encryption key'],
      organizations.map((o) => [
        o.address,
        o.name,
        o.status,
        o.roles.join(','),
        o.gatewayUrl || '-',
        o.encryptionPublicKey === '0x' ? '-' : `${o.encryptionPublicKey.slice(0, 10)}…`,
      ]),
    );
  });
}

function report(options: { json?: boolean }, result: Record<string, unknown>, text: () => void): void {
  if (options.json) console.log(JSON.stringify(result, null, 2));
  else text();
}

/** Prints rows as aligned columns. */
export function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  console.log(line(header));
  for (const row of rows) console.log(line(row));
}
