import { ConflictError } from '../core/errors.js';
import type { Hex } from '../core/hex.js';
import type {
  MirroredLot,
  MirroredPack,
  SupplyChainMirrorState,
} from '../supply-chain/verification/ports.js';
import { supplyChainRegistryAbi } from './generated/contracts.js';
import { gtinFromBytes14 } from './supplyChainIds.js';

/**
 * The SupplyChainRegistry's events as state changes of its mirror: each changes exactly what the contract's
 * function that emitted it changed in `_products`, `_lots` and `_packs` (see `contracts/SupplyChainRegistry.sol`),
 * so applying every event in chain order gives what `productOf`, `lotOf` and `packStatus` answer.
 */

/** Every event of the registry (a poll asks for all of them in one `eth_getLogs`). */
export const MIRROR_EVENTS = supplyChainRegistryAbi.filter(
  (item): item is Extract<(typeof supplyChainRegistryAbi)[number], { type: 'event' }> =>
    item.type === 'event',
);

const ZERO_ADDRESS = `0x${'00'.repeat(20)}` as Hex;
const ILLEGITIMATE = 1; // InvestigationOutcome.Illegitimate

/** Where an event sits in the chain (events are applied in this order). */
interface Position {
  blockNumber: number;
  logIndex: number;
}

/** What `LotCommissioned` tells of the new lot: its fields fixed at commissioning (the others start at defaults). */
type CommissionedLotField = 'gtin' | 'manufacturer' | 'serialsRoot' | 'packCount' | 'expiry';

/** A registry event as a change of the mirrored state; `time` is its block's UNIX time where the state keeps it. */
export type MirrorEvent = Position &
  (
    | { kind: 'ProductRegistered'; gtin: string; manufacturer: Hex; metadataHash: Hex; time: number }
    | ({ kind: 'LotCommissioned'; lotId: Hex; time: number } & Pick<MirroredLot, CommissionedLotField>)
    | { kind: 'PackTransferred'; lotId: Hex; packId: Hex; to: Hex; time: number }
    | { kind: 'PackEnded'; lotId: Hex; packId: Hex; state: 'dispensed' | 'decommissioned' | 'destroyed' }
    | { kind: 'PackMarkedSuspect'; lotId: Hex; packId: Hex }
    | { kind: 'PackInvestigated'; lotId: Hex; packId: Hex; illegitimate: boolean }
    | { kind: 'LotMarkedSuspect'; lotId: Hex; by: Hex }
    | { kind: 'LotInvestigated'; lotId: Hex; illegitimate: boolean }
    | { kind: 'LotRecalled'; lotId: Hex; time: number }
  );

/** The events whose block time the state keeps (the poller fetches those blocks' times when logs lack them). */
export const TIMED_EVENTS: ReadonlySet<string> = new Set([
  'ProductRegistered',
  'LotCommissioned',
  'PackTransferred',
  'LotRecalled',
]);

/** A decoded log as viem's `getLogs` with {@link MIRROR_EVENTS} returns it. */
export interface DecodedRegistryLog {
  eventName: string;
  args: Record<string, unknown>;
  blockNumber: bigint | null;
  logIndex: number | null;
}

const hex = (value: unknown) => String(value).toLowerCase() as Hex;
const address = (value: unknown) => String(value) as Hex; // viem decodes addresses checksummed

/**
 * The mirror events of `logs` (pending logs and events this mirror does not need are left out), in chain order.
 * `timeOf` gives the UNIX time of a block holding a timed event.
 */
