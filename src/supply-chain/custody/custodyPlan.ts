import { CareLedgerError } from '../../core/errors.js';
import type { Hex } from '../../core/hex.js';
import type { CapturedEvent } from '../capture/captureService.js';
import { identifierKey } from '../epcis/gs1.js';
import { canonicalKey, parseGs1Identifier } from '../identifiers/index.js';
import { commissionedPacks } from './commissionedPacks.js';
import type { PackRecord, PackStore } from './ports.js';

/** What an event does to packs on chain, by its business step. */
/** `receive` changes nothing on chain: the packs must already be this organisation's (verified on receipt). */
export type CustodyAction = 'transfer' | 'dispense' | 'decommission' | 'destroy' | 'receive';

/** One chain operation on packs of one lot. */
export interface CustodyOperation {
  action: CustodyAction;
  gtin: string;
  lot: string;
  serials: string[];
  /** For a transfer: the receiving organisation. */
  to?: Hex;
  /** The event that calls for it (its id, for messages and references). */
  eventId: string;
}

/** Looks up what the plan needs beyond the events themselves. */
export interface CustodyContext {
  self: Hex;
  packs: PackStore;
  /** The organisation a party (an SGLN or PGLN, as its canonical key) belongs to, if known here. */
  organizationOf(partyKey: string): Hex | undefined;
  /** The serialised packs (SGTIN canonical keys) aggregated in a container (an SSCC's canonical key) here. */
  childrenOf(parentKey: string): string[];
}

const unprocessable = (code: string, message: string, options: { details: Record<string, unknown> }) =>
  new CareLedgerError(code, message, { ...options, status: 422, issueType: 'business-rule' });

const STEP_ACTIONS: Partial<Record<string, CustodyAction>> = {
  shipping: 'transfer',
  receiving: 'receive',
  dispensing: 'dispense',
  decommissioning: 'decommission',
  destroying: 'destroy',
};

/** The owning party of a source or destination list, as a canonical key (or undefined). */
function owningParty(list: unknown, field: 'source' | 'destination'): string | undefined {
  if (!Array.isArray(list)) return undefined;
  for (const item of list as Record<string, unknown>[]) {
    const type = String(item.type ?? '');
    if (type === 'owning_party' || type.endsWith('SDT-owning_party') || type.endsWith(':owning_party')) {
      const value = item[field];
      if (typeof value === 'string') return identifierKey(value);
    }
  }
  return undefined;
}

/**
 * The chain operations the new events of a capture call for, at this organisation:
 * - `shipping` whose source owning party is this organisation and whose destination owning party is another member:
 *   the packs (listed, or inside the listed cases) change owner;
 * - `dispensing`, `decommissioning`, `destroying`: the packs leave commerce (from this organisation's stock).
 *
 * Events about others (a partner's shipping event shared with us, say) call for nothing. Packs are grouped by lot,
 * which is what the chain knows them by; a pack whose lot is not known here is an error that says how to fix it.
 */
