import type { AccessEvent } from '../../audit/accessEvent.js';
import type { SealedAuditEntry } from '../../audit/sealAuditEntry.js';
import type { CheckedResource } from './resourceValidator.js';

/** What a validation worker is started with. */
export interface ValidationWorkerData {
  /** The node's search-index HMAC key: workers compute the index tokens of what they validate. */
  searchIndexKey: Uint8Array;
  /** The access audit trail's sealing key: workers also seal audit entries. */
  auditKey: Uint8Array;
}

/** Main thread → validation worker. */
export type ValidationRequest =
  | { kind: 'check'; id: number; resources: unknown[] }
  | { kind: 'seal-audit'; id: number; events: AccessEvent[] };

/** Validation worker → main thread. */
export type ValidationReply =
  | { type: 'ready' }
  | { type: 'result'; id: number; checked: CheckedResource[] }
  | { type: 'sealed'; id: number; entries: SealedAuditEntry[] }
  | { type: 'failed'; id: number; message: string };
