import { BaseError, ContractFunctionRevertedError, type Address } from 'viem';
import type { Hex } from '../core/hex.js';
import type { MemberProfile } from '../exchange/externalFetcher.js';
import type { ChainClients } from './chainClients.js';
import { organizationRegistryAbi } from './generated/contracts.js';

/** `IOrganizationRegistry.Status.Active` (None = 0, Active = 1, Suspended = 2). */
const STATUS_ACTIVE = 1;

/**
 * Other members as the OrganizationRegistry describes them (name, active, gateway URL, X25519 key), for the
 * gateway-to-gateway exchange. Kept for `ttlMs` (default 1 s, about a block), so a suspension or a new gateway URL
 * or key is seen within that time; concurrent lookups of one member share one chain read.
 */
export class MemberDirectory {
  private readonly clients: ChainClients;
  private registry: Address;
  private readonly ttlMs: number;
  private readonly cached = new Map<string, { profile: MemberProfile | null; at: number }>();
  private readonly inFlight = new Map<string, Promise<MemberProfile | null>>();

  constructor(clients: ChainClients, registry: Address, options: { ttlMs?: number } = {}) {
    this.clients = clients;
    this.registry = registry;
    this.ttlMs = options.ttlMs ?? 1_000;
  }

  useRegistry(registry: Address): void {
    this.registry = registry;
    this.cached.clear();
  }

  async member(organization: Hex): Promise<MemberProfile | null> {
    const key = organization.toLowerCase();
    const hit = this.cached.get(key);
    if (hit && Date.now() - hit.at < this.ttlMs) return hit.profile;
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = this.read(organization).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    const profile = await pending;
    this.cached.set(key, { profile, at: Date.now() });
    return profile;
  }

  private async read(organization: Hex): Promise<MemberProfile | null> {
    let o: { name: string; status: number; gatewayUrl: string; encryptionPublicKey: Hex };
    try {
      o = (await this.clients.publicClient.readContract({
        address: this.registry,
        abi: organizationRegistryAbi,
        functionName: 'getOrganization',
        args: [organization],
      })) as typeof o;
    } catch (error) {
      // The registry reverts for an account it never admitted; anything else (RPC down) is not an answer.
      if (error instanceof BaseError && error.walk((e) => e instanceof ContractFunctionRevertedError))
        return null;
      throw error;
    }
    return {
      organization,
      name: o.name,
      active: o.status === STATUS_ACTIVE,
      gatewayUrl: o.gatewayUrl,
      encryptionPublicKey: Buffer.from(o.encryptionPublicKey.slice(2), 'hex'),
    };
  }
}
