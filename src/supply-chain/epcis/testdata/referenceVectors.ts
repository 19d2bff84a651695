/**
 * Conformance vectors for the CBV 2.0 EPCIS event hash, from the GS1 reference implementation
 * https://github.com/RalphTro/epcis-event-hash-generator (MIT licence, Ralph Tröger / GS1 Germany):
 *   - README.md "Worked examples" 1–3 (documents tests/examples/documents/ReferenceEventHashAlgorithm{,2,3}.jsonld,
 *     expected hashes tests/examples/expected/CBV2.0/ReferenceEventHashAlgorithm{,2,3}.hashes);
 *   - tests/examples/documents/epcisDocWithVariousEventTypes.jsonld with
 *     tests/examples/expected/CBV2.0/epcisDocWithVariousEventTypes.{prehashes,hashes} (13 events of all four types);
 *   - tests/examples/documents/TimeStampRoundOff.jsonld with tests/examples/expected/CBV2.0/TimeStampRoundOff.{prehashes,hashes}.
 * Documents, pre-hash strings and hashes are copied unchanged (the pre-hash strings of the README examples joined
 * without the line breaks the README shows them with). Each expected hash is the SHA-256 of its pre-hash string.
 *
 * `needs` lists the identifiers of a vector beyond SGTIN, SSCC, SGLN, LGTIN and GTIN class (PGLN, GDTI, GIAI): the
 * reference writes them as Digital Link URIs, so the event matches only while the GS1 identifier module reads them.
 * It does, so every vector is checked in full; `substitutions` stays for a future vector whose identifiers it cannot
 * read (GRAI, GSRN, …).
 */
import type { JsonObject } from '../epcisDocument.js';

export interface ConformanceVector {
  /** Where it comes from. */
  name: string;
  /** The EPCIS document holding the event. */
  document: JsonObject;
  /** Index of the event in the document's eventList. */
  index: number;
  /** Identifiers the GS1 identifier module must read for the event to be hashed as the reference does. */
  needs: string[];
  /**
   * Only while it does not read them (none of these vectors now): `[as the reference writes it, as this module writes
   * it]` pairs that turn the reference pre-hash string into this module's (every other part must still match).
   */
  substitutions: [string, string][];
  preHash: string;
  hash: string;
}

export const referenceExample1: JsonObject = {
  '@context': [
    'https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld',
    {
      example: 'https://ns.example.com/epcis/',
    },
  ],
  id: 'https://id.example.org/document1',
  type: 'EPCISDocument',
  schemaVersion: '2.0',
  creationDate: '2022-02-17T11:30:47.0Z',
  epcisBody: {
    eventList: [
      {
        type: 'ObjectEvent',
        eventTime: '2020-03-04T11:00:30.000+01:00',
        eventTimeZoneOffset: '+01:00',
        recordTime: '2020-03-04T11:00:30.999+01:00',
        epcList: [
          'urn:epc:id:sscc:4012345.0000000333',
          'urn:epc:id:sscc:4012345.0000000111',
          'urn:epc:id:sscc:4012345.0000000222',
        ],
        action: 'OBSERVE',
        bizStep: 'departing',
        readPoint: {
          id: 'urn:epc:id:sgln:4012345.00011.987',
        },
        'example:myField1': {
          'example:mySubField1': '2',
          'example:mySubField2': '5',
        },
        'example:myField2': '0',
        'example:myField3': {
          'example:mySubField3': ['3', '1'],
        },
      },
    ],
  },
};

export const referenceExample2: JsonObject = {
  '@context': ['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld'],
  id: 'https://id.example.org/document1',
  type: 'EPCISDocument',
  schemaVersion: '2.0',
  creationDate: '2022-02-17T11:30:47.0Z',
  epcisBody: {
    eventList: [
      {
        type: 'ObjectEvent',
        eventTime: '2020-04-01T15:00:00+01:00',
        eventTimeZoneOffset: '+01:00',
        epcList: ['urn:epc:id:sgtin:4012345.011111.9876'],
        action: 'OBSERVE',
        bizStep: 'inspecting',
        readPoint: {
          id: 'urn:epc:id:sgln:4012345.00005.0',
        },
        sensorElementList: [
          {
            sensorMetadata: {
              deviceID: 'urn:epc:id:giai:4000001.111',
              deviceMetadata: 'https://id.gs1.org/8004/4000001111',
            },
            sensorReport: [
              {
                type: 'Temperature',
                value: 26,
                sDev: 0.1,
                uom: 'CEL',
              },
              {
                type: 'AbsoluteHumidity',
                value: 12.1,
                uom: 'A93',
              },
              {
                type: 'Dimensionless',
                microorganism: 'https://www.ncbi.nlm.nih.gov/taxonomy/1126011',
                value: 0.05,
                uom: 'C35',
              },
              {
                type: 'Dimensionless',
                chemicalSubstance: 'https://identifiers.org/inchikey:CZMRCDWAGMRECN-UGDNZRGBSA-N',
                value: 0.18,
                uom: 'C35',
              },
            ],
          },
        ],
      },
    ],
  },
};

