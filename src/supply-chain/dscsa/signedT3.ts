import { Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { Hex } from '../../core/hex.js';
import type { DocumentSigner } from '../custody/ports.js';
import { T3_FORMAT, t3SigningBytes, type SignedT3 } from './t3Document.js';

const Address = Type.String({ pattern: '^0x[0-9a-fA-F]{40}$' });

/** A signed T3 as it travels between gateways (see `T3Document`). */
export const SignedT3Schema = Type.Object(
  {
    document: Type.Object({
      format: Type.Literal(T3_FORMAT),
      id: Type.String({ minLength: 1, maxLength: 100 }),
      transactionInformation: Type.Object({
        products: Type.Array(
          Type.Object({
            gtin: Type.String({ pattern: '^[0-9]{14}$' }),
            lot: Type.String({ minLength: 1, maxLength: 20 }),
            expiry: Type.Union([Type.String({ maxLength: 10 }), Type.Null()]),
            serials: Type.Array(Type.String({ minLength: 1, maxLength: 20 }), {
              minItems: 1,
              maxItems: 10_000,
            }),
            quantity: Type.Integer({ minimum: 1 }),
          }),
          { minItems: 1, maxItems: 1_000 },
        ),
        transactionDate: Type.String({ maxLength: 40 }),
        shipmentDate: Type.String({ maxLength: 40 }),
        seller: Type.Object({ organization: Address, name: Type.String({ maxLength: 200 }) }),
        buyer: Type.Object({ organization: Address, name: Type.String({ maxLength: 200 }) }),
        shipmentEventId: Type.String({ maxLength: 300 }),
        chainTransaction: Type.String({ pattern: '^0x[0-9a-fA-F]{64}$' }),
      }),
      transactionHistory: Type.Array(
        Type.Object({
          t3: Type.String({ maxLength: 100 }),
          seller: Address,
          buyer: Address,
          transactionDate: Type.String({ maxLength: 40 }),
          documentHash: Type.String({ pattern: '^[0-9a-f]{64}$' }),
        }),
        { maxItems: 10_000 },
      ),
      transactionStatement: Type.String({ maxLength: 5_000 }),
    }),
    signature: Type.String({ pattern: '^0x[0-9a-fA-F]{130}$' }),
    signer: Address,
  },
  { additionalProperties: false },
);

/** Why a T3 was not accepted: `T3.MALFORMED` or `T3.BAD_SIGNATURE`, and a sentence saying what is wrong. */
export interface T3Defect {
  code: 'T3.MALFORMED' | 'T3.BAD_SIGNATURE';
  message: string;
}

/**
 * Checks that `input` is a signed T3 whose signature recovers its seller's organisation address (and names it as
 * signer). Pure apart from the signature recovery, so the buyer receiving a T3 and a regulator collecting them from
 * every holder check alike.
 */
export async function checkSignedT3(
  input: unknown,
  recover: DocumentSigner['recover'],
): Promise<{ signed: SignedT3 } | { defect: T3Defect }> {
  if (!Value.Check(SignedT3Schema, input)) {
    const first = Value.Errors(SignedT3Schema, input).First();
    return {
      defect: {
        code: 'T3.MALFORMED',
        message: `This is not a signed T3: ${first?.path || '/'}: ${first?.message ?? 'invalid'}.`,
      },
    };
  }
  const signed = input as SignedT3;
  const seller = signed.document.transactionInformation.seller.organization.toLowerCase() as Hex;
  const recovered = await recover(t3SigningBytes(signed.document), signed.signature);
  if (!recovered || recovered.toLowerCase() !== seller || signed.signer.toLowerCase() !== seller) {
    return {
      defect: {
        code: 'T3.BAD_SIGNATURE',
        message: `The T3 ${signed.document.id} is not signed by its seller ${seller}${recovered ? ` (the signature recovers ${recovered.toLowerCase()})` : ''}.`,
      },
    };
  }
  return { signed };
}

/** Whether the T3 names the pack `serial` of `gtin`. */
export function t3NamesPack(signed: SignedT3, gtin: string, serial: string): boolean {
  return signed.document.transactionInformation.products.some(
    (p) => p.gtin === gtin && p.serials.includes(serial),
  );
}
