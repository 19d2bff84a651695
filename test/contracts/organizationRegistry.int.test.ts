import {
  getAddress,
  keccak256,
  parseEventLogs,
  toHex,
  zeroAddress,
  type Address,
  type ContractFunctionArgs,
  type ContractFunctionName,
  type Hex,
  type SimulateContractParameters,
} from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  organizationRegistryAbi,
  organizationRegistryBytecode,
} from '../../src/ledger/generated/contracts.js';
import { ORGANIZATION_ROLES, rolesToMask } from '../../src/ledger/organizationRoles.js';
import { startTestAnvil, type TestAnvil } from '../helpers/testAnvil.js';
import { expectRevert, mined, newActor, testPublicClient, type TestActor } from './chain.js';

const abi = organizationRegistryAbi;
const CONSORTIUM_ADMIN_ROLE = keccak256(toHex('CONSORTIUM_ADMIN_ROLE'));
const DEFAULT_ADMIN_ROLE = `0x${'00'.repeat(32)}` as Hex;
const STATUS = { None: 0, Active: 1, Suspended: 2 } as const;
const PUBLIC_KEY: Hex = `0x04${'ab'.repeat(64)}`;

let anvil: TestAnvil;
let client: ReturnType<typeof testPublicClient>;
let admin: TestActor;
let outsider: TestActor;
let registry: Address;

async function blockTimestamp(blockNumber: bigint): Promise<bigint> {
  return (await client.getBlock({ blockNumber })).timestamp;
}

async function deployRegistry(): Promise<Address> {
  const hash = await admin.wallet.deployContract({
    abi,
    bytecode: organizationRegistryBytecode,
    args: [admin.address],
  });
  const receipt = await mined(client, hash);
  if (!receipt.contractAddress) throw new Error('no contract address');
  return getAddress(receipt.contractAddress);
}

/** Admits a fresh account with the given roles and returns it. */
async function admitNew(
  roles = ORGANIZATION_ROLES.PROVIDER,
  name = 'St. Example Hospital',
): Promise<TestActor> {
  const org = await newActor(anvil.rpcUrl);
  await mined(
    client,
    await admin.wallet.writeContract({
      address: registry,
      abi,
      functionName: 'admit',
      args: [org.address, name, roles, 'https://gw.example.org', PUBLIC_KEY],
    }),
  );
  return org;
}

type WriteFunction = ContractFunctionName<typeof abi, 'nonpayable'>;

/** Simulates `functionName(args)` from `actor` against the registry (no transaction is sent). */
function simulate<const F extends WriteFunction>(
  actor: TestActor,
  functionName: F,
  args: ContractFunctionArgs<typeof abi, 'nonpayable', F>,
): Promise<unknown> {
  const call = { address: registry, abi, functionName, args, account: actor.wallet.account };
  return client.simulateContract(call as unknown as SimulateContractParameters);
}

beforeAll(async () => {
  anvil = await startTestAnvil();
  client = testPublicClient(anvil.rpcUrl);
  admin = await newActor(anvil.rpcUrl);
  outsider = await newActor(anvil.rpcUrl);
  registry = await deployRegistry();
});

afterAll(async () => {
  await anvil?.stop();
});

describe('OrganizationRegistry deployment', () => {
  it('grants DEFAULT_ADMIN_ROLE and CONSORTIUM_ADMIN_ROLE to the admin', async () => {
    expect(await client.readContract({ address: registry, abi, functionName: 'CONSORTIUM_ADMIN_ROLE' })).toBe(
      CONSORTIUM_ADMIN_ROLE,
    );
    for (const role of [DEFAULT_ADMIN_ROLE, CONSORTIUM_ADMIN_ROLE]) {
      expect(
        await client.readContract({
          address: registry,
          abi,
          functionName: 'hasRole',
          args: [role, admin.address],
        }),
      ).toBe(true);
      expect(
        await client.readContract({
          address: registry,
          abi,
          functionName: 'hasRole',
          args: [role, outsider.address],
        }),
      ).toBe(false);
    }
    expect(await client.readContract({ address: registry, abi, functionName: 'organizationCount' })).toBe(0n);
    // ERC-165: IAccessControl and ERC165 itself.
    for (const id of ['0x7965db0b', '0x01ffc9a7'] as const) {
      expect(
        await client.readContract({ address: registry, abi, functionName: 'supportsInterface', args: [id] }),
      ).toBe(true);
    }
  });

  it('emits RoleGranted for both roles on deployment', async () => {
    const hash = await admin.wallet.deployContract({
      abi,
      bytecode: organizationRegistryBytecode,
      args: [admin.address],
    });
    const receipt = await mined(client, hash);
    const events = parseEventLogs({ abi, logs: receipt.logs, eventName: 'RoleGranted' });
    expect(events.map((e) => e.args)).toEqual([
      { role: DEFAULT_ADMIN_ROLE, account: admin.address, sender: admin.address },
      { role: CONSORTIUM_ADMIN_ROLE, account: admin.address, sender: admin.address },
    ]);
  });

  it('rejects the zero admin', async () => {
    await expectRevert(
      admin.wallet.deployContract({ abi, bytecode: organizationRegistryBytecode, args: [zeroAddress] }),
      abi,
      'OrganizationRegistryZeroAddress',
    );
  });
});

