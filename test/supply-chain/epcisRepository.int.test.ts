import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CASE,
  LOT,
  MANUFACTURER_SITE,
  PACKS,
  PHARMACY_SITE,
  WHOLESALER_SITE,
  pharmaDocument,
  withEvent,
} from '../../src/supply-chain/epcis/testdata/pharmaDocument.js';
import { eventually, startTestNode, type TestNode } from '../helpers/inProcessNode.js';
import { mapParty } from '../helpers/supplyConsortium.js';

/**
 * The EPCIS 2.0 REST binding on a real node: capture (validated whole, ids by event hash, duplicates recognised,
 * anchored), the Simple Event Query parameters with paging, events by id with their proofs, and bad input refused
 * with every problem named and nothing stored.
 */
describe('EPCIS repository over HTTP', () => {
  let node: TestNode;
  const EVENTS = (pharmaDocument().epcisBody as { eventList: unknown[] }).eventList.length;

  beforeAll(async () => {
    node = await startTestNode();
    // The journey's later steps happen at partners' sites: their events are shared here, not this gateway's own, so
    // capturing them changes no custody on chain.
    for (const [party, name] of [
      [WHOLESALER_SITE, 'wholesaler'],
      [PHARMACY_SITE, 'pharmacy'],
    ] as const) {
      expect((await mapParty(node, { party, organization: `0x${'ab'.repeat(20)}`, name })).status).toBe(200);
    }
  }, 60_000);
  afterAll(async () => node?.destroy());

  const capture = (document: unknown, type = 'application/ld+json') =>
    node.api('/epcis/capture', {
      method: 'POST',
      headers: { 'content-type': type },
      body: JSON.stringify(document),
    });
  const query = async (params: string) => {
    const res = await node.api(`/epcis/events?${params}`);
    const body = (await res.json()) as {
      epcisBody?: {
        queryResults: { resultsBody: { eventList: { eventID: string; type: string; bizStep?: string }[] } };
      };
      detail?: string;
    };
    return {
      status: res.status,
      link: res.headers.get('link'),
      body,
      events: body.epcisBody?.queryResults.resultsBody.eventList ?? [],
    };
  };
  const countAll = async () => (await query('perPage=1000')).events.length;

  let eventIds: string[] = [];
  it('captures a document: 202 with a finished capture job; events without eventID get their CBV 2.0 hash', async () => {
    const res = await capture(pharmaDocument());
    expect(res.status).toBe(202);
    const job = (await res.json()) as {
      captureID: string;
      success: boolean;
      stored: number;
      duplicates: number;
      eventIDs: string[];
    };
    expect(job).toMatchObject({ success: true, stored: EVENTS, duplicates: 0 });
    expect(res.headers.get('location')).toBe(`/epcis/capture/${job.captureID}`);
    eventIds = job.eventIDs;
    expect(eventIds.every((id) => /^ni:\/\/\/sha-256;[0-9a-f]{64}\?ver=CBV2\.0$/.test(id))).toBe(true);
    const again = await node.api(`/epcis/capture/${job.captureID}`);
    expect(((await again.json()) as { stored: number }).stored).toBe(EVENTS);
  });

  it('recognises a duplicate capture and stores nothing twice', async () => {
    const res = await capture(pharmaDocument(), 'application/json');
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ stored: 0, duplicates: EVENTS });
    expect(await countAll()).toBe(EVENTS);
  });

  it('serves an event by its id, byte for byte as anchored, with a proof', async () => {
    const id = eventIds[2] as string;
    const res = await node.api(`/epcis/events/${encodeURIComponent(id)}`);
    expect(res.status).toBe(200);
    const bytes = Buffer.from(await res.arrayBuffer());
    const event = JSON.parse(bytes.toString('utf8')) as {
      eventID: string;
      bizStep: string;
      recordTime: string;
    };
    expect(event.eventID).toBe(id);
    expect(event.recordTime).toMatch(/Z$/);
    const proof = await eventually(async () => {
      const p = await node.api(`/epcis/events/${encodeURIComponent(id)}/proof`);
      return p.status === 200
        ? ((await p.json()) as { record: { contentHash: string; kind: string } })
        : undefined;
    }, 'the event anchored');
    expect(proof.record.kind).toBe('epcis.event');
    expect(proof.record.contentHash).toBe(`0x${createHash('sha256').update(bytes).digest('hex')}`);
    expect(
      (await node.api(`/epcis/events/${encodeURIComponent('ni:///sha-256;00?ver=CBV2.0')}`)).status,
    ).toBe(404);
  });

  it('answers the Simple Event Query parameters, whatever spelling of an identifier or CBV value is asked', async () => {
    const shipping = await query('EQ_bizStep=shipping');
    expect(shipping.status).toBe(200);
    expect(shipping.events).toHaveLength(1);
    expect(
      (await query(`EQ_bizStep=${encodeURIComponent('https://ref.gs1.org/cbv/BizStep-shipping')}`)).events,
    ).toHaveLength(1);
    expect((await query('eventType=AggregationEvent')).events.map((e) => e.type)).toEqual([
      'AggregationEvent',
      'AggregationEvent',
    ]);

    // One pack, as an EPC URN and as a Digital Link: the same events (commissioning, packing, unpacking, …).
    const asUrn = await query(`MATCH_epc=${encodeURIComponent(PACKS[0])}`);
    const asLink = await query(
      `MATCH_epc=${encodeURIComponent('https://id.gs1.org/01/10614141073464/21/1001')}`,
    );
    expect(asUrn.events.length).toBeGreaterThanOrEqual(2);
    expect(asLink.events.map((e) => e.eventID)).toEqual(asUrn.events.map((e) => e.eventID));
    // The case: packed (parent) and shipped (epcList) → MATCH_anyEPC finds both, MATCH_parentID only aggregations.
    const anyCase = await query(`MATCH_anyEPC=${encodeURIComponent(CASE)}`);
    const parentCase = await query(`MATCH_parentID=${encodeURIComponent(CASE)}`);
    expect(anyCase.events.length).toBeGreaterThan(parentCase.events.length);
    expect(parentCase.events.every((e) => e.type === 'AggregationEvent')).toBe(true);
    // Every serial of the product (a class pattern).
    const allOfGtin = await query(`MATCH_epc=${encodeURIComponent('urn:epc:idpat:sgtin:0614141.107346.*')}`);
    expect(allOfGtin.events.length).toBeGreaterThanOrEqual(asUrn.events.length);
    expect((await query(`MATCH_epcClass=${encodeURIComponent(LOT)}`)).status).toBe(200);
    // Time window and location.
    const march1 = await query('GE_eventTime=2025-03-01T00:00:00Z&LT_eventTime=2025-03-02T00:00:00Z');
    expect(march1.events.length).toBeGreaterThanOrEqual(2);
    expect((await query('GE_eventTime=2030-01-01T00:00:00Z')).events).toHaveLength(0);
    expect((await query(`EQ_bizLocation=${encodeURIComponent(MANUFACTURER_SITE)}`)).events).toHaveLength(1);
    // The wholesaler's site is written as a Digital Link in the document; asked for as an SGLN URN.
    const atWholesaler = await query(
      `EQ_bizLocation=${encodeURIComponent('urn:epc:id:sgln:4012345.00012.0')}`,
    );
    expect(atWholesaler.events).toHaveLength(2);
    expect((await query('EQ_disposition=in_progress|in_transit')).events.length).toBeGreaterThanOrEqual(2);
  });

  it('pages with perPage and the nextPageToken of the Link header until every event was seen once', async () => {
    const seen: string[] = [];
    let url: string | null = '/epcis/events?perPage=2';
    while (url) {
      const res = await node.api(url.replace(/^https?:\/\/[^/]+/, ''));
      const body = (await res.json()) as {
        epcisBody: { queryResults: { resultsBody: { eventList: { eventID: string }[] } } };
      };
      seen.push(...body.epcisBody.queryResults.resultsBody.eventList.map((e) => e.eventID));
      const link = res.headers.get('link');
      url = link ? (/<([^>]+)>; rel="next"/.exec(link)?.[1] ?? null) : null;
    }
    expect(seen).toHaveLength(EVENTS);
    expect(new Set(seen).size).toBe(EVENTS);
  });

  it('refuses bad documents naming every problem, and stores nothing of them', async () => {
    const before = await countAll();
    const badCheckDigit = withEvent(
      0,
      (e) => void ((e.epcList as string[])[2] = 'https://id.gs1.org/01/10614141073465/21/1003'),
    );
    const unknownStep = withEvent(3, (e) => void (e.bizStep = 'shiping'));
    const future = withEvent(1, (e) => void (e.eventTime = new Date(Date.now() + 3_600_000).toISOString()));
    const both = withEvent(0, (e) => {
      (e.epcList as string[])[2] = 'https://id.gs1.org/01/10614141073465/21/1003';
      e.bizStep = 'shiping';
    });
    for (const [document, path] of [
      [badCheckDigit, 'epcisBody.eventList[0].epcList[2]'],
      [unknownStep, 'epcisBody.eventList[3].bizStep'],
      [future, 'epcisBody.eventList[1].eventTime'],
    ] as const) {
      const res = await capture(document);
      expect(res.status).toBe(400);
      const problem = (await res.json()) as {
        code: string;
        details: { problems: { path: string; message: string }[] };
      };
      expect(problem.code).toBe('EPCIS.INVALID_DOCUMENT');
      expect(problem.details.problems.map((p) => p.path)).toContain(path);
    }
    const two = (await (await capture(both)).json()) as { details: { problems: unknown[] } };
    expect(two.details.problems.length).toBeGreaterThanOrEqual(2);
    for (const body of ['{"type":"EPCISDocument"', '[]', '"x"']) {
      const res = await node.api('/epcis/capture', {
        method: 'POST',
        headers: { 'content-type': 'application/ld+json' },
        body,
      });
      expect(res.status).toBe(400);
    }
    expect(await countAll()).toBe(before);
  });

  it('refuses bad queries with a message saying what is allowed', async () => {
    for (const [params, parameter] of [
      ['EQ_bizstep=shipping', 'EQ_bizstep'],
      ['EQ_bizStep=shiping', ''],
      ['eventType=QuantityEvent', 'eventType'],
      ['GE_eventTime=yesterday', 'GE_eventTime'],
      ['perPage=0', 'perPage'],
      ['nextPageToken=abc', 'nextPageToken'],
      [`MATCH_epc=${encodeURIComponent('urn:epc:id:sgtin:0614141.107346')}`, ''],
    ] as const) {
      const res = await query(params);
      expect(res.status, params).toBe(400);
      expect(res.body.detail, params).toContain(parameter);
    }
  });
});
