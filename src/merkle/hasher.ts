/**
 * RFC 6962 §2.1 Merkle hashing with domain separation.
 *
 * Leaves and interior nodes are hashed with different one-byte prefixes (0x00 and 0x01) so that an interior
 * node can never be passed off as a leaf (or the other way round): without the prefixes, the 64 bytes
 * `left || right` would be a valid leaf whose hash equals the parent's (a second-preimage attack on the tree).
 */
import { sha256 } from '../core/sha256.js';
import { MerkleHashLengthError } from './errors.js';

/** Size in bytes of every hash this module produces and accepts (SHA-256). */
export const HASH_SIZE = 32;

// RFC 6962 §2.1: MTH({d(0)}) = SHA-256(0x00 || d(0)).
const LEAF_PREFIX = 0x00;
// RFC 6962 §2.1: MTH(D[n]) = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n])).
const NODE_PREFIX = 0x01;

// One scratch buffer for hashChildren. Safe to share: JavaScript is single-threaded, sha256 is synchronous and
// reads the input before returning, and the digest it returns is a fresh buffer. Saves an allocation per node.
const nodeScratch = new Uint8Array(1 + 2 * HASH_SIZE);
nodeScratch[0] = NODE_PREFIX;

const EMPTY_ROOT: Uint8Array = sha256(new Uint8Array(0));

/**
 * Hash of a leaf: SHA-256(0x00 || data) (RFC 6962 §2.1).
 *
 * @param data - The leaf's raw bytes (any length, including empty).
 * @returns A fresh 32-byte hash.
 */
export function hashLeaf(data: Uint8Array): Uint8Array {
  const buf = new Uint8Array(1 + data.length);
  buf[0] = LEAF_PREFIX;
  buf.set(data, 1);
  return sha256(buf);
}

/**
 * Hash of an interior node: SHA-256(0x01 || left || right) (RFC 6962 §2.1).
 *
 * On the hot path of both tree building and proof verification, so it copies into one 65-byte buffer and makes a
 * single one-shot SHA-256 call. The two length checks cost nothing next to the hash and stop a short or long child
 * from silently shifting bytes inside the 65-byte preimage.
 *
 * @param left - The 32-byte hash of the left child.
 * @param right - The 32-byte hash of the right child.
 * @returns A fresh 32-byte hash.
 * @throws {@link MerkleHashLengthError} if either child is not 32 bytes.
 */
export function hashChildren(left: Uint8Array, right: Uint8Array): Uint8Array {
  if (left.length !== HASH_SIZE) throw new MerkleHashLengthError('node', left.length);
  if (right.length !== HASH_SIZE) throw new MerkleHashLengthError('node', right.length);
  nodeScratch.set(left, 1);
  nodeScratch.set(right, 1 + HASH_SIZE);
  return sha256(nodeScratch);
}

/**
 * Root of the empty tree: SHA-256 of the empty string (RFC 6962 §2.1, MTH({}) = SHA-256()).
 *
 * @returns A fresh copy of e3b0c442…b855, so callers may mutate it.
 */
export function emptyRoot(): Uint8Array {
  return EMPTY_ROOT.slice();
}
