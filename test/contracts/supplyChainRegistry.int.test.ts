import {
  createTestClient,
  getAddress,
  http,
  zeroAddress,
  zeroHash,
  type Address,
  type Hex,
  type TransactionReceipt,
} from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { supplyChainRegistryAbi, supplyChainRegistryBytecode } from '../../src/ledger/generated/contracts.js';
import {
  ORGANIZATION_ROLES,
  rolesToMask,
  type OrganizationRole,
} from '../../src/ledger/organizationRoles.js';
import type { SupplyChainWriteName } from '../../src/ledger/viemSupplyChainRegistry.js';
import {
  gtinToBytes14,
  LOT_ID_DOMAIN,
  LotTree,
  lotHashOf,
  lotIdOf,
  PACK_ID_DOMAIN,
  packIdOf,
  packLeaf,
} from '../../src/ledger/supplyChainIds.js';
import type { TestAnvil } from '../helpers/testAnvil.js';
import {
  chain,
  contractCoverage,
  deployed,
  mined,
  randomBytes32,
  startConsortium,
  testPublicClient,
  type Consortium,
  type TestActor,
} from './chain.js';

const abi = supplyChainRegistryAbi;

/** `PackState` and `InvestigationOutcome` as the ABI carries them (uint8). */
const ACTIVE = 0;
const DISPENSED = 1;
const DECOMMISSIONED = 2;
const DESTROYED = 3;
const CLEARED = 0;
const ILLEGITIMATE = 1;

const MANUFACTURER = ORGANIZATION_ROLES.MANUFACTURER;
const DISPENSER = ORGANIZATION_ROLES.DISPENSER;
const TRADING_ROLES = rolesToMask(['MANUFACTURER', 'DISTRIBUTOR', 'DISPENSER']);

/**
 * Gas budgets for 100-pack batches (regression guards, about 10 % above the measured figures; the block gas limit
 * is 30M on anvil and Ethereum, usually more on a consortium chain): the packs' first move out of a lot of 10,000
 * (~3.85M, of which ~0.8M is the calldata of their 13- or 14-hash proofs and 2.2M a new storage slot per pack), a
 * later move (~3.32M: empty proofs, but the sender is recorded as a former holder of each pack, a new slot per
 * pack) and dispensing them (~1.0M).
 */
const FIRST_MOVE_100_GAS_BUDGET = 4_200_000n;
const LATER_MOVE_100_GAS_BUDGET = 3_650_000n;
const DISPENSE_100_GAS_BUDGET = 1_100_000n;

let anvil: TestAnvil;
let client: ReturnType<typeof testPublicClient>;
let testClient: ReturnType<typeof createTestClient>;
let admin: TestActor;
let organizations: Address;
let registry: Address;
/** Members by role, plus an outsider that was never admitted. */
let maker: TestActor; // MANUFACTURER
let rival: TestActor; // MANUFACTURER of other products
let wholesaler: TestActor; // DISTRIBUTOR
let wholesaler2: TestActor; // DISTRIBUTOR
let pharmacy: TestActor; // DISPENSER
let pharmacy2: TestActor; // DISPENSER
let regulator: TestActor; // REGULATOR
let hospital: TestActor; // PROVIDER: active, but not a trading role
let outsider: TestActor;

const coverage = contractCoverage(abi);
const reverts = coverage.reverts;

/** The registry's events in `receipt`, as `[name, args]`. */
const events = (receipt: TransactionReceipt) =>
  coverage.events(receipt) as [string, Record<string, unknown>][];

/** Sends `functionName(...args)` from `actor` and returns the successful receipt. */
async function send(actor: TestActor, functionName: SupplyChainWriteName, args: readonly unknown[]) {
  const hash = await actor.wallet.writeContract({ address: registry, abi, functionName, args } as never);
  return mined(client, hash);
}

/** Simulates `functionName(...args)` from `actor` (nothing is sent). */
function simulate(actor: TestActor, functionName: SupplyChainWriteName, args: readonly unknown[]) {
  return client.simulateContract({
    address: registry,
    abi,
    functionName,
    args,
    account: actor.wallet.account,
  } as never);
}

function read(functionName: string, args: readonly unknown[] = []): Promise<any> {
  return client.readContract({ address: registry, abi, functionName, args } as never);
}

let consortium: Consortium;

const admit = (name: string, roles: OrganizationRole[]): Promise<TestActor> =>
  consortium.admitNew(name, rolesToMask(roles));

const setSuspended = (org: TestActor, suspended: boolean): Promise<void> =>
  consortium.setSuspended(org, suspended, 'licence under review');

/** The chain's clock (moved ahead of the wall clock by the expiry tests). */
async function now(): Promise<bigint> {
  return (await client.getBlock()).timestamp;
}

const TEN_YEARS = 10n * 365n * 24n * 3600n;

let gtinCounter = 0;
/** A fresh valid GTIN-14 (GS1 company prefix 0614141, check digit computed). */
function nextGtin(): string {
  const first13 = `0614141${String(100_000 + gtinCounter++).padStart(6, '0')}`;
  let sum = 0;
  for (let i = 0; i < 13; i++) sum += Number(first13[i]) * (i % 2 === 0 ? 3 : 1);
  return `${first13}${(10 - (sum % 10)) % 10}`;
}

interface TestLot {
  manufacturer: TestActor;
  gtin: string;
  gtinHex: Hex;
  lotNumber: string;
  lotId: Hex;
  packIds: Hex[];
  tree: LotTree;
  expiry: bigint;
}

let lotCounter = 0;

/** Registers `gtin` for `manufacturer` (a new product unless given) and commissions a lot of `size` packs. */
async function newLot(
  manufacturer: TestActor,
  size: number,
  options: { gtin?: string; expiry?: bigint } = {},
): Promise<TestLot> {
  const gtin = options.gtin ?? nextGtin();
  const gtinHex = gtinToBytes14(gtin);
  if (!options.gtin) await send(manufacturer, 'registerProduct', [gtinHex, randomBytes32()]);
  const lotNumber = `LOT${++lotCounter}`;
  const lotId = lotIdOf(gtin, lotNumber);
  const packIds = Array.from({ length: size }, (_, i) => packIdOf(gtin, `${lotNumber}S${i}`));
  const tree = new LotTree(packIds);
  const expiry = options.expiry ?? (await now()) + TEN_YEARS;
  await send(manufacturer, 'commissionLot', [gtinHex, lotHashOf(lotNumber), tree.root, size, expiry]);
  return { manufacturer, gtin, gtinHex, lotNumber, lotId, packIds, tree, expiry };
}

const proofsOf = (lot: TestLot, packIds: readonly Hex[]) => packIds.map((id) => lot.tree.proof(id));
const noProofs = (packIds: readonly Hex[]) => packIds.map(() => [] as Hex[]);

