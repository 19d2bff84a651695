import Database from 'better-sqlite3';
import { join } from 'node:path';
import {
  ContractFunctionRevertedError,
  encodeErrorResult,
  getAddress,
  type AbiParameter,
  type Hex,
} from 'viem';
import { generatePrivateKey } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CareLedgerError } from '../../src/core/errors.js';
import { createChainClients, type ChainClients } from '../../src/ledger/chainClients.js';
import { decodeSupplyChainError, SupplyChainRejectedError } from '../../src/ledger/decodeSupplyChainError.js';
import {
  organizationRegistryAbi,
  organizationRegistryBytecode,
  supplyChainRegistryAbi,
} from '../../src/ledger/generated/contracts.js';
import { rolesToMask, type OrganizationRole } from '../../src/ledger/organizationRoles.js';
import { gtinToBytes14, LotTree, lotIdOf, packIdOf } from '../../src/ledger/supplyChainIds.js';
import {
  deploySupplyChainRegistry,
  missingContracts,
  type Deployment,
} from '../../src/ledger/ensureDeployment.js';
import { ViemSupplyChainRegistry } from '../../src/ledger/viemSupplyChainRegistry.js';
import {
  CHAIN_ID,
  codeAt,
  deployWith,
  expectConfiguredContractChecked,
  expectDeployedAndRemembered,
  organizationRegistryOf,
  redeployedWithout,
  rejection,
  rememberedDeployment,
  rememberingDeployment,
  someAddress,
} from '../helpers/deployedChain.js';
import { startTestNode, type TestNode } from '../helpers/inProcessNode.js';
import { fundedTestKey, startTestAnvil, type TestAnvil } from '../helpers/testAnvil.js';

let anvil: TestAnvil;
let admin: ChainClients;
let organizationRegistry: Hex;
let registry: Hex;
let maker: ViemSupplyChainRegistry;
let makerClients: ChainClients;
let wholesaler: ViemSupplyChainRegistry;
let wholesalerClients: ChainClients;
let pharmacy: ViemSupplyChainRegistry;
let pharmacyClients: ChainClients;

const hash = (): Hex => `0x${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('hex')}`;

/** How many transactions `account` has sent: what tells "nothing was sent" apart. */
const sent = (account: Hex) =>
  admin.publicClient.getTransactionCount({ address: account, blockTag: 'latest' });

/** Chain clients for a new funded account admitted with `roles` by the consortium admin. */
async function member(name: string, roles: OrganizationRole[]): Promise<ChainClients> {
  const clients = createChainClients(anvil.rpcUrl, CHAIN_ID, await fundedTestKey(anvil.rpcUrl));
  const tx = await admin.walletClient.writeContract({
    address: organizationRegistry,
    abi: organizationRegistryAbi,
    functionName: 'admit',
    args: [clients.account.address, name, rolesToMask(roles), 'https://gw.example.org', '0x'],
  });
  expect((await admin.publicClient.waitForTransactionReceipt({ hash: tx })).status).toBe('success');
  return clients;
}

/** Awaits `action` and asserts it rejects with a CareLedgerError of `status` and `code` (message matching). */
async function expectError(
  action: Promise<unknown>,
  status: number,
  code: string,
  message?: RegExp,
): Promise<CareLedgerError> {
  const error = await rejection(action);
  expect({ status: error.status, code: error.code }).toEqual({ status, code });
  if (message) expect(error.message).toMatch(message);
  return error;
}

let gtinCounter = 0;
function nextGtin(): string {
  const first13 = `0400638${String(200_000 + gtinCounter++).padStart(6, '0')}`;
  let sum = 0;
  for (let i = 0; i < 13; i++) sum += Number(first13[i]) * (i % 2 === 0 ? 3 : 1);
  return `${first13}${(10 - (sum % 10)) % 10}`;
}

/** A product and a lot of `size` packs commissioned by the maker through the adapter. */
async function commission(size: number) {
  const gtin = nextGtin();
  await maker.registerProduct(gtin, hash());
  const lotNumber = `B${gtinCounter}`;
  const lotId = lotIdOf(gtin, lotNumber);
  const packIds = Array.from({ length: size }, (_, i) => packIdOf(gtin, `${lotNumber}-${i}`));
  const tree = new LotTree(packIds);
  const expiry = new Date(Date.now() + 2 * 365 * 24 * 3600 * 1000);
  const commissioned = await maker.commissionLot({
    gtin,
    lot: lotNumber,
    serialsRoot: tree.root,
    packCount: size,
    expiry,
  });
  expect(commissioned.lotId).toBe(lotId);
  const refs = (ids: Hex[] = packIds) => ids.map((packId) => ({ packId, proof: tree.proof(packId) }));
  return { gtin, lotId, packIds, tree, expiry, refs };
}

