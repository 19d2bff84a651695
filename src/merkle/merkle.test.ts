import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { VerificationError } from '../core/errors.js';
import { fromHex, toHex } from '../core/hex.js';
import {
  HASH_SIZE,
  MerkleErrorCode,
  MerkleHashLengthError,
  MerkleIndexOutOfRangeError,
  MerkleProofSizeError,
  MerkleRootMismatchError,
  MerkleTree,
  computeRoot,
  emptyRoot,
  hashChildren,
  hashLeaf,
  rootFromInclusionProof,
  verifyInclusion,
} from './index.js';

interface HostileCase {
  name: string;
  note?: string;
  index: number;
  size: number;
  leafHash: string;
  proof: string[];
  root: string;
  error: { code: string; details?: Record<string, unknown> };
}

interface Vectors {
  emptyRoot: string;
  leafInputs: string[];
  leafHashes: string[];
  roots: { size: number; root: string }[];
  inclusionProofs: { index: number; size: number; proof: string[]; root: string }[];
  hostile: HostileCase[];
}

const vectors = JSON.parse(
  readFileSync(new URL('./testdata/vectors.json', import.meta.url), 'utf8'),
) as Vectors;
const hx = (hex: string): Uint8Array => fromHex(hex);
const leafInputs = vectors.leafInputs.map(hx);
const publishedLeafHashes = vectors.leafHashes.map(hx);

// --- Reference implementation, independent of the code under test ------------------------------------------------
// A direct transcription of the recursive definitions in RFC 6962 §2.1 (MTH) and §2.1.1 (PATH), hashing with
// node:crypto directly. Memoised per (start, end) so PATH for every leaf of a 300-leaf tree stays cheap.

function refSha256(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}
const refLeaf = (data: Uint8Array): Uint8Array => refSha256(Uint8Array.of(0), data);
const refNode = (l: Uint8Array, r: Uint8Array): Uint8Array => refSha256(Uint8Array.of(1), l, r);

/** Largest power of two strictly less than n (n > 1). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

class RefTree {
  readonly #cache = new Map<string, Uint8Array>();
  constructor(readonly leafHashes: readonly Uint8Array[]) {}

  mth(start = 0, end = this.leafHashes.length): Uint8Array {
    const n = end - start;
    if (n === 0) return refSha256();
    if (n === 1) return this.leafHashes[start] as Uint8Array;
    const key = `${start}:${end}`;
    let hash = this.#cache.get(key);
    if (hash === undefined) {
      const k = splitPoint(n);
      hash = refNode(this.mth(start, start + k), this.mth(start + k, end));
      this.#cache.set(key, hash);
    }
    return hash;
  }

  path(m: number, start = 0, end = this.leafHashes.length): Uint8Array[] {
    const n = end - start;
    if (n === 1) return [];
    const k = splitPoint(n);
    return m < k
      ? [...this.path(m, start, start + k), this.mth(start + k, end)]
      : [...this.path(m - k, start + k, end), this.mth(start, start + k)];
  }
}

// --- Helpers -------------------------------------------------------------------------------------------------------

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

const errorClassByCode = {
  [MerkleErrorCode.INDEX_OUT_OF_RANGE]: MerkleIndexOutOfRangeError,
  [MerkleErrorCode.WRONG_PROOF_SIZE]: MerkleProofSizeError,
  [MerkleErrorCode.BAD_HASH_LENGTH]: MerkleHashLengthError,
  [MerkleErrorCode.ROOT_MISMATCH]: MerkleRootMismatchError,
} as const;

/** Leaf hashes that are distinct for distinct i (the index is part of the leaf data). */
function distinctLeafHashes(size: number, salt: Uint8Array): Uint8Array[] {
  return Array.from({ length: size }, (_, i) => {
    const data = new Uint8Array(4 + salt.length);
    new DataView(data.buffer).setUint32(0, i);
    data.set(salt, 4);
    return refLeaf(data);
  });
}

// --- Tests ---------------------------------------------------------------------------------------------------------

