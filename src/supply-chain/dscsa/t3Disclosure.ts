import type { Hex } from '../../core/hex.js';
import type { MemberRoles, T3Audit, T3Store } from './ports.js';

/** What another organisation asked for: the T3s of one pack, and who asked there. */
export interface T3Query {
  gtin: string;
  serial: string;
  requestedBy: string;
}

/** The holder's answer: the T3s as stored (each the canonical JSON of a signed T3), or a refusal and why. */
export interface T3Disclosed {
  refused?: { code: string; message: string };
  t3: string[];
}

export interface T3DisclosureOptions {
  store: Pick<T3Store, 'forPack'>;
  roster: MemberRoles;
  audit: T3Audit;
}

/**
 * The holder's side of a T3 request (DSCSA: transaction information is provided to a regulator on request): the T3s
 * of the pack this organisation sent or received go to an active member holding the REGULATOR role, and to anyone
 * else only the T3s it is the buyer or seller of; everyone else is refused and told why. The requester's standing is
 * read from the chain at every request, so a suspension or a withdrawn role counts at once. Every answer, refusals
 * included, is in the audit trail before it leaves.
 */
export class T3Disclosure {
  private readonly options: T3DisclosureOptions;

  constructor(options: T3DisclosureOptions) {
    this.options = options;
  }

  async disclose(from: Hex, query: T3Query): Promise<T3Disclosed> {
    const requester = from.toLowerCase() as Hex;
    const standing = await this.options.roster.standing(requester);
    const rows = this.options.store.forPack(query.gtin, query.serial);
    const regulator = standing.active && standing.roles.includes('REGULATOR');
    const shared = regulator
      ? rows
      : rows.filter((r) => r.seller.toLowerCase() === requester || r.buyer.toLowerCase() === requester);
    let refused: T3Disclosed['refused'];
    if (!standing.active) {
      refused = {
        code: 'T3.REQUESTER_INACTIVE',
        message: `Organisation ${requester} is not an active member of the consortium (suspended or never admitted); this gateway shares no T3 with it.`,
      };
    } else if (!regulator && shared.length === 0) {
      refused = {
        code: 'T3.NOT_ENTITLED',
        message: `Organisation ${requester} does not hold the REGULATOR role and is neither the buyer nor the seller of a T3 of this pack held here; T3s go to regulators and to the parties of each sale only.`,
      };
    }
    await this.options.audit.record({
      action: 'disclose',
      counterpart: requester,
      gtin: query.gtin,
      serial: query.serial,
      requestedBy: query.requestedBy,
      outcome: refused ? 'denied' : 'allowed',
      reason: refused?.code,
      count: refused ? 0 : shared.length,
    });
    return refused ? { refused, t3: [] } : { t3: shared.map((r) => r.signed) };
  }
}