/** `transferPacks` arguments, with proofs for each pack (harmless for packs already recorded). */
const transferArgs = (lot: TestLot, packIds: readonly Hex[], to: Address, ref: Hex = randomBytes32()) => [
  lot.lotId,
  packIds,
  proofsOf(lot, packIds),
  to,
  ref,
];

const transfer = (from: TestActor, lot: TestLot, packIds: readonly Hex[], to: TestActor) =>
  send(from, 'transferPacks', transferArgs(lot, packIds, to.address));

/** A lot of `size` packs moved to `holder` through `wholesaler` (when the holder is not the wholesaler). */
async function lotAt(holder: TestActor, size = 4): Promise<TestLot> {
  const lot = await newLot(maker, size);
  await transfer(maker, lot, lot.packIds, wholesaler);
  if (holder !== wholesaler) await transfer(wholesaler, lot, lot.packIds, holder);
  return lot;
}

interface Status {
  recorded: boolean;
  owner: Address;
  state: number;
  suspect: boolean;
  illegitimate: boolean;
  lotRecalled: boolean;
  lotSuspect: boolean;
  lotIllegitimate: boolean;
  lotExpiry: bigint;
  lastTransferAt: bigint;
}

const status = (lot: TestLot, packId: Hex): Promise<Status> => read('packStatus', [lot.lotId, packId]);

/** Asserts the status of `packId` has the given fields (the rest unchecked). */
async function expectStatus(lot: TestLot, packId: Hex, expected: Partial<Status>): Promise<Status> {
  const actual = await status(lot, packId);
  expect(actual).toMatchObject(expected);
  return actual;
}

beforeAll(async () => {
  consortium = await startConsortium();
  ({ anvil, client, admin, outsider, organizations } = consortium);
  testClient = createTestClient({ mode: 'anvil', chain, transport: http(anvil.rpcUrl) });
  maker = await admit('Example Pharma', ['MANUFACTURER']);
  rival = await admit('Other Pharma', ['MANUFACTURER']);
  wholesaler = await admit('Wholesale Co', ['DISTRIBUTOR']);
  wholesaler2 = await admit('Logistics Co', ['DISTRIBUTOR']);
  pharmacy = await admit('Corner Pharmacy', ['DISPENSER']);
  pharmacy2 = await admit('Hospital Pharmacy', ['DISPENSER']);
  regulator = await admit('Medicines Agency', ['REGULATOR']);
  hospital = await admit('St. Example Hospital', ['PROVIDER']);
  registry = await deployed(
    client,
    admin.wallet.deployContract({ abi, bytecode: supplyChainRegistryBytecode, args: [organizations] }),
  );
});

afterAll(async () => {
  await consortium?.stop();
});

describe('deployment and identifiers', () => {
  it('rejects the zero organisation registry and is bound to its registry', async () => {
    await reverts(
      admin.wallet.deployContract({ abi, bytecode: supplyChainRegistryBytecode, args: [zeroAddress] }),
      'SupplyChainRegistryZeroAddress',
    );
    expect(await read('organizationRegistry')).toBe(organizations);
    expect(await read('MAX_BATCH_SIZE')).toBe(256n);
  });

  it('computes pack ids, lot ids and leaves exactly as the TypeScript helpers do', async () => {
    const gtin = '00312345678906';
    const gtinHex = gtinToBytes14(gtin);
    expect(await read('PACK_ID_DOMAIN')).toBe(PACK_ID_DOMAIN);
    expect(await read('LOT_ID_DOMAIN')).toBe(LOT_ID_DOMAIN);
    for (const value of ['1', 'SN-0001', 'AbC/12.3_x', `!"%&'()*+,-./:;<=>?_`]) {
      expect(await read('packIdOf', [gtinHex, value]), value).toBe(packIdOf(gtin, value));
      expect(await read('lotIdOf', [gtinHex, value]), value).toBe(lotIdOf(gtin, value));
    }
    const packId = packIdOf(gtin, 'SN-0001');
    expect(await read('packLeaf', [packId])).toBe(packLeaf(packId));
  });

  it('refuses malformed GTINs, serials and lot numbers', async () => {
    const good = gtinToBytes14('00312345678906');
    for (const bad of ['00312345678907', '0031234567890A', ' 0312345678906']) {
      const hex = `0x${Buffer.from(bad, 'latin1').toString('hex')}` as Hex;
      await reverts(read('packIdOf', [hex, 'S1']), 'SupplyChainRegistryInvalidGtin', [hex]);
    }
    for (const bad of ['', 'x'.repeat(21), 'SN 1', 'SN#1', 'é']) {
      await reverts(read('packIdOf', [good, bad]), 'SupplyChainRegistryInvalidSerial');
      await reverts(read('lotIdOf', [good, bad]), 'SupplyChainRegistryInvalidLotNumber');
    }
    expect(await read('packIdOf', [good, 'x'.repeat(20)])).toBe(packIdOf('00312345678906', 'x'.repeat(20)));
  });
});

describe('products', () => {
  it('registers a GTIN to its manufacturer, once', async () => {
    const gtin = gtinToBytes14(nextGtin());
    const metadataHash = randomBytes32();
    const receipt = await send(maker, 'registerProduct', [gtin, metadataHash]);
    expect(events(receipt)).toEqual([
      ['ProductRegistered', { gtin, manufacturer: getAddress(maker.address), metadataHash }],
    ]);
    const block = await client.getBlock({ blockNumber: receipt.blockNumber });
    expect(await read('productOf', [gtin])).toEqual({
      manufacturer: getAddress(maker.address),
      registeredAt: block.timestamp,
      lotCount: 0,
      metadataHash,
    });
    await reverts(
      simulate(rival, 'registerProduct', [gtin, randomBytes32()]),
      'SupplyChainRegistryProductExists',
      [gtin, maker.address],
    );
    await reverts(
      simulate(maker, 'registerProduct', [gtin, randomBytes32()]),
      'SupplyChainRegistryProductExists',
      [gtin, maker.address],
    );
  });

  it('refuses a bad GTIN, a zero metadata hash, a non-manufacturer and a non-member', async () => {
    const bad = `0x${Buffer.from('00312345678907').toString('hex')}` as Hex;
    await reverts(
      simulate(maker, 'registerProduct', [bad, randomBytes32()]),
      'SupplyChainRegistryInvalidGtin',
      [bad],
    );
    const gtin = gtinToBytes14(nextGtin());
    await reverts(
      simulate(maker, 'registerProduct', [gtin, zeroHash]),
      'SupplyChainRegistryMissingReference',
    );
    await reverts(
      simulate(wholesaler, 'registerProduct', [gtin, randomBytes32()]),
      'SupplyChainRegistryMissingRole',
      [wholesaler.address, MANUFACTURER],
    );
    await reverts(
      simulate(outsider, 'registerProduct', [gtin, randomBytes32()]),
      'SupplyChainRegistryUnauthorizedOrganization',
      [outsider.address],
    );
    await reverts(read('productOf', [gtin]), 'SupplyChainRegistryUnknownProduct', [gtin]);
  });
});

