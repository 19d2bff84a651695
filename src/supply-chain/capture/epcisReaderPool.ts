import type { Worker } from 'node:worker_threads';
import { CareLedgerError, InvalidInputError, UnavailableError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { startModuleWorker } from '../../core/moduleWorker.js';
import { EpcisDocumentBytes, type CapturedEvent, type EpcisDocumentReader } from './captureService.js';
import { decodeCapturedEvents } from './capturedEventsCodec.js';
import type { EpcisReadReply, EpcisReadRequest, EpcisReaderWorkerData } from './epcisReaderMessages.js';

interface PoolWorker {
  worker: Worker;
  /** Documents sent and not answered yet. */
  load: number;
}

interface Sent {
  worker: PoolWorker;
  resolve: (events: CapturedEvent[]) => void;
  reject: (error: unknown) => void;
}

/** A worker that dies is replaced, but not in a crash loop. */
const MAX_RESTARTS = 10;

/**
 * The EPCIS document reader (`epcisDocumentReader`) on worker threads: parsing, validation, event hash ids, canonical
 * bodies and their SHA-256, about two thirds of a capture's CPU, run beside the event loop, which keeps serving HTTP,
 * planning custody and committing. With several documents in flight, one is read while the ones before it commit.
 * Each document goes to the least-loaded worker, as its JSON text when it arrives as one ({@link EpcisDocumentBytes}:
 * not even parsed on the event loop), else as the parsed value. The answer is the in-process reader's, to the byte:
 * the same events, or the same refusal naming every problem. Workers start at the first document.
 */
export class EpcisReaderPool implements EpcisDocumentReader {
  private readonly workers: PoolWorker[] = [];
  /** Workers to run; started at the first read (a node that captures nothing never pays for them). */
  private wanted: number;
  private readonly inFlight = new Map<number, Sent>();
  private readonly logger: Logger;
  private readonly workerData: EpcisReaderWorkerData;
  private nextId = 1;
  private restarts = 0;
  private closed = false;

  constructor(size: number, options: EpcisReaderWorkerData, logger: Logger) {
    if (!Number.isInteger(size) || size < 1)
      throw new RangeError('an EPCIS reader pool needs at least 1 worker');
    this.logger = logger;
    this.workerData = { maxEvents: options.maxEvents, futureToleranceMs: options.futureToleranceMs };
    this.wanted = size;
  }

  /** Workers running or to be started. */
  get size(): number {
    return this.wanted;
  }

  read(document: unknown, now: number): Promise<CapturedEvent[]> {
    if (this.closed || this.wanted === 0) {
      return Promise.reject(
        new UnavailableError('EPCIS.READER_CLOSED', 'The node is stopping; retry later.'),
      );
    }
    while (this.workers.length < this.wanted) this.workers.push(this.spawn());
    return new Promise((resolve, reject) => {
      const worker = this.workers.reduce((least, w) => (w.load < least.load ? w : least));
      const id = this.nextId++;
      const request: EpcisReadRequest =
        document instanceof EpcisDocumentBytes
          ? { id, now, bytes: ownBytes(document.bytes) }
          : { id, now, document };
      this.inFlight.set(id, { worker, resolve, reject });
      worker.load++;
      try {
        worker.worker.postMessage(request);
      } catch (error) {
        // Not structured-cloneable (cannot come from JSON, but the parameter is `unknown`).
        this.inFlight.delete(id);
        worker.load--;
        reject(error);
      }
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const stopping = new UnavailableError('EPCIS.READER_CLOSED', 'The node is stopping; retry later.');
    for (const sent of this.inFlight.values()) sent.reject(stopping);
    this.inFlight.clear();
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }

  private spawn(): PoolWorker {
    const entry: PoolWorker = {
      worker: startModuleWorker(new URL('./epcisReaderWorker.js', import.meta.url), {
        workerData: this.workerData,
      }),
      load: 0,
    };
    entry.worker.unref();
    entry.worker.on('message', (reply: EpcisReadReply) => {
      if (reply.type === 'ready') return;
      const sent = this.inFlight.get(reply.id);
      if (!sent) return;
      this.inFlight.delete(reply.id);
      entry.load--;
      settle(sent, reply);
    });
    entry.worker.on('error', (error) => this.replace(entry, error));
    entry.worker.on('exit', (code) => {
      if (!this.closed) this.replace(entry, new Error(`EPCIS reader worker exited with code ${code}`));
    });
    return entry;
  }

  /** Fails what a dead worker held and starts another in its place. */
  private replace(dead: PoolWorker, cause: unknown): void {
    const index = this.workers.indexOf(dead);
    if (index < 0 || this.closed) return;
    const error = new UnavailableError(
      'EPCIS.READER_FAILED',
      'The EPCIS reader stopped while checking this document; nothing was stored. Retry.',
      { cause },
    );
    for (const [id, sent] of this.inFlight) {
      if (sent.worker !== dead) continue;
      this.inFlight.delete(id);
      sent.reject(error);
    }
    void dead.worker.terminate();
    if (this.restarts >= MAX_RESTARTS) {
      this.workers.splice(index, 1);
      this.wanted--;
      this.logger.error(
        { err: String(cause) },
        'EPCIS reader worker failed; not restarted (too many failures)',
      );
      if (this.wanted === 0) this.closed = true;
      return;
    }
    this.restarts++;
    this.logger.warn({ err: String(cause) }, 'EPCIS reader worker failed; starting another');
    this.workers[index] = this.spawn();
  }
}

/**
 * The bytes in a buffer of their own: a message carries a view's whole underlying buffer, and a small body is a view
 * into a buffer shared with other allocations.
 */
function ownBytes(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
}

/** Resolves or rejects a capture's read as the in-process reader would have returned or thrown. */
function settle(sent: Sent, reply: Exclude<EpcisReadReply, { type: 'ready' }>): void {
  switch (reply.type) {
    case 'read':
      sent.resolve(decodeCapturedEvents(reply));
      return;
    case 'refused': {
      const options = { issueType: reply.issueType, ...(reply.details ? { details: reply.details } : {}) };
      sent.reject(
        reply.status === 400
          ? new InvalidInputError(reply.code, reply.message, options)
          : new CareLedgerError(reply.code, reply.message, { ...options, status: reply.status }),
      );
      return;
    }
    case 'not-json':
      // What JSON.parse on the event loop throws: the error handler answers 400 REQUEST.MALFORMED_JSON.
      sent.reject(new SyntaxError(reply.message));
      return;
    case 'failed':
      sent.reject(new Error(`an EPCIS reader worker failed: ${reply.message}`));
  }
}