export const referenceExample3: JsonObject = {
  '@context': [
    'https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld',
    {
      example: 'https://ns.example.com/epcis/',
    },
  ],
  id: 'https://id.example.org/document1',
  type: 'EPCISDocument',
  schemaVersion: '2.0',
  creationDate: '2022-02-17T11:30:47.0Z',
  epcisBody: {
    eventList: [
      {
        type: 'ObjectEvent',
        eventTime: '2020-03-04T11:00:30+01:00',
        eventTimeZoneOffset: '+01:00',
        epcList: ['urn:epc:id:sgtin:0614141.011111.987'],
        action: 'OBSERVE',
        bizStep: 'departing',
        disposition: 'in_transit',
        readPoint: {
          id: 'urn:epc:id:sgln:4012345.00011.0',
          'example:myField1': 'AB-12',
        },
        bizTransactionList: [
          {
            type: 'po',
            bizTransaction: 'urn:epc:id:gdti:4012345.11111.123',
          },
        ],
        sourceList: [
          {
            type: 'owning_party',
            source: 'urn:epc:id:pgln:4012345.00000',
          },
        ],
        destinationList: [
          {
            type: 'owning_party',
            destination: 'urn:epc:id:pgln:0614141.00000',
          },
        ],
        'example:userExt': 'CD-34',
      },
    ],
  },
};

