import { describe, expect, it } from 'vitest';
import type { Hex } from '../core/hex.js';
import type {
  MirroredLot,
  MirroredPack,
  MirroredProduct,
  SupplyChainMirrorState,
} from '../supply-chain/verification/ports.js';
import { LotTree, lotIdOf, packIdOf } from './supplyChainIds.js';
import { SupplyChainMirrorViews } from './supplyChainMirrorView.js';

const REGISTRY = '0x5FbDB2315678afecb367f032d93F642f64180aa3';
const MAKER = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8' as Hex;
const PHARMACY = '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC' as Hex;
const GTIN = '10614141073464';
const LOT = 'L1';
const SERIALS = ['A1', 'A2', 'A3', 'A4'];
const ZERO = `0x${'00'.repeat(20)}`;

/** The mirrored state in memory, counting lot reads. */
function memoryState() {
  const products = new Map<string, MirroredProduct>();
  const lots = new Map<string, MirroredLot>();
  const packs = new Map<string, MirroredPack>();
  const reads = { lots: 0 };
  const state: SupplyChainMirrorState = {
    product: (gtin) => products.get(gtin),
    lot: (lotId) => {
      reads.lots++;
      return lots.get(lotId);
    },
    pack: (lotId, packId) => packs.get(`${lotId}|${packId}`),
    setProduct: (gtin, p) => void products.set(gtin, p),
    setLot: (lotId, l) => void lots.set(lotId, l),
    setPack: (lotId, packId, p) => void packs.set(`${lotId}|${packId}`, p),
  };
  state.setProduct(GTIN, {
    manufacturer: MAKER,
    registeredAt: 1,
    lotCount: 1,
    metadataHash: `0x${'11'.repeat(32)}`,
  });
  state.setLot(lotIdOf(GTIN, LOT), {
    gtin: GTIN,
    manufacturer: MAKER,
    serialsRoot: new LotTree(SERIALS.map((s) => packIdOf(GTIN, s))).root,
    packCount: SERIALS.length,
    expiry: 1_900_000_000,
    commissionedAt: 1,
    recalled: false,
    recalledAt: 0,
    suspect: false,
    illegitimate: false,
    quarantinedBy: ZERO as Hex,
  });
  return { state, reads };
}

describe('SupplyChainMirrorViews', () => {
  it('answers lots and packs as the contract does, reading a lot once per view', () => {
    const { state, reads } = memoryState();
    state.setPack(lotIdOf(GTIN, LOT), packIdOf(GTIN, 'A2'), {
      owner: PHARMACY,
      state: 'dispensed',
      suspect: false,
      illegitimate: false,
      lastTransferAt: 7,
    });
    const view = new SupplyChainMirrorViews().view(REGISTRY, state, 42);
    expect(view.asOfBlock).toBe(42);
    expect(view.manufacturerOf(GTIN)).toBe(MAKER);
    expect(view.manufacturerOf('00614141999996')).toBeNull();
    expect(view.lot(GTIN, LOT)).toMatchObject({ manufacturer: MAKER, recalled: false });
    expect(view.lot(GTIN, 'NOPE')).toBeNull();
    expect(view.pack(GTIN, LOT, 'A2')).toEqual({
      recorded: true,
      owner: PHARMACY,
      state: 'dispensed',
      suspect: false,
      illegitimate: false,
    });
    // Unrecorded: its lot's manufacturer owns it; of an unknown lot, nobody.
    expect(view.pack(GTIN, LOT, 'A1')).toMatchObject({ recorded: false, owner: MAKER, state: 'active' });
    expect(view.pack(GTIN, 'NOPE', 'A1')).toMatchObject({ recorded: false, owner: ZERO });
    expect(reads.lots).toBe(2); // L1 and NOPE, once each
  });

  it('shows membership only with serials whose root is the lot’s, and stops counting them once they match', () => {
    const { state } = memoryState();
    const views = new SupplyChainMirrorViews();
    let known = SERIALS.slice(0, 2);
    let counted = 0;
    const serials = {
      count: () => (counted++, known.length),
      serials: () => known,
    };
    // Partial knowledge: nothing can be said.
    expect(views.view(REGISTRY, state, 1).inLot(GTIN, LOT, serials, 'A1')).toBeNull();
    expect(views.view(REGISTRY, state, 1).inLot(GTIN, 'NOPE', serials, 'A1')).toBeNull();
    known = [...SERIALS];
    const view = views.view(REGISTRY, state, 2);
    expect(view.inLot(GTIN, LOT, serials, 'A4')).toBe(true);
    expect(view.inLot(GTIN, LOT, serials, 'Z9')).toBe(false);
    const before = counted;
    known = [...SERIALS, 'B1']; // a bogus serial recorded later changes nothing
    expect(views.view(REGISTRY, state, 3).inLot(GTIN, LOT, serials, 'B1')).toBe(false);
    expect(counted).toBe(before);
    // No serials known here at all.
    expect(
      new SupplyChainMirrorViews()
        .view(REGISTRY, state, 3)
        .inLot(GTIN, LOT, { count: () => 0, serials: () => [] }, 'A1'),
    ).toBeNull();
  });
});
