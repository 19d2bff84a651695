import { describe, expect, it } from 'vitest';
import {
  expiryEndSeconds,
  expiryYymmdd,
  verifyProduct,
  type ChainLot,
  type ChainPack,
  type VerificationChain,
} from './productVerification.js';

const MAKER = '0x1111111111111111111111111111111111111111';
const WHOLESALER = '0x2222222222222222222222222222222222222222';
const PHARMACY = '0x3333333333333333333333333333333333333333';
const GTIN = '10614141073464';
const NOW = Date.UTC(2026, 10, 24) / 1000;

/** The chain's answers as plain data: what the decision reads, nothing else. */
function chainOf(state: {
  manufacturer?: string | null;
  lots?: Record<string, Partial<ChainLot>>;
  packs?: Record<string, Partial<ChainPack>>;
  commissioned?: boolean | null;
}): VerificationChain {
  const lots = state.lots ?? { L1: {} };
  return {
    manufacturerOf: async () =>
      (state.manufacturer === undefined ? MAKER : state.manufacturer) as `0x${string}` | null,
    lot: async (_gtin, lot) =>
      lot in lots
        ? {
            manufacturer: MAKER,
            expiry: expiryEndSeconds('271231'),
            recalled: false,
            recalledAt: 0,
            suspect: false,
            illegitimate: false,
            ...lots[lot],
          }
        : null,
    pack: async (_gtin, lot, serial) => ({
      recorded: false,
      owner: '0x0000000000000000000000000000000000000000',
      state: 'active',
      suspect: false,
      illegitimate: false,
      ...state.packs?.[`${lot}/${serial}`],
    }),
    commissioned: async () => state.commissioned ?? null,
    lotsRecordingSerial: async (_gtin, serial) =>
      Object.keys(state.packs ?? {})
        .filter((k) => k.endsWith(`/${serial}`) && state.packs?.[k]?.recorded)
        .map((k) => k.split('/')[0] as string),
  };
}

const ask = (chain: VerificationChain, extra: Partial<Parameters<typeof verifyProduct>[0]> = {}) =>
  verifyProduct({ gtin: GTIN, serial: 'S1', lot: 'L1', ...extra }, chain, NOW);

describe('verifyProduct', () => {
  it('verifies a pack that moved along the chain, naming its owner', async () => {
    const result = await ask(chainOf({ packs: { 'L1/S1': { recorded: true, owner: PHARMACY } } }), {
      expiry: '271231',
    });
    expect(result).toMatchObject({
      verified: true,
      owner: PHARMACY,
      manufacturer: MAKER,
      expiry: '271231',
      recorded: true,
    });
  });

  it('verifies a pack still at its manufacturer only when the manufacturer vouches for the serial', async () => {
    expect(await ask(chainOf({ commissioned: true }))).toMatchObject({
      verified: true,
      owner: MAKER,
      recorded: false,
    });
    expect(await ask(chainOf({ commissioned: null }))).toMatchObject({
      verified: false,
      reason: 'UNKNOWN_SERIAL',
    });
    expect(await ask(chainOf({ commissioned: false }))).toMatchObject({
      verified: false,
      reason: 'UNKNOWN_SERIAL',
    });
  });

  it.each([
    ['UNKNOWN_PRODUCT', chainOf({ manufacturer: null }), {}],
    ['UNKNOWN_LOT', chainOf({ lots: {} }), {}],
    [
      'LOT_MISMATCH',
      chainOf({ lots: { L2: {} }, packs: { 'L2/S1': { recorded: true, owner: PHARMACY } } }),
      {},
    ],
    [
      'LOT_MISMATCH',
      chainOf({ lots: { L1: {}, L2: {} }, packs: { 'L2/S1': { recorded: true, owner: PHARMACY } } }),
      {},
    ],
    [
      'EXPIRY_MISMATCH',
      chainOf({ packs: { 'L1/S1': { recorded: true, owner: PHARMACY } } }),
      { expiry: '271130' },
    ],
    [
      'EXPIRED',
      chainOf({
        lots: { L1: { expiry: expiryEndSeconds('260101') } },
        packs: { 'L1/S1': { recorded: true } },
      }),
      {},
    ],
    [
      'RECALLED',
      chainOf({
        lots: { L1: { recalled: true, recalledAt: NOW - 10 } },
        packs: { 'L1/S1': { recorded: true } },
      }),
      {},
    ],
    ['ALREADY_DISPENSED', chainOf({ packs: { 'L1/S1': { recorded: true, state: 'dispensed' } } }), {}],
    ['DECOMMISSIONED', chainOf({ packs: { 'L1/S1': { recorded: true, state: 'decommissioned' } } }), {}],
    ['DESTROYED', chainOf({ packs: { 'L1/S1': { recorded: true, state: 'destroyed' } } }), {}],
    ['SUSPECT', chainOf({ packs: { 'L1/S1': { recorded: true, suspect: true } } }), {}],
    ['SUSPECT', chainOf({ lots: { L1: { suspect: true } }, packs: { 'L1/S1': { recorded: true } } }), {}],
    [
      'ILLEGITIMATE',
      chainOf({
        lots: { L1: { illegitimate: true, recalled: true } },
        packs: { 'L1/S1': { recorded: true } },
      }),
      {},
    ],
    [
      'WRONG_OWNER',
      chainOf({ packs: { 'L1/S1': { recorded: true, owner: WHOLESALER } } }),
      { seller: PHARMACY },
    ],
  ] as const)('answers %s with a message saying what to do', async (reason, chain, extra) => {
    const result = await ask(chain, extra);
    expect(result).toMatchObject({ verified: false, reason });
    if (!result.verified) expect(result.message.length).toBeGreaterThan(30);
  });

  it('reads expiries as GS1 prints them: DD 00 is the end of the month', () => {
    expect(expiryYymmdd(expiryEndSeconds('270600'))).toBe('270630');
    expect(expiryYymmdd(expiryEndSeconds('280229'))).toBe('280229');
    expect(expiryEndSeconds('271231')).toBe(Date.UTC(2028, 0, 1) / 1000);
  });
});
