import { canonicalJson } from '../../core/canonicalJson.js';
import { InvalidInputError, NotFoundError } from '../../core/errors.js';
import type { Hex } from '../../core/hex.js';
import { sha256 } from '../../core/sha256.js';
import type { DocumentSigner } from '../custody/ports.js';
import { isCs82Char } from '../identifiers/characterSet82.js';
import { normalizeGtin } from '../identifiers/index.js';
import type { HolderAnswer, T3Audit, T3Ledger, T3Store } from './ports.js';
import { checkSignedT3, t3NamesPack } from './signedT3.js';
import type { SignedT3 } from './t3Document.js';

/** How an organisation handled the pack, on chain. */
export type HandlerRole = 'manufacturer' | 'seller' | 'buyer';

/** One organisation asked, and what came of it. */
export interface T3Source {
  organization: Hex;
  name: string;
  roles: HandlerRole[];
  /** ok: answered (maybe with nothing); refused: declined, see code and message; unreachable / rejected: see message. */
  status: HolderAnswer['status'];
  code?: string;
  message?: string;
  /** T3s in its answer, and how many of them passed every check. */
  received: number;
  verified: number;
}

/** A T3 that failed a check, and which holder sent it. Never merged into the result. */
export interface DroppedT3 {
  source: Hex;
  /** The T3's id when it could be read. */
  t3: string | null;
  code: string;
  message: string;
}

/** A verified T3, with the SHA-256 of its canonical JSON and every holder that sent this very document. */
export interface RetrievedT3 extends SignedT3 {
  documentHash: string;
  heldBy: Hex[];
}

export interface T3RetrievalResult {
  gtin: string;
  serial: string;
  /** Oldest first; one entry per T3 however many holders sent it. */
  t3: RetrievedT3[];
  sources: T3Source[];
  dropped: DroppedT3[];
}

export interface T3RetrievalOptions {
  self: Hex;
  ledger: T3Ledger;
  /** Asks one holder's gateway for its T3s of the pack (sealed, signed, bounded in time); never throws for the holder's failures. */
  ask(holder: Hex, query: { gtin: string; serial: string; requestedBy: string }): Promise<HolderAnswer>;
  /** This organisation's own T3s, when it handled the pack itself. */
  local: Pick<T3Store, 'forPack'>;
  recover: DocumentSigner['recover'];
  audit: T3Audit;
}

const hashOf = (signed: SignedT3) =>
  Buffer.from(sha256(Buffer.from(canonicalJson(signed), 'utf8'))).toString('hex');

/** The request's GTIN (any length, returned as GTIN-14) and serial (1 to 20 characters of set 82), checked. */
function checkPack(gtin: string, serial: string): { gtin: string; serial: string } {
  const gtin14 = normalizeGtin(gtin);
  if (serial.length < 1 || serial.length > 20 || ![...serial].every(isCs82Char)) {
    throw new InvalidInputError(
      'T3.INVALID_SERIAL',
      `The serial ${JSON.stringify(serial.slice(0, 40))} must be 1 to 20 characters of GS1 character set 82, as printed after (21) on the pack.`,
      { details: { field: 'serial' } },
    );
  }
  return { gtin: gtin14, serial };
}

/**
 * The requesting side of a T3 request (a regulator's, typically): finds on chain every organisation that handled
 * the pack — its manufacturer and the sender and recipient of every transfer — asks each one's gateway for its T3s
 * of the pack, verifies every T3 (a signed T3 whose signature recovers its seller's organisation address, naming
 * the pack), drops and reports the ones that fail, and merges the copies the seller and the buyer both sent. A
 * holder that is down, refuses or answers nonsense is reported as such while the others answer. Each holder asked
 * leaves an entry in the audit trail.
 */
export class T3Retrieval {
  private readonly options: T3RetrievalOptions;

  constructor(options: T3RetrievalOptions) {
    this.options = options;
  }

