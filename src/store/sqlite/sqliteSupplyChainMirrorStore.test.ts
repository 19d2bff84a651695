import { describe, expect, it } from 'vitest';
import type { MirroredLot } from '../../supply-chain/verification/ports.js';
import { openDatabase } from './openDatabase.js';
import { SqliteSupplyChainMirrorStore } from './sqliteSupplyChainMirrorStore.js';

const REGISTRY = '0x5FbDB2315678afecb367f032d93F642f64180aa3';
const OTHER = '0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512';
const MAKER = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
const LOT = `0x${'ab'.repeat(32)}` as const;
const PACK = `0x${'cd'.repeat(32)}` as const;

const lot: MirroredLot = {
  gtin: '10614141073464',
  manufacturer: MAKER,
  serialsRoot: `0x${'01'.repeat(32)}`,
  packCount: 3,
  expiry: 1_900_000_000,
  commissionedAt: 1_700_000_000,
  recalled: false,
  recalledAt: 0,
  suspect: false,
  illegitimate: false,
  quarantinedBy: `0x${'00'.repeat(20)}`,
};

describe('SqliteSupplyChainMirrorStore', () => {
  it('keeps state and cursor, with checksummed addresses, per registry', () => {
    const store = new SqliteSupplyChainMirrorStore(openDatabase(':memory:'));
    expect(store.cursor(REGISTRY)).toBeUndefined();
    store.restart(REGISTRY, { block: 9, blockHash: null });
    store.apply(REGISTRY, { block: 12, blockHash: `0x${'12'.repeat(32)}` }, (state) => {
      state.setLot(LOT, lot);
      state.setPack(LOT, PACK, {
        owner: MAKER.toLowerCase() as `0x${string}`,
        state: 'dispensed',
        suspect: true,
        illegitimate: false,
        lastTransferAt: 5,
      });
    });
    expect(store.cursor(REGISTRY.toLowerCase() as `0x${string}`)).toEqual({
      block: 12,
      blockHash: `0x${'12'.repeat(32)}`,
    });
    const state = store.state(REGISTRY);
    expect(state.lot(LOT)).toEqual(lot);
    expect(state.pack(LOT, PACK)).toEqual({
      owner: MAKER,
      state: 'dispensed',
      suspect: true,
      illegitimate: false,
      lastTransferAt: 5,
    });
    expect(state.pack(LOT, LOT)).toBeUndefined();
  });

  it('applies a range all or nothing: a failure leaves neither state nor cursor changed', () => {
    const store = new SqliteSupplyChainMirrorStore(openDatabase(':memory:'));
    store.restart(REGISTRY, { block: -1, blockHash: null });
    expect(() =>
      store.apply(REGISTRY, { block: 40, blockHash: `0x${'40'.repeat(32)}` }, (state) => {
        state.setLot(LOT, lot);
        throw new Error('crash in the middle of a range');
      }),
    ).toThrow(/crash/);
    expect(store.cursor(REGISTRY)).toEqual({ block: -1, blockHash: null });
    expect(store.state(REGISTRY).lot(LOT)).toBeUndefined();
  });

  it('forgets everything mirrored when a registry starts afresh', () => {
    const store = new SqliteSupplyChainMirrorStore(openDatabase(':memory:'));
    store.restart(REGISTRY, { block: 0, blockHash: null });
    store.apply(REGISTRY, { block: 3, blockHash: `0x${'03'.repeat(32)}` }, (state) => state.setLot(LOT, lot));
    store.restart(OTHER, { block: 7, blockHash: null });
    expect(store.cursor(REGISTRY)).toBeUndefined();
    expect(store.cursor(OTHER)).toEqual({ block: 7, blockHash: null });
    expect(store.state(OTHER).lot(LOT)).toBeUndefined();
    expect(() => store.state(REGISTRY)).toThrow(/never started/);
  });
});
