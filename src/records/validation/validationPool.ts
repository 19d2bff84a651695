import type { Worker } from 'node:worker_threads';
import { UnavailableError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { startModuleWorker } from '../../core/moduleWorker.js';
import type { AccessEvent } from '../../audit/accessEvent.js';
import type { SealedAuditEntry } from '../../audit/sealAuditEntry.js';
import type { CheckedResource, ResourceValidator } from './resourceValidator.js';
import type { ValidationReply, ValidationRequest, ValidationWorkerData } from './validationMessages.js';

interface Job {
  resources: unknown[];
  resolve: (issues: CheckedResource[]) => void;
  reject: (error: unknown) => void;
}

/** One message sent to a worker: the slice of the flushed resources it holds, and where each job's part is. */
interface Sent {
  worker: PoolWorker;
  size: number;
  settle: (
    result: { checked: CheckedResource[] } | { entries: SealedAuditEntry[] } | { error: unknown },
  ) => void;
}

interface PoolWorker {
  worker: Worker;
  /** Resources sent and not answered yet. */
  load: number;
}

/**
 * Resources per message at most. Small messages keep the pipeline full: the event loop gets the first results and
 * prepares and commits them while the worker still validates the rest, instead of both taking turns on big batches.
 */
const MAX_PER_MESSAGE = 8;
/** A worker that dies is replaced, but not in a crash loop. */
const MAX_RESTARTS = 10;

/**
 * Medplum's validator costs about 0.2 ms of CPU per resource, more than the rest of a create together; this pool
 * runs it, with the canonical JSON and search index of each valid resource, on worker threads, so the event loop
 * keeps serving HTTP and committing while other cores check.
 *
 * Requests made in the same turn of the event loop travel together, in messages of at most MAX_PER_MESSAGE
 * resources, each to the least-loaded worker.
 */
export class ValidationPool implements ResourceValidator {
  private readonly workers: PoolWorker[] = [];
  private readonly inFlight = new Map<number, Sent>();
  private readonly logger: Logger;
  private queue: Job[] = [];
  private scheduled = false;
  private nextId = 1;
  private restarts = 0;
  private closed = false;

  private readonly workerData: ValidationWorkerData;

  constructor(size: number, keys: ValidationWorkerData, logger: Logger) {
    if (!Number.isInteger(size) || size < 1)
      throw new RangeError('a validation pool needs at least 1 worker');
    this.logger = logger;
    this.workerData = keys;
    for (let i = 0; i < size; i++) this.workers.push(this.spawn());
  }

  get size(): number {
    return this.workers.length;
  }

  validateMany(resources: unknown[]): Promise<CheckedResource[]> {
    if (this.closed)
      return Promise.reject(new UnavailableError('FHIR.VALIDATOR_CLOSED', 'The node is stopping.'));
    if (resources.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.queue.push({ resources, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /**
   * Seals access-audit entries on the least-loaded worker (canonical JSON, SHA-256, AES-256-GCM, HMAC): the work
   * every audited read adds, kept off the event loop.
   */
  sealAudit(events: AccessEvent[]): Promise<SealedAuditEntry[]> {
    if (this.closed || this.workers.length === 0) {
      return Promise.reject(new UnavailableError('FHIR.VALIDATOR_CLOSED', 'The node is stopping.'));
    }
    if (events.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      const worker = this.workers.reduce((least, w) => (w.load < least.load ? w : least));
      const id = this.nextId++;
      this.inFlight.set(id, {
        worker,
        size: events.length,
        settle: (result) => {
          if ('entries' in result) resolve(result.entries);
          else reject('error' in result ? result.error : new Error('unexpected reply to an audit seal'));
        },
      });
      worker.load += events.length;
      try {
        worker.worker.postMessage({ kind: 'seal-audit', id, events } satisfies ValidationRequest);
      } catch (error) {
        this.inFlight.delete(id);
        worker.load -= events.length;
        reject(error);
      }
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const stopping = new UnavailableError('FHIR.VALIDATOR_CLOSED', 'The node is stopping.');
    for (const job of this.queue) job.reject(stopping);
    this.queue = [];
    for (const sent of this.inFlight.values()) sent.settle({ error: stopping });
    this.inFlight.clear();
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }

  private spawn(): PoolWorker {
    const entry: PoolWorker = {
      worker: startModuleWorker(new URL('./validationWorker.js', import.meta.url), {
        workerData: this.workerData,
      }),
      load: 0,
    };
    entry.worker.unref();
    entry.worker.on('message', (reply: ValidationReply) => {
      if (reply.type === 'ready') return;
      const sent = this.inFlight.get(reply.id);
      if (!sent) return;
      this.inFlight.delete(reply.id);
      entry.load -= sent.size;
      sent.settle(
        reply.type === 'result'
          ? { checked: reply.checked }
          : reply.type === 'sealed'
            ? { entries: reply.entries }
            : { error: new Error(`a validation worker failed: ${reply.message}`) },
      );
    });
    entry.worker.on('error', (error) => this.replace(entry, error));
    entry.worker.on('exit', (code) => {
      if (!this.closed) this.replace(entry, new Error(`validation worker exited with code ${code}`));
    });
    return entry;
  }

  /** Fails what a dead worker held and starts another in its place. */
  private replace(dead: PoolWorker, cause: unknown): void {
    const index = this.workers.indexOf(dead);
    if (index < 0 || this.closed) return;
    const error = new UnavailableError(
      'FHIR.VALIDATOR_FAILED',
      'The FHIR validator stopped while checking this request; nothing was stored. Retry.',
      { cause },
    );
    for (const [id, sent] of this.inFlight) {
      if (sent.worker !== dead) continue;
      this.inFlight.delete(id);
      sent.settle({ error });
    }
    void dead.worker.terminate();
    if (this.restarts >= MAX_RESTARTS) {
      this.workers.splice(index, 1);
      this.logger.error(
        { err: String(cause) },
        'validation worker failed; not restarted (too many failures)',
      );
      if (this.workers.length === 0) this.closed = true;
      return;
    }
    this.restarts++;
    this.logger.warn({ err: String(cause) }, 'validation worker failed; starting another');
    this.workers[index] = this.spawn();
  }

  private flush(): void {
    this.scheduled = false;
    const jobs = this.queue;
    this.queue = [];
    if (jobs.length === 0) return;
    if (this.workers.length === 0) {
      const error = new UnavailableError('FHIR.VALIDATOR_FAILED', 'The FHIR validator is not running.');
      for (const job of jobs) job.reject(error);
      return;
    }
    const all = jobs.flatMap((job) => job.resources);
    const per = MAX_PER_MESSAGE;
    const parts = Math.ceil(all.length / per);

    const results: CheckedResource[] = new Array<CheckedResource>(all.length);
    let pending = parts;
    let failed: unknown = null;
    const finish = () => {
      if (failed !== null) {
        for (const job of jobs) job.reject(failed);
        return;
      }
      let offset = 0;
      for (const job of jobs) {
        job.resolve(results.slice(offset, offset + job.resources.length));
        offset += job.resources.length;
      }
    };
    for (let p = 0; p < parts; p++) {
      const start = p * per;
      const resources = all.slice(start, start + per);
      const worker = this.workers.reduce((least, w) => (w.load < least.load ? w : least));
      const id = this.nextId++;
      this.inFlight.set(id, {
        worker,
        size: resources.length,
        settle: (result) => {
          if ('error' in result) failed ??= result.error;
          else if ('checked' in result)
            result.checked.forEach((checked, i) => (results[start + i] = checked));
          if (--pending === 0) finish();
        },
      });
      worker.load += resources.length;
      try {
        worker.worker.postMessage({ kind: 'check', id, resources } satisfies ValidationRequest);
      } catch (error) {
        // Not structured-cloneable (cannot come from JSON, but the port is typed `unknown`).
        this.inFlight.get(id)?.settle({ error });
        this.inFlight.delete(id);
        worker.load -= resources.length;
      }
    }
  }
}
