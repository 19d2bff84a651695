import { canonicalJson } from '../../core/canonicalJson.js';
import { InvalidInputError, NotFoundError } from '../../core/errors.js';
import { toHex, type Hex } from '../../core/hex.js';
import { sha256 } from '../../core/sha256.js';
import { uuidv7 } from '../../core/uuidv7.js';
import { isCs82Char } from '../identifiers/characterSet82.js';
import { normalizeGtin } from '../identifiers/index.js';
import type { MinedTransaction, PackStore, SupplyLedger, SuspectLedger } from '../custody/ports.js';
import type { StoredReport, SuspectStore } from './ports.js';

/** Anchoring record kind of an illegitimate-product notification report. */
export const ILLEGITIMATE_REPORT_KIND = 'supply.illegitimate-report';
/** Most packs in one quarantine or investigation (the registry's batch limit). */
export const MAX_SUSPECT_PACKS = 256;
const MAX_TEXT = 10_000;

export interface QuarantineRequest {
  gtin: string;
  lot: string;
  serials?: string[] | undefined;
  reason: string;
}

export interface InvestigationRequest {
  gtin: string;
  lot: string;
  serials?: string[] | undefined;
  outcome: 'cleared' | 'illegitimate';
  report: string;
}

/** An organisation that handled the packs, and how. */
export interface ReportHandler {
  organization: Hex;
  roles: ('manufacturer' | 'sender' | 'recipient')[];
}

/** The illegitimate-product notification report (the JSON document whose hash is anchored and on chain). */
export interface IllegitimateProductReport {
  type: 'IllegitimateProductNotification';
  id: string;
  product: { gtin: string };
  lot: string;
  /** The packs found illegitimate; `scope: 'lot'` when the whole lot was. */
  packs: { scope: 'packs'; serials: string[] } | { scope: 'lot' };
  finding: { outcome: 'illegitimate'; report: string };
  investigatedBy: Hex;
  investigatedAt: string;
  /** The lot's manufacturer, then every sender and recipient of the packs on chain, in order of first appearance. */
  handlers: ReportHandler[];
}

/** A report as served: the document, its hash, its anchoring record and the chain transaction. */
export interface ReportView {
  id: string;
  createdAt: string;
  gtin: string;
  lot: string;
  hash: Hex;
  recordId: number;
  transactionHash: Hex;
  blockNumber: number;
  document: IllegitimateProductReport;
}

export interface SuspectServiceOptions {
  self: Hex;
  ledger: Pick<SupplyLedger, 'lot'> & SuspectLedger;
  packs: PackStore;
  store: SuspectStore;
  anchoring: {
    appendHashes(
      items: { kind: string; contentHash: Uint8Array }[],
      withinCommit?: (receipts: { id: number }[]) => void,
    ): Promise<{ id: number }[]>;
  };
  now?: () => number;
}

const bad = (field: string, message: string) =>
  new InvalidInputError('SUPPLY.INVALID_SUSPECT_REQUEST', message, { details: { field } });

const hashOf = (text: string) => toHex(sha256(Buffer.from(text, 'utf8'))) as Hex;

/** The request's GTIN (14 digits), lot and serials, checked, with messages that say what to send. */
function checkTarget(input: { gtin: string; lot: string; serials?: string[] | undefined }): {
  gtin: string;
  lot: string;
  serials: string[] | undefined;
} {
  const gtin = normalizeGtin(input.gtin);
  const cs82 = (value: string, field: string) => {
    if (value.length < 1 || value.length > 20 || ![...value].every(isCs82Char)) {
      throw bad(
        field,
        `The ${field} ${JSON.stringify(value.slice(0, 40))} must be 1 to 20 characters of GS1 character set 82.`,
      );
    }
  };
  cs82(input.lot, 'lot');
  if (input.serials === undefined) return { gtin, lot: input.lot, serials: undefined };
  if (input.serials.length === 0) {
    throw bad(
      'serials',
      'serials is empty: list the packs concerned, or leave serials out for the whole lot.',
    );
  }
  if (input.serials.length > MAX_SUSPECT_PACKS) {
    throw bad('serials', `At most ${MAX_SUSPECT_PACKS} packs at once; send the others in further requests.`);
  }
  for (const serial of input.serials) cs82(serial, 'serial');
  const duplicate = input.serials.find((s, i) => input.serials?.indexOf(s) !== i);
  if (duplicate !== undefined) throw bad('serials', `Serial ${duplicate} is listed twice.`);
  return { gtin, lot: input.lot, serials: input.serials };
}

