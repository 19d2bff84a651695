import { Type } from '@sinclair/typebox';
import { canonicalJson } from '../../core/canonicalJson.js';
import type { Hex } from '../../core/hex.js';

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

/** The format of a report delivered to another gateway (inside a sealed envelope, like a T3). */
export const REPORT_DELIVERY_FORMAT = 'careledger.supply.illegitimate-report/v1';

/**
 * A report as delivered: the document, the finder's signature over its canonical JSON (EIP-191 with its
 * organisation key, as for T3s), and the chain transaction that put the document's SHA-256 on chain as the
 * investigation's report hash.
 */
export interface SignedReport {
  format: typeof REPORT_DELIVERY_FORMAT;
  document: IllegitimateProductReport;
  signature: Hex;
  signer: Hex;
  transactionHash: Hex;
  blockNumber: number;
}

const Address = Type.String({ pattern: '^0x[0-9a-fA-F]{40}$' });
const Serial = Type.String({ minLength: 1, maxLength: 20 });

export const SignedReportSchema = Type.Object(
  {
    format: Type.Literal(REPORT_DELIVERY_FORMAT),
    document: Type.Object(
      {
        type: Type.Literal('IllegitimateProductNotification'),
        id: Type.String({ minLength: 1, maxLength: 60 }),
        product: Type.Object(
          { gtin: Type.String({ pattern: '^[0-9]{14}$' }) },
          { additionalProperties: false },
        ),
        lot: Type.String({ minLength: 1, maxLength: 20 }),
        packs: Type.Union([
          Type.Object(
            { scope: Type.Literal('packs'), serials: Type.Array(Serial, { minItems: 1, maxItems: 256 }) },
            { additionalProperties: false },
          ),
          Type.Object({ scope: Type.Literal('lot') }, { additionalProperties: false }),
        ]),
        finding: Type.Object(
          { outcome: Type.Literal('illegitimate'), report: Type.String({ minLength: 1, maxLength: 10_000 }) },
          { additionalProperties: false },
        ),
        investigatedBy: Address,
        investigatedAt: Type.String({ maxLength: 40 }),
        handlers: Type.Array(
          Type.Object(
            {
              organization: Address,
              roles: Type.Array(
                Type.Union([Type.Literal('manufacturer'), Type.Literal('sender'), Type.Literal('recipient')]),
                { minItems: 1, maxItems: 3 },
              ),
            },
            { additionalProperties: false },
          ),
          { maxItems: 10_000 },
        ),
      },
      { additionalProperties: false },
    ),
    signature: Type.String({ pattern: '^0x[0-9a-fA-F]{130}$' }),
    signer: Address,
    transactionHash: Type.String({ pattern: '^0x[0-9a-fA-F]{64}$' }),
    blockNumber: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);

/** The bytes the finder signs and whose SHA-256 is anchored and on chain: the document's canonical JSON. */
export function reportBytes(document: IllegitimateProductReport): Uint8Array {
  return Buffer.from(canonicalJson(document), 'utf8');
}

/** Whether a delivered document is a report (rather than a T3): the one field that tells them apart. */
export function isReportDelivery(input: unknown): boolean {
  return (input as { format?: unknown } | null)?.format === REPORT_DELIVERY_FORMAT;
}
