import { ConfigurationError } from '../core/errors.js';
import { toHex, type Hex } from '../core/hex.js';
import type { Logger } from '../core/logger.js';
import type { ChainClients } from './chainClients.js';
import {
  anchorRegistryAbi,
  anchorRegistryBytecode,
  organizationRegistryAbi,
  organizationRegistryBytecode,
} from './generated/contracts.js';

export interface Deployment {
  chainId: number;
  organizationRegistry: Hex;
  anchorRegistry: Hex;
  deployer: Hex;
  deployedAtBlock: number;
}

/** Where a node remembers what it deployed (the store's meta table). */
export interface DeploymentMemory {
  getMeta(key: string): string | undefined;
  setMeta(key: string, value: string): void;
}

export interface OrganizationProfile {
  name: string;
  roles: number;
  gatewayUrl: string;
  encryptionPublicKey: Uint8Array;
}

export interface EnsureDeploymentParameters {
  clients: ChainClients;
  memory: DeploymentMemory;
  organization: OrganizationProfile;
  /** Addresses from configuration (joining an existing consortium); otherwise remembered or deployed. */
  configured?: { organizationRegistry: Hex; anchorRegistry: Hex } | undefined;
  logger: Logger;
}

const metaKey = (chainId: number) => `deployment:${chainId}`;

/**
 * Makes sure the registries exist on the chain and returns their addresses: the configured ones, else those this
 * node deployed before (if the chain still has them), else newly deployed ones with this organisation as the
 * consortium admin and first member. A node that is admin also (re)admits itself, so a chain restarted from an
 * older state without the admission recovers on its own.
 */
export async function ensureDeployment(
  params: EnsureDeploymentParameters,
): Promise<Deployment & { deployedNow: boolean }> {
  const { clients, memory, logger } = params;
  const chainId = clients.chain.id;
  const self = clients.account.address;

  if (params.configured) {
    const { organizationRegistry, anchorRegistry } = params.configured;
    for (const [name, address] of Object.entries(params.configured)) {
      if (!(await hasCode(clients, address))) {
        throw new ConfigurationError(
          'CHAIN.CONTRACT_MISSING',
          `No contract is deployed at the configured ${name} address ${address} on chain ${chainId}.`,
        );
      }
    }
    const linked = await clients.publicClient.readContract({
      address: anchorRegistry,
      abi: anchorRegistryAbi,
      functionName: 'organizationRegistry',
    });
    if (linked.toLowerCase() !== organizationRegistry.toLowerCase()) {
      throw new ConfigurationError(
        'CHAIN.CONTRACTS_MISMATCH',
        `The AnchorRegistry at ${anchorRegistry} belongs to OrganizationRegistry ${linked}, not to the configured ${organizationRegistry}.`,
      );
    }
    await ensureMembership(clients, organizationRegistry, params.organization, logger);
    return {
      chainId,
      organizationRegistry,
      anchorRegistry,
      deployer: self,
      deployedAtBlock: 0,
      deployedNow: false,
    };
  }

  const remembered = memory.getMeta(metaKey(chainId));
  if (remembered) {
    const deployment = JSON.parse(remembered) as Deployment;
    if (
      (await hasCode(clients, deployment.organizationRegistry)) &&
      (await hasCode(clients, deployment.anchorRegistry))
    ) {
      await ensureMembership(clients, deployment.organizationRegistry, params.organization, logger);
      return { ...deployment, deployedNow: false };
    }
    logger.warn(
      { chainId },
      'the registries this node deployed are gone from the chain; deploying them again',
    );
  }

  const deployment = await deployRegistries(clients, params.organization);
  memory.setMeta(metaKey(chainId), JSON.stringify(deployment));
  logger.info(
    {
      chainId,
      organizationRegistry: deployment.organizationRegistry,
      anchorRegistry: deployment.anchorRegistry,
    },
    'deployed the CareLedger registries',
  );
  return { ...deployment, deployedNow: true };
}

