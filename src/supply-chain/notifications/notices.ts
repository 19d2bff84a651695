import type { SupplyChainNoticeEvent } from '../custody/ports.js';
import type { NewNotification, NotificationKind } from './ports.js';

const KIND: Record<SupplyChainNoticeEvent['event'], NotificationKind> = {
  LotRecalled: 'recall',
  LotMarkedSuspect: 'suspect',
  PackMarkedSuspect: 'suspect',
  LotInvestigated: 'investigation',
  PackInvestigated: 'investigation',
  PackTransferred: 'received',
};

export interface NoticeContext {
  /** This organisation (lower-case). */
  self: `0x${string}`;
  /** A regulator hears of every illegitimate finding, whether it knows the lot or not. */
  regulator: boolean;
}

/**
 * Turns the registry's events into this organisation's notifications: one per transaction, kind and lot (a
 * quarantine of twelve packs is one notification). Recalls, quarantines and investigations concern it when it knows
 * packs of the lot (it holds or held them, or made them); transfers when it is the recipient.
 */
export function notificationsOf(
  events: readonly SupplyChainNoticeEvent[],
  context: NoticeContext,
): NewNotification[] {
  const groups = new Map<string, SupplyChainNoticeEvent[]>();
  for (const event of events) {
    const kind = KIND[event.event];
    const relevant =
      kind === 'received'
        ? event.to?.toLowerCase() === context.self
        : event.gtin !== null || (context.regulator && event.outcome === 'illegitimate');
    if (!relevant) continue;
    const key = `${event.transactionHash}|${kind}|${event.lotId}|${event.outcome ?? ''}`;
    const group = groups.get(key);
    if (group) group.push(event);
    else groups.set(key, [event]);
  }
  return [...groups.values()].map((group) => toNotification(group));
}

function toNotification(group: SupplyChainNoticeEvent[]): NewNotification {
  const first = group[0] as SupplyChainNoticeEvent;
  const kind = KIND[first.event];
  const scope = first.packId === null ? 'lot' : 'packs';
  const serials = group.flatMap((e) => (e.serial === null ? [] : [e.serial]));
  const packCount = scope === 'lot' ? 0 : group.length;
  const lotName = first.gtin === null ? `lot ${first.lotId}` : `lot ${first.lot} of GTIN ${first.gtin}`;
  const packs =
    scope === 'lot'
      ? `the whole ${lotName}`
      : `${packCount} pack${packCount === 1 ? '' : 's'} of ${lotName}${serials.length > 0 ? ` (serials ${serials.join(', ')})` : ''}`;
  const message =
    kind === 'recall'
      ? `${first.by} recalled ${lotName}: stop selling and dispensing its packs, and return them as the recall instructs.`
      : kind === 'suspect'
        ? `${first.by} quarantined ${packs} as suspect product: do not sell or dispense them until the investigation is concluded.`
        : kind === 'investigation'
          ? first.outcome === 'illegitimate'
            ? `${first.by} found ${packs} illegitimate: do not sell or dispense them; keep them aside and report them (the notification report's hash is ${first.reference}).`
            : `${first.by} cleared ${packs} after investigation: the quarantine is lifted.`
          : `You received ${packs} from ${first.by} (transaction information hash ${first.reference}).`;
  return {
    kind,
    gtin: first.gtin,
    lot: first.lot,
    lotId: first.lotId,
    scope,
    serials,
    packCount,
    by: first.by,
    ...(first.outcome ? { outcome: first.outcome } : {}),
    reference: first.reference,
    transactionHash: first.transactionHash,
    blockNumber: first.blockNumber,
    message,
  };
}