describe('lots', () => {
  it('commissions a lot of the manufacturer product: lot, counters, Merkle membership, packs owned by the maker', async () => {
    const countBefore = (await read('lotCount')) as bigint;
    const lot = await newLot(maker, 5);
    const lotIndex = countBefore;
    expect(await read('lotCount')).toBe(countBefore + 1n);
    expect(await read('lotIdAt', [lotIndex])).toBe(lot.lotId);
    await reverts(read('lotIdAt', [lotIndex + 1n]), 'SupplyChainRegistryIndexOutOfBounds', [
      lotIndex + 1n,
      lotIndex + 1n,
    ]);
    const stored = await read('lotOf', [lot.lotId]);
    expect(stored).toMatchObject({
      gtin: lot.gtinHex,
      manufacturer: getAddress(maker.address),
      serialsRoot: lot.tree.root,
      packCount: 5,
      expiry: lot.expiry,
      recalled: false,
      recalledAt: 0n,
      suspect: false,
      illegitimate: false,
      quarantinedBy: zeroAddress,
    });
    expect((await read('productOf', [lot.gtinHex])).lotCount).toBe(1);

    for (const id of lot.packIds) {
      expect(await read('isInLot', [lot.lotId, id, lot.tree.proof(id)])).toBe(true);
      // Untouched packs: nothing recorded, owned by the manufacturer if (a proof shows) they are in the lot.
      expect(await status(lot, id)).toEqual({
        recorded: false,
        owner: getAddress(maker.address),
        state: ACTIVE,
        suspect: false,
        illegitimate: false,
        lotRecalled: false,
        lotSuspect: false,
        lotIllegitimate: false,
        lotExpiry: lot.expiry,
        lastTransferAt: 0n,
      });
    }
    const stranger = packIdOf(lot.gtin, 'NOT-IN-LOT');
    expect(await read('isInLot', [lot.lotId, stranger, lot.tree.proof(lot.packIds[0] as Hex)])).toBe(false);
    expect(await read('isInLot', [lot.lotId, lot.packIds[0], lot.tree.proof(lot.packIds[1] as Hex)])).toBe(
      false,
    );
  });

  it('emits LotCommissioned with the root, count and expiry', async () => {
    const gtin = nextGtin();
    const gtinHex = gtinToBytes14(gtin);
    await send(maker, 'registerProduct', [gtinHex, randomBytes32()]);
    const lotId = lotIdOf(gtin, 'L-EVENT');
    const root = randomBytes32();
    const expiry = (await now()) + TEN_YEARS;
    const args = [gtinHex, lotHashOf('L-EVENT'), root, 1000, expiry];
    // The contract derives the lot id from the GTIN and the lot number's hash, and returns it.
    expect((await simulate(maker, 'commissionLot', args)).result).toBe(lotId);
    const receipt = await send(maker, 'commissionLot', args);
    expect(events(receipt)).toEqual([
      [
        'LotCommissioned',
        {
          lotId,
          gtin: gtinHex,
          manufacturer: getAddress(maker.address),
          serialsRoot: root,
          packCount: 1000,
          expiry,
        },
      ],
    ]);
  });

  it('refuses every malformed or unauthorised commissioning', async () => {
    const gtin = nextGtin();
    const gtinHex = gtinToBytes14(gtin);
    const lotId = lotIdOf(gtin, 'L1');
    const root = randomBytes32();
    const expiry = (await now()) + TEN_YEARS;
    const args = (over: Partial<Record<'gtin' | 'lotHash' | 'root' | 'count' | 'expiry', unknown>> = {}) => [
      over.gtin ?? gtinHex,
      over.lotHash ?? lotHashOf('L1'),
      over.root ?? root,
      over.count ?? 10,
      over.expiry ?? expiry,
    ];
    await reverts(simulate(maker, 'commissionLot', args()), 'SupplyChainRegistryUnknownProduct', [gtinHex]);
    await send(maker, 'registerProduct', [gtinHex, randomBytes32()]);
    await reverts(simulate(rival, 'commissionLot', args()), 'SupplyChainRegistryNotProductOwner', [
      gtinHex,
      rival.address,
    ]);
    await reverts(simulate(pharmacy, 'commissionLot', args()), 'SupplyChainRegistryMissingRole', [
      pharmacy.address,
      MANUFACTURER,
    ]);
    await reverts(
      simulate(outsider, 'commissionLot', args()),
      'SupplyChainRegistryUnauthorizedOrganization',
      [outsider.address],
    );
    await reverts(
      simulate(maker, 'commissionLot', args({ lotHash: zeroHash })),
      'SupplyChainRegistryInvalidLotHash',
    );
    await reverts(simulate(maker, 'commissionLot', args({ root: zeroHash })), 'SupplyChainRegistryEmptyLot');
    await reverts(simulate(maker, 'commissionLot', args({ count: 0 })), 'SupplyChainRegistryEmptyLot');
    const past = (await now()) - 1n;
    await reverts(
      simulate(maker, 'commissionLot', args({ expiry: past })),
      'SupplyChainRegistryInvalidExpiry',
      [past],
    );
    await send(maker, 'commissionLot', args());
    await reverts(
      simulate(maker, 'commissionLot', args({ root: randomBytes32() })),
      'SupplyChainRegistryLotExists',
      [lotId],
    );
    // Views of a lot that does not exist.
    const unknown = randomBytes32();
    await reverts(read('lotOf', [unknown]), 'SupplyChainRegistryUnknownLot', [unknown]);
    await reverts(read('packStatus', [unknown, randomBytes32()]), 'SupplyChainRegistryUnknownLot', [unknown]);
    await reverts(read('isInLot', [unknown, randomBytes32(), []]), 'SupplyChainRegistryUnknownLot', [
      unknown,
    ]);
  });

  it('refuses a suspended manufacturer until it is reinstated', async () => {
    const member = await admit('Suspended Pharma', ['MANUFACTURER']);
    await setSuspended(member, true);
    const gtin = gtinToBytes14(nextGtin());
    try {
      await reverts(
        simulate(member, 'registerProduct', [gtin, randomBytes32()]),
        'SupplyChainRegistryUnauthorizedOrganization',
        [member.address],
      );
    } finally {
      await setSuspended(member, false);
    }
    await send(member, 'registerProduct', [gtin, randomBytes32()]);
  });
});

