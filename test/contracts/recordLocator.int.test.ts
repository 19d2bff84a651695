import {
  getAddress,
  zeroAddress,
  type Address,
  type SimulateContractParameters,
  type TransactionReceipt,
} from 'viem';
import { generatePrivateKey, privateKeyToAddress } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordLocatorAbi, recordLocatorBytecode } from '../../src/ledger/generated/contracts.js';
import {
  contractCoverage,
  mined,
  startConsortium,
  testPublicClient,
  type Consortium,
  type TestActor,
} from './chain.js';

const abi = recordLocatorAbi;
/**
 * Gas budgets (regression guards, about 10 % above the measured figures): a patient's first announcement
 * (~96k: the array length, its first element and the position index, plus the call into the organisation
 * registry), a later holder's (~79k), a repeated announcement (a no-op after the membership check, ~30k), a
 * release (~40k when the last holder moves into the freed position, ~31k otherwise; refunds included).
 */
const FIRST_ANNOUNCE_GAS_BUDGET = 105_000n;
const LATER_ANNOUNCE_GAS_BUDGET = 87_000n;
const REPEATED_ANNOUNCE_GAS_BUDGET = 33_000n;
const RELEASE_GAS_BUDGET = 45_000n;

let consortium: Consortium;
let client: ReturnType<typeof testPublicClient>;
let admin: TestActor;
let outsider: TestActor;
let hospital: TestActor;
let clinic: TestActor;
let lab: TestActor;
let pharmacy: TestActor;
let organizations: Address;
let locator: Address;

/** Custom errors and events exercised, checked against the ABI at the end. */
const { reverts, events, expectAllExercised } = contractCoverage(abi);

/** Asserts `receipt` holds one locator event: `name` for `patient`'s entry of `org`. */
function expectEntryEvent(
  receipt: TransactionReceipt,
  name: 'RecordsAnnounced' | 'RecordsReleased',
  patient: Address,
  org: TestActor,
) {
  expect(events(receipt)).toEqual([
    [name, { patient: getAddress(patient), organization: getAddress(org.address) }],
  ]);
}

const admitNew = (name: string): Promise<TestActor> => consortium.admitNew(name);

/** A patient's pseudonymous address: a fresh key that never holds ether or sends anything. */
const newPatient = (): Address => privateKeyToAddress(generatePrivateKey());

const setSuspended = (org: TestActor, suspended: boolean) => consortium.setSuspended(org, suspended);

/** Sends `functionName(patient)` from `org` and returns the successful receipt. */
async function send(org: TestActor, functionName: 'announce' | 'release', patient: Address) {
  return mined(
    client,
    await org.wallet.writeContract({ address: locator, abi, functionName, args: [patient] }),
  );
}

const announce = (org: TestActor, patient: Address) => send(org, 'announce', patient);
const release = (org: TestActor, patient: Address) => send(org, 'release', patient);

/** Simulates `functionName(patient)` from `actor` (no transaction is sent). */
function simulate(actor: TestActor, functionName: 'announce' | 'release', patient: Address) {
  const call = { address: locator, abi, functionName, args: [patient], account: actor.wallet.account };
  return client.simulateContract(call as unknown as SimulateContractParameters);
}

/** Sends `functionName(patient)` from `actor` with a fixed gas limit, so it is mined even though it reverts. */
async function sendReverting(actor: TestActor, functionName: 'announce' | 'release', patient: Address) {
  const hash = await actor.wallet.writeContract({
    address: locator,
    abi,
    functionName,
    args: [patient],
    gas: 200_000n,
  });
  return client.waitForTransactionReceipt({ hash });
}

const holdersOf = (patient: Address) =>
  client.readContract({ address: locator, abi, functionName: 'holdersOf', args: [patient] });
const holds = (patient: Address, organization: Address) =>
  client.readContract({ address: locator, abi, functionName: 'holds', args: [patient, organization] });
const holderCount = (patient: Address) =>
  client.readContract({ address: locator, abi, functionName: 'holderCount', args: [patient] });

/** Asserts the three views agree with `expected` (in order) and that `others` hold nothing for `patient`. */
async function expectHolders(patient: Address, expected: Address[], others: Address[] = []) {
  expect(await holdersOf(patient)).toEqual(expected.map((a) => getAddress(a)));
  expect(await holderCount(patient)).toBe(BigInt(expected.length));
  for (const org of expected) expect(await holds(patient, org), `holds(${org})`).toBe(true);
  for (const org of others) expect(await holds(patient, org), `holds(${org})`).toBe(false);
}

beforeAll(async () => {
  consortium = await startConsortium();
  ({ client, admin, outsider, organizations } = consortium);
  hospital = await admitNew('St. Example Hospital');
  clinic = await admitNew('Community Clinic');
  lab = await admitNew('City Lab');
  pharmacy = await admitNew('Corner Pharmacy');
  locator = await consortium.deploy(
    admin.wallet.deployContract({ abi, bytecode: recordLocatorBytecode, args: [organizations] }),
  );
});

afterAll(async () => {
  await consortium?.stop();
});

