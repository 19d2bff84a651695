import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  parseGs1Identifier,
  toDigitalLink,
  toEpcUrn,
  withCompanyPrefixLength,
} from '../identifiers/index.js';
import { toHashTimestamp } from './dateTime.js';
import { parseEpcisDocument, type EpcisEvent, type JsonObject, type JsonValue } from './epcisDocument.js';
import { eventHash, hashNumber, isEventHash, preHashString } from './eventHash.js';
import { readIdentifier } from './gs1.js';
import { PHARMA_NOW, pharmaDocument, withEvent } from './testdata/pharmaDocument.js';
import { conformanceVectors, type ConformanceVector } from './testdata/referenceVectors.js';

// --- Helpers -------------------------------------------------------------------------------------------------------

/** Parses with a clock after every vector's times and with user vocabulary allowed (one vector has a custom bizStep). */
function events(document: unknown): EpcisEvent[] {
  return parseEpcisDocument(document, { now: PHARMA_NOW, allowCustomVocabulary: true }).events;
}

const hashes = (document: unknown): string[] => events(document).map(eventHash);

function seededRandom(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    // xorshift32: reproducible shuffles without a dependency.
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}

function shuffle<T>(items: T[], random: () => number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy;
}

/** A deep copy whose objects list their members in a shuffled order (arrays keep theirs). */
function reorderKeys(value: JsonValue, random: () => number): JsonValue {
  if (Array.isArray(value)) return value.map((element) => reorderKeys(element, random));
  if (value === null || typeof value !== 'object') return value;
  const entries = shuffle(Object.entries(value), random);
  return Object.fromEntries(entries.map(([key, member]) => [key, reorderKeys(member, random)]));
}

/** A deep copy whose arrays inside events are shuffled (the event list itself keeps its order). */
function reorderLists(document: JsonObject, random: () => number): JsonObject {
  const copy = structuredClone(document);
  const visit = (value: JsonValue): JsonValue => {
    if (Array.isArray(value)) return shuffle(value.map(visit), random);
    if (value === null || typeof value !== 'object') return value;
    return Object.fromEntries(Object.entries(value).map(([key, member]) => [key, visit(member)]));
  };
  const body = copy.epcisBody as JsonObject;
  body.eventList = (body.eventList as JsonValue[]).map(visit);
  return copy;
}

/** Every GS1 identifier of the document's events rewritten by `spell` (called with each in turn). */
function respell(document: JsonObject, spell: (value: string) => string): JsonObject {
  const copy = structuredClone(document);
  const visit = (value: JsonValue): JsonValue => {
    if (typeof value === 'string') return readIdentifier(value).status === 'gs1' ? spell(value) : value;
    if (Array.isArray(value)) return value.map(visit);
    if (value === null || typeof value !== 'object') return value;
    return Object.fromEntries(Object.entries(value).map(([key, member]) => [key, visit(member)]));
  };
  const body = copy.epcisBody as JsonObject;
  body.eventList = (body.eventList as JsonValue[]).map(visit);
  return copy;
}

/** One of the spellings of a GS1 identifier: EPC URN, canonical Digital Link, or on another domain with a query. */
function spelling(value: string, choice: number): string {
  const id = withCompanyPrefixLength(parseGs1Identifier(value), 7); // every prefix in these documents has 7 digits
  switch (choice % 4) {
    case 0:
      return toEpcUrn(id);
    case 1:
      return toDigitalLink(id);
    case 2:
      return toDigitalLink(id, 'https://dl.pharma.example/path');
    default:
      // A custom domain and a query string (rule 18: the hash keeps neither); only where a query adds nothing.
      return id.kind === 'sgtin'
        ? `${toDigitalLink(id, 'https://qr.example.com')}?17=270630`
        : toDigitalLink(id);
  }
}

const sha256Hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

// --- Conformance ---------------------------------------------------------------------------------------------------

const readable = (v: ConformanceVector): boolean =>
  v.needs.every((id) => readIdentifier(id).status === 'gs1');

