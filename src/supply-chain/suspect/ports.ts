/** One quarantine or investigation made here: the text whose hash went on chain stays here. */
export interface SuspectAction {
  action: 'quarantine' | 'investigation';
  gtin: string;
  lot: string;
  /** The packs named; null for the whole lot. */
  serials: string[] | null;
  outcome: 'cleared' | 'illegitimate' | null;
  /** The quarantine's reason or the investigation's report, as given. */
  text: string;
  /** What went on chain: the SHA-256 of `text`, or for an illegitimate finding the notification report's hash. */
  textHash: `0x${string}`;
  reportId: string | null;
  transactionHash: `0x${string}`;
  blockNumber: number;
  /** ms since the epoch */
  createdAt: number;
}

/** An illegitimate-product notification report, as stored (its anchoring record's hash covers `document`). */
export interface StoredReport {
  id: string;
  recordId: number;
  /** ms since the epoch */
  createdAt: number;
  gtin: string;
  lot: string;
  /** 0x SHA-256 of `document` (canonical JSON): on chain as the investigation's report hash. */
  hash: `0x${string}`;
  /** The report, as canonical JSON. */
  document: string;
  transactionHash: `0x${string}`;
  blockNumber: number;
}

/** Storage of quarantines, investigations and reports. `insertReport` runs inside the report's anchoring commit. */
export interface SuspectStore {
  recordAction(action: SuspectAction): void;
  insertReport(report: StoredReport): void;
  /** Newest first; `before`: the `createdAt`/`id` of the last report of the previous page. */
  reports(page: { limit: number; before?: { createdAt: number; id: string } | undefined }): StoredReport[];
  report(id: string): StoredReport | undefined;
}
