import {
  ContractFunctionRevertedError,
  encodeErrorResult,
  getAddress,
  type AbiParameter,
  type Hex,
} from 'viem';
import { generatePrivateKey } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CareLedgerError,
  InvalidInputError,
  NotFoundError,
  UnavailableError,
} from '../../src/core/errors.js';
import { createChainClients, type ChainClients } from '../../src/ledger/chainClients.js';
import {
  decodeLocatorError,
  LocatorForbiddenError,
  RecordLocatorRejectedError,
} from '../../src/ledger/decodeLocatorError.js';
import { deployRecordLocator, missingContracts, type Deployment } from '../../src/ledger/ensureDeployment.js';
import { recordLocatorAbi } from '../../src/ledger/generated/contracts.js';
import { ViemRecordLocator } from '../../src/ledger/viemRecordLocator.js';
import {
  CHAIN_ID,
  codeAt,
  deployWith,
  expectCareLedgerError,
  expectConfiguredContractChecked,
  expectDeployedAndRemembered,
  expectEveryCustomErrorDecoded,
  expectUnknownRevertRejected,
  organizationRegistryOf,
  redeployedWithout,
  rememberedDeployment,
  rememberingDeployment,
  someAddress,
  startDeployedChain,
  startFlakyRpc,
  type DeployedChain,
} from '../helpers/deployedChain.js';
import { startTestNode } from '../helpers/inProcessNode.js';

let chain: DeployedChain;
let clients: ChainClients;
let deployment: Deployment;
let locator: ViemRecordLocator;

/** How many transactions `account` has sent: what tells "nothing was sent" apart from a no-op transaction. */
const sent = (account: Hex = clients.account.address) =>
  clients.publicClient.getTransactionCount({ address: account, blockTag: 'latest' });

beforeAll(async () => {
  chain = await startDeployedChain();
  ({ clients, deployment } = chain);
  locator = new ViemRecordLocator(clients, deployment.recordLocator);
});

afterAll(async () => {
  await chain?.stop();
});

