import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  canonicalJsonBytes,
  canonicalJsonSha256,
  NOT_CANONICALIZABLE,
} from './canonicalJson.js';
import { InvalidInputError } from './errors.js';

// --- Helpers -------------------------------------------------------------------------------------------------------

/** The IEEE 754 double with the given big-endian bit pattern (how RFC 8785 Appendix B lists its samples). */
function double(bits: string): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, BigInt(`0x${bits}`));
  return view.getFloat64(0);
}

/** The error `fn` throws, asserted to be the canonicalization refusal. */
function refusal(fn: () => unknown): InvalidInputError {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(InvalidInputError);
  const error = thrown as InvalidInputError;
  expect(error.code).toBe(NOT_CANONICALIZABLE);
  expect(error.status).toBe(400);
  return error;
}

/** A deep copy of a JSON value whose objects list their members in a shuffled (seeded) order. */
function reorderKeys(value: unknown, random: () => number): unknown {
  if (Array.isArray(value)) return value.map((element) => reorderKeys(element, random));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value);
  for (let i = entries.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [entries[i], entries[j]] = [entries[j]!, entries[i]!];
  }
  return Object.fromEntries(entries.map(([key, member]) => [key, reorderKeys(member, random)]));
}

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

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const cp = (codePoint: number): string => String.fromCodePoint(codePoint);

// --- RFC 8785 vectors ----------------------------------------------------------------------------------------------

