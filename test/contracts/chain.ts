import {
  BaseError,
  ContractFunctionRevertedError,
  createPublicClient,
  createWalletClient,
  decodeErrorResult,
  getAddress,
  http,
  parseEventLogs,
  type Abi,
  type Account,
  type Address,
  type Chain,
  type Hex,
  type PublicClient,
  type TransactionReceipt,
  type Transport,
  type WalletClient,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { foundry } from 'viem/chains';
import { expect } from 'vitest';
import {
  organizationRegistryAbi,
  organizationRegistryBytecode,
} from '../../src/ledger/generated/contracts.js';
import { ORGANIZATION_ROLES } from '../../src/ledger/organizationRoles.js';
import { fundedTestKey, startTestAnvil, type TestAnvil } from '../helpers/testAnvil.js';

/** Anvil's chain id is 31337, which is viem's `foundry` chain; the RPC URL comes from the transport. */
export const chain = foundry;

export type TestWallet = WalletClient<Transport, Chain, Account>;

export interface TestActor {
  address: Address;
  wallet: TestWallet;
}

export function testPublicClient(rpcUrl: string): PublicClient<Transport, Chain> {
  return createPublicClient({ chain, transport: http(rpcUrl) });
}

/** A freshly funded random account and a wallet client for it. */
export async function newActor(rpcUrl: string): Promise<TestActor> {
  const account = privateKeyToAccount(await fundedTestKey(rpcUrl));
  return {
    address: account.address,
    wallet: createWalletClient({ account, chain, transport: http(rpcUrl) }),
  };
}

/** A random 32-byte value, e.g. a Merkle root. */
export function randomBytes32(): Hex {
  return `0x${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('hex')}`;
}

function revertData(err: BaseError): Hex | undefined {
  let data: Hex | undefined;
  err.walk((e) => {
    const candidate = (e as { data?: unknown }).data;
    if (typeof candidate === 'string' && candidate.startsWith('0x') && candidate.length >= 10) {
      data = candidate as Hex;
      return true;
    }
    return false;
  });
  return data;
}

/**
 * Awaits `action` and asserts it reverted with the custom error `errorName(...args)`. Works for contract
 * calls (viem decodes a {@link ContractFunctionRevertedError}) and for deployments (the raw revert data is
 * decoded with `abi`).
 */
export async function expectRevert(
  action: Promise<unknown>,
  abi: Abi,
  errorName: string,
  args: readonly unknown[] = [],
): Promise<void> {
  let caught: unknown;
  try {
    await action;
  } catch (err) {
    caught = err;
  }
  if (caught === undefined) throw new Error(`expected a revert with ${errorName}, but the call succeeded`);
  if (!(caught instanceof BaseError)) throw caught;
  const reverted = caught.walk((e) => e instanceof ContractFunctionRevertedError);
  let decoded: { errorName: string; args: readonly unknown[] } | undefined;
  if (reverted instanceof ContractFunctionRevertedError && reverted.data) {
    decoded = { errorName: reverted.data.errorName, args: reverted.data.args ?? [] };
  } else {
    const data = revertData(caught);
    if (data) {
      const result = decodeErrorResult({ abi, data });
      decoded = { errorName: result.errorName, args: result.args ?? [] };
    }
  }
  if (!decoded) throw caught;
  expect({ errorName: decoded.errorName, args: decoded.args }).toEqual({ errorName, args });
}

/** Waits for the transaction `hash` and asserts it succeeded. */
export async function mined(client: PublicClient<Transport, Chain>, hash: Hex) {
  const receipt = await client.waitForTransactionReceipt({ hash });
  expect(receipt.status).toBe('success');
  return receipt;
}

/** Waits for a deployment transaction and returns the new contract's address. */
export async function deployed(
  client: PublicClient<Transport, Chain>,
  hash: Hex | Promise<Hex>,
): Promise<Address> {
  const receipt = await mined(client, await hash);
  if (!receipt.contractAddress) throw new Error('no contract address');
  return getAddress(receipt.contractAddress);
}

/** A new funded account, admitted by `admin` to the OrganizationRegistry at `registry` with `roles` (a PROVIDER). */
export async function admitNewActor(
  rpcUrl: string,
  client: PublicClient<Transport, Chain>,
  admin: TestActor,
  registry: Address,
  name: string,
  roles: number = ORGANIZATION_ROLES.PROVIDER,
): Promise<TestActor> {
  const org = await newActor(rpcUrl);
  await mined(
    client,
    await admin.wallet.writeContract({
      address: registry,
      abi: organizationRegistryAbi,
      functionName: 'admit',
      args: [org.address, name, roles, 'https://gw.example.org', '0x'],
    }),
  );
  return org;
}

/**
 * A consortium on a fresh anvil for a contract's tests: an `admin` who deployed the OrganizationRegistry at
 * `organizations` (and so administers it), and an `outsider` it never admitted.
 */
export interface Consortium {
  anvil: TestAnvil;
  client: PublicClient<Transport, Chain>;
  admin: TestActor;
  outsider: TestActor;
  organizations: Address;
  /** Waits for a deployment (as {@link deployed}) and returns the new contract's address. */
  deploy(hash: Hex | Promise<Hex>): Promise<Address>;
  /** A new funded account admitted by the admin as `name`, with the role mask `roles` (a PROVIDER unless given). */
  admitNew(name: string, roles?: number): Promise<TestActor>;
  /** Suspends `org` for `reason` (or reinstates it) as the admin. */
  setSuspended(org: TestActor, suspended: boolean, reason?: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startConsortium(): Promise<Consortium> {
  const anvil = await startTestAnvil();
  const client = testPublicClient(anvil.rpcUrl);
  const admin = await newActor(anvil.rpcUrl);
  const outsider = await newActor(anvil.rpcUrl);
  const organizations = await deployed(
    client,
    admin.wallet.deployContract({
      abi: organizationRegistryAbi,
      bytecode: organizationRegistryBytecode,
      args: [admin.address],
    }),
  );
  return {
    anvil,
    client,
    admin,
    outsider,
    organizations,
    deploy: (hash) => deployed(client, hash),
    admitNew: (name, roles) => admitNewActor(anvil.rpcUrl, client, admin, organizations, name, roles),
    async setSuspended(org, suspended, reason = 'key compromise under investigation') {
      await mined(
        client,
        suspended
          ? await admin.wallet.writeContract({
              address: organizations,
              abi: organizationRegistryAbi,
              functionName: 'suspend',
              args: [org.address, reason],
            })
          : await admin.wallet.writeContract({
              address: organizations,
              abi: organizationRegistryAbi,
              functionName: 'reinstate',
              args: [org.address],
            }),
      );
    },
    stop: () => anvil.stop(),
  };
}

/**
 * Revert and event assertions for one contract's tests that remember which custom errors and events of `abi` the
 * tests exercised, so a last test can check that none was left out.
 */
export function contractCoverage(abi: Abi) {
  const seenErrors = new Set<string>();
  const seenEvents = new Set<string>();
  return {
    /** {@link expectRevert} with `abi`. */
    async reverts(action: Promise<unknown>, errorName: string, args: readonly unknown[] = []): Promise<void> {
      await expectRevert(action, abi, errorName, args);
      seenErrors.add(errorName);
    },
    /** The contract's events in `receipt`, as `[name, args]`. */
    events(receipt: TransactionReceipt): [string, unknown][] {
      const parsed = parseEventLogs({ abi, logs: receipt.logs });
      for (const e of parsed) seenEvents.add(e.eventName);
      return parsed.map((e) => [e.eventName, e.args]);
    },
    /** Asserts every custom error and event of `abi` was exercised, but for those `unreachable` names. */
    expectAllExercised(unreachable: { errors?: string[]; events?: string[] } = {}): void {
      const skipErrors = new Set(unreachable.errors);
      const skipEvents = new Set(unreachable.events);
      const errors = abi.filter((item) => item.type === 'error').map((item) => item.name);
      expect(errors.filter((name) => !skipErrors.has(name) && !seenErrors.has(name))).toEqual([]);
      const eventNames = abi.filter((item) => item.type === 'event').map((item) => item.name);
      expect(eventNames.filter((name) => !skipEvents.has(name) && !seenEvents.has(name))).toEqual([]);
    },
  };
}
