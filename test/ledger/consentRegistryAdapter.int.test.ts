import {
  getAddress,
  keccak256,
  stringToBytes,
  zeroAddress,
  type AbiParameter,
  type Hex,
  type PrivateKeyAccount,
} from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  consentDomain,
  PURPOSES_OF_USE,
  scopeHash,
  signAppointDelegate,
  signGrant,
  signRemoveDelegate,
  signRevoke,
  type ConsentTerms,
} from '../../src/consent/consentTypedData.js';
import type { ConsentChainEvent, ConsentEventSubscription } from '../../src/consent/ports.js';
import {
  CareLedgerError,
  ConflictError,
  InvalidInputError,
  NotFoundError,
  UnavailableError,
} from '../../src/core/errors.js';
import { createChainClients, type ChainClients } from '../../src/ledger/chainClients.js';
import {
  ConsentForbiddenError,
  ConsentRegistryRejectedError,
  decodeConsentError,
} from '../../src/ledger/decodeConsentError.js';
import {
  deployConsentRegistry,
  missingContracts,
  type Deployment,
} from '../../src/ledger/ensureDeployment.js';
import { consentRegistryAbi } from '../../src/ledger/generated/contracts.js';
import { ViemConsentRegistry } from '../../src/ledger/viemConsentRegistry.js';
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
import { eventually, rpc, startTestNode } from '../helpers/inProcessNode.js';
import type { TestAnvil } from '../helpers/testAnvil.js';

const HOUR = 3_600n;
const DAY = 86_400n;

let chain: DeployedChain;
let anvil: TestAnvil;
let clients: ChainClients;
let deployment: Deployment;
let ledger: ViemConsentRegistry;

/** The latest block's timestamp (the chain's clock). */
async function now(): Promise<bigint> {
  return (await clients.publicClient.getBlock({ blockTag: 'latest' })).timestamp;
}

const patientKey = () => privateKeyToAccount(generatePrivateKey());

async function termsFor(patient: Hex, overrides: Partial<ConsentTerms> = {}): Promise<ConsentTerms> {
  const t = await now();
  return {
    patient,
    grantee: someAddress(),
    scopes: [scopeHash('type:Observation'), scopeHash('category:laboratory')],
    purposes: PURPOSES_OF_USE.TREAT | PURPOSES_OF_USE.HPAYMT,
    validFrom: t - 60n,
    validUntil: t + 365n * DAY,
    dataFrom: 0n,
    dataUntil: 0n,
    ...overrides,
  };
}

interface SignOptions {
  deadline?: bigint;
  nonce?: bigint;
  signer?: Hex;
}

async function signedGrant(terms: ConsentTerms, by: PrivateKeyAccount, o: SignOptions = {}) {
  const deadline = o.deadline ?? (await now()) + HOUR;
  const nonce = o.nonce ?? (await ledger.nonceOf(by.address));
  const signature = await signGrant(by, await ledger.domain(), terms, nonce, deadline);
  return [terms, o.signer ?? by.address, deadline, signature] as const;
}

async function signedRevoke(consentId: bigint, by: PrivateKeyAccount, o: SignOptions = {}) {
  const deadline = o.deadline ?? (await now()) + HOUR;
  const nonce = o.nonce ?? (await ledger.nonceOf(by.address));
  const signature = await signRevoke(by, await ledger.domain(), consentId, nonce, deadline);
  return [consentId, o.signer ?? by.address, deadline, signature] as const;
}

async function signedAppoint(patient: PrivateKeyAccount, delegate: Hex, until = 0n) {
  const deadline = (await now()) + HOUR;
  const appointment = { patient: patient.address, delegate, until };
  const nonce = await ledger.nonceOf(patient.address);
  const signature = await signAppointDelegate(patient, await ledger.domain(), appointment, nonce, deadline);
  return [appointment, deadline, signature] as const;
}