describe('deployment', () => {
  it('deploys a RecordLocator bound to the OrganizationRegistry and remembers it with the others', async () => {
    await expectDeployedAndRemembered(clients, 'recordLocator');
  });

  it('gives a remembered deployment from before the RecordLocator one, against its OrganizationRegistry', async () => {
    const { recordLocator: _none, ...old } = deployment;
    const memory = rememberingDeployment(old);
    const upgraded = await deployWith(clients, memory);
    expect(upgraded.deployedNow).toBe(false);
    expect(upgraded.organizationRegistry).toBe(old.organizationRegistry);
    expect(upgraded.anchorRegistry).toBe(old.anchorRegistry);
    expect(upgraded.consentRegistry).toBe(old.consentRegistry);
    expect(upgraded.recordLocator).not.toBe(deployment.recordLocator);
    expect(await organizationRegistryOf(clients, upgraded.recordLocator)).toBe(
      getAddress(old.organizationRegistry),
    );
    expect(rememberedDeployment(memory)).toEqual({
      ...old,
      recordLocator: upgraded.recordLocator,
    });
    // The next start reuses it.
    const next = await deployWith(clients, memory);
    expect(next.recordLocator).toBe(upgraded.recordLocator);
  });

  it('gives a deployment from before both the ConsentRegistry and the RecordLocator one of each', async () => {
    const { consentRegistry: _c, recordLocator: _r, ...old } = deployment;
    const memory = rememberingDeployment(old);
    const upgraded = await deployWith(clients, memory);
    expect(await missingContracts(clients, upgraded)).toEqual([]);
    expect(upgraded.consentRegistry).not.toBe(upgraded.recordLocator);
    expect(await organizationRegistryOf(clients, upgraded.recordLocator)).toBe(
      getAddress(old.organizationRegistry),
    );
    expect(rememberedDeployment(memory)).toEqual({
      ...old,
      consentRegistry: upgraded.consentRegistry,
      recordLocator: upgraded.recordLocator,
    });
  });

  it('deploys the RecordLocator again when the chain lost only it', async () => {
    const lost = { ...deployment, recordLocator: someAddress() };
    const memory = rememberingDeployment(lost);
    expect(await missingContracts(clients, lost)).toEqual(['recordLocator']);
    const repaired = await deployWith(clients, memory);
    expect(repaired.deployedNow).toBe(false);
    expect(repaired.consentRegistry).toBe(deployment.consentRegistry);
    expect(repaired.recordLocator).not.toBe(lost.recordLocator);
    expect(await missingContracts(clients, repaired)).toEqual([]);
    expect(rememberedDeployment(memory).recordLocator).toBe(repaired.recordLocator);
  });

  it('uses configured addresses after checking that the RecordLocator belongs to the OrganizationRegistry', async () => {
    await expectConfiguredContractChecked(
      clients,
      deployment,
      'recordLocator',
      'RecordLocator',
      deployRecordLocator,
    );
  });

  it('a node lists its RecordLocator on /health, exposes it, and redeploys and repoints it when its anvil restarts without it', async () => {
    const node = await startTestNode();
    try {
      const before = node.deployment();
      const health = (await (await node.api('/health')).json()) as { contracts: Record<string, string> };
      expect(health.contracts).toEqual({
        organizationRegistry: before.organizationRegistry,
        anchorRegistry: before.anchorRegistry,
        consentRegistry: before.consentRegistry,
        recordLocator: before.recordLocator,
        supplyChainRegistry: before.supplyChainRegistry,
      });
      const patient = someAddress();
      await node.recordLocator.announce(patient);
      expect(await node.recordLocator.holdersOf(patient)).toEqual([node.organization]);

      // A state dumped without the RecordLocator (e.g. before an upgrade deployed it), then a crash of anvil.
      const after = await redeployedWithout(node, 'recordLocator', 'RecordLocator');
      expect(after.anchorRegistry).toBe(before.anchorRegistry);
      expect(after.consentRegistry).toBe(before.consentRegistry);
      expect(await codeAt(node, after.recordLocator)).toMatch(/^0x[0-9a-f]{100,}$/);
      const now = (await (await node.api('/health')).json()) as { contracts: Record<string, string> };
      expect(now.contracts.recordLocator).toBe(after.recordLocator);

      // The node's adapter follows: the new locator starts empty and takes announcements.
      expect(await node.recordLocator.holdersOf(patient)).toEqual([]);
      await node.recordLocator.announce(patient);
      const direct = await rpcHolders(node.rpcUrl, after.recordLocator, patient);
      expect(direct).toEqual([node.organization]);
    } finally {
      await node.destroy();
    }
  });
});

/** `holdersOf(patient)` on `address`, read with a client of its own (not through the node's adapter). */
async function rpcHolders(rpcUrl: string, address: Hex, patient: Hex): Promise<readonly Hex[]> {
  const reader = createChainClients(rpcUrl, CHAIN_ID, generatePrivateKey());
  return reader.publicClient.readContract({
    address,
    abi: recordLocatorAbi,
    functionName: 'holdersOf',
    args: [patient],
  });
}

