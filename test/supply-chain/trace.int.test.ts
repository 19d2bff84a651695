import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkProofOnChain, checkRecordAgainstProof } from '../../src/anchoring/verifyRecordProof.js';
import type { RecordProof } from '../../src/anchoring/recordProof.js';
import { canonicalJson } from '../../src/core/canonicalJson.js';
import { createAnchorReader } from '../../src/ledger/viemAnchorReader.js';
import { eventually, type TestNode } from '../helpers/inProcessNode.js';
import {
  aggregation,
  post,
  commissioning as commissioningEvent,
  documentBuilder,
  GTIN,
  MAKER_SITE,
  observe,
  pack,
  PHARMACY_SITE,
  shipping,
  startSupplyConsortium,
  WHOLESALER_SITE,
  type SupplyConsortium,
  type TestEpcisDocument,
} from '../helpers/supplyConsortium.js';

interface Step {
  eventId: string;
  bizStep: string | null;
  description: string;
  relation: { kind: string; depth?: number };
  event: Record<string, unknown>;
  proof?: RecordProof | 'pending';
}
interface TraceBody {
  epc: string;
  canonical: string;
  lot: { gtin: string; lot: string } | null;
  steps: Step[];
  containers: { container: string; epc: string; depth: number; from: string; until: string | null }[];
  custody: {
    event: string;
    scope: string;
    from?: string;
    to?: string;
    by?: string;
    blockNumber: number;
    transactionHash: string;
    time: string;
  }[];
}

/**
 * Chain of custody across three gateways: the manufacturer packs packs into a case and the case onto a pallet, and
 * ships the pallet; the wholesaler unpacks and ships two packs on; the pharmacy dispenses one. `GET /trace/{epc}` at
 * each gateway shows the pack's own events and its case's and pallet's while it was inside, each with a proof that
 * verifies, and the pack's custody on chain.
 */
