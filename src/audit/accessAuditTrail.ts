import type { AuditEvent } from '@medplum/fhirtypes';
import type { ContentResolution } from '../anchoring/auditRecords.js';
import { UnavailableError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { decryptPayload } from '../crypto/index.js';
import { parsePurposeOfUse } from '../consent/consentGuard.js';
import { intentOf } from '../consent/fhirReadAccess.js';
import type { AccessAudit, AccessDetails, FhirCaller } from '../records/fhirAccess.js';
import type { AccessEvent } from './accessEvent.js';
import type { AuditAnchoring, AuditRow, AuditStore } from './ports.js';
import { auditAad, auditPatientToken, sealAuditEntry, type SealedAuditEntry } from './sealAuditEntry.js';

/** An entry waiting to be written, and who waits for it. */
interface Waiting {
  event: AccessEvent;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** The 503 a read gets when its access could not be recorded: nothing is served unrecorded. */
function notRecorded(cause: unknown): UnavailableError {
  return new UnavailableError(
    'AUDIT.NOT_RECORDED',
    'This access could not be recorded in the audit trail, so nothing is served; retry shortly.',
    { cause },
  );
}

/** The record kind of every audit entry in the ledger spine. */
export const AUDIT_KIND = 'audit.access';

export interface AccessAuditTrailOptions {
  store: AuditStore;
  anchoring: AuditAnchoring;
  /** The key sealing entries (`deriveAuditTrailKey`). */
  key: Uint8Array;
  /** The search-index key: an entry's patient is kept as an HMAC token under it. */
  searchIndexKey: Uint8Array;
  /** This gateway's organisation (chain address): the observer of every entry. */
  organization: string;
  logger: Logger;
  /**
   * Seals queued entries; by default on the event loop. The node passes its validation workers' sealer, so the
   * canonical JSON, hashing and encryption of every audited read run beside the event loop.
   */
  sealer?: (events: AccessEvent[]) => Promise<SealedAuditEntry[]>;
  now?: () => number;
}

const decoder = new TextDecoder();
const aadOf = auditAad;

/**
 * The anchored access audit trail: every access to a patient's data becomes a FHIR AuditEvent, sealed with
 * AES-256-GCM under the audit key, kept with an HMAC of the patient's id, and anchored like any record (kind
 * `audit.access`, content hash the SHA-256 of the AuditEvent's canonical JSON).
 *
 * Reads are hot, so recording costs the read nothing: `record` queues and returns; the entries of one event-loop
 * turn go to the ledger spine in one `appendHashes` call (and so one group commit). A failed write is logged as an
 * error and counted in `failures`, never thrown into the read that caused it.
 */
export class AccessAuditTrail implements AccessAudit {
  private readonly options: AccessAuditTrailOptions;
  private readonly now: () => number;
  private queue: Waiting[] = [];
  private scheduled = false;
  private readonly inflight = new Set<Promise<void>>();
  private failed = 0;

  constructor(options: AccessAuditTrailOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
  }

  /** Entries that could not be written since start (each also logged as an error). */
  get failures(): number {
    return this.failed;
  }

  /** Queues one entry; written with the others of this event-loop turn. Returns at once, never throws. */
  record(event: AccessEvent): void {
    this.enqueue(event).catch(() => undefined); // failures are logged and counted by the writer
  }

  /**
   * Queues one entry and resolves once it is durable; rejects with a 503 `AUDIT.NOT_RECORDED` if it could not be
   * written, so a caller discloses nothing whose access is not recorded (as `recordAccess` does for FHIR reads).
   */
  recordDurably(event: AccessEvent): Promise<void> {
    return this.enqueue(event);
  }

  /** Queues one entry; resolves once it is durable, rejects with a 503 if it could not be written. */
  private enqueue(event: AccessEvent): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ event, resolve, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      setImmediate(() => this.writeQueued());
    });
  }

  /**
   * The router's port: one access by `caller` to one patient's data. Resolves once the entry is on disk, so the
   * router serves nothing whose access is not recorded; rejects (503) when it could not be written.
   */
  recordAccess(caller: FhirCaller, details: AccessDetails): Promise<void> {
    let event: AccessEvent;
    try {
      event = {
        at: this.now(),
        organization: this.options.organization,
        agent: {
          tokenName: caller.tokenName ?? 'unknown',
          role: caller.role ?? 'unknown',
          subject: caller.subject ?? null,
          chainAddress: caller.practitioner ?? null,
        },
        patientId: details.patientId,
        action: details.action,
        entity: details.entity,
        purpose: purposeOf(caller),
        outcome: details.outcome,
        ...(details.reason !== undefined ? { reason: details.reason } : {}),
        ...(details.consentId !== undefined ? { consentId: details.consentId } : {}),
        ...(details.resultCount !== undefined ? { resultCount: details.resultCount } : {}),
        ...(details.counterpart !== undefined ? { counterpart: details.counterpart } : {}),
      };
    } catch (error) {
      this.lost(1, error);
      return Promise.reject(notRecorded(error));
    }
    return this.enqueue(event);
  }

  /** Writes what is queued now and resolves once every entry recorded so far is written (or has failed). */
  async flush(): Promise<void> {
    this.writeQueued();
    await Promise.all([...this.inflight]);
  }

  /** A patient's entries, newest first (decrypted); entries still queued are written first. */
  async search(
    patientId: string,
    { count, offset }: { count: number; offset: number },
  ): Promise<{ total: number; events: AuditEvent[] }> {
    await this.flush();
    const token = this.patientToken(patientId);
    const total = this.options.store.count(token);
    const rows = count > 0 ? this.options.store.search(token, count, offset) : [];
    return { total, events: rows.map((row) => JSON.parse(this.open(row)) as AuditEvent) };
  }

  /** One entry by its id: its canonical JSON as hashed, and the Patient it is about (null: none). */
  async read(id: string): Promise<{ json: string; patientId: string | null } | undefined> {
    await this.flush();
    const row = this.options.store.get(id);
    if (!row) return undefined;
    const json = this.open(row);
    const resource = JSON.parse(json) as AuditEvent;
    const patient = resource.entity?.find((e) => e.role?.code === '1')?.what?.reference;
    return { json, patientId: patient?.startsWith('Patient/') ? patient.slice(8) : null };
  }

  /** The anchoring proof of one entry (throws the spine's 409 until its batch is confirmed). */
  proof(id: string): unknown {
    const row = this.options.store.get(id);
    return row ? this.options.anchoring.getProof(row.recordId) : undefined;
  }

  private writeQueued(): void {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    const write = this.sealAll(batch).then((sealed) => {
      if (sealed.length === 0) return;
      return this.options.anchoring
        .appendHashes(
          sealed.map((s) => ({ kind: AUDIT_KIND, contentHash: s.entry.contentHash })),
          (receipts) =>
            this.options.store.insert(
              sealed.map((s, i) => ({ ...s.entry.row, recordId: (receipts[i] as { id: number }).id })),
            ),
        )
        .then(
          () => sealed.forEach((s) => s.waiting.resolve()),
          (error: unknown) => {
            this.lost(sealed.length, error);
            for (const s of sealed) s.waiting.reject(notRecorded(error));
          },
        );
    });
    const tracked: Promise<void> = write.then(
      () => {
        this.inflight.delete(tracked);
      },
      (error: unknown) => {
        // Sealing on the workers failed as a whole: nothing of this batch was written.
        this.inflight.delete(tracked);
        this.lost(batch.length, error);
        for (const w of batch) w.reject(notRecorded(error));
      },
    );
    this.inflight.add(tracked);
  }

  /** Seals the batch (on the workers when given a sealer); an entry that cannot be sealed is lost and logged. */
  private async sealAll(batch: Waiting[]): Promise<{ waiting: Waiting; entry: SealedAuditEntry }[]> {
    if (this.options.sealer) {
      const entries = await this.options.sealer(batch.map((w) => w.event));
      return entries.map((entry, i) => ({ waiting: batch[i] as Waiting, entry }));
    }
    const keys = { auditKey: this.options.key, searchIndexKey: this.options.searchIndexKey };
    return batch.flatMap((waiting) => {
      try {
        return [{ waiting, entry: sealAuditEntry(waiting.event, keys) }];
      } catch (error) {
        this.lost(1, error);
        waiting.reject(notRecorded(error));
        return [];
      }
    });
  }

  private open(row: AuditRow): string {
    return decoder.decode(decryptPayload(this.options.key, row.payload, aadOf(row.id)));
  }

  private patientToken(patientId: string): Uint8Array {
    return auditPatientToken(this.options.searchIndexKey, patientId);
  }

  private lost(entries: number, error: unknown): void {
    this.failed += entries;
    this.options.logger.error(
      { entries, failures: this.failed, err: error instanceof Error ? error.message : String(error) },
      'ACCESS AUDIT ENTRIES NOT WRITTEN: accesses to patient data went unrecorded',
    );
  }
}

