import { AnchorRejectedError } from '../anchoring/errors.js';
import { revertIn } from './decodeContractError.js';

/**
 * Turns a viem error from `anchor(...)` into an `AnchorRejectedError` when the registry reverted with one of its
 * custom errors; anything else (network, node) is returned unchanged for the caller's retry logic.
 */
export function decodeAnchorError(error: unknown): unknown {
  const reverted = revertIn(error);
  if (!reverted?.data) return error;
  const name = reverted.data.errorName;
  const args = (reverted.data.args ?? []).map((a) => (typeof a === 'bigint' ? Number(a) : a));
  switch (name) {
    case 'AnchorRegistryUnauthorizedOrganization':
      return new AnchorRejectedError(
        'unauthorized',
        `The organisation ${String(args[0])} is not an active member of the consortium, so it may not anchor.`,
        { account: args[0] },
        error,
      );
    case 'AnchorRegistryRootAlreadyAnchored':
      return new AnchorRejectedError(
        'duplicate-root',
        `Root ${String(args[0])} is already anchored (by ${String(args[1])}, batch ${String(args[2])}).`,
        { root: args[0], organization: args[1], sequence: args[2] },
        error,
      );
    case 'AnchorRegistryUnexpectedSequence':
      return new AnchorRejectedError(
        'unexpected-sequence',
        `The registry expects batch ${String(args[1])} next, not ${String(args[2])}.`,
        { expected: args[1], given: args[2] },
        error,
      );
    case 'AnchorRegistryZeroRoot':
    case 'AnchorRegistryEmptyBatch':
      return new AnchorRejectedError('invalid', `The registry refused the batch: ${name}.`, {}, error);
    default:
      return new AnchorRejectedError('unknown', `The registry reverted with ${name}.`, {}, error);
  }
}
