import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createTestClient, http, parseEther } from 'viem';
import { privateKeyToAddress } from 'viem/accounts';
import { CareLedgerError, ConflictError, InvalidInputError, UnavailableError } from '../../core/errors.js';
import { toHex, type Hex } from '../../core/hex.js';
import { loadOrCreateKeys } from '../../keys/loadOrCreateKeys.js';
import { organizationEncryptionPublicKey } from '../../keys/organizationEncryptionKey.js';
import { anvilBinaryPath } from '../../ledger/anvil/anvilBinary.js';
import { createChainClients, describeChain } from '../../ledger/chainClients.js';
import { rolesToMask, type OrganizationRole } from '../../ledger/organizationRoles.js';
import { admitOrganization, printTable, readOrganization } from '../org.js';
import {
  readNetworkFile,
  writeNetworkFile,
  type NetworkFile,
  type NetworkOrganization,
} from './networkFile.js';
import {
  careledgerLauncher,
  isAlive,
  isNetworkProcess,
  logTail,
  portIsFree,
  sleep,
  spawnDetached,
  stopProcess,
} from './processes.js';

export interface NetworkUpOptions {
  /** How many gateways (1–20); default 3, or as many as the existing network has. */
  orgs?: string | number;
  dir?: string;
  /** Anvil listens on base-port, gateway k on base-port + k. Default 9545 (or the existing network's). */
  basePort?: string | number;
  json?: boolean;
  /** How long to wait for each gateway to answer /health (ms). */
  readyTimeoutMs?: number;
}

export interface NetworkDownOptions {
  dir?: string;
  purge?: boolean;
  /** How long each process gets after SIGTERM before SIGKILL (ms). */
  graceMs?: number;
  json?: boolean;
}

export interface NetworkStatusOptions {
  dir?: string;
  json?: boolean;
}

export const DEFAULT_NETWORK_DIR = './network';
export const DEFAULT_BASE_PORT = 9545;
export const MAX_ORGS = 20;
const CHAIN_ID = 31_337;

/** Names and roles of the first gateways; later ones are `org-<k>` providers. */
const PRESETS: { name: string; roles: OrganizationRole[] }[] = [
  { name: 'hospital', roles: ['PROVIDER'] },
  { name: 'clinic', roles: ['PROVIDER'] },
  { name: 'insurer', roles: ['PAYER'] },
];

function preset(k: number): { name: string; roles: OrganizationRole[] } {
  return PRESETS[k - 1] ?? { name: `org-${k}`, roles: ['PROVIDER'] };
}

function wholeNumber(value: string | number | undefined, option: string, min: number, max: number) {
  if (value === undefined) return undefined;
  const text = String(value).trim();
  const n = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new InvalidInputError(
      'NETWORK.INVALID_OPTION',
      `${option} must be a whole number from ${min} to ${max}, got ${JSON.stringify(String(value))}.`,
    );
  }
  return n;
}

/** Processes of `network` that are still running (checked by pid and identity, not by the file's word). */
export function liveProcesses(network: NetworkFile): { name: string; pid: number }[] {
  const live: { name: string; pid: number }[] = [];
  if (isNetworkProcess(network.anvil.pid, anvilStateFile(network.dir))) {
    live.push({ name: 'anvil', pid: network.anvil.pid as number });
  }
  for (const o of network.organizations) {
    if (isNetworkProcess(o.pid, `CARELEDGER_DATA=${o.dataDir}`))
      live.push({ name: o.name, pid: o.pid as number });
  }
  return live;
}

const anvilStateFile = (dir: string) => join(dir, 'chain', 'anvil-state.json');

/** The environment of a gateway: this one's, minus any CareLedger or chain settings, plus the gateway's own. */
function gatewayEnvironment(settings: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (/^(CARELEDGER_|CHAIN_|ANVIL_|PORT$|HOST$)/.test(name)) continue;
    env[name] = value;
  }
  return { ...env, ...settings };
}