beforeAll(async () => {
  anvil = await startTestAnvil();
  admin = createChainClients(anvil.rpcUrl, CHAIN_ID, await fundedTestKey(anvil.rpcUrl));
  const tx = await admin.walletClient.deployContract({
    abi: organizationRegistryAbi,
    bytecode: organizationRegistryBytecode,
    args: [admin.account.address],
  });
  const receipt = await admin.publicClient.waitForTransactionReceipt({ hash: tx });
  organizationRegistry = receipt.contractAddress as Hex;
  registry = await deploySupplyChainRegistry(admin, organizationRegistry);
  makerClients = await member('Example Pharma', ['MANUFACTURER']);
  wholesalerClients = await member('Wholesale Co', ['DISTRIBUTOR']);
  pharmacyClients = await member('Corner Pharmacy', ['DISPENSER']);
  maker = new ViemSupplyChainRegistry(makerClients, registry);
  wholesaler = new ViemSupplyChainRegistry(wholesalerClients, registry);
  pharmacy = new ViemSupplyChainRegistry(pharmacyClients, registry);
});

afterAll(async () => {
  await anvil?.stop();
});

describe('ViemSupplyChainRegistry', () => {
  it('registers, commissions, transfers and dispenses, and reads it all back', async () => {
    const lot = await commission(3);
    expect(await maker.productOf(lot.gtin)).toMatchObject({
      gtin: lot.gtin,
      manufacturer: makerClients.account.address,
      lotCount: 1,
    });
    expect(await maker.lotOf(lot.lotId)).toMatchObject({
      gtin: lot.gtin,
      serialsRoot: lot.tree.root,
      packCount: 3,
      expiry: Math.floor(lot.expiry.getTime() / 1000),
      recalled: false,
    });
    const [a] = lot.packIds as [Hex];
    expect(await pharmacy.isInLot(lot.lotId, a, lot.tree.proof(a))).toBe(true);

    const shipped = await maker.transferPacks({
      lotId: lot.lotId,
      packs: lot.refs(),
      to: wholesalerClients.account.address,
      transactionRef: hash(),
    });
    expect(shipped.gasUsed).toBeGreaterThan(0n);
    // Recorded packs need no proof any more.
    await wholesaler.transferPacks({
      lotId: lot.lotId,
      packs: [{ packId: a }],
      to: pharmacyClients.account.address,
      transactionRef: hash(),
    });
    await pharmacy.dispense(lot.lotId, [{ packId: a }]);
    expect(await pharmacy.packStatus(lot.lotId, a)).toMatchObject({
      recorded: true,
      owner: pharmacyClients.account.address,
      state: 'dispensed',
      suspect: false,
      lotRecalled: false,
      lotExpiry: Math.floor(lot.expiry.getTime() / 1000),
    });
  });

  it('sends concurrent writes one nonce after the other, and retries a nonce taken by a twin with the same key', async () => {
    const lot = await commission(8);
    const to = wholesalerClients.account.address;
    const twin = new ViemSupplyChainRegistry(makerClients, registry);
    const results = await Promise.all(
      lot.packIds.map((packId, i) =>
        (i % 2 === 0 ? maker : twin).transferPacks({
          lotId: lot.lotId,
          packs: [{ packId, proof: lot.tree.proof(packId) }],
          to,
          transactionRef: hash(),
        }),
      ),
    );
    expect(new Set(results.map((r) => r.transactionHash)).size).toBe(8);
    for (const packId of lot.packIds) {
      expect((await wholesaler.packStatus(lot.lotId, packId)).owner).toBe(to);
    }
  });

  it('the quarantine and recall cycle, with outcomes by name', async () => {
    const lot = await commission(2);
    const [a, b] = lot.packIds as [Hex, Hex];
    await maker.transferPacks({
      lotId: lot.lotId,
      packs: lot.refs(),
      to: wholesalerClients.account.address,
      transactionRef: hash(),
    });
    await wholesaler.markSuspect(lot.lotId, [{ packId: a }], hash());
    expect((await wholesaler.packStatus(lot.lotId, a)).suspect).toBe(true);
    await wholesaler.recordInvestigation(lot.lotId, [a], 'cleared', hash());
    expect((await wholesaler.packStatus(lot.lotId, a)).suspect).toBe(false);
    await maker.markLotSuspect(lot.lotId, hash());
    await maker.recordLotInvestigation(lot.lotId, 'cleared', hash());
    await maker.recallLot(lot.lotId, hash());
    expect((await wholesaler.packStatus(lot.lotId, b)).lotRecalled).toBe(true);
    await wholesaler.destroy(lot.lotId, [{ packId: b }], hash());
    await wholesaler.decommission(lot.lotId, [{ packId: a }], hash());
    expect((await wholesaler.packStatus(lot.lotId, b)).state).toBe('destroyed');
    expect((await wholesaler.packStatus(lot.lotId, a)).state).toBe('decommissioned');
  });
});