async function signedRemove(patient: Hex, delegate: Hex, by: PrivateKeyAccount) {
  const deadline = (await now()) + HOUR;
  const nonce = await ledger.nonceOf(by.address);
  const removal = { patient, delegate };
  const signature = await signRemoveDelegate(by, await ledger.domain(), removal, nonce, deadline);
  return [removal, by.address, deadline, signature] as const;
}

/** Relays a consent signed by the patient; returns its id. */
async function grant(patient: PrivateKeyAccount, overrides: Partial<ConsentTerms> = {}): Promise<bigint> {
  const { consentId } = await ledger.relayGrant(
    ...(await signedGrant(await termsFor(patient.address, overrides), patient)),
  );
  return consentId;
}

/** Collects events from a watcher; `until(n)` waits for at least `n` of them. */
function collector() {
  const events: ConsentChainEvent[] = [];
  const errors: unknown[] = [];
  return {
    events,
    errors,
    onEvent: (event: ConsentChainEvent) => void events.push(event),
    onError: (error: unknown) => void errors.push(error),
    until: (n: number, what = `${n} events`) =>
      eventually(async () => events.length >= n && events, what, 10_000),
  };
}

/**
 * One of each event: a grant, a delegate appointed by the patient, a grant by the delegate, its revocation by
 * the delegate, the delegate's removal by the patient, and a break-glass access. Returns what the events must say.
 */
async function oneOfEach() {
  const patient = patientKey();
  const delegate = patientKey();
  const first = await ledger.relayGrant(...(await signedGrant(await termsFor(patient.address), patient)));
  await ledger.relayAppointDelegate(...(await signedAppoint(patient, delegate.address)));
  const delegated = await ledger.relayGrant(
    ...(await signedGrant(await termsFor(patient.address), delegate)),
  );
  await ledger.relayRevoke(...(await signedRevoke(delegated.consentId, delegate)));
  await ledger.relayRemoveDelegate(...(await signedRemove(patient.address, delegate.address, patient)));
  const reasonHash = keccak256(stringToBytes('unconscious on arrival'));
  const accessor = someAddress();
  await ledger.recordBreakGlass(patient.address, accessor, PURPOSES_OF_USE.ETREAT, reasonHash);
  const p = patient.address;
  const d = delegate.address;
  return [
    { type: 'ConsentGranted', consentId: first.consentId, patient: p, grantedBy: p },
    { type: 'DelegateAppointed', patient: p, delegate: d, until: 0n },
    { type: 'ConsentGranted', consentId: delegated.consentId, patient: p, grantedBy: d },
    { type: 'ConsentRevoked', consentId: delegated.consentId, patient: p, revokedBy: d },
    { type: 'DelegateRemoved', patient: p, delegate: d, removedBy: p },
    {
      type: 'BreakGlassAccess',
      patient: p,
      organization: clients.account.address,
      accessor,
      purpose: PURPOSES_OF_USE.ETREAT,
      reasonHash,
    },
  ];
}

function expectChainOrder(events: ConsentChainEvent[]): void {
  for (let i = 1; i < events.length; i++) {
    const [a, b] = [events[i - 1] as ConsentChainEvent, events[i] as ConsentChainEvent];
    expect(
      a.blockNumber < b.blockNumber || (a.blockNumber === b.blockNumber && a.logIndex < b.logIndex),
    ).toBe(true);
  }
}

beforeAll(async () => {
  chain = await startDeployedChain();
  ({ anvil, clients, deployment } = chain);
  ledger = new ViemConsentRegistry(clients, deployment.consentRegistry, { pageSize: 2 });
});

afterAll(async () => {
  await chain?.stop();
});

