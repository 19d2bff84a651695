import type { Address, PublicClient } from 'viem';
import type { Hex } from '../core/hex.js';
import { organizationRegistryAbi } from './generated/contracts.js';
import { maskToRoles, type OrganizationRole } from './organizationRoles.js';

/** `IOrganizationRegistry.Status.Active` (None = 0, Active = 1, Suspended = 2). */
const STATUS_ACTIVE = 1;
/** Members read at once while listing the registry. */
const READS_IN_FLIGHT = 16;

/** An organisation's standing as the registry says it now. */
export interface MemberStanding {
  organization: Hex;
  active: boolean;
  roles: OrganizationRole[];
}

/**
 * Who is in the consortium and in which role, read from the OrganizationRegistry at every call (never cached):
 * the answers decide who may see or must receive DSCSA documents, so a suspension or a role taken away mined in one
 * block counts from the next question on.
 */
export class OrganizationRoster {
  private readonly publicClient: PublicClient;
  private readonly registry: () => Address;

  /** `registry`: the current OrganizationRegistry (it changes when the embedded chain is redeployed). */
  constructor(publicClient: PublicClient, registry: () => Address) {
    this.publicClient = publicClient;
    this.registry = registry;
  }

  /** The organisation's standing; an account never admitted is inactive with no roles. */
  async standing(organization: Hex): Promise<MemberStanding> {
    const key = organization.toLowerCase() as Hex;
    const [active, record] = await Promise.all([
      this.publicClient.readContract({
        address: this.registry(),
        abi: organizationRegistryAbi,
        functionName: 'isActive',
        args: [organization],
      }),
      this.publicClient
        .readContract({
          address: this.registry(),
          abi: organizationRegistryAbi,
          functionName: 'getOrganization',
          args: [organization],
        })
        .catch(() => null), // never admitted: the registry reverts
    ]);
    return { organization: key, active, roles: record ? maskToRoles(Number(record.roles)) : [] };
  }

  /** Every active member holding `role`, in the registry's order. */
  async activeWithRole(role: OrganizationRole): Promise<Hex[]> {
    const registry = this.registry();
    const count = Number(
      await this.publicClient.readContract({
        address: registry,
        abi: organizationRegistryAbi,
        functionName: 'organizationCount',
      }),
    );
    const found: Hex[] = [];
    for (let start = 0; start < count; start += READS_IN_FLIGHT) {
      const indexes = Array.from({ length: Math.min(READS_IN_FLIGHT, count - start) }, (_, i) => start + i);
      const members = await Promise.all(
        indexes.map(async (index) => {
          const account = await this.publicClient.readContract({
            address: registry,
            abi: organizationRegistryAbi,
            functionName: 'organizationAt',
            args: [BigInt(index)],
          });
          const o = await this.publicClient.readContract({
            address: registry,
            abi: organizationRegistryAbi,
            functionName: 'getOrganization',
            args: [account],
          });
          return { account, active: o.status === STATUS_ACTIVE, roles: maskToRoles(Number(o.roles)) };
        }),
      );
      for (const m of members) {
        if (m.active && m.roles.includes(role)) found.push(m.account.toLowerCase() as Hex);
      }
    }
    return found;
  }
}
