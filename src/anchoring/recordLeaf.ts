import { InvalidInputError } from '../core/errors.js';
import { sha256 } from '../core/sha256.js';

/** Version tag at the start of every record leaf, so a future leaf layout can never be confused with this one. */
const LEAF_TAG = new TextEncoder().encode('CLR1');
const KIND_RE = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$/;

/** What identifies a record inside the ledger: its organisation, id, kind and the SHA-256 of its bytes. */
export interface RecordLeafInput {
  /** 20-byte chain address of the organisation that holds and anchors the record. */
  organization: Uint8Array;
  id: number;
  kind: string;
  contentHash: Uint8Array;
}

/** Throws a clear error when `kind` is not 1–64 characters of letters, digits and `._:/-`. */
export function assertValidKind(kind: unknown): asserts kind is string {
  if (typeof kind !== 'string' || !KIND_RE.test(kind)) {
    throw new InvalidInputError(
      'RECORD.INVALID_KIND',
      'A record kind must be 1 to 64 characters: letters, digits and . _ : / - (starting with a letter or digit), e.g. "fhir.Observation".',
      { details: { kind: typeof kind === 'string' ? kind.slice(0, 100) : kind } },
    );
  }
}

/**
 * The leaf data of a record: `"CLR1" || organization(20) || uint64be(id) || sha256(content) || utf8(kind)`.
 * Fixed-size fields come first and the only variable field last, so the encoding is unambiguous. Binding the
 * organisation, id and kind (not only the bytes) means a proof cannot be replayed for another record, passed off
 * as another kind, or collide with an identical record of another organisation (roots are unique on chain).
 */
export function recordLeafData({ organization, id, kind, contentHash }: RecordLeafInput): Uint8Array {
  if (contentHash.length !== 32) throw new TypeError('contentHash must be 32 bytes');
  if (organization.length !== 20) throw new TypeError('organization must be a 20-byte address');
  const kindBytes = new TextEncoder().encode(kind);
  const out = new Uint8Array(4 + 20 + 8 + 32 + kindBytes.length);
  out.set(LEAF_TAG, 0);
  out.set(organization, 4);
  new DataView(out.buffer).setBigUint64(24, BigInt(id));
  out.set(contentHash, 32);
  out.set(kindBytes, 64);
  return out;
}

/**
 * RFC 6962 leaf hash of a record: SHA-256(0x00 || leaf data), i.e. `hashLeaf(recordLeafData(input))`, built in
 * one buffer with the 0x00 prefix in place because every proof verification computes it.
 */
export function recordLeafHash({ organization, id, kind, contentHash }: RecordLeafInput): Uint8Array {
  if (contentHash.length !== 32) throw new TypeError('contentHash must be 32 bytes');
  if (organization.length !== 20) throw new TypeError('organization must be a 20-byte address');
  const kindLength = Buffer.byteLength(kind, 'utf8');
  const buf = Buffer.allocUnsafe(1 + 64 + kindLength);
  buf[0] = 0x00; // RFC 6962 leaf prefix
  buf.set(LEAF_TAG, 1);
  buf.set(organization, 5);
  buf.writeUInt32BE(Math.floor(id / 2 ** 32), 25);
  buf.writeUInt32BE(id >>> 0, 29);
  buf.set(contentHash, 33);
  buf.write(kind, 65, 'utf8');
  return sha256(buf);
}