/** Waits until `url/health` answers 200 with status ok; fails early if the process exits. */
async function waitForHealth(
  org: NetworkOrganization,
  exited: Promise<unknown>,
  timeoutMs: number,
): Promise<Record<string, unknown>> {
  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (gone || !isAlive(org.pid)) {
      throw new UnavailableError(
        'NETWORK.GATEWAY_EXITED',
        `Gateway ${org.name} exited during start-up; the end of ${org.log}:\n${logTail(org.log)}`,
      );
    }
    try {
      const res = await fetch(`${org.url}/health`, { signal: AbortSignal.timeout(2_000) });
      if (res.ok) {
        const body = (await res.json()) as Record<string, unknown>;
        if (body.status === 'ok') return body;
      }
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      throw new UnavailableError(
        'NETWORK.GATEWAY_TIMEOUT',
        `Gateway ${org.name} did not answer ${org.url}/health within ${timeoutMs} ms; the end of ${org.log}:\n${logTail(org.log)}`,
      );
    }
    await sleep(100);
  }
}

async function waitForRpc(rpcUrl: string, exited: Promise<unknown>, log: string): Promise<void> {
  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (gone)
      throw new UnavailableError('NETWORK.ANVIL_EXITED', `anvil exited during start-up:\n${logTail(log)}`);
    try {
      const res = await fetch(rpcUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
        signal: AbortSignal.timeout(1_000),
      });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      throw new UnavailableError('NETWORK.ANVIL_TIMEOUT', `anvil did not answer on ${rpcUrl} within 30 s.`);
    }
    await sleep(50);
  }
}

/**
 * `careledger network up`: a local consortium in one folder. One anvil (state in `<dir>/chain`), then gateway 1
 * (the founder: deploys the registries, is consortium admin), then gateways 2..N, each admitted by the founder
 * with its name, roles, URL and encryption key before it starts. Every process is detached (logs in
 * `<dir>/<name>.log`), so this returns once every gateway answers /health; `<dir>/network.json` (0600: it holds
 * the admin tokens) records what runs. Run again after `down`, it resumes on the same data.
 */