describe('conformance with the GS1 reference implementation (CBV 2.0 vectors)', () => {
  it('has vectors whose hash is the SHA-256 of their pre-hash string', () => {
    for (const v of conformanceVectors) {
      expect(v.hash).toBe(`ni:///sha-256;${sha256Hex(v.preHash)}?ver=CBV2.0`);
    }
  });

  it('checks every vector in full: the GS1 module reads all their identifiers, PGLN, GDTI and GIAI included', () => {
    const full = conformanceVectors.filter(readable);
    expect(full.map((v) => v.name)).toEqual(conformanceVectors.map((v) => v.name));
    expect(full).toHaveLength(19);
    expect(new Set(full.map((v) => events(v.document)[v.index]?.type))).toEqual(
      new Set(['ObjectEvent', 'AggregationEvent', 'TransactionEvent', 'TransformationEvent']),
    );
    // The vectors that need more than SGTIN/SSCC/SGLN/LGTIN/GTIN class are among them, with each of the three kinds.
    const needed = new Set(
      full.flatMap((v) => v.needs).map((id) => (readIdentifier(id) as { id: { kind: string } }).id.kind),
    );
    expect(needed).toEqual(new Set(['pgln', 'gdti', 'giai']));
  });

  describe.each(conformanceVectors.map((v) => [v.name, v] as const))('%s', (_name, v) => {
    it(
      readable(v)
        ? 'gives the reference pre-hash string and hash'
        : 'gives the reference pre-hash string, except for identifiers the GS1 module does not read yet',
      () => {
        const event = events(v.document)[v.index] as EpcisEvent;
        if (readable(v)) {
          expect(preHashString(event)).toBe(v.preHash);
          expect(eventHash(event)).toBe(v.hash);
        } else {
          let expected = v.preHash;
          for (const [reference, ours] of v.substitutions) expected = expected.replaceAll(reference, ours);
          expect(expected).not.toBe(v.preHash);
          expect(preHashString(event)).toBe(expected);
        }
      },
    );
  });
});

// --- The pre-hash string of a pharma event ------------------------------------------------------------------------

describe('preHashString', () => {
  const [commissioning, , shipping] = events(pharmaDocument()) as [EpcisEvent, EpcisEvent, EpcisEvent];

  it('writes a commissioning event in the canonical order with ILMD last', () => {
    expect(preHashString(commissioning)).toBe(
      'eventType=ObjectEvent' +
        'eventTime=2025-03-01T08:15:00.000Z' +
        'eventTimeZoneOffset=+01:00' +
        'epcList' +
        'epc=https://id.gs1.org/01/10614141073464/21/1001' +
        'epc=https://id.gs1.org/01/10614141073464/21/1002' +
        'epc=https://id.gs1.org/01/10614141073464/21/1003' +
        'action=ADD' +
        'bizStep=https://ref.gs1.org/cbv/BizStep-commissioning' +
        'disposition=https://ref.gs1.org/cbv/Disp-active' +
        'readPointid=https://id.gs1.org/414/0614141000012' +
        'bizLocationid=https://id.gs1.org/414/0614141000012' +
        'ilmd{urn:epcglobal:cbv:mda:}itemExpirationDate=2027-06-30{urn:epcglobal:cbv:mda:}lotNumber=LOT42',
    );
  });

  it('writes a shipping event: transactions and parties type first and sorted, extensions in the sorted tail', () => {
    expect(preHashString(shipping)).toBe(
      'eventType=ObjectEvent' +
        'eventTime=2025-03-03T13:30:00.000Z' +
        'eventTimeZoneOffset=+01:00' +
        'epcListepc=https://id.gs1.org/00/106141412345678908' +
        'action=OBSERVE' +
        'bizStep=https://ref.gs1.org/cbv/BizStep-shipping' +
        'disposition=https://ref.gs1.org/cbv/Disp-in_transit' +
        'readPointid=https://id.gs1.org/414/0614141000012/254/7' +
        'bizTransactionList' +
        'type=https://ref.gs1.org/cbv/BTT-desadvbizTransaction=urn:epcglobal:cbv:bt:0614141000005:ASN-1204' +
        'type=https://ref.gs1.org/cbv/BTT-pobizTransaction=urn:epcglobal:cbv:bt:4012345000009:PO-7781' +
        'sourceList' +
        'type=https://ref.gs1.org/cbv/SDT-locationsource=https://id.gs1.org/414/0614141000012' +
        'type=https://ref.gs1.org/cbv/SDT-owning_partysource=https://id.gs1.org/414/0614141000012' +
        'destinationList' +
        'type=https://ref.gs1.org/cbv/SDT-locationdestination=https://id.gs1.org/414/4012345000122' +
        'type=https://ref.gs1.org/cbv/SDT-owning_partydestination=https://id.gs1.org/414/4012345000122' +
        'readPoint{https://careledger.example/epcis/}gate=G4' +
        '{https://careledger.example/epcis/}shipmentTemperature' +
        '{https://careledger.example/epcis/}max=8{https://careledger.example/epcis/}min=2',
    );
  });

  it('writes quantities without trailing zeros and a TransformationEvent without action', () => {
    const transformation = events(pharmaDocument())[8] as EpcisEvent;
    const text = preHashString(transformation);
    expect(text).toContain(
      'inputQuantityListquantityElementepcClass=https://id.gs1.org/01/10614141073464/10/LOT42quantity=2.5uom=KGM',
    );
    expect(text).toContain('transformationID=urn:uuid:6b1c7a4e-4f3b-4a8e-9d4e-2f6c1b0e8a11');
    expect(text).not.toContain('action=');
  });
});

