import {
  createTestClient,
  createWalletClient,
  defineChain,
  domainSeparator,
  getAddress,
  http,
  keccak256,
  maxUint256,
  parseEventLogs,
  parseSignature,
  serializeCompactSignature,
  serializeSignature,
  signatureToCompactSignature,
  toHex,
  zeroAddress,
  zeroHash,
  type Address,
  type Chain,
  type ContractFunctionArgs,
  type ContractFunctionName,
  type ContractFunctionReturnType,
  type Hex,
  type PrivateKeyAccount,
  type SimulateContractParameters,
  type TransactionReceipt,
  type WriteContractParameters,
} from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ALL_PURPOSES,
  CONSENT_TYPES,
  PURPOSES_OF_USE,
  consentDomain,
  purposesToMask,
  scopeHash,
  signAppointDelegate,
  signGrant,
  signRemoveDelegate,
  signRevoke,
  type ConsentDomain,
  type ConsentTerms,
} from '../../src/consent/consentTypedData.js';
import {
  consentRegistryAbi,
  consentRegistryBytecode,
  organizationRegistryAbi,
  organizationRegistryBytecode,
} from '../../src/ledger/generated/contracts.js';
import { ORGANIZATION_ROLES } from '../../src/ledger/organizationRoles.js';
import { fundedTestKey, startTestAnvil, type TestAnvil } from '../helpers/testAnvil.js';
import {
  chain,
  contractCoverage,
  mined,
  startConsortium,
  testPublicClient,
  type Consortium,
  type TestActor,
  type TestWallet,
} from './chain.js';

const abi = consentRegistryAbi;
/** secp256k1 group order, to build the malleable (high-s) twin of a signature. */
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const HOUR = 3600n;
const DAY = 86_400n;
/**
 * Gas budgets (regression guards, about 10 % above the measured figures): a relayed grant with three scopes
 * and a data range for a patient's first consent (~299k: most of it the ten fresh storage slots it fills), and
 * a relayed revocation (~68k).
 */
const GRANT_GAS_BUDGET = 330_000n;
const REVOKE_GAS_BUDGET = 80_000n;

/** A secp256k1 key pair (patient, delegate, practitioner...) with a wallet for direct calls. */
interface Party extends TestActor {
  account: PrivateKeyAccount;
}

let consortium: Consortium;
let anvil: TestAnvil;
let client: ReturnType<typeof testPublicClient>;
let testClient: ReturnType<typeof createTestClient>;
let admin: TestActor;
let member: TestActor;
let otherMember: TestActor;
let suspended: TestActor;
let outsider: TestActor;
let organizations: Address;
let registry: Address;
let domain: ConsentDomain;

/** Custom errors and events exercised, checked against the ABI at the end. */
const { reverts, events, expectAllExercised } = contractCoverage(abi);

const admitNew = (name: string): Promise<TestActor> => consortium.admitNew(name);

/** A new key pair. Patients hold no ether: only `funded` parties (for the direct calls) get some. */
async function newParty(funded = false): Promise<Party> {
  const account = privateKeyToAccount(funded ? await fundedTestKey(anvil.rpcUrl) : generatePrivateKey());
  return {
    account,
    address: account.address,
    wallet: createWalletClient({ account, chain, transport: http(anvil.rpcUrl) }),
  };
}

/** The latest block's timestamp: the chain's clock, which `advance` moves ahead of the wall clock. */
async function now(): Promise<bigint> {
  return (await client.getBlock()).timestamp;
}

async function advance(seconds: bigint): Promise<void> {
  await testClient.increaseTime({ seconds: Number(seconds) });
  await testClient.mine({ blocks: 1 });
}

async function blockTimestamp(receipt: TransactionReceipt): Promise<bigint> {
  return (await client.getBlock({ blockNumber: receipt.blockNumber })).timestamp;
}

function read<const F extends ContractFunctionName<typeof abi, 'view' | 'pure'>>(
  functionName: F,
  args?: ContractFunctionArgs<typeof abi, 'view' | 'pure', F>,
) {
  return client.readContract({ address: registry, abi, functionName, args } as never) as Promise<
    ContractFunctionReturnType<typeof abi, 'view' | 'pure', F>
  >;
}

const nonceOf = (account: Address) => read('nonces', [account]);
const consentOf = (id: bigint) => read('getConsent', [id]);
const isActive = (id: bigint) => read('isConsentActive', [id]);
const isDelegate = (patient: Address, account: Address) => read('isDelegate', [patient, account]);

type WriteFunction = ContractFunctionName<typeof abi, 'nonpayable'>;
type WriteArgs<F extends WriteFunction> = ContractFunctionArgs<typeof abi, 'nonpayable', F>;

/** Simulates `functionName(args)` from `actor` (no transaction is sent). */
function simulate<const F extends WriteFunction>(
  actor: TestActor,
  functionName: F,
  args: WriteArgs<F>,
): Promise<unknown> {
  const call = { address: registry, abi, functionName, args, account: actor.wallet.account };
  return client.simulateContract(call as unknown as SimulateContractParameters);
}

/** Sends `functionName(args)` from `actor` and returns the successful receipt. */
async function send<const F extends WriteFunction>(
  actor: TestActor,
  functionName: F,
  args: WriteArgs<F>,
): Promise<TransactionReceipt> {
  const call = { address: registry, abi, functionName, args };
  return mined(client, await actor.wallet.writeContract(call as unknown as WriteContractParameters));
}

/** Terms of a one-year TREAT consent from `patient` to `grantee` over Observations and lab results. */
async function termsFor(patient: Address, grantee: Address, overrides: Partial<ConsentTerms> = {}) {
  const t = await now();
  const terms: ConsentTerms = {
    patient,
    grantee,
    scopes: [scopeHash('type:Observation'), scopeHash('category:laboratory')],
    purposes: PURPOSES_OF_USE.TREAT,
    validFrom: t - 60n,
    validUntil: t + 365n * DAY,
    dataFrom: 0n,
    dataUntil: 0n,
    ...overrides,
  };
  return terms;
}

interface SignOptions {
  nonce?: bigint;
  deadline?: bigint;
  domain?: ConsentDomain;
  signer?: Address;
}

/** Arguments of `grantWithSig` for `terms` signed by `by` (at its current nonce unless overridden). */
async function grantArgs(terms: ConsentTerms, by: Party, o: SignOptions = {}) {
  const deadline = o.deadline ?? (await now()) + HOUR;
  const nonce = o.nonce ?? (await nonceOf(by.address));
  const signature = await signGrant(by.account, o.domain ?? domain, terms, nonce, deadline);
  return [terms, o.signer ?? by.address, deadline, signature] as const;
}

