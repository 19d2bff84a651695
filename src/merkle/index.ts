/**
 * RFC 6962 Merkle trees for CareLedger batches: hashing (`hasher`), building and proof extraction (`tree`),
 * pure proof verification (`verify`) and the typed errors verification throws (`errors`).
 */
export { HASH_SIZE, hashLeaf, hashChildren, emptyRoot } from './hasher.js';
export { MerkleTree, computeRoot } from './tree.js';
export { rootFromInclusionProof, verifyInclusion } from './verify.js';
export {
  MerkleErrorCode,
  MerkleIndexOutOfRangeError,
  MerkleProofSizeError,
  MerkleHashLengthError,
  MerkleRootMismatchError,
} from './errors.js';
export type { MerkleHashRole } from './errors.js';