describe('announcing and releasing', () => {
  it('announces once, reads the holder back, and sends nothing when the chain already says so', async () => {
    const patient = someAddress();
    expect(await locator.holdersOf(patient)).toEqual([]);
    const before = await sent();
    await locator.announce(patient);
    expect(await sent()).toBe(before + 1);
    expect(await locator.holdersOf(patient)).toEqual([clients.account.address]);
    expect(await locator.holds(patient)).toBe(true);

    await locator.announce(patient);
    // A fresh adapter (a restarted node) asks the chain, too.
    await new ViemRecordLocator(clients, deployment.recordLocator).announce(patient);
    expect(await sent()).toBe(before + 1);
    expect(await locator.holdersOf(patient)).toEqual([clients.account.address]);
  });

  it('releases the entry, and sends nothing to release what is not held', async () => {
    const patient = someAddress();
    const before = await sent();
    await locator.release(patient); // never announced
    expect(await sent()).toBe(before);

    await locator.announce(patient);
    await locator.release(patient);
    expect(await sent()).toBe(before + 2);
    expect(await locator.holdersOf(patient)).toEqual([]);
    expect(await locator.holds(patient)).toBe(false);

    await locator.release(patient);
    expect(await sent()).toBe(before + 2);
  });

  it('lists every holder in the contract order, each organisation releasing only its own entry', async () => {
    const clinicClients = await chain.organization(true);
    const clinic = new ViemRecordLocator(clinicClients, deployment.recordLocator);
    const patient = someAddress();
    await clinic.announce(patient);
    await locator.announce(patient);
    expect(await locator.holdersOf(patient)).toEqual([
      clinicClients.account.address,
      clients.account.address,
    ]);
    expect(await locator.holds(patient, clinicClients.account.address)).toBe(true);

    await clinic.release(patient);
    expect(await clinic.holdersOf(patient)).toEqual([clients.account.address]);
    await locator.release(patient);
    expect(await clinic.holdersOf(patient)).toEqual([]);
  });

  it('sends one transaction for a burst of announcements for one patient, and keeps calls for a patient in order', async () => {
    const patient = someAddress();
    const before = await sent();
    await Promise.all(Array.from({ length: 5 }, () => locator.announce(patient)));
    expect(await sent()).toBe(before + 1);
    expect(await locator.holdersOf(patient)).toEqual([clients.account.address]);

    // Started together, they still run in call order: the release sees the announcement, the next one the release.
    const other = someAddress();
    await Promise.all([locator.announce(other), locator.release(other)]);
    expect(await locator.holds(other)).toBe(false);
    await Promise.all([locator.announce(other), locator.release(other), locator.announce(other)]);
    expect(await locator.holds(other)).toBe(true);

    // Different patients at once: one nonce each, all mined.
    const many = Array.from({ length: 6 }, () => someAddress());
    await Promise.all(many.map((p) => locator.announce(p)));
    for (const p of many) expect(await locator.holds(p)).toBe(true);
  });

  it('stays idempotent when another sender with the same key got there first', async () => {
    // Two adapters for one key (e.g. the node and a CLI command): each reads "not yet", both send.
    const twin = new ViemRecordLocator(clients, deployment.recordLocator);
    const patient = someAddress();
    await Promise.all([locator.announce(patient), twin.announce(patient)]);
    expect(await locator.holdersOf(patient)).toEqual([clients.account.address]);
    await Promise.all([locator.release(patient), twin.release(patient)]);
    expect(await locator.holdersOf(patient)).toEqual([]);
  });

  it('follows useContract to a newly deployed locator', async () => {
    const moved = new ViemRecordLocator(clients, deployment.recordLocator);
    const patient = someAddress();
    await moved.announce(patient);
    const fresh = await deployRecordLocator(clients, deployment.organizationRegistry);
    moved.useContract(fresh);
    expect(moved.contractAddress()).toBe(fresh);
    expect(await moved.holdersOf(patient)).toEqual([]);
    await moved.announce(patient);
    expect(await rpcHolders(chain.anvil.rpcUrl, fresh, patient)).toEqual([clients.account.address]);
    expect(await locator.holdersOf(patient)).toEqual([clients.account.address]); // the old one kept its entry
  });
});

