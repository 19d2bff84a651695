import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../core/errors.js';
import {
  eventIdentifiers,
  eventTimeMillis,
  eventToJson,
  parseEpcisDocument,
  parseEpcisEvent,
  type EpcisParseOptions,
  type JsonObject,
  type ObjectEvent,
  type TransformationEvent,
} from './epcisDocument.js';
import type { EpcisDocumentErrorDetails, EpcisProblem } from './errors.js';
import { eventHash } from './eventHash.js';
import { CASE, PACKS, PHARMA_NOW, pharmaDocument, withEvent } from './testdata/pharmaDocument.js';

const options: EpcisParseOptions = { now: PHARMA_NOW };

/** The problems of a refused document (asserting the refusal's shape). */
function problemsOf(document: unknown, opts: EpcisParseOptions = options): EpcisProblem[] {
  let thrown: unknown;
  try {
    parseEpcisDocument(document, opts);
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(InvalidInputError);
  const error = thrown as InvalidInputError;
  expect(error.code).toBe('EPCIS.INVALID_DOCUMENT');
  expect(error.status).toBe(400);
  expect(error.issueType).toBe('invalid');
  const details = error.details as EpcisDocumentErrorDetails;
  expect(details.problems.length).toBeGreaterThan(0);
  return details.problems;
}

/** The single problem of a refused document. */
function problemOf(document: unknown, opts?: EpcisParseOptions): EpcisProblem {
  const problems = problemsOf(document, opts);
  expect(problems).toHaveLength(1);
  return problems[0] as EpcisProblem;
}

describe('parseEpcisDocument: a pharma supply chain document', () => {
  const parsed = parseEpcisDocument(pharmaDocument(), options);

  it('reads every event with its type', () => {
    expect(parsed.schemaVersion).toBe('2.0');
    expect(parsed.creationDate).toBe('2025-03-09T16:00:00.000Z');
    expect(parsed.namespaces).toEqual({
      cbvmda: 'urn:epcglobal:cbv:mda:',
      careledger: 'https://careledger.example/epcis/',
    });
    expect(parsed.events.map((e) => e.type)).toEqual([
      'ObjectEvent',
      'AggregationEvent',
      'ObjectEvent',
      'ObjectEvent',
      'TransactionEvent',
      'AggregationEvent',
      'ObjectEvent',
      'ObjectEvent',
      'TransformationEvent',
    ]);
    expect(parsed.events.map((e) => e.bizStep)).toEqual([
      'commissioning',
      'packing',
      'shipping',
      'receiving',
      'accepting',
      'unpacking',
      'dispensing',
      'decommissioning',
      'commissioning',
    ]);
  });

  it('keeps commissioning data: SGTINs as sent, ILMD, action', () => {
    const commissioning = parsed.events[0] as ObjectEvent;
    expect(commissioning).toMatchObject({
      action: 'ADD',
      disposition: 'active',
      epcList: [...PACKS],
      readPoint: { id: 'urn:epc:id:sgln:0614141.00001.0' },
      ilmd: { 'cbvmda:lotNumber': 'LOT42', 'cbvmda:itemExpirationDate': '2027-06-30' },
      extensions: {},
    });
  });

  it('normalises CBV values to bare words, drops recordTime, keeps extensions and their namespaces', () => {
    const shipping = parsed.events[2] as ObjectEvent;
    expect(shipping.bizStep).toBe('shipping');
    expect(shipping.disposition).toBe('in_transit');
    expect(shipping).not.toHaveProperty('recordTime');
    expect(shipping.readPoint).toEqual({
      id: 'urn:epc:id:sgln:0614141.00001.7',
      extensions: { 'careledger:gate': 'G4' },
    });
    expect(shipping.sourceList).toEqual([
      { type: 'owning_party', source: 'urn:epc:id:sgln:0614141.00001.0' },
      { type: 'location', source: 'urn:epc:id:sgln:0614141.00001.0' },
    ]);
    expect(shipping.destinationList?.[0]).toEqual({
      type: 'owning_party',
      destination: 'https://id.gs1.org/414/4012345000122',
    });
    expect(shipping.bizTransactionList?.map((t) => t.type)).toEqual(['po', 'desadv']);
    expect(shipping.extensions).toEqual({
      'careledger:shipmentTemperature': { 'careledger:min': 2, 'careledger:max': 8 },
    });
    expect(shipping.namespaces.careledger).toBe('https://careledger.example/epcis/');
  });

  it('reads an AggregationEvent DELETE and a TransformationEvent', () => {
    expect(parsed.events[5]).toMatchObject({ type: 'AggregationEvent', action: 'DELETE', parentID: CASE });
    const transformation = parsed.events[8] as TransformationEvent;
    expect(transformation).not.toHaveProperty('action');
    expect(transformation.inputQuantityList).toEqual([
      { epcClass: 'urn:epc:class:lgtin:0614141.107346.LOT42', quantity: 2.5, uom: 'KGM' },
    ]);
    expect(transformation.outputEPCList).toHaveLength(2);
  });

  it('lists identifiers by role as canonical Digital Link URIs', () => {
    expect(eventIdentifiers(parsed.events[1]!)).toEqual([
      { epc: 'https://id.gs1.org/00/106141412345678908', role: 'parent' },
      { epc: 'https://id.gs1.org/01/10614141073464/21/1001', role: 'child' },
      { epc: 'https://id.gs1.org/01/10614141073464/21/1002', role: 'child' },
      { epc: 'https://id.gs1.org/01/10614141073464/21/1003', role: 'child' },
    ]);
    // The SSCC written as a URN (shipping) and as a Digital Link (receiving) is one key.
    expect(eventIdentifiers(parsed.events[2]!)).toEqual(eventIdentifiers(parsed.events[3]!));
    expect(eventIdentifiers(parsed.events[8]!)).toEqual([
      { epc: 'https://id.gs1.org/01/10614141073471/21/5001', role: 'output' },
      { epc: 'https://id.gs1.org/01/10614141073471/21/5002', role: 'output' },
      { epc: 'https://id.gs1.org/01/10614141073464/10/LOT42', role: 'quantity' },
    ]);
  });

  it('gives event times in ms', () => {
    expect(eventTimeMillis(parsed.events[6]!)).toBe(Date.parse('2025-03-08T16:42:10.250Z'));
  });

  it('writes events back as EPCIS JSON that reads (and hashes) the same', () => {
    for (const event of parsed.events) {
      const json = eventToJson(event);
      expect(json).not.toHaveProperty('extensions');
      expect(json).not.toHaveProperty('namespaces');
      const again = parseEpcisEvent(json, options);
      // Only the prefixes the event uses travel with it.
      expect({ ...again, namespaces: {} }).toEqual({ ...event, namespaces: {} });
      expect(eventHash(again)).toBe(eventHash(event));
    }
    const shipping = eventToJson(parsed.events[2]!);
    expect(shipping['@context']).toEqual([{ careledger: 'https://careledger.example/epcis/' }]);
    expect(shipping.readPoint).toEqual({ id: 'urn:epc:id:sgln:0614141.00001.7', 'careledger:gate': 'G4' });
    expect(Object.keys(shipping).slice(0, 4)).toEqual([
      'type',
      'eventTime',
      'eventTimeZoneOffset',
      'epcList',
    ]);
    expect(eventToJson(parsed.events[0]!)['@context']).toEqual([{ cbvmda: 'urn:epcglobal:cbv:mda:' }]);
    expect(eventToJson(parsed.events[1]!)).not.toHaveProperty('@context');
  });

  it('reads namespace prefixes from @context objects and term definitions, skipping JSON-LD keywords', () => {
    const document = pharmaDocument();
    document['@context'] = [
      'https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld',
      {
        '@version': 1.1,
        careledger: { '@id': 'https://careledger.example/epcis/' },
        cbvmda: 'urn:epcglobal:cbv:mda:',
      },
    ];
    expect(parseEpcisDocument(document, options).namespaces).toEqual({
      careledger: 'https://careledger.example/epcis/',
      cbvmda: 'urn:epcglobal:cbv:mda:',
    });
    document['@context'] = [
      'https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld',
      { careledger: 42 },
    ];
    expect(problemOf(document)).toMatchObject({
      path: '@context[1].careledger',
      code: 'EPCIS.INVALID_VALUE',
    });
  });

  it('accepts an empty event list', () => {
    const document = pharmaDocument();
    (document.epcisBody as JsonObject).eventList = [];
    expect(parseEpcisDocument(document, options).events).toEqual([]);
  });
});

describe('parseEpcisDocument: refusals', () => {
  it('refuses a bad check digit in an EPC, with the GS1 module message', () => {
    const problem = problemOf(
      withEvent(0, (e) => {
        (e.epcList as string[])[1] = 'https://id.gs1.org/01/10614141073465/21/1002';
      }),
    );
    expect(problem).toMatchObject({
      path: 'epcisBody.eventList[0].epcList[1]',
      code: 'EPCIS.INVALID_IDENTIFIER',
      eventIndex: 0,
    });
    expect(problem.message).toContain('check digit');
  });

  it('refuses a malformed EPC URN', () => {
    const problem = problemOf(withEvent(1, (e) => void (e.parentID = 'urn:epc:id:sscc:0614141.123456789')));
    expect(problem).toMatchObject({
      path: 'epcisBody.eventList[1].parentID',
      code: 'EPCIS.INVALID_IDENTIFIER',
    });
  });

  it('refuses an unknown bizStep', () => {
    const problem = problemOf(withEvent(2, (e) => void (e.bizStep = 'shiping')));
    expect(problem).toMatchObject({ path: 'epcisBody.eventList[2].bizStep', code: 'EPCIS.UNKNOWN_BIZSTEP' });
    expect(problem.message).toContain('did you mean "shipping"');
    expect(problemOf(withEvent(2, (e) => void (e.bizStep = 'urn:epcglobal:cbv:bizstep:beaming'))).code).toBe(
      'EPCIS.UNKNOWN_BIZSTEP',
    );
  });

  it('refuses user vocabulary unless allowed', () => {
    const document = withEvent(
      2,
      (e) => void (e.bizStep = 'https://vocab.example.com/bizstep/cold_chain_check'),
    );
    expect(problemOf(document).code).toBe('EPCIS.UNKNOWN_BIZSTEP');
    const parsed = parseEpcisDocument(document, { ...options, allowCustomVocabulary: true });
    expect(parsed.events[2]?.bizStep).toBe('https://vocab.example.com/bizstep/cold_chain_check');
  });

  it('refuses unknown dispositions and source/destination and transaction types', () => {
    const problems = problemsOf(
      withEvent(2, (e) => {
        e.disposition = 'lost';
        (e.sourceList as JsonObject[])[0]!.type = 'owner';
        (e.bizTransactionList as JsonObject[])[1]!.type = 'asn';
      }),
    );
    expect(problems.map((p) => [p.path, p.code])).toEqual([
      ['epcisBody.eventList[2].disposition', 'EPCIS.UNKNOWN_DISPOSITION'],
      ['epcisBody.eventList[2].bizTransactionList[1].type', 'EPCIS.UNKNOWN_BIZ_TRANSACTION_TYPE'],
      ['epcisBody.eventList[2].sourceList[0].type', 'EPCIS.UNKNOWN_SOURCE_DESTINATION_TYPE'],
    ]);
  });

  it('refuses an eventTime in the future beyond the tolerance', () => {
    const sixMinutesAhead = new Date(PHARMA_NOW + 6 * 60_000).toISOString();
    const problem = problemOf(withEvent(6, (e) => void (e.eventTime = sixMinutesAhead)));
    expect(problem).toMatchObject({
      path: 'epcisBody.eventList[6].eventTime',
      code: 'EPCIS.EVENT_TIME_IN_FUTURE',
    });
    expect(problem.message).toContain('5 minutes');
    // Within the tolerance (clocks drift), or with a larger tolerance: accepted.
    const fourMinutesAhead = new Date(PHARMA_NOW + 4 * 60_000).toISOString();
    expect(() =>
      parseEpcisDocument(
        withEvent(6, (e) => void (e.eventTime = fourMinutesAhead)),
        options,
      ),
    ).not.toThrow();
    expect(() =>
      parseEpcisDocument(
        withEvent(6, (e) => void (e.eventTime = sixMinutesAhead)),
        {
          ...options,
          futureToleranceMs: 10 * 60_000,
        },
      ),
    ).not.toThrow();
    // The offset counts: 12:04 at +01:00 is 11:04Z, in the past.
    expect(() =>
      parseEpcisDocument(
        withEvent(6, (e) => void (e.eventTime = '2025-03-10T12:10:00+01:00')),
        options,
      ),
    ).not.toThrow();
  });

  it('refuses malformed times and offsets', () => {
    const problems = problemsOf(
      withEvent(0, (e) => {
        e.eventTime = '2025-02-30T10:00:00Z';
        e.eventTimeZoneOffset = '+1:00';
      }),
    );
    expect(problems.map((p) => [p.path, p.code])).toEqual([
      ['epcisBody.eventList[0].eventTime', 'EPCIS.INVALID_VALUE'],
      ['epcisBody.eventList[0].eventTimeZoneOffset', 'EPCIS.INVALID_VALUE'],
    ]);
    expect(problemOf(withEvent(0, (e) => void (e.eventTime = '2025-03-01T09:15:00'))).message).toContain(
      'date-time with offset',
    );
  });

  it('refuses missing required fields', () => {
    const problems = problemsOf(
      withEvent(0, (e) => {
        delete e.eventTime;
        delete e.eventTimeZoneOffset;
        delete e.action;
        delete e.epcList;
      }),
    );
    expect(problems.map((p) => [p.path, p.code])).toEqual([
      ['epcisBody.eventList[0].eventTime', 'EPCIS.MISSING_FIELD'],
      ['epcisBody.eventList[0].eventTimeZoneOffset', 'EPCIS.MISSING_FIELD'],
      ['epcisBody.eventList[0].action', 'EPCIS.MISSING_FIELD'],
      ['epcisBody.eventList[0].epcList', 'EPCIS.MISSING_FIELD'],
    ]);
    expect(problemOf(withEvent(4, (e) => void delete e.bizTransactionList))).toMatchObject({
      path: 'epcisBody.eventList[4].bizTransactionList',
      code: 'EPCIS.MISSING_FIELD',
    });
    expect(problemOf(withEvent(3, (e) => void delete (e.readPoint as JsonObject).id))).toMatchObject({
      path: 'epcisBody.eventList[3].readPoint.id',
      code: 'EPCIS.MISSING_FIELD',
    });
    expect(problemOf(withEvent(2, (e) => void delete (e.sourceList as JsonObject[])[0]!.type))).toMatchObject(
      {
        path: 'epcisBody.eventList[2].sourceList[0].type',
        code: 'EPCIS.MISSING_FIELD',
      },
    );
    const noOutputs = (e: JsonObject): void => void delete e.outputEPCList;
    // With a transformationID, inputs alone are fine (the outputs may come in another event); without, both are needed.
    expect(() => parseEpcisDocument(withEvent(8, noOutputs), options)).not.toThrow();
    expect(
      problemOf(
        withEvent(8, (e) => {
          noOutputs(e);
          delete e.transformationID;
        }),
      ),
    ).toMatchObject({ path: 'epcisBody.eventList[8].outputEPCList', code: 'EPCIS.MISSING_FIELD' });
  });

  it('refuses the wrong action for the type', () => {
    expect(problemOf(withEvent(0, (e) => void (e.action = 'UPDATE')))).toMatchObject({
      path: 'epcisBody.eventList[0].action',
      code: 'EPCIS.WRONG_ACTION',
    });
    const problem = problemOf(withEvent(8, (e) => void (e.action = 'ADD')));
    expect(problem).toMatchObject({ path: 'epcisBody.eventList[8].action', code: 'EPCIS.WRONG_ACTION' });
    expect(problem.message).toContain('TransformationEvent has no action');
  });

  it('refuses an AggregationEvent ADD (or DELETE) without parentID', () => {
    const problem = problemOf(withEvent(1, (e) => void delete e.parentID));
    expect(problem).toMatchObject({ path: 'epcisBody.eventList[1].parentID', code: 'EPCIS.MISSING_FIELD' });
    expect(problem.message).toContain('action is ADD');
    expect(problemOf(withEvent(5, (e) => void delete e.parentID)).message).toContain('action is DELETE');
    // OBSERVE may leave it out.
    expect(() =>
      parseEpcisDocument(
        withEvent(1, (e) => {
          delete e.parentID;
          e.action = 'OBSERVE';
        }),
        options,
      ),
    ).not.toThrow();
    expect(problemOf(withEvent(1, (e) => void (e.childEPCs = []))).message).toContain('at least one child');
  });

  it('refuses identifiers of the wrong kind for their place', () => {
    const problems = problemsOf(
      withEvent(2, (e) => {
        (e.epcList as string[]).push('urn:epc:class:lgtin:0614141.107346.LOT42');
        e.readPoint = { id: 'urn:epc:id:sscc:0614141.1234567890' };
        (e.destinationList as JsonObject[])[0]!.destination = 'urn:epc:id:sgtin:0614141.107346.1001';
      }),
    );
    expect(problems.map((p) => [p.path, p.code])).toEqual([
      ['epcisBody.eventList[2].epcList[1]', 'EPCIS.WRONG_IDENTIFIER_KIND'],
      ['epcisBody.eventList[2].readPoint.id', 'EPCIS.WRONG_IDENTIFIER_KIND'],
      ['epcisBody.eventList[2].destinationList[0].destination', 'EPCIS.WRONG_IDENTIFIER_KIND'],
    ]);
    expect(
      problemOf(withEvent(8, (e) => void ((e.inputQuantityList as JsonObject[])[0]!.epcClass = PACKS[0])))
        .code,
    ).toBe('EPCIS.WRONG_IDENTIFIER_KIND');
  });

  it('refuses party GLNs where an object or a location belongs, and GIAIs, GDTIs where a party or class does', () => {
    const PARTY = 'urn:epc:id:pgln:0614141.00000';
    const problems = problemsOf(
      withEvent(2, (e) => {
        (e.epcList as string[]).push(PARTY);
        e.readPoint = { id: 'https://id.gs1.org/417/0614141000005' };
        (e.sourceList as JsonObject[])[0]!.source = 'urn:epc:id:giai:0614141.A1';
        (e.destinationList as JsonObject[])[0]!.destination = 'urn:epc:id:gdti:0614141.00001.7';
      }),
    );
    expect(problems.map((p) => [p.path, p.code])).toEqual([
      ['epcisBody.eventList[2].epcList[1]', 'EPCIS.WRONG_IDENTIFIER_KIND'],
      ['epcisBody.eventList[2].readPoint.id', 'EPCIS.WRONG_IDENTIFIER_KIND'],
      ['epcisBody.eventList[2].sourceList[0].source', 'EPCIS.WRONG_IDENTIFIER_KIND'],
      ['epcisBody.eventList[2].destinationList[0].destination', 'EPCIS.WRONG_IDENTIFIER_KIND'],
    ]);
    expect(problems[0]?.message).toMatch(
      /a PGLN is a party, not an object; put it in a sourceList or destinationList/,
    );
    expect(problems[1]?.message).toMatch(/must be a location \(SGLN.*\), not a PGLN/);
    expect(problems[2]?.message).toMatch(/party or location \(PGLN, SGLN\), not a GIAI/);
    expect(problems[3]?.message).toMatch(/not a GDTI/);
    expect(problemOf(withEvent(1, (e) => void (e.parentID = PARTY)))).toMatchObject({
      path: 'epcisBody.eventList[1].parentID',
      code: 'EPCIS.WRONG_IDENTIFIER_KIND',
    });
    expect(
      problemOf(
        withEvent(
          8,
          (e) => void ((e.inputQuantityList as JsonObject[])[0]!.epcClass = 'urn:epc:id:giai:0614141.A1'),
        ),
      ).message,
    ).toMatch(/epcClass must be a class-level identifier .*, not a GIAI/);
  });

  it('refuses malformed party GLNs, GDTIs and GIAIs as invalid identifiers', () => {
    const problems = problemsOf(
      withEvent(2, (e) => {
        (e.sourceList as JsonObject[])[0]!.source = 'https://id.gs1.org/417/0614141000006';
        (e.bizTransactionList as JsonObject[])[0]!.bizTransaction = 'urn:epc:id:gdti:0614141.1234.7';
        (e.epcList as string[]).push(`https://id.gs1.org/8004/0614141${'x'.repeat(24)}`);
      }),
    );
    expect(problems.map((p) => [p.path, p.code])).toEqual([
      ['epcisBody.eventList[2].epcList[1]', 'EPCIS.INVALID_IDENTIFIER'],
      ['epcisBody.eventList[2].bizTransactionList[0].bizTransaction', 'EPCIS.INVALID_IDENTIFIER'],
      ['epcisBody.eventList[2].sourceList[0].source', 'EPCIS.INVALID_IDENTIFIER'],
    ]);
  });

  it('takes party GLNs as parties, GIAIs and GDTIs as objects, GDTIs as transactions and transformation IDs', () => {
    const document = withEvent(2, (e) => {
      (e.epcList as string[]).push(
        'urn:epc:id:giai:0614141.TOTE-9',
        'https://id.gs1.org/253/0614141000012DN-1',
      );
      (e.sourceList as JsonObject[])[0]!.source = 'urn:epc:id:pgln:0614141.00000';
      (e.destinationList as JsonObject[])[0]!.destination = 'https://id.gs1.org/417/4012345000009';
      (e.bizTransactionList as JsonObject[])[0]!.bizTransaction = 'urn:epc:id:gdti:4012345.00000.PO-7781';
    });
    const event = parseEpcisDocument(document, options).events[2]! as ObjectEvent;
    expect(event.sourceList?.[0]?.source).toBe('urn:epc:id:pgln:0614141.00000');
    expect(eventIdentifiers(event)).toEqual([
      { epc: 'https://id.gs1.org/00/106141412345678908', role: 'epc' },
      { epc: 'https://id.gs1.org/8004/0614141TOTE-9', role: 'epc' },
      { epc: 'https://id.gs1.org/253/0614141000012DN-1', role: 'epc' },
    ]);
    const transformation = withEvent(
      8,
      (e) => void (e.transformationID = 'urn:epc:id:gdti:0614141.00001.77'),
    );
    expect(parseEpcisDocument(transformation, options).events[8]).toMatchObject({
      transformationID: 'urn:epc:id:gdti:0614141.00001.77',
    });
  });

  it('accepts identifiers of other schemes and other URIs as they are', () => {
    const document = withEvent(2, (e) => {
      (e.epcList as string[]).push('urn:epc:id:grai:0614141.12345.400', 'https://example.com/container/77');
      (e.sourceList as JsonObject[])[0]!.source = 'urn:epc:id:gsrnp:0614141.1234567890';
      e.readPoint = { id: 'geo:50.9475,6.9221' };
    });
    expect(parseEpcisDocument(document, options).events[2]).toMatchObject({
      epcList: [CASE, 'urn:epc:id:grai:0614141.12345.400', 'https://example.com/container/77'],
    });
    expect(problemOf(withEvent(2, (e) => void (e.epcList = ['not a uri']))).code).toBe('EPCIS.INVALID_VALUE');
  });

  it('refuses fields of other event types and unprefixed unknown fields; ILMD only with ADD', () => {
    const problems = problemsOf(
      withEvent(0, (e) => {
        e.childEPCs = [PACKS[0]];
        e.lotNumber = 'LOT42';
      }),
    );
    expect(problems.map((p) => [p.path, p.code])).toEqual([
      ['epcisBody.eventList[0].childEPCs', 'EPCIS.FIELD_NOT_ALLOWED'],
      ['epcisBody.eventList[0].lotNumber', 'EPCIS.FIELD_NOT_ALLOWED'],
    ]);
    expect(problems[1]?.message).toContain('namespace prefix');
    expect(problemOf(withEvent(6, (e) => void (e.ilmd = { 'cbvmda:lotNumber': 'X' })))).toMatchObject({
      path: 'epcisBody.eventList[6].ilmd',
      code: 'EPCIS.FIELD_NOT_ALLOWED',
    });
    expect(problemOf(withEvent(0, (e) => void (e.ilmd = { lotNumber: 'X' })))).toMatchObject({
      path: 'epcisBody.eventList[0].ilmd.lotNumber',
      code: 'EPCIS.FIELD_NOT_ALLOWED',
    });
  });

  it('refuses unsupported event types', () => {
    expect(problemOf(withEvent(0, (e) => void (e.type = 'AssociationEvent')))).toMatchObject({
      path: 'epcisBody.eventList[0].type',
      code: 'EPCIS.UNSUPPORTED_EVENT_TYPE',
    });
  });

  it('checks the document itself', () => {
    expect(problemOf([]).path).toBe('$');
    const document = pharmaDocument();
    document.type = 'EPCISQueryDocument';
    document.schemaVersion = 1.2;
    document['@context'] = ['https://example.com/context.jsonld'];
    delete document.creationDate;
    expect(problemsOf(document).map((p) => [p.path, p.code])).toEqual([
      ['@context', 'EPCIS.INVALID_VALUE'],
      ['type', 'EPCIS.INVALID_VALUE'],
      ['schemaVersion', 'EPCIS.INVALID_VALUE'],
      ['creationDate', 'EPCIS.MISSING_FIELD'],
    ]);
    const noList = pharmaDocument();
    noList.epcisBody = { eventList: {} };
    expect(problemOf(noList)).toMatchObject({ path: 'epcisBody.eventList', code: 'EPCIS.INVALID_VALUE' });
  });

  it('collects every problem of a document at once, with event indexes', () => {
    const document = pharmaDocument();
    const events = (document.epcisBody as JsonObject).eventList as JsonObject[];
    events[0]!.bizStep = 'comissioning';
    events[1]!.action = 'PACK';
    events[3]!.disposition = 'in-progress';
    events[6]!.eventTime = '2099-01-01T00:00:00Z';
    const problems = problemsOf(document);
    expect(problems.map((p) => [p.eventIndex, p.code])).toEqual([
      [0, 'EPCIS.UNKNOWN_BIZSTEP'],
      [1, 'EPCIS.WRONG_ACTION'],
      [3, 'EPCIS.UNKNOWN_DISPOSITION'],
      [6, 'EPCIS.EVENT_TIME_IN_FUTURE'],
    ]);
    let error: InvalidInputError | undefined;
    try {
      parseEpcisDocument(document, options);
    } catch (e) {
      error = e as InvalidInputError;
    }
    expect(error?.message).toMatch(
      /^EPCIS document refused, 4 problems: epcisBody\.eventList\[0\]\.bizStep: /,
    );
  });

  it('stops at maxProblems and says so', () => {
    const document = pharmaDocument();
    for (const event of (document.epcisBody as JsonObject).eventList as JsonObject[]) event.bizStep = 'x';
    let error: InvalidInputError | undefined;
    try {
      parseEpcisDocument(document, { ...options, maxProblems: 3 });
    } catch (e) {
      error = e as InvalidInputError;
    }
    const details = error?.details as EpcisDocumentErrorDetails;
    expect(details.problems).toHaveLength(3);
    expect(details.truncated).toBe(true);
    expect(error?.message).toContain('more than 3 problems');
  });

  it('enforces the limits: events per document, string length, extension depth', () => {
    const document = pharmaDocument();
    expect(problemOf(document, { ...options, maxEvents: 5 })).toMatchObject({
      path: 'epcisBody.eventList',
      code: 'EPCIS.LIMIT_EXCEEDED',
    });
    expect(problemOf(withEvent(4, (e) => void (e.eventID = `urn:x:${'a'.repeat(3000)}`)))).toMatchObject({
      path: 'epcisBody.eventList[4].eventID',
      code: 'EPCIS.LIMIT_EXCEEDED',
    });
    let deep: JsonObject = { 'careledger:leaf': 1 };
    for (let i = 0; i < 20; i++) deep = { 'careledger:nested': deep };
    expect(problemOf(withEvent(2, (e) => void (e['careledger:deep'] = deep))).code).toBe(
      'EPCIS.LIMIT_EXCEEDED',
    );
    expect(problemOf(withEvent(2, (e) => void (e['careledger:nothing'] = null))).code).toBe(
      'EPCIS.INVALID_VALUE',
    );
  });

  it('checks quantity elements', () => {
    const problems = problemsOf(
      withEvent(8, (e) => {
        e.inputQuantityList = [
          { epcClass: 'urn:epc:class:lgtin:0614141.107346.LOT42', quantity: -1 },
          { epcClass: 'urn:epc:class:lgtin:0614141.107346.LOT42', uom: 'kilogram' },
        ];
      }),
    );
    expect(problems.map((p) => p.path)).toEqual([
      'epcisBody.eventList[8].inputQuantityList[0].quantity',
      'epcisBody.eventList[8].inputQuantityList[1].uom',
      'epcisBody.eventList[8].inputQuantityList[1].quantity',
    ]);
  });

  it('names extension members with bracket paths', () => {
    expect(problemOf(withEvent(2, (e) => void (e['careledger:shipmentTemperature'] = Number.NaN))).path).toBe(
      'epcisBody.eventList[2]["careledger:shipmentTemperature"]',
    );
  });
});

describe('parseEpcisEvent', () => {
  it('reads one event with paths from the event', () => {
    const event = ((pharmaDocument().epcisBody as JsonObject).eventList as JsonObject[])[0]!;
    expect(parseEpcisEvent(event, options).type).toBe('ObjectEvent');
    let error: InvalidInputError | undefined;
    try {
      parseEpcisEvent({ ...event, bizStep: 'nope' }, options);
    } catch (e) {
      error = e as InvalidInputError;
    }
    expect((error?.details as EpcisDocumentErrorDetails).problems[0]).toEqual({
      path: 'bizStep',
      code: 'EPCIS.UNKNOWN_BIZSTEP',
      message: expect.stringContaining('"nope" is not a CBV 2.0 bizStep') as unknown as string,
    });
  });
});
