import { Value } from '@sinclair/typebox/value';
import type { HashAnchoring } from '../../anchoring/ports.js';
import { CareLedgerError, ConflictError, InvalidInputError } from '../../core/errors.js';
import { toHex, type Hex } from '../../core/hex.js';
import type { Logger } from '../../core/logger.js';
import { sha256 } from '../../core/sha256.js';
import type { DocumentSigner } from '../custody/ports.js';
import type { ReportDeliveryRow, SuspectStore } from './ports.js';
import {
  REPORT_DELIVERY_FORMAT,
  SignedReportSchema,
  reportBytes,
  type IllegitimateProductReport,
  type SignedReport,
} from './reportDocument.js';

/** Anchoring record kind of a report received from its finder (content hash: the report's hash, as on chain). */
export const REPORT_RECEIPT_KIND = 'supply.illegitimate-report.receipt';

export interface ReportDeliveriesOptions {
  store: SuspectStore;
  signer: Pick<DocumentSigner, 'recover'>;
  /** The finder's standing, read from the chain afresh. */
  standing(organization: Hex): Promise<{ active: boolean }>;
  /** The investigations a mined transaction recorded on the registry (empty: none, or no such transaction). */
  investigationsIn(
    transactionHash: Hex,
  ): Promise<{ by: Hex; outcome: 'cleared' | 'illegitimate'; reportHash: Hex }[]>;
  anchoring: HashAnchoring;
  memberName(organization: Hex): Promise<string>;
  /** Delivers a signed report to a member's gateway (sealed and signed end to end); rejects if it could not. */
  deliver(recipient: Hex, report: SignedReport): Promise<void>;
  logger: Logger;
  now?: () => number;
}

const refused = (code: string, message: string, status = 403) =>
  new CareLedgerError(code, message, { status, issueType: 'security' });

/**
 * Illegitimate-product reports between gateways (DSCSA: notify the regulator and the trading partners): the finder's
 * side delivers each report it made to every recipient planned with it — active regulators and every organisation
 * that handled the packs — and keeps trying those not acknowledged; the receiving side keeps a report only once it
 * checked the finder signed it, the finder is an active member and delivered it itself, and the chain holds the
 * document's hash as that finder's illegitimate finding. A report delivered again is kept once.
 */
export class ReportDeliveries {
  private readonly options: ReportDeliveriesOptions;
  private readonly now: () => number;
  /** Deliveries under way (report|recipient): a retry never races the first attempt. */
  private readonly sending = new Set<string>();
  /** Receipts under way by report id: a redelivery arriving meanwhile waits for the first instead of racing it. */
  private readonly receiving = new Map<string, Promise<{ id: string }>>();

  constructor(options: ReportDeliveriesOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
  }

  /** Attempts every unacknowledged delivery of the report `reportId`, in parallel; resolves when all were tried. */
  async deliverReport(reportId: string): Promise<void> {
    const pending = this.options.store.deliveries(reportId).filter((d) => d.deliveredAt === null);
    await Promise.all(pending.map((d) => this.tryDeliver(d)));
  }

  /** Attempts every delivery not yet acknowledged (after a restart, or when a recipient's gateway was away). */
  async deliverPending(): Promise<number> {
    const results = await Promise.all(this.options.store.pendingDeliveries().map((d) => this.tryDeliver(d)));
    return results.filter(Boolean).length;
  }

  /** The recipient's side: keeps a report delivered by `from` (the authenticated sending organisation). */
  receive(input: unknown, from: Hex): Promise<{ id: string }> {
    const id = (input as { document?: { id?: unknown } } | null)?.document?.id;
    const key = typeof id === 'string' ? id : null;
    const running = key === null ? undefined : this.receiving.get(key);
    if (running) return running;
    const work = this.check(input, from).finally(() => {
      if (key !== null) this.receiving.delete(key);
    });
    if (key !== null) this.receiving.set(key, work);
    return work;
  }

