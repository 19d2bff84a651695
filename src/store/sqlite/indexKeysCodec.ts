/**
 * The search index entries of a resource's current version as one compact blob, kept in `fhir_resources.index_keys`
 * so that an update, delete or erasure can delete exactly those rows of `fhir_search_tokens` / `fhir_search_dates`
 * by primary key, without an owner index on either table (two B-tree inserts fewer per entry on every create).
 *
 * Layout (every count, length and index an unsigned LEB128 varint of at most 5 bytes):
 *
 *     0x01                                  format version
 *     P   then P × (length, UTF-8 bytes)    the distinct parameter names, in order of first use
 *     T   then T × (param index, length, token bytes)
 *     D   then D × (param index, low, high) low and high as float64, little-endian
 *
 * Dates are integer milliseconds since the epoch within ±8.64e15 (`MIN_DATE_MS`/`MAX_DATE_MS`), below 2^53, so a
 * float64 holds every one exactly (as it holds any JS number). An empty index is the 4 bytes `01 00 00 00`.
 */
import type { IndexEntries } from '../../records/ports.js';

export const INDEX_KEYS_FORMAT = 1;

/** A blob that is not a valid `index_keys` encoding. */
export class IndexKeysFormatError extends Error {
  constructor(reason: string, offset: number) {
    super(`Malformed index_keys blob: ${reason} at byte ${offset}`);
    this.name = 'IndexKeysFormatError';
  }
}

const MAX_VARINT = 0xffff_ffff;

const varintSize = (n: number): number =>
  n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x20_0000 ? 3 : n < 0x1000_0000 ? 4 : 5;

function writeVarint(out: Buffer, at: number, n: number): number {
  let v = n;
  while (v >= 0x80) {
    out[at++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  out[at++] = v;
  return at;
}

/** UTF-8 of parameter names: a handful of fixed names in practice, so cached (bounded, in case of anything else). */
const paramBytes = new Map<string, Buffer>();
const PARAM_CACHE_MAX = 512;

function utf8Of(param: string): Buffer {
  let bytes = paramBytes.get(param);
  if (bytes === undefined) {
    bytes = Buffer.from(param, 'utf8');
    if (paramBytes.size < PARAM_CACHE_MAX) paramBytes.set(param, bytes);
  }
  return bytes;
}

/** The entries as an `index_keys` blob. Entries are kept as given (order and duplicates included). */
export function encodeIndexKeys(entries: IndexEntries): Buffer {
  const params: string[] = [];
  const paramIndex = (param: string): number => {
    // Few distinct parameters per resource: a linear scan beats a Map here.
    for (let i = 0; i < params.length; i++) if (params[i] === param) return i;
    params.push(param);
    return params.length - 1;
  };
  const tokenParams = entries.tokens.map((t) => paramIndex(t.param));
  const dateParams = entries.dates.map((d) => paramIndex(d.param));
  const paramUtf8 = params.map(utf8Of);

  let size =
    1 + varintSize(params.length) + varintSize(entries.tokens.length) + varintSize(entries.dates.length);
  for (const p of paramUtf8) size += varintSize(p.length) + p.length;
  for (let i = 0; i < entries.tokens.length; i++) {
    const length = (entries.tokens[i] as IndexEntries['tokens'][number]).token.byteLength;
    if (length > MAX_VARINT) throw new RangeError(`index token of ${length} bytes is too long to encode`);
    size += varintSize(tokenParams[i] as number) + varintSize(length) + length;
  }
  for (let i = 0; i < entries.dates.length; i++) size += varintSize(dateParams[i] as number) + 16;

  const out = Buffer.allocUnsafe(size);
  let at = 0;
  out[at++] = INDEX_KEYS_FORMAT;
  at = writeVarint(out, at, params.length);
  for (const p of paramUtf8) {
    at = writeVarint(out, at, p.length);
    at += p.copy(out, at);
  }
  at = writeVarint(out, at, entries.tokens.length);
  for (let i = 0; i < entries.tokens.length; i++) {
    const token = (entries.tokens[i] as IndexEntries['tokens'][number]).token;
    at = writeVarint(out, at, tokenParams[i] as number);
    at = writeVarint(out, at, token.byteLength);
    out.set(token, at);
    at += token.byteLength;
  }
  at = writeVarint(out, at, entries.dates.length);
  for (let i = 0; i < entries.dates.length; i++) {
    const d = entries.dates[i] as IndexEntries['dates'][number];
    at = writeVarint(out, at, dateParams[i] as number);
    at = out.writeDoubleLE(d.low, at);
    at = out.writeDoubleLE(d.high, at);
  }
  return out;
}

/** The blob of an index with no entries (a deleted resource, an erased patient's, an unsearchable type's). */
export const EMPTY_INDEX_KEYS: Buffer = encodeIndexKeys({ tokens: [], dates: [] });

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The entries of an `index_keys` blob. Tokens are views into `blob` (not copies). Throws `IndexKeysFormatError` for
 * anything that is not exactly one valid encoding: unknown version, truncation, bad UTF-8, an out-of-range parameter
 * index, overlong varints, trailing bytes.
 */
export function decodeIndexKeys(blob: Uint8Array): IndexEntries {
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  let at = 0;
  const need = (n: number, what: string): void => {
    if (blob.byteLength - at < n)
      throw new IndexKeysFormatError(
        `truncated ${what} (${n} bytes needed, ${blob.byteLength - at} left)`,
        at,
      );
  };
  const varint = (what: string): number => {
    const start = at;
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      need(1, what);
      const byte = blob[at++] as number;
      value += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) {
        if (value > MAX_VARINT) throw new IndexKeysFormatError(`${what} out of range`, start);
        if (byte === 0 && shift > 0) throw new IndexKeysFormatError(`overlong varint for ${what}`, start);
        return value;
      }
    }
    throw new IndexKeysFormatError(`varint for ${what} longer than 5 bytes`, start);
  };

  need(1, 'format version');
  if (blob[0] !== INDEX_KEYS_FORMAT)
    throw new IndexKeysFormatError(`unknown format version ${blob[0] as number}`, 0);
  at = 1;

  const paramCount = varint('parameter count');
  const params: string[] = [];
  for (let i = 0; i < paramCount; i++) {
    const length = varint('parameter length');
    need(length, 'parameter name');
    try {
      params.push(utf8.decode(blob.subarray(at, at + length)));
    } catch {
      throw new IndexKeysFormatError('parameter name is not valid UTF-8', at);
    }
    at += length;
  }
  const param = (): string => {
    const start = at;
    const i = varint('parameter index');
    if (i >= params.length)
      throw new IndexKeysFormatError(`parameter index ${i} of ${params.length} parameters`, start);
    return params[i] as string;
  };

  const tokenCount = varint('token count');
  const tokens: IndexEntries['tokens'] = [];
  for (let i = 0; i < tokenCount; i++) {
    const p = param();
    const length = varint('token length');
    need(length, 'token');
    tokens.push({ param: p, token: blob.subarray(at, at + length) });
    at += length;
  }

  const dateCount = varint('date count');
  const dates: IndexEntries['dates'] = [];
  for (let i = 0; i < dateCount; i++) {
    const p = param();
    need(16, 'date range');
    const low = view.getFloat64(at, true);
    const high = view.getFloat64(at + 8, true);
    at += 16;
    dates.push({ param: p, low, high });
  }

  if (at !== blob.byteLength) throw new IndexKeysFormatError(`${blob.byteLength - at} trailing bytes`, at);
  return { tokens, dates };
}