// --- Invariance ----------------------------------------------------------------------------------------------------

describe('eventHash does not depend on how an event is written', () => {
  const documents: [string, JsonObject][] = [
    ['pharma document', pharmaDocument()],
    ...conformanceVectors
      .filter((v, i, all) => all.findIndex((w) => w.document === v.document) === i)
      .map((v) => [v.name, v.document] as [string, JsonObject]),
  ];

  it.each(documents)('member order (shuffled keys): %s', (_name, document) => {
    const expected = hashes(document);
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        expect(hashes(reorderKeys(document, seededRandom(seed)))).toEqual(expected);
      }),
      { numRuns: 40 },
    );
  });

  it.each(documents)('list order (shuffled lists): %s', (_name, document) => {
    const expected = hashes(document);
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        expect(hashes(reorderLists(document, seededRandom(seed)))).toEqual(expected);
      }),
      { numRuns: 40 },
    );
  });

  it.each(documents)(
    'identifier spelling: EPC URN, Digital Link, another domain, a query string: %s',
    (_name, document) => {
      const expected = hashes(document);
      fc.assert(
        fc.property(fc.array(fc.nat(3), { minLength: 64, maxLength: 64 }), (choices) => {
          let next = 0;
          const respelled = respell(document, (value) =>
            spelling(value, choices[next++ % choices.length] as number),
          );
          expect(hashes(respelled)).toEqual(expected);
        }),
        { numRuns: 60 },
      );
    },
  );

  it('CBV value spelling: bare word, Web URI, CURIE, URN', () => {
    const spell = (word: string, term: string, urn: string, choice: number): string =>
      [word, `https://ref.gs1.org/cbv/${term}${word}`, `cbv:${term}${word}`, `${urn}${word}`][
        choice
      ] as string;
    const expected = hashes(pharmaDocument());
    fc.assert(
      fc.property(fc.array(fc.nat(3), { minLength: 40, maxLength: 40 }), (choices) => {
        let next = 0;
        const choose = (): number => choices[next++ % choices.length] as number;
        const document = pharmaDocument();
        for (const event of (document.epcisBody as JsonObject).eventList as JsonObject[]) {
          if (typeof event.bizStep === 'string' && /^[a-z_]+$/.test(event.bizStep)) {
            event.bizStep = spell(event.bizStep, 'BizStep-', 'urn:epcglobal:cbv:bizstep:', choose());
          }
          if (typeof event.disposition === 'string' && /^[a-z_]+$/.test(event.disposition)) {
            event.disposition = spell(event.disposition, 'Disp-', 'urn:epcglobal:cbv:disp:', choose());
          }
          for (const t of (event.bizTransactionList ?? []) as JsonObject[]) {
            t.type = spell(t.type as string, 'BTT-', 'urn:epcglobal:cbv:btt:', choose());
          }
          for (const s of [
            ...((event.sourceList ?? []) as JsonObject[]),
            ...((event.destinationList ?? []) as JsonObject[]),
          ]) {
            s.type = spell(s.type as string, 'SDT-', 'urn:epcglobal:cbv:sdt:', choose());
          }
        }
        expect(hashes(document)).toEqual(expected);
      }),
      { numRuns: 60 },
    );
  });

  it('the offset eventTime is written in, for the same instant', () => {
    const instant = Date.parse('2025-03-08T16:42:10.250Z');
    const expected = eventHash(events(pharmaDocument())[6] as EpcisEvent);
    fc.assert(
      fc.property(fc.integer({ min: -12 * 4, max: 14 * 4 }), (quarters) => {
        const minutes = quarters * 15;
        const local = new Date(instant + minutes * 60_000).toISOString().slice(0, 23);
        const sign = minutes < 0 ? '-' : '+';
        const abs = Math.abs(minutes);
        const offset = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
        const document = withEvent(6, (e) => void (e.eventTime = `${local}${offset}`));
        expect(eventHash(events(document)[6] as EpcisEvent)).toBe(expected);
      }),
    );
  });

  it('eventID, recordTime, certificationInfo and comments', () => {
    const expected = hashes(pharmaDocument());
    const document = withEvent(4, (e) => {
      e.eventID = 'urn:uuid:0b0e6c38-5a9a-4f4e-8d7b-3c2a1f0e9d8c';
      e.recordTime = '2025-03-04T08:31:00.000+01:00';
      e.certificationInfo = 'https://accreditation.example.org/certificate/GDP-2025-17';
      e['rdfs:comment'] = 'checked by the night shift';
    });
    expect(hashes(document)).toEqual(expected);
  });

  it('numbers written with trailing zeros in user extensions', () => {
    const a = withEvent(2, (e) => void (e['careledger:reading'] = '23.0'));
    const b = withEvent(2, (e) => void (e['careledger:reading'] = '23'));
    expect(hashes(a)[2]).toBe(hashes(b)[2]);
  });
});