describe('transfers', () => {
  it('moves packs with their proofs on the first move, one PackTransferred per pack, and without proofs after', async () => {
    const lot = await newLot(maker, 6);
    const [a, b, c] = lot.packIds as [Hex, Hex, Hex];
    const ref = randomBytes32();
    const first = await send(maker, 'transferPacks', transferArgs(lot, [a, b, c], wholesaler.address, ref));
    const from = getAddress(maker.address);
    const to = getAddress(wholesaler.address);
    expect(events(first)).toEqual(
      [a, b, c].map((packId) => [
        'PackTransferred',
        { packId, lotId: lot.lotId, to, from, transactionRef: ref },
      ]),
    );
    const at = (await client.getBlock({ blockNumber: first.blockNumber })).timestamp;
    await expectStatus(lot, a, { recorded: true, owner: to, state: ACTIVE, lastTransferAt: at });
    await expectStatus(lot, lot.packIds[3] as Hex, { recorded: false, owner: from }); // not moved

    // Recorded packs move on their stored state: empty proofs suffice.
    const ref2 = randomBytes32();
    const second = await send(wholesaler, 'transferPacks', [
      lot.lotId,
      [a, b],
      noProofs([a, b]),
      pharmacy.address,
      ref2,
    ]);
    expect(events(second)).toEqual(
      [a, b].map((packId) => [
        'PackTransferred',
        { packId, lotId: lot.lotId, to: getAddress(pharmacy.address), from: to, transactionRef: ref2 },
      ]),
    );
    await expectStatus(lot, a, { owner: getAddress(pharmacy.address) });
    await expectStatus(lot, c, { owner: to });
  });

  it('refuses a pack that is not in the lot: a bad proof, no proof, or a pack of another lot', async () => {
    const lot = await newLot(maker, 4);
    const other = await newLot(maker, 4, { gtin: lot.gtin });
    const [a, b] = lot.packIds as [Hex, Hex];
    const stranger = other.packIds[0] as Hex;
    await reverts(
      simulate(maker, 'transferPacks', [
        lot.lotId,
        [a],
        [lot.tree.proof(b)],
        wholesaler.address,
        randomBytes32(),
      ]),
      'SupplyChainRegistryNotInLot',
      [lot.lotId, a],
    );
    await reverts(
      simulate(maker, 'transferPacks', [lot.lotId, [a], [[]], wholesaler.address, randomBytes32()]),
      'SupplyChainRegistryNotInLot',
      [lot.lotId, a],
    );
    // A pack of another lot, with its (valid) proof in that other lot; recorded there or not, it is not in this one.
    const foreign = [
      lot.lotId,
      [stranger],
      [other.tree.proof(stranger)],
      wholesaler.address,
      randomBytes32(),
    ];
    await reverts(simulate(maker, 'transferPacks', foreign), 'SupplyChainRegistryNotInLot', [
      lot.lotId,
      stranger,
    ]);
    await transfer(maker, other, [stranger], wholesaler);
    await reverts(
      simulate(wholesaler, 'transferPacks', [lot.lotId, [stranger], [[]], pharmacy.address, randomBytes32()]),
      'SupplyChainRegistryNotInLot',
      [lot.lotId, stranger],
    );
    await expectStatus(other, stranger, { recorded: true, owner: getAddress(wholesaler.address) });
    await expectStatus(lot, stranger, { recorded: false });
    expect(await read('isInLot', [lot.lotId, stranger, other.tree.proof(stranger)])).toBe(false);
  });

  it("no manufacturer can take another's lot ids or touch another's packs through its own trees", async () => {
    const lot = await newLot(maker, 3);
    const [a, b] = lot.packIds as [Hex, Hex];
    // The rival commissions, for its own product, a lot with the same lot number whose tree holds the maker's ids.
    const rivalGtin = nextGtin();
    await send(rival, 'registerProduct', [gtinToBytes14(rivalGtin), randomBytes32()]);
    const rogueTree = new LotTree(lot.packIds);
    const rogueLotId = lotIdOf(rivalGtin, lot.lotNumber);
    await send(rival, 'commissionLot', [
      gtinToBytes14(rivalGtin),
      lotHashOf(lot.lotNumber),
      rogueTree.root,
      3,
      lot.expiry,
    ]);
    // The lot id derives from the GTIN: the rival's lot is another lot, and the maker's stays the maker's.
    expect(rogueLotId).not.toBe(lot.lotId);
    expect(await read('lotOf', [rogueLotId])).toMatchObject({ manufacturer: getAddress(rival.address) });
    expect(await read('lotOf', [lot.lotId])).toMatchObject({ manufacturer: getAddress(maker.address) });
    // Moving "its" copies of the maker's pack ids changes nothing for the maker's packs.
    await send(rival, 'transferPacks', [
      rogueLotId,
      [a],
      [rogueTree.proof(a)],
      wholesaler2.address,
      randomBytes32(),
    ]);
    await expectStatus(lot, a, { recorded: false, owner: getAddress(maker.address) });
    await transfer(maker, lot, [a, b], wholesaler);
    await expectStatus(lot, a, { owner: getAddress(wholesaler.address) });
  });

  it('refuses a transfer by anyone but the current owner', async () => {
    const lot = await newLot(maker, 3);
    const [a, b] = lot.packIds as [Hex, Hex];
    // Not moved yet: the manufacturer owns it.
    await reverts(
      simulate(wholesaler, 'transferPacks', transferArgs(lot, [a], pharmacy.address)),
      'SupplyChainRegistryNotOwner',
      [a, wholesaler.address, maker.address],
    );
    await transfer(maker, lot, [a, b], wholesaler);
    // The former owner cannot move it any more, nor can another distributor.
    await reverts(
      simulate(maker, 'transferPacks', transferArgs(lot, [a], pharmacy.address)),
      'SupplyChainRegistryNotOwner',
      [a, maker.address, wholesaler.address],
    );
    await reverts(
      simulate(wholesaler2, 'transferPacks', transferArgs(lot, [b], pharmacy.address)),
      'SupplyChainRegistryNotOwner',
      [b, wholesaler2.address, wholesaler.address],
    );
    // The same pack twice in one batch: the second sees the first move.
    await reverts(
      simulate(wholesaler, 'transferPacks', transferArgs(lot, [a, a], pharmacy.address)),
      'SupplyChainRegistryNotOwner',
      [a, wholesaler.address, pharmacy.address],
    );
  });

  it('is all or nothing: one refused pack leaves the whole batch unmoved', async () => {
    const lot = await newLot(maker, 4);
    const [a, b, c] = lot.packIds as [Hex, Hex, Hex];
    await transfer(maker, lot, [c], wholesaler);
    const hash = await maker.wallet.writeContract({
      address: registry,
      abi,
      functionName: 'transferPacks',
      args: [lot.lotId, [a, b, c], proofsOf(lot, [a, b, c]), wholesaler2.address, randomBytes32()],
      gas: 1_000_000n,
    });
    const receipt = await client.waitForTransactionReceipt({ hash });
    expect(receipt.status).toBe('reverted');
    await expectStatus(lot, a, { recorded: false, owner: getAddress(maker.address) });
    await expectStatus(lot, c, { owner: getAddress(wholesaler.address) });
  });

  it('checks the recipient: not zero, not the sender, an active member with a trading role', async () => {
    const lot = await newLot(maker, 2);
    const [a] = lot.packIds as [Hex];
    await reverts(
      simulate(maker, 'transferPacks', transferArgs(lot, [a], zeroAddress)),
      'SupplyChainRegistryZeroAddress',
    );
    await reverts(
      simulate(maker, 'transferPacks', transferArgs(lot, [a], maker.address)),
      'SupplyChainRegistrySelfTransfer',
      [maker.address],
    );
    await reverts(
      simulate(maker, 'transferPacks', transferArgs(lot, [a], outsider.address)),
      'SupplyChainRegistryInactiveRecipient',
      [outsider.address],
    );
    for (const notTrading of [hospital, regulator]) {
      await reverts(
        simulate(maker, 'transferPacks', transferArgs(lot, [a], notTrading.address)),
        'SupplyChainRegistryMissingRole',
        [notTrading.address, TRADING_ROLES],
      );
    }
    // Another manufacturer may receive (e.g. a contract packager); so may distributors and dispensers.
    await transfer(maker, lot, [a], rival);
    await expectStatus(lot, a, { owner: getAddress(rival.address) });
  });

  it('refuses a suspended sender and a suspended recipient, and accepts both once reinstated', async () => {
    const member = await admit('Suspended Wholesale', ['DISTRIBUTOR']);
    const lot = await newLot(maker, 2);
    const [a, b] = lot.packIds as [Hex, Hex];
    await transfer(maker, lot, [a], member);
    await setSuspended(member, true);
    try {
      await reverts(
        simulate(member, 'transferPacks', transferArgs(lot, [a], pharmacy.address)),
        'SupplyChainRegistryUnauthorizedOrganization',
        [member.address],
      );
      await reverts(
        simulate(maker, 'transferPacks', transferArgs(lot, [b], member.address)),
        'SupplyChainRegistryInactiveRecipient',
        [member.address],
      );
    } finally {
      await setSuspended(member, false);
    }
    await transfer(member, lot, [a], pharmacy);
    await transfer(maker, lot, [b], member);
  });

  it('checks the batch shape and the transaction reference', async () => {
    const lot = await newLot(maker, 2);
    const [a, b] = lot.packIds as [Hex, Hex];
    const to = wholesaler.address;
    await reverts(
      simulate(maker, 'transferPacks', [lot.lotId, [], [], to, randomBytes32()]),
      'SupplyChainRegistryEmptyBatch',
    );
    await reverts(
      simulate(maker, 'transferPacks', [lot.lotId, [a, b], [lot.tree.proof(a)], to, randomBytes32()]),
      'SupplyChainRegistryLengthMismatch',
      [2n, 1n],
    );
    const many = Array.from({ length: 257 }, () => a);
    await reverts(
      simulate(maker, 'transferPacks', [lot.lotId, many, noProofs(many), to, randomBytes32()]),
      'SupplyChainRegistryBatchTooLarge',
      [257n, 256n],
    );
    await reverts(
      simulate(maker, 'transferPacks', [lot.lotId, [a], [lot.tree.proof(a)], to, zeroHash]),
      'SupplyChainRegistryMissingReference',
    );
    const unknown = randomBytes32();
    await reverts(
      simulate(maker, 'transferPacks', [unknown, [a], [[]], to, randomBytes32()]),
      'SupplyChainRegistryUnknownLot',
      [unknown],
    );
  });
});