describe('deployment', () => {
  it('deploys a ConsentRegistry bound to the OrganizationRegistry and remembers it with the others', async () => {
    await expectDeployedAndRemembered(clients, 'consentRegistry');
  });

  it('gives a remembered deployment from before the ConsentRegistry one, against its OrganizationRegistry', async () => {
    const { consentRegistry: _none, ...old } = deployment;
    const memory = rememberingDeployment(old);
    const upgraded = await deployWith(clients, memory);
    expect(upgraded.deployedNow).toBe(false);
    expect(upgraded.organizationRegistry).toBe(old.organizationRegistry);
    expect(upgraded.anchorRegistry).toBe(old.anchorRegistry);
    expect(upgraded.consentRegistry).not.toBe(deployment.consentRegistry);
    expect(await organizationRegistryOf(clients, upgraded.consentRegistry)).toBe(
      getAddress(old.organizationRegistry),
    );
    expect(rememberedDeployment(memory)).toEqual({
      ...old,
      consentRegistry: upgraded.consentRegistry,
    });
    // The next start reuses it.
    const next = await deployWith(clients, memory);
    expect(next.consentRegistry).toBe(upgraded.consentRegistry);
  });

  it('deploys the ConsentRegistry again when the chain lost only it, and everything when it lost the rest', async () => {
    const lostConsent = { ...deployment, consentRegistry: someAddress() };
    const memory = rememberingDeployment(lostConsent);
    expect(await missingContracts(clients, lostConsent)).toEqual(['consentRegistry']);
    const repaired = await deployWith(clients, memory);
    expect(repaired.anchorRegistry).toBe(deployment.anchorRegistry);
    expect(await missingContracts(clients, repaired)).toEqual([]);

    // An anvil restarted from a state without any of the three (what the node's redeploy path meets).
    const lostAll = {
      ...deployment,
      organizationRegistry: someAddress(),
      anchorRegistry: someAddress(),
      consentRegistry: someAddress(),
    };
    const memory2 = rememberingDeployment(lostAll);
    const redeployed = await deployWith(clients, memory2);
    expect(redeployed.deployedNow).toBe(true);
    expect(await missingContracts(clients, redeployed)).toEqual([]);
    expect(await organizationRegistryOf(clients, redeployed.consentRegistry)).toBe(
      getAddress(redeployed.organizationRegistry),
    );
  });

  it('uses configured addresses after checking that the ConsentRegistry belongs to the OrganizationRegistry', async () => {
    await expectConfiguredContractChecked(
      clients,
      deployment,
      'consentRegistry',
      'ConsentRegistry',
      deployConsentRegistry,
    );
  });

  it('a node reports its ConsentRegistry on /health and redeploys it when its anvil restarts without it', async () => {
    const node = await startTestNode();
    try {
      const before = node.deployment();
      const health = (await (await node.api('/health')).json()) as Record<string, any>;
      expect(health.contracts.consentRegistry).toBe(before.consentRegistry);
      expect(await codeAt(node, before.consentRegistry)).toMatch(/^0x[0-9a-f]{100,}$/);

      // A state dumped without the ConsentRegistry (e.g. before an upgrade deployed it), then a crash of anvil.
      const after = await redeployedWithout(node, 'consentRegistry', 'ConsentRegistry');
      expect(after.anchorRegistry).toBe(before.anchorRegistry);
      expect(after.organizationRegistry).toBe(before.organizationRegistry);
      expect(await codeAt(node, after.consentRegistry)).toMatch(/^0x[0-9a-f]{100,}$/);
      const now = (await (await node.api('/health')).json()) as Record<string, any>;
      expect(now.contracts.consentRegistry).toBe(after.consentRegistry);
    } finally {
      await node.destroy();
    }
  });
});

