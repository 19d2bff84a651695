import type { PublicClient } from 'viem';
import { CareLedgerError } from '../core/errors.js';
import type { Hex } from '../core/hex.js';
import type { Logger } from '../core/logger.js';
import { PollingLoop } from '../core/pollingLoop.js';
import { withTimeout } from '../core/withTimeout.js';
import type {
  MirrorCursor,
  SupplyChainMirrorStore,
  SupplyChainState,
  SupplyChainView,
} from '../supply-chain/verification/ports.js';
import {
  applyMirrorEvent,
  MIRROR_EVENTS,
  MIRROR_INCONSISTENT,
  mirrorEventsOf,
  TIMED_EVENTS,
  type DecodedRegistryLog,
} from './supplyChainMirrorEvents.js';
import { watchNewHeads, type NewHeadsSubscription } from './supplyChainMirrorHeads.js';
import { SupplyChainMirrorViews } from './supplyChainMirrorView.js';

export interface SupplyChainMirrorOptions {
  publicClient: PublicClient;
  /** The registry mirrored: its address is read at every poll, so a redeployment starts a new mirror. */
  registry: { contractAddress(): Hex };
  store: SupplyChainMirrorStore;
  /** The registry's deployment block (0 when unknown): where a new mirror starts reading. */
  startBlock: () => number;
  /** How often the chain's head is polled (default 250 ms). */
  pollingIntervalMs?: number | undefined;
  /** How old the last successful poll may be for the mirror to answer (default 4 polling intervals, ≥ 1 s). */
  maxAgeMs?: number | undefined;
  /** Most blocks read in one `eth_getLogs` (default 2,000). */
  maxBlockRange?: number | undefined;
  /** Longest wait between retries after RPC failures (default 30 s). */
  maxBackoffMs?: number | undefined;
  /** A WebSocket endpoint announcing new blocks (`newHeads`): each announcement is polled at once. */
  newHeadsUrl?: string | null | undefined;
  logger?: Pick<Logger, 'warn'> | undefined;
  now?: () => number;
}

/** What `status()` reports (health, tests). */
export interface SupplyChainMirrorStatus {
  contract: Hex | null;
  /** The last block applied. */
  block: number;
  /** The highest block the chain announced or this gateway wrote in. */
  target: number;
  /** Milliseconds since the last successful poll, null before the first. */
  lastPollAgeMs: number | null;
  current: boolean;
}

/**
 * A local mirror of the SupplyChainRegistry's products, lots and packs, kept current from the registry's events, so
 * product verification reads no chain ({@link SupplyChainState}).
 *
 * It polls the chain's head every `pollingIntervalMs` (and at once when `newHeadsUrl` announces a block), reads the
 * new blocks' registry events in chunks of `maxBlockRange` and applies each chunk with the cursor (last block and
 * its hash) in one store transaction. It starts from the stored cursor of the registry's address, else from the
 * registry's deployment block; a chain that lost blocks (head below the cursor, or another block at the cursor's
 * height) starts it afresh. RPC failures back off, doubling up to `maxBackoffMs`.
 *
 * It answers only while current: the last poll succeeded within `maxAgeMs`, and it has applied every block the
 * chain announced and every block this gateway's own writes were mined in ({@link caughtUpTo}); while a catch-up is
 * under way an answer waits for it, at most a polling interval. Otherwise the caller reads the chain.
 */
export class SupplyChainMirror implements SupplyChainState {
  private readonly options: SupplyChainMirrorOptions;
  private readonly interval: number;
  private readonly maxAgeMs: number;
  private readonly views = new SupplyChainMirrorViews();
  private contract: Hex | null = null;
  private cursor: MirrorCursor = { block: -1, blockHash: null };
  private lastSuccessAt: number | null = null;
  /** The highest head the chain announced (by a poll or a new-heads message). */
  private announcedHead = -1;
  /** The highest block one of this gateway's own writes was mined in. */
  private requiredBlock = -1;
  private polling: Promise<boolean> | null = null;
  private readonly poller: PollingLoop;
  private heads: NewHeadsSubscription | null = null;
  /** The block this mirror started reading from, when known (a resumed one: unknown, taken as after 0). */
  private startedAt = 1;

