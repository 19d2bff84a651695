import Database from 'better-sqlite3';
import { join } from 'node:path';
import { createPublicClient, http, recoverMessageAddress, type Hex } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/core/canonicalJson.js';
import { sealEnvelope } from '../../src/exchange/envelope.js';
import { organizationRegistryAbi } from '../../src/ledger/generated/contracts.js';
import type { TestNode } from '../helpers/inProcessNode.js';
import { startMemberNode } from '../helpers/memberNode.js';
import {
  distributeLot,
  documentBuilder,
  GTIN,
  post,
  startSupplyConsortium,
  type SupplyConsortium,
} from '../helpers/supplyConsortium.js';

/**
 * DSCSA documents for a regulator: a manufacturer, a wholesaler, a pharmacy, a regulator (REGULATOR role) and a
 * clinic (neither regulator nor handler), each with its own gateway on one chain. The regulator collects the T3s of
 * a pack from every organisation that handled it, each signature checked and the seller's and buyer's copies merged;
 * the clinic is refused; a T3 altered in a holder's database is dropped and reported; an illegitimate finding's
 * report reaches the regulator and every handler, checked and kept once; a stopped holder is reported unreachable.
 */
describe('a regulator’s T3 requests and illegitimate-product reports across five gateways', () => {
  let consortium: SupplyConsortium | undefined;
  let maker: TestNode;
  let wholesaler: TestNode;
  let pharmacy: TestNode;
  let regulator: TestNode | undefined;
  let clinic: TestNode | undefined;
  const LOT = 'REG1';
  const doc = documentBuilder();
  const lower = (a: string) => a.toLowerCase() as Hex;

  const requestT3s = (node: TestNode, body: unknown) => post(node, '/supply/t3/requests', body);
  const sourceOf = (result: Record<string, any>, node: TestNode) =>
    (result.sources as Record<string, any>[]).find((s) => s.organization === lower(node.organization));
  const signedBy = (document: unknown, signature: Hex) =>
    recoverMessageAddress({ message: { raw: Buffer.from(canonicalJson(document), 'utf8') }, signature });
  const database = (node: TestNode) => new Database(join(node.dataDir, 'careledger.db'));
  /** The ids of the audit entries about no patient (T3 requests), oldest first, read from the node's database. */
  const auditIds = (node: TestNode): string[] => {
    const db = database(node);
    try {
      return db
        .prepare(`SELECT id FROM audit_events WHERE patient_token IS NULL ORDER BY record_id`)
        .pluck()
        .all() as string[];
    } finally {
      db.close();
    }
  };
  const auditEvent = async (node: TestNode, id: string) =>
    (await (await node.api(`/fhir/AuditEvent/${id}`)).json()) as Record<string, any>;

  beforeAll(async () => {
    consortium = await startSupplyConsortium();
    ({ maker, wholesaler, pharmacy } = consortium);
    regulator = await startMemberNode(maker as TestNode & { key: Hex }, 'regulator', ['REGULATOR']);
    clinic = await startMemberNode(maker as TestNode & { key: Hex }, 'clinic', ['DISPENSER']);
    // Packs 1-3 go maker → wholesaler; packs 1-2 go on to the pharmacy.
    await distributeLot(consortium, doc, { lot: LOT, serials: [1, 2, 3], onward: [1, 2] });
  }, 240_000);

  afterAll(async () => {
    await clinic?.destroy();
    await regulator?.destroy();
    await consortium?.destroy();
  });

  it('the regulator collects the T3s of a pack from maker, wholesaler and pharmacy, verified and merged', async () => {
    const reg = regulator as TestNode;
    const auditBefore = { regulator: auditIds(reg).length, wholesaler: auditIds(wholesaler).length };
    const res = await requestT3s(reg, { gtin: GTIN, serial: '1' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const result = res.body;
    expect(result).toMatchObject({ gtin: GTIN, serial: '1', dropped: [] });
    expect(sourceOf(result, maker)).toMatchObject({
      status: 'ok',
      name: 'founder',
      roles: ['manufacturer', 'seller'],
      received: 1,
      verified: 1,
    });
    expect(sourceOf(result, wholesaler)).toMatchObject({
      status: 'ok',
      roles: ['buyer', 'seller'],
      received: 2,
      verified: 2,
    });
    expect(sourceOf(result, pharmacy)).toMatchObject({
      status: 'ok',
      roles: ['buyer'],
      received: 1,
      verified: 1,
    });
    // Two sales, each once, though both its seller and its buyer sent it.
    const [first, second] = result.t3 as [Record<string, any>, Record<string, any>];
    expect(result.t3).toHaveLength(2);
    expect(first.document.transactionInformation).toMatchObject({
      seller: { organization: lower(maker.organization) },
      buyer: { organization: lower(wholesaler.organization) },
    });
    expect(first.heldBy).toEqual([lower(maker.organization), lower(wholesaler.organization)]);
    expect(second.document.transactionInformation).toMatchObject({
      seller: { organization: lower(wholesaler.organization) },
      buyer: { organization: lower(pharmacy.organization) },
    });
    expect(second.heldBy.sort()).toEqual(
      [lower(wholesaler.organization), lower(pharmacy.organization)].sort(),
    );
    for (const t3 of [first, second]) {
      expect(lower(await signedBy(t3.document, t3.signature))).toBe(
        t3.document.transactionInformation.seller.organization,
      );
    }
    // The same documents the holders keep.
    const atWholesaler = (await (await wholesaler.api(`/supply/t3?gtin=${GTIN}&serial=1`)).json()) as any;
    expect(atWholesaler.t3.map((t: any) => t.documentHash)).toEqual([
      first.documentHash,
      second.documentHash,
    ]);

    // Both sides audited: the regulator's import from each holder, the wholesaler's export to the regulator.
    const imports = auditIds(reg).slice(auditBefore.regulator);
    expect(imports).toHaveLength(3);
    const imported = await Promise.all(imports.map((id) => auditEvent(reg, id)));
    for (const event of imported) {
      expect(event.type).toMatchObject({ code: '110107' });
      expect(event.outcome).toBe('0');
      expect(event.entity[0].what.reference).toBe(`https://id.gs1.org/01/${GTIN}/21/1`);
    }
    const exported = auditIds(wholesaler).slice(auditBefore.wholesaler);
    expect(exported).toHaveLength(1);
    const disclosure = await auditEvent(wholesaler, exported[0] as string);
    expect(disclosure.type).toMatchObject({ code: '110106' });
    expect(disclosure.outcomeDesc).toMatch(/2 resources returned/);
    expect(JSON.stringify(disclosure.agent)).toContain(lower(reg.organization));
  });

  it('a third party that is no regulator is refused by every holder, with the reason', async () => {
    const res = await requestT3s(clinic as TestNode, { gtin: GTIN, serial: '1' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.t3).toEqual([]);
    expect(res.body.sources).toHaveLength(3);
    for (const source of res.body.sources as Record<string, any>[]) {
      expect(source).toMatchObject({ status: 'refused', code: 'T3.NOT_ENTITLED', verified: 0 });
      expect(source.message).toMatch(/REGULATOR role/);
    }
    // A party to a sale gets that sale's T3 only: the pharmacy bought from the wholesaler, not from the maker.
    const party = await requestT3s(pharmacy, { gtin: GTIN, serial: '1' });
    expect(party.status).toBe(200);
    expect(sourceOf(party.body, maker)).toMatchObject({ status: 'refused', code: 'T3.NOT_ENTITLED' });
    expect(sourceOf(party.body, wholesaler)).toMatchObject({ status: 'ok', received: 1, verified: 1 });
    expect(party.body.t3).toHaveLength(1);
    expect(party.body.t3[0].document.transactionInformation.seller.organization).toBe(
      lower(wholesaler.organization),
    );
  });

  it('a T3 altered in a holder’s database is dropped and reported; the seller’s own copy still counts', async () => {
    const db = database(wholesaler);
    const row = db
      .prepare(`SELECT id, signed FROM supply_t3 WHERE seller = ?`)
      .get(lower(maker.organization)) as { id: string; signed: string };
    expect(row.signed).toContain('"quantity":3');
    db.prepare(`UPDATE supply_t3 SET signed = ? WHERE id = ?`).run(
      row.signed.replace('"quantity":3', '"quantity":30'),
      row.id,
    );
    try {
      const res = await requestT3s(regulator as TestNode, { gtin: GTIN, serial: '3' });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.dropped).toEqual([
        {
          source: lower(wholesaler.organization),
          t3: row.id,
          code: 'T3.BAD_SIGNATURE',
          message: expect.stringMatching(/not signed by its seller/),
        },
      ]);
      expect(sourceOf(res.body, wholesaler)).toMatchObject({ status: 'ok', received: 1, verified: 0 });
      expect(res.body.t3).toHaveLength(1);
      expect(res.body.t3[0]).toMatchObject({ heldBy: [lower(maker.organization)] });
      expect(res.body.t3[0].document.transactionInformation.products[0].quantity).toBe(3);
    } finally {
      db.prepare(`UPDATE supply_t3 SET signed = ? WHERE id = ?`).run(row.signed, row.id);
      db.close();
    }
  });

  it('refuses bad input on the T3 request with a problem saying what to send', async () => {
    const reg = regulator as TestNode;
    for (const [body, code] of [
      [{ gtin: GTIN }, 'REQUEST.INVALID'],
      [{ gtin: GTIN, serial: '1', lot: LOT }, 'REQUEST.INVALID'],
      [{ gtin: '10614141073465', serial: '1' }, 'GS1.CHECK_DIGIT'],
      [{ gtin: 'abc', serial: '1' }, 'GS1.MALFORMED'],
      [{ gtin: GTIN, serial: 'has space' }, 'T3.INVALID_SERIAL'],
    ] as const) {
      const res = await requestT3s(reg, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.code, JSON.stringify(res.body)).toBe(code);
      expect(typeof res.body.detail).toBe('string');
    }
    const unknown = await requestT3s(reg, { gtin: '00012345678905', serial: '1' });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ code: 'T3.UNKNOWN_PRODUCT' });
    const notJson = await reg.api('/supply/t3/requests', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"gtin":',
    });
    expect(notJson.status).toBe(400);
  });

  it('an illegitimate finding’s report reaches the regulator and every handler, checked, and is kept once', async () => {
    expect(
      (
        await post(pharmacy, '/supply/suspect', {
          gtin: GTIN,
          lot: LOT,
          serials: ['1'],
          reason: 'seal broken',
        })
      ).status,
    ).toBe(201);
    const found = await post(pharmacy, '/supply/investigations', {
      gtin: GTIN,
      lot: LOT,
      serials: ['1'],
      outcome: 'illegitimate',
      report: 'Counterfeit: no active ingredient.',
    });
    expect(found.status, JSON.stringify(found.body)).toBe(201);
    const report = found.body.report as Record<string, any>;
    expect(report.origin).toBe('made');
    expect(lower(await signedBy(report.document, report.signature))).toBe(lower(pharmacy.organization));
    const deliveries = report.deliveries as Record<string, any>[];
    expect(deliveries.map((d) => [d.organization, d.as])).toEqual([
      [lower((regulator as TestNode).organization), ['regulator']],
      [lower(maker.organization), ['handler']],
      [lower(wholesaler.organization), ['handler']],
    ]);
    for (const d of deliveries) expect(d.deliveredAt, JSON.stringify(d)).not.toBeNull();

    for (const node of [regulator as TestNode, maker, wholesaler]) {
      const list = (await (await node.api('/supply/reports')).json()) as { reports: Record<string, any>[] };
      const received = list.reports.filter((r) => r.id === report.id);
      expect(received).toHaveLength(1);
      expect(received[0]).toMatchObject({
        origin: 'received',
        receivedFrom: { organization: lower(pharmacy.organization), name: 'pharmacy' },
        hash: report.hash,
        signature: report.signature,
        transactionHash: report.transactionHash,
        deliveries: [],
      });
      expect(received[0]?.document).toEqual(report.document);
      // Its receipt is anchored here, under the report's hash (the one on chain).
      const record = (await (await node.api(`/records/${received[0]?.recordId as number}`)).json()) as any;
      expect(record).toMatchObject({ kind: 'supply.illegitimate-report.receipt', contentHash: report.hash });
    }
    const atClinic = (await (await (clinic as TestNode).api('/supply/reports')).json()) as any;
    expect(atClinic.reports).toEqual([]);

    // The same report delivered again over the documents channel, by its finder: accepted, kept once.
    const reg = regulator as TestNode;
    const signed = {
      format: 'careledger.supply.illegitimate-report/v1',
      document: report.document,
      signature: report.signature,
      signer: lower(pharmacy.organization),
      transactionHash: report.transactionHash,
      blockNumber: report.blockNumber,
    };
    const deliver = async (from: TestNode, body: unknown) => {
      const key = (from as TestNode & { key: Hex }).key;
      const envelope = await sealEnvelope({
        sender: { address: from.organization, signingKey: key },
        recipient: { address: reg.organization, encryptionPublicKey: await encryptionKeyOf(reg) },
        kind: 'request',
        body: Buffer.from(JSON.stringify(body), 'utf8'),
      });
      const res = await fetch(`${reg.url}/exchange/v1/documents`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(envelope),
      });
      return { status: res.status, body: (await res.json()) as Record<string, any> };
    };
    const again = await deliver(pharmacy, signed);
    expect(again.status, JSON.stringify(again.body)).toBe(201);
    expect(again.body).toEqual({ id: report.id });
    const after = (await (await reg.api('/supply/reports')).json()) as { reports: Record<string, any>[] };
    expect(after.reports.filter((r) => r.id === report.id)).toHaveLength(1);

    // Altered on the way (the finding's text), or relayed by another member, or never on chain: refused.
    const altered = await deliver(pharmacy, {
      ...signed,
      document: { ...report.document, finding: { outcome: 'illegitimate', report: 'Genuine after all.' } },
    });
    expect(altered.status).toBe(401);
    expect(altered.body.code).toBe('SUPPLY.REPORT_BAD_SIGNATURE');
    const relayed = await deliver(clinic as TestNode, signed);
    expect(relayed.status).toBe(403);
    expect(relayed.body.code).toBe('SUPPLY.REPORT_WRONG_SENDER');
  });

  it('a stopped holder is reported unreachable while the others answer', async () => {
    await pharmacy.stop();
    const res = await requestT3s(regulator as TestNode, { gtin: GTIN, serial: '2' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(sourceOf(res.body, pharmacy)).toMatchObject({
      status: 'unreachable',
      code: 'EXCHANGE.UNREACHABLE',
      message: expect.stringMatching(/did not answer/),
    });
    expect(sourceOf(res.body, maker)).toMatchObject({ status: 'ok', verified: 1 });
    expect(sourceOf(res.body, wholesaler)).toMatchObject({ status: 'ok', verified: 2 });
    expect(res.body.t3).toHaveLength(2);
  });

  /** The X25519 key a member registered, as the chain has it. */
  async function encryptionKeyOf(node: TestNode): Promise<Uint8Array> {
    const client = createPublicClient({ transport: http(maker.rpcUrl) });
    const o = await client.readContract({
      address: maker.deployment().organizationRegistry,
      abi: organizationRegistryAbi,
      functionName: 'getOrganization',
      args: [node.organization],
    });
    return Buffer.from(o.encryptionPublicKey.slice(2), 'hex');
  }
});