describe('deployment', () => {
  it('rejects the zero organisation registry', async () => {
    await reverts(
      admin.wallet.deployContract({ abi, bytecode: recordLocatorBytecode, args: [zeroAddress] }),
      'RecordLocatorZeroAddress',
    );
  });

  it('is bound to its organisation registry and knows no holders yet', async () => {
    expect(await client.readContract({ address: locator, abi, functionName: 'organizationRegistry' })).toBe(
      organizations,
    );
    const patient = newPatient();
    await expectHolders(patient, [], [hospital.address, outsider.address]);
    // The views answer for the zero address too (nobody can announce it): empty, no revert.
    await expectHolders(zeroAddress, [], [hospital.address]);
  });
});

describe('announce', () => {
  it('records the caller once for the patient and emits RecordsAnnounced', async () => {
    const patient = newPatient();
    const receipt = await announce(hospital, patient);
    expectEntryEvent(receipt, 'RecordsAnnounced', patient, hospital);
    await expectHolders(patient, [hospital.address], [clinic.address]);
  });

  it('is a no-op when the caller already holds an entry: no revert, no event, nothing changes', async () => {
    const patient = newPatient();
    await announce(hospital, patient);
    await announce(clinic, patient);
    const again = await announce(hospital, patient);
    expect(again.logs).toEqual([]);
    const third = await announce(clinic, patient);
    expect(third.logs).toEqual([]);
    await expectHolders(patient, [hospital.address, clinic.address], [lab.address]);
    // A simulation of the repeat succeeds as well (what a gateway sees before sending).
    await expect(simulate(hospital, 'announce', patient)).resolves.toBeDefined();
  });

  it('keeps announcement order and keeps patients apart', async () => {
    const alice = newPatient();
    const bob = newPatient();
    await announce(lab, alice);
    await announce(hospital, bob);
    await announce(hospital, alice);
    await announce(clinic, alice);
    await expectHolders(alice, [lab.address, hospital.address, clinic.address], [pharmacy.address]);
    await expectHolders(bob, [hospital.address], [lab.address, clinic.address]);
  });

  it('refuses the zero patient', async () => {
    await reverts(simulate(hospital, 'announce', zeroAddress), 'RecordLocatorZeroAddress');
    const receipt = await sendReverting(hospital, 'announce', zeroAddress);
    expect(receipt.status).toBe('reverted');
    await expectHolders(zeroAddress, [], [hospital.address]);
  });

  it('refuses an account that was never admitted', async () => {
    const patient = newPatient();
    await reverts(simulate(outsider, 'announce', patient), 'RecordLocatorUnauthorizedOrganization', [
      outsider.address,
    ]);
    const receipt = await sendReverting(outsider, 'announce', patient);
    expect(receipt.status).toBe('reverted');
    await expectHolders(patient, [], [outsider.address]);
  });

  it('refuses a suspended member, even for an entry it already holds, and accepts it again once reinstated', async () => {
    const member = await admitNew('Suspended Clinic');
    const held = newPatient();
    const fresh = newPatient();
    await announce(member, held);
    await setSuspended(member, true);
    try {
      await reverts(simulate(member, 'announce', fresh), 'RecordLocatorUnauthorizedOrganization', [
        member.address,
      ]);
      // The membership check comes before the "already held" no-op: a suspended member learns nothing.
      await reverts(simulate(member, 'announce', held), 'RecordLocatorUnauthorizedOrganization', [
        member.address,
      ]);
      expect((await sendReverting(member, 'announce', fresh)).status).toBe('reverted');
      await expectHolders(fresh, [], [member.address]);
      // Its existing entry stays (the views do not judge standing: readers check the organisation registry).
      await expectHolders(held, [member.address]);
    } finally {
      await setSuspended(member, false);
    }
    const receipt = await announce(member, fresh);
    expectEntryEvent(receipt, 'RecordsAnnounced', fresh, member);
    await expectHolders(fresh, [member.address]);
  });
});