async function revokeArgs(consentId: bigint, by: Party, o: SignOptions = {}) {
  const deadline = o.deadline ?? (await now()) + HOUR;
  const nonce = o.nonce ?? (await nonceOf(by.address));
  const signature = await signRevoke(by.account, o.domain ?? domain, consentId, nonce, deadline);
  return [consentId, o.signer ?? by.address, deadline, signature] as const;
}

async function appointArgs(patient: Party, delegate: Address, until: bigint, o: SignOptions = {}) {
  const deadline = o.deadline ?? (await now()) + HOUR;
  const nonce = o.nonce ?? (await nonceOf(patient.address));
  const appointment = { patient: o.signer ?? patient.address, delegate, until };
  const signature = await signAppointDelegate(
    patient.account,
    o.domain ?? domain,
    appointment,
    nonce,
    deadline,
  );
  return [appointment.patient, delegate, until, deadline, signature] as const;
}

async function removeArgs(patient: Address, delegate: Address, by: Party, o: SignOptions = {}) {
  const deadline = o.deadline ?? (await now()) + HOUR;
  const nonce = o.nonce ?? (await nonceOf(by.address));
  const signature = await signRemoveDelegate(
    by.account,
    o.domain ?? domain,
    { patient, delegate },
    nonce,
    deadline,
  );
  return [patient, delegate, o.signer ?? by.address, deadline, signature] as const;
}

/** Relays a consent signed by `by` through `relayer` and returns its id and receipt. */
async function relayGrant(terms: ConsentTerms, by: Party, relayer: TestActor = member) {
  const receipt = await send(relayer, 'grantWithSig', await grantArgs(terms, by));
  const [granted] = parseEventLogs({ abi, logs: receipt.logs, eventName: 'ConsentGranted' });
  if (!granted) throw new Error('no ConsentGranted event');
  return { id: granted.args.consentId, receipt };
}

async function relayAppoint(patient: Party, delegate: Address, until = 0n) {
  return send(member, 'appointDelegateWithSig', await appointArgs(patient, delegate, until));
}

beforeAll(async () => {
  consortium = await startConsortium();
  ({ anvil, client, admin, outsider, organizations } = consortium);
  testClient = createTestClient({ mode: 'anvil', chain, transport: http(anvil.rpcUrl) });
  member = await admitNew('St. Example Hospital');
  otherMember = await admitNew('Acme Health Insurance');
  suspended = await admitNew('Suspended Clinic');
  await consortium.setSuspended(suspended, true, 'audit');
  registry = await consortium.deploy(
    admin.wallet.deployContract({ abi, bytecode: consentRegistryBytecode, args: [organizations] }),
  );
  domain = consentDomain(chain.id, registry);
});

afterAll(async () => {
  await consortium?.stop();
});

describe('deployment', () => {
  it('rejects the zero organisation registry', async () => {
    await reverts(
      admin.wallet.deployContract({ abi, bytecode: consentRegistryBytecode, args: [zeroAddress] }),
      'ConsentRegistryZeroAddress',
    );
  });

  it('exposes its EIP-712 domain, type hashes and purposes', async () => {
    expect(await read('eip712Domain')).toEqual([
      '0x0f',
      'CareLedger ConsentRegistry',
      '1',
      BigInt(chain.id),
      registry,
      zeroHash,
      [],
    ]);
    expect(await read('DOMAIN_SEPARATOR')).toBe(domainSeparator({ domain }));
    const typeHash = (name: keyof typeof CONSENT_TYPES) =>
      keccak256(toHex(`${name}(${CONSENT_TYPES[name].map((f) => `${f.type} ${f.name}`).join(',')})`));
    expect(await read('GRANT_TYPEHASH')).toBe(typeHash('Grant'));
    expect(await read('REVOKE_TYPEHASH')).toBe(typeHash('Revoke'));
    expect(await read('APPOINT_DELEGATE_TYPEHASH')).toBe(typeHash('AppointDelegate'));
    expect(await read('REMOVE_DELEGATE_TYPEHASH')).toBe(typeHash('RemoveDelegate'));
    expect(await read('PURPOSE_TREAT')).toBe(PURPOSES_OF_USE.TREAT);
    expect(await read('PURPOSE_PATRQT')).toBe(PURPOSES_OF_USE.PATRQT);
    expect(await read('ALL_PURPOSES')).toBe(ALL_PURPOSES);
    expect(await read('MAX_SCOPES')).toBe(32n);
    expect(await read('organizationRegistry')).toBe(organizations);
    expect(await read('consentCount')).toBe(0n);
  });
});