describe('hasher (RFC 6962 §2.1)', () => {
  it('empty root is SHA-256 of the empty string', () => {
    expect(HASH_SIZE).toBe(32);
    expect(toHex(emptyRoot())).toBe(vectors.emptyRoot);
  });

  it('emptyRoot returns a fresh copy each time', () => {
    const a = emptyRoot();
    a.fill(0);
    expect(toHex(emptyRoot())).toBe(vectors.emptyRoot);
  });

  it('hashes the published leaf inputs to the published leaf hashes', () => {
    expect(leafInputs.map((d) => toHex(hashLeaf(d)))).toEqual(vectors.leafHashes);
  });

  it('hashes two leaves to the published size-2 root', () => {
    const [l0, l1] = publishedLeafHashes as [Uint8Array, Uint8Array];
    expect(toHex(hashChildren(l0, l1))).toBe(vectors.roots[1]?.root);
  });

  it('separates leaf and node domains: a leaf with the bytes left||right does not hash like their parent', () => {
    const [l0, l1] = publishedLeafHashes as [Uint8Array, Uint8Array];
    const concatenated = new Uint8Array([...l0, ...l1]);
    expect(toHex(hashLeaf(concatenated))).not.toBe(toHex(hashChildren(l0, l1)));
    expect(toHex(hashChildren(l0, l1))).toBe(toHex(refNode(l0, l1)));
  });

  it('hashChildren gives the same result on repeated calls (shared scratch buffer does not leak state)', () => {
    const [l0, l1, l2] = publishedLeafHashes as [Uint8Array, Uint8Array, Uint8Array];
    const first = hashChildren(l0, l1);
    hashChildren(l2, l2);
    expect(toHex(hashChildren(l0, l1))).toBe(toHex(first));
    expect(toHex(first)).toBe(vectors.roots[1]?.root);
  });

  it('hashChildren rejects children that are not 32 bytes', () => {
    const good = publishedLeafHashes[0] as Uint8Array;
    const err = caught(() => hashChildren(good.subarray(0, 31), good));
    expect(err).toBeInstanceOf(MerkleHashLengthError);
    expect(err).toMatchObject({ code: 'MERKLE.BAD_HASH_LENGTH', details: { role: 'node', got: 31 } });
    expect(() => hashChildren(good, new Uint8Array(33))).toThrow(MerkleHashLengthError);
  });
});

describe('MerkleTree and computeRoot against the published roots', () => {
  it('empty tree', () => {
    const tree = MerkleTree.fromLeafHashes([]);
    expect(tree.size).toBe(0);
    expect(toHex(tree.root)).toBe(vectors.emptyRoot);
    expect(toHex(computeRoot([]))).toBe(vectors.emptyRoot);
    expect(() => tree.inclusionProof(0)).toThrow(MerkleIndexOutOfRangeError);
  });

  for (const { size, root } of vectors.roots) {
    it(`size ${size} root is ${root.slice(0, 10)}…`, () => {
      const leaves = publishedLeafHashes.slice(0, size);
      const tree = MerkleTree.fromLeafHashes(leaves);
      expect(tree.size).toBe(size);
      expect(toHex(tree.root)).toBe(root);
      expect(toHex(computeRoot(leaves))).toBe(root);
      expect(toHex(new RefTree(leaves).mth())).toBe(root);
      for (let i = 0; i < size; i++) expect(toHex(tree.leafHash(i))).toBe(vectors.leafHashes[i]);
    });
  }
});

describe('published inclusion proofs', () => {
  for (const { index, size, proof, root } of vectors.inclusionProofs) {
    it(`leaf ${index} of ${size}`, () => {
      const tree = MerkleTree.fromLeafHashes(publishedLeafHashes.slice(0, size));
      const leafHash = publishedLeafHashes[index] as Uint8Array;
      expect(tree.inclusionProof(index).map(toHex)).toEqual(proof);
      expect(toHex(rootFromInclusionProof(index, size, leafHash, proof.map(hx)))).toBe(root);
      expect(() => verifyInclusion(index, size, leafHash, proof.map(hx), hx(root))).not.toThrow();
    });
  }

  it('every (index, size) up to 8 matches the RFC 6962 PATH reference and verifies', () => {
    for (let size = 1; size <= 8; size++) {
      const leaves = publishedLeafHashes.slice(0, size);
      const tree = MerkleTree.fromLeafHashes(leaves);
      const ref = new RefTree(leaves);
      for (let index = 0; index < size; index++) {
        const proof = tree.inclusionProof(index);
        expect(proof.map(toHex)).toEqual(ref.path(index).map(toHex));
        verifyInclusion(
          index,
          size,
          leaves[index] as Uint8Array,
          proof,
          hx(vectors.roots[size - 1]?.root ?? ''),
        );
      }
    }
  });
});