describe('relaying and reading', () => {
  it('reports the EIP-712 domain of the deployed contract', async () => {
    expect(await ledger.domain()).toEqual(consentDomain(CHAIN_ID, getAddress(deployment.consentRegistry)));
  });

  it('relays a patient-signed grant, reads it back and revokes it', async () => {
    const patient = patientKey();
    expect(await ledger.nonceOf(patient.address)).toBe(0n);
    const terms = await termsFor(patient.address, { dataFrom: 1_600_000_000n, dataUntil: 1_700_000_000n });
    const receipt = await ledger.relayGrant(...(await signedGrant(terms, patient)));
    expect(receipt.consentId).toBeGreaterThan(0n);
    expect(receipt.transactionHash).toMatch(/^0x[0-9a-f]{64}$/);
    expect(receipt.blockNumber).toBeGreaterThan(0);
    expect(await ledger.nonceOf(patient.address)).toBe(1n);

    const block = await clients.publicClient.getBlock({ blockNumber: BigInt(receipt.blockNumber) });
    const granted = await ledger.getConsent(receipt.consentId);
    expect(granted).toEqual({
      id: receipt.consentId,
      patient: patient.address,
      grantee: terms.grantee,
      scopes: terms.scopes,
      purposes: terms.purposes,
      validFrom: terms.validFrom,
      validUntil: terms.validUntil,
      dataFrom: terms.dataFrom,
      dataUntil: terms.dataUntil,
      grantedBy: patient.address,
      grantedAt: block.timestamp,
      revokedAt: null,
      revokedBy: null,
    });

    const revoked = await ledger.relayRevoke(...(await signedRevoke(receipt.consentId, patient)));
    expect(revoked.blockNumber).toBeGreaterThan(receipt.blockNumber);
    const after = await ledger.getConsent(receipt.consentId);
    const revokedBlock = await clients.publicClient.getBlock({ blockNumber: BigInt(revoked.blockNumber) });
    expect(after).toEqual({ ...granted, revokedAt: revokedBlock.timestamp, revokedBy: patient.address });
  });

  it('lists every consent of a patient across pages, in grant order', async () => {
    const patient = patientKey();
    expect(await ledger.consentsOf(patient.address)).toEqual([]);
    const ids: bigint[] = [];
    for (let i = 0; i < 5; i++) ids.push(await grant(patient, { purposes: 1 << i }));
    await grant(patientKey()); // someone else's
    const listed = await ledger.consentsOf(patient.address); // page size 2: three pages
    expect(listed.map((c) => c.id)).toEqual(ids);
    expect(listed.map((c) => c.purposes)).toEqual([1, 2, 4, 8, 16]);
    expect(listed.every((c) => c.patient === patient.address)).toBe(true);
  });

  it('relays concurrent requests of one organisation, each with its own account nonce', async () => {
    // Two adapters on the same account (as the anchoring submitter shares it) and concurrent requests on each.
    const second = new ViemConsentRegistry(clients, deployment.consentRegistry);
    const patients = Array.from({ length: 6 }, patientKey);
    const signed = await Promise.all(patients.map(async (p) => signedGrant(await termsFor(p.address), p)));
    const receipts = await Promise.all(
      signed.map((args, i) => (i % 2 === 0 ? ledger : second).relayGrant(...args)),
    );
    expect(new Set(receipts.map((r) => r.consentId)).size).toBe(patients.length);
    for (const [i, receipt] of receipts.entries()) {
      expect((await ledger.getConsent(receipt.consentId)).patient).toBe(patients[i]?.address);
    }
  });

  it('relays delegations: a delegate grants for the patient until removed; break-glass is recorded', async () => {
    const patient = patientKey();
    const delegate = patientKey();
    expect(await ledger.isDelegate(patient.address, delegate.address)).toBe(false);
    await ledger.relayAppointDelegate(...(await signedAppoint(patient, delegate.address)));
    expect(await ledger.isDelegate(patient.address, delegate.address)).toBe(true);

    const { consentId } = await ledger.relayGrant(
      ...(await signedGrant(await termsFor(patient.address), delegate)),
    );
    expect(await ledger.getConsent(consentId)).toMatchObject({
      patient: patient.address,
      grantedBy: delegate.address,
    });

    await ledger.relayRemoveDelegate(...(await signedRemove(patient.address, delegate.address, delegate)));
    expect(await ledger.isDelegate(patient.address, delegate.address)).toBe(false);

    const tx = await ledger.recordBreakGlass(
      patient.address,
      someAddress(),
      PURPOSES_OF_USE.ETREAT,
      keccak256(stringToBytes('cardiac arrest')),
    );
    expect(tx.transactionHash).toMatch(/^0x[0-9a-f]{64}$/);
    const count = await clients.publicClient.readContract({
      address: deployment.consentRegistry,
      abi: consentRegistryAbi,
      functionName: 'breakGlassCount',
      args: [patient.address],
    });
    expect(count).toBe(1n);
  });
});