describe('admit', () => {
  it('admits an organisation, stores it and emits OrganizationAdmitted', async () => {
    const org = await newActor(anvil.rpcUrl);
    const roles = rolesToMask(['PROVIDER', 'RESEARCHER']);
    const countBefore = await client.readContract({
      address: registry,
      abi,
      functionName: 'organizationCount',
    });
    const receipt = await mined(
      client,
      await admin.wallet.writeContract({
        address: registry,
        abi,
        functionName: 'admit',
        args: [org.address, 'Northwind Clinic', roles, 'https://gw.northwind.example', PUBLIC_KEY],
      }),
    );
    const events = parseEventLogs({ abi, logs: receipt.logs });
    expect(events).toHaveLength(1);
    expect(events[0]?.eventName).toBe('OrganizationAdmitted');
    expect(events[0]?.args).toEqual({
      account: org.address,
      name: 'Northwind Clinic',
      roles,
      gatewayUrl: 'https://gw.northwind.example',
      encryptionPublicKey: PUBLIC_KEY,
    });

    const timestamp = await blockTimestamp(receipt.blockNumber);
    expect(
      await client.readContract({
        address: registry,
        abi,
        functionName: 'getOrganization',
        args: [org.address],
      }),
    ).toEqual({
      name: 'Northwind Clinic',
      roles,
      status: STATUS.Active,
      admittedAt: timestamp,
      updatedAt: timestamp,
      gatewayUrl: 'https://gw.northwind.example',
      encryptionPublicKey: PUBLIC_KEY,
    });
    expect(
      await client.readContract({ address: registry, abi, functionName: 'isActive', args: [org.address] }),
    ).toBe(true);
    expect(await client.readContract({ address: registry, abi, functionName: 'organizationCount' })).toBe(
      countBefore + 1n,
    );
    expect(
      await client.readContract({
        address: registry,
        abi,
        functionName: 'organizationAt',
        args: [countBefore],
      }),
    ).toBe(org.address);
  });

  it('enumerates organisations in admission order', async () => {
    const start = await client.readContract({ address: registry, abi, functionName: 'organizationCount' });
    const a = await admitNew();
    const b = await admitNew(ORGANIZATION_ROLES.PAYER, 'Acme Health Insurance');
    const c = await admitNew(ORGANIZATION_ROLES.REGULATOR, 'Medicines Agency');
    expect(await client.readContract({ address: registry, abi, functionName: 'organizationCount' })).toBe(
      start + 3n,
    );
    const listed: Address[] = [];
    for (let i = start; i < start + 3n; i++) {
      listed.push(
        await client.readContract({ address: registry, abi, functionName: 'organizationAt', args: [i] }),
      );
    }
    expect(listed).toEqual([a.address, b.address, c.address]);
    await expectRevert(
      client.readContract({ address: registry, abi, functionName: 'organizationAt', args: [start + 3n] }),
      abi,
      'OrganizationRegistryIndexOutOfBounds',
      [start + 3n, start + 3n],
    );
  });

  it('is reserved to consortium admins', async () => {
    const org = await newActor(anvil.rpcUrl);
    await expectRevert(
      simulate(outsider, 'admit', [org.address, 'Rogue', 1, '', '0x']),
      abi,
      'AccessControlUnauthorizedAccount',
      [outsider.address, CONSORTIUM_ADMIN_ROLE],
    );
  });

  it('rejects the zero address, a duplicate, an empty name and invalid roles', async () => {
    const existing = await admitNew();
    const fresh = await newActor(anvil.rpcUrl);
    const admitArgs = (account: Address, name: string, roles: number) =>
      simulate(admin, 'admit', [account, name, roles, 'https://gw.example.org', PUBLIC_KEY]);
    await expectRevert(admitArgs(zeroAddress, 'Zero', 1), abi, 'OrganizationRegistryZeroAddress');
    await expectRevert(
      admitArgs(existing.address, 'Again', 1),
      abi,
      'OrganizationRegistryAlreadyRegistered',
      [existing.address],
    );
    await expectRevert(admitArgs(fresh.address, '', 1), abi, 'OrganizationRegistryEmptyName');
    await expectRevert(admitArgs(fresh.address, 'No roles', 0), abi, 'OrganizationRegistryInvalidRoles', [0]);
    await expectRevert(
      admitArgs(fresh.address, 'Bad roles', 0x100),
      abi,
      'OrganizationRegistryInvalidRoles',
      [0x100],
    );
    await expectRevert(
      admitArgs(fresh.address, 'Bad roles', 0x1ff),
      abi,
      'OrganizationRegistryInvalidRoles',
      [0x1ff],
    );
    // All eight defined roles at once are fine.
    await admitArgs(fresh.address, 'Everything Inc.', 0xff);
  });

  it('cannot re-admit a suspended organisation', async () => {
    const org = await admitNew();
    await mined(
      client,
      await admin.wallet.writeContract({
        address: registry,
        abi,
        functionName: 'suspend',
        args: [org.address, 'audit'],
      }),
    );
    await expectRevert(
      simulate(admin, 'admit', [org.address, 'Again', 1, '', '0x']),
      abi,
      'OrganizationRegistryAlreadyRegistered',
      [org.address],
    );
  });
});

