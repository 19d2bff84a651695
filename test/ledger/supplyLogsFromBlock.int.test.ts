import { createPublicClient, http, type Hex, type PublicClient } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChainClients, type ChainClients } from '../../src/ledger/chainClients.js';
import type { Deployment } from '../../src/ledger/ensureDeployment.js';
import { organizationRegistryAbi } from '../../src/ledger/generated/contracts.js';
import { rolesToMask } from '../../src/ledger/organizationRoles.js';
import { LotTree, lotIdOf, packIdOf } from '../../src/ledger/supplyChainIds.js';
import { dscsaLedger, supplyChainLedger, supplySuspectLedger } from '../../src/ledger/supplyChainLedger.js';
import { ViemSupplyChainRegistry } from '../../src/ledger/viemSupplyChainRegistry.js';
import { CHAIN_ID, deployWith } from '../helpers/deployedChain.js';
import { rpc } from '../helpers/inProcessNode.js';
import { fundedTestKey, startTestAnvil, type TestAnvil } from '../helpers/testAnvil.js';

/**
 * The registry's log queries (a pack's transfers for a report, its history for a trace, its handlers for a T3
 * request) start at the registry's deployment block, not at the chain's genesis: on a long chain a scan from block 0
 * costs every query the whole chain.
 */
describe('supply-chain log queries from the registry’s deployment block', () => {
  let anvil: TestAnvil;
  let deployment: Deployment;
  let maker: ChainClients;
  let wholesaler: ChainClients;
  /** The fromBlock of every eth_getLogs the spied client sent. */
  const fromBlocks: string[] = [];
  let spied: ChainClients['publicClient'];
  const GTIN = '10614141073464';
  const LOT = 'FB1';
  let transferBlock: number;

  beforeAll(async () => {
    anvil = await startTestAnvil();
    await rpc(anvil.rpcUrl, 'anvil_mine', ['0x40']); // a chain with history before the registries
    const admin = createChainClients(anvil.rpcUrl, CHAIN_ID, await fundedTestKey(anvil.rpcUrl));
    deployment = await deployWith(admin);
    const admit = async (name: string, role: string) => {
      const clients = createChainClients(anvil.rpcUrl, CHAIN_ID, await fundedTestKey(anvil.rpcUrl));
      const hash = await admin.walletClient.writeContract({
        address: deployment.organizationRegistry,
        abi: organizationRegistryAbi,
        functionName: 'admit',
        args: [clients.account.address, name, rolesToMask([role]), 'https://gw.example.org', '0x'],
      });
      await admin.publicClient.waitForTransactionReceipt({ hash });
      return clients;
    };
    maker = await admit('maker', 'MANUFACTURER');
    wholesaler = await admit('wholesaler', 'DISTRIBUTOR');
    spied = createPublicClient({
      chain: maker.chain,
      transport: http(anvil.rpcUrl, {
        async onFetchRequest(request) {
          const body = (await request.clone().json()) as { method: string; params: [{ fromBlock?: string }] };
          if (body.method === 'eth_getLogs') fromBlocks.push(String(body.params[0].fromBlock));
        },
      }),
    });
    const registry = new ViemSupplyChainRegistry(maker, deployment.supplyChainRegistry);
    const tree = new LotTree(['1', '2'].map((s) => packIdOf(GTIN, s)));
    await registry.registerProduct(GTIN, `0x${'11'.repeat(32)}`);
    await registry.commissionLot({
      gtin: GTIN,
      lot: LOT,
      serialsRoot: tree.root,
      packCount: 2,
      expiry: new Date(Date.now() + 365 * 86_400_000),
    });
    const packId = packIdOf(GTIN, '1');
    const mined = await registry.transferPacks({
      lotId: lotIdOf(GTIN, LOT),
      packs: [{ packId, proof: tree.proof(packId) }],
      to: wholesaler.account.address,
      transactionRef: `0x${'22'.repeat(32)}`,
    });
    transferBlock = mined.blockNumber;
  }, 60_000);

  afterAll(async () => {
    await anvil?.stop();
  });

  it('a deployment remembers its block, and every query starts there', async () => {
    expect(deployment.deployedAtBlock).toBeGreaterThan(0x40);
    const from = () => deployment.deployedAtBlock;
    const registry = new ViemSupplyChainRegistry(
      { ...maker, publicClient: spied },
      deployment.supplyChainRegistry,
    );
    const handed = {
      from: maker.account.address.toLowerCase(),
      to: wholesaler.account.address.toLowerCase(),
    };

    fromBlocks.length = 0;
    const transfers = await supplySuspectLedger(registry, spied as PublicClient, from).transfersOf(GTIN, LOT);
    expect(transfers).toEqual([{ ...handed, blockNumber: transferBlock }]);
    const history = await supplyChainLedger(registry, from).packHistory?.(GTIN, LOT, '1');
    expect(history?.map((e) => e.event)).toEqual(['LotCommissioned', 'PackTransferred']);
    const handlers = await dscsaLedger(registry, from).handlersOfPack(GTIN, '1');
    expect(handlers).toEqual({ manufacturer: handed.from, transfers: [handed] });
    expect(fromBlocks.length).toBeGreaterThanOrEqual(4);
    expect(new Set(fromBlocks)).toEqual(new Set([`0x${deployment.deployedAtBlock.toString(16)}`]));
  });

  it('the first block bounds what is found (so it is really used), and must be a block number', async () => {
    const registry = new ViemSupplyChainRegistry(maker, deployment.supplyChainRegistry);
    await rpc(anvil.rpcUrl, 'anvil_mine', ['0x1']); // anvil refuses a range starting past its head
    const after = () => transferBlock + 1;
    expect(
      await supplySuspectLedger(registry, maker.publicClient as PublicClient, after).transfersOf(GTIN, LOT),
    ).toEqual([]);
    expect((await dscsaLedger(registry, after).handlersOfPack(GTIN, '1')).transfers).toEqual([]);
    expect(await supplyChainLedger(registry, after).packHistory?.(GTIN, LOT, '1')).toEqual([]);
    // Unknown (an address given by configuration): from block 0, the same answers.
    expect((await dscsaLedger(registry).handlersOfPack(GTIN, '1')).transfers).toHaveLength(1);
    await expect(registry.packLogs(lotIdOf(GTIN, LOT), packIdOf(GTIN, '1'), -1)).rejects.toMatchObject({
      code: 'SUPPLY.INVALID_BLOCK',
    });
  });

  it('finds which investigations a transaction recorded, and none for an unknown transaction', async () => {
    const registry = new ViemSupplyChainRegistry(wholesaler, deployment.supplyChainRegistry);
    const packId = packIdOf(GTIN, '1');
    const lotId = lotIdOf(GTIN, LOT);
    await registry.markSuspect(lotId, [{ packId }], `0x${'33'.repeat(32)}`);
    const reportHash = `0x${'44'.repeat(32)}` as Hex;
    const mined = await registry.recordInvestigation(lotId, [packId], 'illegitimate', reportHash);
    expect(await registry.investigationsIn(mined.transactionHash)).toEqual([
      { by: wholesaler.account.address.toLowerCase(), outcome: 'illegitimate', reportHash },
    ]);
    expect(await registry.investigationsIn(`0x${'55'.repeat(32)}`)).toEqual([]);
  });
});
