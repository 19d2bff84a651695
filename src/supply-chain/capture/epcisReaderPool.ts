import { CareLedgerError, InvalidInputError, UnavailableError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { WorkerPool } from '../../core/workerPool.js';
import { EpcisDocumentBytes, type CapturedEvent, type EpcisDocumentReader } from './captureService.js';
import { decodeCapturedEvents } from './capturedEventsCodec.js';
import type { EpcisReadReply, EpcisReadRequest, EpcisReaderWorkerData } from './epcisReaderMessages.js';

/**
 * The EPCIS document reader (`epcisDocumentReader`) on worker threads: parsing, validation, event hash ids, canonical
 * bodies and their SHA-256, about two thirds of a capture's CPU, run beside the event loop, which keeps serving HTTP,
 * planning custody and committing. With several documents in flight, one is read while the ones before it commit.
 * Each document goes to the least-loaded worker, as its JSON text when it arrives as one ({@link EpcisDocumentBytes}:
 * not even parsed on the event loop), else as the parsed value. The answer is the in-process reader's, to the byte:
 * the same events, or the same refusal naming every problem. Workers start at the first document.
 */
export class EpcisReaderPool implements EpcisDocumentReader {
  private readonly pool: WorkerPool<EpcisReadRequest, EpcisReadReply>;

  constructor(size: number, options: EpcisReaderWorkerData, logger: Logger) {
    this.pool = new WorkerPool(size, {
      url: new URL('./epcisReaderWorker.js', import.meta.url),
      workerData: {
        maxEvents: options.maxEvents,
        futureToleranceMs: options.futureToleranceMs,
      } satisfies EpcisReaderWorkerData,
      name: 'EPCIS reader worker',
      logger,
      lazy: true, // a node that captures nothing (most of the test suite's) never pays for them
      failed: (cause) =>
        new UnavailableError(
          'EPCIS.READER_FAILED',
          'The EPCIS reader stopped while checking this document; nothing was stored. Retry.',
          { cause },
        ),
      closed: () => new UnavailableError('EPCIS.READER_CLOSED', 'The node is stopping; retry later.'),
    });
  }

  /** Workers running or to be started. */
  get size(): number {
    return this.pool.size;
  }

  async read(document: unknown, now: number): Promise<CapturedEvent[]> {
    const reply = await this.pool.request((id) =>
      document instanceof EpcisDocumentBytes
        ? { id, now, bytes: ownBytes(document.bytes) }
        : { id, now, document },
    );
    return answerOf(reply);
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

/**
 * The bytes in a buffer of their own: a message carries a view's whole underlying buffer, and a small body is a view
 * into a buffer shared with other allocations.
 */
function ownBytes(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
}

/** A capture's read as the in-process reader would have returned it, or thrown. */
function answerOf(reply: Exclude<EpcisReadReply, { type: 'ready' }>): CapturedEvent[] {
  switch (reply.type) {
    case 'read':
      return decodeCapturedEvents(reply);
    case 'refused': {
      const options = { issueType: reply.issueType, ...(reply.details ? { details: reply.details } : {}) };
      throw reply.status === 400
        ? new InvalidInputError(reply.code, reply.message, options)
        : new CareLedgerError(reply.code, reply.message, { ...options, status: reply.status });
    }
    case 'not-json':
      // What JSON.parse on the event loop throws: the error handler answers 400 REQUEST.MALFORMED_JSON.
      throw new SyntaxError(reply.message);
    case 'failed':
      throw new Error(`an EPCIS reader worker failed: ${reply.message}`);
  }
}
