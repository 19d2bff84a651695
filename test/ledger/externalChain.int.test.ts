import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { createPublicClient, createWalletClient, http, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { describeChain } from '../../src/ledger/chainClients.js';
import { organizationRegistryAbi } from '../../src/ledger/generated/contracts.js';
import { ORGANIZATION_ROLES } from '../../src/ledger/organizationRoles.js';
import { startNode, type RunningNode } from '../../src/node/startNode.js';
import { appendRecord, authorizedFetch, eventually, TEST_TOKEN } from '../helpers/inProcessNode.js';
import { freePort, fundedTestKey, startTestAnvil, type TestAnvil } from '../helpers/testAnvil.js';

type Json = Record<string, any>;

/** A pino logger that keeps every line, so the test can check what was (not) logged. */
function capturingLogger() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

const proofOf = (node: RunningNode, id: number) =>
  eventually(async () => {
    const r = await authorizedFetch(node.url, TEST_TOKEN, `/records/${id}/proof`);
    return r.status === 200 ? ((await r.json()) as Json) : undefined;
  }, `proof of record ${id}`);

describe('nodes on an external chain (a consortium of two)', () => {
  let chain: TestAnvil;
  const dirs: string[] = [];
  const nodes: RunningNode[] = [];
  let founderKey: Hex;
  let memberKey: Hex;
  const founderLog = capturingLogger();

  async function start(
    env: Record<string, string>,
    logger = pino({ level: 'silent' }),
  ): Promise<RunningNode> {
    const dir = mkdtempSync(join(tmpdir(), 'careledger-ext-'));
    dirs.push(dir);
    const node = await startNode(
      loadConfig({
        CARELEDGER_DATA: dir,
        PORT: String(await freePort()),
        CHAIN_RPC_URL: chain.rpcUrl,
        CARELEDGER_API_TOKEN: TEST_TOKEN,
        ANCHOR_BATCH_AGE_MS: '100',
        CHAIN_CHECK_INTERVAL_MS: '300',
        ...env,
      }),
      logger,
    );
    nodes.push(node);
    return node;
  }

  beforeAll(async () => {
    chain = await startTestAnvil(['--chain-id', '1337']);
    founderKey = await fundedTestKey(chain.rpcUrl);
    memberKey = await fundedTestKey(chain.rpcUrl);
  });
  afterAll(async () => {
    for (const node of nodes) await node.stop();
    await chain?.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('the founder deploys the registries on the external chain, anchors, and never logs its keys', async () => {
    const masterKey = `0x${'ab'.repeat(32)}`;
    const founder = await start(
      {
        CARELEDGER_ORG_KEY: founderKey,
        CARELEDGER_MASTER_KEY: masterKey,
        CARELEDGER_ORG_NAME: 'General Hospital',
      },
      founderLog.logger,
    );
    expect(founder.anvil).toBeNull();
    const health = (await (await authorizedFetch(founder.url, TEST_TOKEN, `/health`)).json()) as Json;
    expect(health.chain).toMatchObject({ mode: 'external', chainId: 1337, reachable: true, rpcUrl: null });
    const receipt = await appendRecord(founder, 'founder record');
    const proof = await proofOf(founder, receipt.id);
    expect(proof.anchor.chainId).toBe(1337);
    expect(proof.anchor.organization).toBe(privateKeyToAccount(founderKey).address);

    const logged = founderLog.lines.join('\n').toLowerCase();
    expect(logged).toContain('deployed the careledger registries');
    expect(logged).not.toContain(founderKey.slice(2).toLowerCase());
    expect(logged).not.toContain('ab'.repeat(32));
  });

  it('a second organisation joins with configured addresses and anchors once the admin admits it', async () => {
    const founder = nodes[0] as RunningNode;
    const { organizationRegistry, anchorRegistry, consentRegistry, recordLocator, supplyChainRegistry } =
      founder.deployment();
    const member = await start({
      CARELEDGER_ORG_KEY: memberKey,
      CARELEDGER_ORG_REGISTRY: organizationRegistry,
      CARELEDGER_ANCHOR_REGISTRY: anchorRegistry,
      CARELEDGER_CONSENT_REGISTRY: consentRegistry,
      CARELEDGER_RECORD_LOCATOR: recordLocator,
      CARELEDGER_SUPPLY_CHAIN_REGISTRY: supplyChainRegistry,
      CARELEDGER_ORG_NAME: 'Community Clinic',
    });
    expect(member.deployment().anchorRegistry).toBe(anchorRegistry);
    const receipt = await appendRecord(member, 'clinic record written before admission');
    await eventually(async () => {
      const h = (await (await authorizedFetch(member.url, TEST_TOKEN, `/health`)).json()) as Json;
      return /not an active member/.test(h.anchoring.submitter.lastError ?? '') ? h : undefined;
    }, 'the member to report it is not admitted');

    const c = describeChain(1337, chain.rpcUrl);
    const admin = createWalletClient({
      chain: c,
      transport: http(chain.rpcUrl),
      account: privateKeyToAccount(founderKey),
    });
    const hash = await admin.writeContract({
      address: organizationRegistry,
      abi: organizationRegistryAbi,
      functionName: 'admit',
      args: [member.organization, 'Community Clinic', ORGANIZATION_ROLES.PROVIDER, member.url, '0x'],
    });
    await createPublicClient({ chain: c, transport: http(chain.rpcUrl) }).waitForTransactionReceipt({ hash });

    const proof = await proofOf(member, receipt.id);
    expect(proof.anchor.organization).toBe(member.organization);
    expect(proof.batch.sequence).toBe(1); // sequences are per organisation
  });

  it('reports 503 on /health while the chain is unreachable and keeps accepting records', async () => {
    const founder = nodes[0] as RunningNode;
    await chain.stop();
    const res = await authorizedFetch(founder.url, TEST_TOKEN, `/health`);
    expect(res.status).toBe(503);
    const health = (await res.json()) as Json;
    expect(health.status).toBe('degraded');
    expect(health.chain.reachable).toBe(false);
    const receipt = await appendRecord(founder, 'written while the chain is down');
    const view = (await (
      await authorizedFetch(founder.url, TEST_TOKEN, `/records/${receipt.id}`)
    ).json()) as Json;
    expect(['open', 'sealed']).toContain(view.batch.state);
  });
});
