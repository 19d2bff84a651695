import { CareLedgerError, ConflictError, InvalidInputError, NotFoundError } from '../core/errors.js';

/** Why the AnchorRegistry refused an anchor (decoded from its custom errors). */
export type AnchorRejection =
  'unauthorized' | 'duplicate-root' | 'unexpected-sequence' | 'invalid' | 'unknown';

/** The chain refused an `anchor` call; `reason` says which rule it broke. */
export class AnchorRejectedError extends CareLedgerError {
  override readonly name = 'AnchorRejectedError';
  readonly reason: AnchorRejection;
  constructor(reason: AnchorRejection, message: string, details?: Record<string, unknown>, cause?: unknown) {
    super(`ANCHOR.REJECTED_${reason.toUpperCase().replace(/-/g, '_')}`, message, {
      details,
      cause,
      status: 502,
      issueType: 'exception',
    });
    this.reason = reason;
  }
}

export class RecordNotFoundError extends NotFoundError {
  constructor(id: unknown) {
    super('RECORD.NOT_FOUND', `No record with id ${String(id)} is stored on this node.`, { details: { id } });
  }
}

export class BatchNotFoundError extends NotFoundError {
  constructor(sequence: unknown) {
    super('BATCH.NOT_FOUND', `No batch with sequence ${String(sequence)} exists on this node.`, {
      details: { sequence },
    });
  }
}

/** A proof was asked for before the record's batch was confirmed on chain. */
export class ProofNotReadyError extends ConflictError {
  constructor(id: number, batchSequence: number, state: string) {
    super(
      'PROOF.NOT_ANCHORED_YET',
      `Record ${id} is in batch ${batchSequence}, which is ${state} and not yet confirmed on chain; retry after the batch age has passed.`,
      { details: { id, batchSequence, state } },
    );
  }
}

export class RecordTooLargeError extends CareLedgerError {
  override readonly name = 'RecordTooLargeError';
  constructor(size: number, limit: number) {
    super(
      'RECORD.TOO_LARGE',
      `The record is ${size} bytes; this node accepts at most ${limit} bytes per record.`,
      {
        issueType: 'too-long',
        status: 413,
        details: { size, limit },
      },
    );
  }
}

export class EmptyRecordError extends InvalidInputError {
  constructor() {
    super('RECORD.EMPTY', 'The record is empty; send the record bytes as the request body.', {
      issueType: 'required',
    });
  }
}
