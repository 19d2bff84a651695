/**
 * A drug's way through the supply chain as one EPCIS 2.0 document, in the shape GS1's EPCIS 2.0 examples have
 * (https://ref.gs1.org/standards/epcis/, JSON-LD examples): a manufacturer commissions three serialised packs of one
 * lot (ILMD: lot and expiry), packs them into a case (SSCC), ships the case to a wholesaler (owning party changes),
 * the wholesaler receives it, records the invoice against it, unpacks it and sells on, a pharmacy dispenses one pack,
 * one pack is decommissioned, and a compounding step turns bulk material into new serialised packs. Identifiers use
 * GS1's example company prefix 0614141 and are written sometimes as EPC URNs, sometimes as Digital Link URIs, and
 * CBV values sometimes as bare words, URNs or Web URIs, as real senders mix them.
 */
import type { JsonObject } from '../epcisDocument.js';

/** The node clock the fixture's times are valid against. */
export const PHARMA_NOW = Date.parse('2025-03-10T12:00:00Z');

export const PACKS = [
  'urn:epc:id:sgtin:0614141.107346.1001',
  'urn:epc:id:sgtin:0614141.107346.1002',
  'https://id.gs1.org/01/10614141073464/21/1003',
] as const;
export const CASE = 'urn:epc:id:sscc:0614141.1234567890';
export const LOT = 'urn:epc:class:lgtin:0614141.107346.LOT42';
export const MANUFACTURER_SITE = 'urn:epc:id:sgln:0614141.00001.0';
export const MANUFACTURER_DOCK = 'urn:epc:id:sgln:0614141.00001.7';
export const WHOLESALER_SITE = 'https://id.gs1.org/414/4012345000122';
export const PHARMACY_SITE = 'urn:epc:id:sgln:4000001.00012.0';