describe('suspend and reinstate', () => {
  it('suspends and reinstates, recording who did it', async () => {
    const org = await admitNew(rolesToMask(['MANUFACTURER', 'DISTRIBUTOR']));
    const suspended = await mined(
      client,
      await admin.wallet.writeContract({
        address: registry,
        abi,
        functionName: 'suspend',
        args: [org.address, 'certificate expired'],
      }),
    );
    const suspendEvents = parseEventLogs({ abi, logs: suspended.logs });
    expect(suspendEvents.map((e) => [e.eventName, e.args])).toEqual([
      ['OrganizationSuspended', { account: org.address, by: admin.address, reason: 'certificate expired' }],
    ]);
    const afterSuspend = await client.readContract({
      address: registry,
      abi,
      functionName: 'getOrganization',
      args: [org.address],
    });
    expect(afterSuspend.status).toBe(STATUS.Suspended);
    expect(afterSuspend.updatedAt).toBe(await blockTimestamp(suspended.blockNumber));
    expect(
      await client.readContract({ address: registry, abi, functionName: 'isActive', args: [org.address] }),
    ).toBe(false);
    expect(
      await client.readContract({
        address: registry,
        abi,
        functionName: 'hasOrganizationRole',
        args: [org.address, ORGANIZATION_ROLES.MANUFACTURER],
      }),
    ).toBe(false);

    const reinstated = await mined(
      client,
      await admin.wallet.writeContract({
        address: registry,
        abi,
        functionName: 'reinstate',
        args: [org.address],
      }),
    );
    expect(parseEventLogs({ abi, logs: reinstated.logs }).map((e) => [e.eventName, e.args])).toEqual([
      ['OrganizationReinstated', { account: org.address, by: admin.address }],
    ]);
    const afterReinstate = await client.readContract({
      address: registry,
      abi,
      functionName: 'getOrganization',
      args: [org.address],
    });
    expect(afterReinstate.status).toBe(STATUS.Active);
    expect(afterReinstate.updatedAt).toBe(await blockTimestamp(reinstated.blockNumber));
    expect(afterReinstate.admittedAt).toBe(afterSuspend.admittedAt);
    expect(
      await client.readContract({
        address: registry,
        abi,
        functionName: 'hasOrganizationRole',
        args: [org.address, ORGANIZATION_ROLES.MANUFACTURER],
      }),
    ).toBe(true);
  });

  it('rejects unknown, non-active and non-suspended organisations', async () => {
    const unknown = await newActor(anvil.rpcUrl);
    const org = await admitNew();
    await expectRevert(
      simulate(admin, 'suspend', [unknown.address, 'x']),
      abi,
      'OrganizationRegistryUnknownOrganization',
      [unknown.address],
    );
    await expectRevert(
      simulate(admin, 'reinstate', [unknown.address]),
      abi,
      'OrganizationRegistryUnknownOrganization',
      [unknown.address],
    );
    await expectRevert(simulate(admin, 'reinstate', [org.address]), abi, 'OrganizationRegistryNotSuspended', [
      org.address,
    ]);
    await mined(
      client,
      await admin.wallet.writeContract({
        address: registry,
        abi,
        functionName: 'suspend',
        args: [org.address, 'x'],
      }),
    );
    await expectRevert(
      simulate(admin, 'suspend', [org.address, 'again']),
      abi,
      'OrganizationRegistryNotActive',
      [org.address],
    );
  });

  it('is reserved to consortium admins', async () => {
    const org = await admitNew();
    await expectRevert(
      simulate(outsider, 'suspend', [org.address, 'x']),
      abi,
      'AccessControlUnauthorizedAccount',
      [outsider.address, CONSORTIUM_ADMIN_ROLE],
    );
    // An organisation cannot suspend or reinstate anyone either, itself included.
    await expectRevert(
      simulate(org, 'suspend', [org.address, 'x']),
      abi,
      'AccessControlUnauthorizedAccount',
      [org.address, CONSORTIUM_ADMIN_ROLE],
    );
    await mined(
      client,
      await admin.wallet.writeContract({
        address: registry,
        abi,
        functionName: 'suspend',
        args: [org.address, 'x'],
      }),
    );
    await expectRevert(
      simulate(outsider, 'reinstate', [org.address]),
      abi,
      'AccessControlUnauthorizedAccount',
      [outsider.address, CONSORTIUM_ADMIN_ROLE],
    );
    await expectRevert(simulate(org, 'reinstate', [org.address]), abi, 'AccessControlUnauthorizedAccount', [
      org.address,
      CONSORTIUM_ADMIN_ROLE,
    ]);
  });
});