describe('grant', () => {
  it('records a relayed consent with id 1, storing every term, and emits ConsentGranted', async () => {
    const patient = await newParty();
    const grantee = await newParty();
    const t = await now();
    const terms = await termsFor(patient.address, grantee.address, {
      scopes: [
        scopeHash('type:Observation'),
        scopeHash('category:laboratory'),
        scopeHash('resource:DocumentReference/5e0b7c1a'),
      ],
      purposes: purposesToMask(['TREAT', 'HPAYMT']),
      validFrom: t + 10n,
      validUntil: t + 30n * DAY,
      dataFrom: 1_577_836_800n, // 2020-01-01
      dataUntil: 1_735_689_599n, // 2024-12-31T23:59:59Z
    });
    expect(await client.getBalance({ address: patient.address })).toBe(0n);
    expect(await nonceOf(patient.address)).toBe(0n);
    const { id, receipt } = await relayGrant(terms, patient);
    expect(id).toBe(1n);
    expect(events(receipt)).toEqual([
      [
        'ConsentGranted',
        {
          consentId: 1n,
          patient: patient.address,
          grantee: grantee.address,
          purposes: terms.purposes,
          validUntil: terms.validUntil,
          grantedBy: patient.address,
        },
      ],
    ]);
    expect(await consentOf(1n)).toEqual({
      patient: patient.address,
      validFrom: terms.validFrom,
      purposes: terms.purposes,
      grantee: grantee.address,
      validUntil: terms.validUntil,
      grantedBy: patient.address,
      grantedAt: await blockTimestamp(receipt),
      revokedBy: zeroAddress,
      revokedAt: 0n,
      dataFrom: terms.dataFrom,
      dataUntil: terms.dataUntil,
      scopes: terms.scopes,
    });
    expect(await read('consentCount')).toBe(1n);
    expect(await nonceOf(patient.address)).toBe(1n);
    expect(await nonceOf(member.address)).toBe(0n);
  });

  it('numbers consents sequentially and accepts a direct grant from the patient', async () => {
    const patient = await newParty(true);
    const grantee = await newParty();
    const before = await read('consentCount');
    const terms = await termsFor(patient.address, grantee.address, {
      dataFrom: 1_600_000_000n,
      dataUntil: 0n,
    });
    const receipt = await send(patient, 'grant', [terms]);
    expect(events(receipt)).toEqual([
      [
        'ConsentGranted',
        {
          consentId: before + 1n,
          patient: patient.address,
          grantee: grantee.address,
          purposes: terms.purposes,
          validUntil: terms.validUntil,
          grantedBy: patient.address,
        },
      ],
    ]);
    const stored = await consentOf(before + 1n);
    expect([stored.dataFrom, stored.dataUntil, stored.scopes]).toEqual([1_600_000_000n, 0n, terms.scopes]);
    // A direct call consumes no nonce.
    expect(await nonceOf(patient.address)).toBe(0n);
    const { id } = await relayGrant(await termsFor(patient.address, grantee.address), patient);
    expect(id).toBe(before + 2n);
  });

  it('accepts the boundaries: 32 scopes, every purpose, a one-day data range, an open validity start', async () => {
    const patient = await newParty(true);
    const grantee = await newParty();
    const terms = await termsFor(patient.address, grantee.address, {
      scopes: Array.from({ length: 32 }, (_, i) => scopeHash(`type:T${i}`)),
      purposes: ALL_PURPOSES,
      validFrom: 0n,
      dataFrom: 1_700_000_000n,
      dataUntil: 1_700_000_000n,
    });
    const { id } = await relayGrant(terms, patient);
    const stored = await consentOf(id);
    expect(stored.scopes).toEqual(terms.scopes);
    expect(stored.purposes).toBe(ALL_PURPOSES);
    expect([stored.validFrom, stored.dataFrom, stored.dataUntil]).toEqual([
      0n,
      1_700_000_000n,
      1_700_000_000n,
    ]);
  });

  it('rejects invalid terms', async () => {
    const patient = await newParty(true);
    const grantee = (await newParty()).address;
    const t = await now();
    const direct = async (overrides: Partial<ConsentTerms>) =>
      simulate(patient, 'grant', [await termsFor(patient.address, grantee, overrides)]);
    await reverts(direct({ grantee: zeroAddress }), 'ConsentRegistryInvalidGrantee', [zeroAddress]);
    await reverts(direct({ grantee: patient.address }), 'ConsentRegistryInvalidGrantee', [patient.address]);
    await reverts(direct({ scopes: [] }), 'ConsentRegistryInvalidScopeCount', [0n]);
    await reverts(
      direct({ scopes: Array.from({ length: 33 }, (_, i) => scopeHash(`type:T${i}`)) }),
      'ConsentRegistryInvalidScopeCount',
      [33n],
    );
    await reverts(direct({ scopes: [scopeHash('type:Observation'), zeroHash] }), 'ConsentRegistryZeroScope', [
      1n,
    ]);
    await reverts(direct({ purposes: 0 }), 'ConsentRegistryInvalidPurposes', [0]);
    await reverts(direct({ purposes: 0x80 }), 'ConsentRegistryInvalidPurposes', [0x80]);
    await reverts(direct({ purposes: 0xff }), 'ConsentRegistryInvalidPurposes', [0xff]);
    await reverts(direct({ validFrom: t + DAY, validUntil: t + DAY }), 'ConsentRegistryInvalidValidity', [
      t + DAY,
      t + DAY,
    ]);
    await reverts(direct({ validFrom: t + DAY, validUntil: t + HOUR }), 'ConsentRegistryInvalidValidity', [
      t + DAY,
      t + HOUR,
    ]);
    await reverts(direct({ validFrom: t - DAY, validUntil: t - 1n }), 'ConsentRegistryInvalidValidity', [
      t - DAY,
      t - 1n,
    ]);
    await reverts(
      direct({ dataFrom: 1_700_000_001n, dataUntil: 1_700_000_000n }),
      'ConsentRegistryInvalidDataRange',
      [1_700_000_001n, 1_700_000_000n],
    );
    // The same checks apply to a relayed grant.
    await reverts(
      simulate(
        member,
        'grantWithSig',
        await grantArgs(await termsFor(patient.address, grantee, { purposes: 0 }), patient),
      ),
      'ConsentRegistryInvalidPurposes',
      [0],
    );
  });

  it('is reserved to the patient and the patient’s active delegates', async () => {
    const patient = await newParty();
    const stranger = await newParty(true);
    const grantee = await newParty(true);
    const terms = await termsFor(patient.address, grantee.address);
    await reverts(simulate(stranger, 'grant', [terms]), 'ConsentRegistryUnauthorized', [
      stranger.address,
      patient.address,
    ]);
    // Not even the grantee or a member organisation may grant on the patient's behalf.
    await reverts(simulate(grantee, 'grant', [terms]), 'ConsentRegistryUnauthorized', [
      grantee.address,
      patient.address,
    ]);
    await reverts(simulate(member, 'grant', [terms]), 'ConsentRegistryUnauthorized', [
      member.address,
      patient.address,
    ]);
    // A validly signed grant by someone who is not the patient is refused too.
    await reverts(
      simulate(member, 'grantWithSig', await grantArgs(terms, stranger)),
      'ConsentRegistryUnauthorized',
      [stranger.address, patient.address],
    );
    // The zero patient is rejected as such.
    const orphan = { ...terms, patient: zeroAddress };
    await reverts(simulate(stranger, 'grant', [orphan]), 'ConsentRegistryZeroAddress');
    await reverts(
      simulate(member, 'grantWithSig', await grantArgs(orphan, stranger)),
      'ConsentRegistryZeroAddress',
    );
  });
});

