export interface PollingLoopOptions {
  /** How long to wait after a poll that left nothing waiting (ms). */
  intervalMs: number;
  /** Longest wait after failed polls: the wait starts at `intervalMs` and doubles up to this (at least `intervalMs`). */
  maxBackoffMs: number;
  /** One poll: resolves whether more work is waiting (then the next poll runs at once); rejects when it failed. */
  poll(): Promise<boolean>;
  /** A poll failed while running (not once stopping); the next poll runs in `retryInMs`. */
  onError(error: unknown, retryInMs: number): void;
}

/**
 * Polls in the background until stopped: again at once while a poll says more is waiting, else after `intervalMs`;
 * after a failure, after a wait that doubles up to `maxBackoffMs` and falls back to `intervalMs` at the next success.
 * {@link wake} polls at once unless the loop is backing off (a wake-up must not defeat the backoff); {@link stop}
 * cuts any wait short and resolves once the poll under way has ended.
 */
export class PollingLoop {
  private readonly options: PollingLoopOptions;
  private isStopped = false;
  private running: Promise<void> | null = null;
  private endWait: (() => void) | null = null;
  private backingOff = false;

  constructor(options: PollingLoopOptions) {
    this.options = options;
  }

  /** True once {@link stop} was called. */
  get stopped(): boolean {
    return this.isStopped;
  }

  /** Starts polling in the background (the first poll runs at once). */
  start(): void {
    this.running = this.loop();
  }

  /** Polls now if the loop is waiting out its interval; no effect while it backs off after a failure. */
  wake(): void {
    if (!this.backingOff) this.endWait?.();
  }

  /** Stops polling: resolves once the poll under way, if any, has ended. */
  async stop(): Promise<void> {
    this.isStopped = true;
    this.endWait?.();
    await this.running;
  }

  private async loop(): Promise<void> {
    const { intervalMs } = this.options;
    const maxBackoff = Math.max(intervalMs, this.options.maxBackoffMs);
    let backoff = intervalMs;
    while (!this.isStopped) {
      try {
        const more = await this.options.poll();
        backoff = intervalMs;
        if (!more) await this.wait(intervalMs);
      } catch (error) {
        if (this.isStopped) break;
        this.options.onError(error, backoff);
        this.backingOff = true;
        await this.wait(backoff);
        this.backingOff = false;
        backoff = Math.min(backoff * 2, maxBackoff);
      }
    }
  }

  private wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.isStopped) return resolve();
      const done = () => {
        clearTimeout(timer);
        this.endWait = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.endWait = done;
    });
  }
}
