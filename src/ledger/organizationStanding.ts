import type { Address } from 'viem';
import type { ChainClients } from './chainClients.js';
import { organizationRegistryAbi } from './generated/contracts.js';

/** An organisation as the consent checks need it: active (admitted, not suspended) and its roles. */
export interface OrganizationStanding {
  organization: Address;
  active: boolean;
  roles: number;
}

/**
 * Reads an organisation's standing from the OrganizationRegistry, kept for `ttlMs` so reads do not each ask the
 * chain; a suspension is seen within that time. A failed refresh keeps serving the last standing for at most
 * `staleLimitMs`, then fails (an unreachable registry must not keep a suspended member in).
 */
export class OrganizationStandingReader {
  private readonly clients: ChainClients;
  private registry: Address;
  private readonly ttlMs: number;
  private readonly staleLimitMs: number;
  private cached = new Map<Address, { standing: OrganizationStanding; at: number }>();
  private inFlight = new Map<Address, Promise<OrganizationStanding>>();

  constructor(
    clients: ChainClients,
    registry: Address,
    options: { ttlMs?: number; staleLimitMs?: number } = {},
  ) {
    this.clients = clients;
    this.registry = registry;
    this.ttlMs = options.ttlMs ?? 1_000;
    this.staleLimitMs = options.staleLimitMs ?? 30_000;
  }

  useRegistry(registry: Address): void {
    this.registry = registry;
    this.cached.clear();
  }

  async standing(organization: Address): Promise<OrganizationStanding> {
    const now = Date.now();
    const hit = this.cached.get(organization);
    if (hit && now - hit.at < this.ttlMs) return hit.standing;
    let pending = this.inFlight.get(organization);
    if (!pending) {
      pending = this.read(organization).finally(() => this.inFlight.delete(organization));
      this.inFlight.set(organization, pending);
    }
    try {
      const standing = await pending;
      this.cached.set(organization, { standing, at: Date.now() });
      return standing;
    } catch (error) {
      if (hit && now - hit.at < this.staleLimitMs) return hit.standing;
      throw error;
    }
  }

  private async read(organization: Address): Promise<OrganizationStanding> {
    const client = this.clients.publicClient;
    const [active, roles] = await Promise.all([
      client.readContract({
        address: this.registry,
        abi: organizationRegistryAbi,
        functionName: 'isActive',
        args: [organization],
      }),
      client
        .readContract({
          address: this.registry,
          abi: organizationRegistryAbi,
          functionName: 'getOrganization',
          args: [organization],
        })
        .then((o) => Number((o as { roles: number }).roles))
        .catch(() => 0), // not registered: no roles
    ]);
    return { organization, active: Boolean(active), roles };
  }
}
