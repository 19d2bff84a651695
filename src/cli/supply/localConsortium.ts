import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createTestClient, http, parseEther } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { loadConfig } from '../../config/config.js';
import type { Hex } from '../../core/hex.js';
import { organizationEncryptionPublicKey } from '../../keys/organizationEncryptionKey.js';
import { freeLoopbackPort } from '../../ledger/anvil/embeddedAnvil.js';
import { createChainClients } from '../../ledger/chainClients.js';
import { rolesToMask } from '../../ledger/organizationRoles.js';
import { startNode, type RunningNode } from '../../node/startNode.js';
import { admitOrganization } from '../org.js';

/** A node of an in-process consortium, with what its users need: its key, admin token and data folder. */
export interface LocalNode extends RunningNode {
  key: Hex;
  token: string;
  dataDir: string;
}

export interface LocalNodeOptions {
  name: string;
  roles: string[];
  /** Admin bearer token (CARELEDGER_API_TOKEN). */
  token: string;
  dataDir?: string;
  /** More settings (e.g. LOG_LEVEL, ANCHOR_BATCH_AGE_MS). */
  env?: Record<string, string>;
}

/** The founding node: its own embedded chain; its account deploys the registries and is the consortium admin. */
export async function startLocalFounder(options: LocalNodeOptions): Promise<LocalNode> {
  const key = generatePrivateKey();
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'careledger-local-'));
  const port = await freeLoopbackPort();
  const node = await startNode(
    loadConfig({
      CARELEDGER_DATA: dataDir,
      CARELEDGER_ORG_NAME: options.name,
      CARELEDGER_ORG_ROLES: options.roles.join(','),
      CARELEDGER_ORG_KEY: key,
      CARELEDGER_API_TOKEN: options.token,
      PORT: String(port),
      ANVIL_PORT: '0',
      CARELEDGER_GATEWAY_URL: `http://127.0.0.1:${port}`,
      ...options.env,
    }),
    pino({ level: options.env?.LOG_LEVEL ?? 'silent' }),
  );
  return Object.assign(node, { key, token: options.token, dataDir });
}

/**
 * Another organisation's node on the founder's chain: funded, admitted by the founder with its name, roles, gateway
 * URL and encryption key before it starts (as `careledger network up` does), then started against the founder's
 * registries.
 */
export async function startLocalMember(founder: LocalNode, options: LocalNodeOptions): Promise<LocalNode> {
  const key = generatePrivateKey();
  const masterKey = generatePrivateKey();
  const address = privateKeyToAccount(key).address;
  const port = await freeLoopbackPort();
  const url = `http://127.0.0.1:${port}`;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'careledger-local-'));
  const deployment = founder.deployment();
  const admin = createChainClients(founder.rpcUrl, deployment.chainId, founder.key);
  await createTestClient({ mode: 'anvil', chain: admin.chain, transport: http(founder.rpcUrl) }).setBalance({
    address,
    value: parseEther('1000000'),
  });
  await admitOrganization(admin, deployment.organizationRegistry, {
    address,
    name: options.name,
    roles: rolesToMask(options.roles),
    gatewayUrl: url,
    encryptionPublicKey: organizationEncryptionPublicKey(masterKey),
  });
  const node = await startNode(
    loadConfig({
      CARELEDGER_DATA: dataDir,
      CARELEDGER_ORG_NAME: options.name,
      CARELEDGER_ORG_ROLES: options.roles.join(','),
      CARELEDGER_API_TOKEN: options.token,
      CHAIN_RPC_URL: founder.rpcUrl,
      CARELEDGER_ORG_REGISTRY: deployment.organizationRegistry,
      CARELEDGER_ANCHOR_REGISTRY: deployment.anchorRegistry,
      CARELEDGER_CONSENT_REGISTRY: deployment.consentRegistry,
      CARELEDGER_RECORD_LOCATOR: deployment.recordLocator,
      CARELEDGER_SUPPLY_CHAIN_REGISTRY: deployment.supplyChainRegistry,
      CARELEDGER_ORG_KEY: key,
      CARELEDGER_MASTER_KEY: masterKey,
      PORT: String(port),
      CARELEDGER_GATEWAY_URL: url,
      ...options.env,
    }),
    pino({ level: options.env?.LOG_LEVEL ?? 'silent' }),
  );
  return Object.assign(node, { key, token: options.token, dataDir });
}
