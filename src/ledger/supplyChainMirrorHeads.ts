import { getWebSocketRpcClient } from 'viem/utils';
import type { Logger } from '../core/logger.js';

/** Told of every new block the chain announces, and when the announcements stop (the socket went away). */
export interface NewHeadsListener {
  onHead(blockNumber: number): void;
  onDown(): void;
}

export interface NewHeadsSubscription {
  stop(): void;
}

const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 30_000;

/** One socket per URL, shared by the listeners of this process (the gateways of a test share one chain). */
const feeds = new Map<string, NewHeadsFeed>();

/**
 * Listens to `eth_subscribe("newHeads")` at the WebSocket endpoint `url` (anvil serves it on its HTTP port; other
 * nodes on their own WebSocket port). A lost or refused connection is reported to the listeners (`onDown`) and
 * retried with a doubling delay up to 30 s, for as long as anyone listens.
 */
export function watchNewHeads(
  url: string,
  listener: NewHeadsListener,
  logger?: Pick<Logger, 'warn'>,
): NewHeadsSubscription {
  let feed = feeds.get(url);
  if (!feed) {
    feed = new NewHeadsFeed(url, logger);
    feeds.set(url, feed);
  }
  const joined = feed;
  joined.add(listener);
  return {
    stop() {
      if (joined.remove(listener)) return;
      feeds.delete(url);
      joined.close();
    },
  };
}

class NewHeadsFeed {
  private readonly listeners = new Set<NewHeadsListener>();
  private client: Awaited<ReturnType<typeof getWebSocketRpcClient>> | null = null;
  private retry: ReturnType<typeof setTimeout> | null = null;
  private retryMs = FIRST_RETRY_MS;
  private connecting = false;
  private closed = false;
  private warned = false;

  constructor(
    private readonly url: string,
    private readonly logger: Pick<Logger, 'warn'> | undefined,
  ) {}

  add(listener: NewHeadsListener): void {
    this.listeners.add(listener);
    if (!this.client && !this.connecting && !this.retry) void this.connect();
  }

  /** Removes `listener`; true while others still listen. */
  remove(listener: NewHeadsListener): boolean {
    this.listeners.delete(listener);
    return this.listeners.size > 0;
  }

  close(): void {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    this.client?.close();
    this.client = null;
  }

  private async connect(): Promise<void> {
    this.connecting = true;
    try {
      // Reconnection is ours (viem's would hide the gap): each new socket subscribes afresh.
      const client = await getWebSocketRpcClient(this.url, {
        reconnect: false,
        keepAlive: { interval: 10_000 },
      });
      if (this.closed) {
        client.close();
        return;
      }
      this.client = client;
      await new Promise<void>((resolve, reject) => {
        client.request({
          body: { method: 'eth_subscribe', params: ['newHeads'] },
          onResponse: (message) => {
            if (message.error) return reject(new Error(message.error.message));
            if (typeof message.id === 'number') return resolve(); // the subscription's id
            const number = (message as { params?: { result?: { number?: string } } }).params?.result?.number;
            if (typeof number === 'string') this.head(Number(BigInt(number)));
          },
          onError: (error) => {
            reject(error instanceof Error ? error : new Error('socket error'));
            this.down(error);
          },
        });
      });
      this.retryMs = FIRST_RETRY_MS;
      this.warned = false;
    } catch (error) {
      this.down(error);
    } finally {
      this.connecting = false;
    }
  }

  private head(blockNumber: number): void {
    for (const listener of this.listeners) listener.onHead(blockNumber);
  }

  private down(error: unknown): void {
    for (const listener of this.listeners) listener.onDown();
    const client = this.client;
    this.client = null;
    client?.close(); // also drops it from viem's socket cache, so the retry opens a new one
    if (this.closed || this.retry || this.listeners.size === 0) return;
    if (!this.warned) {
      this.warned = true; // once per outage: an endpoint without WebSocket would otherwise log every 30 s
      this.logger?.warn(
        { url: this.url, err: error instanceof Error ? error.message.split('\n')[0] : String(error) },
        'new-block announcements unavailable; the supply-chain mirror relies on polling until they return',
      );
    }
    this.retry = setTimeout(() => {
      this.retry = null;
      void this.connect();
    }, this.retryMs);
    this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
  }
}