  private async check(input: unknown, from: Hex): Promise<{ id: string }> {
    if (!Value.Check(SignedReportSchema, input)) {
      const first = Value.Errors(SignedReportSchema, input).First();
      throw new InvalidInputError(
        'SUPPLY.REPORT_MALFORMED',
        `This is not a signed illegitimate-product report: ${first?.path || '/'}: ${first?.message ?? 'invalid'}.`,
      );
    }
    const signed = input as SignedReport;
    const { document } = signed;
    const finder = document.investigatedBy.toLowerCase() as Hex;
    const bytes = reportBytes(document);
    const recovered = await this.options.signer.recover(bytes, signed.signature);
    if (!recovered || recovered.toLowerCase() !== finder || signed.signer.toLowerCase() !== finder) {
      throw refused(
        'SUPPLY.REPORT_BAD_SIGNATURE',
        `The report ${document.id} is not signed by its finder ${finder}.`,
        401,
      );
    }
    if (finder !== from.toLowerCase()) {
      throw refused(
        'SUPPLY.REPORT_WRONG_SENDER',
        `A report found by ${finder} was delivered by ${from}: only the finder delivers its reports.`,
      );
    }
    if (!(await this.options.standing(finder)).active) {
      throw refused(
        'SUPPLY.REPORT_FINDER_INACTIVE',
        `The report's finder ${finder} is not an active member of the consortium; its report is not kept.`,
      );
    }
    if (this.options.store.report(document.id)) return { id: document.id }; // delivered again: kept once
    const digest = sha256(bytes);
    const hash = toHex(digest).toLowerCase() as Hex;
    const recorded = await this.options.investigationsIn(signed.transactionHash);
    if (!recorded.some((r) => r.by === finder && r.outcome === 'illegitimate' && r.reportHash === hash)) {
      throw new ConflictError(
        'SUPPLY.REPORT_NOT_ON_CHAIN',
        `The transaction ${signed.transactionHash} records no illegitimate finding by ${finder} with this report's hash ${hash}; the report is not kept.`,
      );
    }
    const name = await this.options.memberName(finder).catch(() => finder);
    await this.options.anchoring.appendHashes(
      [{ kind: REPORT_RECEIPT_KIND, contentHash: digest }],
      ([receipt]) =>
        this.options.store.insertReport({
          id: document.id,
          recordId: (receipt as { id: number }).id,
          createdAt: this.now(),
          gtin: document.product.gtin,
          lot: document.lot,
          hash,
          document: Buffer.from(bytes).toString('utf8'),
          transactionHash: signed.transactionHash,
          blockNumber: signed.blockNumber,
          signature: signed.signature,
          receivedFrom: finder,
          receivedFromName: name,
        }),
    );
    return { id: document.id };
  }

  private async tryDeliver(delivery: ReportDeliveryRow): Promise<boolean> {
    const key = `${delivery.reportId}|${delivery.recipient}`;
    if (this.sending.has(key)) return false;
    this.sending.add(key);
    try {
      const report = this.options.store.report(delivery.reportId);
      if (!report || report.signature === null) return false; // made before reports were signed: nothing to send
      const document = JSON.parse(report.document) as IllegitimateProductReport;
      await this.options.deliver(delivery.recipient, {
        format: REPORT_DELIVERY_FORMAT,
        document,
        signature: report.signature,
        signer: document.investigatedBy,
        transactionHash: report.transactionHash,
        blockNumber: report.blockNumber,
      });
      this.options.store.markDelivered(delivery.reportId, delivery.recipient, this.now());
      return true;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.options.store.markDeliveryFailed(delivery.reportId, delivery.recipient, message.slice(0, 500));
      this.options.logger.warn(
        { report: delivery.reportId, recipient: delivery.recipient, err: message },
        'could not deliver an illegitimate-product report; it is retried later',
      );
      return false;
    } finally {
      this.sending.delete(key);
    }
  }
}
