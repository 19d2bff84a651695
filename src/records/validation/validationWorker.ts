/**
 * Worker-thread entry of the validation pool: loads the FHIR definitions once, then answers each message (a list
 * of stamped resources) with each one's check (issues, and for valid ones canonical JSON and index entries). A
 * failure of the validator itself is reported, not thrown, so the pool can fail that request and keep the worker.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadFhirDefinitions } from '../validateFhirResource.js';
import { sealAuditEntry } from '../../audit/sealAuditEntry.js';
import { checkResource } from './resourceValidator.js';
import type { ValidationReply, ValidationRequest, ValidationWorkerData } from './validationMessages.js';

const port = parentPort;
if (!port) throw new Error('validationWorker must run in a worker thread');
const { searchIndexKey, auditKey } = workerData as ValidationWorkerData;
loadFhirDefinitions();
port.postMessage({ type: 'ready' } satisfies ValidationReply);
port.on('message', (request: ValidationRequest) => {
  let reply: ValidationReply;
  try {
    reply =
      request.kind === 'seal-audit'
        ? {
            type: 'sealed',
            id: request.id,
            entries: request.events.map((e) => sealAuditEntry(e, { auditKey, searchIndexKey })),
          }
        : {
            type: 'result',
            id: request.id,
            checked: request.resources.map((r) => checkResource(r, searchIndexKey)),
          };
  } catch (error) {
    reply = {
      type: 'failed',
      id: request.id,
      message: error instanceof Error ? error.message : String(error),
    };
  }
  port.postMessage(reply);
});
