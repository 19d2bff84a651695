import { Value } from '@sinclair/typebox/value';
import { canonicalJsonBytes } from '../core/canonicalJson.js';
import { VerificationError } from '../core/errors.js';
import { toHex, type Hex } from '../core/hex.js';
import { sha256 } from '../core/sha256.js';
import { verifyInclusion } from '../merkle/verify.js';
import type { OnChainAnchor } from './ports.js';
import { RecordProofSchema, type RecordProof } from './recordProof.js';
import { recordLeafHash } from './recordLeaf.js';

/** Read access to any AnchorRegistry on a chain; all a verifier needs. */
export interface AnchorReader {
  chainId(): Promise<number>;
  /** The anchor of `root` in the registry at `contract`, or null (also when `contract` has no code). */
  getAnchor(contract: Hex, root: Hex): Promise<OnChainAnchor | null>;
  /** The roots a mined transaction anchored in the registry at `contract` (its BatchAnchored events), or null. */
  getAnchorTransaction(contract: Hex, transactionHash: Hex): Promise<AnchorTransaction | null>;
}

/** A mined anchoring transaction as the chain reports it. */
export interface AnchorTransaction {
  blockNumber: number;
  blockHash: Hex;
  roots: Hex[];
}

/** Checks that `input` is a CareLedger record proof; the error names the first field that is wrong. */
export function parseRecordProof(input: unknown): RecordProof {
  if (Value.Check(RecordProofSchema, input)) return input;
  const first = Value.Errors(RecordProofSchema, input).First();
  const where = first?.path || '/';
  throw new VerificationError(
    'PROOF.MALFORMED',
    `This is not a valid CareLedger record proof: ${where}: ${first?.message ?? 'invalid'}.`,
    {
      details: { path: where },
    },
  );
}

/**
 * Checks the record's bytes against the proof, offline: content hash, leaf hash, then the Merkle path up to the
 * proof's root. Throws a `VerificationError` saying which step disagrees.
 */
export function checkRecordAgainstProof(content: Uint8Array, proof: RecordProof): void {
  let contentHash = sha256(content);
  const expected = hexBytes(proof.record.contentHash);
  if (!bytesEqual(contentHash, expected) && proof.record.kind.startsWith('fhir.')) {
    // FHIR versions are anchored as canonical JSON (RFC 8785): accept a file that was re-formatted after download.
    const canonical = canonicalFormOf(content);
    if (canonical && bytesEqual(sha256(canonical), expected)) contentHash = sha256(canonical);
  }
  if (!bytesEqual(contentHash, expected)) {
    throw new VerificationError(
      'PROOF.CONTENT_MISMATCH',
      `The record's SHA-256 is ${toHex(contentHash)}, but the proof is for content ${proof.record.contentHash}: the record was changed or is not the one this proof is for.`,
    );
  }
  const leafHash = recordLeafHash({
    organization: hexBytes(proof.anchor.organization),
    id: proof.record.id,
    kind: proof.record.kind,
    contentHash,
  });
  if (!bytesEqual(leafHash, hexBytes(proof.leaf.hash))) {
    throw new VerificationError(
      'PROOF.LEAF_MISMATCH',
      `The leaf hash computed from the record (${toHex(leafHash)}) differs from the proof's (${proof.leaf.hash}).`,
    );
  }
  verifyInclusion(
    proof.leaf.index,
    proof.tree.size,
    leafHash,
    proof.path.map(hexBytes),
    hexBytes(proof.tree.root),
  );
}

/**
 * The RFC 8785 form of a JSON document that differs from it only in insignificant whitespace (indentation, line
 * breaks), else null. Anything more is refused: a parser keeps the last of two duplicate keys, so accepting any
 * JSON that canonicalises to the anchored bytes would let a forged first value through.
 */
function canonicalFormOf(content: Uint8Array): Uint8Array | null {
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(content);
    const canonical = canonicalJsonBytes(JSON.parse(text));
    return Buffer.from(withoutInsignificantWhitespace(text)).equals(canonical) ? canonical : null;
  } catch {
    return null;
  }
}