describe('EIP-712 signatures', () => {
  it('rejects a replayed signature (same nonce twice)', async () => {
    const patient = await newParty();
    const terms = await termsFor(patient.address, (await newParty()).address);
    const args = await grantArgs(terms, patient);
    await send(member, 'grantWithSig', args);
    expect(await nonceOf(patient.address)).toBe(1n);
    // Replayed by the same relayer or by another member: the nonce it was signed with is used up.
    await reverts(simulate(member, 'grantWithSig', args), 'ConsentRegistryInvalidSignature', [
      patient.address,
    ]);
    await reverts(simulate(otherMember, 'grantWithSig', args), 'ConsentRegistryInvalidSignature', [
      patient.address,
    ]);
    // A signature made for a future nonce is not usable now either.
    await reverts(
      simulate(member, 'grantWithSig', await grantArgs(terms, patient, { nonce: 2n })),
      'ConsentRegistryInvalidSignature',
      [patient.address],
    );
    // A fresh signature at the current nonce works.
    await send(member, 'grantWithSig', await grantArgs(terms, patient));
    expect(await nonceOf(patient.address)).toBe(2n);
  });

  it('rejects a forged signature (another key) and terms altered by the relayer', async () => {
    const patient = await newParty();
    const forger = await newParty();
    const terms = await termsFor(patient.address, (await newParty()).address);
    await reverts(
      simulate(member, 'grantWithSig', await grantArgs(terms, forger, { signer: patient.address })),
      'ConsentRegistryInvalidSignature',
      [patient.address],
    );
    const [, signer, deadline, signature] = await grantArgs(terms, patient);
    const altered = { ...terms, grantee: forger.address, purposes: ALL_PURPOSES };
    await reverts(
      simulate(member, 'grantWithSig', [altered, signer, deadline, signature]),
      'ConsentRegistryInvalidSignature',
      [patient.address],
    );
    await reverts(
      simulate(member, 'grantWithSig', [terms, signer, deadline + 1n, signature]),
      'ConsentRegistryInvalidSignature',
      [patient.address],
    );
    expect(await nonceOf(patient.address)).toBe(0n);
  });

  it('rejects an expired deadline', async () => {
    const patient = await newParty();
    const terms = await termsFor(patient.address, (await newParty()).address);
    const deadline = (await now()) - 1n;
    await reverts(
      simulate(member, 'grantWithSig', await grantArgs(terms, patient, { deadline })),
      'ConsentRegistryExpiredSignature',
      [deadline],
    );
    // A signature that was valid when made lapses once its deadline passes.
    const late = await grantArgs(terms, patient, { deadline: (await now()) + 60n });
    await simulate(member, 'grantWithSig', late);
    await advance(120n);
    await reverts(simulate(member, 'grantWithSig', late), 'ConsentRegistryExpiredSignature', [late[2]]);
  });

  it('rejects a signature for another chain, another contract or another domain version', async () => {
    const patient = await newParty();
    const terms = await termsFor(patient.address, (await newParty()).address);
    const foreignDomains: ConsentDomain[] = [
      consentDomain(1, registry),
      consentDomain(chain.id + 1, registry),
      consentDomain(chain.id, organizations),
      { ...domain, version: '2' } as unknown as ConsentDomain,
      { ...domain, name: 'CareLedger ConsentRegistry v2' } as unknown as ConsentDomain,
    ];
    for (const foreign of foreignDomains) {
      await reverts(
        simulate(member, 'grantWithSig', await grantArgs(terms, patient, { domain: foreign })),
        'ConsentRegistryInvalidSignature',
        [patient.address],
      );
    }
    await simulate(member, 'grantWithSig', await grantArgs(terms, patient));
  });

  it('rejects malformed and malleable signatures', async () => {
    const patient = await newParty();
    const terms = await termsFor(patient.address, (await newParty()).address);
    const [, signer, deadline, signature] = await grantArgs(terms, patient);
    const parsed = parseSignature(signature);
    const highS = serializeSignature({
      r: parsed.r,
      s: toHex(SECP256K1_N - BigInt(parsed.s), { size: 32 }),
      yParity: parsed.yParity === 0 ? 1 : 0,
    });
    const compact = serializeCompactSignature(signatureToCompactSignature(parsed));
    const badV = `${signature.slice(0, 130)}1d` as Hex;
    for (const bad of [highS, compact, badV, '0x' as Hex, `0x${'00'.repeat(65)}` as Hex]) {
      await reverts(
        simulate(member, 'grantWithSig', [terms, signer, deadline, bad]),
        'ConsentRegistryInvalidSignature',
        [patient.address],
      );
    }
    await reverts(
      simulate(member, 'grantWithSig', [terms, zeroAddress, deadline, `0x${'00'.repeat(65)}`]),
      'ConsentRegistryInvalidSignature',
      [zeroAddress],
    );
    await simulate(member, 'grantWithSig', [terms, signer, deadline, signature]);
  });

  it('is relayed only by active member organisations', async () => {
    const patient = await newParty(true);
    const delegate = await newParty();
    const terms = await termsFor(patient.address, (await newParty()).address);
    const grant = await grantArgs(terms, patient);
    const appoint = await appointArgs(patient, delegate.address, 0n);
    const remove = await removeArgs(patient.address, delegate.address, patient);
    const revoke = await revokeArgs(1n, patient);
    for (const relayer of [outsider, suspended, patient as TestActor]) {
      const refused = [relayer.address];
      await reverts(
        simulate(relayer, 'grantWithSig', grant),
        'ConsentRegistryUnauthorizedOrganization',
        refused,
      );
      await reverts(
        simulate(relayer, 'revokeWithSig', revoke),
        'ConsentRegistryUnauthorizedOrganization',
        refused,
      );
      await reverts(
        simulate(relayer, 'appointDelegateWithSig', appoint),
        'ConsentRegistryUnauthorizedOrganization',
        refused,
      );
      await reverts(
        simulate(relayer, 'removeDelegateWithSig', remove),
        'ConsentRegistryUnauthorizedOrganization',
        refused,
      );
    }
    // A real transaction from a suspended member is refused too, and no nonce is used.
    await reverts(
      suspended.wallet.writeContract({ address: registry, abi, functionName: 'grantWithSig', args: grant }),
      'ConsentRegistryUnauthorizedOrganization',
      [suspended.address],
    );
    expect(await nonceOf(patient.address)).toBe(0n);
    await send(otherMember, 'grantWithSig', grant);
  });

  it('rejects on another chain a signature made for this one, even at the same contract address', async () => {
    const otherAnvil = await startTestAnvil(['--chain-id', '4242']);
    try {
      const otherChain: Chain = defineChain({ ...chain, id: 4242, name: 'Other consortium' });
      const deployerKey = generatePrivateKey();
      const deployerAccount = privateKeyToAccount(deployerKey);
      const relayerAccount = privateKeyToAccount(generatePrivateKey());
      const setUp = async (
        rpcUrl: string,
        target: Chain,
      ): Promise<{ address: Address; relay: TestWallet }> => {
        const test = createTestClient({ mode: 'anvil', chain: target, transport: http(rpcUrl) });
        const publicClient = testPublicClient(rpcUrl);
        for (const a of [deployerAccount, relayerAccount]) {
          await test.setBalance({ address: a.address, value: 10n ** 21n });
        }
        const deployer = createWalletClient({
          account: deployerAccount,
          chain: target,
          transport: http(rpcUrl),
        });
        const relay = createWalletClient({ account: relayerAccount, chain: target, transport: http(rpcUrl) });
        const deployed = async (hash: Hex) => {
          const receipt = await publicClient.waitForTransactionReceipt({ hash });
          if (!receipt.contractAddress) throw new Error('no contract address');
          return getAddress(receipt.contractAddress);
        };
        const orgs = await deployed(
          await deployer.deployContract({
            abi: organizationRegistryAbi,
            bytecode: organizationRegistryBytecode,
            args: [deployerAccount.address],
          }),
        );
        const consents = await deployed(
          await deployer.deployContract({ abi, bytecode: consentRegistryBytecode, args: [orgs] }),
        );
        await publicClient.waitForTransactionReceipt({
          hash: await deployer.writeContract({
            address: orgs,
            abi: organizationRegistryAbi,
            functionName: 'admit',
            args: [relayerAccount.address, 'Relay Hospital', ORGANIZATION_ROLES.PROVIDER, '', '0x'],
          }),
        });
        return { address: consents, relay: relay as TestWallet };
      };
      const here = await setUp(anvil.rpcUrl, chain);
      const there = await setUp(otherAnvil.rpcUrl, otherChain);
      expect(there.address).toBe(here.address);

      const patient = await newParty();
      const terms = await termsFor(patient.address, (await newParty()).address, {
        validUntil: 10n ** 11n,
      });
      const deadline = 10n ** 11n;
      const signature = await signGrant(
        patient.account,
        consentDomain(chain.id, here.address),
        terms,
        0n,
        deadline,
      );
      const otherClient = testPublicClient(otherAnvil.rpcUrl);
      await reverts(
        otherClient.simulateContract({
          address: there.address,
          abi,
          functionName: 'grantWithSig',
          args: [terms, patient.address, deadline, signature],
          account: relayerAccount,
          chain: otherChain,
        }),
        'ConsentRegistryInvalidSignature',
        [patient.address],
      );
      // Signed for the other chain, it is accepted there (and only there).
      const signatureThere = await signGrant(
        patient.account,
        consentDomain(4242, there.address),
        terms,
        0n,
        deadline,
      );
      await otherClient.simulateContract({
        address: there.address,
        abi,
        functionName: 'grantWithSig',
        args: [terms, patient.address, deadline, signatureThere],
        account: relayerAccount,
        chain: otherChain,
      });
      await client.simulateContract({
        address: here.address,
        abi,
        functionName: 'grantWithSig',
        args: [terms, patient.address, deadline, signature],
        account: relayerAccount,
      });
      await reverts(
        client.simulateContract({
          address: here.address,
          abi,
          functionName: 'grantWithSig',
          args: [terms, patient.address, deadline, signatureThere],
          account: relayerAccount,
        }),
        'ConsentRegistryInvalidSignature',
        [patient.address],
      );
    } finally {
      await otherAnvil.stop();
    }
  });
});