describe('dispensing', () => {
  it('records a dispense once; a second dispense of the same pack is a clone, whoever tries it', async () => {
    const lot = await lotAt(pharmacy, 3);
    const [a, b] = lot.packIds as [Hex, Hex];
    const receipt = await send(pharmacy, 'dispense', [lot.lotId, [a], [[]]]);
    expect(events(receipt)).toEqual([
      ['PackDispensed', { packId: a, lotId: lot.lotId, dispenser: getAddress(pharmacy.address) }],
    ]);
    await expectStatus(lot, a, { state: DISPENSED, owner: getAddress(pharmacy.address) });

    // The same pharmacy scanning it again, and another pharmacy holding a copy of the label.
    await reverts(
      simulate(pharmacy, 'dispense', [lot.lotId, [a], [[]]]),
      'SupplyChainRegistryPackAlreadyDispensed',
      [a, pharmacy.address],
    );
    await reverts(
      simulate(pharmacy2, 'dispense', [lot.lotId, [a], [[]]]),
      'SupplyChainRegistryPackAlreadyDispensed',
      [a, pharmacy.address],
    );
    // A dispensed pack reappearing in trade is reported the same way.
    await reverts(
      simulate(pharmacy, 'transferPacks', transferArgs(lot, [a], pharmacy2.address)),
      'SupplyChainRegistryPackAlreadyDispensed',
      [a, pharmacy.address],
    );
    // In one batch: the second occurrence sees the first.
    await reverts(
      simulate(pharmacy, 'dispense', [lot.lotId, [b, b], [[], []]]),
      'SupplyChainRegistryPackAlreadyDispensed',
      [b, pharmacy.address],
    );
  });

  it('only the owner, and only a dispenser, dispenses', async () => {
    const lot = await lotAt(pharmacy, 2);
    const [a] = lot.packIds as [Hex];
    await reverts(simulate(pharmacy2, 'dispense', [lot.lotId, [a], [[]]]), 'SupplyChainRegistryNotOwner', [
      a,
      pharmacy2.address,
      pharmacy.address,
    ]);
    const held = await lotAt(wholesaler, 1);
    await reverts(
      simulate(wholesaler, 'dispense', [held.lotId, held.packIds, [[]]]),
      'SupplyChainRegistryMissingRole',
      [wholesaler.address, DISPENSER],
    );
    await reverts(
      simulate(outsider, 'dispense', [lot.lotId, [a], [[]]]),
      'SupplyChainRegistryUnauthorizedOrganization',
      [outsider.address],
    );
  });
});

