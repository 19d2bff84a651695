import {
  BaseError,
  ContractFunctionRevertedError,
  createPublicClient,
  createWalletClient,
  decodeErrorResult,
  getAddress,
  http,
  type Abi,
  type Account,
  type Address,
  type Chain,
  type Hex,
  type PublicClient,
  type Transport,
  type WalletClient,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { foundry } from 'viem/chains';
import { expect } from 'vitest';
import { organizationRegistryAbi } from '../../src/ledger/generated/contracts.js';
import { ORGANIZATION_ROLES } from '../../src/ledger/organizationRoles.js';
import { fundedTestKey } from '../helpers/testAnvil.js';

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

/** A new funded account, admitted by `admin` to the OrganizationRegistry at `registry` as a PROVIDER. */
export async function admitNewActor(
  rpcUrl: string,
  client: PublicClient<Transport, Chain>,
  admin: TestActor,
  registry: Address,
  name: string,
): Promise<TestActor> {
  const org = await newActor(rpcUrl);
  await mined(
    client,
    await admin.wallet.writeContract({
      address: registry,
      abi: organizationRegistryAbi,
      functionName: 'admit',
      args: [org.address, name, ORGANIZATION_ROLES.PROVIDER, 'https://gw.example.org', '0x'],
    }),
  );
  return org;
}