/** A fresh copy each call (tests change it). */
export function pharmaDocument(): JsonObject {
  return {
    '@context': [
      'https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld',
      { cbvmda: 'urn:epcglobal:cbv:mda:', careledger: 'https://careledger.example/epcis/' },
    ],
    type: 'EPCISDocument',
    schemaVersion: '2.0',
    creationDate: '2025-03-09T16:00:00.000Z',
    epcisBody: {
      eventList: [
        {
          type: 'ObjectEvent',
          eventTime: '2025-03-01T09:15:00.000+01:00',
          eventTimeZoneOffset: '+01:00',
          epcList: [...PACKS],
          action: 'ADD',
          bizStep: 'commissioning',
          disposition: 'active',
          readPoint: { id: MANUFACTURER_SITE },
          bizLocation: { id: MANUFACTURER_SITE },
          ilmd: { 'cbvmda:lotNumber': 'LOT42', 'cbvmda:itemExpirationDate': '2027-06-30' },
        },
        {
          type: 'AggregationEvent',
          eventTime: '2025-03-01T10:00:00.000+01:00',
          eventTimeZoneOffset: '+01:00',
          parentID: CASE,
          childEPCs: [...PACKS],
          action: 'ADD',
          bizStep: 'packing',
          disposition: 'in_progress',
          readPoint: { id: MANUFACTURER_SITE },
        },
        {
          type: 'ObjectEvent',
          eventTime: '2025-03-03T14:30:00.000+01:00',
          eventTimeZoneOffset: '+01:00',
          recordTime: '2025-03-03T14:30:05.000+01:00',
          epcList: [CASE],
          action: 'OBSERVE',
          bizStep: 'urn:epcglobal:cbv:bizstep:shipping',
          disposition: 'urn:epcglobal:cbv:disp:in_transit',
          readPoint: { id: MANUFACTURER_DOCK, 'careledger:gate': 'G4' },
          bizTransactionList: [
            { type: 'po', bizTransaction: 'urn:epcglobal:cbv:bt:4012345000009:PO-7781' },
            { type: 'desadv', bizTransaction: 'urn:epcglobal:cbv:bt:0614141000005:ASN-1204' },
          ],
          sourceList: [
            { type: 'owning_party', source: MANUFACTURER_SITE },
            { type: 'location', source: MANUFACTURER_SITE },
          ],
          destinationList: [
            { type: 'owning_party', destination: WHOLESALER_SITE },
            { type: 'location', destination: WHOLESALER_SITE },
          ],
          'careledger:shipmentTemperature': { 'careledger:min': 2, 'careledger:max': 8 },
        },
        {
          type: 'ObjectEvent',
          eventTime: '2025-03-04T08:05:00.000+01:00',
          eventTimeZoneOffset: '+01:00',
          epcList: ['https://id.gs1.org/00/106141412345678908'],
          action: 'OBSERVE',
          bizStep: 'https://ref.gs1.org/cbv/BizStep-receiving',
          disposition: 'in_progress',
          readPoint: { id: WHOLESALER_SITE },
          bizLocation: { id: WHOLESALER_SITE },
          sourceList: [{ type: 'owning_party', source: MANUFACTURER_SITE }],
          destinationList: [{ type: 'owning_party', destination: WHOLESALER_SITE }],
        },
        {
          type: 'TransactionEvent',
          eventTime: '2025-03-04T08:30:00.000+01:00',
          eventTimeZoneOffset: '+01:00',
          epcList: [CASE],
          action: 'ADD',
          bizStep: 'accepting',
          bizLocation: { id: WHOLESALER_SITE },
          bizTransactionList: [
            { type: 'inv', bizTransaction: 'urn:epcglobal:cbv:bt:0614141000005:INV-3310' },
          ],
        },
        {
          type: 'AggregationEvent',
          eventTime: '2025-03-05T11:00:00.000+01:00',
          eventTimeZoneOffset: '+01:00',
          parentID: CASE,
          childEPCs: [...PACKS],
          action: 'DELETE',
          bizStep: 'unpacking',
          disposition: 'sellable_accessible',
          readPoint: { id: WHOLESALER_SITE },
        },
        {
          type: 'ObjectEvent',
          eventTime: '2025-03-08T17:42:10.250+01:00',
          eventTimeZoneOffset: '+01:00',
          epcList: [PACKS[0]],
          action: 'OBSERVE',
          bizStep: 'dispensing',
          disposition: 'dispensed',
          readPoint: { id: PHARMACY_SITE },
          bizLocation: { id: PHARMACY_SITE },
        },
        {
          type: 'ObjectEvent',
          eventTime: '2025-03-09T09:00:00.000+01:00',
          eventTimeZoneOffset: '+01:00',
          epcList: [PACKS[1]],
          action: 'DELETE',
          bizStep: 'decommissioning',
          disposition: 'inactive',
          readPoint: { id: PHARMACY_SITE },
        },
        {
          type: 'TransformationEvent',
          eventTime: '2025-03-09T15:20:00.000+01:00',
          eventTimeZoneOffset: '+01:00',
          inputQuantityList: [{ epcClass: LOT, quantity: 2.5, uom: 'KGM' }],
          outputEPCList: ['urn:epc:id:sgtin:0614141.107347.5001', 'urn:epc:id:sgtin:0614141.107347.5002'],
          transformationID: 'urn:uuid:6b1c7a4e-4f3b-4a8e-9d4e-2f6c1b0e8a11',
          bizStep: 'commissioning',
          disposition: 'active',
          readPoint: { id: MANUFACTURER_SITE },
          ilmd: { 'cbvmda:lotNumber': 'C-0309', 'cbvmda:itemExpirationDate': '2025-09-09' },
        },
      ],
    },
  };
}

/** The document with `mutate` applied to event `index` (a fresh copy). */
export function withEvent(index: number, mutate: (event: JsonObject) => void): JsonObject {
  const document = pharmaDocument();
  const events = (document.epcisBody as JsonObject).eventList as JsonObject[];
  mutate(events[index] as JsonObject);
  return document;
}