describe('canonicalJson: RFC 8785 examples', () => {
  // §3.2.2 input, written with the same escapes as the RFC's JSON text.
  const section322 = {
    // The RFC's own spelling, more digits than a double holds: rounding it is what the example tests.
    // eslint-disable-next-line no-loss-of-precision
    numbers: [333333333.33333329, 1e30, 4.5, 2e-3, 0.000000000000000000000000001],
    string: '\u20ac$\u000F\u000aA\'\u0042\u0022\u005c\\"/',
    literals: [null, true, false],
  };
  const section322Output =
    '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],' +
    '"string":"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}';

  it('§3.2.2: sorts members, serialises numbers and escapes strings', () => {
    expect(canonicalJson(section322)).toBe(section322Output);
  });

  it('§3.2.4: gives exactly the published UTF-8 bytes', () => {
    const published =
      '7b 22 6c 69 74 65 72 61 6c 73 22 3a 5b 6e 75 6c 6c 2c 74 72 75 65 2c 66 61 6c 73 65 5d 2c 22 6e 75 6d 62 ' +
      '65 72 73 22 3a 5b 33 33 33 33 33 33 33 33 33 2e 33 33 33 33 33 33 33 2c 31 65 2b 33 30 2c 34 2e 35 2c 30 ' +
      '2e 30 30 32 2c 31 65 2d 32 37 5d 2c 22 73 74 72 69 6e 67 22 3a 22 e2 82 ac 24 5c 75 30 30 30 66 5c 6e 41 ' +
      '27 42 5c 22 5c 5c 5c 5c 5c 22 2f 22 7d';
    expect(hex(canonicalJsonBytes(section322))).toBe(published.replaceAll(' ', ''));
  });

  it('§3.2.3: sorts member names by UTF-16 code units, not code points or locale', () => {
    const input = {
      '\u20ac': 'Euro Sign',
      '\r': 'Carriage Return',
      '\ufb33': 'Hebrew Letter Dalet With Dagesh',
      '1': 'One',
      '\ud83d\ude00': 'Emoji: Grinning Face',
      '\u0080': 'Control',
      '\u00f6': 'Latin Small Letter O With Diaeresis',
    };
    // U+1F600 is the surrogate pair D83D DE00, so it sorts before U+FB33 although its code point is larger.
    expect(canonicalJson(input)).toBe(
      '{"\\r":"Carriage Return","1":"One",' +
        `"${cp(0x80)}":"Control","${cp(0xf6)}":"Latin Small Letter O With Diaeresis",` +
        `"${cp(0x20ac)}":"Euro Sign","${cp(0x1f600)}":"Emoji: Grinning Face",` +
        `"${cp(0xfb33)}":"Hebrew Letter Dalet With Dagesh"}`,
    );
  });

  it('sorts independently of locale (the French example of the reference implementation)', () => {
    const input = {
      peach: 'This sorting order',
      péché: 'is wrong according to French',
      pêche: 'but canonicalization MUST',
      sin: 'ignore locale',
    };
    expect(canonicalJson(input)).toBe(
      '{"peach":"This sorting order","péché":"is wrong according to French",' +
        '"pêche":"but canonicalization MUST","sin":"ignore locale"}',
    );
  });

  it('sorts nested objects and the members of objects inside arrays', () => {
    const input = JSON.parse(
      '{"1": {"f": {"f": "hi","F": 5} ,"\\n": 56.0}, "10": { }, "": "empty", "a": { },' +
        ' "111": [ {"e": "yes","E": "no" } ], "A": {"b": "123"}}',
    ) as unknown;
    expect(canonicalJson(input)).toBe(
      '{"":"empty","1":{"\\n":56,"f":{"F":5,"f":"hi"}},"10":{},"111":[{"E":"no","e":"yes"}],"A":{"b":"123"},"a":{}}',
    );
    expect(canonicalJson([56, { d: true, '10': null, '1': [] }])).toBe('[56,{"1":[],"10":null,"d":true}]');
  });

  const appendixB: [string, string][] = [
    ['0000000000000000', '0'],
    ['8000000000000000', '0'],
    ['0000000000000001', '5e-324'],
    ['8000000000000001', '-5e-324'],
    ['7fefffffffffffff', '1.7976931348623157e+308'],
    ['ffefffffffffffff', '-1.7976931348623157e+308'],
    ['4340000000000000', '9007199254740992'],
    ['c340000000000000', '-9007199254740992'],
    ['4430000000000000', '295147905179352830000'],
    ['44b52d02c7e14af5', '9.999999999999997e+22'],
    ['44b52d02c7e14af6', '1e+23'],
    ['44b52d02c7e14af7', '1.0000000000000001e+23'],
    ['444b1ae4d6e2ef4e', '999999999999999700000'],
    ['444b1ae4d6e2ef4f', '999999999999999900000'],
    ['444b1ae4d6e2ef50', '1e+21'],
    ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
    ['3eb0c6f7a0b5ed8d', '0.000001'],
    ['41b3de4355555553', '333333333.3333332'],
    ['41b3de4355555554', '333333333.33333325'],
    ['41b3de4355555555', '333333333.3333333'],
    ['41b3de4355555556', '333333333.3333334'],
    ['41b3de4355555557', '333333333.33333343'],
    ['becbf647612f3696', '-0.0000033333333333333333'],
    ['43143ff3c1cb0959', '1424953923781206.2'],
  ];
  it.each(appendixB)('Appendix B: 0x%s → %s', (bits, expected) => {
    expect(canonicalJson(double(bits))).toBe(expected);
    expect(canonicalJson({ n: double(bits) })).toBe(`{"n":${expected}}`);
  });

  it('Appendix B: NaN (0x7fffffffffffffff) and Infinity (0x7ff0000000000000) are errors', () => {
    expect(Number.isNaN(double('7fffffffffffffff'))).toBe(true);
    expect(double('7ff0000000000000')).toBe(Infinity);
    refusal(() => canonicalJson(double('7fffffffffffffff')));
    refusal(() => canonicalJson(double('7ff0000000000000')));
  });

  it('serialises numbers as ECMAScript does: 1e21, 333333333.33333329, -0, integers, tiny values', () => {
    expect(canonicalJson(1e21)).toBe('1e+21');
    expect(canonicalJson(1e20)).toBe('100000000000000000000');
    // eslint-disable-next-line no-loss-of-precision -- the extra digits are the point of the test
    expect(canonicalJson(333333333.33333329)).toBe('333333333.3333333');
    expect(canonicalJson(-0)).toBe('0');
    expect(canonicalJson([-0, 0])).toBe('[0,0]');
    expect(canonicalJson(4.5)).toBe('4.5');
    expect(canonicalJson(1.0)).toBe('1');
    expect(canonicalJson(-1e-7)).toBe('-1e-7');
    expect(canonicalJson(0.1 + 0.2)).toBe('0.30000000000000004');
  });
});

