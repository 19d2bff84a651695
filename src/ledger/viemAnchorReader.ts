import { createPublicClient, http, parseEventLogs, TransactionReceiptNotFoundError } from 'viem';
import type { Hex } from '../core/hex.js';
import type { AnchorReader } from '../anchoring/verifyRecordProof.js';
import { anchorRegistryAbi } from './generated/contracts.js';
import { readAnchor } from './readAnchor.js';

/** An `AnchorReader` over a JSON-RPC endpoint, for `careledger verify` and the audit. */
export function createAnchorReader(rpcUrl: string): AnchorReader {
  const client = createPublicClient({ transport: http(rpcUrl, { retryCount: 1, timeout: 10_000 }) });
  return {
    chainId: () => client.getChainId(),
    async getAnchor(contract: Hex, root: Hex) {
      const code = await client.getCode({ address: contract });
      if (code === undefined || code === '0x') return null;
      return readAnchor(client, contract, root);
    },
    async getAnchorTransaction(contract: Hex, transactionHash: Hex) {
      let receipt;
      try {
        receipt = await client.getTransactionReceipt({ hash: transactionHash });
      } catch (error) {
        if (error instanceof TransactionReceiptNotFoundError) return null;
        throw error;
      }
      if (receipt.status !== 'success') return null;
      const fromRegistry = receipt.logs.filter((log) => log.address.toLowerCase() === contract.toLowerCase());
      const events = parseEventLogs({
        abi: anchorRegistryAbi,
        logs: fromRegistry,
        eventName: 'BatchAnchored',
      });
      return {
        blockNumber: Number(receipt.blockNumber),
        blockHash: receipt.blockHash,
        roots: events.map((e) => e.args.root),
      };
    },
  };
}
