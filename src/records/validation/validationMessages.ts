import type { CheckedResource } from './resourceValidator.js';

/** What a validation worker is started with. */
export interface ValidationWorkerData {
  /** The node's search-index HMAC key: workers compute the index tokens of what they validate. */
  searchIndexKey: Uint8Array;
}

/** Main thread → validation worker. */
export interface ValidationRequest {
  id: number;
  resources: unknown[];
}

/** Validation worker → main thread. */
export type ValidationReply =
  | { type: 'ready' }
  | { type: 'result'; id: number; checked: CheckedResource[] }
  | { type: 'failed'; id: number; message: string };