describe('canonicalJson: strings', () => {
  it('uses the short escapes for \\b \\t \\n \\f \\r and lower-case \\u00xx for the other controls', () => {
    const controls = Array.from({ length: 0x20 }, (_, c) => String.fromCharCode(c)).join('');
    const short: Record<number, string> = { 8: '\\b', 9: '\\t', 10: '\\n', 12: '\\f', 13: '\\r' };
    const expected = Array.from(
      { length: 0x20 },
      (_, c) => short[c] ?? `\\u${c.toString(16).padStart(4, '0')}`,
    ).join('');
    expect(canonicalJson(controls)).toBe(`"${expected}"`);
    expect(canonicalJson('\u001F')).toBe('"\\u001f"');
  });

  it('escapes only " and \\ outside the control range; /, DEL and non-ASCII stay as they are', () => {
    expect(canonicalJson('"\\')).toBe('"\\"\\\\"');
    expect(canonicalJson('</script>')).toBe('"</script>"');
    expect(canonicalJson('\u007f')).toBe('"\u007f"');
    const unicode = 'José Müller – 李小龍 \u2028\u2029 \u{1F600} \ufeff';
    expect(canonicalJson(unicode)).toBe(`"${unicode}"`);
    expect(canonicalJson({ [unicode]: unicode })).toBe(`{"${unicode}":"${unicode}"}`);
  });

  it('keeps Unicode as given: NFC and NFD spellings are different data', () => {
    const composed = 'Jos\u00e9';
    const decomposed = 'Jose\u0301';
    expect(canonicalJson(composed)).not.toBe(canonicalJson(decomposed));
  });

  it('encodes to UTF-8 bytes', () => {
    expect(hex(canonicalJsonBytes({ b: '\u{1F600}', a: 'é' }))).toBe(
      Buffer.from('{"a":"é","b":"\u{1F600}"}', 'utf8').toString('hex'),
    );
    expect(canonicalJsonBytes([])).toBeInstanceOf(Uint8Array);
  });
});

// --- Properties ----------------------------------------------------------------------------------------------------

describe('canonicalJson: stability', () => {
  const patient = {
    resourceType: 'Patient',
    id: '123',
    meta: { versionId: '2', lastUpdated: '2024-05-01T10:00:00.000Z' },
    identifier: [{ system: 'urn:oid:2.16.840.1.113883.2.4.6.3', value: '999999990' }],
    name: [{ use: 'official', family: 'Müller', given: ['José', 'Ana'] }],
    birthDate: '1970-01-01',
    active: true,
    extension: [{ url: 'http://example.org/weight', valueQuantity: { value: 72.5, unit: 'kg' } }],
  };

  it('is idempotent: canonical text parses back to the same canonical text', () => {
    const once = canonicalJson(patient);
    expect(canonicalJson(JSON.parse(once))).toBe(once);
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = canonicalJson(value);
        expect(canonicalJson(JSON.parse(text))).toBe(text);
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(value)));
      }),
      { numRuns: 500 },
    );
  });

  it('never lets member order change the hash', () => {
    const reference = hex(canonicalJsonSha256(patient));
    for (let seed = 1; seed <= 50; seed++) {
      expect(hex(canonicalJsonSha256(reorderKeys(patient, seededRandom(seed))))).toBe(reference);
    }
    fc.assert(
      fc.property(fc.jsonValue(), fc.integer({ min: 1, max: 2 ** 31 }), (value, seed) => {
        const reordered = reorderKeys(value, seededRandom(seed));
        expect(hex(canonicalJsonSha256(reordered))).toBe(hex(canonicalJsonSha256(value)));
      }),
      { numRuns: 500 },
    );
  });

  it('hashes the canonical UTF-8 bytes with SHA-256', () => {
    const text = '{"a":[1,"é",null],"b":{"c":true}}';
    expect(canonicalJson({ b: { c: true }, a: [1, 'é', null] })).toBe(text);
    const digest = canonicalJsonSha256({ b: { c: true }, a: [1, 'é', null] });
    expect(digest).toBeInstanceOf(Uint8Array);
    expect(digest.length).toBe(32);
    expect(hex(digest)).toBe(createHash('sha256').update(text, 'utf8').digest('hex'));
  });

  it('changes the hash when any value changes', () => {
    const changed = { ...patient, birthDate: '1970-01-02' };
    expect(hex(canonicalJsonSha256(changed))).not.toBe(hex(canonicalJsonSha256(patient)));
    expect(hex(canonicalJsonSha256({ a: 1 }))).not.toBe(hex(canonicalJsonSha256({ a: '1' })));
  });
});