describe('revoke', () => {
  it('lets the patient revoke directly, recording who and when, and emits ConsentRevoked', async () => {
    const patient = await newParty(true);
    const grantee = await newParty();
    const { id } = await relayGrant(await termsFor(patient.address, grantee.address), patient);
    expect(await isActive(id)).toBe(true);
    const receipt = await send(patient, 'revoke', [id]);
    expect(events(receipt)).toEqual([
      [
        'ConsentRevoked',
        { consentId: id, patient: patient.address, grantee: grantee.address, revokedBy: patient.address },
      ],
    ]);
    const stored = await consentOf(id);
    expect([stored.revokedBy, stored.revokedAt]).toEqual([patient.address, await blockTimestamp(receipt)]);
    expect(await isActive(id)).toBe(false);
    await reverts(simulate(patient, 'revoke', [id]), 'ConsentRegistryAlreadyRevoked', [id]);
  });

  it('revokes with a relayed signature, once', async () => {
    const patient = await newParty();
    const grantee = await newParty();
    const { id } = await relayGrant(await termsFor(patient.address, grantee.address), patient);
    const args = await revokeArgs(id, patient);
    const receipt = await send(otherMember, 'revokeWithSig', args);
    expect(events(receipt)).toEqual([
      [
        'ConsentRevoked',
        { consentId: id, patient: patient.address, grantee: grantee.address, revokedBy: patient.address },
      ],
    ]);
    expect(await nonceOf(patient.address)).toBe(2n);
    await reverts(simulate(member, 'revokeWithSig', args), 'ConsentRegistryInvalidSignature', [
      patient.address,
    ]);
    await reverts(
      simulate(member, 'revokeWithSig', await revokeArgs(id, patient)),
      'ConsentRegistryAlreadyRevoked',
      [id],
    );
  });

  it('rejects unknown consents, strangers, the grantee, forged and expired signatures', async () => {
    const patient = await newParty();
    const grantee = await newParty(true);
    const stranger = await newParty(true);
    const { id } = await relayGrant(await termsFor(patient.address, grantee.address), patient);
    const unknown = (await read('consentCount')) + 1n;
    for (const missing of [0n, unknown]) {
      await reverts(simulate(stranger, 'revoke', [missing]), 'ConsentRegistryUnknownConsent', [missing]);
      await reverts(
        simulate(member, 'revokeWithSig', await revokeArgs(missing, patient)),
        'ConsentRegistryUnknownConsent',
        [missing],
      );
      await reverts(read('getConsent', [missing]), 'ConsentRegistryUnknownConsent', [missing]);
    }
    for (const who of [stranger, grantee]) {
      await reverts(simulate(who, 'revoke', [id]), 'ConsentRegistryUnauthorized', [
        who.address,
        patient.address,
      ]);
      await reverts(
        simulate(member, 'revokeWithSig', await revokeArgs(id, who)),
        'ConsentRegistryUnauthorized',
        [who.address, patient.address],
      );
    }
    await reverts(
      simulate(member, 'revokeWithSig', await revokeArgs(id, stranger, { signer: patient.address })),
      'ConsentRegistryInvalidSignature',
      [patient.address],
    );
    await reverts(
      simulate(
        member,
        'revokeWithSig',
        await revokeArgs(id, patient, { domain: consentDomain(1, registry) }),
      ),
      'ConsentRegistryInvalidSignature',
      [patient.address],
    );
    const deadline = (await now()) - 1n;
    await reverts(
      simulate(member, 'revokeWithSig', await revokeArgs(id, patient, { deadline })),
      'ConsentRegistryExpiredSignature',
      [deadline],
    );
    expect(await isActive(id)).toBe(true);
  });

  it('can revoke a consent that has already lapsed', async () => {
    const patient = await newParty();
    const t = await now();
    const { id } = await relayGrant(
      await termsFor(patient.address, (await newParty()).address, { validUntil: t + 100n }),
      patient,
    );
    await advance(200n);
    expect(await isActive(id)).toBe(false);
    await send(member, 'revokeWithSig', await revokeArgs(id, patient));
    expect((await consentOf(id)).revokedBy).toBe(patient.address);
  });
});

