import type { FhirIssueType } from '../../core/errors.js';
import type { EncodedEvents } from './capturedEventsCodec.js';

/** What an EPCIS reader worker is started with: the reader's options. */
export interface EpcisReaderWorkerData {
  maxEvents?: number | undefined;
  futureToleranceMs?: number | undefined;
}

/** Main thread → reader worker: one document, as JSON text (UTF-8 bytes) or already parsed. */
export type EpcisReadRequest =
  { id: number; now: number; bytes: Uint8Array } | { id: number; now: number; document: unknown };

/** Reader worker → main thread. */
export type EpcisReadReply =
  | { type: 'ready' }
  | ({ type: 'read'; id: number } & EncodedEvents)
  /** The document was refused (a CareLedgerError: every problem named), or its text is not JSON. */
  | {
      type: 'refused';
      id: number;
      code: string;
      message: string;
      status: number;
      issueType: FhirIssueType;
      details: Record<string, unknown> | undefined;
    }
  | { type: 'not-json'; id: number; message: string }
  | { type: 'failed'; id: number; message: string };
