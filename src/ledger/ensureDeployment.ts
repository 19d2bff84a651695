import type { Abi, TransactionReceipt } from 'viem';
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
  recordLocatorAbi,
  recordLocatorBytecode,
  supplyChainRegistryAbi,
  supplyChainRegistryBytecode,
} from './generated/contracts.js';

export interface Deployment {
  chainId: number;
  organizationRegistry: Hex;
  anchorRegistry: Hex;
  /** Patients' consents, delegates and break-glass log, bound to `organizationRegistry`. */
  consentRegistry: Hex;
  /** Which organisations hold records for a patient, bound to `organizationRegistry`. */
  recordLocator: Hex;
  /** Medicine packs' custody, dispensing, quarantine and recalls, bound to `organizationRegistry`. */
  supplyChainRegistry: Hex;
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
  recordLocator: Hex;
  supplyChainRegistry: Hex;
}

/** The contracts added after the first release, bound to the OrganizationRegistry; older deployments lack them. */
const LATER_CONTRACTS = [
  { key: 'consentRegistry', name: 'ConsentRegistry', deploy: deployConsentRegistry },
  { key: 'recordLocator', name: 'RecordLocator', deploy: deployRecordLocator },
  { key: 'supplyChainRegistry', name: 'SupplyChainRegistry', deploy: deploySupplyChainRegistry },
] as const;

/** The `Deployment` keys of the contracts added after the first release. */
type LaterContract = (typeof LATER_CONTRACTS)[number]['key'];

/** The contracts of a deployment, by their `Deployment` key. */
export type DeployedContract = 'organizationRegistry' | 'anchorRegistry' | LaterContract;

const metaKey = (chainId: number) => `deployment:${chainId}`;

/**
 * Makes sure the registries exist on the chain and returns their addresses: the configured ones, else those this
 * node deployed before (if the chain still has them), else newly deployed ones with this organisation as the
 * consortium admin and first member. A node that is admin also (re)admits itself, so a chain restarted from an
 * older state without the admission recovers on its own. A remembered deployment from before the
 * ConsentRegistry, the RecordLocator or the SupplyChainRegistry existed (or whose ConsentRegistry,
 * RecordLocator or SupplyChainRegistry is gone while the OrganizationRegistry and AnchorRegistry remain) gets the
 * missing one deployed, bound to its OrganizationRegistry, and remembered with it.
 */