/** Deploys OrganizationRegistry (this account as admin), admits this organisation, deploys AnchorRegistry. */
export async function deployRegistries(
  clients: ChainClients,
  organization: OrganizationProfile,
): Promise<Deployment> {
  const { walletClient, publicClient, account } = clients;
  const orgTx = await walletClient.deployContract({
    abi: organizationRegistryAbi,
    bytecode: organizationRegistryBytecode,
    args: [account.address],
  });
  const orgReceipt = await publicClient.waitForTransactionReceipt({ hash: orgTx });
  if (orgReceipt.status !== 'success' || !orgReceipt.contractAddress)
    throw new Error('OrganizationRegistry deployment failed');
  const organizationRegistry = orgReceipt.contractAddress;
  await admitSelf(clients, organizationRegistry, organization);
  const anchorTx = await walletClient.deployContract({
    abi: anchorRegistryAbi,
    bytecode: anchorRegistryBytecode,
    args: [organizationRegistry],
  });
  const anchorReceipt = await publicClient.waitForTransactionReceipt({ hash: anchorTx });
  if (anchorReceipt.status !== 'success' || !anchorReceipt.contractAddress)
    throw new Error('AnchorRegistry deployment failed');
  return {
    chainId: clients.chain.id,
    organizationRegistry,
    anchorRegistry: anchorReceipt.contractAddress,
    deployer: account.address,
    deployedAtBlock: Number(orgReceipt.blockNumber),
  };
}

async function admitSelf(
  clients: ChainClients,
  registry: Hex,
  organization: OrganizationProfile,
): Promise<void> {
  const hash = await clients.walletClient.writeContract({
    address: registry,
    abi: organizationRegistryAbi,
    functionName: 'admit',
    args: [
      clients.account.address,
      organization.name,
      organization.roles,
      organization.gatewayUrl,
      toHex(organization.encryptionPublicKey),
    ],
  });
  const receipt = await clients.publicClient.waitForTransactionReceipt({ hash });
  if (receipt.status !== 'success') throw new Error('admitting this organisation failed');
}

/** Admits this organisation if it is the consortium admin and not yet a member; warns if it cannot anchor. */
async function ensureMembership(
  clients: ChainClients,
  registry: Hex,
  organization: OrganizationProfile,
  logger: Logger,
): Promise<void> {
  const self = clients.account.address;
  const active = await clients.publicClient.readContract({
    address: registry,
    abi: organizationRegistryAbi,
    functionName: 'isActive',
    args: [self],
  });
  if (active) return;
  const adminRole = await clients.publicClient.readContract({
    address: registry,
    abi: organizationRegistryAbi,
    functionName: 'CONSORTIUM_ADMIN_ROLE',
  });
  const isAdmin = await clients.publicClient.readContract({
    address: registry,
    abi: organizationRegistryAbi,
    functionName: 'hasRole',
    args: [adminRole, self],
  });
  const count = await clients.publicClient.readContract({
    address: registry,
    abi: organizationRegistryAbi,
    functionName: 'organizationCount',
  });
  let known = false;
  for (let i = 0n; i < count && !known; i++) {
    const member = await clients.publicClient.readContract({
      address: registry,
      abi: organizationRegistryAbi,
      functionName: 'organizationAt',
      args: [i],
    });
    known = member.toLowerCase() === self.toLowerCase();
  }
  if (isAdmin && !known) {
    await admitSelf(clients, registry, organization);
    logger.info({ organization: self }, 'admitted this organisation to the consortium');
    return;
  }
  logger.warn(
    { organization: self, registered: known },
    known
      ? 'this organisation is suspended in the consortium: records are stored but cannot be anchored until it is reinstated'
      : 'this organisation is not a consortium member yet: ask the consortium admin to admit it; records are stored but not anchored until then',
  );
}

async function hasCode(clients: ChainClients, address: Hex): Promise<boolean> {
  const code = await clients.publicClient.getCode({ address });
  return code !== undefined && code !== '0x';
}
