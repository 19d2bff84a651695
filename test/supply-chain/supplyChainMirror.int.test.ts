import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Hex, PublicClient } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CareLedgerError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/logger.js';
import { createChainClients, type ChainClients } from '../../src/ledger/chainClients.js';
import { deploySupplyChainRegistry } from '../../src/ledger/ensureDeployment.js';
import { organizationRegistryAbi } from '../../src/ledger/generated/contracts.js';
import { rolesToMask, type OrganizationRole } from '../../src/ledger/organizationRoles.js';
import { supplyChainLedger } from '../../src/ledger/supplyChainLedger.js';
import { SupplyChainMirror } from '../../src/ledger/supplyChainMirror.js';
import { LotTree, lotIdOf, packIdOf } from '../../src/ledger/supplyChainIds.js';
import { ViemSupplyChainRegistry, type PackStatus } from '../../src/ledger/viemSupplyChainRegistry.js';
import { openDatabase, type SqliteDatabase } from '../../src/store/sqlite/openDatabase.js';
import { SqliteSupplyChainMirrorStore } from '../../src/store/sqlite/sqliteSupplyChainMirrorStore.js';
import { SqliteSupplyStore } from '../../src/store/sqlite/sqliteSupplyStore.js';
import type { MirroredLot, MirroredPack } from '../../src/supply-chain/verification/ports.js';
import { VerificationService } from '../../src/supply-chain/verification/verificationService.js';
import { CHAIN_ID, startDeployedChain, type DeployedChain } from '../helpers/deployedChain.js';
import { eventually, rpc } from '../helpers/inProcessNode.js';
import { fundedTestKey } from '../helpers/testAnvil.js';

/**
 * The registry mirror against a real anvil and real SQLite: a seeded random sequence of commissioning, transfers,
 * dispensing, decommissioning, destruction, quarantines, investigations and recalls by four members; afterwards
 * every product, lot and pack in the mirror equals what `productOf`, `lotOf` and `packStatus` return, and a
 * verification from the mirror equals one from the chain. Then: a restart resumes from the cursor; a redeployed
 * registry starts afresh; a chain that lost or replaced blocks is mirrored afresh; a mirror that is behind is not
 * used.
 */

const SEED = Number(process.env.MIRROR_TEST_SEED ?? Date.now() % 1_000_000);

/** mulberry32: a small seeded PRNG, so a failing sequence can be replayed with MIRROR_TEST_SEED. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const hash = (): Hex => `0x${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('hex')}`;

function gtinOf(n: number): string {
  const first13 = `0400638${String(300_000 + n).padStart(6, '0')}`;
  let sum = 0;
  for (let i = 0; i < 13; i++) sum += Number(first13[i]) * (i % 2 === 0 ? 3 : 1);
  return `${first13}${(10 - (sum % 10)) % 10}`;
}

interface Member {
  name: string;
  address: Hex;
  registry: ViemSupplyChainRegistry;
  roles: OrganizationRole[];
}

interface TestLot {
  gtin: string;
  lot: string;
  lotId: Hex;
  serials: string[];
  tree: LotTree;
}

/** The `packStatus` the contract derives from a lot and a pack record (see `SupplyChainRegistry.packStatus`). */
function statusOf(lot: MirroredLot, pack: MirroredPack | undefined): PackStatus {
  return {
    recorded: pack !== undefined,
    owner: pack?.owner ?? lot.manufacturer,
    state: pack?.state ?? 'active',
    suspect: pack?.suspect ?? false,
    illegitimate: pack?.illegitimate ?? false,
    lotRecalled: lot.recalled,
    lotSuspect: lot.suspect,
    lotIllegitimate: lot.illegitimate,
    lotExpiry: lot.expiry,
    lastTransferAt: pack?.lastTransferAt ?? 0,
  };
}

