import type { Worker } from 'node:worker_threads';
import type { CareLedgerError } from './errors.js';
import type { Logger } from './logger.js';
import { startModuleWorker } from './moduleWorker.js';

/** What a pooled worker answers: a `ready` once started, then one reply per request, carrying the request's id. */
export type PooledReply = { type: 'ready' } | { type: string; id: number };

export interface WorkerPoolOptions {
  /** The worker module (a `.js` URL; see `startModuleWorker`). */
  url: URL;
  workerData: unknown;
  /** For logs: "validation worker", "EPCIS reader worker". */
  name: string;
  logger: Logger;
  /** Start the workers at the first request instead of at once (a node that never uses them never loads them). */
  lazy?: boolean;
  /** The error of a request whose worker died while holding it (nothing it asked for was done). */
  failed: (cause: unknown) => CareLedgerError;
  /** The error of a request made, or still waiting, once the pool is closed or has no worker left. */
  closed: () => CareLedgerError;
}

interface PoolWorker {
  worker: Worker;
  /** Weight sent and not answered yet. */
  load: number;
}

interface Sent<Reply> {
  worker: PoolWorker;
  weight: number;
  resolve: (reply: Reply) => void;
  reject: (error: unknown) => void;
}

/** A worker that dies is replaced, but not in a crash loop. */
const MAX_RESTARTS = 10;

/**
 * Worker threads that answer requests by id: each request goes to the least-loaded worker (load = the weight of what
 * it holds, e.g. resources), a worker that dies fails what it held and is replaced (at most MAX_RESTARTS times in
 * all; then the pool shrinks, and with no worker left it is closed), and `close` fails what is still waiting.
 */
export class WorkerPool<Request extends { id: number }, Reply extends PooledReply> {
  private readonly options: WorkerPoolOptions;
  private readonly workers: PoolWorker[] = [];
  private readonly inFlight = new Map<number, Sent<Exclude<Reply, { type: 'ready' }>>>();
  /** Workers to run; with `lazy`, started at the first request. */
  private wanted: number;
  private nextId = 1;
  private restarts = 0;
  private closed = false;

  constructor(size: number, options: WorkerPoolOptions) {
    if (!Number.isInteger(size) || size < 1)
      throw new RangeError(`a pool of ${options.name}s needs at least 1`);
    this.options = options;
    this.wanted = size;
    if (!options.lazy) this.startWorkers();
  }

  /** Workers running or to be started. */
  get size(): number {
    return this.wanted;
  }

  /** Whether requests are still taken (not closed, a worker left). */
  get open(): boolean {
    return !this.closed && this.wanted > 0;
  }

  /** Sends the request `build(id)` to the least-loaded worker; resolves with its reply. */
  request(build: (id: number) => Request, weight = 1): Promise<Exclude<Reply, { type: 'ready' }>> {
    if (!this.open) return Promise.reject(this.options.closed());
    this.startWorkers();
    return new Promise((resolve, reject) => {
      const worker = this.workers.reduce((least, w) => (w.load < least.load ? w : least));
      const id = this.nextId++;
      this.inFlight.set(id, { worker, weight, resolve, reject });
      worker.load += weight;
      try {
        worker.worker.postMessage(build(id));
      } catch (error) {
        // Not structured-cloneable (cannot come from JSON, but requests may carry `unknown` values).
        this.inFlight.delete(id);
        worker.load -= weight;
        reject(error);
      }
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const stopping = this.options.closed();
    for (const sent of this.inFlight.values()) sent.reject(stopping);
    this.inFlight.clear();
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }

  private startWorkers(): void {
    while (this.workers.length < this.wanted) this.workers.push(this.spawn());
  }

  private spawn(): PoolWorker {
    const { url, workerData, name } = this.options;
    const entry: PoolWorker = { worker: startModuleWorker(url, { workerData }), load: 0 };
    entry.worker.unref();
    entry.worker.on('message', (reply: Reply) => {
      if (reply.type === 'ready') return;
      const answer = reply as Exclude<Reply, { type: 'ready' }>;
      const sent = this.inFlight.get(answer.id);
      if (!sent) return;
      this.inFlight.delete(answer.id);
      entry.load -= sent.weight;
      sent.resolve(answer);
    });
    entry.worker.on('error', (error) => this.replace(entry, error));
    entry.worker.on('exit', (code) => {
      if (!this.closed) this.replace(entry, new Error(`${name} exited with code ${code}`));
    });
    return entry;
  }

  /** Fails what a dead worker held and starts another in its place. */
  private replace(dead: PoolWorker, cause: unknown): void {
    const index = this.workers.indexOf(dead);
    if (index < 0 || this.closed) return;
    const error = this.options.failed(cause);
    for (const [id, sent] of this.inFlight) {
      if (sent.worker !== dead) continue;
      this.inFlight.delete(id);
      sent.reject(error);
    }
    void dead.worker.terminate();
    const { logger, name } = this.options;
    if (this.restarts >= MAX_RESTARTS) {
      this.workers.splice(index, 1);
      this.wanted--;
      logger.error({ err: String(cause) }, `${name} failed; not restarted (too many failures)`);
      if (this.wanted === 0) this.closed = true;
      return;
    }
    this.restarts++;
    logger.warn({ err: String(cause) }, `${name} failed; starting another`);
    this.workers[index] = this.spawn();
  }
}