describe('eventHash changes when the event does', () => {
  const base = hashes(pharmaDocument());
  const changes: [string, number, (e: JsonObject) => void][] = [
    ['a serial', 0, (e) => void ((e.epcList as string[])[0] = 'urn:epc:id:sgtin:0614141.107346.1004')],
    ['an added EPC', 0, (e) => void (e.epcList as string[]).push('urn:epc:id:sgtin:0614141.107346.1004')],
    ['the lot in ILMD', 0, (e) => void ((e.ilmd as JsonObject)['cbvmda:lotNumber'] = 'LOT43')],
    ['the disposition', 6, (e) => void (e.disposition = 'partially_dispensed')],
    ['the action', 7, (e) => void (e.action = 'OBSERVE')],
    ['the time by a millisecond', 6, (e) => void (e.eventTime = '2025-03-08T17:42:10.251+01:00')],
    ['the time zone offset field', 6, (e) => void (e.eventTimeZoneOffset = '+02:00')],
    [
      'a party',
      2,
      (e) => void ((e.sourceList as JsonObject[])[0]!.source = 'urn:epc:id:sgln:0614141.00002.0'),
    ],
    ['a party type', 2, (e) => void ((e.sourceList as JsonObject[])[0]!.type = 'possessing_party')],
    ['an added extension', 3, (e) => void (e['careledger:note'] = 'dented box')],
    ['an extension in readPoint', 2, (e) => void ((e.readPoint as JsonObject)['careledger:gate'] = 'G5')],
    ['a quantity', 8, (e) => void ((e.inputQuantityList as JsonObject[])[0]!.quantity = 2.25)],
    ['the parent', 1, (e) => void (e.parentID = 'urn:epc:id:sscc:0614141.1234567891')],
  ];
  it.each(changes)('%s', (_what, index, mutate) => {
    const changed = hashes(withEvent(index, mutate));
    expect(changed[index]).not.toBe(base[index]);
    changed.forEach((hash, i) => {
      if (i !== index) expect(hash).toBe(base[i]);
    });
  });

  it('gives distinct hashes to the distinct events of a document', () => {
    expect(new Set(base).size).toBe(base.length);
  });
});