export async function networkUp(options: NetworkUpOptions): Promise<NetworkFile> {
  const dir = resolve(options.dir ?? DEFAULT_NETWORK_DIR);
  const requestedOrgs = wholeNumber(options.orgs, '--orgs', 1, MAX_ORGS);
  const requestedBase = wholeNumber(options.basePort, '--base-port', 1_024, 65_535 - MAX_ORGS);
  const previous = readNetworkFile(dir);
  if (previous) {
    const live = liveProcesses(previous);
    if (live.length > 0) {
      throw new ConflictError(
        'NETWORK.ALREADY_RUNNING',
        `The network in ${dir} is running (${live.map((p) => `${p.name} pid ${p.pid}`).join(', ')}); ` +
          `run "careledger network down --dir ${dir}" first.`,
      );
    }
  }
  const count = requestedOrgs ?? Math.max(previous?.organizations.length ?? 0, 3);
  if (previous && count < previous.organizations.length) {
    throw new InvalidInputError(
      'NETWORK.INVALID_OPTION',
      `The network in ${dir} has ${previous.organizations.length} organisations; --orgs cannot remove any ` +
        `(use --orgs ${previous.organizations.length} or more, or "network down --purge" to start afresh).`,
    );
  }
  const basePort = requestedBase ?? previous?.basePort ?? DEFAULT_BASE_PORT;
  const readyTimeoutMs = options.readyTimeoutMs ?? 90_000;

  // The plan: every port, folder, key and token, before anything starts.
  const rpcUrl = `http://127.0.0.1:${basePort}`;
  const organizations: NetworkOrganization[] = [];
  const masterKeys = new Map<string, Hex>();
  const chainKeys = new Map<string, Hex>();
  for (let k = 1; k <= count; k++) {
    const before = previous?.organizations[k - 1];
    const { name, roles } = before ?? preset(k);
    const port = basePort + k;
    organizations.push({
      name,
      roles,
      address: '0x',
      port,
      url: `http://127.0.0.1:${port}`,
      token: before?.token ?? randomBytes(32).toString('hex'),
      dataDir: join(dir, `org-${k}`),
      log: join(dir, `${name}.log`),
      pid: null,
      state: 'stopped',
    });
  }
  for (const port of [basePort, ...organizations.map((o) => o.port)]) {
    if (!(await portIsFree(port))) {
      throw new ConflictError(
        'NETWORK.PORT_IN_USE',
        `Port ${port} on 127.0.0.1 is in use; pick another --base-port (anvil uses base-port, gateway k base-port+k).`,
      );
    }
  }
  const launcher = careledgerLauncher();
  const anvilBinary = anvilBinaryPath();

  mkdirSync(join(dir, 'chain'), { recursive: true, mode: 0o700 });
  for (const org of organizations) {
    // The node's own key files (0600 in <data>/keys): created here so the founder can admit the member first.
    const keys = loadOrCreateKeys({ dataDir: org.dataDir });
    chainKeys.set(org.name, keys.chainKey);
    masterKeys.set(org.name, keys.masterKey);
    org.address = privateKeyToAddress(keys.chainKey).toLowerCase() as Hex;
  }

  const network: NetworkFile = {
    version: 1,
    dir,
    basePort,
    anvil: {
      pid: null,
      port: basePort,
      rpcUrl,
      chainId: CHAIN_ID,
      log: join(dir, 'anvil.log'),
      state: 'stopped',
    },
    contracts: previous?.contracts ?? null,
    organizations,
    updatedAt: '',
  };
  const save = () => writeNetworkFile(dir, network);
  const writePid = (name: string, pid: number) => writeFileSync(join(dir, `${name}.pid`), `${pid}\n`);
  save();

  try {
    const anvil = spawnDetached(
      anvilBinary,
      [
        '--host',
        '127.0.0.1',
        '--port',
        String(basePort),
        '--chain-id',
        String(CHAIN_ID),
        '--state',
        anvilStateFile(dir),
        '--state-interval',
        '1',
        '--silent',
      ],
      { cwd: dir, env: process.env, logFile: network.anvil.log },
    );
    network.anvil.pid = anvil.pid;
    network.anvil.state = 'running';
    writePid('anvil', anvil.pid);
    save();
    await waitForRpc(rpcUrl, anvil.exited, network.anvil.log);

    // Every organisation account gets ether from anvil (it has no faucet); like the embedded chain's funding.
    const chain = describeChain(CHAIN_ID, rpcUrl);
    const test = createTestClient({ mode: 'anvil', chain, transport: http(rpcUrl) });
    for (const org of organizations) {
      await test.setBalance({ address: org.address, value: parseEther('1000000') });
    }

    const startGateway = (org: NetworkOrganization, extra: Record<string, string>) => {
      const env = gatewayEnvironment({
        CARELEDGER_DATA: org.dataDir,
        HOST: '127.0.0.1',
        PORT: String(org.port),
        CARELEDGER_GATEWAY_URL: org.url,
        CARELEDGER_ORG_NAME: org.name,
        CARELEDGER_ORG_ROLES: org.roles.join(','),
        CARELEDGER_API_TOKEN: org.token,
        CHAIN_RPC_URL: rpcUrl,
        // On an external chain the node takes its key from configuration; it is the one in <data>/keys.
        CARELEDGER_ORG_KEY: chainKeys.get(org.name) as string,
        LOG_LEVEL: process.env.LOG_LEVEL || 'info',
        ...extra,
      });
      const started = spawnDetached(process.execPath, [...launcher.args, 'start'], {
        cwd: launcher.cwd,
        env,
        logFile: org.log,
      });
      org.pid = started.pid;
      org.state = 'running';
      writePid(org.name, started.pid);
      save();
      return started.exited;
    };

    // The founder deploys the registries (or finds those it deployed) and admits itself as consortium admin.
    const founder = organizations[0] as NetworkOrganization;
    const founderHealth = await waitForHealth(founder, startGateway(founder, {}), readyTimeoutMs);
    const contracts = founderHealth.contracts as NonNullable<NetworkFile['contracts']>;
    network.contracts = contracts;
    save();
    const { recordLocator, supplyChainRegistry } = contracts;
    if (!recordLocator || !supplyChainRegistry) {
      // Members need all five addresses; a founder that lists fewer runs an older build.
      const absent = !recordLocator ? 'RecordLocator' : 'SupplyChainRegistry';
      throw new UnavailableError(
        'NETWORK.CONTRACTS_INCOMPLETE',
        `Gateway ${founder.name} lists no ${absent} on ${founder.url}/health, so the other gateways cannot be ` +
          `configured; rebuild CareLedger ("npm run build") and run "network up" again.`,
      );
    }

    // Members are admitted before they start, with the address and encryption key of their generated keys.
    const admin = createChainClients(rpcUrl, CHAIN_ID, chainKeys.get(founder.name) as Hex);
    for (const org of organizations.slice(1)) {
      const known = await readOrganization(admin.publicClient, contracts.organizationRegistry, org.address);
      if (known) continue; // admitted before (and perhaps suspended since: that is the admin's decision)
      await admitOrganization(admin, contracts.organizationRegistry, {
        address: org.address,
        name: org.name,
        roles: rolesToMask(org.roles),
        gatewayUrl: org.url,
        encryptionPublicKey: toHex(organizationEncryptionPublicKey(masterKeys.get(org.name) as Hex)),
      });
    }
    await Promise.all(
      organizations.slice(1).map((org) =>
        waitForHealth(
          org,
          startGateway(org, {
            CARELEDGER_ORG_REGISTRY: contracts.organizationRegistry,
            CARELEDGER_ANCHOR_REGISTRY: contracts.anchorRegistry,
            CARELEDGER_CONSENT_REGISTRY: contracts.consentRegistry,
            CARELEDGER_RECORD_LOCATOR: recordLocator,
            CARELEDGER_SUPPLY_CHAIN_REGISTRY: supplyChainRegistry,
          }),
          readyTimeoutMs,
        ),
      ),
    );
    save();
    if (options.json) {
      console.log(JSON.stringify(redacted(network), null, 2));
    } else {
      console.log(
        `CareLedger network in ${dir}: anvil ${rpcUrl} (pid ${network.anvil.pid}), chain ${CHAIN_ID}`,
      );
      console.log(`OrganizationRegistry ${contracts.organizationRegistry}`);
      printTable(
        ['name', 'roles', 'address', 'gateway', 'pid', 'log'],
        organizations.map((o) => [o.name, o.roles.join(','), o.address, o.url, String(o.pid), o.log]),
      );
      console.log(`Admin API tokens are in ${join(dir, 'network.json')} (mode 0600).`);
      console.log(`Stop with: careledger network down --dir ${dir}`);
    }
    return network;
  } catch (error) {
    // Nothing half-started stays behind: stop what this run started, keep the data for the next attempt.
    await stopAll(network, 5_000);
    save();
    throw error;
  }
}