  constructor(options: SupplyChainMirrorOptions) {
    this.options = options;
    this.interval = options.pollingIntervalMs ?? 250;
    this.maxAgeMs = options.maxAgeMs ?? Math.max(4 * this.interval, 1_000);
    this.poller = new PollingLoop({
      intervalMs: this.interval,
      maxBackoffMs: options.maxBackoffMs ?? 30_000,
      poll: () => this.poll(),
      onError: (error, retryInMs) =>
        this.options.logger?.warn(
          { err: error instanceof Error ? error.message.split('\n')[0] : String(error), retryInMs },
          'supply-chain mirror: poll failed; verifications read the chain until it catches up',
        ),
    });
  }

  /** Opens the stored cursor, then polls in the background (the first answers come once it has caught up). */
  start(): void {
    this.open(this.options.registry.contractAddress());
    this.poller.start();
    if (this.options.newHeadsUrl) {
      this.heads = watchNewHeads(
        this.options.newHeadsUrl,
        {
          onHead: (block) => {
            this.announcedHead = Math.max(this.announcedHead, block);
            this.poller.wake();
          },
          onDown: () => undefined, // polling goes on; announcements only make it sooner
        },
        this.options.logger,
      );
    }
  }

  async stop(): Promise<void> {
    this.heads?.stop();
    await this.poller.stop();
    await this.polling?.catch(() => undefined);
  }

  status(): SupplyChainMirrorStatus {
    const now = this.now();
    return {
      contract: this.contract,
      block: this.cursor.block,
      target: Math.max(this.announcedHead, this.requiredBlock),
      lastPollAgeMs: this.lastSuccessAt === null ? null : now - this.lastSuccessAt,
      current: this.usable(now) && this.cursor.block >= Math.max(this.announcedHead, this.requiredBlock),
    };
  }

  async current(): Promise<SupplyChainView | null> {
    if (!this.usable(this.now())) return null;
    const target = Math.max(this.announcedHead, this.requiredBlock);
    if (this.cursor.block < target) {
      try {
        await withTimeout(this.catchUp(target), this.interval);
      } catch {
        return null; // not caught up in time: the chain answers this one
      }
      if (!this.usable(this.now()) || this.cursor.block < target) return null;
    }
    const contract = this.contract as Hex;
    return this.views.view(contract, this.options.store.state(contract), this.cursor.block);
  }

  /**
   * Called once one of this gateway's writes to the registry is mined in `block`: the mirror is not used again until
   * it has applied that block, and it applies it now (a failure is logged: the write stands, verifications read
   * the chain until the poller gets there).
   */
  async caughtUpTo(block: number): Promise<void> {
    if (this.poller.stopped) return;
    this.requiredBlock = Math.max(this.requiredBlock, block);
    try {
      await withTimeout(this.catchUp(block), Math.max(2_000, 4 * this.interval));
    } catch (error) {
      this.options.logger?.warn(
        { block, err: error instanceof Error ? error.message.split('\n')[0] : String(error) },
        'supply-chain mirror: could not catch up with this gateway’s own write; verifications read the chain meanwhile',
      );
    }
  }

  /** One poll (shared by concurrent callers): applies up to `maxBlockRange` new blocks; resolves whether more wait. */
  poll(): Promise<boolean> {
    if (!this.polling) this.polling = this.pollOnce().finally(() => (this.polling = null));
    return this.polling;
  }

  /** The registry mirrored now and the last block applied. */
  get lastAppliedBlock(): number {
    return this.cursor.block;
  }

  private usable(now: number): boolean {
    return (
      !this.poller.stopped &&
      this.contract !== null &&
      this.contract === this.options.registry.contractAddress().toLowerCase() &&
      this.lastSuccessAt !== null &&
      now - this.lastSuccessAt <= this.maxAgeMs
    );
  }

  private async catchUp(block: number): Promise<void> {
    // A poll already under way may have read the head before `block` was mined: then one more.
    for (let attempt = 0; this.cursor.block < block; attempt++) {
      if (this.poller.stopped || attempt >= 5) {
        throw new Error(`the mirror is at block ${this.cursor.block}, not yet ${block}`);
      }
      await this.poll();
    }
  }

  /** Makes `contract` the registry mirrored: its stored cursor, else a new mirror from its deployment block. */
  private open(address: Hex): void {
    const contract = address.toLowerCase() as Hex;
    const stored = this.options.store.cursor(contract);
    this.contract = contract;
    this.requiredBlock = -1;
    this.lastSuccessAt = null;
    if (stored) {
      this.cursor = stored;
    } else {
      this.restart(Math.max(0, this.options.startBlock()));
    }
  }