describe('hostile vectors', () => {
  it('has the required kinds of hostile case', () => {
    const codes = new Set(vectors.hostile.map((c) => c.error.code));
    expect(codes).toEqual(new Set(Object.values(MerkleErrorCode)));
    expect(vectors.hostile.length).toBeGreaterThanOrEqual(20);
  });

  for (const c of vectors.hostile) {
    it(`${c.name} → ${c.error.code}`, () => {
      const leafHash = hx(c.leafHash);
      const proof = c.proof.map(hx);
      const root = hx(c.root);
      const err = caught(() => verifyInclusion(c.index, c.size, leafHash, proof, root));
      expect(err).toBeInstanceOf(VerificationError);
      expect(err).toBeInstanceOf(errorClassByCode[c.error.code as MerkleErrorCode]);
      expect(err).toMatchObject({ code: c.error.code, status: 422 });
      if (c.error.details) expect((err as VerificationError).details).toMatchObject(c.error.details);

      // rootFromInclusionProof checks the same preconditions; it only cannot judge the root.
      if (c.error.code === MerkleErrorCode.ROOT_MISMATCH || c.error.details?.['role'] === 'root') {
        expect(toHex(rootFromInclusionProof(c.index, c.size, leafHash, proof))).not.toBe(c.root);
      } else {
        expect(() => rootFromInclusionProof(c.index, c.size, leafHash, proof)).toThrow(
          errorClassByCode[c.error.code as MerkleErrorCode],
        );
      }
    });
  }

  it('root mismatch carries both roots as hex', () => {
    const c = vectors.hostile.find((h) => h.name.startsWith('other root'));
    expect(c).toBeDefined();
    const { index, size, leafHash, proof, root } = c as HostileCase;
    const err = caught(() => verifyInclusion(index, size, hx(leafHash), proof.map(hx), hx(root)));
    expect(err).toMatchObject({
      name: 'MerkleRootMismatchError',
      details: { expected: root, computed: vectors.roots[7]?.root },
    });
  });

  it('rejects a sparse proof array from untyped callers', () => {
    const proof = vectors.inclusionProofs[2]?.proof.map(hx) ?? [];
    const sparse = new Array<Uint8Array>(3); // a hole at position 1
    sparse[0] = proof[0] as Uint8Array;
    sparse[2] = proof[2] as Uint8Array;
    const err = caught(() =>
      verifyInclusion(5, 8, publishedLeafHashes[5] as Uint8Array, sparse, hx(vectors.roots[7]?.root ?? '')),
    );
    expect(err).toMatchObject({ code: 'MERKLE.BAD_HASH_LENGTH', details: { role: 'proof', position: 1 } });
  });

  it('checks the index before the proof size, and the proof size before hash lengths', () => {
    const short = new Uint8Array(31);
    expect(caught(() => verifyInclusion(9, 8, short, [short], short))).toBeInstanceOf(
      MerkleIndexOutOfRangeError,
    );
    expect(caught(() => verifyInclusion(0, 8, short, [short], short))).toBeInstanceOf(MerkleProofSizeError);
    expect(caught(() => verifyInclusion(0, 2, short, [short], short))).toMatchObject({
      details: { role: 'leafHash' },
    });
  });
});

describe('errors', () => {
  it('are VerificationErrors with stable codes, names and structured details', () => {
    const e = new MerkleProofSizeError(5, 8, 3, 4);
    expect(e).toBeInstanceOf(VerificationError);
    expect(e).toBeInstanceOf(Error);
    expect(e).toMatchObject({
      name: 'MerkleProofSizeError',
      code: 'MERKLE.WRONG_PROOF_SIZE',
      status: 422,
      issueType: 'invalid',
      details: { index: 5, size: 8, expected: 3, got: 4 },
    });
    expect(new MerkleIndexOutOfRangeError(8, 8)).toMatchObject({
      name: 'MerkleIndexOutOfRangeError',
      details: { index: 8, size: 8 },
    });
    expect(new MerkleHashLengthError('root', 31).name).toBe('MerkleHashLengthError');
    expect(String(new MerkleIndexOutOfRangeError(1, 0))).toMatch(/^MerkleIndexOutOfRangeError: /);
  });
});