export const variousEventTypes: JsonObject = {
  '@context': [
    'https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld',
    {
      example: 'https://ns.example.com/epcis/',
    },
    {
      cbvmda: 'urn:epcglobal:cbv:mda:',
    },
  ],
  id: 'https://id.example.org/document1',
  type: 'EPCISDocument',
  schemaVersion: '2.0',
  creationDate: '2022-02-17T11:30:47.0Z',
  epcisBody: {
    eventList: [
      {
        type: 'ObjectEvent',
        eventTime: '2019-10-21T11:00:30.000+01:00',
        eventTimeZoneOffset: '+01:00',
        epcList: ['urn:epc:id:sscc:5200001.0111111146'],
        action: 'OBSERVE',
        bizStep: 'departing',
        readPoint: {
          id: 'urn:epc:id:sgln:5200001.99901.0',
        },
        bizTransactionList: [
          {
            type: 'desadv',
            bizTransaction: 'urn:epcglobal:cbv:bt:5200001000008:4711',
          },
          {
            type: 'inv',
            bizTransaction: 'urn:epcglobal:cbv:bt:5200001000008:RE1099',
          },
        ],
        sourceList: [
          {
            type: 'possessing_party',
            source: 'urn:epc:id:pgln:5200001.00000',
          },
        ],
        destinationList: [
          {
            type: 'possessing_party',
            destination: 'urn:epc:id:pgln:4000001.98765',
          },
          {
            type: 'location',
            destination: 'urn:epc:id:sgln:4012345.00012.0',
          },
        ],
      },
      {
        type: 'ObjectEvent',
        eventTime: '2019-10-21T12:00:30.000+01:00',
        eventTimeZoneOffset: '+01:00',
        epcList: ['urn:epc:id:sscc:5200001.0111111146'],
        action: 'OBSERVE',
        bizStep: 'receiving',
        readPoint: {
          id: 'urn:epc:id:sgln:4012345.00012.0',
        },
        bizTransactionList: [
          {
            type: 'desadv',
            bizTransaction: 'urn:epcglobal:cbv:bt:5200001000008:4711',
          },
          {
            type: 'inv',
            bizTransaction: 'urn:epcglobal:cbv:bt:5200001000008:RE1099',
          },
        ],
        sourceList: [
          {
            type: 'possessing_party',
            source: 'urn:epc:id:pgln:4000001.00012',
          },
          {
            type: 'owning_party',
            source: 'urn:epc:id:pgln:4000001.00012',
          },
        ],
        destinationList: [
          {
            type: 'possessing_party',
            destination: 'urn:epc:id:pgln:4012345.00000',
          },
          {
            type: 'owning_party',
            destination: 'urn:epc:id:pgln:4012345.00000',
          },
          {
            type: 'location',
            destination: 'urn:epc:id:sgln:4012345.00012.0',
          },
        ],
      },
      {
        type: 'ObjectEvent',
        eventTime: '2019-10-21T15:45:00.000+01:00',
        eventTimeZoneOffset: '+01:00',
        epcList: ['urn:epc:id:sscc:4012345.0111111111'],
        action: 'OBSERVE',
        bizStep: 'inspecting',
        disposition: 'in_progress',
        readPoint: {
          id: 'urn:epc:id:sgln:4012345.00024.0',
        },
      },
      {
        type: 'ObjectEvent',
        eventTime: '2019-10-21T14:58:56.000+02:00',
        eventTimeZoneOffset: '+02:00',
        quantityList: [
          {
            epcClass: 'urn:epc:class:lgtin:4054739.099914.20160711',
            quantity: 600,
            uom: 'KGM',
          },
        ],
        action: 'ADD',
        bizStep: 'commissioning',
        readPoint: {
          id: 'urn:epc:id:sgln:4054739.00001.0',
        },
        ilmd: {
          'cbvmda:bestBeforeDate': '2019-10-21',
        },
      },
      {
        type: 'AggregationEvent',
        eventTime: '2019-10-21T11:58:56.591+02:00',
        eventTimeZoneOffset: '+02:00',
        parentID: 'urn:epc:id:sscc:4047023.0111111122',
        childEPCs: [
          'urn:epc:id:sgtin:4047023.077551.98',
          'urn:epc:id:sgtin:4047023.077551.97',
          'urn:epc:id:sgtin:4047023.077551.107',
          'urn:epc:id:sgtin:4047023.077551.109',
        ],
        action: 'ADD',
        bizStep: 'packing',
        readPoint: {
          id: 'urn:epc:id:sgln:4047023.00012.0',
        },
      },
      {
        type: 'AggregationEvent',
        eventTime: '2019-10-21T17:30:56.591+02:00',
        eventTimeZoneOffset: '+02:00',
        parentID: 'urn:epc:id:sscc:4012344.0111111133',
        childQuantityList: [
          {
            epcClass: 'urn:epc:class:lgtin:4054739.099902.P2',
            quantity: 12,
            uom: 'KGM',
          },
          {
            epcClass: 'urn:epc:class:lgtin:4054739.012345.lot2',
            quantity: 17,
          },
        ],
        action: 'ADD',
        bizStep: 'packing',
        readPoint: {
          id: 'urn:epc:id:sgln:4012345.00025.0',
        },
      },
      {
        type: 'AggregationEvent',
        eventTime: '2019-10-21T11:58:56.591+02:00',
        eventTimeZoneOffset: '+02:00',
        parentID: 'urn:epc:id:sscc:4012344.0111111144',
        action: 'DELETE',
        bizStep: 'unpacking',
        readPoint: {
          id: 'urn:epc:id:sgln:4012345.00025.0',
        },
        bizTransactionList: [
          {
            type: 'inv',
            bizTransaction: 'urn:epcglobal:cbv:bt:4012345123456:RE1099',
          },
        ],
      },
      {
        type: 'AggregationEvent',
        eventTime: '2019-10-21T14:02:56.000+02:00',
        eventTimeZoneOffset: '+02:00',
        parentID: 'urn:epc:id:sscc:4012344.0998811122',
        childEPCs: [
          'urn:epc:id:sscc:4012344.0998811123',
          'urn:epc:id:sscc:4012344.0998811124',
          'urn:epc:id:sscc:4012344.0998811125',
        ],
        action: 'DELETE',
        bizStep: 'unpacking',
        readPoint: {
          id: 'urn:epc:id:sgln:4012345.00077.0',
        },
        bizTransactionList: [
          {
            type: 'inv',
            bizTransaction: 'urn:epcglobal:cbv:bt:4012345123456:4711',
          },
        ],
      },
      {
        type: 'TransactionEvent',
        eventTime: '2019-10-21T00:05:00-06:00',
        eventTimeZoneOffset: '-06:00',
        epcList: ['urn:epc:id:sgtin:0614141.107340.1', 'urn:epc:id:sgtin:0614141.107340.2'],
        action: 'ADD',
        bizStep: 'shipping',
        readPoint: {
          id: 'urn:epc:id:sgln:4012345.00000.5',
        },
        bizLocation: {
          id: 'urn:epc:id:sgln:4012345.00000.0',
        },
        bizTransactionList: [
          {
            type: 'po',
            bizTransaction: 'urn:epcglobal:cbv:bt:4012345123456:RE100099',
          },
        ],
      },
      {
        type: 'TransactionEvent',
        eventTime: '2019-10-21T14:58:56.591+02:00',
        eventTimeZoneOffset: '+02:00',
        quantityList: [
          {
            epcClass: 'urn:epc:class:lgtin:4012345.099988.2014-02-10',
            quantity: 2030,
            uom: 'KGM',
          },
        ],
        action: 'ADD',
        bizStep: 'holding',
        readPoint: {
          id: 'urn:epc:id:sgln:4012345.00025.0',
        },
        bizLocation: {
          id: 'urn:epc:id:sgln:4012345.00002.0',
        },
        bizTransactionList: [
          {
            type: 'inv',
            bizTransaction: 'urn:epcglobal:cbv:bt:4012345123456:RE1099',
          },
        ],
      },
      {
        type: 'TransformationEvent',
        eventTime: '2019-10-21T14:58:56.591+02:00',
        eventTimeZoneOffset: '+02:00',
        inputEPCList: ['urn:epc:id:sgtin:4012345.011122.25', 'urn:epc:id:sgtin:4000001.065432.99886655'],
        outputEPCList: [
          'urn:epc:id:sgtin:4012345.077889.25',
          'urn:epc:id:sgtin:4012345.077889.26',
          'urn:epc:id:sgtin:4012345.077889.27',
          'urn:epc:id:sgtin:4012345.077889.28',
        ],
        transformationID: 'urn:epc:id:gdti:4012345.55555.1234',
        bizStep: 'commissioning',
        readPoint: {
          id: 'urn:epc:id:sgln:4012345.00001.0',
        },
        ilmd: {
          'example:bestBeforeDate': '2020-11-10',
          'example:batch': '4711',
        },
      },
      {
        type: 'TransformationEvent',
        eventTime: '2019-10-21T14:58:56.591+02:00',
        eventTimeZoneOffset: '+02:00',
        inputEPCList: ['urn:epc:id:sgtin:4012345.011122.25', 'urn:epc:id:sgtin:4000001.065432.99886655'],
        outputEPCList: [
          'urn:epc:id:sgtin:4012345.077889.25',
          'urn:epc:id:sgtin:4012345.077889.26',
          'urn:epc:id:sgtin:4012345.077889.27',
          'urn:epc:id:sgtin:4012345.077889.28',
        ],
        inputQuantityList: [
          {
            epcClass: 'urn:epc:class:lgtin:4012345.011111.4444',
            quantity: 10,
            uom: 'KGM',
          },
          {
            epcClass: 'urn:epc:class:lgtin:0614141.077777.987',
            quantity: 30,
          },
          {
            epcClass: 'urn:epc:idpat:sgtin:4012345.066666.*',
            quantity: 220,
          },
        ],
        bizStep: 'commissioning',
        readPoint: {
          id: 'urn:epc:id:sgln:4012345.00001.0',
        },
        ilmd: {
          'example:bestBeforeDate': '2015-11-10',
          'example:batch': 'XYZ',
        },
      },
      {
        type: 'TransformationEvent',
        eventTime: '2019-10-21T14:58:56.591+02:00',
        eventTimeZoneOffset: '+02:00',
        inputEPCList: ['urn:epc:id:sgtin:4012345.011122.25', 'urn:epc:id:sgtin:4000001.065432.99886655'],
        outputQuantityList: [
          {
            epcClass: 'urn:epc:class:lgtin:4054739.099902.P20131121',
            quantity: 9520,
          },
        ],
        transformationID: 'urn:epc:id:gdti:4012345.55555.1234',
        bizStep: 'http://epcis.example.com/user/vocab/bizstep/exampling',
        readPoint: {
          id: 'urn:epc:id:sgln:4012345.00001.0',
        },
      },
    ],
  },
};

