import type { SearchQuery } from './search/index.js';

/** A stored version of a FHIR resource (its JSON sealed with the key named by `keyId`; null for a delete). */
export interface StoredVersion {
  resourceType: string;
  id: string;
  version: number;
  /** ms since the epoch */
  lastUpdated: number;
  deleted: boolean;
  keyId: string;
  payload: Uint8Array | null;
  contentHash: Uint8Array;
  recordId: number;
}

/** The current state of a resource. */
export interface CurrentResource {
  resourceType: string;
  id: string;
  version: number;
  lastUpdated: number;
  deleted: boolean;
  patientId: string | null;
  keyId: string;
}

/** What the search index holds for one current version (see `src/records/search`). */
export interface IndexEntries {
  tokens: { param: string; token: Uint8Array }[];
  dates: { param: string; low: number; high: number }[];
  /**
   * The code systems of its clear codes (escaped), which a search for a code in any system expands to (see
   * `search/tokenScheme.ts`); the store keeps every one it has been given.
   */
  systems?: { param: string; system: string }[];
}

/** One version to write inside the anchoring commit. */
export interface VersionWrite {
  version: StoredVersion;
  patientId: string | null;
  /** The new search index of the resource; null for a delete (index rows removed). */
  index: IndexEntries | null;
}

export interface DataKeyRow {
  keyId: string;
  wrappedKey: Uint8Array | null;
  createdAt: number;
  erasedAt: number | null;
}

/**
 * Storage port of the FHIR record store. `writeVersions` and `insertKeys` are called inside the anchoring commit
 * (the same SQLite transaction as the anchoring records); everything else reads.
 */
export interface FhirStore {
  getCurrent(resourceType: string, id: string): CurrentResource | undefined;
  /** The current state and its stored version in one lookup (the read path). */
  getCurrentWithVersion(
    resourceType: string,
    id: string,
  ): { current: CurrentResource; version: StoredVersion } | undefined;
  getVersion(resourceType: string, id: string, version: number): StoredVersion | undefined;
  getVersionByRecord(recordId: number): StoredVersion | undefined;
  /** Versions newest first; of one resource when `id` is given, else of the whole type. */
  history(
    resourceType: string,
    id: string | undefined,
    count: number,
    offset: number,
  ): { versions: StoredVersion[]; total: number };
  search(query: SearchQuery): { resources: CurrentResource[]; total: number };
  /** The (escaped) code systems a clear token parameter of the type has been written with, in no special order. */
  codeSystems(resourceType: string, param: string): readonly string[];
  getKey(keyId: string): DataKeyRow | undefined;
  insertKeys(keys: { keyId: string; wrappedKey: Uint8Array; createdAt: number }[]): void;
  writeVersions(writes: VersionWrite[]): void;
  /**
   * Destroys a data key and drops the search index of everything it protected; returns how many current (not deleted)
   * resources it protected.
   */
  eraseKey(keyId: string, at: number): number;
  /** Every version sealed with a key, for the audit. */
  iterateVersions(): Iterable<StoredVersion>;
}

/** What the FHIR store needs from the ledger spine: anchor hashes atomically with its own rows, and proofs. */
export interface RecordAnchoring {
  appendHashes(
    items: { kind: string; contentHash: Uint8Array }[],
    withinCommit?: (receipts: { id: number }[]) => void,
  ): Promise<{ id: number }[]>;
  getProof(recordId: number): unknown;
  /** Resolves once everything committed so far is on stable storage (for writes made outside `appendHashes`). */
  whenDurable(): Promise<void>;
}
