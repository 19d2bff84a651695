import { createPublicClient, http, zeroAddress } from 'viem';
import type { Hex } from '../core/hex.js';
import type { AnchorReader } from '../anchoring/verifyRecordProof.js';
import { anchorRegistryAbi } from './generated/contracts.js';

/** An `AnchorReader` over a JSON-RPC endpoint, for `careledger verify` and the audit. */
export function createAnchorReader(rpcUrl: string): AnchorReader {
  const client = createPublicClient({ transport: http(rpcUrl, { retryCount: 1, timeout: 10_000 }) });
  return {
    chainId: () => client.getChainId(),
    async getAnchor(contract: Hex, root: Hex) {
      const code = await client.getCode({ address: contract });
      if (code === undefined || code === '0x') return null;
      const a = await client.readContract({
        address: contract,
        abi: anchorRegistryAbi,
        functionName: 'getAnchor',
        args: [root],
      });
      if (a.organization === zeroAddress) return null;
      return {
        organization: a.organization,
        sequence: Number(a.sequence),
        leafCount: Number(a.leafCount),
        anchoredAt: Number(a.anchoredAt),
        blockNumber: Number(a.blockNumber),
      };
    },
  };
}
