import { UnavailableError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { WorkerPool } from '../../core/workerPool.js';
import type { AccessEvent } from '../../audit/accessEvent.js';
import type { SealedAuditEntry } from '../../audit/sealAuditEntry.js';
import type { CheckedResource, ResourceValidator } from './resourceValidator.js';
import type { ValidationReply, ValidationRequest, ValidationWorkerData } from './validationMessages.js';

interface Job {
  resources: unknown[];
  resolve: (issues: CheckedResource[]) => void;
  reject: (error: unknown) => void;
}

/**
 * Resources per message at most. Small messages keep the pipeline full: the event loop gets the first results and
 * prepares and commits them while the worker still validates the rest, instead of both taking turns on big batches.
 */
const MAX_PER_MESSAGE = 8;

const stopping = () => new UnavailableError('FHIR.VALIDATOR_CLOSED', 'The node is stopping.');

/** A worker's reply as what it answers, or the error it stands for. */
function checkedOf(reply: Exclude<ValidationReply, { type: 'ready' }>): CheckedResource[] {
  if (reply.type === 'result') return reply.checked;
  throw new Error(
    reply.type === 'failed' ? `a validation worker failed: ${reply.message}` : 'unexpected reply to a check',
  );
}

/**
 * Medplum's validator costs about 0.2 ms of CPU per resource, more than the rest of a create together; this pool
 * runs it, with the canonical JSON and search index of each valid resource, on worker threads, so the event loop
 * keeps serving HTTP and committing while other cores check.
 *
 * Requests made in the same turn of the event loop travel together, in messages of at most MAX_PER_MESSAGE
 * resources, each to the least-loaded worker.
 */
export class ValidationPool implements ResourceValidator {
  private readonly pool: WorkerPool<ValidationRequest, ValidationReply>;
  private queue: Job[] = [];
  private scheduled = false;
  private closed = false;

  constructor(size: number, keys: ValidationWorkerData, logger: Logger) {
    this.pool = new WorkerPool(size, {
      url: new URL('./validationWorker.js', import.meta.url),
      workerData: keys,
      name: 'validation worker',
      logger,
      failed: (cause) =>
        new UnavailableError(
          'FHIR.VALIDATOR_FAILED',
          'The FHIR validator stopped while checking this request; nothing was stored. Retry.',
          { cause },
        ),
      closed: stopping,
    });
  }

  get size(): number {
    return this.pool.size;
  }

  validateMany(resources: unknown[]): Promise<CheckedResource[]> {
    if (this.closed || !this.pool.open) return Promise.reject(stopping());
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
  async sealAudit(events: AccessEvent[]): Promise<SealedAuditEntry[]> {
    if (this.closed || !this.pool.open) throw stopping();
    if (events.length === 0) return [];
    const reply = await this.pool.request((id) => ({ kind: 'seal-audit', id, events }), events.length);
    if (reply.type === 'sealed') return reply.entries;
    throw new Error(
      reply.type === 'failed'
        ? `a validation worker failed: ${reply.message}`
        : 'unexpected reply to an audit seal',
    );
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue) job.reject(stopping());
    this.queue = [];
    await this.pool.close();
  }

  private flush(): void {
    this.scheduled = false;
    const jobs = this.queue;
    this.queue = [];
    if (jobs.length === 0) return;
    if (!this.pool.open) {
      const error = new UnavailableError('FHIR.VALIDATOR_FAILED', 'The FHIR validator is not running.');
      for (const job of jobs) job.reject(error);
      return;
    }
    const all = jobs.flatMap((job) => job.resources);
    const results: CheckedResource[] = new Array<CheckedResource>(all.length);
    const parts: Promise<void>[] = [];
    let failed: unknown = null;
    for (let start = 0; start < all.length; start += MAX_PER_MESSAGE) {
      const resources = all.slice(start, start + MAX_PER_MESSAGE);
      parts.push(
        this.pool
          .request((id) => ({ kind: 'check', id, resources }), resources.length)
          .then((reply) => checkedOf(reply).forEach((checked, i) => (results[start + i] = checked)))
          .catch((error: unknown) => {
            failed ??= error;
          }),
      );
    }
    void Promise.all(parts).then(() => {
      if (failed !== null) {
        for (const job of jobs) job.reject(failed);
        return;
      }
      let offset = 0;
      for (const job of jobs) {
        job.resolve(results.slice(offset, offset + job.resources.length));
        offset += job.resources.length;
      }
    });
  }
}
