import { ConfigurationError } from '../core/errors.js';
import { toHex, type Hex } from '../core/hex.js';
import type { Logger } from '../core/logger.js';
import type { ChainClients } from './chainClients.js';
import {
  anchorRegistryAbi,
  anchorRegistryBytecode,
  consentRegistryAbi,
  consentRegistryBytecode,
  organizationRegistryAbi,
  organizationRegistryBytecode,
} from './generated/contracts.js';

export interface Deployment {
  chainId: number;
  organizationRegistry: Hex;
  anchorRegistry: Hex;
  /** Patients' consents, delegates and break-glass log, bound to `organizationRegistry`. */
  consentRegistry: Hex;
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
  configured?: ConfiguredContracts | undefined;
  logger: Logger;
}

export interface ConfiguredContracts {
  organizationRegistry: Hex;
  anchorRegistry: Hex;
  consentRegistry: Hex;
}

const metaKey = (chainId: number) => `deployment:${chainId}`;

/**
 * Makes sure the registries exist on the chain and returns their addresses: the configured ones, else those this
 * node deployed before (if the chain still has them), else newly deployed ones with this organisation as the
 * consortium admin and first member. A node that is admin also (re)admits itself, so a chain restarted from an
 * older state without the admission recovers on its own. A remembered deployment from before the
 * ConsentRegistry existed (or whose ConsentRegistry is gone while the other two remain) gets a ConsentRegistry
 * bound to its OrganizationRegistry, which is remembered with it.
 */
export async function ensureDeployment(
  params: EnsureDeploymentParameters,
): Promise<Deployment & { deployedNow: boolean }> {
  const { clients, memory, logger } = params;
  const chainId = clients.chain.id;
  const self = clients.account.address;

  if (params.configured) {
    const { organizationRegistry, anchorRegistry, consentRegistry } = params.configured;
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
    const consentLinked = await clients.publicClient.readContract({
      address: consentRegistry,
      abi: consentRegistryAbi,
      functionName: 'organizationRegistry',
    });
    if (consentLinked.toLowerCase() !== organizationRegistry.toLowerCase()) {
      throw new ConfigurationError(
        'CHAIN.CONTRACTS_MISMATCH',
        `The ConsentRegistry at ${consentRegistry} belongs to OrganizationRegistry ${consentLinked}, not to the configured ${organizationRegistry}.`,
      );
    }
    await ensureMembership(clients, organizationRegistry, params.organization, logger);
    return {
      chainId,
      organizationRegistry,
      anchorRegistry,
      consentRegistry,
      deployer: self,
      deployedAtBlock: 0,
      deployedNow: false,
    };
  }

  const remembered = memory.getMeta(metaKey(chainId));
  if (remembered) {
    // Deployments remembered before the ConsentRegistry existed have no `consentRegistry`.
    const deployment = JSON.parse(remembered) as Omit<Deployment, 'consentRegistry'> & {
      consentRegistry?: Hex;
    };
    if (
      (await hasCode(clients, deployment.organizationRegistry)) &&
      (await hasCode(clients, deployment.anchorRegistry))
    ) {
      await ensureMembership(clients, deployment.organizationRegistry, params.organization, logger);
      if (deployment.consentRegistry && (await hasCode(clients, deployment.consentRegistry))) {
        return { ...deployment, consentRegistry: deployment.consentRegistry, deployedNow: false };
      }
      const completed: Deployment = {
        ...deployment,
        consentRegistry: await deployConsentRegistry(clients, deployment.organizationRegistry),
      };
      memory.setMeta(metaKey(chainId), JSON.stringify(completed));
      logger.info(
        {
          chainId,
          organizationRegistry: completed.organizationRegistry,
          consentRegistry: completed.consentRegistry,
          ...(deployment.consentRegistry ? { missing: deployment.consentRegistry } : {}),
        },
        deployment.consentRegistry
          ? 'the ConsentRegistry this node deployed is gone from the chain; deployed it again'
          : 'deployed the ConsentRegistry for the existing registries',
      );
      return { ...completed, deployedNow: false };
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
      consentRegistry: deployment.consentRegistry,
    },
    'deployed the CareLedger registries',
  );
  return { ...deployment, deployedNow: true };
}

/**
 * Deploys OrganizationRegistry (this account as admin), admits this organisation, deploys AnchorRegistry and
 * ConsentRegistry bound to the OrganizationRegistry.
 */
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
  const consentRegistry = await deployConsentRegistry(clients, organizationRegistry);
  return {
    chainId: clients.chain.id,
    organizationRegistry,
    anchorRegistry: anchorReceipt.contractAddress,
    consentRegistry,
    deployer: account.address,
    deployedAtBlock: Number(orgReceipt.blockNumber),
  };
}

/** Deploys a ConsentRegistry whose relayers are the active members of `organizationRegistry`. */
export async function deployConsentRegistry(clients: ChainClients, organizationRegistry: Hex): Promise<Hex> {
  const hash = await clients.walletClient.deployContract({
    abi: consentRegistryAbi,
    bytecode: consentRegistryBytecode,
    args: [organizationRegistry],
  });
  const receipt = await clients.publicClient.waitForTransactionReceipt({ hash });
  if (receipt.status !== 'success' || !receipt.contractAddress)
    throw new Error('ConsentRegistry deployment failed');
  return receipt.contractAddress;
}

/**
 * The registries of `deployment` that have no code on the chain (an embedded chain restarted from an older
 * state); empty if all are there.
 */
export async function missingContracts(
  clients: ChainClients,
  deployment: Pick<Deployment, 'organizationRegistry' | 'anchorRegistry' | 'consentRegistry'>,
): Promise<('organizationRegistry' | 'anchorRegistry' | 'consentRegistry')[]> {
  const names = ['organizationRegistry', 'anchorRegistry', 'consentRegistry'] as const;
  const present = await Promise.all(names.map((name) => hasCode(clients, deployment[name])));
  return names.filter((_, i) => !present[i]);
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
