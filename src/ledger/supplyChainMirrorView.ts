import type { Hex } from '../core/hex.js';
import { chainLotOf, type ChainPack } from '../supply-chain/verification/productVerification.js';
import type {
  MirroredLot,
  SupplyChainMirrorState,
  SupplyChainView,
} from '../supply-chain/verification/ports.js';
import { LotTree, lotIdOf, packIdOf } from './supplyChainIds.js';

const ZERO = `0x${'00'.repeat(20)}` as Hex;
const MAX_CACHED_LOT_IDS = 10_000;

/**
 * Views of the mirrored registry by natural keys (GTIN, lot, serial → the contract's ids, as `supplyChainLedger`
 * computes them), answering exactly what its reads on chain answer. Keeps what never changes for a registry across
 * views: lot ids, and the Merkle tree of a lot's known serials (rebuilt only when more serials become known).
 */
export class SupplyChainMirrorViews {
  private readonly lotIds = new Map<string, Hex>();
  private readonly trees = new Map<string, { size: number; tree: LotTree | null }>();
  private contract = '';

  /** A view of `state` (the mirror of `contract`) as of block `asOfBlock`, for one verification. */
  view(contract: Hex, state: SupplyChainMirrorState, asOfBlock: number): SupplyChainView {
    if (contract.toLowerCase() !== this.contract) {
      this.contract = contract.toLowerCase();
      this.trees.clear(); // another registry: other roots
    }
    // One verification asks about one lot and pack several times: read and hash each once.
    const lots = new Map<string, MirroredLot | undefined>();
    const lotOf = (gtin: string, lot: string) => {
      const lotId = this.lotId(gtin, lot);
      if (!lots.has(lotId)) lots.set(lotId, state.lot(lotId));
      return { lotId, found: lots.get(lotId) };
    };
    const packIds = new Map<string, Hex>();
    const packIdOfSerial = (gtin: string, serial: string) => {
      const key = `${gtin}|${serial}`;
      let id = packIds.get(key);
      if (id === undefined) packIds.set(key, (id = packIdOf(gtin, serial)));
      return id;
    };
    const trees = this.trees;
    return {
      asOfBlock,
      manufacturerOf: (gtin) => state.product(gtin)?.manufacturer ?? null,
      lot(gtin, lot) {
        const { found } = lotOf(gtin, lot);
        return found ? chainLotOf(found) : null;
      },
      pack(gtin, lot, serial): ChainPack {
        const { lotId, found } = lotOf(gtin, lot);
        const pack = state.pack(lotId, packIdOfSerial(gtin, serial));
        if (pack) {
          return {
            recorded: true,
            owner: pack.owner,
            state: pack.state,
            suspect: pack.suspect,
            illegitimate: pack.illegitimate,
          };
        }
        // What `packStatus` answers for a pack the chain has no record of: owned by the lot's manufacturer.
        return {
          recorded: false,
          owner: found?.manufacturer ?? ZERO,
          state: 'active',
          suspect: false,
          illegitimate: false,
        };
      },
      inLot(gtin, lot, known, serial) {
        const { found } = lotOf(gtin, lot);
        if (!found) return null;
        const root = found.serialsRoot.toLowerCase();
        const key = `${gtin}|${lot}`;
        let cached = trees.get(key);
        // A tree whose root is the lot's holds every serial of the lot: more serials known later add nothing. Else
        // it is rebuilt (hashing every pack id) only when the number of serials known here changed.
        if (!cached || cached.tree?.root.toLowerCase() !== root) {
          const count = known.count();
          if (count === 0) return null;
          if (!cached || cached.size !== count) {
            let tree: LotTree | null;
            try {
              tree = new LotTree([...new Set(known.serials())].map((s) => packIdOf(gtin, s)));
            } catch {
              tree = null; // a serial the registry could not hold: these are not the lot's serials
            }
            cached = { size: count, tree };
            trees.set(key, cached);
          }
        }
        if (!cached.tree || cached.tree.root.toLowerCase() !== root) return null;
        return cached.tree.has(packIdOfSerial(gtin, serial));
      },
    };
  }

  private lotId(gtin: string, lot: string): Hex {
    const key = `${gtin}|${lot}`;
    let id = this.lotIds.get(key);
    if (id === undefined) {
      id = lotIdOf(gtin, lot).toLowerCase() as Hex;
      if (this.lotIds.size >= MAX_CACHED_LOT_IDS) this.lotIds.clear(); // bounded: lot numbers come from requests
      this.lotIds.set(key, id);
    }
    return id;
  }
}