export function planCustody(
  events: readonly { event: CapturedEvent; eventId: string }[],
  context: CustodyContext,
): CustodyOperation[] {
  const operations = new Map<string, CustodyOperation>();
  // What earlier events of the same capture establish (they are stored only after this plan is carried out).
  const localPacks = new Map<string, PackRecord>();
  const localContents = new Map<string, Set<string>>();
  const scope: Scope = {
    pack: (gtin, serial) => localPacks.get(`${gtin}/${serial}`) ?? context.packs.pack(gtin, serial),
    childrenOf: (key) => [...(localContents.get(key) ?? context.childrenOf(key))],
  };
  for (const { event, eventId } of events) {
    for (const p of commissionedPacks(event)) localPacks.set(`${p.gtin}/${p.serial}`, p);
    if (event.eventType === 'AggregationEvent' && typeof event.json.parentID === 'string') {
      const parent = identifierKey(event.json.parentID);
      const contents = new Set(scope.childrenOf(parent));
      const children = (Array.isArray(event.json.childEPCs) ? (event.json.childEPCs as unknown[]) : [])
        .filter((c): c is string => typeof c === 'string')
        .map(identifierKey);
      if (event.json.action === 'ADD' && ownSite(event, context)) {
        for (const child of children) checkKnownChild(child, eventId, scope);
      }
      if (event.json.action === 'ADD') for (const c of children) contents.add(c);
      else if (event.json.action === 'DELETE') {
        if (children.length === 0) contents.clear();
        for (const c of children) contents.delete(c);
      }
      localContents.set(parent, contents);
    }
    const action = event.bizStep ? STEP_ACTIONS[event.bizStep] : undefined;
    if (!action || event.eventType !== 'ObjectEvent') continue;
    let to: Hex | undefined;
    if (action === 'transfer') {
      const from = owningParty(event.json.sourceList, 'source');
      const dest = owningParty(event.json.destinationList, 'destination');
      if (!from || !dest) continue; // no change of ownership stated: a move within one owner's sites
      const fromOrg = context.organizationOf(from);
      if (!fromOrg || fromOrg.toLowerCase() !== context.self.toLowerCase()) continue; // not our sale
      to = context.organizationOf(dest);
      if (!to) {
        throw unprocessable(
          'SUPPLY.UNKNOWN_PARTY',
          `Event ${eventId} ships to owning party ${dest}, which is not mapped to a member organisation here: register it (PUT /supply/parties) before capturing the shipment.`,
          { details: { eventId, party: dest } },
        );
      }
      if (to.toLowerCase() === context.self.toLowerCase()) continue;
    } else if (!ownSite(event, context)) {
      continue; // receiving, dispensing or ending at a site a partner owns: that partner's event, shared with us
    }
    for (const pack of packsOf(event, scope)) {
      const known = scope.pack(pack.gtin, pack.serial);
      if (!known) {
        throw unprocessable(
          'SUPPLY.UNKNOWN_PACK',
          `Event ${eventId} names pack ${pack.gtin}/${pack.serial}, whose lot this gateway does not know: capture its commissioning event (or the seller's documents for it) first.`,
          { details: { eventId, gtin: pack.gtin, serial: pack.serial } },
        );
      }
      const key = `${action}|${to ?? ''}|${known.gtin}|${known.lot}`;
      let op = operations.get(key);
      if (!op) {
        op = { action, gtin: known.gtin, lot: known.lot, serials: [], eventId, ...(to ? { to } : {}) };
        operations.set(key, op);
      }
      if (!op.serials.includes(known.serial)) op.serials.push(known.serial);
    }
  }
  return [...operations.values()];
}

/** The serialised packs an event names: SGTINs in its epcList, and SGTINs inside any container it lists. */
/** Whether an event happened at one of this organisation's sites (or at a site not mapped to anyone). */
function ownSite(event: CapturedEvent, context: CustodyContext): boolean {
  const site = event.bizLocation ?? event.readPoint;
  const owner = site ? context.organizationOf(site) : undefined;
  return !owner || owner.toLowerCase() === context.self.toLowerCase();
}

/**
 * A child packed here must be known here: a serialised pack whose lot this gateway knows, or a container it packed
 * before (a case going onto a pallet). Aggregating something unknown would put a pack of no known origin into a
 * case that partners will trust.
 */
function checkKnownChild(child: string, eventId: string, scope: Scope): void {
  let id;
  try {
    id = parseGs1Identifier(child);
  } catch {
    return; // not a GS1 identifier: nothing the chain knows either
  }
  const known =
    id.kind === 'sgtin'
      ? scope.pack(id.gtin, id.serial) !== undefined
      : id.kind === 'sscc'
        ? scope.childrenOf(child).length > 0
        : true;
  if (!known) {
    throw unprocessable(
      'SUPPLY.UNKNOWN_CHILD',
      `Event ${eventId} packs ${child}, which this gateway does not know (${id.kind === 'sgtin' ? 'no commissioning event or seller documents for it' : 'no packing event filled it'}): capture those first; nothing was stored.`,
      { details: { eventId, child } },
    );
  }
}

interface Scope {
  pack(gtin: string, serial: string): PackRecord | undefined;
  childrenOf(parentKey: string): string[];
}

function packsOf(event: CapturedEvent, context: Scope): { gtin: string; serial: string }[] {
  const out: { gtin: string; serial: string }[] = [];
  const visit = (value: string, depth: number) => {
    let id;
    try {
      id = parseGs1Identifier(value);
    } catch {
      return;
    }
    if (id.kind === 'sgtin') out.push({ gtin: id.gtin, serial: id.serial });
    else if (id.kind === 'sscc' && depth < 4) {
      for (const child of context.childrenOf(canonicalKey(id))) visit(child, depth + 1);
    }
  };
  for (const epc of Array.isArray(event.json.epcList) ? (event.json.epcList as unknown[]) : []) {
    if (typeof epc === 'string') visit(epc, 0);
  }
  return out;
}