describe('delegates', () => {
  it('appoints a delegate directly and by signature, emitting DelegateAppointed', async () => {
    const patient = await newParty(true);
    const guardian = await newParty();
    const carer = await newParty();
    const receipt = await send(patient, 'appointDelegate', [guardian.address, 0n]);
    expect(events(receipt)).toEqual([
      ['DelegateAppointed', { patient: patient.address, delegate: guardian.address, until: 0n }],
    ]);
    expect(await isDelegate(patient.address, guardian.address)).toBe(true);
    expect(await read('getDelegation', [patient.address, guardian.address])).toEqual({
      appointed: true,
      until: 0n,
    });

    const until = (await now()) + 30n * DAY;
    const relayed = await relayAppoint(patient, carer.address, until);
    expect(events(relayed)).toEqual([
      ['DelegateAppointed', { patient: patient.address, delegate: carer.address, until }],
    ]);
    expect(await read('getDelegation', [patient.address, carer.address])).toEqual({ appointed: true, until });
    expect(await nonceOf(patient.address)).toBe(1n);
    // Delegation is not symmetric.
    expect(await isDelegate(guardian.address, patient.address)).toBe(false);
  });

  it('lets a delegate grant and revoke for the patient, directly and by signature', async () => {
    const patient = await newParty();
    const guardian = await newParty(true);
    const grantee = await newParty();
    await relayAppoint(patient, guardian.address);
    const terms = await termsFor(patient.address, grantee.address, {
      purposes: purposesToMask(['TREAT', 'PATRQT']),
    });

    const { id, receipt } = await relayGrant(terms, guardian);
    expect(events(receipt)).toEqual([
      [
        'ConsentGranted',
        {
          consentId: id,
          patient: patient.address,
          grantee: grantee.address,
          purposes: terms.purposes,
          validUntil: terms.validUntil,
          grantedBy: guardian.address,
        },
      ],
    ]);
    expect((await consentOf(id)).grantedBy).toBe(guardian.address);
    // The delegate's own nonce is used, not the patient's.
    expect([await nonceOf(guardian.address), await nonceOf(patient.address)]).toEqual([1n, 1n]);
    const revoked = await send(member, 'revokeWithSig', await revokeArgs(id, guardian));
    expect(events(revoked)).toEqual([
      [
        'ConsentRevoked',
        { consentId: id, patient: patient.address, grantee: grantee.address, revokedBy: guardian.address },
      ],
    ]);

    const direct = await send(guardian, 'grant', [terms]);
    const [granted] = parseEventLogs({ abi, logs: direct.logs, eventName: 'ConsentGranted' });
    expect(granted?.args.grantedBy).toBe(guardian.address);
    const directId = granted?.args.consentId ?? 0n;
    await send(guardian, 'revoke', [directId]);
    expect((await consentOf(directId)).revokedBy).toBe(guardian.address);
    // The patient can revoke what the delegate granted, and vice versa.
    const { id: third } = await relayGrant(terms, guardian);
    await send(member, 'revokeWithSig', await revokeArgs(third, patient));
  });

  it('rejects invalid appointments', async () => {
    const patient = await newParty(true);
    const delegate = await newParty(true);
    const t = await now();
    await reverts(simulate(patient, 'appointDelegate', [zeroAddress, 0n]), 'ConsentRegistryInvalidDelegate', [
      zeroAddress,
    ]);
    await reverts(
      simulate(patient, 'appointDelegate', [patient.address, 0n]),
      'ConsentRegistryInvalidDelegate',
      [patient.address],
    );
    await reverts(
      simulate(patient, 'appointDelegate', [delegate.address, t - 1n]),
      'ConsentRegistryInvalidExpiry',
      [t - 1n],
    );
    await send(patient, 'appointDelegate', [delegate.address, 0n]);
    await reverts(
      simulate(patient, 'appointDelegate', [delegate.address, 0n]),
      'ConsentRegistryDelegateExists',
      [patient.address, delegate.address],
    );
    await reverts(
      simulate(member, 'appointDelegateWithSig', await appointArgs(patient, delegate.address, t + DAY)),
      'ConsentRegistryDelegateExists',
      [patient.address, delegate.address],
    );
    await reverts(
      simulate(member, 'appointDelegateWithSig', await appointArgs(patient, zeroAddress, 0n)),
      'ConsentRegistryInvalidDelegate',
      [zeroAddress],
    );
  });

  it('only the patient may appoint: a delegate cannot appoint another, a forger cannot, late or foreign signatures fail', async () => {
    const patient = await newParty();
    const delegate = await newParty(true);
    const friend = await newParty();
    await relayAppoint(patient, delegate.address);
    // The delegate signs an appointment for the patient: the signature does not recover to the patient.
    await reverts(
      simulate(
        member,
        'appointDelegateWithSig',
        await appointArgs(delegate, friend.address, 0n, { signer: patient.address }),
      ),
      'ConsentRegistryInvalidSignature',
      [patient.address],
    );
    // A direct appointment by the delegate makes the friend the delegate's own delegate, not the patient's.
    await send(delegate, 'appointDelegate', [friend.address, 0n]);
    expect(await isDelegate(patient.address, friend.address)).toBe(false);
    expect(await isDelegate(delegate.address, friend.address)).toBe(true);
    const deadline = (await now()) - 1n;
    await reverts(
      simulate(
        member,
        'appointDelegateWithSig',
        await appointArgs(patient, friend.address, 0n, { deadline }),
      ),
      'ConsentRegistryExpiredSignature',
      [deadline],
    );
    await reverts(
      simulate(
        member,
        'appointDelegateWithSig',
        await appointArgs(patient, friend.address, 0n, { domain: consentDomain(1, registry) }),
      ),
      'ConsentRegistryInvalidSignature',
      [patient.address],
    );
    const args = await appointArgs(patient, friend.address, 0n);
    await send(member, 'appointDelegateWithSig', args);
    await send(member, 'removeDelegateWithSig', await removeArgs(patient.address, friend.address, patient));
    // Replaying the appointment after the removal fails: its nonce is used up.
    await reverts(simulate(member, 'appointDelegateWithSig', args), 'ConsentRegistryInvalidSignature', [
      patient.address,
    ]);
  });

  it('removes a delegate (by the patient or by the delegate itself), emitting DelegateRemoved', async () => {
    const patient = await newParty(true);
    const a = await newParty(true);
    const b = await newParty();
    const c = await newParty();
    const d = await newParty();
    for (const delegate of [a, b, c, d]) await relayAppoint(patient, delegate.address);

    expect(events(await send(patient, 'removeDelegate', [patient.address, a.address]))).toEqual([
      ['DelegateRemoved', { patient: patient.address, delegate: a.address, removedBy: patient.address }],
    ]);
    const selfRemoval = await newParty(true);
    await relayAppoint(patient, selfRemoval.address);
    expect(events(await send(selfRemoval, 'removeDelegate', [patient.address, selfRemoval.address]))).toEqual(
      [
        [
          'DelegateRemoved',
          { patient: patient.address, delegate: selfRemoval.address, removedBy: selfRemoval.address },
        ],
      ],
    );
    expect(
      events(
        await send(member, 'removeDelegateWithSig', await removeArgs(patient.address, b.address, patient)),
      ),
    ).toEqual([
      ['DelegateRemoved', { patient: patient.address, delegate: b.address, removedBy: patient.address }],
    ]);
    expect(
      events(await send(member, 'removeDelegateWithSig', await removeArgs(patient.address, c.address, c))),
    ).toEqual([['DelegateRemoved', { patient: patient.address, delegate: c.address, removedBy: c.address }]]);
    for (const gone of [a, b, c, selfRemoval]) {
      expect(await isDelegate(patient.address, gone.address)).toBe(false);
      expect(await read('getDelegation', [patient.address, gone.address])).toEqual({
        appointed: false,
        until: 0n,
      });
    }
    expect(await isDelegate(patient.address, d.address)).toBe(true);
  });

  it('rejects removal by a third party, of a non-delegate, and bad removal signatures', async () => {
    const patient = await newParty(true);
    const delegate = await newParty(true);
    const other = await newParty(true);
    await relayAppoint(patient, delegate.address);
    await relayAppoint(patient, other.address);
    // Another delegate of the same patient cannot remove a fellow delegate.
    await reverts(
      simulate(other, 'removeDelegate', [patient.address, delegate.address]),
      'ConsentRegistryUnauthorized',
      [other.address, patient.address],
    );
    await reverts(
      simulate(member, 'removeDelegateWithSig', await removeArgs(patient.address, delegate.address, other)),
      'ConsentRegistryUnauthorized',
      [other.address, patient.address],
    );
    await reverts(
      simulate(
        member,
        'removeDelegateWithSig',
        await removeArgs(patient.address, delegate.address, other, { signer: patient.address }),
      ),
      'ConsentRegistryInvalidSignature',
      [patient.address],
    );
    const deadline = (await now()) - 1n;
    await reverts(
      simulate(
        member,
        'removeDelegateWithSig',
        await removeArgs(patient.address, delegate.address, patient, { deadline }),
      ),
      'ConsentRegistryExpiredSignature',
      [deadline],
    );
    const stranger = await newParty(true);
    await reverts(
      simulate(patient, 'removeDelegate', [patient.address, stranger.address]),
      'ConsentRegistryNotDelegate',
      [patient.address, stranger.address],
    );
    await reverts(
      simulate(stranger, 'removeDelegate', [patient.address, stranger.address]),
      'ConsentRegistryNotDelegate',
      [patient.address, stranger.address],
    );
    const removal = await removeArgs(patient.address, delegate.address, patient);
    await send(member, 'removeDelegateWithSig', removal);
    await reverts(
      simulate(member, 'removeDelegateWithSig', await removeArgs(patient.address, delegate.address, patient)),
      'ConsentRegistryNotDelegate',
      [patient.address, delegate.address],
    );
    await reverts(simulate(member, 'removeDelegateWithSig', removal), 'ConsentRegistryInvalidSignature', [
      patient.address,
    ]);
  });

  it('refuses signatures by a removed delegate', async () => {
    const patient = await newParty();
    const delegate = await newParty(true);
    const grantee = await newParty();
    await relayAppoint(patient, delegate.address);
    const { id } = await relayGrant(await termsFor(patient.address, grantee.address), delegate);
    // Signed while still a delegate, relayed after the removal.
    const pendingGrant = await grantArgs(await termsFor(patient.address, grantee.address), delegate);
    await send(member, 'removeDelegateWithSig', await removeArgs(patient.address, delegate.address, patient));
    const refused = [delegate.address, patient.address];
    await reverts(simulate(member, 'grantWithSig', pendingGrant), 'ConsentRegistryUnauthorized', refused);
    await reverts(simulate(delegate, 'grant', [pendingGrant[0]]), 'ConsentRegistryUnauthorized', refused);
    await reverts(
      simulate(member, 'revokeWithSig', await revokeArgs(id, delegate)),
      'ConsentRegistryUnauthorized',
      refused,
    );
    await reverts(simulate(delegate, 'revoke', [id]), 'ConsentRegistryUnauthorized', refused);
    expect(await isActive(id)).toBe(true);
  });

  it('lets a delegation lapse at its expiry, and allows re-appointing a lapsed delegate', async () => {
    const patient = await newParty();
    const delegate = await newParty(true);
    const grantee = await newParty();
    const until = (await now()) + 100n;
    await relayAppoint(patient, delegate.address, until);
    const { id } = await relayGrant(await termsFor(patient.address, grantee.address), delegate);
    expect(await isDelegate(patient.address, delegate.address)).toBe(true);

    await advance(200n);
    expect(await isDelegate(patient.address, delegate.address)).toBe(false);
    expect(await read('getDelegation', [patient.address, delegate.address])).toEqual({
      appointed: true,
      until,
    });
    const refused = [delegate.address, patient.address];
    await reverts(
      simulate(
        member,
        'grantWithSig',
        await grantArgs(await termsFor(patient.address, grantee.address), delegate),
      ),
      'ConsentRegistryUnauthorized',
      refused,
    );
    await reverts(
      simulate(member, 'revokeWithSig', await revokeArgs(id, delegate)),
      'ConsentRegistryUnauthorized',
      refused,
    );
    await reverts(simulate(delegate, 'revoke', [id]), 'ConsentRegistryUnauthorized', refused);
    // Consents the delegate granted while appointed stay in force.
    expect(await isActive(id)).toBe(true);

    // A lapsed delegation can be renewed, or cleaned up.
    const renewed = await relayAppoint(patient, delegate.address, 0n);
    expect(events(renewed)).toEqual([
      ['DelegateAppointed', { patient: patient.address, delegate: delegate.address, until: 0n }],
    ]);
    expect(await isDelegate(patient.address, delegate.address)).toBe(true);
    const shortLived = await newParty(true);
    await relayAppoint(patient, shortLived.address, (await now()) + 50n);
    await advance(100n);
    await send(shortLived, 'removeDelegate', [patient.address, shortLived.address]);
    expect(await read('getDelegation', [patient.address, shortLived.address])).toEqual({
      appointed: false,
      until: 0n,
    });
  });
});