export async function ensureDeployment(
  params: EnsureDeploymentParameters,
): Promise<Deployment & { deployedNow: boolean }> {
  const { clients, memory, logger } = params;
  const chainId = clients.chain.id;
  const self = clients.account.address;

  if (params.configured) {
    const { organizationRegistry, anchorRegistry, consentRegistry, recordLocator, supplyChainRegistry } =
      params.configured;
    for (const [name, address] of Object.entries(params.configured)) {
      if (!(await hasCode(clients, address))) {
        throw new ConfigurationError(
          'CHAIN.CONTRACT_MISSING',
          `No contract is deployed at the configured ${name} address ${address} on chain ${chainId}.`,
        );
      }
    }
    const bound = [
      { name: 'AnchorRegistry', address: anchorRegistry, abi: anchorRegistryAbi },
      { name: 'ConsentRegistry', address: consentRegistry, abi: consentRegistryAbi },
      { name: 'RecordLocator', address: recordLocator, abi: recordLocatorAbi },
      { name: 'SupplyChainRegistry', address: supplyChainRegistry, abi: supplyChainRegistryAbi },
    ] as const;
    for (const { name, address, abi } of bound) {
      const linked = await clients.publicClient.readContract({
        address,
        abi,
        functionName: 'organizationRegistry',
      });
      if (linked.toLowerCase() !== organizationRegistry.toLowerCase()) {
        throw new ConfigurationError(
          'CHAIN.CONTRACTS_MISMATCH',
          `The ${name} at ${address} belongs to OrganizationRegistry ${linked}, not to the configured ${organizationRegistry}.`,
        );
      }
    }
    await ensureMembership(clients, organizationRegistry, params.organization, logger);
    return {
      chainId,
      organizationRegistry,
      anchorRegistry,
      consentRegistry,
      recordLocator,
      supplyChainRegistry,
      deployer: self,
      deployedAtBlock: 0,
      deployedNow: false,
    };
  }

  const remembered = memory.getMeta(metaKey(chainId));
  if (remembered) {
    // Deployments remembered before the ConsentRegistry, RecordLocator or SupplyChainRegistry existed lack it.
    const deployment = JSON.parse(remembered) as Omit<Deployment, LaterContract> &
      Partial<Pick<Deployment, LaterContract>>;
    if (
      (await hasCode(clients, deployment.organizationRegistry)) &&
      (await hasCode(clients, deployment.anchorRegistry))
    ) {
      await ensureMembership(clients, deployment.organizationRegistry, params.organization, logger);
      const completed = { ...deployment };
      let changed = false;
      for (const { key, name, deploy } of LATER_CONTRACTS) {
        const previous = deployment[key];
        if (previous && (await hasCode(clients, previous))) continue;
        completed[key] = await deploy(clients, deployment.organizationRegistry);
        changed = true;
        logger.info(
          {
            chainId,
            organizationRegistry: deployment.organizationRegistry,
            [key]: completed[key],
            ...(previous ? { missing: previous } : {}),
          },
          previous
            ? `the ${name} this node deployed is gone from the chain; deployed it again`
            : `deployed the ${name} for the existing registries`,
        );
      }
      const full = completed as Deployment;
      if (changed) memory.setMeta(metaKey(chainId), JSON.stringify(full));
      return { ...full, deployedNow: false };
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
      recordLocator: deployment.recordLocator,
      supplyChainRegistry: deployment.supplyChainRegistry,
    },
    'deployed the CareLedger registries',
  );
  return { ...deployment, deployedNow: true };
}

/**
 * Deploys OrganizationRegistry (this account as admin), admits this organisation, deploys AnchorRegistry,
 * ConsentRegistry, RecordLocator and SupplyChainRegistry bound to the OrganizationRegistry.
 */
export async function deployRegistries(
  clients: ChainClients,
  organization: OrganizationProfile,
): Promise<Deployment> {
  const { account } = clients;
  const org = await deploy(
    clients,
    'OrganizationRegistry',
    organizationRegistryAbi,
    organizationRegistryBytecode,
    [account.address],
  );
  const organizationRegistry = org.contractAddress;
  await admitSelf(clients, organizationRegistry, organization);
  const anchor = await deploy(clients, 'AnchorRegistry', anchorRegistryAbi, anchorRegistryBytecode, [
    organizationRegistry,
  ]);
  const consentRegistry = await deployConsentRegistry(clients, organizationRegistry);
  const recordLocator = await deployRecordLocator(clients, organizationRegistry);
  const supplyChainRegistry = await deploySupplyChainRegistry(clients, organizationRegistry);
  return {
    chainId: clients.chain.id,
    organizationRegistry,
    anchorRegistry: anchor.contractAddress,
    consentRegistry,
    recordLocator,
    supplyChainRegistry,
    deployer: account.address,
    deployedAtBlock: Number(org.blockNumber),
  };
}

/** Deploys a ConsentRegistry whose relayers are the active members of `organizationRegistry`. */
export async function deployConsentRegistry(clients: ChainClients, organizationRegistry: Hex): Promise<Hex> {
  const receipt = await deploy(clients, 'ConsentRegistry', consentRegistryAbi, consentRegistryBytecode, [
    organizationRegistry,
  ]);
  return receipt.contractAddress;
}

/** Deploys a RecordLocator whose announcers are the active members of `organizationRegistry`. */
export async function deployRecordLocator(clients: ChainClients, organizationRegistry: Hex): Promise<Hex> {
  const receipt = await deploy(clients, 'RecordLocator', recordLocatorAbi, recordLocatorBytecode, [
    organizationRegistry,
  ]);
  return receipt.contractAddress;
}