describe('decommissioning and destruction', () => {
  it('takes packs out of commerce for good, with their events, even packs never moved (with a proof)', async () => {
    const lot = await newLot(maker, 4);
    const [a, b, c] = lot.packIds as [Hex, Hex, Hex];
    const reason = randomBytes32();
    const decommissioned = await send(maker, 'decommission', [lot.lotId, [a], proofsOf(lot, [a]), reason]);
    expect(events(decommissioned)).toEqual([
      [
        'PackDecommissioned',
        { packId: a, lotId: lot.lotId, by: getAddress(maker.address), reasonHash: reason },
      ],
    ]);
    await expectStatus(lot, a, { recorded: true, state: DECOMMISSIONED, owner: getAddress(maker.address) });

    await transfer(maker, lot, [b, c], wholesaler);
    const report = randomBytes32();
    const destroyed = await send(wholesaler, 'destroy', [lot.lotId, [b], [[]], report]);
    expect(events(destroyed)).toEqual([
      [
        'PackDestroyed',
        { packId: b, lotId: lot.lotId, by: getAddress(wholesaler.address), reportHash: report },
      ],
    ]);
    await expectStatus(lot, b, { state: DESTROYED });

    for (const [packId, owner, state] of [
      [a, maker, DECOMMISSIONED],
      [b, wholesaler, DESTROYED],
    ] as const) {
      await reverts(
        simulate(owner, 'transferPacks', transferArgs(lot, [packId], pharmacy.address)),
        'SupplyChainRegistryPackOutOfCommerce',
        [packId, state],
      );
      await reverts(
        simulate(owner, 'destroy', [lot.lotId, [packId], [[]], report]),
        'SupplyChainRegistryPackOutOfCommerce',
        [packId, state],
      );
    }
    await reverts(
      simulate(maker, 'decommission', [lot.lotId, [c], [[]], reason]),
      'SupplyChainRegistryNotOwner',
      [c, maker.address, wholesaler.address],
    );
    await reverts(
      simulate(wholesaler, 'decommission', [lot.lotId, [c], [[]], zeroHash]),
      'SupplyChainRegistryMissingReference',
    );
  });
});

describe('recalls', () => {
  it('takes effect at once for every pack of the lot, wherever it is; packs may still go back to the manufacturer', async () => {
    const lot = await newLot(maker, 6);
    const [atPharmacy, atWholesaler, atMaker, returned, destroyed] = lot.packIds as [Hex, Hex, Hex, Hex, Hex];
    await transfer(maker, lot, [atPharmacy, atWholesaler, returned, destroyed], wholesaler);
    await transfer(wholesaler, lot, [atPharmacy], pharmacy);
    await expectStatus(lot, atPharmacy, { lotRecalled: false });

    await reverts(
      simulate(wholesaler, 'recallLot', [lot.lotId, randomBytes32()]),
      'SupplyChainRegistryNotLotAuthority',
      [lot.lotId, wholesaler.address],
    );
    await reverts(simulate(maker, 'recallLot', [lot.lotId, zeroHash]), 'SupplyChainRegistryMissingReference');
    const reason = randomBytes32();
    const receipt = await send(maker, 'recallLot', [lot.lotId, reason]);
    expect(events(receipt)).toEqual([
      ['LotRecalled', { lotId: lot.lotId, by: getAddress(maker.address), reasonHash: reason }],
    ]);
    const at = (await client.getBlock({ blockNumber: receipt.blockNumber })).timestamp;
    // Verification sees it immediately, for recorded and never-moved packs alike.
    for (const id of [atPharmacy, atWholesaler, atMaker]) await expectStatus(lot, id, { lotRecalled: true });
    expect(await read('lotOf', [lot.lotId])).toMatchObject({ recalled: true, recalledAt: at });

    await reverts(
      simulate(pharmacy, 'dispense', [lot.lotId, [atPharmacy], [[]]]),
      'SupplyChainRegistryLotRecalled',
      [lot.lotId],
    );
    await reverts(
      simulate(wholesaler, 'transferPacks', transferArgs(lot, [atWholesaler], pharmacy.address)),
      'SupplyChainRegistryLotRecalled',
      [lot.lotId],
    );
    await reverts(
      simulate(maker, 'transferPacks', transferArgs(lot, [atMaker], wholesaler.address)),
      'SupplyChainRegistryLotRecalled',
      [lot.lotId],
    );
    // A return to the manufacturer, and destruction in place, remain possible.
    await transfer(wholesaler, lot, [returned], maker);
    await expectStatus(lot, returned, { owner: getAddress(maker.address) });
    await send(wholesaler, 'destroy', [lot.lotId, [destroyed], [[]], randomBytes32()]);
    await expectStatus(lot, destroyed, { state: DESTROYED });

    await reverts(
      simulate(maker, 'recallLot', [lot.lotId, randomBytes32()]),
      'SupplyChainRegistryLotAlreadyRecalled',
      [lot.lotId],
    );
  });

  it('a regulator may recall any lot; a suspended manufacturer may not recall its own', async () => {
    const lot = await newLot(rival, 1);
    await send(regulator, 'recallLot', [lot.lotId, randomBytes32()]);
    await expectStatus(lot, lot.packIds[0] as Hex, { lotRecalled: true });

    const other = await newLot(rival, 1);
    await setSuspended(rival, true);
    try {
      await reverts(
        simulate(rival, 'recallLot', [other.lotId, randomBytes32()]),
        'SupplyChainRegistryUnauthorizedOrganization',
        [rival.address],
      );
    } finally {
      await setSuspended(rival, false);
    }
  });
});

