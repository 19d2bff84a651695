/**
 * Worker-thread entry of the validation pool: loads the FHIR definitions once, then answers each message (a list
 * of resources) with the issues of each. A failure of the validator itself is reported, not thrown, so the pool
 * can fail that request and keep the worker.
 */
import { parentPort } from 'node:worker_threads';
import { fhirValidationIssues, loadFhirDefinitions } from '../validateFhirResource.js';
import type { ValidationReply, ValidationRequest } from './validationMessages.js';

const port = parentPort;
if (!port) throw new Error('validationWorker must run in a worker thread');
loadFhirDefinitions();
port.postMessage({ type: 'ready' } satisfies ValidationReply);
port.on('message', (request: ValidationRequest) => {
  let reply: ValidationReply;
  try {
    reply = { type: 'result', id: request.id, issues: request.resources.map((r) => fhirValidationIssues(r)) };
  } catch (error) {
    reply = {
      type: 'failed',
      id: request.id,
      message: error instanceof Error ? error.message : String(error),
    };
  }
  port.postMessage(reply);
});
