import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestNode } from '../helpers/inProcessNode.js';
import {
  aggregation,
  capture,
  commissioning,
  dispensing,
  documentBuilder,
  GTIN,
  mapParty,
  MAKER_SITE,
  pack,
  PHARMACY_SITE,
  receiving,
  shipping,
  startSupplyConsortium,
  verifyPack,
  WHOLESALER_SITE,
  type SupplyConsortium,
  type TestEpcisDocument,
} from '../helpers/supplyConsortium.js';

/**
 * A manufacturer, a wholesaler and a pharmacy, each with its own gateway on one chain. Custody follows the EPCIS
 * events each captures: the manufacturer's shipment moves the packs to the wholesaler on chain, the wholesaler's to
 * the pharmacy, the pharmacy's dispensing ends a pack. A second dispensing of the same pack (a clone), a shipment of
 * packs the sender does not hold, and anything after a recall are refused with the reason, and nothing is stored.
 */
describe('custody across three gateways', () => {
  let consortium: SupplyConsortium | undefined;
  let maker: TestNode;
  let wholesaler: TestNode;
  let pharmacy: TestNode;
  const LOT = 'LOT7';
  const CASE = 'urn:epc:id:sscc:0614141.1234567890';
  const doc = documentBuilder();
  let commissioningDoc: TestEpcisDocument;

  const verify = (node: TestNode, n: number, seller?: string) => verifyPack(node, LOT, n, seller);
  const eventCount = async (node: TestNode) => {
    const res = await node.api('/epcis/events?perPage=1000');
    return ((await res.json()) as any).epcisBody.queryResults.resultsBody.eventList.length as number;
  };

  beforeAll(async () => {
    consortium = await startSupplyConsortium();
    ({ maker, wholesaler, pharmacy } = consortium);
  }, 120_000);

  afterAll(async () => {
    await consortium?.destroy();
  });

  it('the manufacturer commissions, commits the lot, packs and ships the case: the packs become the wholesaler’s', async () => {
    commissioningDoc = doc(commissioning(LOT, [1, 2, 3, 4]));
    expect((await capture(maker, commissioningDoc)).status).toBe(202);
    const commit = await maker.api('/supply/lots/commit', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ gtin: GTIN, lot: LOT }),
    });
    expect(commit.status).toBe(201);
    const packing = aggregation('ADD', CASE, [1, 2, 3, 4].map(pack), 'packing', MAKER_SITE);
    const shipped = await capture(maker, doc(packing, shipping([CASE], MAKER_SITE, WHOLESALER_SITE)));
    expect(shipped.status).toBe(202);
    expect(shipped.body.effects).toMatchObject([
      {
        action: 'transfer',
        gtin: GTIN,
        lot: LOT,
        serials: ['1', '2', '3', '4'],
        to: wholesaler.organization.toLowerCase(),
      },
    ]);
    for (const node of [maker, wholesaler, pharmacy]) {
      expect(await verify(node, 2, wholesaler.organization)).toMatchObject({ verified: true });
    }
    expect(await verify(pharmacy, 2, maker.organization)).toMatchObject({
      verified: false,
      reason: 'WRONG_OWNER',
    });
  });

  it('the wholesaler ships two packs on to the pharmacy', async () => {
    // The seller's documents (the same commissioning event) tell the wholesaler which lot its packs belong to.
    expect((await capture(wholesaler, commissioningDoc)).status).toBe(202);
    const shipped = await capture(
      wholesaler,
      doc(shipping([pack(1), pack(2)], WHOLESALER_SITE, PHARMACY_SITE)),
    );
    expect(shipped.status, JSON.stringify(shipped.body)).toBe(202);
    expect((await verify(maker, 1, pharmacy.organization)).verified).toBe(true);
    expect((await verify(maker, 3, wholesaler.organization)).verified).toBe(true);
  });

  it('each sale comes with its DSCSA T3, signed by the seller, delivered to the buyer, with the earlier history', async () => {
    const t3s = async (node: TestNode, serial: number) => {
      const res = await node.api(`/supply/t3?gtin=${GTIN}&serial=${serial}`);
      expect(res.status).toBe(200);
      return ((await res.json()) as { t3: any[] }).t3;
    };
    // The pharmacy holds pack 1 now: the wholesaler's T3 to it cites the maker's T3 to the wholesaler.
    const atPharmacy = await t3s(pharmacy, 1);
    expect(atPharmacy).toHaveLength(1);
    const [sale] = atPharmacy;
    expect(sale.direction).toBe('received');
    expect(sale.signer).toBe(wholesaler.organization.toLowerCase());
    expect(sale.document.transactionInformation).toMatchObject({
      seller: { organization: wholesaler.organization.toLowerCase() },
      buyer: { organization: pharmacy.organization.toLowerCase(), name: 'pharmacy' },
      products: [{ gtin: GTIN, lot: LOT, expiry: '2027-06-30', serials: ['1', '2'], quantity: 2 }],
    });
    expect(sale.document.transactionStatement).toMatch(/Drug Supply Chain Security Act/);
    const atWholesaler = await t3s(wholesaler, 1);
    expect(atWholesaler.map((t) => t.direction)).toEqual(['received', 'sent']);
    const fromMaker = atWholesaler[0];
    expect(fromMaker.signer).toBe(maker.organization.toLowerCase());
    expect(sale.document.transactionHistory).toEqual([
      expect.objectContaining({ t3: fromMaker.document.id, documentHash: fromMaker.documentHash }),
    ]);
    expect((await t3s(maker, 1)).map((t) => t.direction)).toEqual(['sent']);
    // A forged delivery (not sealed by a member) is refused.
    const forged = await pharmacy.api('/exchange/v1/documents', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ format: 'careledger.exchange/v1' }),
    });
    expect(forged.status).toBe(400);
  });

  it('refuses a shipment of packs the sender does not hold, and stores nothing of it', async () => {
    expect((await capture(pharmacy, commissioningDoc)).status).toBe(202);
    const before = await eventCount(pharmacy);
    const refused = await capture(pharmacy, doc(shipping([pack(3)], PHARMACY_SITE, WHOLESALER_SITE)));
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('SUPPLY.NOT_HOLDER');
    expect(refused.body.detail).toMatch(/not the owner/);
    expect(await eventCount(pharmacy)).toBe(before);
  });

  it('accepts a receipt only of packs the chain shows transferred to the receiver', async () => {
    expect((await capture(pharmacy, doc(receiving([pack(1), pack(2)], PHARMACY_SITE)))).status).toBe(202);
    const before = await eventCount(pharmacy);
    const notOurs = await capture(pharmacy, doc(receiving([pack(3)], PHARMACY_SITE)));
    expect(notOurs.status).toBe(409);
    expect(notOurs.body.code).toBe('SUPPLY.NOT_RECEIVED');
    expect(await eventCount(pharmacy)).toBe(before);
  });

  it('takes a saleable return back only after verifying it: the pack goes back on chain first', async () => {
    const returned = await capture(pharmacy, doc(shipping([pack(2)], PHARMACY_SITE, WHOLESALER_SITE)));
    expect(returned.status, JSON.stringify(returned.body)).toBe(202);
    const accepted = await capture(
      wholesaler,
      doc({ ...receiving([pack(2)], WHOLESALER_SITE), disposition: 'returned' }),
    );
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(202);
    // Back to the pharmacy for the rest of the story.
    expect((await capture(wholesaler, doc(shipping([pack(2)], WHOLESALER_SITE, PHARMACY_SITE)))).status).toBe(
      202,
    );
  });

  it('refuses packing packs or cases this gateway does not know, and stores nothing of it', async () => {
    const before = await eventCount(wholesaler);
    for (const child of [pack(77), 'urn:epc:id:sscc:0614141.9999999999']) {
      const refused = await capture(
        wholesaler,
        doc({
          type: 'AggregationEvent',
          parentID: 'urn:epc:id:sscc:4012345.0000000017',
          childEPCs: [child],
          action: 'ADD',
          bizStep: 'packing',
          readPoint: { id: WHOLESALER_SITE },
        }),
      );
      expect(refused.status).toBe(422);
      expect(refused.body.code).toBe('SUPPLY.UNKNOWN_CHILD');
    }
    expect(await eventCount(wholesaler)).toBe(before);
  });

  it('dispenses a pack once; a second dispensing of it is a clone, refused everywhere', async () => {
    const first = await capture(pharmacy, doc(dispensing([pack(1)], PHARMACY_SITE)));
    expect(first.status, JSON.stringify(first.body)).toBe(202);
    expect(first.body.effects).toMatchObject([{ action: 'dispense', serials: ['1'] }]);
    const before = await eventCount(pharmacy);
    const clone = await capture(pharmacy, doc(dispensing([pack(1)], PHARMACY_SITE)));
    expect(clone.status).toBe(409);
    expect(clone.body.code).toBe('SUPPLY.ALREADY_DISPENSED');
    expect(clone.body.detail).toMatch(/clone/);
    expect(await eventCount(pharmacy)).toBe(before);
    for (const node of [maker, wholesaler]) {
      expect(await verify(node, 1)).toMatchObject({ verified: false, reason: 'ALREADY_DISPENSED' });
    }
  });

  it('a recall by the manufacturer reaches every partner’s verification at once, and stops dispensing', async () => {
    const recall = await maker.api('/supply/lots/recall', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ gtin: GTIN, lot: LOT, reason: 'out-of-specification assay' }),
    });
    expect(recall.status).toBe(200);
    for (const node of [maker, wholesaler, pharmacy]) {
      expect(await verify(node, 2)).toMatchObject({ verified: false, reason: 'RECALLED' });
    }
    const refused = await capture(pharmacy, doc(dispensing([pack(2)], PHARMACY_SITE)));
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('SUPPLY.RECALLED');
  });

  it('refuses bad party mappings with a clear error', async () => {
    for (const body of [
      { party: CASE, organization: maker.organization, name: 'a case' },
      { party: 'urn:epc:id:sgln:0614141.00001', organization: maker.organization, name: 'x' },
      { party: MAKER_SITE, organization: 'maker', name: 'x' },
    ]) {
      expect((await mapParty(maker, body)).status).toBe(400);
    }
  });
});
