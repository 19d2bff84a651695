/**
 * EPCIS 2.0 documents as a pharmaceutical manufacturer's packaging line sends them, for the supply-chain sections:
 * per pair of cases, the commissioning of each case's packs (ObjectEvent ADD with ILMD lot and expiry), their packing
 * into an SSCC case (AggregationEvent ADD), and the shipment of both cases to a wholesaler (ObjectEvent OBSERVE with
 * purchase order and despatch advice, owning party and location as source and destination). Identifiers are EPC URNs
 * under GS1's example company prefix 0614141 (wholesaler 4012345); times are in the past, with a +01:00 offset.
 * Every pack serial and case SSCC is unique within a run (`first` numbers them), so no event repeats another.
 */

import type { CaptureLoadJob } from './supplyLoadWorker.js';

/** The product every bench pack is of: `urn:epc:id:sgtin:0614141.107346.*`. */
export const BENCH_GTIN = '10614141073464';
const SGTIN_PREFIX = 'urn:epc:id:sgtin:0614141.107346.';
const SSCC_PREFIX = 'urn:epc:id:sscc:0614141.';
const PLANT = 'urn:epc:id:sgln:0614141.00001.0';
const PACKING_LINE = 'urn:epc:id:sgln:0614141.00001.L3';
const SHIPPING_DOCK = 'urn:epc:id:sgln:0614141.00001.D1';
const MANUFACTURER = 'urn:epc:id:pgln:0614141.00000';
const WHOLESALER = 'urn:epc:id:pgln:4012345.00000';
const WHOLESALER_DC = 'urn:epc:id:sgln:4012345.00012.0';
const CONTEXT = [
  'https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld',
  { cbvmda: 'urn:epcglobal:cbv:mda:' },
];

/** A pack's serial number (AI 21): 9 digits from 100000000, unique per pack number. */
export const packSerial = (pack: number) => String(100_000_000 + pack);

/** `2025-03-01T09:15:00.000+01:00` for an instant. */
function at(ms: number): string {
  return `${new Date(ms + 3_600_000).toISOString().slice(0, -1)}+01:00`;
}

export interface LineDocumentOptions {
  /** Events in the document. */
  events: number;
  /** Packs per case (each commissioning and each packing event lists this many). */
  packsPerCase: number;
  /** Number of the document's first pack and first case (both count up across documents). */
  firstPack: number;
  firstCase: number;
  lot: string;
  /** YYYY-MM-DD */
  expiry: string;
  /** Event times count up from here, one second apart. */
  startMs: number;
}

export interface LineDocument {
  document: Record<string, unknown>;
  events: number;
  packs: number;
  cases: number;
  /** Identifiers (EPCs, parent, sources, destinations, locations) over all events. */
  identifiers: number;
}

