/**
 * The bench's records: deterministic pseudo-random bytes (so every section of one run, and every run, sees the
 * same data), kept in one buffer with an offset table so the set can be handed to a worker thread cheaply.
 */
export const RECORD_KINDS: readonly string[] = [
  'fhir.Observation',
  'fhir.Encounter',
  'fhir.MedicationRequest',
  'fhir.DiagnosticReport',
];

export interface RecordSet {
  count: number;
  kinds: readonly string[];
  /** Index into `kinds` of each record. */
  kindIndex: Uint8Array;
  /** `count + 1` offsets into `bytes`: record i is `bytes[offsets[i] .. offsets[i + 1])`. */
  offsets: Uint32Array;
  bytes: Uint8Array;
}

/** xorshift32: fast, deterministic, good enough to make incompressible-looking test bytes. */
export function xorshift32(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

export function makeRecordSet(count: number, minBytes: number, maxBytes: number, seed = 0x5eed): RecordSet {
  const next = xorshift32(seed);
  const offsets = new Uint32Array(count + 1);
  const kindIndex = new Uint8Array(count);
  const span = maxBytes - minBytes + 1;
  let total = 0;
  for (let i = 0; i < count; i++) {
    offsets[i] = total;
    total += minBytes + (next() % span);
    kindIndex[i] = next() % RECORD_KINDS.length;
  }
  offsets[count] = total;
  const bytes = new Uint8Array(Math.ceil(total / 4) * 4);
  const words = new Uint32Array(bytes.buffer);
  for (let i = 0; i < words.length; i++) words[i] = next();
  return { count, kinds: RECORD_KINDS, kindIndex, offsets, bytes: bytes.subarray(0, total) };
}

/** Record i's bytes as a Buffer view (no copy). */
export function recordBytes(set: RecordSet, i: number): Buffer {
  const start = set.offsets[i] as number;
  const end = set.offsets[i + 1] as number;
  return Buffer.from(set.bytes.buffer, set.bytes.byteOffset + start, end - start);
}

export function recordKind(set: RecordSet, i: number): string {
  return set.kinds[set.kindIndex[i] as number] as string;
}

export function totalBytes(set: RecordSet): number {
  return set.offsets[set.count] as number;
}
