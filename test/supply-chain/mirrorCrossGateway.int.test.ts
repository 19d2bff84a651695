import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LotTree, lotIdOf, packIdOf } from '../../src/ledger/supplyChainIds.js';
import { eventually, type TestNode } from '../helpers/inProcessNode.js';
import { startFounderNode, startMemberNode } from '../helpers/memberNode.js';
import { capture, commissioning, documentBuilder, GTIN, post } from '../helpers/supplyConsortium.js';

/**
 * Product verification from each gateway's registry mirror, across gateways on one chain: the manufacturer's own
 * writes are in its answers at once; the wholesaler's gateway hears of new blocks over WebSocket and the pharmacy's
 * only polls (every 100 ms), yet both answer "recalled" within a couple of polling intervals of the recall; a
 * gateway whose mirror is stopped answers from the chain. Answers from a mirror name the block they reflect.
 */
describe('verification from the registry mirror across gateways', () => {
  let maker: TestNode & { key: `0x${string}` };
  let wholesaler: TestNode;
  let pharmacy: TestNode;
  const LOT = 'MIRROR1';
  const serials = ['M1', 'M2', 'M3'];
  const POLLING_MS = 100;

  const verify = async (node: TestNode, serial: string) => {
    const res = await node.api(`/verify/product?gtin=${GTIN}&serial=${serial}&lot=${LOT}&expiry=270630`);
    expect(res.status).toBe(200);
    return (await res.json()) as {
      verified: boolean;
      reason?: string;
      owner?: string;
      asOfBlock?: number;
    };
  };

  beforeAll(async () => {
    maker = await startFounderNode(['MANUFACTURER']);
    wholesaler = await startMemberNode(maker, 'wholesaler', ['DISTRIBUTOR']);
    pharmacy = await startMemberNode(maker, 'pharmacy', ['DISPENSER'], {
      CHAIN_WS_URL: 'off',
      SUPPLY_MIRROR_POLLING_MS: String(POLLING_MS),
    });
    const doc = documentBuilder();
    expect((await capture(maker, doc(commissioning(LOT, serials, '2027-06-30')))).status).toBe(202);
    expect((await post(maker, '/supply/lots/commit', { gtin: GTIN, lot: LOT })).status).toBe(201);
  }, 120_000);
  afterAll(async () => {
    for (const node of [pharmacy, wholesaler, maker]) await node?.destroy();
  });

  it("answers the manufacturer's own commissioning at once, from its mirror", async () => {
    const answer = await verify(maker, 'M1');
    expect(answer).toMatchObject({ verified: true, owner: maker.organization });
    expect(answer.asOfBlock).toBeGreaterThan(0);
  });

  it('shows a transfer and a recall made at one gateway to the others, within a couple of polling intervals', async () => {
    // The maker ships M2 to the wholesaler (its own registry write: its mirror applies it before answering).
    const tree = new LotTree(serials.map((s) => packIdOf(GTIN, s)));
    const packId = packIdOf(GTIN, 'M2');
    const shipped = await maker.supplyChainRegistry.transferPacks({
      lotId: lotIdOf(GTIN, LOT),
      packs: [{ packId, proof: tree.proof(packId) }],
      to: wholesaler.organization,
      transactionRef: `0x${'5e'.repeat(32)}`,
    });
    expect(await verify(maker, 'M2')).toMatchObject({ verified: true, owner: wholesaler.organization });
    for (const node of [wholesaler, pharmacy]) {
      const answer = await eventually(async () => {
        const a = await verify(node, 'M2');
        return a.owner === wholesaler.organization && (a.asOfBlock ?? -1) >= shipped.blockNumber
          ? a
          : undefined;
      }, 'the transfer at another gateway');
      expect(answer.verified).toBe(true);
    }

    const recall = await post(maker, '/supply/lots/recall', {
      gtin: GTIN,
      lot: LOT,
      reason: 'assay failure',
    });
    expect(recall.status).toBe(200);
    const recalledIn = recall.body.blockNumber as number;
    const recalledAt = Date.now();
    // The recalling gateway: at once, from its mirror, at the recall's block or later.
    const own = await verify(maker, 'M2');
    expect(own).toMatchObject({ verified: false, reason: 'RECALLED' });
    expect(own.asOfBlock).toBeGreaterThanOrEqual(recalledIn);
    // The others: polled, not slept for.
    for (const node of [wholesaler, pharmacy]) {
      const answer = await eventually(async () => {
        const a = await verify(node, 'M2');
        return a.reason === 'RECALLED' ? a : undefined;
      }, 'the recall at another gateway');
      const elapsed = Date.now() - recalledAt;
      expect(elapsed, `${node === pharmacy ? 'pharmacy' : 'wholesaler'} took ${elapsed} ms`).toBeLessThan(
        node === pharmacy ? 2 * POLLING_MS + 1_000 : 2 * 250 + 1_000,
      );
      expect(answer.asOfBlock).toBeGreaterThanOrEqual(recalledIn);
    }
  });

  it('answers from the chain, still correctly, when a gateway’s mirror is not running', async () => {
    await pharmacy.supplyChainMirror.stop();
    expect(pharmacy.supplyChainMirror.status().current).toBe(false);
    const answer = await verify(pharmacy, 'M2');
    expect(answer).toMatchObject({ verified: false, reason: 'RECALLED' });
    expect(answer.asOfBlock).toBeUndefined();
  });
});