describe('MerkleTree input checking and immutability', () => {
  const leaves = publishedLeafHashes;

  it('rejects out-of-range and non-integer indices', () => {
    const tree = MerkleTree.fromLeafHashes(leaves);
    for (const bad of [-1, 8, 9, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => tree.inclusionProof(bad)).toThrow(MerkleIndexOutOfRangeError);
      expect(() => tree.leafHash(bad)).toThrow(MerkleIndexOutOfRangeError);
    }
  });

  it('rejects leaf hashes that are not 32 bytes, naming the position', () => {
    const bad = [...leaves.slice(0, 3), new Uint8Array(31)];
    for (const build of [() => MerkleTree.fromLeafHashes(bad), () => computeRoot(bad)]) {
      expect(caught(build)).toMatchObject({
        code: 'MERKLE.BAD_HASH_LENGTH',
        details: { role: 'leafHash', position: 3 },
      });
    }
  });

  it('copies its input and its outputs', () => {
    const input = leaves.map((l) => l.slice());
    const tree = MerkleTree.fromLeafHashes(input);
    const root = toHex(tree.root);
    (input[0] as Uint8Array).fill(0);
    tree.root.fill(0);
    tree.leafHash(0).fill(0);
    for (const p of tree.inclusionProof(3)) p.fill(0);
    expect(toHex(tree.root)).toBe(root);
    expect(toHex(tree.leafHash(0))).toBe(vectors.leafHashes[0]);
    expect(tree.inclusionProof(3).map(toHex)).toEqual(new RefTree(leaves).path(3).map(toHex));
  });

  it('never returns the caller’s array for a one-leaf tree', () => {
    const leaf = (leaves[0] as Uint8Array).slice();
    expect(computeRoot([leaf])).not.toBe(leaf);
    expect(rootFromInclusionProof(0, 1, leaf, [])).not.toBe(leaf);
    expect(toHex(rootFromInclusionProof(0, 1, leaf, []))).toBe(toHex(leaf));
  });
});

describe('sizes above 2^32 (hostile or far-future sizes must not wrap)', () => {
  const x = refLeaf(Uint8Array.of(1));
  const leaf = refLeaf(Uint8Array.of(2));

  it('last leaf of a 2^40 + 1 tree: one border hash', () => {
    const size = 2 ** 40 + 1;
    expect(toHex(rootFromInclusionProof(2 ** 40, size, leaf, [x]))).toBe(toHex(refNode(x, leaf)));
    expect(caught(() => rootFromInclusionProof(2 ** 40, size, leaf, []))).toMatchObject({
      details: { expected: 1, got: 0 },
    });
  });

  it('leaf 2^40 - 1 of a 2^40 + 1 tree: 40 left siblings, then one right sibling', () => {
    const proof = Array.from({ length: 41 }, (_, i) => refLeaf(Uint8Array.of(i)));
    let expected = leaf;
    for (let i = 0; i < 40; i++) expected = refNode(proof[i] as Uint8Array, expected);
    expected = refNode(expected, proof[40] as Uint8Array);
    expect(toHex(rootFromInclusionProof(2 ** 40 - 1, 2 ** 40 + 1, leaf, proof))).toBe(toHex(expected));
  });

  it('expects 53 hashes for leaf 0 of the largest safe size and rejects unsafe sizes', () => {
    expect(caught(() => rootFromInclusionProof(0, Number.MAX_SAFE_INTEGER, leaf, []))).toMatchObject({
      details: { expected: 53, got: 0 },
    });
    expect(() => rootFromInclusionProof(0, 2 ** 53, leaf, [])).toThrow(MerkleIndexOutOfRangeError);
  });
});

describe('properties (fast-check)', () => {
  it('for sizes 1..300: root matches RFC 6962 MTH, every proof matches PATH and verifies, and never for another leaf', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 300 }),
        fc.uint8Array({ minLength: 0, maxLength: 16 }),
        fc.nat(),
        (size, salt, offsetSeed) => {
          const leaves = distinctLeafHashes(size, salt);
          const ref = new RefTree(leaves);
          const tree = MerkleTree.fromLeafHashes(leaves);
          const root = tree.root;
          expect(toHex(root)).toBe(toHex(ref.mth()));
          expect(toHex(computeRoot(leaves))).toBe(toHex(root));

          for (let i = 0; i < size; i++) {
            const proof = tree.inclusionProof(i);
            expect(proof.map(toHex)).toEqual(ref.path(i).map(toHex));
            verifyInclusion(i, size, leaves[i] as Uint8Array, proof, root);

            if (size > 1) {
              const j = (i + 1 + (offsetSeed % (size - 1))) % size; // any j != i
              const other = leaves[j] as Uint8Array;
              // Another leaf at this index, and this proof used for another index, must both fail.
              expect(() => verifyInclusion(i, size, other, proof, root)).toThrow(MerkleRootMismatchError);
              expect(() => verifyInclusion(j, size, other, proof, root)).toThrow(VerificationError);
              expect(() => verifyInclusion(j, size, leaves[i] as Uint8Array, proof, root)).toThrow(
                VerificationError,
              );
            }
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});
