import type { HashAnchoring } from '../../anchoring/ports.js';
import { canonicalJson } from '../../core/canonicalJson.js';
import { CareLedgerError, InvalidInputError, NotFoundError } from '../../core/errors.js';
import type { Hex } from '../../core/hex.js';
import type { Logger } from '../../core/logger.js';
import { sha256 } from '../../core/sha256.js';
import { uuidv7 } from '../../core/uuidv7.js';
import type { DocumentSigner, PackStore } from '../custody/ports.js';
import type { T3Row, T3Store } from './ports.js';
import { checkSignedT3 } from './signedT3.js';
import {
  T3_FORMAT,
  TRANSACTION_STATEMENT,
  t3SigningBytes,
  type SignedT3,
  type T3Document,
  type T3HistoryEntry,
} from './t3Document.js';

/** Anchoring kind of a T3. */
export const T3_KIND = 'dscsa.t3';

export interface T3ServiceOptions {
  self: { organization: Hex; name: string };
  signer: DocumentSigner;
  store: T3Store;
  packs: PackStore;
  anchoring: HashAnchoring;
  /** A member's name (for the buyer's party in the T3). */
  memberName(organization: Hex): Promise<string>;
  /** Delivers a signed T3 to its buyer's gateway (sealed and signed end to end); rejects if it could not. */
  deliver(buyer: Hex, signed: SignedT3): Promise<void>;
  logger: Logger;
  now?: () => number;
}

const hashOf = (signed: string) => Buffer.from(sha256(Buffer.from(signed, 'utf8'))).toString('hex');

/**
 * DSCSA transaction information, history and statement ("T3") for every change of ownership this organisation
 * makes as seller: built from the transfer (products, lots, expiries, serials, dates, parties, the chain
 * transaction), with the history of the T3s this organisation received for the same packs, signed with its chain
 * key, anchored, and delivered to the buyer's gateway; and the buyer's side, which checks the seller's signature
 * before keeping it. Both keep them for the buyer and for a regulator to read.
 */
export class T3Service {
  private readonly options: T3ServiceOptions;
  private readonly now: () => number;

  constructor(options: T3ServiceOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
  }

  /** Issues the T3 of one transfer as seller; resolves once it is stored and delivery was attempted. */
  async issue(transfer: {
    buyer: Hex;
    products: { gtin: string; lot: string; serials: string[] }[];
    shipmentEventId: string;
    shipmentTime: number;
    chainTransaction: Hex;
  }): Promise<SignedT3> {
    const { self, signer, store, packs } = this.options;
    const history = new Map<string, T3HistoryEntry>();
    for (const product of transfer.products) {
      for (const serial of product.serials) {
        for (const row of store.forPack(product.gtin, serial)) {
          if (row.direction !== 'received') continue;
          history.set(row.id, {
            t3: row.id,
            seller: row.seller,
            buyer: row.buyer,
            transactionDate: new Date(row.transactionDate).toISOString(),
            documentHash: row.documentHash,
          });
        }
      }
    }
    const now = this.now();
    const document: T3Document = {
      format: T3_FORMAT,
      id: uuidv7(now),
      transactionInformation: {
        products: transfer.products.map((p) => ({
          gtin: p.gtin,
          lot: p.lot,
          expiry: packs.pack(p.gtin, p.serials[0] as string)?.expiry ?? null,
          serials: [...p.serials].sort(),
          quantity: p.serials.length,
        })),
        transactionDate: new Date(now).toISOString(),
        shipmentDate: new Date(transfer.shipmentTime).toISOString(),
        seller: { organization: self.organization.toLowerCase() as Hex, name: self.name },
        buyer: {
          organization: transfer.buyer.toLowerCase() as Hex,
          name: await this.options.memberName(transfer.buyer).catch(() => transfer.buyer),
        },
        shipmentEventId: transfer.shipmentEventId,
        chainTransaction: transfer.chainTransaction,
      },
      transactionHistory: [...history.values()],
      transactionStatement: TRANSACTION_STATEMENT,
    };
    const signed: SignedT3 = {
      document,
      signature: await signer.sign(t3SigningBytes(document)),
      signer: signer.address.toLowerCase() as Hex,
    };
    await this.keep(signed, 'sent', now);
    // Attempted before the capture is answered (bounded by the exchange timeout); a failure leaves it for redelivery.
    await this.tryDeliver(signed);
    return signed;
  }