describe('refusals become errors a person can act on', () => {
  it('an expired signature: 400 with the deadline', async () => {
    const patient = patientKey();
    const deadline = (await now()) - 1n;
    const error = await expectCareLedgerError(
      ledger.relayGrant(...(await signedGrant(await termsFor(patient.address), patient, { deadline }))),
      InvalidInputError,
      400,
      'CONSENT.SIGNATURE_EXPIRED',
      /expired at .*sign it again with a later deadline/,
    );
    expect(error.message).toContain(new Date(Number(deadline) * 1000).toISOString());
    expect(error.details).toEqual({ deadline: deadline.toString() });
    expect(await ledger.nonceOf(patient.address)).toBe(0n); // nothing was sent
  });

  it('a forged signature: 400, the signature does not match the signer', async () => {
    const patient = patientKey();
    const forger = patientKey();
    const terms = await termsFor(patient.address);
    const [, , deadline, forged] = await signedGrant(terms, forger, { nonce: 0n });
    await expectCareLedgerError(
      ledger.relayGrant(terms, patient.address, deadline, forged),
      InvalidInputError,
      400,
      'CONSENT.SIGNATURE_INVALID',
      new RegExp(`does not match the signer ${patient.address} or was already used \\(nonce\\)`),
    );
  });

  it('a replayed signature: 400, the signature was already used', async () => {
    const patient = patientKey();
    const args = await signedGrant(await termsFor(patient.address), patient);
    await ledger.relayGrant(...args);
    await expectCareLedgerError(
      ledger.relayGrant(...args),
      InvalidInputError,
      400,
      'CONSENT.SIGNATURE_INVALID',
      /already used \(nonce\).*current nonce/,
    );
  });

  it('someone who is not the patient nor their delegate: 403', async () => {
    const patient = patientKey();
    const stranger = patientKey();
    const error = await expectCareLedgerError(
      ledger.relayGrant(...(await signedGrant(await termsFor(patient.address), stranger))),
      ConsentForbiddenError,
      403,
      'CONSENT.UNAUTHORIZED',
      new RegExp(`${stranger.address} may not act for patient ${patient.address}`),
    );
    expect(error.issueType).toBe('forbidden');
  });

  it('an unknown consent: 404 on revocation and on reading', async () => {
    const patient = patientKey();
    await expectCareLedgerError(
      ledger.relayRevoke(...(await signedRevoke(999_999n, patient))),
      NotFoundError,
      404,
      'CONSENT.NOT_FOUND',
      /No consent with id 999999/,
    );
    await expectCareLedgerError(ledger.getConsent(999_999n), NotFoundError, 404, 'CONSENT.NOT_FOUND');
  });

  it('a consent revoked twice: 409', async () => {
    const patient = patientKey();
    const id = await grant(patient);
    await ledger.relayRevoke(...(await signedRevoke(id, patient)));
    await expectCareLedgerError(
      ledger.relayRevoke(...(await signedRevoke(id, patient))),
      ConflictError,
      409,
      'CONSENT.ALREADY_REVOKED',
      new RegExp(`Consent ${id} is already revoked`),
    );
  });

  it('a relaying organisation that is not an active member: 403 naming it', async () => {
    const outsiderClients = await chain.organization(false);
    const outsider = new ViemConsentRegistry(outsiderClients, deployment.consentRegistry);
    const patient = patientKey();
    const error = await expectCareLedgerError(
      outsider.relayGrant(...(await signedGrant(await termsFor(patient.address), patient))),
      ConsentForbiddenError,
      403,
      'CONSENT.ORGANIZATION_NOT_ACTIVE',
      new RegExp(
        `organisation ${outsiderClients.account.address} is not an active member.*ask the consortium admin`,
      ),
    );
    expect(error.details).toEqual({ organization: outsiderClients.account.address });
    await expectCareLedgerError(
      outsider.recordBreakGlass(patient.address, someAddress(), 1, keccak256('0x01')),
      ConsentForbiddenError,
      403,
      'CONSENT.ORGANIZATION_NOT_ACTIVE',
    );
  });

  it('invalid terms and delegations: 400, 404 and 409 with the reason', async () => {
    const patient = patientKey();
    const delegate = patientKey();
    const t = await now();
    const badGrant = (overrides: Partial<ConsentTerms>) => async () =>
      ledger.relayGrant(...(await signedGrant(await termsFor(patient.address, overrides), patient)));
    const cases: [() => Promise<unknown>, string, RegExp][] = [
      [badGrant({ grantee: patient.address }), 'CONSENT.INVALID_GRANTEE', /grantee .* is not valid/],
      [badGrant({ scopes: [] }), 'CONSENT.INVALID_SCOPE_COUNT', /1 to 32 scopes; 0 were given/],
      [
        badGrant({ scopes: [scopeHash('type:Observation'), `0x${'00'.repeat(32)}`] }),
        'CONSENT.ZERO_SCOPE',
        /Scope 1 \(counting from 0\) is zero/,
      ],
      [badGrant({ purposes: 0x80 }), 'CONSENT.INVALID_PURPOSES', /Purposes mask 128 is not valid/],
      [
        badGrant({ validFrom: t + DAY, validUntil: t + HOUR }),
        'CONSENT.INVALID_VALIDITY',
        /empty or already over/,
      ],
      [
        badGrant({ dataFrom: 20n, dataUntil: 10n }),
        'CONSENT.INVALID_DATA_RANGE',
        /data date range is inverted/,
      ],
      [
        () => ledger.recordBreakGlass(zeroAddress, someAddress(), 1, keccak256('0x01')),
        'CONSENT.ZERO_ADDRESS',
        /zero address/,
      ],
      [
        () => ledger.recordBreakGlass(patient.address, someAddress(), 1, `0x${'00'.repeat(32)}`),
        'CONSENT.MISSING_REASON',
        /hash of its justification/,
      ],
      [
        async () => ledger.relayAppointDelegate(...(await signedAppoint(patient, patient.address))),
        'CONSENT.INVALID_DELEGATE',
        /cannot be a delegate/,
      ],
      [
        async () => ledger.relayAppointDelegate(...(await signedAppoint(patient, delegate.address, 1n))),
        'CONSENT.INVALID_DELEGATION_EXPIRY',
        /has passed: give 0 \(until removed\) or a future time/,
      ],
    ];
    for (const [action, code, message] of cases) {
      await expectCareLedgerError(action(), InvalidInputError, 400, code, message);
    }

    await expectCareLedgerError(
      ledger.relayRemoveDelegate(...(await signedRemove(patient.address, delegate.address, patient))),
      NotFoundError,
      404,
      'CONSENT.NOT_DELEGATE',
      new RegExp(`${delegate.address} is not \\(or no longer\\) a delegate`),
    );
    await ledger.relayAppointDelegate(...(await signedAppoint(patient, delegate.address)));
    await expectCareLedgerError(
      ledger.relayAppointDelegate(...(await signedAppoint(patient, delegate.address))),
      ConflictError,
      409,
      'CONSENT.DELEGATE_EXISTS',
      /already an active delegate/,
    );
  });

  it('an unreachable chain: 503', async () => {
    const proxy = await startFlakyRpc(anvil.rpcUrl);
    try {
      proxy.failing = true;
      const offline = new ViemConsentRegistry(
        createChainClients(proxy.url, CHAIN_ID, generatePrivateKey()),
        deployment.consentRegistry,
      );
      await expectCareLedgerError(
        offline.nonceOf(someAddress()),
        UnavailableError,
        503,
        'CHAIN.UNAVAILABLE',
        /could not be reached/,
      );
    } finally {
      await proxy.close();
    }
  });

  it('no ConsentRegistry at the address: 503, for reads and for writes (which would otherwise do nothing)', async () => {
    const nowhere = new ViemConsentRegistry(clients, someAddress());
    await expectCareLedgerError(
      nowhere.getConsent(1n),
      UnavailableError,
      503,
      'CONSENT.REGISTRY_MISSING',
      /No ConsentRegistry answers at 0x[0-9a-fA-F]{40}.*CARELEDGER_CONSENT_REGISTRY/,
    );
    const patient = patientKey();
    const [, , deadline, signature] = await signedRevoke(1n, patient);
    await expectCareLedgerError(
      nowhere.relayRevoke(1n, patient.address, deadline, signature),
      UnavailableError,
      503,
      'CONSENT.REGISTRY_MISSING',
      new RegExp(`ConsentRegistry at ${nowhere.contractAddress()} emitted no ConsentRevoked event`),
    );
  });

  it('maps every custom error of the ABI to its own CareLedgerError, and an unknown one to 502', () => {
    const errors = expectEveryCustomErrorDecoded(consentRegistryAbi, decodeConsentError, {
      area: 'CONSENT',
      statuses: [400, 403, 404, 409],
      functionName: 'grantWithSig',
      sample: (p: AbiParameter): unknown =>
        p.type === 'address'
          ? someAddress()
          : p.type === 'bytes32'
            ? keccak256('0x01')
            : p.type === 'uint32'
              ? 5
              : 7n,
    });
    expect(errors.length).toBeGreaterThanOrEqual(18);
    expectUnknownRevertRejected(
      decodeConsentError,
      'ConsentRegistryFutureRule',
      ConsentRegistryRejectedError,
      'grantWithSig',
    );
  });
});

