import type { EpcisStore } from '../capture/ports.js';
import type { ChainCustodyEntry, PackStore } from '../custody/ports.js';

/** An event's anchoring proof, or `'pending'` while its batch is not confirmed on chain yet. */
export type ProofLookup = (recordId: number) => unknown;

/** What tracing reads: this gateway's EPCIS events, their proofs, the packs known here and the chain's history. */
export interface TraceDeps {
  events: Pick<EpcisStore, 'query'>;
  /** The anchoring proof of a stored event's record, or `'pending'` (its batch is not anchored yet). */
  proofOf: ProofLookup;
  packs: Pick<PackStore, 'pack'>;
  /** A pack's on-chain history (absent: no `custody`). */
  packHistory?: ((gtin: string, lot: string, serial: string) => Promise<ChainCustodyEntry[]>) | undefined;
}