export const timeStampRoundOff: JsonObject = {
  '@context': ['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld'],
  type: 'EPCISDocument',
  schemaVersion: '2.0',
  creationDate: '2023-02-02T11:05:00.0Z',
  epcisBody: {
    eventList: [
      {
        type: 'ObjectEvent',
        eventTime: '2023-02-02T11:04:03.1415Z',
        eventTimeZoneOffset: '+01:00',
        epcList: ['https://id.gs1.de/00/040123451111111110'],
        action: 'OBSERVE',
        bizStep: 'shipping',
        disposition: 'in_transit',
        readPoint: {
          id: 'https://id.gs1.de/414/4012345000115',
        },
      },
      {
        type: 'ObjectEvent',
        eventTime: '2023-02-02T11:04:03.1414Z',
        eventTimeZoneOffset: '+01:00',
        epcList: ['https://id.gs1.de/00/040123451111111110'],
        action: 'OBSERVE',
        bizStep: 'transporting',
        readPoint: {
          id: 'geo:50.947573340894124,6.922120147375441',
        },
      },
      {
        type: 'ObjectEvent',
        eventTime: '2023-02-12T11:04:03.1415Z',
        eventTimeZoneOffset: '+01:00',
        certificationInfo: 'https://accreditation-council.example.org/certificate/ABC12345',
        epcList: ['https://id.gs1.de/01/04012345999990/21/XYZ-1234'],
        action: 'OBSERVE',
        bizStep: 'receiving',
        disposition: 'in_progress',
        readPoint: {
          id: 'https://id.gs1.de/414/4012345000115',
        },
        sensorElementList: [
          {
            sensorMetadata: {
              time: '2023-02-12T11:04:03.1007Z',
              bizRules: 'https://id.example.com/253/4012345000054987',
            },
            sensorReport: [
              {
                type: 'Dimensionless',
                exception: 'ALARM_CONDITION',
                coordinateReferenceSystem: 'http://www.opengis.net/def/crs/EPSG/0/27700',
              },
            ],
          },
        ],
      },
    ],
  },
};