/** One document of a packaging line: commission, pack, commission, pack, ship both cases; repeated. */
export function lineDocument(o: LineDocumentOptions): LineDocument {
  const eventList: Record<string, unknown>[] = [];
  let pack = o.firstPack;
  let kase = o.firstCase;
  let time = o.startMs;
  let identifiers = 0;
  const shipped: string[] = [];
  const add = (event: Record<string, unknown>, ids: number) => {
    if (eventList.length < o.events) {
      eventList.push(event);
      identifiers += ids;
    }
  };
  while (eventList.length < o.events) {
    if (shipped.length === 2) {
      const order = `${o.lot}-${kase}`;
      add(
        {
          type: 'ObjectEvent',
          eventTime: at((time += 1000)),
          eventTimeZoneOffset: '+01:00',
          epcList: shipped.splice(0),
          action: 'OBSERVE',
          bizStep: 'shipping',
          disposition: 'in_transit',
          readPoint: { id: SHIPPING_DOCK },
          bizLocation: { id: PLANT },
          bizTransactionList: [
            { type: 'po', bizTransaction: `urn:epcglobal:cbv:bt:4012345000009:PO-${order}` },
            { type: 'desadv', bizTransaction: `urn:epcglobal:cbv:bt:0614141000005:ASN-${order}` },
          ],
          sourceList: [
            { type: 'owning_party', source: MANUFACTURER },
            { type: 'location', source: PLANT },
          ],
          destinationList: [
            { type: 'owning_party', destination: WHOLESALER },
            { type: 'location', destination: WHOLESALER_DC },
          ],
        },
        2 + 2 + 4,
      );
      continue;
    }
    const packs = Array.from({ length: o.packsPerCase }, () => `${SGTIN_PREFIX}${packSerial(pack++)}`);
    add(
      {
        type: 'ObjectEvent',
        eventTime: at((time += 1000)),
        eventTimeZoneOffset: '+01:00',
        epcList: packs,
        action: 'ADD',
        bizStep: 'commissioning',
        disposition: 'active',
        readPoint: { id: PACKING_LINE },
        bizLocation: { id: PLANT },
        ilmd: { 'cbvmda:lotNumber': o.lot, 'cbvmda:itemExpirationDate': o.expiry },
      },
      packs.length + 2,
    );
    const sscc = `${SSCC_PREFIX}1${String(kase++).padStart(9, '0')}`;
    add(
      {
        type: 'AggregationEvent',
        eventTime: at((time += 1000)),
        eventTimeZoneOffset: '+01:00',
        parentID: sscc,
        childEPCs: packs,
        action: 'ADD',
        bizStep: 'packing',
        disposition: 'in_progress',
        readPoint: { id: PACKING_LINE },
        bizLocation: { id: PLANT },
      },
      packs.length + 3,
    );
    shipped.push(sscc);
  }
  return {
    document: {
      '@context': CONTEXT,
      type: 'EPCISDocument',
      schemaVersion: '2.0',
      creationDate: at(time + 1000),
      epcisBody: { eventList },
    },
    events: eventList.length,
    packs: pack - o.firstPack,
    cases: kase - o.firstCase,
    identifiers,
  };
}

/** What a capture job says about the documents it sends. */
export type DocumentSeries = Pick<
  CaptureLoadJob,
  | 'warmupDocuments'
  | 'documents'
  | 'eventsPerDocument'
  | 'packsPerCase'
  | 'firstPack'
  | 'firstCase'
  | 'documentsPerLot'
  | 'expiry'
  | 'startMs'
>;

/**
 * The documents of a capture job in order, the warm-up ones first (`index` below `warmupDocuments`): each the line
 * events of the packs and cases after the previous document's, a new lot every `documentsPerLot` documents, the
 * events a second apart from `startMs` on.
 */
export function* documentSeries(job: DocumentSeries): Generator<{ index: number; built: LineDocument }> {
  let pack = job.firstPack;
  let kase = job.firstCase;
  for (let index = 0; index < job.warmupDocuments + job.documents; index++) {
    const built = lineDocument({
      events: job.eventsPerDocument,
      packsPerCase: job.packsPerCase,
      firstPack: pack,
      firstCase: kase,
      lot: `B${String(Math.floor(index / job.documentsPerLot)).padStart(5, '0')}`,
      expiry: job.expiry,
      startMs: job.startMs + index * job.eventsPerDocument * 1000,
    });
    pack += built.packs;
    kase += built.cases;
    yield { index, built };
  }
}

/**
 * One document commissioning the packs with these serials, all of one lot, `perEvent` packs per ObjectEvent (what a
 * line reports when a lot is finished).
 */
export function commissioningDocument(o: {
  serials: readonly string[];
  perEvent: number;
  lot: string;
  expiry: string;
  startMs: number;
}): Record<string, unknown> {
  const eventList: Record<string, unknown>[] = [];
  for (let first = 0; first < o.serials.length; first += o.perEvent) {
    eventList.push({
      type: 'ObjectEvent',
      eventTime: at(o.startMs + first * 1000),
      eventTimeZoneOffset: '+01:00',
      epcList: o.serials.slice(first, first + o.perEvent).map((serial) => `${SGTIN_PREFIX}${serial}`),
      action: 'ADD',
      bizStep: 'commissioning',
      disposition: 'active',
      readPoint: { id: PACKING_LINE },
      bizLocation: { id: PLANT },
      ilmd: { 'cbvmda:lotNumber': o.lot, 'cbvmda:itemExpirationDate': o.expiry },
    });
  }
  return {
    '@context': CONTEXT,
    type: 'EPCISDocument',
    schemaVersion: '2.0',
    creationDate: at(o.startMs + (o.serials.length + 1) * 1000),
    epcisBody: { eventList },
  };
}
