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
  /** The finder's signature over `document` (null: a report made before reports were signed). */
  signature: `0x${string}` | null;
  /** The finder's gateway that delivered it here, and its name then (both null: made here). */
  receivedFrom: `0x${string}` | null;
  receivedFromName: string | null;
}

/** Why an organisation gets a report: it holds the REGULATOR role, or it handled the packs. */
export type ReportRecipientRole = 'regulator' | 'handler';

/** One delivery of a report made here to another organisation's gateway. */
export interface ReportDeliveryRow {
  reportId: string;
  recipient: `0x${string}`;
  as: ReportRecipientRole[];
  /** ms since the epoch: when its gateway acknowledged it; null while not delivered. */
  deliveredAt: number | null;
  /** Why the last attempt failed (null: none failed, or delivered). */
  lastError: string | null;
}

/**
 * Storage of quarantines, investigations and reports. `insertReport` runs inside the report's anchoring commit, with
 * the deliveries it owes (none for a report received).
 */
export interface SuspectStore {
  recordAction(action: SuspectAction): void;
  insertReport(report: StoredReport, deliveries?: readonly ReportDeliveryRow[]): void;
  /** The deliveries of a report made here, in the order they were planned. */
  deliveries(reportId: string): ReportDeliveryRow[];
  /** Every delivery not acknowledged yet, oldest report first. */
  pendingDeliveries(): ReportDeliveryRow[];
  markDelivered(reportId: string, recipient: `0x${string}`, at: number): void;
  markDeliveryFailed(reportId: string, recipient: `0x${string}`, error: string): void;
  /** Newest first; `before`: the `createdAt`/`id` of the last report of the previous page. */
  reports(page: { limit: number; before?: { createdAt: number; id: string } | undefined }): StoredReport[];
  report(id: string): StoredReport | undefined;
}