/** JSON text with whitespace outside strings removed. */
function withoutInsignificantWhitespace(text: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (c !== ' ' && c !== '\n' && c !== '\r' && c !== '\t') {
      out += c;
    }
  }
  return out;
}

/** Decodes hex the proof schema has already checked (0x prefix, even length, hex digits only). */
function hexBytes(hex: string): Uint8Array {
  return Buffer.from(hex.slice(2), 'hex');
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}

export interface ChainCheckOptions {
  /** The AnchorRegistry the verifier trusts. Without it, the proof's own contract address is taken on trust. */
  expectedContract?: Hex | undefined;
}

/** Checks the proof's root and anchoring details against the chain. */
export async function checkProofOnChain(
  proof: RecordProof,
  reader: AnchorReader,
  options: ChainCheckOptions = {},
): Promise<OnChainAnchor> {
  const chainId = await reader.chainId();
  if (chainId !== proof.anchor.chainId) {
    throw new VerificationError(
      'PROOF.WRONG_CHAIN',
      `The proof is for chain ${proof.anchor.chainId}, but the RPC endpoint serves chain ${chainId}.`,
    );
  }
  if (
    options.expectedContract &&
    options.expectedContract.toLowerCase() !== proof.anchor.contract.toLowerCase()
  ) {
    throw new VerificationError(
      'PROOF.WRONG_CONTRACT',
      `The proof names registry ${proof.anchor.contract}, not the trusted registry ${options.expectedContract}.`,
    );
  }
  const anchor = await reader.getAnchor(proof.anchor.contract as Hex, proof.tree.root as Hex);
  if (!anchor) {
    throw new VerificationError(
      'PROOF.NOT_ANCHORED',
      `Root ${proof.tree.root} is not anchored in registry ${proof.anchor.contract} on chain ${chainId}.`,
    );
  }
  const mismatches: string[] = [];
  if (anchor.organization.toLowerCase() !== proof.anchor.organization.toLowerCase()) {
    mismatches.push(`organization is ${anchor.organization}, proof says ${proof.anchor.organization}`);
  }
  if (anchor.sequence !== proof.batch.sequence)
    mismatches.push(`batch sequence is ${anchor.sequence}, proof says ${proof.batch.sequence}`);
  if (anchor.leafCount !== proof.tree.size)
    mismatches.push(`leaf count is ${anchor.leafCount}, proof says ${proof.tree.size}`);
  if (anchor.blockNumber !== proof.anchor.blockNumber)
    mismatches.push(`block is ${anchor.blockNumber}, proof says ${proof.anchor.blockNumber}`);
  if (anchor.anchoredAt * 1000 !== Date.parse(proof.anchor.anchoredAt)) {
    mismatches.push(
      `anchoring time is ${new Date(anchor.anchoredAt * 1000).toISOString()}, proof says ${proof.anchor.anchoredAt}`,
    );
  }
  if (mismatches.length === 0) {
    const tx = await reader.getAnchorTransaction(
      proof.anchor.contract as Hex,
      proof.anchor.transactionHash as Hex,
    );
    const root = proof.tree.root.toLowerCase();
    if (!tx || !tx.roots.some((r) => r.toLowerCase() === root)) {
      mismatches.push(`transaction ${proof.anchor.transactionHash} did not anchor this root`);
    } else if (tx.blockHash.toLowerCase() !== proof.anchor.blockHash.toLowerCase()) {
      mismatches.push(`block hash is ${tx.blockHash}, proof says ${proof.anchor.blockHash}`);
    }
  }
  if (mismatches.length > 0) {
    throw new VerificationError(
      'PROOF.ANCHOR_MISMATCH',
      `The chain's record of this root disagrees with the proof: ${mismatches.join('; ')}.`,
      {
        details: { mismatches },
      },
    );
  }
  return anchor;
}