// --- Accepted and refused values -----------------------------------------------------------------------------------

describe('canonicalJson: the JSON data model', () => {
  it('accepts the JSON primitives at top level', () => {
    expect(canonicalJson(null)).toBe('null');
    expect(canonicalJson(true)).toBe('true');
    expect(canonicalJson('x')).toBe('"x"');
    expect(canonicalJson([])).toBe('[]');
    expect(canonicalJson({})).toBe('{}');
  });

  it('leaves out undefined members and writes undefined array elements as null, like JSON.stringify', () => {
    expect(canonicalJson({ a: undefined, b: 1 })).toBe('{"b":1}');
    expect(canonicalJson({ b: 1 })).toBe(canonicalJson({ a: undefined, b: 1 }));
    expect(canonicalJson([1, undefined, 3])).toBe('[1,null,3]');
  });

  it('uses toJSON (a Date becomes its ISO string), null-prototype objects and shared references', () => {
    expect(canonicalJson({ at: new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 6)) })).toBe(
      '{"at":"2024-01-02T03:04:05.006Z"}',
    );
    expect(canonicalJson({ at: new Date(NaN) })).toBe('{"at":null}');
    const bare = Object.assign(Object.create(null) as object, { z: 1, a: 2 });
    expect(canonicalJson(bare)).toBe('{"a":2,"z":1}');
    const shared = { x: 1 };
    expect(canonicalJson({ a: shared, b: [shared, shared] })).toBe('{"a":{"x":1},"b":[{"x":1},{"x":1}]}');
  });

  it('refuses undefined at top level and from toJSON', () => {
    expect(refusal(() => canonicalJson(undefined)).details).toMatchObject({ path: '' });
    expect(refusal(() => canonicalJson({ a: { toJSON: () => undefined } })).details).toMatchObject({
      path: '/a',
    });
  });

  it('refuses functions and symbols anywhere', () => {
    refusal(() => canonicalJson(() => 1));
    expect(refusal(() => canonicalJson({ a: { b: () => 1 } })).details).toMatchObject({ path: '/a/b' });
    expect(refusal(() => canonicalJson([1, () => 1])).details).toMatchObject({ path: '/1' });
    refusal(() => canonicalJson(Symbol('s')));
    expect(refusal(() => canonicalJson({ s: Symbol('s') })).details).toMatchObject({ path: '/s' });
  });

  it('refuses NaN, ±Infinity and BigInt wherever they are', () => {
    for (const bad of [NaN, Infinity, -Infinity, 10n]) {
      refusal(() => canonicalJson(bad));
      expect(refusal(() => canonicalJson({ list: [0, { v: bad }] })).details).toMatchObject({
        path: '/list/1/v',
      });
    }
  });

  it('refuses cycles through objects, arrays and toJSON', () => {
    const object: Record<string, unknown> = { a: 1 };
    object.self = object;
    expect(refusal(() => canonicalJson(object)).details).toMatchObject({ path: '/self' });
    const array: unknown[] = [1];
    array.push({ back: array });
    expect(refusal(() => canonicalJson(array)).details).toMatchObject({ path: '/1/back' });
    const selfJson: { toJSON?: () => unknown } = {};
    selfJson.toJSON = () => selfJson;
    refusal(() => canonicalJson(selfJson));
  });

  it('refuses sparse arrays, which the package would silently shorten', () => {
    // eslint-disable-next-line no-sparse-arrays
    expect(refusal(() => canonicalJson([1, , 3])).details).toMatchObject({ path: '/1' });
    refusal(() => canonicalJson(new Array(2)));
  });

  it('refuses objects that are not plain JSON objects instead of hashing them as {}', () => {
    class Point {
      constructor(
        readonly x: number,
        readonly y: number,
      ) {}
    }
    for (const bad of [
      new Map([['a', 1]]),
      new Set([1]),
      new Uint8Array([1, 2]),
      new Point(1, 2),
      /re/,
      Object(1) as object,
    ]) {
      expect(refusal(() => canonicalJson({ v: bad })).details).toMatchObject({ path: '/v' });
    }
  });

  it('refuses lone surrogates in values and member names (RFC 8785 §3.1: I-JSON strings)', () => {
    refusal(() => canonicalJson('\ud800'));
    refusal(() => canonicalJson('a\udc00b'));
    expect(refusal(() => canonicalJson({ ok: { '\ud83d': 1 } })).details).toMatchObject({ path: '/ok' });
    expect(canonicalJson('\ud83d\ude00')).toBe(`"${cp(0x1f600)}"`);
  });

  it('writes member names into the error path as a JSON Pointer, never the offending value', () => {
    const error = refusal(() => canonicalJson({ 'a/b': { 'c~d': NaN } }));
    expect(error.details).toMatchObject({ path: '/a~1b/c~0d' });
    const secret = refusal(() => canonicalJson({ ssn: 123456789n }));
    expect(secret.message).not.toContain('123456789');
    expect(JSON.stringify(secret.details)).not.toContain('123456789');
  });

  it('turns a throwing getter or toJSON and absurd nesting into the same refusal', () => {
    const getter = Object.defineProperty({}, 'x', {
      enumerable: true,
      get() {
        throw new Error('boom');
      },
    });
    expect(refusal(() => canonicalJson(getter)).cause).toBeInstanceOf(Error);
    const throwingToJson = {
      toJSON(): never {
        throw new Error('boom');
      },
    };
    expect(refusal(() => canonicalJson([throwingToJson])).details).toMatchObject({
      reason: 'reading the value threw',
    });
    let deep: unknown = 0;
    for (let i = 0; i < 200_000; i++) deep = [deep];
    expect(refusal(() => canonicalJson(deep)).details).toMatchObject({ reason: 'nested too deeply' });
  });
});

describe('canonicalJson against the RFC authors’ reference implementation', () => {
  const reference = createRequire(import.meta.url)('canonicalize') as (value: unknown) => string;

  it('writes exactly what `canonicalize` writes for any JSON value (fast-check)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        // The reference keeps -0 as 0 too; both go through JSON.stringify for numbers and strings.
        expect(canonicalJson(value)).toBe(reference(value));
      }),
      { numRuns: 3_000 },
    );
  });

  it('agrees on member order by UTF-16 code units, escapes and number forms', () => {
    const value = {
      '\u20ac': 'Euro',
      '\r': 'Carriage Return',
      '\ufb33': 'Hebrew Letter Dalet With Dagesh',
      '1': 'One',
      '\ud83d\ude00': 'Emoji: Grinning Face',
      '\u0080': 'Control',
      '\u00f6': 'Latin Small Letter O With Diaeresis',
      numbers: [333333333.3333333, 1e30, 4.5, 2e-3, 0.000000000000000000000000001, -0],
      text: '\u20ac$\u000f\nA\'B"\\\\"/',
    };
    expect(canonicalJson(value)).toBe(reference(value));
  });
});
