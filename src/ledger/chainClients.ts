import {
  createPublicClient,
  createWalletClient,
  defineChain,
  http,
  type Account,
  type Chain,
  type PublicClient,
  type Transport,
  type WalletClient,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import type { Hex } from '../core/hex.js';

export interface ChainClients {
  chain: Chain;
  account: Account;
  publicClient: PublicClient<Transport, Chain>;
  walletClient: WalletClient<Transport, Chain, Account>;
}

/** A viem chain description for any EVM network known only by its id and RPC URL. */
export function describeChain(chainId: number, rpcUrl: string): Chain {
  return defineChain({
    id: chainId,
    name: `careledger-${chainId}`,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
  });
}

/** Asks a JSON-RPC endpoint for its chain id (before a viem chain can be described). */
export async function fetchChainId(rpcUrl: string): Promise<number> {
  const client = createPublicClient({ transport: http(rpcUrl, { retryCount: 0, timeout: 5_000 }) });
  return client.getChainId();
}

/**
 * Public and wallet clients for the organisation's account. Polling is fast because the embedded chain mines
 * instantly and consortium chains (QBFT) have short block times; viem's 4 s default would stall anchoring.
 */
export function createChainClients(rpcUrl: string, chainId: number, chainKey: Hex): ChainClients {
  const chain = describeChain(chainId, rpcUrl);
  const transport = http(rpcUrl, { retryCount: 2, retryDelay: 100, timeout: 10_000 });
  const account = privateKeyToAccount(chainKey);
  return {
    chain,
    account,
    publicClient: createPublicClient({ chain, transport, pollingInterval: 100 }),
    walletClient: createWalletClient({ chain, transport, account, pollingInterval: 100 }),
  };
}
