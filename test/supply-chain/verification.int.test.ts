import { keccak256, stringToHex } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lotIdOf } from '../../src/ledger/supplyChainIds.js';
import { startTestNode, type TestNode } from '../helpers/inProcessNode.js';
import { commissioning, documentBuilder } from '../helpers/supplyConsortium.js';

/**
 * A manufacturer's gateway on a real chain: it captures the commissioning of a lot (EPCIS), commits the lot to the
 * SupplyChainRegistry, and product verification answers verified, or exactly why not (unknown serial, lot, product,
 * wrong expiry), and "recalled" in the block after the manufacturer recalls the lot.
 */
describe('lot commissioning and product verification', () => {
  let node: TestNode;
  const GTIN = '10614141073464'; // urn:epc:id:sgtin:0614141.107346.*
  const LOT = 'LOT42';
  const serials = ['1001', '1002', '1003'];

  const doc = documentBuilder();
  const post = (path: string, body: unknown, type = 'application/json') =>
    node.api(path, { method: 'POST', headers: { 'content-type': type }, body: JSON.stringify(body) });
  const verify = async (params: string) => {
    const res = await node.api(`/verify/product?${params}`);
    return {
      status: res.status,
      body: (await res.json()) as {
        verified?: boolean;
        reason?: string;
        owner?: string;
        message?: string;
        detail?: string;
      },
    };
  };

  beforeAll(async () => {
    node = await startTestNode({ CARELEDGER_ORG_ROLES: 'MANUFACTURER' });
    expect(
      (await post('/epcis/capture', doc(commissioning(LOT, serials, '2027-06-30')), 'application/ld+json'))
        .status,
    ).toBe(202);
  }, 60_000);
  afterAll(async () => node?.destroy());

  it('commits a lot commissioned here: the product registered, the packs as a Merkle root, the expiry', async () => {
    const res = await post('/supply/lots/commit', { gtin: GTIN, lot: LOT });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ gtin: GTIN, lot: LOT, packs: 3, expiry: '2027-06-30' });
    const again = await post('/supply/lots/commit', { gtin: GTIN, lot: LOT });
    expect(again.status).toBe(409);
    const unknown = await post('/supply/lots/commit', { gtin: GTIN, lot: 'NOPE' });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { detail: string }).detail).toMatch(/capture its commissioning events/);
  });

  it('verifies a genuine pack, by its printed data or its Digital Link', async () => {
    const printed = await verify(`gtin=${GTIN}&serial=1002&lot=${LOT}&expiry=270630`);
    expect(printed).toMatchObject({ status: 200, body: { verified: true, owner: node.organization } });
    const link = encodeURIComponent(`https://id.gs1.org/01/${GTIN}/10/${LOT}/21/1003?17=270630`);
    expect((await verify(`link=${link}`)).body.verified).toBe(true);
  });

  it.each([
    ['an unknown serial', `gtin=${GTIN}&serial=9999&lot=${LOT}`, 'UNKNOWN_SERIAL'],
    ['a lot never commissioned', `gtin=${GTIN}&serial=1001&lot=FAKE1`, 'UNKNOWN_LOT'],
    ['a product no one registered', 'gtin=00614141999996&serial=1001&lot=LOT42', 'UNKNOWN_PRODUCT'],
    ['the wrong expiry', `gtin=${GTIN}&serial=1001&lot=${LOT}&expiry=270531`, 'EXPIRY_MISMATCH'],
    [
      'a sale by someone else',
      `gtin=${GTIN}&serial=1001&lot=${LOT}&seller=0x${'12'.repeat(20)}`,
      'WRONG_OWNER',
    ],
  ])('refuses %s with the reason', async (_what, params, reason) => {
    const { status, body } = await verify(params);
    expect(status).toBe(200);
    expect(body).toMatchObject({ verified: false, reason });
    expect(body.message).toBeTruthy();
  });

  it('answers "recalled" as soon as the manufacturer recalls the lot', async () => {
    await node.supplyChainRegistry.recallLot(lotIdOf(GTIN, LOT), keccak256(stringToHex('sterility failure')));
    expect((await verify(`gtin=${GTIN}&serial=1002&lot=${LOT}`)).body).toMatchObject({
      verified: false,
      reason: 'RECALLED',
    });
  });

  it('refuses malformed requests with a message saying what to send', async () => {
    for (const params of [
      'gtin=10614141073465&serial=1&lot=L', // bad check digit
      `serial=1&lot=${LOT}`,
      `gtin=${GTIN}&serial=1&lot=${LOT}&expiry=2706`,
      `link=${encodeURIComponent('https://id.gs1.org/00/106141412345678908')}`,
      `gtin=${GTIN}&serial=1&lot=${LOT}&seller=bob`,
      `gtin=${GTIN}&serial=1&lot=${LOT}&colour=red`,
    ]) {
      const res = await verify(params);
      expect(res.status, params).toBe(400);
      expect(res.body.detail, params).toBeTruthy();
    }
  });
});
