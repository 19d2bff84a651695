import { BENCH_TOKEN } from './settings.js';
import { createPublicClient, createTestClient, http, parseEther, type Hex } from 'viem';
import { generatePrivateKey } from 'viem/accounts';
import { recordLeafHash } from '../src/anchoring/recordLeaf.js';
import { fromHex, toHex } from '../src/core/hex.js';
import { sha256 } from '../src/core/sha256.js';
import { createChainClients } from '../src/ledger/chainClients.js';
import { deployRegistries } from '../src/ledger/ensureDeployment.js';
import { anchorRegistryAbi } from '../src/ledger/generated/contracts.js';
import { rolesToMask } from '../src/ledger/organizationRoles.js';
import { organizationEncryptionPublicKey } from '../src/keys/organizationEncryptionKey.js';
import { recordBytes, recordKind, type RecordSet } from './records.js';

export interface BatchGas {
  batches: number;
  records: number;
  totalGas: number;
  gasPerRecord: number;
  /** Gas of the first and of the largest batch's transaction. */
  perBatch: { sequence: number; leafCount: number; gasUsed: number }[];
}

interface BatchView {
  sequence: number;
  state: string;
  leafCount: number;
  anchor: { transactionHash: Hex } | null;
}

/** Sums the gas of the anchor transactions of batches 1..lastSequence, found through `GET /batches/:sequence`. */
export async function measureBatchGas(
  nodeUrl: string,
  rpcUrl: string,
  lastSequence: number,
): Promise<BatchGas> {
  const client = createPublicClient({ transport: http(rpcUrl) });
  const perBatch: BatchGas['perBatch'] = [];
  for (let sequence = 1; sequence <= lastSequence; sequence++) {
    const res = await fetch(`${nodeUrl}/batches/${sequence}`, {
      headers: { authorization: `Bearer ${BENCH_TOKEN}` },
    });
    if (!res.ok) throw new Error(`GET /batches/${sequence} answered HTTP ${res.status}`);
    const batch = (await res.json()) as BatchView;
    if (batch.state !== 'confirmed' || !batch.anchor) {
      throw new Error(`batch ${sequence} is ${batch.state}, not confirmed`);
    }
    const receipt = await client.getTransactionReceipt({ hash: batch.anchor.transactionHash });
    perBatch.push({ sequence, leafCount: batch.leafCount, gasUsed: Number(receipt.gasUsed) });
  }
  const totalGas = perBatch.reduce((s, b) => s + b.gasUsed, 0);
  const records = perBatch.reduce((s, b) => s + b.leafCount, 0);
  return {
    batches: perBatch.length,
    records,
    totalGas,
    gasPerRecord: records > 0 ? totalGas / records : 0,
    perBatch,
  };
}

export interface SingleRecordGas {
  anchors: number;
  totalGas: number;
  gasPerRecord: number;
  firstGas: number;
  steadyGasPerRecord: number;
}

/**
 * Baseline: one anchor transaction per record. A fresh, funded account deploys its own OrganizationRegistry and
 * AnchorRegistry (the same contracts) on the node's anvil, admits itself, and anchors `count` one-leaf batches
 * whose roots are real record leaf hashes. A separate account keeps the node's nonces and sequences untouched.
 */
export async function measureSingleRecordGas(
  rpcUrl: string,
  chainId: number,
  records: RecordSet,
  count: number,
): Promise<SingleRecordGas> {
  const clients = createChainClients(rpcUrl, chainId, generatePrivateKey());
  const test = createTestClient({ mode: 'anvil', chain: clients.chain, transport: http(rpcUrl) });
  await test.setBalance({ address: clients.account.address, value: parseEther('1000000') });
  const deployment = await deployRegistries(clients, {
    name: 'bench single-record baseline',
    roles: rolesToMask(['PROVIDER']),
    gatewayUrl: 'http://127.0.0.1:9',
    encryptionPublicKey: organizationEncryptionPublicKey(generatePrivateKey()),
  });
  const organization = fromHex(clients.account.address, 20);
  const gas: number[] = [];
  for (let i = 0; i < count; i++) {
    const index = i % records.count;
    const root = recordLeafHash({
      organization,
      id: i + 1,
      kind: recordKind(records, index),
      contentHash: sha256(recordBytes(records, index)),
    });
    // A one-leaf RFC 6962 tree's root is its leaf hash.
    const hash = await clients.walletClient.writeContract({
      address: deployment.anchorRegistry,
      abi: anchorRegistryAbi,
      functionName: 'anchor',
      args: [toHex(root), 1, BigInt(i + 1)],
    });
    const receipt = await clients.publicClient.waitForTransactionReceipt({ hash, timeout: 30_000 });
    if (receipt.status !== 'success') throw new Error(`single-record anchor ${i + 1} reverted`);
    gas.push(Number(receipt.gasUsed));
  }
  const totalGas = gas.reduce((s, g) => s + g, 0);
  const steady = gas.slice(1);
  return {
    anchors: count,
    totalGas,
    gasPerRecord: totalGas / count,
    firstGas: gas[0] ?? 0,
    steadyGasPerRecord: steady.length > 0 ? steady.reduce((s, g) => s + g, 0) / steady.length : totalGas,
  };
}