describe('suspect packs and investigations', () => {
  it('suspect → quarantined everywhere → cleared by the quarantiner → transferable again', async () => {
    const lot = await lotAt(wholesaler, 3);
    const [a, b] = lot.packIds as [Hex, Hex];
    const reason = randomBytes32();
    const marked = await send(wholesaler, 'markSuspect', [lot.lotId, [a], [[]], reason]);
    expect(events(marked)).toEqual([
      [
        'PackMarkedSuspect',
        { packId: a, lotId: lot.lotId, by: getAddress(wholesaler.address), reasonHash: reason },
      ],
    ]);
    await expectStatus(lot, a, { suspect: true, illegitimate: false });
    await expectStatus(lot, b, { suspect: false });

    await reverts(
      simulate(wholesaler, 'transferPacks', transferArgs(lot, [a], pharmacy.address)),
      'SupplyChainRegistryPackSuspect',
      [a],
    );
    await reverts(
      simulate(wholesaler, 'destroy', [lot.lotId, [a], [[]], randomBytes32()]),
      'SupplyChainRegistryPackSuspect',
      [a],
    );
    await reverts(
      simulate(wholesaler, 'markSuspect', [lot.lotId, [a], [[]], randomBytes32()]),
      'SupplyChainRegistryPackSuspect',
      [a],
    );

    // Only the quarantiner or a regulator concludes; there must be something to conclude.
    await reverts(
      simulate(maker, 'recordInvestigation', [lot.lotId, [a], CLEARED, randomBytes32()]),
      'SupplyChainRegistryNotInvestigator',
      [a, maker.address],
    );
    await reverts(
      simulate(wholesaler, 'recordInvestigation', [lot.lotId, [b], CLEARED, randomBytes32()]),
      'SupplyChainRegistryPackNotSuspect',
      [b],
    );
    await reverts(
      simulate(wholesaler, 'recordInvestigation', [lot.lotId, [a], CLEARED, zeroHash]),
      'SupplyChainRegistryMissingReference',
    );
    await reverts(
      simulate(wholesaler, 'recordInvestigation', [lot.lotId, [], CLEARED, randomBytes32()]),
      'SupplyChainRegistryEmptyBatch',
    );

    const report = randomBytes32();
    const cleared = await send(wholesaler, 'recordInvestigation', [lot.lotId, [a], CLEARED, report]);
    expect(events(cleared)).toEqual([
      [
        'PackInvestigated',
        {
          packId: a,
          lotId: lot.lotId,
          by: getAddress(wholesaler.address),
          outcome: CLEARED,
          reportHash: report,
        },
      ],
    ]);
    await expectStatus(lot, a, { suspect: false, illegitimate: false });
    await reverts(
      simulate(wholesaler, 'recordInvestigation', [lot.lotId, [a], CLEARED, report]),
      'SupplyChainRegistryPackNotSuspect',
      [a],
    );
    await transfer(wholesaler, lot, [a], pharmacy);
    await send(pharmacy, 'dispense', [lot.lotId, [a], [[]]]);
    await expectStatus(lot, a, { state: DISPENSED });
  });

  it('illegitimate → never transferable, dispensable or re-quarantined; it can still be destroyed', async () => {
    const lot = await lotAt(pharmacy, 2);
    const [a] = lot.packIds as [Hex];
    await send(pharmacy, 'markSuspect', [lot.lotId, [a], [[]], randomBytes32()]);
    // A regulator concludes the investigation someone else opened.
    await send(regulator, 'recordInvestigation', [lot.lotId, [a], ILLEGITIMATE, randomBytes32()]);
    await expectStatus(lot, a, { suspect: false, illegitimate: true });

    await reverts(
      simulate(pharmacy, 'transferPacks', transferArgs(lot, [a], wholesaler.address)),
      'SupplyChainRegistryPackIllegitimate',
      [a],
    );
    await reverts(
      simulate(pharmacy, 'transferPacks', transferArgs(lot, [a], maker.address)),
      'SupplyChainRegistryPackIllegitimate',
      [a],
    );
    await reverts(
      simulate(pharmacy, 'dispense', [lot.lotId, [a], [[]]]),
      'SupplyChainRegistryPackIllegitimate',
      [a],
    );
    await reverts(
      simulate(regulator, 'markSuspect', [lot.lotId, [a], [[]], randomBytes32()]),
      'SupplyChainRegistryPackIllegitimate',
      [a],
    );
    await reverts(
      simulate(regulator, 'recordInvestigation', [lot.lotId, [a], CLEARED, randomBytes32()]),
      'SupplyChainRegistryPackNotSuspect',
      [a],
    );
    await send(pharmacy, 'destroy', [lot.lotId, [a], [[]], randomBytes32()]);
    await expectStatus(lot, a, { state: DESTROYED, illegitimate: true });
  });

  it('holders, former holders, the manufacturer and regulators may quarantine a pack; nobody else', async () => {
    const lot = await lotAt(pharmacy, 4);
    const [a, b, c, d] = lot.packIds as [Hex, Hex, Hex, Hex];
    const reason = randomBytes32();
    // Never held it: another pharmacy, another distributor, another manufacturer.
    for (const stranger of [pharmacy2, wholesaler2, rival]) {
      await reverts(
        simulate(stranger, 'markSuspect', [lot.lotId, [a], [[]], reason]),
        'SupplyChainRegistryNotHolder',
        [a, stranger.address],
      );
    }
    await reverts(
      simulate(outsider, 'markSuspect', [lot.lotId, [a], [[]], reason]),
      'SupplyChainRegistryUnauthorizedOrganization',
      [outsider.address],
    );
    await send(pharmacy, 'markSuspect', [lot.lotId, [a], [[]], reason]); // holds it
    await send(wholesaler, 'markSuspect', [lot.lotId, [b], [[]], reason]); // held it
    await send(maker, 'markSuspect', [lot.lotId, [c], [[]], reason]); // made it
    await send(regulator, 'markSuspect', [lot.lotId, [d], [[]], reason]);
    for (const id of [a, b, c, d]) await expectStatus(lot, id, { suspect: true });
    // Each quarantiner concludes its own.
    await reverts(
      simulate(pharmacy, 'recordInvestigation', [lot.lotId, [b], CLEARED, reason]),
      'SupplyChainRegistryNotInvestigator',
      [b, pharmacy.address],
    );
    await send(wholesaler, 'recordInvestigation', [lot.lotId, [b], CLEARED, randomBytes32()]);
    await send(regulator, 'recordInvestigation', [lot.lotId, [a, c, d], CLEARED, randomBytes32()]);
    // A pack never moved is quarantined at the manufacturer with its proof.
    const fresh = await newLot(maker, 3);
    const f = fresh.packIds[0] as Hex;
    await reverts(
      simulate(maker, 'markSuspect', [fresh.lotId, [f], [[]], reason]),
      'SupplyChainRegistryNotInLot',
      [fresh.lotId, f],
    );
    await send(maker, 'markSuspect', [fresh.lotId, [f], proofsOf(fresh, [f]), reason]);
    await expectStatus(fresh, f, { recorded: true, suspect: true, owner: getAddress(maker.address) });
  });

  it('a suspended quarantiner cannot conclude; a regulator can', async () => {
    const member = await admit('Suspect Wholesale', ['DISTRIBUTOR']);
    const lot = await newLot(maker, 1);
    const [a] = lot.packIds as [Hex];
    await transfer(maker, lot, [a], member);
    await send(member, 'markSuspect', [lot.lotId, [a], [[]], randomBytes32()]);
    await setSuspended(member, true);
    await reverts(
      simulate(member, 'recordInvestigation', [lot.lotId, [a], CLEARED, randomBytes32()]),
      'SupplyChainRegistryUnauthorizedOrganization',
      [member.address],
    );
    await send(regulator, 'recordInvestigation', [lot.lotId, [a], CLEARED, randomBytes32()]);
    await expectStatus(lot, a, { suspect: false });
  });
});