describe('refusals become errors a person can act on', () => {
  it('an organisation that is not an active member: 403 naming it, nothing sent; released entries still go', async () => {
    const outsiderClients = await chain.organization(false);
    const outsider = new ViemRecordLocator(outsiderClients, deployment.recordLocator);
    const error = await expectCareLedgerError(
      outsider.announce(someAddress()),
      LocatorForbiddenError,
      403,
      'LOCATOR.ORGANIZATION_NOT_ACTIVE',
      new RegExp(
        `organisation ${outsiderClients.account.address} is not an active member.*ask the consortium admin`,
      ),
    );
    expect(error.details).toEqual({ organization: outsiderClients.account.address });
    expect(await sent(outsiderClients.account.address)).toBe(0);

    // A suspended member is refused too, but may still withdraw the entries it has.
    const memberClients = await chain.organization(true);
    const member = new ViemRecordLocator(memberClients, deployment.recordLocator);
    const held = someAddress();
    await member.announce(held);
    await chain.setStanding(memberClients.account.address, 'suspend');
    await expectCareLedgerError(
      member.announce(someAddress()),
      LocatorForbiddenError,
      403,
      'LOCATOR.ORGANIZATION_NOT_ACTIVE',
    );
    await member.release(held);
    expect(await member.holdersOf(held)).toEqual([]);
  });

  it('the zero patient: 400; a malformed patient address: 400', async () => {
    const before = await sent();
    await expectCareLedgerError(
      locator.announce('0x0000000000000000000000000000000000000000'),
      InvalidInputError,
      400,
      'LOCATOR.ZERO_ADDRESS',
      /zero address cannot be a patient/,
    );
    await expectCareLedgerError(
      locator.announce('0x1234'),
      InvalidInputError,
      400,
      'LOCATOR.INVALID_ADDRESS',
      /0x-prefixed 20-byte chain address/,
    );
    await expectCareLedgerError(
      locator.holdersOf('0xnot-an-address'),
      InvalidInputError,
      400,
      'LOCATOR.INVALID_ADDRESS',
    );
    expect(await sent()).toBe(before);
  });

  it('no RecordLocator at the address: 503 for reads and writes, and nothing is sent', async () => {
    const nowhere = new ViemRecordLocator(clients, someAddress());
    const before = await sent();
    for (const call of [
      nowhere.holdersOf(someAddress()),
      nowhere.announce(someAddress()),
      nowhere.release(someAddress()),
    ]) {
      await expectCareLedgerError(
        call,
        UnavailableError,
        503,
        'LOCATOR.CONTRACT_MISSING',
        /No RecordLocator answers at 0x[0-9a-fA-F]{40}.*CARELEDGER_RECORD_LOCATOR/,
      );
    }
    expect(await sent()).toBe(before);
  });

  it('an unreachable chain: 503', async () => {
    const proxy = await startFlakyRpc(chain.anvil.rpcUrl, true);
    try {
      const offline = new ViemRecordLocator(
        createChainClients(proxy.url, CHAIN_ID, generatePrivateKey()),
        deployment.recordLocator,
      );
      await expectCareLedgerError(
        offline.holdersOf(someAddress()),
        UnavailableError,
        503,
        'CHAIN.UNAVAILABLE',
        /could not be reached/,
      );
      await expectCareLedgerError(
        offline.announce(someAddress()),
        UnavailableError,
        503,
        'CHAIN.UNAVAILABLE',
      );
    } finally {
      await proxy.close();
    }
  });

  it('maps every custom error of the ABI to its own CareLedgerError, and an unknown one to 502', () => {
    const errors = expectEveryCustomErrorDecoded(recordLocatorAbi, decodeLocatorError, {
      area: 'LOCATOR',
      statuses: [400, 403, 404],
      functionName: 'announce',
      sample: (p: AbiParameter): unknown => (p.type === 'address' ? someAddress() : 7n),
    });
    expect(errors).toHaveLength(3);
    const patient = someAddress();
    const notHeld = decodeLocatorError(
      new ContractFunctionRevertedError({
        abi: recordLocatorAbi,
        data: encodeErrorResult({
          abi: recordLocatorAbi,
          errorName: 'RecordLocatorNotHeld',
          args: [patient, clients.account.address],
        }),
        functionName: 'release',
      }),
    );
    expect(notHeld).toBeInstanceOf(NotFoundError);
    expect((notHeld as CareLedgerError).code).toBe('LOCATOR.NOT_HELD');
    expect((notHeld as CareLedgerError).details).toEqual({
      patient,
      organization: clients.account.address,
    });
    expectUnknownRevertRejected(
      decodeLocatorError,
      'RecordLocatorFutureRule',
      RecordLocatorRejectedError,
      'announce',
    );
  });
});