export function mirrorEventsOf(
  logs: readonly DecodedRegistryLog[],
  timeOf: (blockNumber: number) => number,
): MirrorEvent[] {
  const events: MirrorEvent[] = [];
  for (const log of logs) {
    if (log.blockNumber === null || log.logIndex === null) continue;
    const at = { blockNumber: Number(log.blockNumber), logIndex: log.logIndex };
    const a = log.args;
    const time = () => timeOf(at.blockNumber);
    switch (log.eventName) {
      case 'ProductRegistered':
        events.push({
          ...at,
          kind: 'ProductRegistered',
          gtin: gtinFromBytes14(hex(a.gtin)),
          manufacturer: address(a.manufacturer),
          metadataHash: hex(a.metadataHash),
          time: time(),
        });
        break;
      case 'LotCommissioned':
        events.push({
          ...at,
          kind: 'LotCommissioned',
          lotId: hex(a.lotId),
          gtin: gtinFromBytes14(hex(a.gtin)),
          manufacturer: address(a.manufacturer),
          serialsRoot: hex(a.serialsRoot),
          packCount: Number(a.packCount),
          expiry: Number(a.expiry),
          time: time(),
        });
        break;
      case 'PackTransferred':
        events.push({
          ...at,
          kind: 'PackTransferred',
          lotId: hex(a.lotId),
          packId: hex(a.packId),
          to: address(a.to),
          time: time(),
        });
        break;
      case 'PackDispensed':
      case 'PackDecommissioned':
      case 'PackDestroyed':
        events.push({
          ...at,
          kind: 'PackEnded',
          lotId: hex(a.lotId),
          packId: hex(a.packId),
          state:
            log.eventName === 'PackDispensed'
              ? 'dispensed'
              : log.eventName === 'PackDestroyed'
                ? 'destroyed'
                : 'decommissioned',
        });
        break;
      case 'PackMarkedSuspect':
        events.push({ ...at, kind: 'PackMarkedSuspect', lotId: hex(a.lotId), packId: hex(a.packId) });
        break;
      case 'PackInvestigated':
        events.push({
          ...at,
          kind: 'PackInvestigated',
          lotId: hex(a.lotId),
          packId: hex(a.packId),
          illegitimate: Number(a.outcome) === ILLEGITIMATE,
        });
        break;
      case 'LotMarkedSuspect':
        events.push({ ...at, kind: 'LotMarkedSuspect', lotId: hex(a.lotId), by: address(a.by) });
        break;
      case 'LotInvestigated':
        events.push({
          ...at,
          kind: 'LotInvestigated',
          lotId: hex(a.lotId),
          illegitimate: Number(a.outcome) === ILLEGITIMATE,
        });
        break;
      case 'LotRecalled':
        events.push({ ...at, kind: 'LotRecalled', lotId: hex(a.lotId), time: time() });
        break;
      default:
        break; // not an event of the registry's state
    }
  }
  return events.sort((x, y) => x.blockNumber - y.blockNumber || x.logIndex - y.logIndex);
}

/** Code of the error thrown when an event contradicts the mirrored state (it did not start early enough). */
export const MIRROR_INCONSISTENT = 'SUPPLY.MIRROR_INCONSISTENT';

/** Applies one event to `state`, exactly as the contract changed its storage when it emitted it. */
export function applyMirrorEvent(state: SupplyChainMirrorState, event: MirrorEvent): void {
  switch (event.kind) {
    case 'ProductRegistered':
      state.setProduct(event.gtin, {
        manufacturer: event.manufacturer,
        registeredAt: event.time,
        lotCount: 0,
        metadataHash: event.metadataHash,
      });
      return;
    case 'LotCommissioned': {
      const product = state.product(event.gtin);
      if (!product)
        throw inconsistent(`lot ${event.lotId} of GTIN ${event.gtin}, a product never registered`);
      state.setProduct(event.gtin, { ...product, lotCount: product.lotCount + 1 });
      state.setLot(event.lotId, {
        gtin: event.gtin,
        manufacturer: event.manufacturer,
        serialsRoot: event.serialsRoot,
        packCount: event.packCount,
        expiry: event.expiry,
        commissionedAt: event.time,
        recalled: false,
        recalledAt: 0,
        suspect: false,
        illegitimate: false,
        quarantinedBy: ZERO_ADDRESS,
      });
      return;
    }
    case 'LotMarkedSuspect':
    case 'LotInvestigated':
    case 'LotRecalled': {
      const lot = requireLot(state, event.lotId);
      if (event.kind === 'LotMarkedSuspect')
        state.setLot(event.lotId, { ...lot, suspect: true, quarantinedBy: event.by });
      else if (event.kind === 'LotInvestigated') {
        state.setLot(event.lotId, {
          ...lot,
          suspect: false,
          illegitimate: event.illegitimate,
          quarantinedBy: ZERO_ADDRESS,
        });
      } else state.setLot(event.lotId, { ...lot, recalled: true, recalledAt: event.time });
      return;
    }
    default: {
      // A pack's first write creates its record, owned by the lot's manufacturer (the contract's `_loadPack`).
      const lot = requireLot(state, event.lotId);
      const pack: MirroredPack = state.pack(event.lotId, event.packId) ?? {
        owner: lot.manufacturer,
        state: 'active',
        suspect: false,
        illegitimate: false,
        lastTransferAt: 0,
      };
      if (event.kind === 'PackTransferred') {
        state.setPack(event.lotId, event.packId, { ...pack, owner: event.to, lastTransferAt: event.time });
      } else if (event.kind === 'PackEnded') {
        state.setPack(event.lotId, event.packId, { ...pack, state: event.state });
      } else if (event.kind === 'PackMarkedSuspect') {
        state.setPack(event.lotId, event.packId, { ...pack, suspect: true });
      } else {
        state.setPack(event.lotId, event.packId, {
          ...pack,
          suspect: false,
          illegitimate: event.illegitimate,
        });
      }
    }
  }
}

function requireLot(state: SupplyChainMirrorState, lotId: Hex) {
  const lot = state.lot(lotId);
  if (!lot) throw inconsistent(`an event of lot ${lotId}, never commissioned`);
  return lot;
}

const inconsistent = (what: string) =>
  new ConflictError(
    MIRROR_INCONSISTENT,
    `The SupplyChainRegistry mirror met ${what} in its state: it did not start from the registry's deployment.`,
  );