describe('break-glass access', () => {
  it('is always allowed for an active member, without any consent, and always emits BreakGlassAccess', async () => {
    const patient = await newParty();
    const practitioner = await newParty();
    const reason = keccak256(toHex('unconscious patient, ED, suspected overdose'));
    expect(await read('breakGlassCount', [patient.address])).toBe(0n);
    const receipt = await send(member, 'recordBreakGlass', [
      patient.address,
      practitioner.address,
      PURPOSES_OF_USE.ETREAT,
      reason,
    ]);
    expect(events(receipt)).toEqual([
      [
        'BreakGlassAccess',
        {
          patient: patient.address,
          organization: member.address,
          accessor: practitioner.address,
          purpose: PURPOSES_OF_USE.ETREAT,
          reasonHash: reason,
          accessedAt: await blockTimestamp(receipt),
        },
      ],
    ]);
    expect(await read('breakGlassCount', [patient.address])).toBe(1n);

    // Even after the patient revoked every consent to this organisation.
    const { id } = await relayGrant(await termsFor(patient.address, member.address), patient);
    await send(member, 'revokeWithSig', await revokeArgs(id, patient));
    const again = await send(otherMember, 'recordBreakGlass', [
      patient.address,
      zeroAddress,
      purposesToMask(['ETREAT', 'PUBHLTH']),
      reason,
    ]);
    expect(events(again).map(([name]) => name)).toEqual(['BreakGlassAccess']);
    expect(await read('breakGlassCount', [patient.address])).toBe(2n);
  });

  it('is reserved to active members and needs a patient, a valid purpose and a reason', async () => {
    const patient = await newParty(true);
    const reason = keccak256(toHex('reason'));
    for (const caller of [outsider, suspended, patient as TestActor]) {
      await reverts(
        simulate(caller, 'recordBreakGlass', [
          patient.address,
          caller.address,
          PURPOSES_OF_USE.ETREAT,
          reason,
        ]),
        'ConsentRegistryUnauthorizedOrganization',
        [caller.address],
      );
    }
    await reverts(
      simulate(member, 'recordBreakGlass', [zeroAddress, zeroAddress, PURPOSES_OF_USE.ETREAT, reason]),
      'ConsentRegistryZeroAddress',
    );
    for (const purpose of [0, 0x80]) {
      await reverts(
        simulate(member, 'recordBreakGlass', [patient.address, zeroAddress, purpose, reason]),
        'ConsentRegistryInvalidPurposes',
        [purpose],
      );
    }
    await reverts(
      simulate(member, 'recordBreakGlass', [patient.address, zeroAddress, PURPOSES_OF_USE.ETREAT, zeroHash]),
      'ConsentRegistryMissingReason',
    );
  });
});

