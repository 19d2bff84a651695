/**
 * Typed failures of Merkle proof checking. Each has a stable `code` callers (and the golden test vectors) can match
 * on; all are {@link VerificationError}s, so the HTTP layer maps them to 422 without knowing about Merkle trees.
 */
import { VerificationError } from '../core/errors.js';
import { toHex } from '../core/hex.js';

/** Stable error codes of the Merkle module. */
export const MerkleErrorCode = {
  INDEX_OUT_OF_RANGE: 'MERKLE.INDEX_OUT_OF_RANGE',
  WRONG_PROOF_SIZE: 'MERKLE.WRONG_PROOF_SIZE',
  BAD_HASH_LENGTH: 'MERKLE.BAD_HASH_LENGTH',
  ROOT_MISMATCH: 'MERKLE.ROOT_MISMATCH',
} as const;

/** One of the {@link MerkleErrorCode} values. */
export type MerkleErrorCode = (typeof MerkleErrorCode)[keyof typeof MerkleErrorCode];

/** Which hash had the wrong length: a leaf hash, an element of the audit path, the root, or a child node. */
export type MerkleHashRole = 'leafHash' | 'proof' | 'root' | 'node';

// VerificationError declares `name` as the literal 'VerificationError', so a subclass cannot redeclare it with
// another literal; define the own property instead so stack traces still name the precise class.
function setName(error: Error, name: string): void {
  Object.defineProperty(error, 'name', {
    value: name,
    enumerable: false,
    writable: true,
    configurable: true,
  });
}

/**
 * The leaf index is not in `[0, size)`, or either number is not a non-negative safe integer. Covers the empty tree
 * (size 0), which has no leaves and so no inclusion proofs (RFC 6962 §2.1.1 defines PATH only for 0 <= m < n).
 */
export class MerkleIndexOutOfRangeError extends VerificationError {
  /** @param index - The leaf index asked for. @param size - The tree size it was asked against. */
  constructor(index: number, size: number) {
    super(
      MerkleErrorCode.INDEX_OUT_OF_RANGE,
      `leaf index ${index} is out of range for a tree of size ${size}`,
      {
        details: { index, size },
      },
    );
    setName(this, 'MerkleIndexOutOfRangeError');
  }
}

/**
 * The audit path has the wrong number of hashes for the claimed index and tree size. The length is fully determined
 * by (index, size) (RFC 9162 §2.1.3.2), so this catches truncated proofs and trailing or preceding garbage before
 * any hashing is done.
 */
export class MerkleProofSizeError extends VerificationError {
  /**
   * @param index - The claimed leaf index.
   * @param size - The claimed tree size.
   * @param expected - The number of hashes a proof for (index, size) must have.
   * @param got - The number of hashes the proof has.
   */
  constructor(index: number, size: number, expected: number, got: number) {
    super(
      MerkleErrorCode.WRONG_PROOF_SIZE,
      `inclusion proof for leaf ${index} of ${size} must have ${expected} hashes, got ${got}`,
      { details: { index, size, expected, got } },
    );
    setName(this, 'MerkleProofSizeError');
  }
}

/** A leaf hash, an audit-path element, a root or a child node is not 32 bytes (SHA-256) long. */
export class MerkleHashLengthError extends VerificationError {
  /**
   * @param role - Which hash is wrong.
   * @param got - Its length in bytes.
   * @param position - For `proof` (or a batch of leaf hashes), its position in the list.
   */
  constructor(role: MerkleHashRole, got: number, position?: number) {
    const where = position === undefined ? role : `${role}[${position}]`;
    super(MerkleErrorCode.BAD_HASH_LENGTH, `${where} must be 32 bytes, got ${got}`, {
      details: position === undefined ? { role, expected: 32, got } : { role, position, expected: 32, got },
    });
    setName(this, 'MerkleHashLengthError');
  }
}

/** The root recomputed from the leaf hash and audit path is not the root the proof was checked against. */
export class MerkleRootMismatchError extends VerificationError {
  /** @param expected - The trusted root. @param computed - The root recomputed from the proof. */
  constructor(expected: Uint8Array, computed: Uint8Array) {
    super(MerkleErrorCode.ROOT_MISMATCH, 'inclusion proof does not lead to the expected root', {
      details: { expected: toHex(expected), computed: toHex(computed) },
    });
    setName(this, 'MerkleRootMismatchError');
  }
}