/** The network description without the admin tokens, for printing. */
function redacted(network: NetworkFile): NetworkFile {
  return {
    ...network,
    organizations: network.organizations.map((o) => ({ ...o, token: '(in network.json)' })),
  };
}

/** Stops the gateways (in parallel), then anvil (SIGTERM makes it dump its state); marks them stopped. */
async function stopAll(network: NetworkFile, graceMs: number): Promise<{ name: string; result: string }[]> {
  const results = await Promise.all(
    network.organizations.map(async (o) => {
      const result = isNetworkProcess(o.pid, `CARELEDGER_DATA=${o.dataDir}`)
        ? await stopProcess(o.pid, graceMs)
        : 'not running';
      o.state = 'stopped';
      rmSync(join(network.dir, `${o.name}.pid`), { force: true });
      return { name: o.name, result };
    }),
  );
  const anvil = network.anvil;
  const anvilResult = isNetworkProcess(anvil.pid, anvilStateFile(network.dir))
    ? await stopProcess(anvil.pid, graceMs)
    : 'not running';
  anvil.state = 'stopped';
  rmSync(join(network.dir, 'anvil.pid'), { force: true });
  return [...results, { name: 'anvil', result: anvilResult }];
}

/** `careledger network down`: stops every process of the network; keeps the data unless `--purge`. */
export async function networkDown(options: NetworkDownOptions): Promise<NetworkFile> {
  const dir = resolve(options.dir ?? DEFAULT_NETWORK_DIR);
  const network = readNetworkFile(dir);
  if (!network) {
    throw new InvalidInputError('NETWORK.NOT_FOUND', `No network.json in ${dir}; nothing to stop.`);
  }
  const results = await stopAll(network, options.graceMs ?? 20_000);
  if (options.purge) rmSync(dir, { recursive: true, force: true });
  else writeNetworkFile(dir, network);
  if (options.json) {
    console.log(JSON.stringify({ dir, purged: Boolean(options.purge), processes: results }, null, 2));
  } else {
    printTable(
      ['process', 'result'],
      results.map((r) => [r.name, r.result]),
    );
    console.log(
      options.purge ? `Deleted ${dir}.` : `Data kept in ${dir}; "network up --dir ${dir}" resumes.`,
    );
  }
  return network;
}