describe('setRoles', () => {
  it('replaces the roles and emits OrganizationRolesChanged with the previous mask', async () => {
    const org = await admitNew(ORGANIZATION_ROLES.PROVIDER);
    const roles = rolesToMask(['PAYER', 'DEVICE_VENDOR']);
    const receipt = await mined(
      client,
      await admin.wallet.writeContract({
        address: registry,
        abi,
        functionName: 'setRoles',
        args: [org.address, roles],
      }),
    );
    expect(parseEventLogs({ abi, logs: receipt.logs }).map((e) => [e.eventName, e.args])).toEqual([
      [
        'OrganizationRolesChanged',
        { account: org.address, previousRoles: ORGANIZATION_ROLES.PROVIDER, roles },
      ],
    ]);
    const stored = await client.readContract({
      address: registry,
      abi,
      functionName: 'getOrganization',
      args: [org.address],
    });
    expect(stored.roles).toBe(roles);
    expect(stored.updatedAt).toBe(await blockTimestamp(receipt.blockNumber));
    const has = (role: number) =>
      client.readContract({
        address: registry,
        abi,
        functionName: 'hasOrganizationRole',
        args: [org.address, role],
      });
    expect(await has(ORGANIZATION_ROLES.PAYER)).toBe(true);
    expect(await has(roles)).toBe(true);
    expect(await has(ORGANIZATION_ROLES.PROVIDER)).toBe(false);
    expect(await has(ORGANIZATION_ROLES.PAYER | ORGANIZATION_ROLES.PROVIDER)).toBe(false);
    expect(await has(0)).toBe(true);
  });

  it('also works on a suspended organisation', async () => {
    const org = await admitNew(ORGANIZATION_ROLES.DISPENSER);
    await mined(
      client,
      await admin.wallet.writeContract({
        address: registry,
        abi,
        functionName: 'suspend',
        args: [org.address, 'x'],
      }),
    );
    await mined(
      client,
      await admin.wallet.writeContract({
        address: registry,
        abi,
        functionName: 'setRoles',
        args: [org.address, ORGANIZATION_ROLES.DISTRIBUTOR],
      }),
    );
    const stored = await client.readContract({
      address: registry,
      abi,
      functionName: 'getOrganization',
      args: [org.address],
    });
    expect([stored.roles, stored.status]).toEqual([ORGANIZATION_ROLES.DISTRIBUTOR, STATUS.Suspended]);
  });

  it('rejects non-admins, unknown organisations and invalid roles', async () => {
    const org = await admitNew();
    const unknown = await newActor(anvil.rpcUrl);
    await expectRevert(
      simulate(outsider, 'setRoles', [org.address, 2]),
      abi,
      'AccessControlUnauthorizedAccount',
      [outsider.address, CONSORTIUM_ADMIN_ROLE],
    );
    await expectRevert(
      simulate(admin, 'setRoles', [unknown.address, 2]),
      abi,
      'OrganizationRegistryUnknownOrganization',
      [unknown.address],
    );
    await expectRevert(
      simulate(admin, 'setRoles', [org.address, 0]),
      abi,
      'OrganizationRegistryInvalidRoles',
      [0],
    );
    await expectRevert(
      simulate(admin, 'setRoles', [org.address, 0x80000000]),
      abi,
      'OrganizationRegistryInvalidRoles',
      [0x80000000],
    );
  });
});