describe('suspect lots', () => {
  it('quarantines every pack of the lot at once, until cleared', async () => {
    const lot = await lotAt(pharmacy, 3);
    const [a, b] = lot.packIds as [Hex, Hex];
    await reverts(
      simulate(pharmacy2, 'markLotSuspect', [lot.lotId, randomBytes32()]),
      'SupplyChainRegistryNotLotHolder',
      [lot.lotId, pharmacy2.address],
    );
    await reverts(
      simulate(pharmacy, 'markLotSuspect', [lot.lotId, zeroHash]),
      'SupplyChainRegistryMissingReference',
    );
    const reason = randomBytes32();
    const marked = await send(pharmacy, 'markLotSuspect', [lot.lotId, reason]); // a holder of the lot's packs
    expect(events(marked)).toEqual([
      ['LotMarkedSuspect', { lotId: lot.lotId, by: getAddress(pharmacy.address), reasonHash: reason }],
    ]);
    expect(await read('lotOf', [lot.lotId])).toMatchObject({
      suspect: true,
      quarantinedBy: getAddress(pharmacy.address),
    });
    await expectStatus(lot, a, { lotSuspect: true, suspect: false });

    await reverts(simulate(pharmacy, 'dispense', [lot.lotId, [a], [[]]]), 'SupplyChainRegistryLotSuspect', [
      lot.lotId,
    ]);
    await reverts(
      simulate(pharmacy, 'transferPacks', transferArgs(lot, [a], maker.address)),
      'SupplyChainRegistryLotSuspect',
      [lot.lotId],
    );
    await reverts(
      simulate(pharmacy, 'decommission', [lot.lotId, [a], [[]], reason]),
      'SupplyChainRegistryLotSuspect',
      [lot.lotId],
    );
    await reverts(simulate(maker, 'markLotSuspect', [lot.lotId, reason]), 'SupplyChainRegistryLotSuspect', [
      lot.lotId,
    ]);

    await reverts(
      simulate(maker, 'recordLotInvestigation', [lot.lotId, CLEARED, randomBytes32()]),
      'SupplyChainRegistryNotInvestigator',
      [lot.lotId, maker.address],
    );
    const report = randomBytes32();
    const cleared = await send(pharmacy, 'recordLotInvestigation', [lot.lotId, CLEARED, report]);
    expect(events(cleared)).toEqual([
      [
        'LotInvestigated',
        { lotId: lot.lotId, by: getAddress(pharmacy.address), outcome: CLEARED, reportHash: report },
      ],
    ]);
    await reverts(
      simulate(pharmacy, 'recordLotInvestigation', [lot.lotId, CLEARED, report]),
      'SupplyChainRegistryLotNotSuspect',
      [lot.lotId],
    );
    await expectStatus(lot, a, { lotSuspect: false });
    await send(pharmacy, 'dispense', [lot.lotId, [a, b], [[], []]]);
  });

  it('an illegitimate lot is out of commerce for good', async () => {
    const lot = await lotAt(wholesaler, 2);
    const [a, b] = lot.packIds as [Hex, Hex];
    await send(maker, 'markLotSuspect', [lot.lotId, randomBytes32()]);
    await send(regulator, 'recordLotInvestigation', [lot.lotId, ILLEGITIMATE, randomBytes32()]);
    await expectStatus(lot, a, { lotIllegitimate: true, lotSuspect: false });
    await reverts(
      simulate(wholesaler, 'transferPacks', transferArgs(lot, [a], pharmacy.address)),
      'SupplyChainRegistryLotIllegitimate',
      [lot.lotId],
    );
    await reverts(
      simulate(wholesaler, 'markSuspect', [lot.lotId, [a], [[]], randomBytes32()]),
      'SupplyChainRegistryLotIllegitimate',
      [lot.lotId],
    );
    await reverts(
      simulate(regulator, 'markLotSuspect', [lot.lotId, randomBytes32()]),
      'SupplyChainRegistryLotIllegitimate',
      [lot.lotId],
    );
    // Destroying it is what remains.
    await send(wholesaler, 'destroy', [lot.lotId, [a, b], [[], []], randomBytes32()]);
  });
});

describe('gas', () => {
  it('moves 100 packs of a 10,000-pack lot in one transaction, first and later moves, well under the block gas limit', async () => {
    const lot = await newLot(maker, 10_000);
    const batch = lot.packIds.slice(0, 100);
    const first = await send(maker, 'transferPacks', transferArgs(lot, batch, wholesaler.address));
    expect(events(first)).toHaveLength(100);
    const later = await send(wholesaler, 'transferPacks', [
      lot.lotId,
      batch,
      noProofs(batch),
      pharmacy.address,
      randomBytes32(),
    ]);
    const dispensed = await send(pharmacy, 'dispense', [lot.lotId, batch, noProofs(batch)]);
    expect(events(dispensed)).toHaveLength(100);
    for (const id of [batch[0], batch[99]] as Hex[]) await expectStatus(lot, id, { state: DISPENSED });
    const { gasLimit } = await client.getBlock();
    const proofHashes = proofsOf(lot, batch).reduce((sum, proof) => sum + proof.length, 0);
    console.log(
      `SupplyChainRegistry gas for 100 packs: first move ${first.gasUsed} (${proofHashes} proof hashes), ` +
        `later move ${later.gasUsed}, dispense ${dispensed.gasUsed}; block gas limit ${gasLimit}`,
    );
    expect(first.gasUsed).toBeLessThan(FIRST_MOVE_100_GAS_BUDGET);
    expect(later.gasUsed).toBeLessThan(LATER_MOVE_100_GAS_BUDGET);
    expect(dispensed.gasUsed).toBeLessThan(DISPENSE_100_GAS_BUDGET);
    expect(first.gasUsed * 5n).toBeLessThan(gasLimit);
  });
});

// Last: moves the chain's clock forward.
describe('expiry', () => {
  it('an expired lot can no longer be traded or dispensed, only returned to its manufacturer or taken out of commerce', async () => {
    const lot = await newLot(maker, 4, { expiry: (await now()) + 3600n });
    const [a, b, c, d] = lot.packIds as [Hex, Hex, Hex, Hex];
    await transfer(maker, lot, [a, b, c], wholesaler);
    await transfer(wholesaler, lot, [a], pharmacy);
    await testClient.increaseTime({ seconds: 3600 });
    await testClient.mine({ blocks: 1 });
    await reverts(simulate(pharmacy, 'dispense', [lot.lotId, [a], [[]]]), 'SupplyChainRegistryLotExpired', [
      lot.lotId,
      lot.expiry,
    ]);
    await reverts(
      simulate(wholesaler, 'transferPacks', transferArgs(lot, [b], pharmacy.address)),
      'SupplyChainRegistryLotExpired',
      [lot.lotId, lot.expiry],
    );
    await reverts(
      simulate(maker, 'transferPacks', transferArgs(lot, [d], wholesaler.address)),
      'SupplyChainRegistryLotExpired',
      [lot.lotId, lot.expiry],
    );
    await transfer(wholesaler, lot, [b], maker);
    await send(wholesaler, 'decommission', [lot.lotId, [c], [[]], randomBytes32()]);
    await expectStatus(lot, b, { owner: getAddress(maker.address), lotExpiry: lot.expiry });
    await expectStatus(lot, c, { state: DECOMMISSIONED });
  });
});

describe('coverage', () => {
  it('exercised every custom error and every event of the contract', () => {
    coverage.expectAllExercised();
  });
});