function checkText(text: string, field: string): void {
  if (text.trim().length === 0 || text.length > MAX_TEXT) {
    throw bad(field, `${field} must be 1 to ${MAX_TEXT} characters and not blank.`);
  }
}

/**
 * Suspect product (DSCSA): a partner quarantines packs or a whole lot on chain (the reason stays here, its hash goes
 * on chain), then records the investigation's outcome. An illegitimate finding produces a notification report — the
 * product, lot, packs, finding, investigator, time and every organisation that handled the packs on chain — whose
 * hash is the investigation's report hash on chain and which is anchored here; partners learn of it from the chain
 * event through their own gateways.
 */
export class SuspectService {
  private readonly options: SuspectServiceOptions;
  private readonly now: () => number;

  constructor(options: SuspectServiceOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
  }

  async quarantine(
    request: QuarantineRequest,
  ): Promise<MinedTransaction & { gtin: string; lot: string; serials: string[] | null; reasonHash: Hex }> {
    const { gtin, lot, serials } = checkTarget(request);
    checkText(request.reason, 'reason');
    await this.requireLot(gtin, lot);
    const reasonHash = hashOf(request.reason);
    const commissioned = this.options.packs.commissionedSerials(gtin, lot).map((p) => p.serial);
    const mined = await this.options.ledger.markSuspect({
      gtin,
      lot,
      serials,
      reasonHash,
      lotSerials: commissioned.length > 0 ? commissioned : undefined,
    });
    this.options.store.recordAction({
      action: 'quarantine',
      gtin,
      lot,
      serials: serials ?? null,
      outcome: null,
      text: request.reason,
      textHash: reasonHash,
      reportId: null,
      ...mined,
      createdAt: this.now(),
    });
    return { gtin, lot, serials: serials ?? null, reasonHash, ...mined };
  }