/** Deploys a SupplyChainRegistry whose participants are the active members of `organizationRegistry`. */
export async function deploySupplyChainRegistry(
  clients: ChainClients,
  organizationRegistry: Hex,
): Promise<Hex> {
  const receipt = await deploy(
    clients,
    'SupplyChainRegistry',
    supplyChainRegistryAbi,
    supplyChainRegistryBytecode,
    [organizationRegistry],
  );
  return receipt.contractAddress;
}

/** Deploys contract `name` with its one constructor argument and waits for it; throws if it did not deploy. */
async function deploy(
  clients: ChainClients,
  name: string,
  abi: Abi,
  bytecode: Hex,
  args: readonly [Hex],
): Promise<TransactionReceipt & { contractAddress: Hex }> {
  const hash = await clients.walletClient.deployContract({ abi, bytecode, args });
  const receipt = await clients.publicClient.waitForTransactionReceipt({ hash });
  if (receipt.status !== 'success' || !receipt.contractAddress) throw new Error(`${name} deployment failed`);
  return { ...receipt, contractAddress: receipt.contractAddress };
}

/**
 * The registries of `deployment` that have no code on the chain (an embedded chain restarted from an older
 * state); empty if all are there.
 */
export async function missingContracts(
  clients: ChainClients,
  deployment: Pick<Deployment, DeployedContract>,
): Promise<DeployedContract[]> {
  const names = [
    'organizationRegistry',
    'anchorRegistry',
    'consentRegistry',
    'recordLocator',
    'supplyChainRegistry',
  ] as const satisfies readonly DeployedContract[];
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
  const active = await isActive(clients, registry, self);
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

/** Whether `organization` is an active member of the OrganizationRegistry at `registry`. */
function isActive(clients: ChainClients, registry: Hex, organization: Hex): Promise<boolean> {
  return clients.publicClient.readContract({
    address: registry,
    abi: organizationRegistryAbi,
    functionName: 'isActive',
    args: [organization],
  });
}

async function hasCode(clients: ChainClients, address: Hex): Promise<boolean> {
  const code = await clients.publicClient.getCode({ address });
  return code !== undefined && code !== '0x';
}

/**
 * Makes the registry's gateway URL and encryption key for this organisation the ones it really serves with (a moved
 * gateway, a rotated master key, or a node started on port 0 whose URL is known only once it listens), so other
 * members' exchanges reach it. Sends nothing when they already match or the organisation is not active (a
 * suspended member cannot update, and the admin's admission sets them anyway). Resolves with what it did.
 */
export async function ensureEndpoint(
  clients: ChainClients,
  registry: Hex,
  endpoint: { gatewayUrl: string; encryptionPublicKey: Uint8Array },
  logger: Logger,
): Promise<'updated' | 'unchanged' | 'inactive'> {
  const self = clients.account.address;
  const active = await isActive(clients, registry, self);
  if (!active) return 'inactive';
  const current = (await clients.publicClient.readContract({
    address: registry,
    abi: organizationRegistryAbi,
    functionName: 'getOrganization',
    args: [self],
  })) as { gatewayUrl: string; encryptionPublicKey: Hex };
  const key = toHex(endpoint.encryptionPublicKey);
  if (current.gatewayUrl === endpoint.gatewayUrl && current.encryptionPublicKey.toLowerCase() === key) {
    return 'unchanged';
  }
  const hash = await clients.walletClient.writeContract({
    address: registry,
    abi: organizationRegistryAbi,
    functionName: 'updateEndpoint',
    args: [endpoint.gatewayUrl, key],
  });
  const receipt = await clients.publicClient.waitForTransactionReceipt({ hash, pollingInterval: 100 });
  if (receipt.status !== 'success') {
    throw new Error(`updating this organisation's gateway URL and key reverted (transaction ${hash})`);
  }
  logger.info(
    { organization: self, gatewayUrl: endpoint.gatewayUrl, was: current.gatewayUrl },
    "updated this organisation's gateway URL and encryption key in the OrganizationRegistry",
  );
  return 'updated';
}
