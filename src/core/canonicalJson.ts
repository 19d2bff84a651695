/**
 * RFC 8785 (JSON Canonicalization Scheme) for CareLedger: the one way a JSON value becomes bytes before it is hashed
 * or signed, so two nodes holding the same data always compute the same hash whatever key order or number spelling
 * their input had.
 *
 * One walk both checks and serialises (it is on the hot path of every FHIR write and every audited read): members
 * sorted by the UTF-16 code units of their names, strings and numbers as ECMAScript's JSON.stringify writes them
 * (which is what RFC 8785 specifies). Its output is tested against `canonicalize`, the RFC authors' reference
 * implementation, which this module used before. Values outside the JSON data model are refused with an
 * {@link InvalidInputError} rather than hashed: a function, a sparse array, a Map or typed array, a cycle, a lone
 * surrogate would otherwise become text that still looks valid.
 */
import { InvalidInputError } from './errors.js';
import { sha256 } from './sha256.js';

/** The error code of every value {@link canonicalJson} refuses. */
export const NOT_CANONICALIZABLE = 'JSON.NOT_CANONICALIZABLE';

// Stateless and shared by design: a TextEncoder holds no data between calls.
const utf8 = new TextEncoder();

/**
 * The RFC 8785 canonical form of `value`: object members sorted by the UTF-16 code units of their names, no
 * whitespace, numbers in ECMAScript shortest round-trip form (`1e+21`, `-0` → `0`), strings with only the escapes
 * JSON requires.
 *
 * Accepted: `null`, booleans, finite numbers, well-formed strings, arrays without holes, plain objects (prototype
 * `Object.prototype` or `null`) and objects with a `toJSON` method (a `Date` becomes its ISO string). As with
 * `JSON.stringify`, an `undefined` member is left out and an `undefined` array element becomes `null`, so an
 * optional property that is absent and one that is set to `undefined` give the same text.
 *
 * @throws InvalidInputError with code `JSON.NOT_CANONICALIZABLE` (details: `reason`, and `path` as a JSON Pointer)
 *   for `undefined` (or a `toJSON` returning it) where a value is needed, a function, a symbol, a BigInt, NaN or
 *   ±Infinity, a string with a lone surrogate (RFC 8785 §3.1 requires I-JSON, i.e. valid Unicode), a sparse array,
 *   any other kind of object (Map, Set, typed array, class instance…), a cycle, or nesting too deep to walk.
 */
export function canonicalJson(value: unknown): string {
  try {
    if (value === undefined) fail([], 'undefined has no JSON representation');
    return serialize(value, [], new Set());
  } catch (error) {
    if (error instanceof InvalidInputError && error.code === NOT_CANONICALIZABLE) throw error;
    // A throwing getter or toJSON, or a stack overflow on absurdly deep nesting: still the caller's value at fault.
    const tooDeep = error instanceof RangeError && /call stack/i.test(error.message);
    throw new InvalidInputError(NOT_CANONICALIZABLE, 'value cannot be canonicalized as JSON', {
      details: { reason: tooDeep ? 'nested too deeply' : 'reading the value threw' },
      cause: error,
    });
  }
}

/** {@link canonicalJson} encoded as UTF-8: the exact bytes to hash or sign. Throws as {@link canonicalJson}. */
export function canonicalJsonBytes(value: unknown): Uint8Array {
  // Lossless: canonicalJson only returns well-formed strings, so no lone surrogate is replaced by U+FFFD.
  return utf8.encode(canonicalJson(value));
}

/** SHA-256 of {@link canonicalJsonBytes}: the content hash of a JSON value. Throws as {@link canonicalJson}. */
export function canonicalJsonSha256(value: unknown): Uint8Array {
  return sha256(canonicalJsonBytes(value));
}

type PathSegment = string | number;

/**
 * Checks and serialises `value` in one walk. `ancestors` holds the objects on the current path only, so a value
 * shared by two branches is fine and only a real cycle is refused. `path` is for error messages only.
 */
function serialize(value: unknown, path: PathSegment[], ancestors: Set<object>): string {
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'string':
      if (!isWellFormed(value)) fail(path, 'string contains a lone UTF-16 surrogate');
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) fail(path, `${value} is not a JSON number`);
      return JSON.stringify(value); // ECMAScript shortest round trip; -0 becomes 0
    case 'undefined':
      return fail(path, 'undefined has no JSON representation');
    case 'bigint':
      return fail(path, 'a BigInt is not a JSON number');
    case 'function':
      return fail(path, 'a function has no JSON representation');
    case 'symbol':
      return fail(path, 'a symbol has no JSON representation');
  }
  if (value === null) return 'null';
  const object = value as Record<string, unknown>;
  if (ancestors.has(object)) fail(path, 'the value contains a cycle');
  ancestors.add(object);
  let text: string;
  if (object.toJSON instanceof Function) {
    // As JSON.stringify does: the object stands for what its toJSON returns (a Date for its ISO string).
    const replacement: unknown = (object.toJSON as () => unknown)();
    if (replacement === undefined) fail(path, 'undefined has no JSON representation');
    text = serialize(replacement, path, ancestors);
  } else if (Array.isArray(object)) {
    const parts: string[] = new Array<string>(object.length);
    for (let i = 0; i < object.length; i++) {
      if (!(i in object)) fail([...path, i], 'sparse arrays (holes) have no JSON representation');
      const element: unknown = object[i];
      if (element === undefined) {
        parts[i] = 'null'; // as with JSON.stringify
        continue;
      }
      path.push(i);
      parts[i] = serialize(element, path, ancestors);
      path.pop();
    }
    text = `[${parts.join(',')}]`;
  } else {
    const prototype: unknown = Object.getPrototypeOf(object);
    if (prototype !== Object.prototype && prototype !== null) {
      fail(path, `${describeObject(object)} is not a plain JSON object`);
    }
    // Default sort: by UTF-16 code units, as RFC 8785 §3.2.3 requires.
    const keys = Object.keys(object).sort();
    const parts: string[] = [];
    for (const key of keys) {
      if (!isWellFormed(key)) fail(path, 'member name contains a lone UTF-16 surrogate');
      const member = object[key];
      if (member === undefined) continue; // left out, as with JSON.stringify
      path.push(key);
      parts.push(`${JSON.stringify(key)}:${serialize(member, path, ancestors)}`);
      path.pop();
    }
    text = `{${parts.join(',')}}`;
  }
  ancestors.delete(object);
  return text;
}

// `String.prototype.isWellFormed` is native in Node 20 but typed only from lib ES2024.
function isWellFormed(text: string): boolean {
  return (text as string & { isWellFormed(): boolean }).isWellFormed();
}

function describeObject(object: object): string {
  const name: unknown = (object as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === 'string' && name !== '' ? `a ${name}` : 'an object with a custom prototype';
}

function fail(path: readonly PathSegment[], reason: string): never {
  // RFC 6901 JSON Pointer, so the caller can find the offending member; values are never echoed (they may be PHI).
  const pointer = path
    .map((segment) => `/${String(segment).replaceAll('~', '~0').replaceAll('/', '~1')}`)
    .join('');
  throw new InvalidInputError(NOT_CANONICALIZABLE, `value cannot be canonicalized as JSON: ${reason}`, {
    details: { path: pointer, reason },
  });
}
