/**
 * Worker-thread entry of the EPCIS reader pool: answers each document (JSON text or parsed) with its captured events
 * — validation, event hash ids, canonical bodies and their hashes — or with why it was refused. A failure of the
 * reader itself is reported, not thrown, so the pool can fail that capture and keep the worker.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { CareLedgerError } from '../../core/errors.js';
import { encodeCapturedEvents } from './capturedEventsCodec.js';
import { epcisDocumentReader, parseJson } from './epcisDocumentReader.js';
import type { EpcisReadReply, EpcisReadRequest, EpcisReaderWorkerData } from './epcisReaderMessages.js';

const port = parentPort;
if (!port) throw new Error('epcisReaderWorker must run in a worker thread');
const reader = epcisDocumentReader(workerData as EpcisReaderWorkerData);

port.postMessage({ type: 'ready' } satisfies EpcisReadReply);
port.on('message', (request: EpcisReadRequest) => {
  const id = request.id;
  let reply: EpcisReadReply;
  try {
    let document: unknown;
    if ('bytes' in request) {
      try {
        document = parseJson(request.bytes);
      } catch (error) {
        port.postMessage({
          type: 'not-json',
          id,
          message: (error as Error).message,
        } satisfies EpcisReadReply);
        return;
      }
    } else {
      document = request.document;
    }
    const encoded = encodeCapturedEvents(reader.read(document, request.now));
    port.postMessage({ type: 'read', id, ...encoded } satisfies EpcisReadReply, [
      encoded.hashes.buffer as ArrayBuffer,
    ]);
    return;
  } catch (error) {
    reply =
      error instanceof CareLedgerError
        ? {
            type: 'refused',
            id,
            code: error.code,
            message: error.message,
            status: error.status,
            issueType: error.issueType,
            details: error.details,
          }
        : { type: 'failed', id, message: error instanceof Error ? error.message : String(error) };
  }
  port.postMessage(reply);
});
