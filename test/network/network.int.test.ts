import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { networkDown, networkStatus, networkUp } from '../../src/cli/network/network.js';
import { readNetworkFile, writeNetworkFile, type NetworkFile } from '../../src/cli/network/networkFile.js';
import { isAlive } from '../../src/cli/network/processes.js';
import {
  orgAdmitCommand,
  orgListCommand,
  orgReinstateCommand,
  orgSuspendCommand,
  type OrganizationEntry,
} from '../../src/cli/org.js';
import { toHex, type Hex } from '../../src/core/hex.js';
import { organizationEncryptionPublicKey } from '../../src/keys/organizationEncryptionKey.js';
import { captureCli } from '../cli/cliOutput.js';
import { freeBasePort, quiet } from '../helpers/network.js';

async function members(dir: string): Promise<OrganizationEntry[]> {
  const out = await captureCli(() => orgListCommand({ network: dir, json: true }));
  expect(out.code, out.stderr).toBe(0);
  return (JSON.parse(out.stdout) as { organizations: OrganizationEntry[] }).organizations;
}

const masterKeyOf = (dataDir: string) =>
  readFileSync(join(dataDir, 'keys', 'master.key'), 'utf8').trim() as Hex;

describe('careledger network up/down and org admit/suspend/reinstate', () => {
  let root: string;
  let dir: string;
  let basePort: number;
  let first: NetworkFile;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'careledger-network-'));
    dir = join(root, 'net');
    basePort = await freeBasePort();
  });

  afterAll(async () => {
    // Whatever happened, no process of this network outlives the test.
    if (existsSync(join(dir, 'network.json'))) {
      await quiet(() => networkDown({ dir, graceMs: 5_000 })).catch(() => undefined);
    }
    rmSync(root, { recursive: true, force: true });
  });

  it('refuses bad input with a clear error and starts nothing', async () => {
    await expect(quiet(() => networkUp({ orgs: 0, dir, basePort }))).rejects.toThrow(
      /--orgs must be a whole number from 1 to 20, got "0"/,
    );
    await expect(quiet(() => networkUp({ orgs: 'three', dir, basePort }))).rejects.toThrow(/--orgs/);
    await expect(quiet(() => networkUp({ orgs: 2, dir, basePort: 80 }))).rejects.toThrow(/--base-port/);
    expect(existsSync(dir)).toBe(false);

    const unknownRole = await captureCli(() =>
      orgAdmitCommand({
        network: dir,
        address: '0x' + '11'.repeat(20),
        name: 'Lab',
        roles: 'PROVIDER,DOCTOR',
      }),
    );
    expect(unknownRole.code).toBe(2);
    expect(unknownRole.stderr).toMatch(/Unknown organisation role "DOCTOR"; valid roles are PROVIDER, PAYER/);

    const notAnAddress = await captureCli(() =>
      orgAdmitCommand({ network: dir, address: '0x1234', name: 'Lab', roles: 'PROVIDER' }),
    );
    expect(notAnAddress.code).toBe(2);
    expect(notAnAddress.stderr).toMatch(/--address must be a 0x-prefixed 20-byte address, got "0x1234"/);

    const badKey = await captureCli(() =>
      orgAdmitCommand({
        network: dir,
        address: '0x' + '11'.repeat(20),
        name: 'Lab',
        roles: 'PAYER',
        encryptionKey: '0xabcd',
      }),
    );
    expect(badKey.code).toBe(2);
    expect(badKey.stderr).toMatch(/--encryption-key must be .* 32 bytes/);
    expect(existsSync(dir)).toBe(false);
  });

  it('up --orgs 3 starts one anvil and three healthy gateways, each an active member', async () => {
    first = await quiet(() => networkUp({ orgs: 3, dir, basePort }));
    expect(first.organizations.map((o) => [o.name, o.roles])).toEqual([
      ['hospital', ['PROVIDER']],
      ['clinic', ['PROVIDER']],
      ['insurer', ['PAYER']],
    ]);
    expect(first.anvil.port).toBe(basePort);
    expect(first.organizations.map((o) => o.port)).toEqual([basePort + 1, basePort + 2, basePort + 3]);
    expect(new Set(first.organizations.map((o) => o.address)).size).toBe(3);
    expect(new Set(first.organizations.map((o) => o.token)).size).toBe(3);

    // network.json holds the tokens: owner-only.
    expect(statSync(join(dir, 'network.json')).mode & 0o777).toBe(0o600);
    const onDisk = readNetworkFile(dir) as NetworkFile;
    expect(onDisk.organizations.every((o) => o.state === 'running' && isAlive(o.pid))).toBe(true);

    const status = await quiet(() => networkStatus({ dir }));
    expect(status.map((s) => [s.name, s.alive, s.health])).toEqual([
      ['anvil', true, '-'],
      ['hospital', true, 'ok'],
      ['clinic', true, 'ok'],
      ['insurer', true, 'ok'],
    ]);
    // Each gateway's admin token works on its own gateway only.
    const [hospital, clinic] = first.organizations;
    const own = await fetch(`${hospital?.url}/records/1`, {
      headers: { authorization: `Bearer ${hospital?.token}` },
    });
    expect(own.status).toBe(404);
    const other = await fetch(`${clinic?.url}/records/1`, {
      headers: { authorization: `Bearer ${hospital?.token}` },
    });
    expect(other.status).toBe(401);

    // The founder's five contracts, which network up passed to the members: every gateway runs on them.
    expect(Object.keys(first.contracts ?? {}).sort()).toEqual([
      'anchorRegistry',
      'consentRegistry',
      'organizationRegistry',
      'recordLocator',
      'supplyChainRegistry',
    ]);
    for (const org of first.organizations) {
      const health = (await (await fetch(`${org.url}/health`)).json()) as { contracts: unknown };
      expect(health.contracts, org.name).toEqual(first.contracts);
    }

    const registered = await members(dir);
    expect(registered).toHaveLength(3);
    for (const org of first.organizations) {
      const entry = registered.find((m) => m.address === org.address);
      expect(entry).toMatchObject({
        name: org.name,
        status: 'active',
        roles: org.roles,
        gatewayUrl: org.url,
        encryptionPublicKey: toHex(organizationEncryptionPublicKey(masterKeyOf(org.dataDir))),
      });
    }
  }, 90_000);

  it('refuses a second up while the network runs', async () => {
    await expect(quiet(() => networkUp({ dir }))).rejects.toThrow(/is running .*network down/);
  });

  it('org suspend and reinstate change the member’s status in the registry; refusals are decoded', async () => {
    const clinic = first.organizations[1]?.address as Hex;
    const suspended = await captureCli(() =>
      orgSuspendCommand({ network: dir, address: clinic, reason: 'overdue audit' }),
    );
    expect(suspended.code, suspended.stderr).toBe(0);
    expect(suspended.stdout).toMatch(/Suspended 0x[0-9a-f]{40} \(overdue audit\); transaction 0x/);
    expect((await members(dir)).find((m) => m.address === clinic)?.status).toBe('suspended');

    const again = await captureCli(() => orgSuspendCommand({ network: dir, address: clinic }));
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/is not active/);

    // A member's key is not the consortium admin's.
    const notAdmin = await captureCli(() =>
      orgReinstateCommand({
        network: dir,
        address: clinic,
        key: join(first.organizations[2]?.dataDir as string, 'keys', 'org-chain.key'),
      }),
    );
    expect(notAdmin.code).toBe(1);
    expect(notAdmin.stderr).toMatch(/is not a consortium admin/);

    const reinstated = await captureCli(() => orgReinstateCommand({ network: dir, address: clinic }));
    expect(reinstated.code, reinstated.stderr).toBe(0);
    expect((await members(dir)).find((m) => m.address === clinic)?.status).toBe('active');

    const twice = await captureCli(() =>
      orgAdmitCommand({ network: dir, address: clinic, name: 'Clinic again', roles: 'PROVIDER' }),
    );
    expect(twice.code).toBe(1);
    expect(twice.stderr).toMatch(/already registered/);

    // A new organisation admitted from the founder's data folder (its key and its remembered registry).
    const newcomer = `0x${'42'.repeat(20)}` as Hex;
    const admitted = await captureCli(() =>
      orgAdmitCommand({
        data: first.organizations[0]?.dataDir as string,
        rpc: first.anvil.rpcUrl,
        address: newcomer,
        name: 'Regional Lab',
        roles: 'researcher, provider',
        url: 'https://lab.example',
        encryptionKey: `0x${'07'.repeat(32)}`,
      }),
    );
    expect(admitted.code, admitted.stderr).toBe(0);
    expect((await members(dir)).find((m) => m.address === newcomer)).toMatchObject({
      name: 'Regional Lab',
      status: 'active',
      roles: ['PROVIDER', 'RESEARCHER'],
      gatewayUrl: 'https://lab.example',
    });
  });

  it('down stops every process and keeps the data; a second up resumes on it', async () => {
    const pids = [first.anvil.pid, ...first.organizations.map((o) => o.pid)] as number[];
    await quiet(() => networkDown({ dir }));
    for (const pid of pids) expect(isAlive(pid), `pid ${pid}`).toBe(false);
    const stopped = readNetworkFile(dir) as NetworkFile;
    expect([stopped.anvil, ...stopped.organizations].every((p) => p.state === 'stopped')).toBe(true);
    expect(existsSync(join(dir, 'hospital.pid'))).toBe(false);
    // As a network.json of an older version would have it: without the RecordLocator and SupplyChainRegistry.
    const { recordLocator: _r, supplyChainRegistry: _s, ...older } = stopped.contracts ?? {};
    writeNetworkFile(dir, { ...stopped, contracts: older as NetworkFile['contracts'] });

    const second = await quiet(() => networkUp({ dir }));
    expect(second.contracts).toEqual(first.contracts);
    expect(second.organizations.map((o) => [o.address, o.token, o.port])).toEqual(
      first.organizations.map((o) => [o.address, o.token, o.port]),
    );
    const registered = await members(dir);
    expect(registered).toHaveLength(4); // the three and the lab admitted above: the chain state survived
    expect(registered.filter((m) => m.status === 'active')).toHaveLength(4);

    const newPids = [second.anvil.pid, ...second.organizations.map((o) => o.pid)] as number[];
    await quiet(() => networkDown({ dir, purge: true }));
    for (const pid of newPids) expect(isAlive(pid), `pid ${pid}`).toBe(false);
    expect(existsSync(dir)).toBe(false);
  }, 90_000);
});
