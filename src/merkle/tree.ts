/**
 * Building RFC 6962 Merkle trees from leaf hashes and extracting audit paths. Verification lives in `verify.ts`
 * and never depends on this file, so a verifier does not need a tree.
 */
import { HASH_SIZE, emptyRoot, hashChildren } from './hasher.js';
import { MerkleHashLengthError, MerkleIndexOutOfRangeError } from './errors.js';

// Copies and validates leaf hashes into one contiguous buffer (one allocation, no per-leaf objects to collect).
function packLeafHashes(leafHashes: readonly Uint8Array[]): Uint8Array {
  const packed = new Uint8Array(leafHashes.length * HASH_SIZE);
  for (let i = 0; i < leafHashes.length; i++) {
    const hash = leafHashes[i];
    if (hash === undefined || hash.length !== HASH_SIZE) {
      throw new MerkleHashLengthError('leafHash', hash?.length ?? 0, i);
    }
    packed.set(hash, i * HASH_SIZE);
  }
  return packed;
}

// A view of the node (no copy), for hashing while building.
function nodeAt(level: Uint8Array, position: number): Uint8Array {
  return level.subarray(position * HASH_SIZE, (position + 1) * HASH_SIZE);
}

// A copy of the node, for handing out: callers must not be able to change the tree.
function copyNode(level: Uint8Array, position: number): Uint8Array {
  return level.slice(position * HASH_SIZE, (position + 1) * HASH_SIZE);
}

/**
 * An immutable RFC 6962 Merkle tree over already-hashed leaves (see `hashLeaf`).
 *
 * All levels are built once, bottom-up, when the tree is created: level 0 holds the leaf hashes, and each level
 * above pairs neighbours with `hashChildren`. An odd last node is promoted unchanged to the next level. That gives
 * exactly the tree of RFC 6962 §2.1, which splits `n` leaves at the largest power of two `k < n`: the left part is
 * a perfect tree, and promotion only ever happens on the right border. Keeping every level makes each inclusion
 * proof a walk of `log2(n)` lookups, so proofs for every leaf of a batch cost no further hashing.
 *
 * Getters return copies; the tree cannot be changed after construction.
 */
export class MerkleTree {
  // levels[0] are the leaf hashes; levels[levels.length - 1] holds only the root. Each level is one buffer of
  // 32-byte hashes laid end to end.
  readonly #levels: readonly Uint8Array[];
  readonly #size: number;

  private constructor(levels: readonly Uint8Array[], size: number) {
    this.#levels = levels;
    this.#size = size;
  }

  /**
   * Builds the tree over `leafHashes` (each the 32-byte RFC 6962 leaf hash, in leaf order). The hashes are copied,
   * so later changes to the caller's arrays do not affect the tree.
   *
   * @param leafHashes - The leaf hashes, possibly none (the empty tree).
   * @returns The tree, with every level computed.
   * @throws {@link MerkleHashLengthError} if a leaf hash is not 32 bytes.
   */
  static fromLeafHashes(leafHashes: readonly Uint8Array[]): MerkleTree {
    let level = packLeafHashes(leafHashes);
    let width = leafHashes.length;
    const levels: Uint8Array[] = [level];
    while (width > 1) {
      const nextWidth = (width + 1) >>> 1;
      const next = new Uint8Array(nextWidth * HASH_SIZE);
      for (let i = 0; i + 1 < width; i += 2) {
        next.set(hashChildren(nodeAt(level, i), nodeAt(level, i + 1)), (i >>> 1) * HASH_SIZE);
      }
      // Odd node out sits on the right border; RFC 6962 hashes it one level higher, never with a duplicate.
      if (width & 1) next.set(nodeAt(level, width - 1), (nextWidth - 1) * HASH_SIZE);
      levels.push(next);
      level = next;
      width = nextWidth;
    }
    return new MerkleTree(levels, leafHashes.length);
  }

  /** Number of leaves. */
  get size(): number {
    return this.#size;
  }

  /** The RFC 6962 Merkle Tree Hash (MTH) of all leaves; for the empty tree, SHA-256 of the empty string. */
  get root(): Uint8Array {
    if (this.#size === 0) return emptyRoot();
    return copyNode(this.#levels[this.#levels.length - 1] as Uint8Array, 0);
  }

  /**
   * The leaf hash at `index`.
   *
   * @param index - Leaf index, `0 <= index < size`.
   * @returns A copy of the 32-byte leaf hash.
   * @throws {@link MerkleIndexOutOfRangeError} if `index` is not an integer in `[0, size)`.
   */
  leafHash(index: number): Uint8Array {
    this.#checkIndex(index);
    return copyNode(this.#levels[0] as Uint8Array, index);
  }

  /**
   * The audit path of the leaf at `index` (RFC 6962 §2.1.1), ordered from the leaf's sibling up to the child of
   * the root: the form `rootFromInclusionProof` and `verifyInclusion` take.
   *
   * @param index - Leaf index, `0 <= index < size`.
   * @returns Fresh 32-byte hashes; empty for a one-leaf tree.
   * @throws {@link MerkleIndexOutOfRangeError} if `index` is not an integer in `[0, size)`.
   */
  inclusionProof(index: number): Uint8Array[] {
    this.#checkIndex(index);
    const proof: Uint8Array[] = [];
    let position = index;
    // The last level is the root, which has no sibling.
    for (let height = 0; height < this.#levels.length - 1; height++) {
      const level = this.#levels[height] as Uint8Array;
      const sibling = position ^ 1;
      // No sibling means this node was promoted: RFC 6962 PATH contributes nothing at this height.
      if (sibling * HASH_SIZE < level.length) proof.push(copyNode(level, sibling));
      position >>>= 1;
    }
    return proof;
  }

  #checkIndex(index: number): void {
    if (!Number.isSafeInteger(index) || index < 0 || index >= this.#size) {
      throw new MerkleIndexOutOfRangeError(index, this.#size);
    }
  }
}

/**
 * The RFC 6962 Merkle Tree Hash (MTH) of `leafHashes`, for callers that need only the root. Hashes level by level
 * in one working array, without keeping the tree.
 *
 * @param leafHashes - The 32-byte leaf hashes in leaf order, possibly none.
 * @returns A fresh 32-byte root; SHA-256 of the empty string for no leaves (RFC 6962 §2.1).
 * @throws {@link MerkleHashLengthError} if a leaf hash is not 32 bytes.
 */
export function computeRoot(leafHashes: readonly Uint8Array[]): Uint8Array {
  const n = leafHashes.length;
  if (n === 0) return emptyRoot();
  const work: Uint8Array[] = new Array<Uint8Array>(n);
  for (let i = 0; i < n; i++) {
    const hash = leafHashes[i];
    if (hash === undefined || hash.length !== HASH_SIZE) {
      throw new MerkleHashLengthError('leafHash', hash?.length ?? 0, i);
    }
    work[i] = hash;
  }
  let width = n;
  while (width > 1) {
    // Writing slot i/2 after reading slots i and i+1 never overwrites an unread node.
    let next = 0;
    for (let i = 0; i + 1 < width; i += 2)
      work[next++] = hashChildren(work[i] as Uint8Array, work[i + 1] as Uint8Array);
    if (width & 1) work[next++] = work[width - 1] as Uint8Array;
    width = next;
  }
  // A one-leaf tree's root is the leaf hash itself; copy it so the result never aliases the caller's input.
  return n === 1 ? (work[0] as Uint8Array).slice() : (work[0] as Uint8Array);
}