/**
 * For `careledger audit`: the bytes an `audit.access` record anchors (the entry's canonical JSON, decrypted), or
 * why they cannot be read (the ciphertext no longer authenticates); undefined for records that are not entries.
 * Compose it with the FHIR store's resolver: `(id) => fhirResolver(id) ?? auditResolver(id)`.
 */
export function createAuditContentResolver(
  store: Pick<AuditStore, 'getByRecord'>,
  key: Uint8Array,
): (recordId: number) => ContentResolution | undefined {
  return (recordId) => {
    const row = store.getByRecord(recordId);
    if (!row) return undefined;
    const label = `AuditEvent/${row.id}`;
    try {
      return { label, bytes: decryptPayload(key, row.payload, aadOf(row.id)) };
    } catch {
      return { label, error: 'its stored ciphertext no longer authenticates (it was altered)' };
    }
  };
}

/**
 * The purpose of use an access is recorded under: a patient's own read is at their request (PATRQT unless they
 * declared another); staff reads as the consent check sees them (ETREAT for break-glass, else the declared purpose,
 * default TREAT). An unknown code (refused by the consent check when it runs) is recorded as the default.
 */
function purposeOf(caller: FhirCaller): string {
  try {
    return caller.patientId !== null ? parsePurposeOfUse(caller.purpose, 'PATRQT') : intentOf(caller).purpose;
  } catch {
    return caller.patientId !== null ? 'PATRQT' : 'TREAT';
  }
}