  /** `requestedBy`, `role`: the token asking here (its name and role), for the audit trails on both sides. */
  async retrieve(request: {
    gtin: string;
    serial: string;
    requestedBy: string;
    role?: string | undefined;
  }): Promise<T3RetrievalResult> {
    const { gtin, serial } = checkPack(request.gtin, request.serial);
    const { manufacturer, transfers } = await this.options.ledger.handlersOfPack(gtin, serial);
    if (!manufacturer) {
      throw new NotFoundError(
        'T3.UNKNOWN_PRODUCT',
        `The chain knows no product with GTIN ${gtin}: check the GTIN printed on the pack (after (01)).`,
      );
    }
    const roles = new Map<Hex, HandlerRole[]>();
    const add = (organization: Hex, role: HandlerRole) => {
      const key = organization.toLowerCase() as Hex;
      const list = roles.get(key) ?? [];
      if (!list.includes(role)) list.push(role);
      roles.set(key, list);
    };
    add(manufacturer, 'manufacturer');
    for (const t of transfers) {
      add(t.from, 'seller');
      add(t.to, 'buyer');
    }
    const self = this.options.self.toLowerCase() as Hex;
    const query = { gtin, serial, requestedBy: request.requestedBy.slice(0, 200) || 'unknown' };
    const answers = await Promise.all(
      [...roles.keys()].map(async (holder): Promise<[Hex, HolderAnswer]> => {
        if (holder === self) {
          const own = this.options.local.forPack(gtin, serial).map((r) => r.signed);
          return [holder, { status: 'ok', name: 'this organisation', t3: own }];
        }
        return [holder, await this.options.ask(holder, query)];
      }),
    );

    const merged = new Map<string, RetrievedT3>();
    const dropped: DroppedT3[] = [];
    const sources: T3Source[] = [];
    for (const [holder, answer] of answers) {
      const source: T3Source = {
        organization: holder,
        name: answer.name,
        roles: roles.get(holder) ?? [],
        status: answer.status,
        received: 0,
        verified: 0,
        ...(answer.status === 'ok' ? {} : { code: answer.code, message: answer.message }),
      };
      if (answer.status === 'ok') {
        source.received = answer.t3.length;
        for (const text of answer.t3) {
          const outcome = await this.accept(holder, text, gtin, serial, merged);
          if (outcome) dropped.push(outcome);
          else source.verified++;
        }
      }
      sources.push(source);
      if (holder !== self) {
        await this.options.audit.record({
          action: 'receive',
          counterpart: holder,
          gtin,
          serial,
          requestedBy: query.requestedBy,
          requesterRole: request.role,
          outcome: answer.status === 'ok' ? 'allowed' : 'denied',
          reason: answer.status === 'ok' ? undefined : answer.code,
          count: source.verified,
        });
      }
    }
    const t3 = [...merged.values()].sort(
      (a, b) =>
        a.document.transactionInformation.transactionDate.localeCompare(
          b.document.transactionInformation.transactionDate,
        ) || a.document.id.localeCompare(b.document.id),
    );
    return { gtin, serial, t3, sources, dropped };
  }

  /** Verifies one T3 from `holder` and merges it; returns why it was dropped, if it was. */
  private async accept(
    holder: Hex,
    text: string,
    gtin: string,
    serial: string,
    merged: Map<string, RetrievedT3>,
  ): Promise<DroppedT3 | null> {
    const drop = (t3: string | null, code: string, message: string): DroppedT3 => ({
      source: holder,
      t3,
      code,
      message,
    });
    let input: unknown;
    try {
      input = JSON.parse(text);
    } catch {
      return drop(null, 'T3.MALFORMED', 'This is not a signed T3: it is not JSON.');
    }
    const checked = await checkSignedT3(input, this.options.recover);
    if ('defect' in checked) {
      const id = (input as { document?: { id?: unknown } } | null)?.document?.id;
      return drop(
        typeof id === 'string' ? id.slice(0, 100) : null,
        checked.defect.code,
        checked.defect.message,
      );
    }
    const { signed } = checked;
    const id = signed.document.id;
    if (!t3NamesPack(signed, gtin, serial)) {
      return drop(id, 'T3.NOT_FOR_PACK', `The T3 ${id} does not name the pack ${serial} of GTIN ${gtin}.`);
    }
    const documentHash = hashOf(signed);
    const known = merged.get(id);
    if (!known) {
      merged.set(id, { ...signed, documentHash, heldBy: [holder] });
      return null;
    }
    if (known.documentHash !== documentHash) {
      // Both signed by the seller, yet different: the seller signed two documents under one id. Keep the first.
      return drop(
        id,
        'T3.CONFLICTING_COPY',
        `The T3 ${id} from ${holder} differs from the copy ${known.heldBy.join(', ')} sent, though both carry the seller's signature.`,
      );
    }
    if (!known.heldBy.includes(holder)) known.heldBy.push(holder);
    return null;
  }
}
