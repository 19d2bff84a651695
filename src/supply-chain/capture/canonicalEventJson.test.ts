import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../core/canonicalJson.js';
import { eventToJson, parseEpcisDocument } from '../epcis/epcisDocument.js';
import { PHARMA_NOW, pharmaDocument } from '../epcis/testdata/pharmaDocument.js';
import { canonicalEventJson } from './canonicalEventJson.js';

/** The same text as canonicalJson, or the same error. */
function same(value: unknown): void {
  let expected: { text: string } | { error: unknown };
  try {
    expected = { text: canonicalJson(value) };
  } catch (error) {
    expected = { error };
  }
  if ('text' in expected) expect(canonicalEventJson(value)).toBe(expected.text);
  else {
    const error = expected.error as Error & { code?: string; details?: unknown };
    let thrown: (Error & { code?: string; details?: unknown }) | undefined;
    try {
      canonicalEventJson(value);
    } catch (e) {
      thrown = e as Error & { code?: string; details?: unknown };
    }
    expect(thrown?.constructor).toBe(error.constructor);
    expect(thrown?.message).toBe(error.message);
    expect(thrown?.code).toBe(error.code);
    expect(thrown?.details).toEqual(error.details);
  }
}

describe('canonicalEventJson', () => {
  it('writes the stored body of every event of the pharma fixture as canonicalJson does', () => {
    const events = parseEpcisDocument(pharmaDocument(), { now: PHARMA_NOW }).events;
    for (const event of events) {
      same({ ...eventToJson(event), eventID: 'urn:uuid:1', recordTime: '2025-03-10T12:00:00.000Z' });
    }
  });

  it.each([
    ['a lone surrogate in a string', { a: 'x\uD800' }],
    ['a lone surrogate in a member name', { ['\uDC00']: 1 }],
    ['surrogate pairs, escapes and non-ASCII', { é: '\u2028\u{1F600}"\\\n', z: '\u007f' }],
    ['member names like array indexes', { b: 1, 10: 2, 9: 3, '01': 4 }],
    ['a __proto__ member (as JSON.parse makes it)', JSON.parse('{"__proto__": {"x": 1}, "a": 2}') as unknown],
    ['undefined members', { a: undefined, b: 1 }],
    ['undefined in an array', [1, undefined, 2]],
    ['a hole in an array', [1, , 2]], // eslint-disable-line no-sparse-arrays
    ['numbers', { a: -0, b: 1e21, c: 1e-7, d: 0.1 + 0.2, e: -5 }],
    ['a non-finite number', { a: Number.NaN }],
    ['Infinity in an array', [Infinity]],
    ['a Date (toJSON)', { at: new Date(0) }],
    ['a toJSON member that is not a function', { toJSON: 'x' }],
    ['a Map', { m: new Map() }],
    ['a null-prototype object', Object.assign(Object.create(null) as object, { b: 1, a: [true, null] })],
    ['a function', { f: () => 1 }],
    ['a BigInt', { n: 1n }],
    ['undefined alone', undefined],
    ['a string alone', 'text'],
    ['deep nesting', JSON.parse(`${'['.repeat(100)}1${']'.repeat(100)}`) as unknown],
  ])('matches canonicalJson for %s', (_what, value) => {
    same(value);
  });

  it('matches canonicalJson for a cycle and for a throwing getter', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    same(cyclic);
    same({
      get boom(): number {
        throw new Error('no');
      },
    });
  });

  it('matches canonicalJson on arbitrary JSON values', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        same(value);
      }),
      { numRuns: 500 },
    );
  });
});
