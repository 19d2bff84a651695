import { readFileSync } from 'node:fs';
import {
  checkProofOnChain,
  checkRecordAgainstProof,
  parseRecordProof,
} from '../anchoring/verifyRecordProof.js';
import { CareLedgerError, InvalidInputError } from '../core/errors.js';
import { isHex, type Hex } from '../core/hex.js';
import { createAnchorReader } from '../ledger/viemAnchorReader.js';

export interface VerifyOptions {
  rpc: string;
  contract?: string;
  json?: boolean;
}

/**
 * `careledger verify RECORD PROOF --rpc URL`: checks a record file against its proof and the chain, with no
 * help from any gateway. Exit 0 when everything agrees, 1 with the reason when anything does not, 2 for
 * unusable input (unreadable files, a proof that is not JSON, an unreachable chain).
 */
export async function verifyCommand(
  recordFile: string,
  proofFile: string,
  options: VerifyOptions,
): Promise<number> {
  const say = (ok: boolean, code: string, message: string, extra: Record<string, unknown> = {}) => {
    if (options.json) console.log(JSON.stringify({ verified: ok, code, message, ...extra }));
    else (ok ? console.log : console.error)(`${ok ? 'VERIFIED' : 'NOT VERIFIED'}: ${message}`);
  };
  let content: Uint8Array;
  let proofJson: unknown;
  try {
    content = readFileSync(recordFile);
    const text = readFileSync(proofFile, 'utf8');
    try {
      proofJson = JSON.parse(text);
    } catch {
      throw new InvalidInputError(
        'PROOF.NOT_JSON',
        `${proofFile} is not JSON; a proof file is what GET /records/{id}/proof returns.`,
      );
    }
    if (options.contract !== undefined && !isHex(options.contract, 20)) {
      throw new InvalidInputError(
        'CLI.BAD_CONTRACT',
        `--contract must be a 0x-prefixed 20-byte address, got "${options.contract}".`,
      );
    }
  } catch (error) {
    const code = error instanceof CareLedgerError ? error.code : 'CLI.READ_FAILED';
    say(false, code, error instanceof Error ? error.message : String(error));
    return 2;
  }

  try {
    const proof = parseRecordProof(proofJson);
    checkRecordAgainstProof(content, proof);
    let anchor;
    try {
      anchor = await checkProofOnChain(proof, createAnchorReader(options.rpc), {
        expectedContract: options.contract as Hex | undefined,
      });
    } catch (error) {
      if (error instanceof CareLedgerError) throw error;
      say(
        false,
        'CHAIN.UNREACHABLE',
        `Could not read the chain at ${options.rpc}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
      );
      return 2;
    }
    const trust = options.contract
      ? ''
      : ' (registry address taken from the proof; pass --contract to pin the one you trust)';
    say(
      true,
      'OK',
      `record ${proof.record.id} (${proof.record.kind}) is leaf ${proof.leaf.index} of batch ${proof.batch.sequence}, root ${proof.tree.root}, anchored by ${anchor.organization} in block ${anchor.blockNumber} on chain ${proof.anchor.chainId} at ${proof.anchor.anchoredAt}${trust}`,
      { recordId: proof.record.id, root: proof.tree.root, blockNumber: anchor.blockNumber },
    );
    return 0;
  } catch (error) {
    if (error instanceof CareLedgerError) {
      say(false, error.code, error.message);
      return 1;
    }
    throw error;
  }
}
