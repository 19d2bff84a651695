import { createServer, type Server } from 'node:http';
import {
  ContractFunctionRevertedError,
  encodeErrorResult,
  getAddress,
  parseAbi,
  type Abi,
  type AbiParameter,
  type Hex,
} from 'viem';
import { generatePrivateKey, privateKeyToAddress } from 'viem/accounts';
import { expect } from 'vitest';
import { CareLedgerError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/logger.js';
import { createChainClients, type ChainClients } from '../../src/ledger/chainClients.js';
import {
  ensureDeployment,
  missingContracts,
  type ConfiguredContracts,
  type Deployment,
  type DeploymentMemory,
  type OrganizationProfile,
} from '../../src/ledger/ensureDeployment.js';
import { organizationRegistryAbi } from '../../src/ledger/generated/contracts.js';
import { ORGANIZATION_ROLES, rolesToMask } from '../../src/ledger/organizationRoles.js';
import { eventually, rpc, type TestNode } from './inProcessNode.js';
import { freePort, fundedTestKey, startTestAnvil, type TestAnvil } from './testAnvil.js';

/** The chain id of a test anvil. */
export const CHAIN_ID = 31_337;

/** The organisation a test deployment admits first. */
export const testProfile: OrganizationProfile = {
  name: 'St. Example Hospital',
  roles: rolesToMask(['PROVIDER']),
  gatewayUrl: 'https://gw.example.org',
  encryptionPublicKey: new Uint8Array(32).fill(7),
};

/** The store's meta table, in memory. */
export function memoryOf(
  entries: Record<string, string> = {},
): DeploymentMemory & { meta: Map<string, string> } {
  const meta = new Map(Object.entries(entries));
  return { meta, getMeta: (key) => meta.get(key), setMeta: (key, value) => void meta.set(key, value) };
}

/** `memory` holding `deployment` as the test chain's remembered deployment. */
export const rememberingDeployment = (deployment: object) =>
  memoryOf({ [`deployment:${CHAIN_ID}`]: JSON.stringify(deployment) });

/** The deployment `memory` remembers for the test chain (`{}` if none). */
export const rememberedDeployment = (memory: { meta: Map<string, string> }): Deployment =>
  JSON.parse(memory.meta.get(`deployment:${CHAIN_ID}`) ?? '{}') as Deployment;

/** `ensureDeployment` for {@link testProfile} with `clients`, `memory` (empty unless given) and `configured`. */
export function deployWith(
  clients: ChainClients,
  memory: DeploymentMemory = memoryOf(),
  configured?: ConfiguredContracts,
): ReturnType<typeof ensureDeployment> {
  return ensureDeployment({
    clients,
    memory,
    organization: testProfile,
    ...(configured ? { configured } : {}),
    logger: silentLogger,
  });
}

/** An address without code: a patient's pseudonymous address, or where no contract is. */
export const someAddress = (): Hex => privateKeyToAddress(generatePrivateKey());

/** The OrganizationRegistry a bound contract (ConsentRegistry, RecordLocator...) at `address` belongs to. */
export function organizationRegistryOf(clients: ChainClients, address: Hex): Promise<Hex> {
  return clients.publicClient.readContract({
    address,
    abi: parseAbi(['function organizationRegistry() view returns (address)']),
    functionName: 'organizationRegistry',
  });
}

/** The contracts bound to the OrganizationRegistry at deployment, as named in a {@link Deployment}. */
export type BoundContract = 'consentRegistry' | 'recordLocator' | 'supplyChainRegistry';

/**
 * Deploys everything with `clients` into an empty memory and asserts the `key` contract is deployed, bound to the
 * OrganizationRegistry and remembered, and that the next start reuses the remembered deployment. Returns it.
 */
export async function expectDeployedAndRemembered(
  clients: ChainClients,
  key: BoundContract,
): Promise<Deployment & { deployedNow: boolean }> {
  const memory = memoryOf();
  const fresh = await deployWith(clients, memory);
  expect(fresh.deployedNow).toBe(true);
  expect(await missingContracts(clients, fresh)).toEqual([]);
  expect(await organizationRegistryOf(clients, fresh[key])).toBe(getAddress(fresh.organizationRegistry));
  expect(rememberedDeployment(memory)[key]).toBe(fresh[key]);
  expect(await deployWith(clients, memory)).toEqual({ ...fresh, deployedNow: false });
  return fresh;
}

/**
 * With every address of `deployment` configured, asserts the deployment is joined as configured, and that a `key`
 * contract bound to another OrganizationRegistry (one `deployForeign` deploys) is refused with
 * `CHAIN.CONTRACTS_MISMATCH` naming it (`name`, e.g. "RecordLocator"), and an address without code with
 * `CHAIN.CONTRACT_MISSING`.
 */
export async function expectConfiguredContractChecked(
  clients: ChainClients,
  deployment: Deployment,
  key: BoundContract,
  name: string,
  deployForeign: (clients: ChainClients, otherRegistry: Hex) => Promise<Hex>,
): Promise<void> {
  const { organizationRegistry, anchorRegistry, consentRegistry, recordLocator, supplyChainRegistry } =
    deployment;
  const configured = {
    organizationRegistry,
    anchorRegistry,
    consentRegistry,
    recordLocator,
    supplyChainRegistry,
  };
  const joined = await deployWith(clients, memoryOf(), configured);
  expect(joined[key]).toBe(configured[key]);

  const foreign = await deployForeign(clients, anchorRegistry); // bound to the wrong registry
  const mismatch = await rejection(deployWith(clients, memoryOf(), { ...configured, [key]: foreign }));
  expect(mismatch.code).toBe('CHAIN.CONTRACTS_MISMATCH');
  expect(mismatch.message).toContain(`${name} at ${foreign}`);

  const nothing = someAddress();
  const missing = await rejection(deployWith(clients, memoryOf(), { ...configured, [key]: nothing }));
  expect(missing.code).toBe('CHAIN.CONTRACT_MISSING');
  expect(missing.message).toContain(`${key} address ${nothing}`);
}

/** A fresh anvil with the CareLedger contracts deployed by a funded account, which is their consortium admin. */
export interface DeployedChain {
  anvil: TestAnvil;
  /** The deployer's clients. */
  clients: ChainClients;
  deployment: Deployment;
  /** Chain clients for a new funded account, admitted to the consortium (or not) by the deployer. */
  organization(admitted: boolean): Promise<ChainClients>;
  /** Admits, suspends or reinstates `account` as the deployer. */
  setStanding(account: Hex, action: 'admit' | 'suspend' | 'reinstate'): Promise<void>;
  stop(): Promise<void>;
}

export async function startDeployedChain(): Promise<DeployedChain> {
  const anvil = await startTestAnvil();
  const clients = createChainClients(anvil.rpcUrl, CHAIN_ID, await fundedTestKey(anvil.rpcUrl));
  const deployment = await deployWith(clients);
  const setStanding = async (account: Hex, action: 'admit' | 'suspend' | 'reinstate') => {
    const address = deployment.organizationRegistry;
    const abi = organizationRegistryAbi;
    const write = clients.walletClient;
    const hash =
      action === 'admit'
        ? await write.writeContract({
            address,
            abi,
            functionName: 'admit',
            args: [
              account,
              'Community Clinic',
              ORGANIZATION_ROLES.PROVIDER,
              'https://clinic.example.org',
              '0x',
            ],
          })
        : action === 'suspend'
          ? await write.writeContract({ address, abi, functionName: 'suspend', args: [account, 'audit'] })
          : await write.writeContract({ address, abi, functionName: 'reinstate', args: [account] });
    const receipt = await clients.publicClient.waitForTransactionReceipt({ hash });
    expect(receipt.status).toBe('success');
  };
  return {
    anvil,
    clients,
    deployment,
    async organization(admitted) {
      const other = createChainClients(anvil.rpcUrl, CHAIN_ID, await fundedTestKey(anvil.rpcUrl));
      if (admitted) await setStanding(other.account.address, 'admit');
      return other;
    },
    setStanding,
    stop: () => anvil.stop(),
  };
}

/**
 * Takes `key`'s contract away from a node's embedded anvil as a state dumped before it existed would (its code
 * removed, the state written, anvil killed), and resolves with the deployment once the node has redeployed it.
 */
export async function redeployedWithout(
  node: TestNode,
  key: BoundContract,
  name: string,
): Promise<Deployment> {
  const before = node.deployment();
  await rpc(node.rpcUrl, 'anvil_setCode', [before[key], '0x']);
  await new Promise((r) => setTimeout(r, 1_500)); // ANVIL_STATE_INTERVAL is 1 s
  process.kill(node.anvil?.pid ?? 0, 'SIGKILL');
  return eventually(async () => {
    const current = node.deployment();
    return current[key] !== before[key] && current;
  }, `the ${name} to be redeployed`);
}

/** The code at `address` on a node's chain. */
export const codeAt = (node: TestNode, address: Hex) => rpc(node.rpcUrl, 'eth_getCode', [address, 'latest']);

/** Awaits `action` and returns what it rejected with (fails if it resolved). */
export async function rejection(action: Promise<unknown>): Promise<CareLedgerError> {
  let caught: unknown;
  try {
    await action;
  } catch (error) {
    caught = error;
  }
  if (caught === undefined) throw new Error('expected a rejection, but the call succeeded');
  expect(caught).toBeInstanceOf(CareLedgerError);
  return caught as CareLedgerError;
}

/** Asserts `action` rejects with an error of class `type`, HTTP `status`, `code` and a message matching `message`. */
export async function expectCareLedgerError(
  action: Promise<unknown>,
  type: abstract new (...args: never[]) => CareLedgerError,
  status: number,
  code: string,
  message?: RegExp,
): Promise<CareLedgerError> {
  const error = await rejection(action);
  expect({ type: error.constructor.name, status: error.status, code: error.code }).toEqual({
    type: type.name,
    status,
    code,
  });
  expect(error).toBeInstanceOf(type);
  if (message) expect(error.message).toMatch(message);
  return error;
}

/**
 * Encodes every custom error of `abi` (arguments from `sample`) as a revert of `functionName`, decodes it with
 * `decode`, and asserts each becomes a `CareLedgerError` of its own `<area>.*` code (not `<area>.REJECTED`), with
 * one of `statuses` and a message to act on. Returns the ABI's custom errors.
 */
export function expectEveryCustomErrorDecoded(
  abi: Abi,
  decode: (error: unknown) => unknown,
  options: { area: string; statuses: number[]; functionName: string; sample: (p: AbiParameter) => unknown },
): string[] {
  const { area, statuses, functionName, sample } = options;
  const errors = abi.filter((item) => item.type === 'error');
  const codes = new Set<string>();
  for (const item of errors) {
    const args = item.inputs.map(sample);
    const data = encodeErrorResult({ abi, errorName: item.name, args } as never);
    const decoded = decode(new ContractFunctionRevertedError({ abi, data, functionName }));
    expect(decoded, item.name).toBeInstanceOf(CareLedgerError);
    const error = decoded as CareLedgerError;
    expect(error.code, item.name).toMatch(new RegExp(`^${area}\\.[A-Z_]+$`));
    expect(error.code, item.name).not.toBe(`${area}.REJECTED`);
    expect(statuses, item.name).toContain(error.status);
    expect(error.message.length, item.name).toBeGreaterThan(30);
    codes.add(error.code);
  }
  expect(codes.size).toBe(errors.length);
  return errors.map((item) => item.name);
}

/**
 * Asserts `decode` turns a revert with a custom error the gateway does not know (`errorName`) into a 502 of class
 * `Rejected` naming it, and returns an error that is not viem's unchanged.
 */
export function expectUnknownRevertRejected(
  decode: (error: unknown) => unknown,
  errorName: string,
  Rejected: abstract new (...args: never[]) => CareLedgerError,
  functionName: string,
): void {
  const unknownAbi = [{ type: 'error', name: errorName, inputs: [] }] as const;
  const future = decode(
    new ContractFunctionRevertedError({
      abi: unknownAbi,
      data: encodeErrorResult({ abi: unknownAbi, errorName }),
      functionName,
    }),
  );
  expect(future).toBeInstanceOf(Rejected);
  expect((future as CareLedgerError).status).toBe(502);
  expect((future as CareLedgerError).message).toContain(errorName);
  const plain = new Error('not from viem');
  expect(decode(plain)).toBe(plain);
}

/** A JSON-RPC proxy in front of `target` that can be switched to fail (connections reset) and counts requests. */
export interface FlakyRpc {
  url: string;
  failing: boolean;
  requests: number;
  close(): Promise<void>;
}

export async function startFlakyRpc(target: string, failing = false): Promise<FlakyRpc> {
  const port = await freePort();
  const state = { failing, requests: 0 };
  const server: Server = createServer((req, res) => {
    state.requests++;
    if (state.failing) {
      req.socket.destroy();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      fetch(target, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: Buffer.concat(chunks),
      })
        .then(async (upstream) => {
          res.writeHead(upstream.status, { 'content-type': 'application/json' });
          res.end(Buffer.from(await upstream.arrayBuffer()));
        })
        .catch(() => req.socket.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    get failing() {
      return state.failing;
    },
    set failing(value: boolean) {
      state.failing = value;
    },
    get requests() {
      return state.requests;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