export const conformanceVectors: ConformanceVector[] = [
  {
    name: 'README example 1 (ReferenceEventHashAlgorithm.jsonld)',
    document: referenceExample1,
    index: 0,
    needs: [],
    substitutions: [],
    preHash:
      'eventType=ObjectEventeventTime=2020-03-04T10:00:30.000ZeventTimeZoneOffset=+01:00epcListepc=https://id.gs1.org/00/040123450000001112epc=https://id.gs1.org/00/040123450000002225epc=https://id.gs1.org/00/040123450000003338action=OBSERVEbizStep=https://ref.gs1.org/cbv/BizStep-departingreadPointid=https://id.gs1.org/414/4012345000115/254/987{https://ns.example.com/epcis/}myField1{https://ns.example.com/epcis/}mySubField1=2{https://ns.example.com/epcis/}mySubField2=5{https://ns.example.com/epcis/}myField2=0{https://ns.example.com/epcis/}myField3{https://ns.example.com/epcis/}mySubField3=1{https://ns.example.com/epcis/}mySubField3=3',
    hash: 'ni:///sha-256;6ae96341e0acc6d7a261364751f60e68278a81cdf51da0abb6b4e617014e39d7?ver=CBV2.0',
  },
  {
    name: 'README example 2 (ReferenceEventHashAlgorithm2.jsonld)',
    document: referenceExample2,
    index: 0,
    needs: ['urn:epc:id:giai:4000001.111', 'https://id.gs1.org/8004/4000001111'],
    substitutions: [],
    preHash:
      'eventType=ObjectEventeventTime=2020-04-01T14:00:00.000ZeventTimeZoneOffset=+01:00epcListepc=https://id.gs1.org/01/04012345111118/21/9876action=OBSERVEbizStep=https://ref.gs1.org/cbv/BizStep-inspectingreadPointid=https://id.gs1.org/414/4012345000054sensorElementsensorMetadatadeviceID=https://id.gs1.org/8004/4000001111deviceMetadata=https://id.gs1.org/8004/4000001111sensorReporttype=https://ref.gs1.org/voc/AbsoluteHumidityvalue=12.1uom=A93sensorReporttype=https://ref.gs1.org/voc/DimensionlesschemicalSubstance=https://identifiers.org/inchikey:CZMRCDWAGMRECN-UGDNZRGBSA-Nvalue=0.18uom=C35sensorReporttype=https://ref.gs1.org/voc/Dimensionlessmicroorganism=https://www.ncbi.nlm.nih.gov/taxonomy/1126011value=0.05uom=C35sensorReporttype=https://ref.gs1.org/voc/Temperaturevalue=26sDev=0.1uom=CEL',
    hash: 'ni:///sha-256;271565c346ae2fb28c4583c4dca4ab4772d465eb4e0b6e548d77d8b49377d95c?ver=CBV2.0',
  },
  {
    name: 'README example 3 (ReferenceEventHashAlgorithm3.jsonld)',
    document: referenceExample3,
    index: 0,
    needs: ['urn:epc:id:gdti:4012345.11111.123', 'urn:epc:id:pgln:4012345.00000'],
    substitutions: [],
    preHash:
      'eventType=ObjectEventeventTime=2020-03-04T10:00:30.000ZeventTimeZoneOffset=+01:00epcListepc=https://id.gs1.org/01/00614141111114/21/987action=OBSERVEbizStep=https://ref.gs1.org/cbv/BizStep-departingdisposition=https://ref.gs1.org/cbv/Disp-in_transitreadPointid=https://id.gs1.org/414/4012345000115bizTransactionListtype=https://ref.gs1.org/cbv/BTT-pobizTransaction=https://id.gs1.org/253/4012345111118123sourceListtype=https://ref.gs1.org/cbv/SDT-owning_partysource=https://id.gs1.org/417/4012345000009destinationListtype=https://ref.gs1.org/cbv/SDT-owning_partydestination=https://id.gs1.org/417/0614141000005readPoint{https://ns.example.com/epcis/}myField1=AB-12{https://ns.example.com/epcis/}userExt=CD-34',
    hash: 'ni:///sha-256;3ae14c02c4bdc220cc31942cf804f6845eb8dec96ba6483391c92a9b165f9329?ver=CBV2.0',
  },
  {
    name: 'epcisDocWithVariousEventTypes.jsonld event 0',
    document: variousEventTypes,
    index: 0,
    needs: ['urn:epc:id:pgln:5200001.00000'],
    substitutions: [],
    preHash:
      'eventType=ObjectEventeventTime=2019-10-21T10:00:30.000ZeventTimeZoneOffset=+01:00epcListepc=https://id.gs1.org/00/052000011111111461action=OBSERVEbizStep=https://ref.gs1.org/cbv/BizStep-departingreadPointid=https://id.gs1.org/414/5200001999012bizTransactionListtype=https://ref.gs1.org/cbv/BTT-desadvbizTransaction=urn:epcglobal:cbv:bt:5200001000008:4711type=https://ref.gs1.org/cbv/BTT-invbizTransaction=urn:epcglobal:cbv:bt:5200001000008:RE1099sourceListtype=https://ref.gs1.org/cbv/SDT-possessing_partysource=https://id.gs1.org/417/5200001000008destinationListtype=https://ref.gs1.org/cbv/SDT-locationdestination=https://id.gs1.org/414/4012345000122type=https://ref.gs1.org/cbv/SDT-possessing_partydestination=https://id.gs1.org/417/4000001987658',
    hash: 'ni:///sha-256;253f0178f96349eedc207505b49044a602129605cf692e3d9f1f36c8bd1dfb0d?ver=CBV2.0',
  },
  {
    name: 'epcisDocWithVariousEventTypes.jsonld event 1',
    document: variousEventTypes,
    index: 1,
    needs: ['urn:epc:id:pgln:4000001.00012'],
    substitutions: [],
    preHash:
      'eventType=ObjectEventeventTime=2019-10-21T11:00:30.000ZeventTimeZoneOffset=+01:00epcListepc=https://id.gs1.org/00/052000011111111461action=OBSERVEbizStep=https://ref.gs1.org/cbv/BizStep-receivingreadPointid=https://id.gs1.org/414/4012345000122bizTransactionListtype=https://ref.gs1.org/cbv/BTT-desadvbizTransaction=urn:epcglobal:cbv:bt:5200001000008:4711type=https://ref.gs1.org/cbv/BTT-invbizTransaction=urn:epcglobal:cbv:bt:5200001000008:RE1099sourceListtype=https://ref.gs1.org/cbv/SDT-owning_partysource=https://id.gs1.org/417/4000001000128type=https://ref.gs1.org/cbv/SDT-possessing_partysource=https://id.gs1.org/417/4000001000128destinationListtype=https://ref.gs1.org/cbv/SDT-locationdestination=https://id.gs1.org/414/4012345000122type=https://ref.gs1.org/cbv/SDT-owning_partydestination=https://id.gs1.org/417/4012345000009type=https://ref.gs1.org/cbv/SDT-possessing_partydestination=https://id.gs1.org/417/4012345000009',
    hash: 'ni:///sha-256;ef43acf0e69951f79739f603f714893784648a41bac3f58035b5830a978a2631?ver=CBV2.0',
  },
  {
    name: 'epcisDocWithVariousEventTypes.jsonld event 2',
    document: variousEventTypes,
    index: 2,
    needs: [],
    substitutions: [],
    preHash:
      'eventType=ObjectEventeventTime=2019-10-21T14:45:00.000ZeventTimeZoneOffset=+01:00epcListepc=https://id.gs1.org/00/040123451111111110action=OBSERVEbizStep=https://ref.gs1.org/cbv/BizStep-inspectingdisposition=https://ref.gs1.org/cbv/Disp-in_progressreadPointid=https://id.gs1.org/414/4012345000245',
    hash: 'ni:///sha-256;c50842eb714406394a77fb7b517fea621c78a61f65549874de7c9e019afe7b6f?ver=CBV2.0',
  },
  {
    name: 'epcisDocWithVariousEventTypes.jsonld event 3',
    document: variousEventTypes,
    index: 3,
    needs: [],
    substitutions: [],
    preHash:
      'eventType=ObjectEventeventTime=2019-10-21T12:58:56.000ZeventTimeZoneOffset=+02:00quantityListquantityElementepcClass=https://id.gs1.org/01/04054739999148/10/20160711quantity=600uom=KGMaction=ADDbizStep=https://ref.gs1.org/cbv/BizStep-commissioningreadPointid=https://id.gs1.org/414/4054739000011ilmd{urn:epcglobal:cbv:mda:}bestBeforeDate=2019-10-21',
    hash: 'ni:///sha-256;5f396ea5cb32fe4d0980cb79f5a5eb9640559e9f5a6cefa5c98a7d6ad554b50b?ver=CBV2.0',
  },
  {
    name: 'epcisDocWithVariousEventTypes.jsonld event 4',
    document: variousEventTypes,
    index: 4,
    needs: [],
    substitutions: [],
    preHash:
      'eventType=AggregationEventeventTime=2019-10-21T09:58:56.591ZeventTimeZoneOffset=+02:00parentID=https://id.gs1.org/00/040470231111111229childEPCsepc=https://id.gs1.org/01/04047023775511/21/107epc=https://id.gs1.org/01/04047023775511/21/109epc=https://id.gs1.org/01/04047023775511/21/97epc=https://id.gs1.org/01/04047023775511/21/98action=ADDbizStep=https://ref.gs1.org/cbv/BizStep-packingreadPointid=https://id.gs1.org/414/4047023000125',
    hash: 'ni:///sha-256;c941e6486c561c2be83c28dc228c150eaef9a6befb1015e6cc563982fb7414b6?ver=CBV2.0',
  },
  {
    name: 'epcisDocWithVariousEventTypes.jsonld event 5',
    document: variousEventTypes,
    index: 5,
    needs: [],
    substitutions: [],
    preHash:
      'eventType=AggregationEventeventTime=2019-10-21T15:30:56.591ZeventTimeZoneOffset=+02:00parentID=https://id.gs1.org/00/040123441111111333childQuantityListquantityElementepcClass=https://id.gs1.org/01/04054739123451/10/lot2quantity=17quantityElementepcClass=https://id.gs1.org/01/04054739999025/10/P2quantity=12uom=KGMaction=ADDbizStep=https://ref.gs1.org/cbv/BizStep-packingreadPointid=https://id.gs1.org/414/4012345000252',
    hash: 'ni:///sha-256;cfda50b7ff23682e989bafc3747ac9b752f405305fcde6618280f6be27344f35?ver=CBV2.0',
  },
  {
    name: 'epcisDocWithVariousEventTypes.jsonld event 6',
    document: variousEventTypes,
    index: 6,
    needs: [],
    substitutions: [],
    preHash:
      'eventType=AggregationEventeventTime=2019-10-21T09:58:56.591ZeventTimeZoneOffset=+02:00parentID=https://id.gs1.org/00/040123441111111449action=DELETEbizStep=https://ref.gs1.org/cbv/BizStep-unpackingreadPointid=https://id.gs1.org/414/4012345000252bizTransactionListtype=https://ref.gs1.org/cbv/BTT-invbizTransaction=urn:epcglobal:cbv:bt:4012345123456:RE1099',
    hash: 'ni:///sha-256;c4bdb87c8d59d6ab569d0cfc6583e9dd4c314cdf71799b0ef8d4febe5239d9c5?ver=CBV2.0',
  },
  {
    name: 'epcisDocWithVariousEventTypes.jsonld event 7',
    document: variousEventTypes,
    index: 7,
    needs: [],
    substitutions: [],
    preHash:
      'eventType=AggregationEventeventTime=2019-10-21T12:02:56.000ZeventTimeZoneOffset=+02:00parentID=https://id.gs1.org/00/040123449988111227childEPCsepc=https://id.gs1.org/00/040123449988111234epc=https://id.gs1.org/00/040123449988111241epc=https://id.gs1.org/00/040123449988111258action=DELETEbizStep=https://ref.gs1.org/cbv/BizStep-unpackingreadPointid=https://id.gs1.org/414/4012345000771bizTransactionListtype=https://ref.gs1.org/cbv/BTT-invbizTransaction=urn:epcglobal:cbv:bt:4012345123456:4711',
    hash: 'ni:///sha-256;a62b9f9e429fcba628ea47d073542ca67e9fbe4688df2c649b8cd13b8519b91f?ver=CBV2.0',
  },
  {
    name: 'epcisDocWithVariousEventTypes.jsonld event 8',
    document: variousEventTypes,
    index: 8,
    needs: [],
    substitutions: [],
    preHash:
      'eventType=TransactionEventeventTime=2019-10-21T06:05:00.000ZeventTimeZoneOffset=-06:00epcListepc=https://id.gs1.org/01/10614141073402/21/1epc=https://id.gs1.org/01/10614141073402/21/2action=ADDbizStep=https://ref.gs1.org/cbv/BizStep-shippingreadPointid=https://id.gs1.org/414/4012345000009/254/5bizLocationid=https://id.gs1.org/414/4012345000009bizTransactionListtype=https://ref.gs1.org/cbv/BTT-pobizTransaction=urn:epcglobal:cbv:bt:4012345123456:RE100099',
    hash: 'ni:///sha-256;cf6559dc931963f19ed9cd2fe33c02ef64c8cfd557e5a96b086a87db315b7122?ver=CBV2.0',
  },
  {
    name: 'epcisDocWithVariousEventTypes.jsonld event 9',
    document: variousEventTypes,
    index: 9,
    needs: [],
    substitutions: [],
    preHash:
      'eventType=TransactionEventeventTime=2019-10-21T12:58:56.591ZeventTimeZoneOffset=+02:00quantityListquantityElementepcClass=https://id.gs1.org/01/04012345999884/10/2014-02-10quantity=2030uom=KGMaction=ADDbizStep=https://ref.gs1.org/cbv/BizStep-holdingreadPointid=https://id.gs1.org/414/4012345000252bizLocationid=https://id.gs1.org/414/4012345000023bizTransactionListtype=https://ref.gs1.org/cbv/BTT-invbizTransaction=urn:epcglobal:cbv:bt:4012345123456:RE1099',
    hash: 'ni:///sha-256;b741a543ea0b2a4c4bdb3441c7dc196b41710e5b2c9870b211fac8d6d4c93427?ver=CBV2.0',
  },
  {
    name: 'epcisDocWithVariousEventTypes.jsonld event 10',
    document: variousEventTypes,
    index: 10,
    needs: ['urn:epc:id:gdti:4012345.55555.1234'],
    substitutions: [],
    preHash:
      'eventType=TransformationEventeventTime=2019-10-21T12:58:56.591ZeventTimeZoneOffset=+02:00inputEPCListepc=https://id.gs1.org/01/04000001654321/21/99886655epc=https://id.gs1.org/01/04012345111224/21/25outputEPCListepc=https://id.gs1.org/01/04012345778892/21/25epc=https://id.gs1.org/01/04012345778892/21/26epc=https://id.gs1.org/01/04012345778892/21/27epc=https://id.gs1.org/01/04012345778892/21/28transformationID=https://id.gs1.org/253/40123455555541234bizStep=https://ref.gs1.org/cbv/BizStep-commissioningreadPointid=https://id.gs1.org/414/4012345000016ilmd{https://ns.example.com/epcis/}batch=4711{https://ns.example.com/epcis/}bestBeforeDate=2020-11-10',
    hash: 'ni:///sha-256;335da6c3ab1d932824748791beec4d7ed261ed383f6849f6b8718e8fafb4d298?ver=CBV2.0',
  },
  {
    name: 'epcisDocWithVariousEventTypes.jsonld event 11',
    document: variousEventTypes,
    index: 11,
    needs: [],
    substitutions: [],
    preHash:
      'eventType=TransformationEventeventTime=2019-10-21T12:58:56.591ZeventTimeZoneOffset=+02:00inputEPCListepc=https://id.gs1.org/01/04000001654321/21/99886655epc=https://id.gs1.org/01/04012345111224/21/25inputQuantityListquantityElementepcClass=https://id.gs1.org/01/00614141777778/10/987quantity=30quantityElementepcClass=https://id.gs1.org/01/04012345111118/10/4444quantity=10uom=KGMquantityElementepcClass=https://id.gs1.org/01/04012345666663quantity=220outputEPCListepc=https://id.gs1.org/01/04012345778892/21/25epc=https://id.gs1.org/01/04012345778892/21/26epc=https://id.gs1.org/01/04012345778892/21/27epc=https://id.gs1.org/01/04012345778892/21/28bizStep=https://ref.gs1.org/cbv/BizStep-commissioningreadPointid=https://id.gs1.org/414/4012345000016ilmd{https://ns.example.com/epcis/}batch=XYZ{https://ns.example.com/epcis/}bestBeforeDate=2015-11-10',
    hash: 'ni:///sha-256;36ab2ba0e3eac03d14a630148c63c31da00b8c4f1c311f501eb459e89a6e6350?ver=CBV2.0',
  },
  {
    name: 'epcisDocWithVariousEventTypes.jsonld event 12',
    document: variousEventTypes,
    index: 12,
    needs: ['urn:epc:id:gdti:4012345.55555.1234'],
    substitutions: [],
    preHash:
      'eventType=TransformationEventeventTime=2019-10-21T12:58:56.591ZeventTimeZoneOffset=+02:00inputEPCListepc=https://id.gs1.org/01/04000001654321/21/99886655epc=https://id.gs1.org/01/04012345111224/21/25outputQuantityListquantityElementepcClass=https://id.gs1.org/01/04054739999025/10/P20131121quantity=9520transformationID=https://id.gs1.org/253/40123455555541234bizStep=http://epcis.example.com/user/vocab/bizstep/examplingreadPointid=https://id.gs1.org/414/4012345000016',
    hash: 'ni:///sha-256;756558aa09b2d38c6bcb6e50eab2fcbebd9bde17362a7c4f4686a5d7f5fb013f?ver=CBV2.0',
  },
  {
    name: 'TimeStampRoundOff.jsonld event 0',
    document: timeStampRoundOff,
    index: 0,
    needs: [],
    substitutions: [],
    preHash:
      'eventType=ObjectEventeventTime=2023-02-02T11:04:03.142ZeventTimeZoneOffset=+01:00epcListepc=https://id.gs1.org/00/040123451111111110action=OBSERVEbizStep=https://ref.gs1.org/cbv/BizStep-shippingdisposition=https://ref.gs1.org/cbv/Disp-in_transitreadPointid=https://id.gs1.org/414/4012345000115',
    hash: 'ni:///sha-256;af7658e711574363633f20b3dadc7bc4c13c6f612cf96d95e03c421c0e58f3c6?ver=CBV2.0',
  },
  {
    name: 'TimeStampRoundOff.jsonld event 1',
    document: timeStampRoundOff,
    index: 1,
    needs: [],
    substitutions: [],
    preHash:
      'eventType=ObjectEventeventTime=2023-02-02T11:04:03.141ZeventTimeZoneOffset=+01:00epcListepc=https://id.gs1.org/00/040123451111111110action=OBSERVEbizStep=https://ref.gs1.org/cbv/BizStep-transportingreadPointid=geo:50.947573340894124,6.922120147375441',
    hash: 'ni:///sha-256;0550df44527332c1fe417c5837fe61b9e71eaa93307b88519dac549bf2d4dcf9?ver=CBV2.0',
  },
  {
    name: 'TimeStampRoundOff.jsonld event 2',
    document: timeStampRoundOff,
    index: 2,
    needs: ['https://id.example.com/253/4012345000054987'],
    substitutions: [],
    preHash:
      'eventType=ObjectEventeventTime=2023-02-12T11:04:03.142ZeventTimeZoneOffset=+01:00epcListepc=https://id.gs1.org/01/04012345999990/21/XYZ-1234action=OBSERVEbizStep=https://ref.gs1.org/cbv/BizStep-receivingdisposition=https://ref.gs1.org/cbv/Disp-in_progressreadPointid=https://id.gs1.org/414/4012345000115sensorElementsensorMetadatatime=2023-02-12T11:04:03.101ZbizRules=https://id.gs1.org/253/4012345000054987sensorReporttype=https://ref.gs1.org/voc/Dimensionlessexception=https://ref.gs1.org/voc/ALARM_CONDITIONcoordinateReferenceSystem=http://www.opengis.net/def/crs/EPSG/0/27700',
    hash: 'ni:///sha-256;bf052637920f56c28bd6bc4ce10bb296203fcddc543f1e293d5a77b07592dcec?ver=CBV2.0',
  },
];
