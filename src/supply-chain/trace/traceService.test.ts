import { describe, expect, it } from 'vitest';
import { Gs1IdentifierError, canonicalKey, parseGs1Identifier } from '../identifiers/index.js';
import type { EpcRole, EventQuery, EventRow, StoredEpcisEvent } from '../capture/ports.js';
import type { PackRecord } from '../custody/ports.js';
import { TraceService } from './traceService.js';

const key = (epc: string) => canonicalKey(parseGs1Identifier(epc));
const PACK = 'urn:epc:id:sgtin:0614141.107346.1';
const OTHER_PACK = 'urn:epc:id:sgtin:0614141.107346.2';
const CASE = 'urn:epc:id:sscc:0614141.1234567890';
const PALLET = 'urn:epc:id:sscc:0614141.0000000017';

/** An in-memory EPCIS store answering the queries tracing makes. */
function memoryStore() {
  const events: StoredEpcisEvent[] = [];
  return {
    add(eventTime: number, json: Record<string, unknown>) {
      const recordId = events.length + 1;
      const epcs: { epc: string; role: EpcRole }[] = [];
      for (const e of (json.epcList as string[] | undefined) ?? []) epcs.push({ epc: key(e), role: 'epc' });
      if (typeof json.parentID === 'string') epcs.push({ epc: key(json.parentID), role: 'parent' });
      for (const e of (json.childEPCs as string[] | undefined) ?? [])
        epcs.push({ epc: key(e), role: 'child' });
      const eventId = `ev${recordId}`;
      events.push({
        recordId,
        eventId,
        eventType: json.type as string,
        eventTime,
        recordTime: eventTime,
        bizStep: (json.bizStep as string | undefined) ?? null,
        disposition: null,
        bizLocation: null,
        readPoint: null,
        captureId: 'c',
        body: JSON.stringify({ ...json, eventID: eventId }),
        epcs,
      });
      return eventId;
    },
    query(q: EventQuery): EventRow[] {
      return events
        .filter(
          (e) =>
            e.recordId > q.afterRecordId &&
            (!q.eventTypes || q.eventTypes.includes(e.eventType)) &&
            (q.eventTimeFrom === undefined || e.eventTime >= q.eventTimeFrom) &&
            (q.eventTimeBefore === undefined || e.eventTime < q.eventTimeBefore) &&
            q.epcConditions.every((c) =>
              e.epcs.some((x) => c.epcs.includes(x.epc) && c.roles.includes(x.role)),
            ),
        )
        .slice(0, q.limit)
        .map(({ epcs: _epcs, ...row }) => row);
    },
  };
}

function setUp() {
  const store = memoryStore();
  const ids = {
    commission: store.add(1_000, {
      type: 'ObjectEvent',
      action: 'ADD',
      bizStep: 'commissioning',
      epcList: [PACK, OTHER_PACK],
    }),
    pack: store.add(2_000, {
      type: 'AggregationEvent',
      action: 'ADD',
      bizStep: 'packing',
      parentID: CASE,
      childEPCs: [PACK, OTHER_PACK],
    }),
    palletise: store.add(3_000, {
      type: 'AggregationEvent',
      action: 'ADD',
      bizStep: 'packing',
      parentID: PALLET,
      childEPCs: [CASE],
    }),
    ship: store.add(4_000, {
      type: 'ObjectEvent',
      action: 'OBSERVE',
      bizStep: 'shipping',
      epcList: [PALLET],
    }),
    depalletise: store.add(5_000, {
      type: 'AggregationEvent',
      action: 'DELETE',
      bizStep: 'unpacking',
      parentID: PALLET,
      childEPCs: [],
    }),
    caseSeen: store.add(5_500, {
      type: 'ObjectEvent',
      action: 'OBSERVE',
      bizStep: 'receiving',
      epcList: [CASE],
    }),
    unpack: store.add(6_000, {
      type: 'AggregationEvent',
      action: 'DELETE',
      bizStep: 'unpacking',
      parentID: CASE,
      childEPCs: [PACK],
    }),
    // After the pack left: the case's and pallet's later events are not the pack's.
    caseLater: store.add(7_000, {
      type: 'ObjectEvent',
      action: 'OBSERVE',
      bizStep: 'shipping',
      epcList: [CASE],
    }),
    palletLater: store.add(8_000, {
      type: 'ObjectEvent',
      action: 'OBSERVE',
      bizStep: 'shipping',
      epcList: [PALLET],
    }),
    dispense: store.add(9_000, {
      type: 'ObjectEvent',
      action: 'OBSERVE',
      bizStep: 'dispensing',
      epcList: [PACK],
    }),
  };
  const packs = new Map<string, PackRecord>([
    [
      '10614141073464/1',
      { gtin: '10614141073464', serial: '1', lot: 'LOT7', expiry: null, origin: 'commissioned' },
    ],
  ]);
  const history: [string, string, string][] = [];
  const tracer = new TraceService({
    events: store,
    packs: { pack: (gtin, serial) => packs.get(`${gtin}/${serial}`) },
    proofOf: (recordId) => (recordId <= 5 ? { record: { id: recordId } } : 'pending'),
    packHistory: async (gtin, lot, serial) => {
      history.push([gtin, lot, serial]);
      return [
        {
          event: 'PackTransferred',
          scope: 'pack',
          from: '0x01',
          to: '0x02',
          blockNumber: 7,
          transactionHash: '0xaa',
          logIndex: 0,
          time: 1_700_000_000,
        },
      ];
    },
  });
  return { tracer, ids, history };
}