  /** Forgets the mirrored state and reads the registry again from `fromBlock`. */
  private restart(fromBlock: number): void {
    this.startedAt = fromBlock;
    this.cursor = { block: fromBlock - 1, blockHash: null };
    this.options.store.restart(this.contract as Hex, this.cursor);
  }

  private async pollOnce(): Promise<boolean> {
    const { publicClient: client, store } = this.options;
    const address = this.options.registry.contractAddress().toLowerCase() as Hex;
    if (address !== this.contract) this.open(address);
    const contract = address;
    const latest = await client.getBlock({ blockTag: 'latest' });
    const head = Number(latest.number);
    const known = this.cursor;
    if (head < known.block) return this.afresh(head, 'the chain lost blocks (restarted from an older state)');
    if (head === known.block && known.blockHash !== null && latest.hash !== known.blockHash) {
      return this.afresh(head, 'the chain replaced the last block it had applied');
    }
    this.announcedHead = Math.max(this.announcedHead, head);
    const from = known.block + 1;
    if (head < from) {
      this.lastSuccessAt = this.now();
      return false;
    }
    const to = Math.min(head, from + (this.options.maxBlockRange ?? 2_000) - 1);
    const [logs, last, atCursor] = await Promise.all([
      client.getLogs({
        address: contract,
        events: MIRROR_EVENTS,
        fromBlock: BigInt(from),
        toBlock: BigInt(to),
      }),
      to === head ? latest : client.getBlock({ blockNumber: BigInt(to) }),
      known.blockHash !== null && known.block >= 0
        ? client.getBlock({ blockNumber: BigInt(known.block) })
        : Promise.resolve(null),
    ]);
    if (this.contract !== contract || this.cursor !== known) return true; // repointed or restarted meanwhile
    if (atCursor && atCursor.hash !== known.blockHash) {
      return this.afresh(head, 'the chain replaced blocks it had applied');
    }
    const decoded = logs as unknown as (DecodedRegistryLog & { blockTimestamp?: bigint | null })[];
    const times = await this.blockTimes(decoded, { block: to, time: Number(last.timestamp) });
    const events = mirrorEventsOf(decoded, (block) => times.get(block) ?? 0);
    const next: MirrorCursor = { block: to, blockHash: last.hash as Hex };
    try {
      store.apply(contract, next, (state) => {
        for (const event of events) applyMirrorEvent(state, event);
      });
    } catch (error) {
      if (error instanceof CareLedgerError && error.code === MIRROR_INCONSISTENT && this.startedAt > 0) {
        // The deployment block given was too late (nothing was applied): read the whole chain instead.
        this.options.logger?.warn(
          { err: error.message },
          'supply-chain mirror: reading the registry from block 0',
        );
        this.restart(0);
        return true;
      }
      throw error;
    }
    this.cursor = next;
    this.lastSuccessAt = this.now();
    return to < head;
  }

  /** The chain is not the one the mirror applied (`why`): forgets it and reads the registry again from its start. */
  private afresh(head: number, why: string): boolean {
    this.options.logger?.warn(
      { head, lastAppliedBlock: this.cursor.block },
      `supply-chain mirror: ${why}; mirroring it afresh`,
    );
    this.announcedHead = head;
    this.requiredBlock = -1;
    this.restart(Math.max(0, this.options.startBlock()));
    return true;
  }

  /** The UNIX times of the blocks holding timed events: from the logs when the node gives them, else read. */
  private async blockTimes(
    logs: readonly (DecodedRegistryLog & { blockTimestamp?: bigint | null })[],
    last: { block: number; time: number },
  ): Promise<Map<number, number>> {
    const times = new Map<number, number>([[last.block, last.time]]);
    const missing = new Set<number>();
    for (const log of logs) {
      if (log.blockNumber === null || !TIMED_EVENTS.has(log.eventName)) continue;
      const block = Number(log.blockNumber);
      if (typeof log.blockTimestamp === 'bigint') times.set(block, Number(log.blockTimestamp));
      else if (!times.has(block)) missing.add(block);
    }
    await Promise.all(
      [...missing].map(async (block) => {
        const found = await this.options.publicClient.getBlock({ blockNumber: BigInt(block) });
        times.set(block, Number(found.timestamp));
      }),
    );
    return times;
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }
}
