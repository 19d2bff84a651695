import type { OutcomeIssue } from '../fhirErrors.js';

/** Main thread → validation worker. */
export interface ValidationRequest {
  id: number;
  resources: unknown[];
}

/** Validation worker → main thread. */
export type ValidationReply =
  | { type: 'ready' }
  | { type: 'result'; id: number; issues: OutcomeIssue[][] }
  | { type: 'failed'; id: number; message: string };
