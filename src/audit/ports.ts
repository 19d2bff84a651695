/** One audit entry as stored: the sealed FHIR AuditEvent, its anchoring record, and an HMAC of its patient. */
export interface AuditRow {
  /** The anchoring record of the entry (its hash is the SHA-256 of the AuditEvent's canonical JSON). */
  recordId: number;
  /** The AuditEvent's id (UUIDv7). */
  id: string;
  /** ms since the epoch */
  at: number;
  /** HMAC token of the patient whose data was accessed (null: none), so the table alone names no one. */
  patientToken: Uint8Array | null;
  /** The AuditEvent's canonical JSON sealed with AES-256-GCM under the audit trail's key. */
  payload: Uint8Array;
}

/**
 * Storage port of the access audit trail. `insert` runs inside the anchoring commit (the same transaction as the
 * entries' anchoring records); everything else reads.
 */
export interface AuditStore {
  insert(rows: readonly AuditRow[]): void;
  /** A patient's entries, newest first. */
  search(patientToken: Uint8Array, count: number, offset: number): AuditRow[];
  count(patientToken: Uint8Array): number;
  get(id: string): AuditRow | undefined;
  /** The entry an anchoring record stands for (for `careledger audit`). */
  getByRecord(recordId: number): AuditRow | undefined;
}

/** What the audit trail needs from the ledger spine: anchor hashes together with its rows, and proofs. */
export interface AuditAnchoring {
  appendHashes(
    items: { kind: string; contentHash: Uint8Array }[],
    withinCommit?: (receipts: { id: number }[]) => void,
  ): Promise<{ id: number }[]>;
  getProof(recordId: number): unknown;
}