/** A public client whose `getLogs` ranges are recorded and whose calls fail while `failing` is set. */
function instrumented(client: PublicClient) {
  const control = { failing: false, ranges: [] as { from: number; to: number }[] };
  const proxy = new Proxy(client, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (control.failing) return Promise.reject(new Error('RPC unavailable (test)'));
        if (key === 'getLogs') {
          const a = args[0] as { fromBlock: bigint; toBlock: bigint };
          control.ranges.push({ from: Number(a.fromBlock), to: Number(a.toBlock) });
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { client: proxy, control };
}

describe('the SupplyChainRegistry mirror', () => {
  let chain: DeployedChain;
  let dir: string;
  let db: SqliteDatabase;
  let store: SqliteSupplyChainMirrorStore;
  let mirror: SupplyChainMirror;
  let registryAddress: Hex;
  const registryRef = { contractAddress: () => registryAddress };
  const members: Record<'maker' | 'wholesaler' | 'pharmacy' | 'regulator', Member> = {} as never;
  const lots: TestLot[] = [];
  let gtins = 0;
  const rnd = prng(SEED);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rnd() * items.length)] as T;

  const newMirror = (client: PublicClient, options: { newHeads?: boolean; maxAgeMs?: number } = {}) => {
    const m = new SupplyChainMirror({
      publicClient: client,
      registry: registryRef,
      store,
      startBlock: () => chain.deployment.deployedAtBlock,
      pollingIntervalMs: 50,
      maxAgeMs: options.maxAgeMs,
      newHeadsUrl: options.newHeads === false ? null : chain.anvil.rpcUrl.replace(/^http/, 'ws'),
      logger: silentLogger,
    });
    m.start();
    return m;
  };
  const head = async () => Number(await chain.clients.publicClient.getBlockNumber({ cacheTime: 0 }));
  const caughtUp = async (m: SupplyChainMirror) => {
    const block = await head();
    await eventually(async () => m.status().current && m.lastAppliedBlock >= block, 'the mirror to catch up');
  };

  async function admit(name: string, roles: OrganizationRole[]): Promise<Member> {
    const clients: ChainClients = createChainClients(
      chain.anvil.rpcUrl,
      CHAIN_ID,
      await fundedTestKey(chain.anvil.rpcUrl),
    );
    const tx = await chain.clients.walletClient.writeContract({
      address: chain.deployment.organizationRegistry,
      abi: organizationRegistryAbi,
      functionName: 'admit',
      args: [clients.account.address, name, rolesToMask(roles), 'https://gw.example.org', '0x'],
    });
    expect((await chain.clients.publicClient.waitForTransactionReceipt({ hash: tx })).status).toBe('success');
    return {
      name,
      address: clients.account.address,
      registry: new ViemSupplyChainRegistry(clients, registryAddress),
      roles,
    };
  }

  /** The maker registers a new product (every other call) and commissions a lot of `size` packs of it. */
  async function commission(size: number): Promise<TestLot> {
    const maker = members.maker.registry;
    const gtin = lots.length % 2 === 0 || lots.length === 0 ? gtinOf(gtins++) : (lots.at(-1) as TestLot).gtin;
    if (lots.every((l) => l.gtin !== gtin)) await maker.registerProduct(gtin, hash());
    const lot = `L${lots.length}X${SEED % 1000}`;
    const serials = Array.from({ length: size }, (_, i) => `S${lots.length}-${i}`);
    const tree = new LotTree(serials.map((s) => packIdOf(gtin, s)));
    const expiry = new Date(Date.now() + 400 * 86_400_000);
    const { lotId } = await maker.commissionLot({
      gtin,
      lot,
      serialsRoot: tree.root,
      packCount: size,
      expiry,
    });
    const made = { gtin, lot, lotId, serials, tree };
    lots.push(made);
    return made;
  }

  const ref = (lot: TestLot, serial: string) => {
    const packId = packIdOf(lot.gtin, serial);
    return { packId, proof: lot.tree.proof(packId) };
  };
  const statusNow = (lot: TestLot, serial: string) =>
    members.maker.registry.packStatus(lot.lotId, packIdOf(lot.gtin, serial));
  const memberAt = (address: Hex) =>
    Object.values(members).find((m) => m.address.toLowerCase() === address.toLowerCase());

  /** One random operation, acted by whoever may plausibly do it; resolves whether the chain accepted it. */
  async function randomOperation(): Promise<string | null> {
    const lot = pick(lots);
    const serials = [...new Set(Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => pick(lot.serials)))];
    const first = await statusNow(lot, serials[0] as string);
    const owner = memberAt(first.owner) ?? members.maker;
    // Only the packs the first one's owner holds go together (a batch is all or nothing).
    const mine: string[] = [];
    for (const serial of serials) {
      if ((await statusNow(lot, serial)).owner === first.owner) mine.push(serial);
    }
    const refs = mine.map((s) => ref(lot, s));
    const roll = rnd();
    try {
      if (roll < 0.3) {
        const to = pick(
          [members.maker, members.wholesaler, members.pharmacy].filter((m) => m.address !== owner.address),
        );
        await owner.registry.transferPacks({
          lotId: lot.lotId,
          packs: refs,
          to: to.address,
          transactionRef: hash(),
        });
        return `transfer ${mine.join(',')} ${owner.name}→${to.name}`;
      }
      if (roll < 0.42) {
        await owner.registry.dispense(lot.lotId, refs);
        return `dispense ${mine.join(',')} by ${owner.name}`;
      }
      if (roll < 0.48) {
        await owner.registry.decommission(lot.lotId, refs, hash());
        return `decommission ${mine.join(',')}`;
      }
      if (roll < 0.54) {
        await owner.registry.destroy(lot.lotId, refs, hash());
        return `destroy ${mine.join(',')}`;
      }
      if (roll < 0.68) {
        const by = pick([owner, members.maker, members.regulator]);
        await by.registry.markSuspect(lot.lotId, refs, hash());
        return `suspect ${mine.join(',')} by ${by.name}`;
      }
      if (roll < 0.8) {
        const suspects: string[] = [];
        for (const serial of lot.serials) if ((await statusNow(lot, serial)).suspect) suspects.push(serial);
        if (suspects.length === 0) return null;
        const outcome = rnd() < 0.6 ? 'cleared' : 'illegitimate';
        await members.regulator.registry.recordInvestigation(
          lot.lotId,
          suspects.slice(0, 2).map((s) => packIdOf(lot.gtin, s)),
          outcome,
          hash(),
        );
        return `investigate ${suspects.slice(0, 2).join(',')}: ${outcome}`;
      }
      if (roll < 0.86) {
        await pick([members.maker, members.regulator]).registry.markLotSuspect(lot.lotId, hash());
        return `suspect lot ${lot.lot}`;
      }
      if (roll < 0.93) {
        const suspect: TestLot[] = [];
        for (const l of lots) if ((await members.maker.registry.lotOf(l.lotId)).suspect) suspect.push(l);
        if (suspect.length === 0) return null;
        const which = pick(suspect);
        const outcome = rnd() < 0.75 ? 'cleared' : 'illegitimate';
        await members.regulator.registry.recordLotInvestigation(which.lotId, outcome, hash());
        return `investigate lot ${which.lot}: ${outcome}`;
      }
      if (roll < 0.97) {
        await pick([members.maker, members.regulator]).registry.recallLot(lot.lotId, hash());
        return `recall lot ${lot.lot}`;
      }
      await commission(4);
      return 'commission a lot';
    } catch (error) {
      if (error instanceof CareLedgerError && error.code.startsWith('SUPPLY.')) return null; // refused: nothing sent
      throw error;
    }
  }

  /** Every product, lot and pack of the mirror equals the chain's, and verifications agree. */
  async function expectMirrorEqualsChain(m: SupplyChainMirror): Promise<void> {
    await caughtUp(m);
    const state = store.state(registryAddress);
    const maker = members.maker.registry;
    for (const gtin of new Set(lots.map((l) => l.gtin))) {
      expect({ gtin, ...state.product(gtin) }, `product ${gtin}`).toEqual(await maker.productOf(gtin));
    }
    for (const lot of lots) {
      const mirrored = state.lot(lot.lotId);
      expect({ lotId: lot.lotId, ...mirrored }, `lot ${lot.lot}`).toEqual(await maker.lotOf(lot.lotId));
      // Every pack of the lot, and one that is not in it.
      for (const serial of [...lot.serials, 'NOT-IN-LOT']) {
        const packId = packIdOf(lot.gtin, serial);
        expect(
          statusOf(mirrored as MirroredLot, state.pack(lot.lotId, packId)),
          `${lot.lot}/${serial}`,
        ).toEqual(await maker.packStatus(lot.lotId, packId));
      }
    }
    // What verification reads: the mirror's answers (with the block they reflect) equal the chain's.
    const packs = new SqliteSupplyStore(db);
    const fromMirror = new VerificationService({ ledger: supplyChainLedger(maker), packs, state: m });
    const fromChain = new VerificationService({ ledger: supplyChainLedger(maker), packs });
    for (const lot of lots) {
      for (const serial of [...lot.serials, 'NOT-IN-LOT']) {
        const query = { gtin: lot.gtin, lot: lot.lot, serial };
        const { asOfBlock, ...answer } = await fromMirror.verify(query);
        expect(asOfBlock, 'answered from the mirror').toBeGreaterThanOrEqual(0);
        expect(answer, `${lot.lot}/${serial}`).toEqual(await fromChain.verify(query));
      }
    }
  }

  beforeAll(async () => {
    chain = await startDeployedChain();
    registryAddress = chain.deployment.supplyChainRegistry;
    members.maker = await admit('maker', ['MANUFACTURER', 'DISPENSER']);
    members.wholesaler = await admit('wholesaler', ['DISTRIBUTOR']);
    members.pharmacy = await admit('pharmacy', ['DISPENSER']);
    members.regulator = await admit('regulator', ['REGULATOR']);
    dir = mkdtempSync(join(tmpdir(), 'careledger-mirror-'));
    db = openDatabase(join(dir, 'careledger.db'));
    store = new SqliteSupplyChainMirrorStore(db);
  }, 60_000);
  afterAll(async () => {
    await mirror?.stop();
    db?.close();
    await chain?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it(`equals the chain after a random sequence of operations (seed ${SEED})`, async () => {
    mirror = newMirror(chain.clients.publicClient as PublicClient);
    for (let i = 0; i < 3; i++) await commission(6);
    // The serials as a manufacturer's gateway knows them, so "commissioned" is shown against the lot's root.
    new SqliteSupplyStore(db).recordPacks(
      lots.flatMap((l) =>
        l.serials.map((serial) => ({
          gtin: l.gtin,
          serial,
          lot: l.lot,
          expiry: null,
          origin: 'commissioned' as const,
        })),
      ),
    );
    const done: string[] = [];
    for (let i = 0; i < 70; i++) {
      const step = await randomOperation();
      if (step) done.push(step);
      if (i === 35) await expectMirrorEqualsChain(mirror); // midway too, while the poller runs
    }
    expect(done.length, `operations the chain accepted: ${done.join('; ')}`).toBeGreaterThanOrEqual(20);
    await expectMirrorEqualsChain(mirror);
  });

  it('resumes from its cursor after a restart, without reading the registry from its deployment again', async () => {
    await caughtUp(mirror);
    await mirror.stop();
    const before = store.cursor(registryAddress);
    expect(before?.block).toBeGreaterThan(chain.deployment.deployedAtBlock);
    db.close();
    // Meanwhile the chain moves on.
    const lot = lots[0] as TestLot;
    await members.regulator.registry.recallLot(lot.lotId, hash()).catch(() => undefined);
    await commission(3);

    db = openDatabase(join(dir, 'careledger.db'));
    store = new SqliteSupplyChainMirrorStore(db);
    expect(store.cursor(registryAddress)).toEqual(before);
    const { client, control } = instrumented(chain.clients.publicClient as PublicClient);
    mirror = newMirror(client);
    await expectMirrorEqualsChain(mirror);
    expect(control.ranges.length).toBeGreaterThan(0);
    expect(control.ranges[0]?.from).toBe((before?.block as number) + 1);
    expect(Math.min(...control.ranges.map((r) => r.from))).toBeGreaterThan(before?.block as number);
  });

  it('mirrors a chain that lost or replaced blocks afresh', async () => {
    const lot = await commission(2); // never recalled
    await caughtUp(mirror);
    const snapshot = (await rpc(chain.anvil.rpcUrl, 'evm_snapshot')) as string;
    await members.maker.registry.recallLot(lot.lotId, hash());
    await caughtUp(mirror);
    expect(store.state(registryAddress).lot(lot.lotId)?.recalled).toBe(true);
    await mirror.stop();
    const cursor = store.cursor(registryAddress);
    // Back to before the recall, then one other block at the recall's height: same height, another hash.
    await rpc(chain.anvil.rpcUrl, 'evm_revert', [snapshot]);
    await rpc(chain.anvil.rpcUrl, 'evm_mine');
    expect(await head()).toBe(cursor?.block);
    mirror = newMirror(chain.clients.publicClient as PublicClient);
    await expectMirrorEqualsChain(mirror);
    expect(store.state(registryAddress).lot(lot.lotId)?.recalled).toBe(false);
    // And a chain whose head falls below the cursor.
    const again = (await rpc(chain.anvil.rpcUrl, 'evm_snapshot')) as string;
    await members.maker.registry.recallLot(lot.lotId, hash());
    await caughtUp(mirror);
    await rpc(chain.anvil.rpcUrl, 'evm_revert', [again]);
    await eventually(async () => store.state(registryAddress).lot(lot.lotId)?.recalled === false, 'afresh');
    await expectMirrorEqualsChain(mirror);
  });

  it('is not used while it is behind: answers come from the chain, and are never stale for long', async () => {
    await mirror.stop();
    const { client, control } = instrumented(chain.clients.publicClient as PublicClient);
    const behind = newMirror(client, { newHeads: false, maxAgeMs: 300 });
    mirror = behind;
    await caughtUp(behind);
    const packs = new SqliteSupplyStore(db);
    const service = new VerificationService({
      ledger: supplyChainLedger(members.maker.registry),
      packs,
      state: behind,
    });
    const lot = await commission(2);
    packs.recordPacks(
      lot.serials.map((serial) => ({
        gtin: lot.gtin,
        serial,
        lot: lot.lot,
        expiry: null,
        origin: 'commissioned',
      })),
    );
    const query = { gtin: lot.gtin, lot: lot.lot, serial: lot.serials[0] as string };
    const first = await eventually(async () => {
      const answer = await service.verify(query);
      return answer.asOfBlock !== undefined && answer.verified ? answer : undefined;
    }, 'a verified answer from the mirror');
    expect(first).toMatchObject({ verified: true, recorded: false });

    control.failing = true; // the RPC fails for the mirror (its poller keeps trying)
    const recall = await members.maker.registry.recallLot(lot.lotId, hash());
    const fallback = await eventually(async () => {
      const answer = await service.verify(query);
      return answer.verified ? undefined : answer;
    }, 'the recall to be answered');
    expect(fallback).toMatchObject({ verified: false, reason: 'RECALLED' });
    expect(fallback.asOfBlock, 'answered from the chain').toBeUndefined();
    expect(behind.status().current).toBe(false);

    control.failing = false; // the mirror recovers and answers again, from the recall's block on
    const recovered = await eventually(async () => {
      const answer = await service.verify(query);
      return answer.asOfBlock !== undefined ? answer : undefined;
    }, 'the mirror to answer again');
    expect(recovered).toMatchObject({ verified: false, reason: 'RECALLED' });
    expect(recovered.asOfBlock).toBeGreaterThanOrEqual(recall.blockNumber);

    await behind.stop(); // a stopped mirror is never used either
    const stopped = await service.verify(query);
    expect(stopped).toMatchObject({ verified: false, reason: 'RECALLED' });
    expect(stopped.asOfBlock).toBeUndefined();
  });

  it('starts afresh for a redeployed registry, forgetting the old one', async () => {
    mirror = newMirror(chain.clients.publicClient as PublicClient);
    await caughtUp(mirror);
    const old = registryAddress;
    const oldLot = lots[0] as TestLot;
    registryAddress = await deploySupplyChainRegistry(chain.clients, chain.deployment.organizationRegistry);
    for (const m of Object.values(members)) m.registry.useContract(registryAddress);
    await eventually(
      async () => mirror.status().contract === registryAddress.toLowerCase(),
      'the new registry',
    );
    expect(store.cursor(old)).toBeUndefined();
    expect(store.state(registryAddress).lot(oldLot.lotId)).toBeUndefined();
    lots.length = 0;
    const lot = await commission(3);
    await members.maker.registry.transferPacks({
      lotId: lot.lotId,
      packs: [ref(lot, lot.serials[0] as string)],
      to: members.wholesaler.address,
      transactionRef: hash(),
    });
    await expectMirrorEqualsChain(mirror);
    expect(lotIdOf(lot.gtin, lot.lot)).toBe(lot.lotId);
  });
});
