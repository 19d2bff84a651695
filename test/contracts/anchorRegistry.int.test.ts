import {
  parseEventLogs,
  zeroAddress,
  zeroHash,
  type Address,
  type ContractFunctionArgs,
  type Hex,
  type SimulateContractParameters,
} from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anchorRegistryAbi, anchorRegistryBytecode } from '../../src/ledger/generated/contracts.js';
import {
  expectRevert,
  mined,
  randomBytes32,
  startConsortium,
  testPublicClient,
  type Consortium,
  type TestActor,
} from './chain.js';

const abi = anchorRegistryAbi;
/** The batch size the gas budget is set for: ≤ 50 gas per record at 4,096 records per batch. */
const BATCH_SIZE = 4096;
const GAS_BUDGET = 200_000n;

let consortium: Consortium;
let client: ReturnType<typeof testPublicClient>;
let admin: TestActor;
let outsider: TestActor;
let organizations: Address;
let anchors: Address;

const admitNew = (name: string): Promise<TestActor> => consortium.admitNew(name);
const setSuspended = (org: TestActor, suspended: boolean) => consortium.setSuspended(org, suspended);

/** Sends `anchor(root, leafCount, sequence)` from `org` and returns the successful receipt. */
async function anchorBatch(org: TestActor, root: Hex, leafCount: number, sequence: bigint) {
  return mined(
    client,
    await org.wallet.writeContract({
      address: anchors,
      abi,
      functionName: 'anchor',
      args: [root, leafCount, sequence],
    }),
  );
}

/** Simulates `anchor(...)` from `actor` (no transaction is sent). */
function simulateAnchor(actor: TestActor, args: ContractFunctionArgs<typeof abi, 'nonpayable', 'anchor'>) {
  const call = { address: anchors, abi, functionName: 'anchor', args, account: actor.wallet.account };
  return client.simulateContract(call as unknown as SimulateContractParameters);
}

function nextSequence(org: Address): Promise<bigint> {
  return client.readContract({ address: anchors, abi, functionName: 'nextSequence', args: [org] });
}

beforeAll(async () => {
  consortium = await startConsortium();
  ({ client, admin, outsider, organizations } = consortium);
  anchors = await consortium.deploy(
    await admin.wallet.deployContract({ abi, bytecode: anchorRegistryBytecode, args: [organizations] }),
  );
});

afterAll(async () => {
  await consortium?.stop();
});

describe('AnchorRegistry deployment', () => {
  it('is bound to the organisation registry', async () => {
    expect(await client.readContract({ address: anchors, abi, functionName: 'organizationRegistry' })).toBe(
      organizations,
    );
  });

  it('rejects the zero registry', async () => {
    await expectRevert(
      admin.wallet.deployContract({ abi, bytecode: anchorRegistryBytecode, args: [zeroAddress] }),
      abi,
      'AnchorRegistryZeroAddress',
    );
  });
});