describe('refusals become errors a person can act on, and nothing is sent', () => {
  it('a second dispense (a clone), a wrong owner, a bad proof, an unknown lot, a recall', async () => {
    const lot = await commission(3);
    const [a, b, c] = lot.packIds as [Hex, Hex, Hex];
    await maker.transferPacks({
      lotId: lot.lotId,
      packs: lot.refs([a, b]),
      to: pharmacyClients.account.address,
      transactionRef: hash(),
    });
    await pharmacy.dispense(lot.lotId, [{ packId: a }]);
    const before = await sent(pharmacyClients.account.address);
    const clone = await expectError(
      pharmacy.dispense(lot.lotId, [{ packId: a }]),
      409,
      'SUPPLY.ALREADY_DISPENSED',
      /probably a clone/,
    );
    expect(clone.details).toEqual({ packId: a, dispenser: pharmacyClients.account.address });
    await expectError(
      wholesaler.transferPacks({
        lotId: lot.lotId,
        packs: [{ packId: b }],
        to: pharmacyClients.account.address,
        transactionRef: hash(),
      }),
      403,
      'SUPPLY.NOT_OWNER',
      new RegExp(`owned by ${pharmacyClients.account.address}`),
    );
    await expectError(
      maker.transferPacks({
        lotId: lot.lotId,
        packs: [{ packId: c, proof: lot.tree.proof(a) }],
        to: pharmacyClients.account.address,
        transactionRef: hash(),
      }),
      422,
      'SUPPLY.NOT_IN_LOT',
    );
    const unknown = hash();
    await expectError(pharmacy.packStatus(unknown, a), 404, 'SUPPLY.UNKNOWN_LOT');
    await maker.recallLot(lot.lotId, hash());
    await expectError(
      pharmacy.dispense(lot.lotId, [{ packId: b }]),
      409,
      'SUPPLY.LOT_RECALLED',
      /return them to the manufacturer/,
    );
    await expectError(
      wholesaler.registerProduct(nextGtin(), hash()),
      403,
      'SUPPLY.MISSING_ROLE',
      /MANUFACTURER role/,
    );
    expect(await sent(pharmacyClients.account.address)).toBe(before);
  });

  it('malformed input is refused before anything is asked of the chain', async () => {
    await expectError(
      maker.registerProduct('00312345678907', hash()),
      400,
      'SUPPLY.INVALID_GTIN',
      /check digit/,
    );
    await expectError(maker.lotOf('0x1234'), 400, 'SUPPLY.INVALID_ID');
    await expectError(
      maker.recordInvestigation(hash(), [hash()], 'maybe' as never, hash()),
      400,
      'SUPPLY.INVALID_OUTCOME',
    );
  });

  it('no SupplyChainRegistry at the address: 503 for reads and writes, nothing sent', async () => {
    const nowhere = new ViemSupplyChainRegistry(makerClients, someAddress());
    const before = await sent(makerClients.account.address);
    await expectError(nowhere.lotOf(hash()), 503, 'SUPPLY.CONTRACT_MISSING', /No SupplyChainRegistry/);
    await expectError(
      nowhere.registerProduct(nextGtin(), hash()),
      503,
      'SUPPLY.CONTRACT_MISSING',
      /was not sent/,
    );
    expect(await sent(makerClients.account.address)).toBe(before);
  });

  it('maps every custom error of the ABI to its own code, and an unknown one to 502', () => {
    const sample = (p: AbiParameter): unknown =>
      p.type === 'address'
        ? someAddress()
        : p.type === 'bytes14'
          ? gtinToBytes14('00312345678906')
          : p.type === 'bytes32'
            ? hash()
            : p.type === 'uint8'
              ? 1
              : p.type === 'uint32'
                ? 8
                : 7n;
    const errors = supplyChainRegistryAbi.filter((item) => item.type === 'error');
    const codes = new Set<string>();
    for (const item of errors) {
      const args = item.inputs.map(sample);
      const data = encodeErrorResult({ abi: supplyChainRegistryAbi, errorName: item.name, args } as never);
      const decoded = decodeSupplyChainError(
        new ContractFunctionRevertedError({
          abi: supplyChainRegistryAbi,
          data,
          functionName: 'transferPacks',
        }),
      );
      expect(decoded, item.name).toBeInstanceOf(CareLedgerError);
      const error = decoded as CareLedgerError;
      expect(error.code, item.name).toMatch(/^SUPPLY\.[A-Z_]+$/);
      expect(error.code, item.name).not.toBe('SUPPLY.REJECTED');
      expect([400, 403, 404, 409, 422], item.name).toContain(error.status);
      expect(error.message.length, item.name).toBeGreaterThan(30);
      expect(error.message, item.name).not.toMatch(/undefined|\[object/);
      codes.add(error.code);
    }
    expect(codes.size).toBe(errors.length);

    const unknownAbi = [{ type: 'error', name: 'SupplyChainRegistryFutureRule', inputs: [] }] as const;
    const future = decodeSupplyChainError(
      new ContractFunctionRevertedError({
        abi: unknownAbi,
        data: encodeErrorResult({ abi: unknownAbi, errorName: 'SupplyChainRegistryFutureRule' }),
        functionName: 'transferPacks',
      }),
    );
    expect(future).toBeInstanceOf(SupplyChainRejectedError);
    expect((future as CareLedgerError).status).toBe(502);
    const plain = new Error('not from viem');
    expect(decodeSupplyChainError(plain)).toBe(plain);
  });
});

describe('deployed with the other registries', () => {
  it('is deployed bound to the OrganizationRegistry, remembered, and checked when configured', async () => {
    const fresh = await expectDeployedAndRemembered(admin, 'supplyChainRegistry');
    await expectConfiguredContractChecked(
      admin,
      fresh,
      'supplyChainRegistry',
      'SupplyChainRegistry',
      deploySupplyChainRegistry,
    );
  });

  it('is deployed into a remembered deployment from before it, or that lost it, against its OrganizationRegistry', async () => {
    const deployment = await deployWith(admin);
    const { supplyChainRegistry: _none, deployedNow: _now, ...old } = deployment;
    const memory = rememberingDeployment(old);
    const upgraded = await deployWith(admin, memory);
    expect(upgraded.deployedNow).toBe(false);
    expect(upgraded).toMatchObject(old);
    expect(upgraded.supplyChainRegistry).not.toBe(deployment.supplyChainRegistry);
    expect(await organizationRegistryOf(admin, upgraded.supplyChainRegistry)).toBe(
      getAddress(old.organizationRegistry),
    );
    expect(rememberedDeployment(memory)).toEqual({
      ...old,
      supplyChainRegistry: upgraded.supplyChainRegistry,
    });
    expect((await deployWith(admin, memory)).supplyChainRegistry).toBe(upgraded.supplyChainRegistry);

    const lost = { ...old, supplyChainRegistry: someAddress() };
    expect(await missingContracts(admin, lost)).toEqual(['supplyChainRegistry']);
    const lostMemory = rememberingDeployment(lost);
    const repaired = await deployWith(admin, lostMemory);
    expect(repaired).toMatchObject({ ...old, deployedNow: false });
    expect(await missingContracts(admin, repaired)).toEqual([]);
    expect(rememberedDeployment(lostMemory).supplyChainRegistry).toBe(repaired.supplyChainRegistry);
  });

  it('a node deploys it, lists it on /health, remembers it across a restart, and retrofits it into a remembered deployment without it', async () => {
    const env = { CARELEDGER_ORG_ROLES: 'PROVIDER,MANUFACTURER' };
    let node = await startTestNode(env);
    const dataDir = node.dataDir;
    try {
      const first = addressesOf(node);
      const health = (await (await node.api('/health')).json()) as { contracts: Record<string, string> };
      expect(health.contracts.supplyChainRegistry).toBe(first.supplyChainRegistry);
      expect(node.supplyChainRegistry.contractAddress()).toBe(first.supplyChainRegistry);
      const gtin = nextGtin();
      await node.supplyChainRegistry.registerProduct(gtin, hash());

      // A clean restart: the same registry, still holding the product.
      await node.stop();
      node = await startTestNode(env, dataDir);
      expect(addressesOf(node)).toEqual(first);
      expect(node.supplyChainRegistry.contractAddress()).toBe(first.supplyChainRegistry);
      expect((await node.supplyChainRegistry.productOf(gtin)).manufacturer).toBe(node.organization);

      // A deployment remembered by a build from before the SupplyChainRegistry: the next start deploys one.
      await node.stop();
      const key = `deployment:${CHAIN_ID}`;
      const db = new Database(join(dataDir, 'careledger.db'));
      try {
        const { supplyChainRegistry: _none, ...old } = JSON.parse(
          db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get(key) as string,
        ) as Deployment;
        db.prepare('UPDATE meta SET value = ? WHERE key = ?').run(JSON.stringify(old), key);
      } finally {
        db.close();
      }
      node = await startTestNode(env, dataDir);
      const retrofitted = addressesOf(node);
      const { supplyChainRegistry: _first, ...others } = first;
      expect(retrofitted).toMatchObject(others);
      expect(retrofitted.supplyChainRegistry).not.toBe(first.supplyChainRegistry);
      expect(await codeAt(node, retrofitted.supplyChainRegistry)).toMatch(/^0x[0-9a-f]{100,}$/);
      expect(await onNodeChain(node, retrofitted.supplyChainRegistry)).toBe(
        getAddress(first.organizationRegistry),
      );
      expect(node.supplyChainRegistry.contractAddress()).toBe(retrofitted.supplyChainRegistry);
      const now = (await (await node.api('/health')).json()) as { contracts: Record<string, string> };
      expect(now.contracts.supplyChainRegistry).toBe(retrofitted.supplyChainRegistry);
      // The new registry is empty and takes writes.
      await expectError(node.supplyChainRegistry.productOf(gtin), 404, 'SUPPLY.UNKNOWN_PRODUCT');
      await node.supplyChainRegistry.registerProduct(gtin, hash());

      // ...and is remembered: the start after that reuses it.
      await node.stop();
      node = await startTestNode(env, dataDir);
      expect(node.deployment().supplyChainRegistry).toBe(retrofitted.supplyChainRegistry);
    } finally {
      await node.destroy();
    }
  });

  it('a node redeploys and repoints it when its anvil restarts without it', async () => {
    const node = await startTestNode({ CARELEDGER_ORG_ROLES: 'PROVIDER,MANUFACTURER' });
    try {
      const before = addressesOf(node);
      // A state dumped without the SupplyChainRegistry (e.g. before an upgrade deployed it), then a crash of anvil.
      const after = await redeployedWithout(node, 'supplyChainRegistry', 'SupplyChainRegistry');
      const { supplyChainRegistry: _before, ...others } = before;
      expect(after).toMatchObject(others);
      expect(await codeAt(node, after.supplyChainRegistry)).toMatch(/^0x[0-9a-f]{100,}$/);
      expect(node.supplyChainRegistry.contractAddress()).toBe(after.supplyChainRegistry);
      const gtin = nextGtin();
      await node.supplyChainRegistry.registerProduct(gtin, hash());
      expect((await node.supplyChainRegistry.productOf(gtin)).manufacturer).toBe(node.organization);
    } finally {
      await node.destroy();
    }
  });
});

/** `node`'s deployment without the flag saying whether its start deployed it. */
function addressesOf(node: TestNode): Deployment {
  const { deployedNow: _flag, ...deployment } = node.deployment() as Deployment & { deployedNow?: boolean };
  return deployment;
}

/** The OrganizationRegistry the contract at `address` on `node`'s chain belongs to. */
function onNodeChain(node: TestNode, address: Hex): Promise<Hex> {
  return organizationRegistryOf(createChainClients(node.rpcUrl, CHAIN_ID, generatePrivateKey()), address);
}
