/** What a notification is about. */
export type NotificationKind = 'recall' | 'suspect' | 'investigation' | 'received';

/** A notification to this organisation, derived from one SupplyChainRegistry transaction about one lot. */
export interface SupplyNotification {
  id: number;
  /** ISO time it was stored here. */
  createdAt: string;
  kind: NotificationKind;
  /** The lot by natural key when this gateway knows it, else null (only `lotId`). */
  gtin: string | null;
  lot: string | null;
  lotId: `0x${string}`;
  /** `lot`: the whole lot; `packs`: `packCount` packs, of which `serials` are the ones known here. */
  scope: 'lot' | 'packs';
  serials: string[];
  packCount: number;
  /** Who acted: the recalling manufacturer or regulator, the quarantining or investigating member, the sender. */
  by: `0x${string}`;
  outcome?: 'cleared' | 'illegitimate';
  /** The reason, report or transaction-information hash on chain. */
  reference: `0x${string}`;
  transactionHash: `0x${string}`;
  blockNumber: number;
  /** What happened and what to do. */
  message: string;
}

export type NewNotification = Omit<SupplyNotification, 'id' | 'createdAt'>;

/** Storage of notifications, the watcher's progress, and the lots this gateway knows packs of. */
export interface NotificationStore {
  /** The lots of the packs this gateway knows (commissioned here or received with their documents). */
  knownLots(): { gtin: string; lot: string }[];
  /** The serials of the packs of a lot this gateway knows. */
  serialsOf(gtin: string, lot: string): string[];
  /** The last block whose events were turned into notifications, for this registry, if any. */
  cursor(contract: string): number | undefined;
  /**
   * In one transaction: stores the notifications not stored yet (one per transaction, kind and lot) and sets the
   * cursor to `block`; returns those stored, with their ids, in order.
   */
  append(
    notifications: readonly NewNotification[],
    cursor: { contract: string; block: number },
    now: number,
  ): SupplyNotification[];
  /** Newest first; `before`: the id of the last notification of the previous page; `after`: only newer ones, oldest first. */
  list(page: {
    limit: number;
    before?: number | undefined;
    after?: number | undefined;
  }): SupplyNotification[];
}
