import type { Logger } from '../../core/logger.js';
import { PollingLoop } from '../../core/pollingLoop.js';
import type { SuspectLedger } from '../custody/ports.js';
import type { NotificationHub } from './notificationHub.js';
import { notificationsOf } from './notices.js';
import type { NotificationStore } from './ports.js';

export interface NotificationWatcherOptions {
  ledger: Pick<SuspectLedger, 'blockNumber' | 'contract' | 'noticeEvents'>;
  store: NotificationStore;
  hub: NotificationHub;
  /** This organisation. */
  self: `0x${string}`;
  regulator?: boolean | undefined;
  pollingIntervalMs?: number | undefined;
  maxBlockRange?: number | undefined;
  maxBackoffMs?: number | undefined;
  logger?: Pick<Logger, 'warn'> | undefined;
  now?: () => number;
}

/**
 * Follows the SupplyChainRegistry by polling its logs and stores a notification for every recall, quarantine and
 * investigation of a lot this gateway knows packs of, and every transfer to this organisation; each stored
 * notification goes to the hub (the event streams). It resumes after the last block it processed for the registry;
 * the first time (or after a redeployment of the registry) from the block after the node's start. Notifications and
 * its progress commit together, so each is stored once. RPC failures back off (doubling) and are retried.
 */
export class NotificationWatcher {
  private readonly options: NotificationWatcherOptions;
  private readonly poller: PollingLoop;
  private next = 0;
  private contract = '';

  constructor(options: NotificationWatcherOptions) {
    this.options = options;
    this.poller = new PollingLoop({
      intervalMs: options.pollingIntervalMs ?? 1_000,
      maxBackoffMs: options.maxBackoffMs ?? 30_000,
      poll: () => this.poll(),
      onError: (error) =>
        this.options.logger?.warn(
          { err: error instanceof Error ? error.message.split('\n')[0] : String(error) },
          'supply notifications: retrying',
        ),
    });
  }

  /** Reads the starting block, then polls in the background. */
  async start(): Promise<void> {
    await this.reset();
    this.poller.start();
  }

  /** The last block processed. */
  get lastProcessedBlock(): number {
    return this.next - 1;
  }

  stop(): Promise<void> {
    return this.poller.stop();
  }

  /** One poll: processes up to `maxBlockRange` new blocks; resolves whether more are waiting. */
  async poll(): Promise<boolean> {
    const { ledger, store } = this.options;
    if (ledger.contract().toLowerCase() !== this.contract) await this.reset();
    const head = await ledger.blockNumber();
    if (head < this.next - 1) {
      this.options.logger?.warn(
        { head, lastProcessedBlock: this.next - 1 },
        'supply notifications: the chain lost blocks (restarted from an older state); continuing from its head',
      );
      this.next = head + 1;
    }
    if (head < this.next) return false;
    const toBlock = Math.min(head, this.next + (this.options.maxBlockRange ?? 2_000) - 1);
    const lots = store.knownLots();
    const events = await ledger.noticeEvents({
      fromBlock: this.next,
      toBlock,
      recipient: this.options.self,
      lots,
      serialsOf: (gtin, lot) => store.serialsOf(gtin, lot),
    });
    const notifications = notificationsOf(events, {
      self: this.options.self.toLowerCase() as `0x${string}`,
      regulator: this.options.regulator ?? false,
    });
    const stored = store.append(
      notifications,
      { contract: this.contract, block: toBlock },
      (this.options.now ?? Date.now)(),
    );
    this.next = toBlock + 1;
    for (const n of stored) this.options.hub.publish(n);
    return toBlock < head;
  }

  private async reset(): Promise<void> {
    this.contract = this.options.ledger.contract().toLowerCase();
    const cursor = this.options.store.cursor(this.contract);
    this.next = cursor !== undefined ? cursor + 1 : (await this.options.ledger.blockNumber()) + 1;
  }
}