describe('GET /trace/{epc} across three gateways', () => {
  let consortium: SupplyConsortium | undefined;
  let maker: TestNode;
  let wholesaler: TestNode;
  let pharmacy: TestNode;
  const LOT = 'LOT9';
  const CASE = 'urn:epc:id:sscc:0614141.1234567890';
  const PALLET = 'urn:epc:id:sscc:0614141.0000000017';
  const doc = documentBuilder();

  /** Captures `document` at `node`, which must accept it. */
  const capture = async (node: TestNode, document: unknown) => {
    const { status, body } = await post(node, '/epcis/capture', document);
    expect(status, JSON.stringify(body)).toBe(202);
    return body;
  };
  const trace = async (node: TestNode, epc: string, query = '') => {
    const res = await node.api(`/trace/${encodeURIComponent(epc)}${query}`);
    return { status: res.status, body: (await res.json()) as TraceBody & { code?: string; detail?: string } };
  };
  /** The trace once every step's batch is anchored. */
  const anchoredTrace = (node: TestNode, epc: string) =>
    eventually(async () => {
      const { status, body } = await trace(node, epc);
      return status === 200 && body.steps.every((s) => s.proof !== 'pending') ? body : undefined;
    }, `every step of ${epc} anchored at ${node.url}`);

  /** Each step's proof: the content hash is the SHA-256 of the event's bytes, and the root is on chain. */
  const expectProofsVerify = async (node: TestNode, body: TraceBody) => {
    const reader = createAnchorReader(node.rpcUrl);
    for (const step of body.steps) {
      const proof = step.proof as RecordProof;
      const bytes = Buffer.from(canonicalJson(step.event), 'utf8');
      expect(proof.record.kind).toBe('epcis.event');
      expect(proof.record.contentHash).toBe(`0x${createHash('sha256').update(bytes).digest('hex')}`);
      checkRecordAgainstProof(bytes, proof);
      await checkProofOnChain(proof, reader, { expectedContract: node.deployment().anchorRegistry });
      expect(proof.anchor.organization.toLowerCase()).toBe(node.organization.toLowerCase());
    }
    // The event as served is byte for byte what the step shows.
    const first = body.steps[0] as Step;
    const served = await node.api(`/epcis/events/${encodeURIComponent(first.eventId)}`);
    expect(Buffer.from(await served.arrayBuffer()).toString('utf8')).toBe(canonicalJson(first.event));
  };
  const lower = (a: string | undefined) => a?.toLowerCase();

  let commissioning: TestEpcisDocument;
  let makerShipment: TestEpcisDocument;
  let wholesalerShipment: TestEpcisDocument;

  beforeAll(async () => {
    consortium = await startSupplyConsortium();
    ({ maker, wholesaler, pharmacy } = consortium);

    // The manufacturer commissions three packs, commits the lot, packs them into a case, the case onto a pallet,
    // and ships the pallet to the wholesaler.
    commissioning = doc(commissioningEvent(LOT, [1, 2, 3]));
    await capture(maker, commissioning);
    const commit = await maker.api('/supply/lots/commit', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ gtin: GTIN, lot: LOT }),
    });
    expect(commit.status).toBe(201);
    makerShipment = doc(
      aggregation('ADD', CASE, [1, 2, 3].map(pack), 'packing', MAKER_SITE),
      aggregation('ADD', PALLET, [CASE], 'packing', MAKER_SITE),
      shipping([PALLET], MAKER_SITE, WHOLESALER_SITE),
    );
    const shipped = await capture(maker, makerShipment);
    expect(shipped.effects).toMatchObject([{ action: 'transfer', serials: ['1', '2', '3'] }]);

    // The wholesaler takes the manufacturer's documents, receives the pallet, breaks it down, takes packs 1 and 2
    // out of the case and ships them to the pharmacy.
    await capture(wholesaler, commissioning);
    await capture(wholesaler, makerShipment);
    wholesalerShipment = doc(
      observe([PALLET], 'receiving', 'in_progress', WHOLESALER_SITE),
      aggregation('DELETE', PALLET, [], 'unpacking', WHOLESALER_SITE),
      aggregation('DELETE', CASE, [pack(1), pack(2)], 'unpacking', WHOLESALER_SITE),
      shipping([pack(1), pack(2)], WHOLESALER_SITE, PHARMACY_SITE),
    );
    await capture(wholesaler, wholesalerShipment);

    // The pharmacy takes the documents, receives pack 1 and dispenses it.
    await capture(pharmacy, commissioning);
    await capture(pharmacy, wholesalerShipment);
    const dispensed = await capture(
      pharmacy,
      doc(
        observe([pack(1)], 'receiving', 'in_progress', PHARMACY_SITE),
        observe([pack(1)], 'dispensing', 'dispensed', PHARMACY_SITE),
      ),
    );
    expect(dispensed.effects).toMatchObject([{ action: 'dispense', serials: ['1'] }]);
  }, 180_000);

  afterAll(async () => {
    await consortium?.destroy();
  });

  const expectCustody = (body: TraceBody) => {
    expect(body.lot).toEqual({ gtin: GTIN, lot: LOT });
    expect(body.custody.filter((c) => c.scope === 'lot').map((c) => [c.event, lower(c.by)])).toEqual([
      ['LotCommissioned', lower(maker.organization)],
    ]);
    const packEntries = body.custody.filter((c) => c.scope === 'pack');
    expect(packEntries.map((c) => [c.event, lower(c.from), lower(c.to), lower(c.by)])).toEqual([
      ['PackTransferred', lower(maker.organization), lower(wholesaler.organization), undefined],
      ['PackTransferred', lower(wholesaler.organization), lower(pharmacy.organization), undefined],
      ['PackDispensed', undefined, undefined, lower(pharmacy.organization)],
    ]);
    for (const c of body.custody) {
      expect(c.transactionHash).toMatch(/^0x[0-9a-f]{64}$/);
      expect(Date.parse(c.time)).toBeGreaterThan(0);
    }
    const blocks = packEntries.map((c) => c.blockNumber);
    expect([...blocks].sort((a, b) => a - b)).toEqual(blocks);
  };

  it('at the manufacturer: the pack, its case, its pallet shipped, each step proven; and its custody on chain', async () => {
    const body = await anchoredTrace(maker, pack(1));
    expect(body.steps.map((s) => [s.bizStep, s.description])).toEqual([
      ['commissioning', 'the pack itself'],
      ['packing', 'the pack itself'],
      ['packing', `in case ${CASE}`],
      ['shipping', `in pallet ${PALLET} (holding case ${CASE})`],
    ]);
    expect(body.containers.map((c) => [c.epc, c.depth, c.until])).toEqual([
      [CASE, 1, null],
      [PALLET, 2, null],
    ]);
    await expectProofsVerify(maker, body);
    expectCustody(body);
  });

  it('at the wholesaler: the manufacturer’s steps it holds, the receipt of the pallet, the unpacking, the shipment', async () => {
    const body = await anchoredTrace(wholesaler, pack(1));
    expect(body.steps.map((s) => [s.bizStep, s.description])).toEqual([
      ['commissioning', 'the pack itself'],
      ['packing', 'the pack itself'],
      ['packing', `in case ${CASE}`],
      ['shipping', `in pallet ${PALLET} (holding case ${CASE})`],
      ['receiving', `in pallet ${PALLET} (holding case ${CASE})`],
      ['unpacking', `in pallet ${PALLET} (holding case ${CASE})`],
      ['unpacking', 'the pack itself'],
      ['shipping', 'the pack itself'],
    ]);
    expect(body.containers.every((c) => c.until !== null)).toBe(true);
    await expectProofsVerify(wholesaler, body);
    expectCustody(body);
    // Pack 3 stayed in the case: the case is still around it.
    const three = await trace(wholesaler, pack(3), '?include=none');
    expect(three.status).toBe(200);
    expect(three.body.containers.find((c) => c.epc === CASE)?.until).toBeNull();
    expect(three.body.steps.every((s) => !('proof' in s))).toBe(true);
  });

  it('at the pharmacy: what it was shown and did, as a Digital Link; and the dispensing on chain', async () => {
    const body = await anchoredTrace(pharmacy, `https://id.gs1.org/01/${GTIN}/21/1`);
    expect(body.canonical).toBe(`https://id.gs1.org/01/${GTIN}/21/1`);
    expect(body.steps.map((s) => [s.bizStep, s.relation.kind])).toEqual([
      ['commissioning', 'self'],
      ['unpacking', 'self'],
      ['shipping', 'self'],
      ['receiving', 'self'],
      ['dispensing', 'self'],
    ]);
    await expectProofsVerify(pharmacy, body);
    expectCustody(body);
  });

  it('a case (SSCC) can be traced too', async () => {
    const { status, body } = await trace(wholesaler, CASE, '?include=none');
    expect(status).toBe(200);
    expect(body.steps.find((s) => s.bizStep === 'shipping')?.description).toBe(`in pallet ${PALLET}`);
    expect(body.custody).toEqual([]);
  });

  it('answers 404 for what nothing here mentions and 400 for a malformed identifier', async () => {
    const unknown = await trace(pharmacy, pack(99));
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('TRACE.NOT_FOUND');
    expect(unknown.body.detail).toMatch(/No event captured at this gateway names/);
    const malformed = await trace(maker, 'urn:epc:id:sgtin:0614141.107346');
    expect(malformed.status).toBe(400);
    expect(malformed.body.code).toBe('GS1.MALFORMED');
    const checkDigit = await trace(maker, `https://id.gs1.org/01/10614141073465/21/1`);
    expect(checkDigit.status).toBe(400);
    expect(checkDigit.body.code).toBe('GS1.CHECK_DIGIT');
    const location = await trace(maker, MAKER_SITE);
    expect(location.status).toBe(400);
    expect(location.body.code).toBe('TRACE.UNSUPPORTED_IDENTIFIER');
    expect((await trace(maker, pack(1), '?include=everything')).status).toBe(400);
  });
});