describe('release', () => {
  it('removes the caller entry and emits RecordsReleased; the organisation may announce again later', async () => {
    const patient = newPatient();
    await announce(hospital, patient);
    await announce(clinic, patient);
    const receipt = await release(clinic, patient);
    expectEntryEvent(receipt, 'RecordsReleased', patient, clinic);
    await expectHolders(patient, [hospital.address], [clinic.address]);

    const back = await announce(clinic, patient);
    expectEntryEvent(back, 'RecordsAnnounced', patient, clinic);
    await expectHolders(patient, [hospital.address, clinic.address]);
  });

  it('refuses to release what the caller does not hold: never announced, already released, or someone else entry', async () => {
    const patient = newPatient();
    await reverts(simulate(hospital, 'release', patient), 'RecordLocatorNotHeld', [
      patient,
      hospital.address,
    ]);
    await announce(hospital, patient);
    // Another member cannot remove the hospital's entry: it only ever releases its own.
    await reverts(simulate(clinic, 'release', patient), 'RecordLocatorNotHeld', [patient, clinic.address]);
    await reverts(simulate(outsider, 'release', patient), 'RecordLocatorNotHeld', [
      patient,
      outsider.address,
    ]);
    await release(hospital, patient);
    await reverts(simulate(hospital, 'release', patient), 'RecordLocatorNotHeld', [
      patient,
      hospital.address,
    ]);
    expect((await sendReverting(hospital, 'release', patient)).status).toBe('reverted');
    await expectHolders(patient, [], [hospital.address, clinic.address]);
  });

  it('refuses the zero patient', async () => {
    await reverts(simulate(hospital, 'release', zeroAddress), 'RecordLocatorZeroAddress');
  });

  it('lets a suspended member withdraw its own entry', async () => {
    const member = await admitNew('Closing Clinic');
    const patient = newPatient();
    await announce(hospital, patient);
    await announce(member, patient);
    await setSuspended(member, true);
    const receipt = await release(member, patient);
    expectEntryEvent(receipt, 'RecordsReleased', patient, member);
    await expectHolders(patient, [hospital.address], [member.address]);
  });

  it('moves the last holder into the released position (swap and pop) and keeps every index right', async () => {
    const patient = newPatient();
    const [a, b, c, d] = [hospital, clinic, lab, pharmacy] as const;
    for (const org of [a, b, c, d]) await announce(org, patient);
    await expectHolders(patient, [a.address, b.address, c.address, d.address]);

    await release(b, patient); // middle: d takes b's place
    await expectHolders(patient, [a.address, d.address, c.address], [b.address]);
    await release(a, patient); // first: c takes a's place
    await expectHolders(patient, [c.address, d.address], [a.address, b.address]);
    await release(d, patient); // last: nothing moves
    await expectHolders(patient, [c.address], [a.address, b.address, d.address]);
    // The moved entries' positions were updated: a fresh holder appends after them and each can still leave.
    await announce(b, patient);
    await expectHolders(patient, [c.address, b.address], [a.address, d.address]);
    await release(c, patient); // b moves to the front
    await release(b, patient);
    await expectHolders(patient, [], [a.address, b.address, c.address, d.address]);
  });
});

describe('many holders', () => {
  it('follows a swap-and-pop model exactly across 24 holders released in a scrambled order', async () => {
    const holders: TestActor[] = [];
    for (let i = 0; i < 24; i++) holders.push(await admitNew(`Member ${i}`));
    const patient = newPatient();
    const other = newPatient();
    for (const org of holders) await announce(org, patient);
    await announce(holders[5] as TestActor, other);

    const model = holders.map((h) => h.address);
    await expectHolders(patient, model, [hospital.address]);
    // Release in a fixed scrambled order (7 is coprime with 24, so every index is visited once).
    const order = Array.from({ length: holders.length }, (_, i) => (i * 7 + 3) % holders.length);
    for (const [step, index] of order.entries()) {
      const org = holders[index] as TestActor;
      await release(org, patient);
      const at = model.indexOf(org.address);
      const last = model.pop() as Address;
      if (at < model.length) model[at] = last;
      if (step % 4 === 3 || model.length <= 2) {
        await expectHolders(patient, model, [org.address]);
      } else {
        expect(await holdersOf(patient)).toEqual(model.map((m) => getAddress(m)));
      }
    }
    await expectHolders(patient, [], [(holders[0] as TestActor).address]);
    // The other patient's entry was never touched.
    await expectHolders(other, [(holders[5] as TestActor).address]);
  });
});

describe('gas', () => {
  it('measures announce (first, later, repeated) and release', async () => {
    const patient = newPatient();
    const first = await announce(hospital, patient);
    const later = await announce(clinic, patient);
    const repeated = await announce(hospital, patient);
    await announce(lab, patient); // [hospital, clinic, lab]
    const releaseMoving = await release(hospital, patient); // lab moves into the hospital's position
    const releaseLast = await release(clinic, patient); // [lab, clinic] -> [lab]: nothing moves
    const releaseOnly = await release(lab, patient); // the patient's last holder
    await expectHolders(patient, [], [hospital.address, clinic.address, lab.address]);
    console.log(
      `RecordLocator gas: announce first holder ${first.gasUsed}, later holder ${later.gasUsed}, repeated ` +
        `${repeated.gasUsed}; release moving the last holder ${releaseMoving.gasUsed}, of the last holder ` +
        `${releaseLast.gasUsed}, of the only holder ${releaseOnly.gasUsed}`,
    );
    expect(first.gasUsed).toBeLessThan(FIRST_ANNOUNCE_GAS_BUDGET);
    expect(later.gasUsed).toBeLessThan(LATER_ANNOUNCE_GAS_BUDGET);
    expect(later.gasUsed).toBeLessThan(first.gasUsed);
    expect(repeated.gasUsed).toBeLessThan(REPEATED_ANNOUNCE_GAS_BUDGET);
    for (const r of [releaseMoving, releaseLast, releaseOnly])
      expect(r.gasUsed).toBeLessThan(RELEASE_GAS_BUDGET);
  });
});

describe('coverage', () => {
  it('exercised every custom error and every event of the contract', () => {
    expectAllExercised();
  });
});
