/**
 * RFC 8785 (JSON Canonicalization Scheme) for CareLedger: the one way a JSON value becomes bytes before it is hashed
 * or signed, so two nodes holding the same data always compute the same hash whatever key order or number spelling
 * their input had.
 *
 * The serialisation itself is the `canonicalize` package (the RFC authors' reference implementation). It is loaded
 * with `createRequire` because it is CommonJS whose typings declare `export default`: under NodeNext a default
 * import would be typed as the module object (not callable) although at run time it is the function.
 *
 * The package trusts its input, and for some values it silently produces a wrong or even invalid result: a function
 * becomes the text `undefined`, a sparse array drops its holes (`[1,,3]` gives `[1,3]`), a Map or a typed array
 * turns into `{}` or an object of indices, a cycle recurses until the stack overflows. A hash of such text would
 * still look valid, so every value is checked first ({@link assertCanonicalizable}) and anything outside the JSON
 * data model is refused with an {@link InvalidInputError} rather than hashed.
 */
import { createRequire } from 'node:module';
import { InvalidInputError } from './errors.js';
import { sha256 } from './sha256.js';

/** The error code of every value {@link canonicalJson} refuses. */
export const NOT_CANONICALIZABLE = 'JSON.NOT_CANONICALIZABLE';

const require = createRequire(import.meta.url);
const canonicalize = require('canonicalize') as typeof import('canonicalize').default;

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
    assertCanonicalizable(value, [], new Set());
    const text = canonicalize(value);
    // Unreachable after the check above; kept so a future change to the package cannot slip `undefined` through.
    if (text === undefined) fail([], 'the value has no JSON representation');
    return text;
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
 * Walks `value` exactly as `canonicalize` will (same `toJSON` test, same treatment of `undefined`) and throws on
 * the first thing it would serialise wrongly. `ancestors` holds the objects on the current path only, so a value
 * shared by two branches is fine and only a real cycle is refused.
 */
function assertCanonicalizable(value: unknown, path: PathSegment[], ancestors: Set<object>): void {
  switch (typeof value) {
    case 'boolean':
      return;
    case 'string':
      if (!isWellFormed(value)) fail(path, 'string contains a lone UTF-16 surrogate');
      return;
    case 'number':
      if (!Number.isFinite(value)) fail(path, `${value} is not a JSON number`);
      return;
    case 'undefined':
      return fail(path, 'undefined has no JSON representation');
    case 'bigint':
      return fail(path, 'a BigInt is not a JSON number');
    case 'function':
      return fail(path, 'a function has no JSON representation');
    case 'symbol':
      return fail(path, 'a symbol has no JSON representation');
  }
  if (value === null) return;
  const object = value as Record<string, unknown>;
  if (ancestors.has(object)) fail(path, 'the value contains a cycle');
  ancestors.add(object);

  // Same test as the package (`instanceof Function`), so both sides agree on which objects are replaced.
  if (object.toJSON instanceof Function) {
    assertCanonicalizable((object.toJSON as () => unknown)(), path, ancestors);
  } else if (Array.isArray(object)) {
    for (let i = 0; i < object.length; i++) {
      // The package serialises arrays with `reduce`, which skips holes and so would drop them from the output.
      if (!(i in object)) fail([...path, i], 'sparse arrays (holes) have no JSON representation');
      const element: unknown = object[i];
      if (element === undefined) continue; // becomes null, as with JSON.stringify
      path.push(i);
      assertCanonicalizable(element, path, ancestors);
      path.pop();
    }
  } else {
    const prototype: unknown = Object.getPrototypeOf(object);
    if (prototype !== Object.prototype && prototype !== null) {
      fail(path, `${describeObject(object)} is not a plain JSON object`);
    }
    for (const key of Object.keys(object)) {
      if (!isWellFormed(key)) fail(path, 'member name contains a lone UTF-16 surrogate');
      const member = object[key];
      if (member === undefined) continue; // left out, as with JSON.stringify
      path.push(key);
      assertCanonicalizable(member, path, ancestors);
      path.pop();
    }
  }
  ancestors.delete(object);
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