describe('views', () => {
  it('isConsentActive follows the validity period and revocation over time', async () => {
    const patient = await newParty();
    const t = await now();
    const { id } = await relayGrant(
      await termsFor(patient.address, (await newParty()).address, {
        validFrom: t + 1000n,
        validUntil: t + 5000n,
      }),
      patient,
    );
    const { id: other } = await relayGrant(
      await termsFor(patient.address, (await newParty()).address, {
        validFrom: t,
        validUntil: t + 100n * DAY,
      }),
      patient,
    );
    expect(await isActive(id)).toBe(false); // not yet
    await advance(2000n);
    expect(await isActive(id)).toBe(true);
    await advance(4000n);
    expect(await isActive(id)).toBe(false); // lapsed
    expect(await isActive(other)).toBe(true);
    await send(member, 'revokeWithSig', await revokeArgs(other, patient));
    expect(await isActive(other)).toBe(false);
    expect(await isActive(0n)).toBe(false);
    expect(await isActive((await read('consentCount')) + 1n)).toBe(false);
  });

  it('consentIdsOf pages through a patient’s consents in grant order', async () => {
    const patient = await newParty();
    const neighbour = await newParty();
    const grantee = (await newParty()).address;
    const mine: bigint[] = [];
    const theirs: bigint[] = [];
    for (let i = 0; i < 3; i++) {
      mine.push((await relayGrant(await termsFor(patient.address, grantee), patient)).id);
      theirs.push((await relayGrant(await termsFor(neighbour.address, grantee), neighbour)).id);
    }
    expect(await read('consentCountOf', [patient.address])).toBe(3n);
    expect(await read('consentIdsOf', [patient.address, 0n, 10n])).toEqual(mine);
    expect(await read('consentIdsOf', [patient.address, 0n, maxUint256])).toEqual(mine);
    expect(await read('consentIdsOf', [patient.address, 1n, 1n])).toEqual([mine[1]]);
    expect(await read('consentIdsOf', [patient.address, 2n, 5n])).toEqual([mine[2]]);
    expect(await read('consentIdsOf', [patient.address, 3n, 5n])).toEqual([]);
    expect(await read('consentIdsOf', [patient.address, maxUint256, 5n])).toEqual([]);
    expect(await read('consentIdsOf', [patient.address, 0n, 0n])).toEqual([]);
    expect(await read('consentIdsOf', [neighbour.address, 0n, 10n])).toEqual(theirs);
    expect(await read('consentIdsOf', [outsider.address, 0n, 10n])).toEqual([]);
    expect(await read('consentCountOf', [outsider.address])).toBe(0n);
  });
});

describe('gas', () => {
  it('measures grantWithSig (three scopes) and revokeWithSig', async () => {
    const patient = await newParty();
    const grantee = (await newParty()).address;
    const terms = await termsFor(patient.address, grantee, {
      scopes: ['type:Observation', 'category:laboratory', 'resource:DocumentReference/1'].map(scopeHash),
      dataFrom: 1_577_836_800n,
      dataUntil: 1_735_689_599n,
    });
    const first = await relayGrant(terms, patient);
    const second = await relayGrant(terms, patient);
    const revokeFirst = await send(member, 'revokeWithSig', await revokeArgs(first.id, patient));
    const revokeSecond = await send(member, 'revokeWithSig', await revokeArgs(second.id, patient));
    console.log(
      `ConsentRegistry gas: grantWithSig (3 scopes, data range) first consent of a patient ` +
        `${first.receipt.gasUsed}, later ${second.receipt.gasUsed}; revokeWithSig ${revokeFirst.gasUsed}, ` +
        `${revokeSecond.gasUsed}`,
    );
    expect(first.receipt.gasUsed).toBeLessThan(GRANT_GAS_BUDGET);
    expect(second.receipt.gasUsed).toBeLessThan(first.receipt.gasUsed);
    expect(revokeFirst.gasUsed).toBeLessThan(REVOKE_GAS_BUDGET);
    expect(revokeSecond.gasUsed).toBeLessThan(REVOKE_GAS_BUDGET);
  });
});

describe('coverage', () => {
  it('exercised every custom error and every event of the contract', () => {
    expectAllExercised({
      // Declared by OpenZeppelin's Nonces for `_useCheckedNonce`, which the registry does not use: a stale or
      // replayed nonce makes the signature recover to another address instead (ConsentRegistryInvalidSignature).
      errors: ['InvalidAccountNonce'],
      // ERC-5267's EIP712DomainChanged: the domain never changes.
      events: ['EIP712DomainChanged'],
    });
  });
});
