import { toHex, type Hex } from '../core/hex.js';
import { sha256 } from '../core/sha256.js';
import { computeRoot } from '../merkle/tree.js';
import type { AnchorStore } from './ports.js';
import { recordLeafHash } from './recordLeaf.js';
import type { AnchorReader } from './verifyRecordProof.js';

export type AuditFindingKind =
  | 'content-hash-mismatch'
  | 'content-unreadable'
  | 'content-missing'
  | 'leaf-hash-mismatch'
  | 'records-missing'
  | 'root-mismatch'
  | 'not-on-chain';

export interface AuditFinding {
  kind: AuditFindingKind;
  batchSequence: number;
  recordId?: number;
  message: string;
}

export interface AuditReport {
  batchesChecked: number;
  recordsChecked: number;
  /** Records whose bytes were erased on purpose (crypto-shredding): their anchored hashes stand, unchecked. */
  erasedRecords: number;
  /** Whether confirmed roots were compared with the chain; `chainError` says why not. */
  chainChecked: boolean;
  chainError?: string;
  findings: AuditFinding[];
}

/** Where the bytes of a record held by hash only come from (e.g. the encrypted FHIR store). */
export type ContentResolution = { label: string } & (
  { bytes: Uint8Array } | { erased: true } | { error: string }
);

export interface AuditOptions {
  organization: Uint8Array;
  /** Resolves records whose bytes are kept elsewhere; undefined when nothing holds them. */
  resolveContent?: ((recordId: number) => ContentResolution | undefined) | undefined;
  /** When given, the recomputed root of every confirmed batch must be anchored in its registry. */
  reader?: AnchorReader | undefined;
}

/**
 * Re-hashes every stored record of every sealed batch from its bytes, rebuilds each batch's Merkle root and, for
 * confirmed batches, checks that root on chain. Trusts nothing stored but the bytes: a row edited in the
 * database shows up as a content or leaf mismatch; an edit that also rewrote the stored hashes still changes the
 * recomputed root, which the chain does not hold.
 */
export async function auditRecords(store: AnchorStore, options: AuditOptions): Promise<AuditReport> {
  const report: AuditReport = {
    batchesChecked: 0,
    recordsChecked: 0,
    erasedRecords: 0,
    chainChecked: false,
    findings: [],
  };
  let chainUsable = options.reader !== undefined;
  if (options.reader) {
    try {
      await options.reader.chainId();
    } catch (error) {
      chainUsable = false;
      report.chainError = `chain not reachable: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`;
    }
  }

  for (const sequence of store.sealedBatchSequences()) {
    const batch = store.getBatch(sequence);
    if (!batch || !batch.root) continue;
    report.batchesChecked++;
    const leaves: Uint8Array[] = [];
    for (const record of store.iterateBatchRecords(sequence)) {
      report.recordsChecked++;
      let contentHash = record.contentHash;
      let bytes: Uint8Array | null = record.content;
      let name = `record ${record.id}`;
      if (!bytes && options.resolveContent) {
        const resolved = options.resolveContent(record.id);
        if (!resolved) {
          report.findings.push({
            kind: 'content-missing',
            batchSequence: sequence,
            recordId: record.id,
            message: `record ${record.id} (${record.kind}): nothing holds the content it anchors`,
          });
        } else {
          name = `record ${record.id} (${resolved.label})`;
          if ('bytes' in resolved) bytes = resolved.bytes;
          else if ('erased' in resolved) report.erasedRecords++;
          else {
            report.findings.push({
              kind: 'content-unreadable',
              batchSequence: sequence,
              recordId: record.id,
              message: `${name}: ${resolved.error}`,
            });
          }
        }
      }
      if (bytes) {
        contentHash = sha256(bytes);
        if (toHex(contentHash) !== toHex(record.contentHash)) {
          report.findings.push({
            kind: 'content-hash-mismatch',
            batchSequence: sequence,
            recordId: record.id,
            message: `${name}: its bytes hash to ${toHex(contentHash)}, but ${toHex(record.contentHash)} was stored and anchored`,
          });
        }
      }
      const leaf = recordLeafHash({
        organization: options.organization,
        id: record.id,
        kind: record.kind,
        contentHash,
      });
      if (toHex(leaf) !== toHex(record.leafHash)) {
        report.findings.push({
          kind: 'leaf-hash-mismatch',
          batchSequence: sequence,
          recordId: record.id,
          message: `record ${record.id}: its leaf hash is ${toHex(leaf)} from its stored fields, but ${toHex(record.leafHash)} was anchored`,
        });
      }
      leaves.push(leaf);
    }
    if (leaves.length !== batch.leafCount) {
      report.findings.push({
        kind: 'records-missing',
        batchSequence: sequence,
        message: `batch ${sequence} was sealed with ${batch.leafCount} records, but ${leaves.length} are stored`,
      });
    }
    const root = leaves.length > 0 ? computeRoot(leaves) : null;
    if (!root || toHex(root) !== toHex(batch.root)) {
      const own = report.findings.some((f) => f.batchSequence === sequence);
      if (!own) {
        report.findings.push({
          kind: 'root-mismatch',
          batchSequence: sequence,
          message: `batch ${sequence}: the records rebuild root ${root ? toHex(root) : '(none)'}, but ${toHex(batch.root)} was sealed`,
        });
      }
    }
    if (chainUsable && options.reader && batch.state === 'confirmed' && batch.anchor && root) {
      const onChain = await options.reader.getAnchor(batch.anchor.contract, toHex(root) as Hex);
      if (!onChain || onChain.sequence !== sequence) {
        report.findings.push({
          kind: 'not-on-chain',
          batchSequence: sequence,
          message: `batch ${sequence}: root ${toHex(root)} rebuilt from the stored records is not anchored on chain ${batch.anchor.chainId}; the stored records of this batch were altered`,
        });
      }
      report.chainChecked = true;
    }
  }
  return report;
}
