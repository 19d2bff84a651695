import { parseEventLogs, TransactionNotFoundError, TransactionReceiptNotFoundError, zeroHash } from 'viem';
import type { Hex } from '../core/hex.js';
import type { AnchorChain, OnChainAnchor, TransactionStatus } from '../anchoring/ports.js';
import type { ChainClients } from './chainClients.js';
import { decodeAnchorError } from './decodeAnchorError.js';
import { anchorRegistryAbi } from './generated/contracts.js';
import { readAnchor } from './readAnchor.js';

/** The AnchorRegistry as the anchoring service sees it, over viem. */
export class ViemAnchorChain implements AnchorChain {
  readonly organization: Hex;
  private readonly clients: ChainClients;
  private address: Hex;
  private cachedChainId: number | undefined;

  constructor(clients: ChainClients, anchorRegistry: Hex) {
    this.clients = clients;
    this.organization = clients.account.address;
    this.address = anchorRegistry;
  }

  contractAddress(): Hex {
    return this.address;
  }

  /** Points the adapter at a newly deployed registry (embedded chain redeployed after losing state). */
  useContract(anchorRegistry: Hex): void {
    this.address = anchorRegistry;
  }

  async chainId(): Promise<number> {
    this.cachedChainId ??= await this.clients.publicClient.getChainId();
    return this.cachedChainId;
  }

  async contractsPresent(): Promise<boolean> {
    const code = await this.clients.publicClient.getCode({ address: this.address });
    return code !== undefined && code !== '0x';
  }

  async nextSequence(): Promise<number> {
    const next = await this.clients.publicClient.readContract({
      address: this.address,
      abi: anchorRegistryAbi,
      functionName: 'nextSequence',
      args: [this.organization],
    });
    return Number(next);
  }

  async rootAt(sequence: number): Promise<Hex | null> {
    const root = await this.clients.publicClient.readContract({
      address: this.address,
      abi: anchorRegistryAbi,
      functionName: 'rootAt',
      args: [this.organization, BigInt(sequence)],
    });
    return root === zeroHash ? null : root;
  }

  getAnchor(root: Hex): Promise<OnChainAnchor | null> {
    return readAnchor(this.clients.publicClient, this.address, root);
  }

  async submitAnchor(root: Hex, leafCount: number, sequence: number): Promise<Hex> {
    try {
      return await this.clients.walletClient.writeContract({
        address: this.address,
        abi: anchorRegistryAbi,
        functionName: 'anchor',
        args: [root, leafCount, BigInt(sequence)],
      });
    } catch (error) {
      throw decodeAnchorError(error);
    }
  }

  async transactionStatus(hash: Hex): Promise<TransactionStatus> {
    const client = this.clients.publicClient;
    try {
      const receipt = await client.getTransactionReceipt({ hash });
      const blockNumber = Number(receipt.blockNumber);
      if (receipt.status !== 'success') return { status: 'reverted', blockNumber };
      const block = await client.getBlock({ blockHash: receipt.blockHash });
      return {
        status: 'mined',
        blockNumber,
        blockHash: receipt.blockHash,
        anchoredAt: Number(block.timestamp),
      };
    } catch (error) {
      if (!(error instanceof TransactionReceiptNotFoundError)) throw error;
    }
    try {
      await client.getTransaction({ hash });
      return { status: 'pending' };
    } catch (error) {
      if (error instanceof TransactionNotFoundError) return { status: 'dropped' };
      throw error;
    }
  }

  async findAnchorTransaction(
    root: Hex,
    blockNumber: number,
  ): Promise<{ transactionHash: Hex; blockHash: Hex } | null> {
    const logs = await this.clients.publicClient.getLogs({
      address: this.address,
      event: anchorRegistryAbi.find((x) => x.type === 'event' && x.name === 'BatchAnchored') as Extract<
        (typeof anchorRegistryAbi)[number],
        { type: 'event'; name: 'BatchAnchored' }
      >,
      args: { root },
      fromBlock: BigInt(blockNumber),
      toBlock: BigInt(blockNumber),
    });
    const parsed = parseEventLogs({ abi: anchorRegistryAbi, logs, eventName: 'BatchAnchored' });
    const log = parsed[0];
    if (!log || !log.transactionHash || !log.blockHash) return null;
    return { transactionHash: log.transactionHash, blockHash: log.blockHash };
  }
}
