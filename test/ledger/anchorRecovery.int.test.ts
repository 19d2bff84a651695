import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPublicClient, createWalletClient, http, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeChain } from '../../src/ledger/chainClients.js';
import { organizationRegistryAbi } from '../../src/ledger/generated/contracts.js';
import { appendRecord, eventually, rpc, startTestNode, type TestNode } from '../helpers/inProcessNode.js';

type Json = Record<string, any>;

const getBatch = async (node: TestNode, sequence: number): Promise<Json> =>
  (await (await node.api(`/batches/${sequence}`)).json()) as Json;

async function proofOf(node: TestNode, id: number): Promise<Json> {
  return eventually(async () => {
    const r = await node.api(`/records/${id}/proof`);
    return r.status === 200 ? ((await r.json()) as Json) : undefined;
  }, `proof of record ${id}`);
}

describe('anchoring recovers from chain trouble (real anvil)', () => {
  let node: TestNode;
  let orgKey: Hex;

  beforeAll(async () => {
    node = await startTestNode({ ANCHOR_RECEIPT_TIMEOUT_MS: '400' });
    orgKey = readFileSync(join(node.dataDir, 'keys', 'org-chain.key'), 'utf8').trim() as Hex;
  });
  afterAll(async () => {
    await node?.destroy();
  });

  const clients = () => {
    const chain = describeChain(31337, node.rpcUrl);
    return {
      publicClient: createPublicClient({ chain, transport: http(node.rpcUrl) }),
      walletClient: createWalletClient({
        chain,
        transport: http(node.rpcUrl),
        account: privateKeyToAccount(orgKey),
      }),
    };
  };

  it('answers 409 with Retry-After while a batch is not confirmed, and re-sends a dropped transaction', async () => {
    await rpc(node.rpcUrl, 'evm_setAutomine', [false]);
    let receiptId = 0;
    let firstHash = '';
    try {
      const receipt = await appendRecord(node, 'dropped-tx record');
      receiptId = receipt.id;
      const first = await eventually(async () => {
        const b = await getBatch(node, receipt.batch.sequence);
        return b.state === 'submitted' ? b : undefined;
      }, 'the batch to be submitted');

      const early = await node.api(`/records/${receipt.id}/proof`);
      expect(early.status).toBe(409);
      expect(early.headers.get('retry-after')).toBe('2');
      expect(((await early.json()) as Json).code).toBe('PROOF.NOT_ANCHORED_YET');

      firstHash = first.transactionHash;
      await rpc(node.rpcUrl, 'anvil_dropTransaction', [first.transactionHash]);
      const resent = await eventually(async () => {
        const b = await getBatch(node, receipt.batch.sequence);
        return b.attempts >= 2 ? b : undefined;
      }, 'the anchor to be sent again');
      // Same nonce, calldata and fees sign to the same transaction: it is simply back in the pool.
      expect(resent.transactionHash).toBe(first.transactionHash);
      expect(await rpc(node.rpcUrl, 'eth_getTransactionByHash', [first.transactionHash])).not.toBeNull();
    } finally {
      await rpc(node.rpcUrl, 'evm_setAutomine', [true]);
      await rpc(node.rpcUrl, 'evm_mine');
    }
    const proof = await proofOf(node, receiptId);
    expect(proof.anchor.transactionHash).toBe(firstHash);
  });

  it('recovers when another transaction takes its nonce (nonce clash)', async () => {
    const { publicClient, walletClient } = clients();
    await rpc(node.rpcUrl, 'evm_setAutomine', [false]);
    let firstHash: Hex;
    try {
      const receipt = await appendRecord(node, 'nonce-clash record');
      const submitted = await eventually(async () => {
        const b = await getBatch(node, receipt.batch.sequence);
        return b.state === 'submitted' ? b : undefined;
      }, 'the batch to be submitted');
      firstHash = submitted.transactionHash as Hex;
      const tx = await publicClient.getTransaction({ hash: firstHash });
      // Same account, same nonce, higher fees: the pool replaces the anchor transaction with this one.
      await walletClient.sendTransaction({
        to: walletClient.account.address,
        value: 0n,
        nonce: tx.nonce,
        maxFeePerGas: (tx.maxFeePerGas ?? 10n ** 10n) * 3n,
        maxPriorityFeePerGas: (tx.maxPriorityFeePerGas ?? 10n ** 9n) * 3n,
      });
      await rpc(node.rpcUrl, 'evm_mine');
      await eventually(async () => {
        const b = await getBatch(node, receipt.batch.sequence);
        return b.transactionHash !== firstHash ? b : undefined;
      }, 'a new anchor transaction after the clash');
    } finally {
      await rpc(node.rpcUrl, 'evm_setAutomine', [true]);
      await rpc(node.rpcUrl, 'evm_mine');
    }
    const receipt = await appendRecord(node, 'after the clash');
    const proof = await proofOf(node, receipt.id);
    expect(proof.anchor.transactionHash).not.toBe(firstHash);
    const health = (await (await node.api(`/health`)).json()) as Json;
    expect(health.anchoring.batches.sealed + health.anchoring.batches.submitted).toBe(0);
  });

  it('stops anchoring while the organisation is suspended and resumes when reinstated', async () => {
    const { publicClient, walletClient } = clients();
    const registry = node.deployment().organizationRegistry;
    const self = walletClient.account.address;
    const suspend = await walletClient.writeContract({
      address: registry,
      abi: organizationRegistryAbi,
      functionName: 'suspend',
      args: [self, 'audit in progress'],
    });
    await publicClient.waitForTransactionReceipt({ hash: suspend });

    const receipt = await appendRecord(node, 'written while suspended');
    const health = await eventually(async () => {
      const h = (await (await node.api(`/health`)).json()) as Json;
      return h.anchoring.submitter.lastError ? h : undefined;
    }, 'the submitter to report the refusal');
    expect(health.anchoring.submitter.lastError).toMatch(/not an active member/);
    expect((await getBatch(node, receipt.batch.sequence)).state).not.toBe('confirmed');
    // The record itself is stored and readable all along.
    expect((await node.api(`/records/${receipt.id}/content`)).status).toBe(200);

    const reinstate = await walletClient.writeContract({
      address: registry,
      abi: organizationRegistryAbi,
      functionName: 'reinstate',
      args: [self],
    });
    await publicClient.waitForTransactionReceipt({ hash: reinstate });
    const proof = await proofOf(node, receipt.id);
    expect(proof.batch.sequence).toBe(receipt.batch.sequence);
  });

  it('reuses its contracts and continues ids after a clean restart', async () => {
    const before = node.deployment();
    const last = await appendRecord(node, 'before restart');
    await proofOf(node, last.id);
    await node.stop();
    node = await startTestNode({ ANCHOR_RECEIPT_TIMEOUT_MS: '400' }, node.dataDir);
    expect(node.deployment().anchorRegistry).toBe(before.anchorRegistry);
    expect(node.deployment().organizationRegistry).toBe(before.organizationRegistry);
    const old = await node.api(`/records/${last.id}/proof`);
    expect(old.status).toBe(200);
    const next = await appendRecord(node, 'after restart');
    expect(next.id).toBe(last.id + 1);
    await proofOf(node, next.id);
  });
});