describe('TraceService', () => {
  it('a pack’s journey: its own events, its case’s and pallet’s while inside, in event-time order, with proofs', async () => {
    const { tracer, ids, history } = setUp();
    const trace = await tracer.trace(PACK);
    expect(trace.canonical).toBe(key(PACK));
    expect(trace.lot).toEqual({ gtin: '10614141073464', lot: 'LOT7' });
    expect(trace.steps.map((s) => [s.eventId, s.description])).toEqual([
      [ids.commission, 'the pack itself'],
      [ids.pack, 'the pack itself'],
      [ids.palletise, `in case ${CASE}`],
      [ids.ship, `in pallet ${PALLET} (holding case ${CASE})`],
      [ids.depalletise, `in pallet ${PALLET} (holding case ${CASE})`],
      [ids.caseSeen, `in case ${CASE}`],
      [ids.unpack, 'the pack itself'],
      [ids.dispense, 'the pack itself'],
    ]);
    expect(trace.steps[3]?.relation).toEqual({ kind: 'container', depth: 2, container: PALLET, via: [CASE] });
    expect(trace.steps[0]?.proof).toEqual({ record: { id: 1 } });
    expect(trace.steps[5]?.proof).toBe('pending');
    expect(trace.steps[0]?.event).toMatchObject({ eventID: ids.commission, bizStep: 'commissioning' });
    expect(trace.containers).toMatchObject([
      { container: key(CASE), epc: CASE, depth: 1, addedBy: ids.pack, removedBy: ids.unpack },
      { container: key(PALLET), epc: PALLET, depth: 2, addedBy: ids.palletise, removedBy: ids.depalletise },
    ]);
    expect(history).toEqual([['10614141073464', 'LOT7', '1']]);
    expect(trace.custody).toMatchObject([{ event: 'PackTransferred', time: '2023-11-14T22:13:20.000Z' }]);
  });

  it('the other pack stayed in the case: the case’s later shipment is part of its journey', async () => {
    const { tracer, ids } = setUp();
    const trace = await tracer.trace(OTHER_PACK, { proofs: false });
    expect(trace.steps.map((s) => s.eventId)).toContain(ids.caseLater);
    expect(trace.steps.map((s) => s.eventId)).not.toContain(ids.palletLater);
    expect(trace.steps.every((s) => !('proof' in s))).toBe(true);
    expect(trace.lot).toBeNull();
    expect(trace.custody).toEqual([]);
  });

  it('a case (SSCC), written as a Digital Link: its own events and its pallet’s', async () => {
    const { tracer, ids } = setUp();
    const trace = await tracer.trace(key(CASE));
    expect(trace.kind).toBe('sscc');
    expect(trace.steps.find((s) => s.eventId === ids.ship)?.description).toBe(`in pallet ${PALLET}`);
    expect(trace.steps.map((s) => s.eventId)).toContain(ids.caseLater);
  });

  it('answers 404 for an identifier nothing here mentions, 400 for a malformed or unsupported one', async () => {
    const { tracer } = setUp();
    await expect(tracer.trace('urn:epc:id:sgtin:0614141.107346.99')).rejects.toMatchObject({
      code: 'TRACE.NOT_FOUND',
      status: 404,
    });
    await expect(tracer.trace('urn:epc:id:sgtin:0614141.107346')).rejects.toBeInstanceOf(Gs1IdentifierError);
    await expect(tracer.trace('https://id.gs1.org/01/10614141073465/21/1')).rejects.toMatchObject({
      code: 'GS1.CHECK_DIGIT',
      status: 400,
    });
    await expect(tracer.trace('urn:epc:id:sgln:0614141.00001.0')).rejects.toMatchObject({
      code: 'TRACE.UNSUPPORTED_IDENTIFIER',
      status: 400,
    });
  });
});