  /** The buyer's side: keeps a T3 its seller signed, delivered by `from` (the authenticated sending organisation). */
  async receive(input: unknown, from: Hex): Promise<{ id: string }> {
    const checked = await checkSignedT3(input, (bytes, signature) =>
      this.options.signer.recover(bytes, signature),
    );
    if ('defect' in checked) {
      const { code, message } = checked.defect;
      if (code === 'T3.MALFORMED') throw new InvalidInputError(code, message);
      throw new CareLedgerError(code, message, { status: 401, issueType: 'security' });
    }
    const { signed } = checked;
    const info = signed.document.transactionInformation;
    const seller = info.seller.organization.toLowerCase();
    if (seller !== from.toLowerCase()) {
      throw new CareLedgerError(
        'T3.WRONG_SENDER',
        `A T3 of seller ${seller} was delivered by ${from}: only the seller delivers its T3s.`,
        {
          status: 403,
          issueType: 'security',
        },
      );
    }
    if (info.buyer.organization.toLowerCase() !== this.options.self.organization.toLowerCase()) {
      throw new CareLedgerError(
        'T3.NOT_FOR_US',
        `The T3 ${signed.document.id} names buyer ${info.buyer.organization}, not this organisation.`,
        {
          status: 403,
          issueType: 'security',
        },
      );
    }
    if (this.options.store.get(signed.document.id)) return { id: signed.document.id }; // delivered again: kept once
    await this.keep(signed, 'received', Date.parse(info.transactionDate) || this.now());
    return { id: signed.document.id };
  }

  /** Delivers every sent T3 not yet acknowledged (after a restart, or when a buyer's gateway was away). */
  async deliverPending(): Promise<number> {
    let delivered = 0;
    for (const row of this.options.store.undelivered()) {
      if (await this.tryDeliver(JSON.parse(row.signed) as SignedT3)) delivered++;
    }
    return delivered;
  }

  /** The T3s naming a pack (sent and received), oldest first. */
  forPack(gtin: string, serial: string): SignedT3WithMeta[] {
    return this.options.store.forPack(gtin, serial).map(withMeta);
  }

  get(id: string): SignedT3WithMeta {
    const row = this.options.store.get(id);
    if (!row) throw new NotFoundError('T3.NOT_FOUND', `No T3 ${id.slice(0, 100)} here.`);
    return withMeta(row);
  }

  private async keep(
    signed: SignedT3,
    direction: T3Row['direction'],
    transactionDate: number,
  ): Promise<void> {
    const json = canonicalJson(signed);
    const info = signed.document.transactionInformation;
    const row: T3Row = {
      id: signed.document.id,
      direction,
      seller: info.seller.organization,
      buyer: info.buyer.organization,
      transactionDate,
      documentHash: hashOf(json),
      signed: json,
      deliveredAt: null,
      packs: info.products.flatMap((p) => p.serials.map((serial) => ({ gtin: p.gtin, serial }))),
    };
    await this.options.anchoring.appendHashes(
      [{ kind: T3_KIND, contentHash: sha256(Buffer.from(json, 'utf8')) }],
      ([record]) => this.options.store.insert({ ...row, recordId: (record as { id: number }).id }),
    );
  }

  private async tryDeliver(signed: SignedT3): Promise<boolean> {
    try {
      await this.options.deliver(signed.document.transactionInformation.buyer.organization, signed);
      this.options.store.markDelivered(signed.document.id, this.now());
      return true;
    } catch (error) {
      this.options.logger.warn(
        { t3: signed.document.id, err: error instanceof Error ? error.message : String(error) },
        'could not deliver a T3 to its buyer; it is retried later',
      );
      return false;
    }
  }
}

export interface SignedT3WithMeta extends SignedT3 {
  direction: T3Row['direction'];
  documentHash: string;
  deliveredAt: string | null;
}

function withMeta(row: T3Row): SignedT3WithMeta {
  return {
    ...(JSON.parse(row.signed) as SignedT3),
    direction: row.direction,
    documentHash: row.documentHash,
    deliveredAt: row.deliveredAt === null ? null : new Date(row.deliveredAt).toISOString(),
  };
}