describe('watching events', () => {
  const subscriptions: ConsentEventSubscription[] = [];
  afterAll(async () => {
    for (const s of subscriptions) await s.stop();
  });
  const watch = (
    on: ReturnType<typeof collector>,
    fromBlock: number | bigint,
    target: ViemConsentRegistry = ledger,
    onEvent: (event: ConsentChainEvent) => void | Promise<void> = on.onEvent,
  ) => {
    const subscription = target.watchConsentEvents(onEvent, {
      fromBlock,
      pollingIntervalMs: 50,
      maxBackoffMs: 200,
      maxBlockRange: 3,
      onError: on.onError,
    });
    subscriptions.push(subscription);
    return subscription;
  };

  let all: ConsentChainEvent[] = [];

  it('delivers every event type in chain order, as domain events', async () => {
    const from = (await clients.publicClient.getBlockNumber({ cacheTime: 0 })) + 1n;
    const on = collector();
    const subscription = watch(on, from);
    const expected = await oneOfEach();
    const events = await on.until(expected.length);
    await new Promise((r) => setTimeout(r, 200)); // nothing more, nothing twice
    expect(events).toHaveLength(expected.length);
    expect(events).toEqual(expected.map((e) => expect.objectContaining(e)));
    expectChainOrder(events);
    for (const event of events) {
      expect(event.transactionHash).toMatch(/^0x[0-9a-f]{64}$/);
      expect(event.blockNumber).toBeGreaterThanOrEqual(Number(from));
    }
    expect(subscription.lastProcessedBlock).toBeGreaterThanOrEqual(
      (events.at(-1) as ConsentChainEvent).blockNumber,
    );
    expect(on.errors).toEqual([]);
    await subscription.stop();
    await subscription.stop(); // idempotent
    all = events;
  });

  it('resumes from a given block', async () => {
    const third = all[2] as ConsentChainEvent;
    const on = collector();
    const subscription = watch(on, third.blockNumber);
    const expected = all.filter((e) => e.blockNumber >= third.blockNumber);
    await on.until(expected.length);
    await new Promise((r) => setTimeout(r, 200));
    expect(on.events).toEqual(expected);
    await subscription.stop();
  });

  it('delivers an event again, in order, when the handler failed on it', async () => {
    const on = collector();
    let failures = 0;
    const subscription = watch(on, (all[0] as ConsentChainEvent).blockNumber, ledger, (event) => {
      if (event.type === 'DelegateAppointed' && failures++ === 0) throw new Error('consent cache busy');
      on.events.push(event);
    });
    await on.until(all.length);
    await new Promise((r) => setTimeout(r, 200));
    expect(on.events).toEqual(all);
    expect(failures).toBe(2);
    expect(on.errors).toEqual([expect.objectContaining({ message: 'consent cache busy' })]);
    await subscription.stop();
  });

  it('keeps going while the RPC endpoint fails, from a start on a failing endpoint, and stops when asked', async () => {
    const proxy = await startFlakyRpc(anvil.rpcUrl);
    try {
      proxy.failing = true;
      const flakyLedger = new ViemConsentRegistry(
        createChainClients(proxy.url, CHAIN_ID, generatePrivateKey()),
        deployment.consentRegistry,
      );
      const from = (await clients.publicClient.getBlockNumber({ cacheTime: 0 })) + 1n;
      const on = collector();
      const subscription = watch(on, from, flakyLedger);
      const first = await oneOfEach();
      await eventually(async () => on.errors.length >= 2, 'the watcher to report failures');
      expect(on.events).toEqual([]);
      expect(on.errors[0]).toBeInstanceOf(UnavailableError);

      proxy.failing = false;
      await on.until(first.length, 'the events once the endpoint works');
      proxy.failing = true;
      const second = await oneOfEach();
      const failuresBefore = on.errors.length;
      await eventually(async () => on.errors.length > failuresBefore, 'another failure');
      proxy.failing = false;
      const events = await on.until(first.length + second.length, 'the events after the second outage');
      await new Promise((r) => setTimeout(r, 200));
      expect(events).toEqual([...first, ...second].map((e) => expect.objectContaining(e)));
      expectChainOrder(events);

      await subscription.stop();
      const requests = proxy.requests;
      await new Promise((r) => setTimeout(r, 300));
      expect(proxy.requests).toBe(requests);
    } finally {
      await proxy.close();
    }
  });

  it('reports a chain that lost blocks and continues from its new head', async () => {
    const snapshot = (await rpc(anvil.rpcUrl, 'evm_snapshot')) as Hex;
    const on = collector();
    const from = (await clients.publicClient.getBlockNumber({ cacheTime: 0 })) + 1n;
    const subscription = watch(on, from);
    const patient = patientKey();
    const lost = await grant(patient);
    await on.until(1);
    await eventually(async () => subscription.lastProcessedBlock >= Number(from), 'the lost block processed');
    expect(await rpc(anvil.rpcUrl, 'evm_revert', [snapshot])).toBe(true);
    await eventually(
      async () => on.errors.some((e) => e instanceof CareLedgerError && e.code === 'CHAIN.REWOUND'),
      'the watcher to notice the chain went back',
    );
    const kept = await grant(patient); // the same nonce again: the first grant is gone
    expect(kept).toBe(lost);
    const events = await on.until(2);
    expect(events.map((e) => e.type)).toEqual(['ConsentGranted', 'ConsentGranted']);
    expect((events[1] as ConsentChainEvent).blockNumber).toBe(Number(from));
    await subscription.stop();
  });
});