describe('updateEndpoint', () => {
  it('lets an active organisation publish its own endpoint', async () => {
    const org = await admitNew();
    const key: Hex = `0x${'cd'.repeat(32)}`;
    const receipt = await mined(
      client,
      await org.wallet.writeContract({
        address: registry,
        abi,
        functionName: 'updateEndpoint',
        args: ['https://gw2.example.org/fhir', key],
      }),
    );
    expect(parseEventLogs({ abi, logs: receipt.logs }).map((e) => [e.eventName, e.args])).toEqual([
      [
        'OrganizationEndpointUpdated',
        { account: org.address, gatewayUrl: 'https://gw2.example.org/fhir', encryptionPublicKey: key },
      ],
    ]);
    const stored = await client.readContract({
      address: registry,
      abi,
      functionName: 'getOrganization',
      args: [org.address],
    });
    expect(stored.gatewayUrl).toBe('https://gw2.example.org/fhir');
    expect(stored.encryptionPublicKey).toBe(key);
    expect(stored.updatedAt).toBe(await blockTimestamp(receipt.blockNumber));
  });

  it('rejects unknown and suspended callers', async () => {
    await expectRevert(
      simulate(outsider, 'updateEndpoint', ['https://x', '0x']),
      abi,
      'OrganizationRegistryNotActive',
      [outsider.address],
    );
    const org = await admitNew();
    await mined(
      client,
      await admin.wallet.writeContract({
        address: registry,
        abi,
        functionName: 'suspend',
        args: [org.address, 'x'],
      }),
    );
    await expectRevert(
      simulate(org, 'updateEndpoint', ['https://x', '0x']),
      abi,
      'OrganizationRegistryNotActive',
      [org.address],
    );
  });
});

describe('views', () => {
  it('getOrganization reverts for an unknown account; isActive and hasOrganizationRole return false', async () => {
    const unknown = await newActor(anvil.rpcUrl);
    await expectRevert(
      client.readContract({
        address: registry,
        abi,
        functionName: 'getOrganization',
        args: [unknown.address],
      }),
      abi,
      'OrganizationRegistryUnknownOrganization',
      [unknown.address],
    );
    expect(
      await client.readContract({
        address: registry,
        abi,
        functionName: 'isActive',
        args: [unknown.address],
      }),
    ).toBe(false);
    expect(
      await client.readContract({
        address: registry,
        abi,
        functionName: 'hasOrganizationRole',
        args: [unknown.address, 0],
      }),
    ).toBe(false);
  });
});

describe('consortium admin role management', () => {
  it('a granted consortium admin can admit; once revoked it cannot', async () => {
    const deputy = await newActor(anvil.rpcUrl);
    const org = await newActor(anvil.rpcUrl);
    await mined(
      client,
      await admin.wallet.writeContract({
        address: registry,
        abi,
        functionName: 'grantRole',
        args: [CONSORTIUM_ADMIN_ROLE, deputy.address],
      }),
    );
    await simulate(deputy, 'admit', [org.address, 'Deputy-admitted', 1, '', '0x']);
    // The consortium admin role alone does not let the deputy manage roles.
    await expectRevert(
      simulate(deputy, 'grantRole', [CONSORTIUM_ADMIN_ROLE, outsider.address]),
      abi,
      'AccessControlUnauthorizedAccount',
      [deputy.address, DEFAULT_ADMIN_ROLE],
    );
    await mined(
      client,
      await admin.wallet.writeContract({
        address: registry,
        abi,
        functionName: 'revokeRole',
        args: [CONSORTIUM_ADMIN_ROLE, deputy.address],
      }),
    );
    await expectRevert(
      simulate(deputy, 'admit', [org.address, 'Deputy-admitted', 1, '', '0x']),
      abi,
      'AccessControlUnauthorizedAccount',
      [deputy.address, CONSORTIUM_ADMIN_ROLE],
    );
  });
});