// --- Pieces --------------------------------------------------------------------------------------------------------

describe('eventHash format', () => {
  it('is an ni URI with a hex SHA-256 of the pre-hash string and the CBV version', () => {
    const event = events(pharmaDocument())[0] as EpcisEvent;
    const hash = eventHash(event);
    expect(hash).toBe(`ni:///sha-256;${sha256Hex(preHashString(event))}?ver=CBV2.0`);
    expect(isEventHash(hash)).toBe(true);
    expect(isEventHash(hash.replace('CBV2.0', 'CBV2.1'))).toBe(false);
    expect(isEventHash('ni:///sha-256;ABC?ver=CBV2.0')).toBe(false);
  });

  it('hashes non-ASCII text as UTF-8', () => {
    const event = events(
      withEvent(3, (e) => void (e['careledger:note'] = 'Kühlkette ✓ 😀')),
    )[3] as EpcisEvent;
    expect(preHashString(event)).toContain('note=Kühlkette ✓ 😀');
    expect(eventHash(event)).toBe(`ni:///sha-256;${sha256Hex(preHashString(event))}?ver=CBV2.0`);
  });
});

describe('hashNumber (Python float → str, as the reference writes numbers)', () => {
  it.each([
    [26, '26'],
    [26.0, '26'],
    [-0, '0'],
    [0.1, '0.1'],
    [12.1, '12.1'],
    [-477979.89, '-477979.89'],
    [0.0001, '0.0001'],
    [0.00001, '1e-05'],
    [1.5e-7, '1.5e-07'],
    [1e21, '1000000000000000000000'],
    [1.2345678901234567e19, '12345678901234567168'],
  ])('%s → %s', (value, expected) => {
    expect(hashNumber(value)).toBe(expected);
  });

  it('normalises numeric strings in extension values the same way', () => {
    const hashOf = (reading: string): string =>
      preHashString(events(withEvent(3, (e) => void (e['careledger:reading'] = reading)))[3] as EpcisEvent);
    expect(hashOf('1.50')).toContain('reading=1.5');
    expect(hashOf('+007')).toContain('reading=7');
    expect(hashOf('1_000')).toContain('reading=1000');
    expect(hashOf('2e3')).toContain('reading=2000');
    expect(hashOf('0x10')).toContain('reading=0x10');
    expect(hashOf('1e999')).toContain('reading=1e999');
  });
});

describe('toHashTimestamp', () => {
  it.each([
    ['2020-03-04T11:00:30.000+01:00', '2020-03-04T10:00:30.000Z'],
    ['2020-03-04T11:00:30+01:00', '2020-03-04T10:00:30.000Z'],
    ['2019-10-21T00:05:00-06:00', '2019-10-21T06:05:00.000Z'],
    ['2022-02-17T11:30:47.0Z', '2022-02-17T11:30:47.000Z'],
    ['2023-02-02T11:04:03.1415Z', '2023-02-02T11:04:03.142Z'],
    ['2023-02-02T11:04:03.1414999Z', '2023-02-02T11:04:03.141Z'],
    ['2023-12-31T23:59:59.9995Z', '2024-01-01T00:00:00.000Z'],
    ['2024-02-29T23:30:00-01:00', '2024-03-01T00:30:00.000Z'],
    ['not a time', 'not a time'],
  ])('%s → %s', (input, expected) => {
    expect(toHashTimestamp(input)).toBe(expected);
  });
});
