/**
 * Pure inclusion-proof verification (RFC 6962 §2.1.1, RFC 9162 §2.1.3.2), following transparency-dev/merkle
 * `proof/verify.go`: every precondition is checked before any hashing, then the path is folded into a root.
 *
 * Indices and sizes are JavaScript numbers, exact up to 2^53 - 1, so the bit arithmetic below is done on safe
 * integers rather than with 32-bit operators alone: a hostile size above 2^32 must be handled exactly, not wrapped.
 */
import { HASH_SIZE, hashChildren } from './hasher.js';
import type { MerkleHashRole } from './errors.js';
import {
  MerkleHashLengthError,
  MerkleIndexOutOfRangeError,
  MerkleProofSizeError,
  MerkleRootMismatchError,
} from './errors.js';

const TWO_POW_32 = 4294967296;

/** Number of significant bits of a non-negative safe integer (0 for 0). */
function bitLength(x: number): number {
  return x < TWO_POW_32 ? 32 - Math.clz32(x) : 64 - Math.clz32(Math.floor(x / TWO_POW_32));
}

/** Bitwise XOR of two non-negative safe integers (`^` alone would truncate to 32 bits). */
function xor(a: number, b: number): number {
  const low = (a ^ b) >>> 0;
  if (a < TWO_POW_32 && b < TWO_POW_32) return low;
  const high = (Math.floor(a / TWO_POW_32) ^ Math.floor(b / TWO_POW_32)) >>> 0;
  return high * TWO_POW_32 + low;
}

function popCount32(x: number): number {
  let v = x - ((x >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

/** Number of set bits of a non-negative safe integer. */
function popCount(x: number): number {
  return popCount32(x >>> 0) + popCount32(Math.floor(x / TWO_POW_32));
}

/** Bit `i` (0 = least significant) of a non-negative safe integer. */
function bitAt(x: number, i: number): number {
  return i < 32 ? (x >>> i) & 1 : (Math.floor(x / TWO_POW_32) >>> (i - 32)) & 1;
}

/**
 * Splits the audit path of leaf `index` in a tree of `size` leaves (RFC 9162 §2.1.3.2) into its inner part (below
 * the point where the paths to `index` and to the last leaf `size - 1` diverge; siblings may be on either side) and
 * its border part (along the right border; every sibling is a left subtree). Their sum is the only valid proof
 * length, which is what lets the verifier reject truncated or padded proofs before hashing.
 * Requires 0 <= index < size <= 2^53 - 1.
 */
function decomposeInclusionProof(index: number, size: number): { inner: number; border: number } {
  const inner = bitLength(xor(index, size - 1));
  // Dividing a safe integer by a power of two is exact, so this is index >> inner without 32-bit truncation.
  const border = popCount(Math.floor(index / 2 ** inner));
  return { inner, border };
}

function checkHashLength(hash: Uint8Array | undefined, role: MerkleHashRole, position?: number): void {
  // `undefined` covers holes in a sparse array handed in from untyped code.
  if (hash === undefined || hash.length !== HASH_SIZE)
    throw new MerkleHashLengthError(role, hash?.length ?? 0, position);
}

/**
 * Checks, in order: index in range, proof length, then every hash length. Returns the inner-proof length for the
 * fold. Cheap checks come first so malformed input is rejected before any hashing.
 */
function checkInclusionInputs(
  index: number,
  size: number,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
): number {
  // RFC 9162 §2.1.3.2 step 1: leaf_index must be < tree_size. Also rejects negative, fractional, NaN and unsafe
  // values, for which the bit arithmetic would be meaningless.
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) {
    throw new MerkleIndexOutOfRangeError(index, size);
  }
  const { inner, border } = decomposeInclusionProof(index, size);
  if (proof.length !== inner + border)
    throw new MerkleProofSizeError(index, size, inner + border, proof.length);
  checkHashLength(leafHash, 'leafHash');
  for (let i = 0; i < proof.length; i++) checkHashLength(proof[i], 'proof', i);
  return inner;
}

/** Folds a checked proof into a root. May return `leafHash` itself when the proof is empty. */
function foldInclusionProof(
  index: number,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
  inner: number,
): Uint8Array {
  let node = leafHash;
  // Inner part: the index bit at each height says whether the node is a right child (sibling on the left) or not.
  for (let i = 0; i < inner; i++) {
    const sibling = proof[i] as Uint8Array;
    node = bitAt(index, i) === 0 ? hashChildren(node, sibling) : hashChildren(sibling, node);
  }
  // Border part: on the right border every sibling is a complete left subtree.
  for (let i = inner; i < proof.length; i++) node = hashChildren(proof[i] as Uint8Array, node);
  return node;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Recomputes the root of a tree of `size` leaves from the hash of the leaf at `index` and its audit path
 * (RFC 9162 §2.1.3.2; transparency-dev/merkle `RootFromInclusionProof`). Does not decide whether the proof is
 * valid: compare the result with a trusted root, or use {@link verifyInclusion}.
 *
 * @param index - The leaf's index, `0 <= index < size`.
 * @param size - The number of leaves in the tree the proof is for.
 * @param leafHash - The 32-byte RFC 6962 leaf hash (`hashLeaf(data)`), not the leaf data.
 * @param proof - The audit path, leaf-to-root order, as `MerkleTree.inclusionProof` returns it.
 * @returns A fresh 32-byte root.
 * @throws {@link MerkleIndexOutOfRangeError} unless `index` and `size` are safe integers with `0 <= index < size`.
 * @throws {@link MerkleProofSizeError} if `proof` does not have exactly the length (index, size) requires.
 * @throws {@link MerkleHashLengthError} if `leafHash` or a proof element is not 32 bytes.
 */
export function rootFromInclusionProof(
  index: number,
  size: number,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
): Uint8Array {
  const inner = checkInclusionInputs(index, size, leafHash, proof);
  const root = foldInclusionProof(index, leafHash, proof, inner);
  // Never hand back the caller's own array (one-leaf tree, empty proof).
  return root === leafHash ? leafHash.slice() : root;
}

/**
 * Verifies that the leaf with hash `leafHash` is at `index` in the tree of `size` leaves whose root is `root`
 * (RFC 6962 §2.1.1; transparency-dev/merkle `VerifyInclusion`). Returns normally only if the proof checks out.
 * `size` and `root` must come from a trusted source (e.g. the anchored batch), never from the proof's sender alone.
 *
 * @param index - The leaf's index, `0 <= index < size`.
 * @param size - The number of leaves in the trusted tree.
 * @param leafHash - The 32-byte RFC 6962 leaf hash.
 * @param proof - The audit path, leaf-to-root order.
 * @param root - The trusted 32-byte root.
 * @throws {@link MerkleIndexOutOfRangeError} unless `index` and `size` are safe integers with `0 <= index < size`.
 * @throws {@link MerkleProofSizeError} if `proof` does not have exactly the length (index, size) requires.
 * @throws {@link MerkleHashLengthError} if `leafHash`, a proof element or `root` is not 32 bytes.
 * @throws {@link MerkleRootMismatchError} if the recomputed root differs from `root`.
 */
export function verifyInclusion(
  index: number,
  size: number,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): void {
  const inner = checkInclusionInputs(index, size, leafHash, proof);
  checkHashLength(root, 'root');
  const computed = foldInclusionProof(index, leafHash, proof, inner);
  if (!bytesEqual(computed, root)) throw new MerkleRootMismatchError(root, computed);
}