describe('anchor', () => {
  it('records the batch, emits BatchAnchored and stays within the gas budget', async () => {
    const org = await admitNew('Gas Hospital');
    expect(await nextSequence(org.address)).toBe(1n);

    const gasUsed: bigint[] = [];
    for (let sequence = 1n; sequence <= 3n; sequence++) {
      const root = randomBytes32();
      const receipt = await anchorBatch(org, root, BATCH_SIZE, sequence);
      gasUsed.push(receipt.gasUsed);

      const events = parseEventLogs({ abi, logs: receipt.logs });
      const block = await client.getBlock({ blockNumber: receipt.blockNumber });
      expect(events.map((e) => [e.eventName, e.args])).toEqual([
        [
          'BatchAnchored',
          { organization: org.address, sequence, root, leafCount: BATCH_SIZE, anchoredAt: block.timestamp },
        ],
      ]);
      expect(
        await client.readContract({ address: anchors, abi, functionName: 'getAnchor', args: [root] }),
      ).toEqual({
        organization: org.address,
        sequence,
        leafCount: BATCH_SIZE,
        anchoredAt: block.timestamp,
        blockNumber: receipt.blockNumber,
      });
      expect(
        await client.readContract({ address: anchors, abi, functionName: 'isAnchored', args: [root] }),
      ).toBe(true);
      expect(
        await client.readContract({
          address: anchors,
          abi,
          functionName: 'rootAt',
          args: [org.address, sequence],
        }),
      ).toBe(root);
      expect(await nextSequence(org.address)).toBe(sequence + 1n);
    }

    const [first = 0n, ...later] = gasUsed;
    const perRecord = (gas: bigint) => (Number(gas) / BATCH_SIZE).toFixed(1);
    console.log(
      `anchor gas: first batch of an organisation ${first} (${perRecord(first)}/record), ` +
        `later batches ${later.join(', ')} (${later.map(perRecord).join(', ')}/record) at ${BATCH_SIZE} records`,
    );
    for (const gas of gasUsed) expect(gas).toBeLessThan(GAS_BUDGET);
    // ≤ 50 gas per record at 4,096 records per batch.
    for (const gas of gasUsed) expect(gas).toBeLessThanOrEqual(50n * BigInt(BATCH_SIZE));
  });

  it('answers zero for roots and sequences that were never anchored', async () => {
    const root = randomBytes32();
    expect(
      await client.readContract({ address: anchors, abi, functionName: 'getAnchor', args: [root] }),
    ).toEqual({
      organization: zeroAddress,
      sequence: 0n,
      leafCount: 0,
      anchoredAt: 0n,
      blockNumber: 0n,
    });
    expect(
      await client.readContract({ address: anchors, abi, functionName: 'isAnchored', args: [root] }),
    ).toBe(false);
    expect(
      await client.readContract({
        address: anchors,
        abi,
        functionName: 'rootAt',
        args: [outsider.address, 1n],
      }),
    ).toBe(zeroHash);
    expect(await nextSequence(outsider.address)).toBe(1n);
  });

  it('is reserved to active organisations', async () => {
    await expectRevert(
      simulateAnchor(outsider, [randomBytes32(), 1, 1n]),
      abi,
      'AnchorRegistryUnauthorizedOrganization',
      [outsider.address],
    );
    // Authorisation is checked before anything else.
    await expectRevert(
      simulateAnchor(outsider, [zeroHash, 0, 0n]),
      abi,
      'AnchorRegistryUnauthorizedOrganization',
      [outsider.address],
    );
    // The consortium admin is not an organisation.
    await expectRevert(
      simulateAnchor(admin, [randomBytes32(), 1, 1n]),
      abi,
      'AnchorRegistryUnauthorizedOrganization',
      [admin.address],
    );
  });

  it('rejects a zero root and an empty batch', async () => {
    const org = await admitNew('Validation Clinic');
    await expectRevert(simulateAnchor(org, [zeroHash, 10, 1n]), abi, 'AnchorRegistryZeroRoot');
    await expectRevert(simulateAnchor(org, [randomBytes32(), 0, 1n]), abi, 'AnchorRegistryEmptyBatch');
  });

  it('rejects a root anchored before, by the same or another organisation', async () => {
    const first = await admitNew('First Hospital');
    const second = await admitNew('Second Hospital');
    const root = randomBytes32();
    await anchorBatch(first, root, 7, 1n);
    await expectRevert(simulateAnchor(first, [root, 7, 2n]), abi, 'AnchorRegistryRootAlreadyAnchored', [
      root,
      first.address,
      1n,
    ]);
    await expectRevert(simulateAnchor(second, [root, 7, 1n]), abi, 'AnchorRegistryRootAlreadyAnchored', [
      root,
      first.address,
      1n,
    ]);
    // A duplicate root is reported even when the sequence is wrong too.
    await expectRevert(simulateAnchor(second, [root, 7, 9n]), abi, 'AnchorRegistryRootAlreadyAnchored', [
      root,
      first.address,
      1n,
    ]);
  });

  it('keeps sequences gapless and per organisation', async () => {
    const org = await admitNew('Sequence Lab');
    const other = await admitNew('Other Lab');
    await expectRevert(
      simulateAnchor(org, [randomBytes32(), 1, 0n]),
      abi,
      'AnchorRegistryUnexpectedSequence',
      [org.address, 1n, 0n],
    );
    await expectRevert(
      simulateAnchor(org, [randomBytes32(), 1, 2n]),
      abi,
      'AnchorRegistryUnexpectedSequence',
      [org.address, 1n, 2n],
    );
    const roots = [randomBytes32(), randomBytes32(), randomBytes32()];
    for (const [i, root] of roots.entries()) await anchorBatch(org, root, i + 1, BigInt(i + 1));
    // Repeating or skipping a sequence number is refused.
    await expectRevert(
      simulateAnchor(org, [randomBytes32(), 1, 3n]),
      abi,
      'AnchorRegistryUnexpectedSequence',
      [org.address, 4n, 3n],
    );
    await expectRevert(
      simulateAnchor(org, [randomBytes32(), 1, 5n]),
      abi,
      'AnchorRegistryUnexpectedSequence',
      [org.address, 4n, 5n],
    );
    await expectRevert(
      simulateAnchor(org, [randomBytes32(), 1, 2n ** 64n - 1n]),
      abi,
      'AnchorRegistryUnexpectedSequence',
      [org.address, 4n, 2n ** 64n - 1n],
    );
    for (const [i, root] of roots.entries()) {
      expect(
        await client.readContract({
          address: anchors,
          abi,
          functionName: 'rootAt',
          args: [org.address, BigInt(i + 1)],
        }),
      ).toBe(root);
    }
    expect(await nextSequence(org.address)).toBe(4n);

    // Another organisation's numbering is independent.
    expect(await nextSequence(other.address)).toBe(1n);
    await anchorBatch(other, randomBytes32(), 1, 1n);
    expect(await nextSequence(other.address)).toBe(2n);
    expect(await nextSequence(org.address)).toBe(4n);
  });

  it('refuses anchors from a suspended organisation until it is reinstated', async () => {
    const org = await admitNew('Suspended Clinic');
    await anchorBatch(org, randomBytes32(), 3, 1n);
    await setSuspended(org, true);
    const root = randomBytes32();
    await expectRevert(simulateAnchor(org, [root, 3, 2n]), abi, 'AnchorRegistryUnauthorizedOrganization', [
      org.address,
    ]);
    // A real transaction is refused too (viem estimates gas first, which surfaces the same custom error).
    await expectRevert(
      org.wallet.writeContract({ address: anchors, abi, functionName: 'anchor', args: [root, 3, 2n] }),
      abi,
      'AnchorRegistryUnauthorizedOrganization',
      [org.address],
    );
    expect(await nextSequence(org.address)).toBe(2n);

    await setSuspended(org, false);
    const receipt = await anchorBatch(org, root, 3, 2n);
    expect(parseEventLogs({ abi, logs: receipt.logs, eventName: 'BatchAnchored' })[0]?.args).toMatchObject({
      organization: org.address,
      sequence: 2n,
      root,
    });
    expect(await nextSequence(org.address)).toBe(3n);
  });
});
