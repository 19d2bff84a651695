import { CareLedgerError } from '../../core/errors.js';
import type { Hex } from '../../core/hex.js';
import type { CapturedEvent } from '../capture/captureService.js';
import { parseGs1Identifier } from '../identifiers/index.js';
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
  // What the GS1 module read in the events' identifiers when the document was checked, by canonical key: packs and
  // cases named again (a case's contents, a shipment's cases) are not parsed again.
  const readings = new Map<string, Reading | null>();
  for (const { event } of events) {
    for (const { epc, kind, gtin, serial } of event.epcs)
      if (kind !== undefined) readings.set(epc, { kind, gtin, serial });
  }
  const organizations = new Map<string, Hex | undefined>();
  const scope: Scope = {
    pack: (gtin, serial) => localPacks.get(`${gtin}/${serial}`) ?? context.packs.pack(gtin, serial),
    childrenOf: (key) => [...(localContents.get(key) ?? context.childrenOf(key))],
    read: (key) => {
      let reading = readings.get(key);
      if (reading === undefined) {
        reading = readKey(key);
        readings.set(key, reading);
      }
      return reading;
    },
    organizationOf: (key) => {
      if (organizations.has(key)) return organizations.get(key);
      const organization = context.organizationOf(key);
      organizations.set(key, organization);
      return organization;
    },
  };
  for (const { event, eventId } of events) {
    for (const p of commissionedPacks(event)) localPacks.set(`${p.gtin}/${p.serial}`, p);
    const parent = event.eventType === 'AggregationEvent' ? parentOf(event) : undefined;
    if (parent !== undefined) {
      const contents = new Set(scope.childrenOf(parent));
      const children = event.epcs.filter((e) => e.role === 'child').map((e) => e.epc);
      if (event.action === 'ADD' && ownSite(event, context.self, scope)) {
        for (const child of children) checkKnownChild(child, eventId, scope);
      }
      if (event.action === 'ADD') for (const c of children) contents.add(c);
      else if (event.action === 'DELETE') {
        if (children.length === 0) contents.clear();
        for (const c of children) contents.delete(c);
      }
      localContents.set(parent, contents);
    }
    const action = event.bizStep ? STEP_ACTIONS[event.bizStep] : undefined;
    if (!action || event.eventType !== 'ObjectEvent') continue;
    let to: Hex | undefined;
    if (action === 'transfer') {
      const from = event.sourceOwner;
      const dest = event.destinationOwner;
      if (!from || !dest) continue; // no change of ownership stated: a move within one owner's sites
      const fromOrg = scope.organizationOf(from);
      if (!fromOrg || fromOrg.toLowerCase() !== context.self.toLowerCase()) continue; // not our sale
      to = scope.organizationOf(dest);
      if (!to) {
        throw unprocessable(
          'SUPPLY.UNKNOWN_PARTY',
          `Event ${eventId} ships to owning party ${dest}, which is not mapped to a member organisation here: register it (PUT /supply/parties) before capturing the shipment.`,
          { details: { eventId, party: dest } },
        );
      }
      if (to.toLowerCase() === context.self.toLowerCase()) continue;
    } else if (!ownSite(event, context.self, scope)) {
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

/** Whether an event happened at one of this organisation's sites (or at a site not mapped to anyone). */
function ownSite(event: CapturedEvent, self: Hex, scope: Scope): boolean {
  const site = event.bizLocation ?? event.readPoint;
  const owner = site ? scope.organizationOf(site) : undefined;
  return !owner || owner.toLowerCase() === self.toLowerCase();
}

/** An aggregation's container (its parentID as a canonical key), if it names one. */
function parentOf(event: CapturedEvent): string | undefined {
  for (const e of event.epcs) if (e.role === 'parent') return e.epc;
  return undefined;
}

/** What the GS1 module reads in an identifier: its kind, and an SGTIN's GTIN and serial. */
interface Reading {
  kind: string;
  gtin?: string | undefined;
  serial?: string | undefined;
}

/** A canonical key read by the GS1 module; null when it is not a GS1 identifier. */
function readKey(key: string): Reading | null {
  try {
    const id = parseGs1Identifier(key);
    return id.kind === 'sgtin' ? { kind: id.kind, gtin: id.gtin, serial: id.serial } : { kind: id.kind };
  } catch {
    return null;
  }
}

/**
 * A child packed here must be known here: a serialised pack whose lot this gateway knows, or a container it packed
 * before (a case going onto a pallet). Aggregating something unknown would put a pack of no known origin into a
 * case that partners will trust.
 */
function checkKnownChild(child: string, eventId: string, scope: Scope): void {
  const id = scope.read(child);
  if (id === null) return; // not a GS1 identifier: nothing the chain knows either
  const known =
    id.kind === 'sgtin'
      ? scope.pack(id.gtin as string, id.serial as string) !== undefined
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
  /** What the GS1 module reads in a canonical key (remembered for the plan). */
  read(key: string): Reading | null;
  /** The member organisation of a party or site (remembered for the plan). */
  organizationOf(partyKey: string): Hex | undefined;
}

/** The serialised packs an event names: SGTINs in its epcList, and SGTINs inside any container it lists. */
function packsOf(event: CapturedEvent, scope: Scope): { gtin: string; serial: string }[] {
  const out: { gtin: string; serial: string }[] = [];
  const visit = (key: string, depth: number) => {
    const id = scope.read(key);
    if (id === null) return;
    if (id.kind === 'sgtin') out.push({ gtin: id.gtin as string, serial: id.serial as string });
    else if (id.kind === 'sscc' && depth < 4) {
      for (const child of scope.childrenOf(key)) visit(child, depth + 1);
    }
  };
  for (const e of event.epcs) if (e.role === 'epc') visit(e.epc, 0);
  return out;
}
