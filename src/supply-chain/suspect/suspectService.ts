import type { HashAnchoring } from '../../anchoring/ports.js';
import { InvalidInputError, NotFoundError } from '../../core/errors.js';
import { toHex, type Hex } from '../../core/hex.js';
import { sha256 } from '../../core/sha256.js';
import { uuidv7 } from '../../core/uuidv7.js';
import { isCs82Char } from '../identifiers/characterSet82.js';
import { normalizeGtin } from '../identifiers/index.js';
import type {
  DocumentSigner,
  MinedTransaction,
  PackStore,
  SupplyLedger,
  SuspectLedger,
} from '../custody/ports.js';
import type { ReportDeliveryRow, ReportRecipientRole, StoredReport, SuspectStore } from './ports.js';
import { reportBytes, type IllegitimateProductReport, type ReportHandler } from './reportDocument.js';

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

export type { IllegitimateProductReport, ReportHandler } from './reportDocument.js';

/**
 * A report as served: the document, its hash, its anchoring record (for a report received: the anchored receipt),
 * the chain transaction, the finder's signature, and either whom it was delivered to (made here) or from whom it
 * came (received).
 */
export interface ReportView {
  id: string;
  /** When it was made here, or received here. */
  createdAt: string;
  gtin: string;
  lot: string;
  hash: Hex;
  recordId: number;
  transactionHash: Hex;
  blockNumber: number;
  /** The finder's signature over the document's canonical JSON (null: made before reports were signed). */
  signature: Hex | null;
  /** Made here, or received from its finder's gateway. */
  origin: 'made' | 'received';
  /** For a report received: its finder's organisation and name. */
  receivedFrom: { organization: Hex; name: string } | null;
  /** For a report made here: every organisation it is owed to, why, and whether its gateway acknowledged it. */
  deliveries: {
    organization: Hex;
    as: ReportRecipientRole[];
    deliveredAt: string | null;
    lastError: string | null;
  }[];
  document: IllegitimateProductReport;
}

export interface SuspectServiceOptions {
  self: Hex;
  /** Signs the notification reports with this organisation's chain key. */
  signer: Pick<DocumentSigner, 'sign'>;
  /** Every active member holding the REGULATOR role now (read from the chain). */
  regulators(): Promise<Hex[]>;
  /** Attempts the deliveries a report made here owes (see `ReportDeliveries`); resolves once each was tried. */
  deliverReport(reportId: string): Promise<void>;
  ledger: Pick<SupplyLedger, 'lot'> & SuspectLedger;
  packs: PackStore;
  store: SuspectStore;
  anchoring: HashAnchoring;
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
 * hash is the investigation's report hash on chain and which is anchored here, signed with this organisation's key
 * and delivered to every active regulator and every organisation that handled the packs (see `ReportDeliveries`).
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
    const bytes = reportBytes(document);
    const body = Buffer.from(bytes).toString('utf8');
    const digest = sha256(bytes);
    const reportHash = toHex(digest) as Hex;
    const signature = await this.options.signer.sign(bytes);
    // Who is owed the report is settled before anything is written: a chain that cannot say who the regulators are
    // fails the request now rather than leave a finding on chain that reaches no regulator.
    const deliveries = this.plannedDeliveries(
      document.id,
      document.handlers,
      await this.options.regulators(),
    );
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
        this.options.store.insertReport(
          {
            id: document.id,
            recordId,
            createdAt,
            gtin,
            lot,
            hash: reportHash,
            document: body,
            ...mined,
            signature,
            receivedFrom: null,
            receivedFromName: null,
          },
          deliveries,
        );
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
    // Attempted before the investigation is answered (bounded by the exchange timeout); what fails is retried later.
    await this.options.deliverReport(document.id);
    const report = this.report(document.id);
    return { gtin, lot, serials: serials ?? null, outcome: 'illegitimate', reportHash, ...mined, report };
  }

  /** Every active regulator and every handler of the packs but this organisation, each once, with why. */
  private plannedDeliveries(
    reportId: string,
    handlers: ReportHandler[],
    regulators: Hex[],
  ): ReportDeliveryRow[] {
    const self = this.options.self.toLowerCase();
    const planned = new Map<string, ReportDeliveryRow>();
    const add = (organization: Hex, as: ReportRecipientRole) => {
      const recipient = organization.toLowerCase() as Hex;
      if (recipient === self) return;
      const row = planned.get(recipient) ?? {
        reportId,
        recipient,
        as: [],
        deliveredAt: null,
        lastError: null,
      };
      if (!row.as.includes(as)) row.as.push(as);
      planned.set(recipient, row);
    };
    for (const regulator of regulators) add(regulator, 'regulator');
    for (const handler of handlers) add(handler.organization, 'handler');
    return [...planned.values()];
  }

  /** Reports made or received here, newest first; `pageToken` continues a previous page. */
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
      reports: page.map((row) => this.view(row)),
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
    return this.view(row);
  }

  /** The anchoring record of a report (for its proof). */
  recordIdOf(id: string): number {
    return this.report(id).recordId;
  }

  private view(row: StoredReport): ReportView {
    return {
      id: row.id,
      createdAt: new Date(row.createdAt).toISOString(),
      gtin: row.gtin,
      lot: row.lot,
      hash: row.hash,
      recordId: row.recordId,
      transactionHash: row.transactionHash,
      blockNumber: row.blockNumber,
      signature: row.signature,
      origin: row.receivedFrom === null ? 'made' : 'received',
      receivedFrom:
        row.receivedFrom === null
          ? null
          : { organization: row.receivedFrom, name: row.receivedFromName ?? row.receivedFrom },
      deliveries:
        row.receivedFrom === null
          ? this.options.store.deliveries(row.id).map((d) => ({
              organization: d.recipient,
              as: d.as,
              deliveredAt: d.deliveredAt === null ? null : new Date(d.deliveredAt).toISOString(),
              lastError: d.lastError,
            }))
          : [],
      document: JSON.parse(row.document) as IllegitimateProductReport,
    };
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
