import { canonicalJson } from '../../core/canonicalJson.js';

/** Returned by the copy when the value is not one the fast path writes; `canonicalJson` then does it all. */
const FALLBACK: unique symbol = Symbol('fallback');

/** Member names the built-in `JSON.stringify` would not write in insertion order (array indexes go first). */
const INDEX_LIKE = /^(?:0|[1-9][0-9]*)$/;

/** Deeper than this, `canonicalJson` (which also refuses cycles) takes over. */
const MAX_DEPTH = 64;

/**
 * Exactly what {@link canonicalJson} returns (or throws) for `value`, faster for the stored body of a captured
 * event: plain objects and arrays of strings, finite numbers, booleans and null, as a JSON document gives them. Their
 * members are copied in RFC 8785 order (UTF-16 code units of the names), arrays of strings are taken as they are, and
 * the copy is written by the built-in `JSON.stringify`, which writes strings and numbers as RFC 8785 requires; one
 * native call instead of one per value. A lone surrogate, which RFC 8785 refuses, shows in that text as a `\ud…`
 * escape (the only other way `\ud` gets there is an escaped backslash before "ud", which is merely slower): then, and
 * for anything else — `undefined` in an array or a hole, a non-finite number, a member named like an array index or
 * `__proto__`, a `toJSON`, a non-plain object, deep nesting (or a cycle), a getter that throws — `canonicalJson`
 * does it all and gives its own text or error.
 */
export function canonicalEventJson(value: unknown): string {
  let copy: unknown;
  try {
    copy = sortedCopy(value, 0);
  } catch {
    copy = FALLBACK;
  }
  if (copy !== FALLBACK) {
    const text = JSON.stringify(copy);
    if (!text.includes('\\ud')) return text;
  }
  return canonicalJson(value);
}

function sortedCopy(value: unknown, depth: number): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : FALLBACK;
    case 'object':
      break;
    default:
      return FALLBACK;
  }
  if (value === null) return null;
  if (depth >= MAX_DEPTH) return FALLBACK;
  if (Array.isArray(value)) {
    if ((value as { toJSON?: unknown }).toJSON !== undefined) return FALLBACK;
    // A list of identifiers (epcList, childEPCs, …) is written as it is.
    let strings = true;
    for (let i = 0; i < value.length && strings; i++) strings = typeof value[i] === 'string';
    if (strings) return value;
    const out: unknown[] = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) {
      if (!(i in value)) return FALLBACK;
      const element: unknown = value[i];
      if (element === undefined) return FALLBACK;
      const copy = sortedCopy(element, depth + 1);
      if (copy === FALLBACK) return FALLBACK;
      out[i] = copy;
    }
    return out;
  }
  const prototype: unknown = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return FALLBACK;
  const object = value as Record<string, unknown>;
  if (object.toJSON !== undefined) return FALLBACK;
  const keys = Object.keys(object).sort();
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    if (key === '__proto__' || INDEX_LIKE.test(key)) return FALLBACK;
    const member = object[key];
    if (member === undefined) continue; // left out, as canonicalJson does
    const copy = sortedCopy(member, depth + 1);
    if (copy === FALLBACK) return FALLBACK;
    out[key] = copy;
  }
  return out;
}
