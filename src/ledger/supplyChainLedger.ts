import { keccak256, stringToHex } from 'viem';
import { CareLedgerError } from '../core/errors.js';
import type { Hex } from '../core/hex.js';
import type { SupplyLedger } from '../supply-chain/custody/ports.js';
import type { ChainLot, ChainPack } from '../supply-chain/verification/productVerification.js';
import { LotTree, lotIdOf, packIdOf } from './supplyChainIds.js';
import type { ViemSupplyChainRegistry } from './viemSupplyChainRegistry.js';

const isZero = (address: Hex) => /^0x0{40}$/i.test(address);
const ZERO = `0x${'00'.repeat(20)}` as Hex;

/** Unknown products and lots are answers ("not registered"), not failures. */
function orNull<T>(read: Promise<T>, code: string): Promise<T | null> {
  return read.catch((error: unknown) => {
    if (error instanceof CareLedgerError && error.code === code) return null;
    throw error;
  });
}

/**
 * The supply-chain services' `SupplyLedger` on the SupplyChainRegistry: natural keys (GTIN, lot, serial) become the
 * contract's hashed ids here, and a lot's serials its Merkle root, so nothing above this knows the encodings.
 */
export function supplyChainLedger(registry: ViemSupplyChainRegistry): SupplyLedger {
  return {
    async manufacturerOf(gtin) {
      const product = await orNull(registry.productOf(gtin), 'SUPPLY.UNKNOWN_PRODUCT');
      return product && !isZero(product.manufacturer) ? product.manufacturer : null;
    },
    async registerProduct(gtin) {
      // The contract wants the hash of the product's master data kept off chain; until master data is managed here,
      // that document is the GTIN's registration statement itself.
      await registry.registerProduct(gtin, keccak256(stringToHex(`careledger:product:${gtin}`)));
    },
    async commissionLot({ gtin, lot, serials, expiry }) {
      const tree = new LotTree(serials.map((serial) => packIdOf(gtin, serial)));
      const mined = await registry.commissionLot({
        gtin,
        lot,
        serialsRoot: tree.root,
        packCount: tree.size,
        expiry,
      });
      return { transactionHash: mined.transactionHash, blockNumber: mined.blockNumber };
    },
    async custody({ action, gtin, lot, serials, to, reference, lotSerials }) {
      const lotId = lotIdOf(gtin, lot);
      const tree =
        lotSerials && lotSerials.length > 0 ? new LotTree(lotSerials.map((s) => packIdOf(gtin, s))) : null;
      const packs = await Promise.all(
        serials.map(async (serial) => {
          const packId = packIdOf(gtin, serial);
          // A pack's first write needs its Merkle proof; afterwards its stored state suffices.
          const status = await registry.packStatus(lotId, packId);
          return !status.recorded && tree?.has(packId) ? { packId, proof: tree.proof(packId) } : { packId };
        }),
      );
      const mined =
        action === 'transfer'
          ? await registry.transferPacks({ lotId, packs, to: to as Hex, transactionRef: reference })
          : action === 'dispense'
            ? await registry.dispense(lotId, packs)
            : action === 'decommission'
              ? await registry.decommission(lotId, packs, reference)
              : await registry.destroy(lotId, packs, reference);
      return { transactionHash: mined.transactionHash, blockNumber: mined.blockNumber };
    },
    async recallLot(gtin, lot, reasonHash) {
      const mined = await registry.recallLot(lotIdOf(gtin, lot), reasonHash);
      return { transactionHash: mined.transactionHash, blockNumber: mined.blockNumber };
    },
    async lot(gtin, lot): Promise<ChainLot | null> {
      const found = await orNull(registry.lotOf(lotIdOf(gtin, lot)), 'SUPPLY.UNKNOWN_LOT');
      if (!found || isZero(found.manufacturer)) return null;
      return {
        manufacturer: found.manufacturer,
        expiry: found.expiry,
        recalled: found.recalled,
        recalledAt: found.recalledAt,
        suspect: found.suspect,
        illegitimate: found.illegitimate,
      };
    },
    async pack(gtin, lot, serial): Promise<ChainPack> {
      const status = await orNull(
        registry.packStatus(lotIdOf(gtin, lot), packIdOf(gtin, serial)),
        'SUPPLY.UNKNOWN_LOT',
      );
      // No such lot: nothing recorded about the pack either (the lot's own answer says why).
      if (!status)
        return { recorded: false, owner: ZERO, state: 'active', suspect: false, illegitimate: false };
      return {
        recorded: status.recorded,
        owner: status.owner,
        state: status.state,
        suspect: status.suspect,
        illegitimate: status.illegitimate,
      };
    },
  };
}
