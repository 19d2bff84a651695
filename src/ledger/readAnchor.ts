import { zeroAddress, type PublicClient } from 'viem';
import type { OnChainAnchor } from '../anchoring/ports.js';
import type { Hex } from '../core/hex.js';
import { anchorRegistryAbi } from './generated/contracts.js';

/** Reads `getAnchor(root)` from the AnchorRegistry at `registry`; null when the root was never anchored there. */
export async function readAnchor(
  client: PublicClient,
  registry: Hex,
  root: Hex,
): Promise<OnChainAnchor | null> {
  const a = await client.readContract({
    address: registry,
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
}