export interface ProcessStatus {
  name: string;
  pid: number | null;
  alive: boolean;
  url: string;
  health: string;
}

/** `careledger network status`: each process alive or not, each gateway's /health. */
export async function networkStatus(options: NetworkStatusOptions): Promise<ProcessStatus[]> {
  const dir = resolve(options.dir ?? DEFAULT_NETWORK_DIR);
  const network = readNetworkFile(dir);
  if (!network) throw new InvalidInputError('NETWORK.NOT_FOUND', `No network.json in ${dir}.`);
  const rows: ProcessStatus[] = [
    {
      name: 'anvil',
      pid: network.anvil.pid,
      alive: isNetworkProcess(network.anvil.pid, anvilStateFile(dir)),
      url: network.anvil.rpcUrl,
      health: '-',
    },
  ];
  for (const o of network.organizations) {
    const alive = isNetworkProcess(o.pid, `CARELEDGER_DATA=${o.dataDir}`);
    let health = 'down';
    if (alive) {
      try {
        const res = await fetch(`${o.url}/health`, { signal: AbortSignal.timeout(2_000) });
        health = res.ok
          ? String(((await res.json()) as { status?: string }).status ?? 'ok')
          : `HTTP ${res.status}`;
      } catch {
        health = 'no answer';
      }
    }
    rows.push({ name: o.name, pid: o.pid, alive, url: o.url, health });
  }
  if (options.json) {
    console.log(JSON.stringify({ dir, processes: rows }, null, 2));
  } else {
    printTable(
      ['process', 'pid', 'alive', 'url', 'health'],
      rows.map((r) => [r.name, String(r.pid ?? '-'), r.alive ? 'yes' : 'no', r.url, r.health]),
    );
  }
  return rows;
}

/** Runs a network command for the CLI: exit 0 when done, 2 with a one-line reason otherwise. */
export async function runNetworkCommand(action: () => Promise<unknown>): Promise<number> {
  try {
    await action();
    return 0;
  } catch (error) {
    console.error(
      `careledger: ${error instanceof CareLedgerError || error instanceof Error ? error.message : String(error)}`,
    );
    return 2;
  }
}

/** `network status` exit code: 0 when every process runs and every gateway is healthy, else 1. */
export async function networkStatusCommand(options: NetworkStatusOptions): Promise<number> {
  try {
    const rows = await networkStatus(options);
    return rows.every((r) => r.alive && (r.name === 'anvil' || r.health === 'ok')) ? 0 : 1;
  } catch (error) {
    console.error(`careledger: ${error instanceof Error ? error.message : String(error)}`);
    return 2;
  }
}