  async investigate(request: InvestigationRequest): Promise<
    MinedTransaction & {
      gtin: string;
      lot: string;
      serials: string[] | null;
      outcome: 'cleared' | 'illegitimate';
      reportHash: Hex;
      report?: ReportView;
    }
  > {
    const { gtin, lot, serials } = checkTarget(request);
    checkText(request.report, 'report');
    if (request.outcome !== 'cleared' && request.outcome !== 'illegitimate') {
      throw bad('outcome', 'outcome must be "cleared" or "illegitimate".');
    }
    const chainLot = await this.requireLot(gtin, lot);
    const createdAt = this.now();
    if (request.outcome === 'cleared') {
      const reportHash = hashOf(request.report);
      const mined = await this.options.ledger.recordInvestigation({
        gtin,
        lot,
        serials,
        outcome: 'cleared',
        reportHash,
      });
      this.options.store.recordAction({
        action: 'investigation',
        gtin,
        lot,
        serials: serials ?? null,
        outcome: 'cleared',
        text: request.report,
        textHash: reportHash,
        reportId: null,
        ...mined,
        createdAt,
      });
      return { gtin, lot, serials: serials ?? null, outcome: 'cleared', reportHash, ...mined };
    }

    const handlers = new Map<string, ReportHandler>();
    const add = (organization: Hex, role: ReportHandler['roles'][number]) => {
      const key = organization.toLowerCase() as Hex;
      const entry = handlers.get(key) ?? { organization: key, roles: [] };
      if (!entry.roles.includes(role)) entry.roles.push(role);
      handlers.set(key, entry);
    };
    add(chainLot.manufacturer, 'manufacturer');
    const transfers = await this.options.ledger.transfersOf(gtin, lot, serials);
    for (const t of transfers) {
      add(t.from, 'sender');
      add(t.to, 'recipient');
    }
    const document: IllegitimateProductReport = {
      type: 'IllegitimateProductNotification',
      id: uuidv7(createdAt),
      product: { gtin },
      lot,
      packs: serials ? { scope: 'packs', serials } : { scope: 'lot' },
      finding: { outcome: 'illegitimate', report: request.report },
      investigatedBy: this.options.self.toLowerCase() as Hex,
      investigatedAt: new Date(createdAt).toISOString(),
      handlers: [...handlers.values()],
    };
    const body = canonicalJson(document);
    const digest = sha256(Buffer.from(body, 'utf8'));
    const reportHash = toHex(digest) as Hex;
    const mined = await this.options.ledger.recordInvestigation({
      gtin,
      lot,
      serials,
      outcome: 'illegitimate',
      reportHash,
    });
    let recordId = 0;
    await this.options.anchoring.appendHashes(
      [{ kind: ILLEGITIMATE_REPORT_KIND, contentHash: digest }],
      (receipts) => {
        recordId = (receipts[0] as { id: number }).id;
        this.options.store.insertReport({
          id: document.id,
          recordId,
          createdAt,
          gtin,
          lot,
          hash: reportHash,
          document: body,
          ...mined,
        });
        this.options.store.recordAction({
          action: 'investigation',
          gtin,
          lot,
          serials: serials ?? null,
          outcome: 'illegitimate',
          text: request.report,
          textHash: reportHash,
          reportId: document.id,
          ...mined,
          createdAt,
        });
      },
    );
    const report = this.report(document.id);
    return { gtin, lot, serials: serials ?? null, outcome: 'illegitimate', reportHash, ...mined, report };
  }

  /** Reports made here, newest first; `pageToken` continues a previous page. */
  reports(query: { limit?: number | undefined; pageToken?: string | undefined }): {
    reports: ReportView[];
    nextPageToken: string | null;
  } {
    const limit = Math.min(Math.max(query.limit ?? 50, 1), 500);
    let before: { createdAt: number; id: string } | undefined;
    if (query.pageToken !== undefined) {
      const [at, id] = Buffer.from(query.pageToken, 'base64url').toString('utf8').split('|');
      if (!at || !id || !/^\d+$/.test(at)) throw bad('pageToken', 'pageToken is not one this server gave.');
      before = { createdAt: Number(at), id };
    }
    const rows = this.options.store.reports({ limit: limit + 1, before });
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      reports: page.map(view),
      nextPageToken:
        rows.length > limit && last
          ? Buffer.from(`${last.createdAt}|${last.id}`, 'utf8').toString('base64url')
          : null,
    };
  }

  report(id: string): ReportView {
    const row = this.options.store.report(id);
    if (!row) {
      throw new NotFoundError(
        'SUPPLY.REPORT_NOT_FOUND',
        `No notification report ${id.slice(0, 60)} at this gateway.`,
      );
    }
    return view(row);
  }

  /** The anchoring record of a report (for its proof). */
  recordIdOf(id: string): number {
    return this.report(id).recordId;
  }

  private async requireLot(gtin: string, lot: string) {
    const found = await this.options.ledger.lot(gtin, lot);
    if (!found) {
      throw new NotFoundError(
        'SUPPLY.UNKNOWN_LOT',
        `The chain knows no lot ${lot} of GTIN ${gtin}: check the lot number printed on the pack.`,
      );
    }
    return found;
  }
}

function view(row: StoredReport): ReportView {
  return {
    id: row.id,
    createdAt: new Date(row.createdAt).toISOString(),
    gtin: row.gtin,
    lot: row.lot,
    hash: row.hash,
    recordId: row.recordId,
    transactionHash: row.transactionHash,
    blockNumber: row.blockNumber,
    document: JSON.parse(row.document) as IllegitimateProductReport,
  };
}
