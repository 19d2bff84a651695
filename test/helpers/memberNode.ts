import { createTestClient, http, parseEther } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { admitOrganization } from '../../src/cli/org.js';
import { freeLoopbackPort } from '../../src/ledger/anvil/embeddedAnvil.js';
import { createChainClients } from '../../src/ledger/chainClients.js';
import { rolesToMask } from '../../src/ledger/organizationRoles.js';
import { organizationEncryptionPublicKey } from '../../src/keys/organizationEncryptionKey.js';
import { startTestNode, type TestNode } from './inProcessNode.js';

/** A founding node (its own embedded chain; its account is the consortium admin) with the key it runs on. */
export async function startFounderNode(
  roles: string[],
  env: Record<string, string> = {},
): Promise<TestNode & { key: `0x${string}` }> {
  const key = generatePrivateKey();
  const node = await startTestNode({
    CARELEDGER_ORG_KEY: key,
    CARELEDGER_ORG_ROLES: roles.join(','),
    ...env,
  });
  return Object.assign(node, { key });
}

/**
 * Another organisation's node on the founder's chain: funded, admitted by the founder with its roles, gateway URL
 * and encryption key before it starts (as `careledger network up` does), then started against the founder's
 * registries.
 */
export async function startMemberNode(
  founder: TestNode & { key: `0x${string}` },
  name: string,
  roles: string[],
  env: Record<string, string> = {},
): Promise<TestNode> {
  const key = generatePrivateKey();
  const masterKey = generatePrivateKey();
  const address = privateKeyToAccount(key).address;
  const port = await freeLoopbackPort();
  const url = `http://127.0.0.1:${port}`;
  const deployment = founder.deployment();
  const admin = createChainClients(founder.rpcUrl, deployment.chainId, founder.key);
  await createTestClient({ mode: 'anvil', chain: admin.chain, transport: http(founder.rpcUrl) }).setBalance({
    address,
    value: parseEther('1000000'),
  });
  await admitOrganization(admin, deployment.organizationRegistry, {
    address,
    name,
    roles: rolesToMask(roles),
    gatewayUrl: url,
    encryptionPublicKey: organizationEncryptionPublicKey(masterKey),
  });
  return startTestNode({
    CARELEDGER_ORG_NAME: name,
    CARELEDGER_ORG_ROLES: roles.join(','),
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
    ...env,
  });
}
