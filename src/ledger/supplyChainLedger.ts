import { keccak256, stringToHex } from 'viem';
import { CareLedgerError } from '../core/errors.js';
import type { Hex } from '../core/hex.js';
import type { SupplyLedger } from '../supply-chain/custody/ports.js';
import type { SupplyChainNoticeEvent, SuspectLedger } from '../supply-chain/custody/ports.js';
import type { PublicClient } from 'viem';
import { supplyChainRegistryAbi } from './generated/contracts.js';
import {
  chainLotOf,
  type ChainLot,
  type ChainPack,
} from '../supply-chain/verification/productVerification.js';
import type { T3Ledger } from '../supply-chain/dscsa/ports.js';
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

/** The first block worth reading the registry's logs from: its deployment block, or 0 when unknown. */
export type FirstBlock = () => number;

const fromGenesis: FirstBlock = () => 0;

/**
 * The supply-chain services' `SupplyLedger` on the SupplyChainRegistry: natural keys (GTIN, lot, serial) become the
 * contract's hashed ids here, and a lot's serials its Merkle root, so nothing above this knows the encodings.
 * `firstBlock` bounds its log queries (a pack's history) below: nothing of the registry precedes its deployment.
 */
export function supplyChainLedger(
  registry: ViemSupplyChainRegistry,
  firstBlock: FirstBlock = fromGenesis,
): SupplyLedger {
  // What the chain never changes once written: a product's manufacturer, a lot's Merkle root (and the tree of the
  // serials known here that reproduces it). Keyed by the registry's address, so a redeployed registry starts afresh.
  const manufacturers = new Map<string, Hex>();
  const roots = new Map<string, Hex>();
  const trees = new Map<string, { size: number; tree: LotTree }>();
  return {
    async manufacturerOf(gtin) {
      const known = manufacturers.get(`${registry.contractAddress()}|${gtin}`);
      if (known) return known;
      const product = await orNull(registry.productOf(gtin), 'SUPPLY.UNKNOWN_PRODUCT');
      if (!product || isZero(product.manufacturer)) return null;
      manufacturers.set(`${registry.contractAddress()}|${gtin}`, product.manufacturer); // never changes once set
      return product.manufacturer;
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
    async inLot(gtin, lot, known, serial) {
      if (known.count === 0) return null;
      const key = `${registry.contractAddress()}|${gtin}|${lot}`;
      let root = roots.get(key);
      if (!root) {
        const found = await orNull(registry.lotOf(lotIdOf(gtin, lot)), 'SUPPLY.UNKNOWN_LOT');
        if (!found) return null;
        root = found.serialsRoot.toLowerCase() as Hex; // a lot's root never changes once commissioned
        roots.set(key, root);
      }
      // Building a lot's tree hashes every pack id: done once per lot and number of known serials, not per question.
      let cached = trees.get(key);
      if (!cached || cached.size !== known.count) {
        const unique = [...new Set(known.serials())];
        try {
          cached = { size: known.count, tree: new LotTree(unique.map((s) => packIdOf(gtin, s))) };
        } catch {
          return null;
        }
        trees.set(key, cached);
      }
      if (cached.tree.root.toLowerCase() !== root) return null;
      return cached.tree.has(packIdOf(gtin, serial));
    },
    async lot(gtin, lot): Promise<ChainLot | null> {
      const found = await orNull(registry.lotOf(lotIdOf(gtin, lot)), 'SUPPLY.UNKNOWN_LOT');
      if (!found || isZero(found.manufacturer)) return null;
      return chainLotOf(found);
    },
    async packHistory(gtin, lot, serial) {
      return registry.packLogs(lotIdOf(gtin, lot), packIdOf(gtin, serial), firstBlock());
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

type NoticeEventName = SupplyChainNoticeEvent['event'];
const NOTICE_EVENTS = supplyChainRegistryAbi.filter(
  (item) =>
    item.type === 'event' &&
    ['PackMarkedSuspect', 'PackInvestigated', 'LotMarkedSuspect', 'LotInvestigated', 'LotRecalled'].includes(
      item.name,
    ),
);
const PACK_TRANSFERRED = supplyChainRegistryAbi.find(
  (item) => item.type === 'event' && item.name === 'PackTransferred',
) as Extract<(typeof supplyChainRegistryAbi)[number], { type: 'event'; name: 'PackTransferred' }>;
const OUTCOME_NAMES = ['cleared', 'illegitimate'] as const;

/**
 * Quarantine, investigations and the registry's events for the suspect-product services and the notification
 * watcher (`SuspectLedger`), by natural keys; `publicClient` reads the registry's logs, from `firstBlock` on.
 */
export function supplySuspectLedger(
  registry: ViemSupplyChainRegistry,
  publicClient: PublicClient,
  firstBlock: FirstBlock = fromGenesis,
): SuspectLedger {
  const packRefs = async (
    gtin: string,
    lotId: Hex,
    serials: readonly string[],
    lotSerials?: readonly string[],
  ) => {
    const tree =
      lotSerials && lotSerials.length > 0 ? new LotTree(lotSerials.map((s) => packIdOf(gtin, s))) : null;
    return Promise.all(
      serials.map(async (serial) => {
        const packId = packIdOf(gtin, serial);
        const status = await registry.packStatus(lotId, packId);
        return !status.recorded && tree?.has(packId) ? { packId, proof: tree.proof(packId) } : { packId };
      }),
    );
  };
  const mined = (r: { transactionHash: Hex; blockNumber: number }) => ({
    transactionHash: r.transactionHash,
    blockNumber: r.blockNumber,
  });
  return {
    async markSuspect({ gtin, lot, serials, reasonHash, lotSerials }) {
      const lotId = lotIdOf(gtin, lot);
      if (!serials || serials.length === 0) return mined(await registry.markLotSuspect(lotId, reasonHash));
      return mined(
        await registry.markSuspect(lotId, await packRefs(gtin, lotId, serials, lotSerials), reasonHash),
      );
    },
    async recordInvestigation({ gtin, lot, serials, outcome, reportHash }) {
      const lotId = lotIdOf(gtin, lot);
      if (!serials || serials.length === 0) {
        return mined(await registry.recordLotInvestigation(lotId, outcome, reportHash));
      }
      const packIds = serials.map((serial) => packIdOf(gtin, serial));
      return mined(await registry.recordInvestigation(lotId, packIds, outcome, reportHash));
    },
    async transfersOf(gtin, lot, serials) {
      const logs = await publicClient.getLogs({
        address: registry.contractAddress(),
        event: PACK_TRANSFERRED,
        args: {
          lotId: lotIdOf(gtin, lot),
          ...(serials && serials.length > 0 ? { packId: serials.map((s) => packIdOf(gtin, s)) } : {}),
        },
        fromBlock: BigInt(firstBlock()),
        toBlock: 'latest',
      });
      logs.sort((a, b) =>
        a.blockNumber === b.blockNumber ? a.logIndex - b.logIndex : a.blockNumber < b.blockNumber ? -1 : 1,
      );
      return logs.map((log) => ({
        from: String(log.args.from).toLowerCase() as Hex,
        to: String(log.args.to).toLowerCase() as Hex,
        blockNumber: Number(log.blockNumber),
      }));
    },
    async blockNumber() {
      return Number(await publicClient.getBlockNumber({ cacheTime: 0 }));
    },
    contract: () => registry.contractAddress(),
    async noticeEvents({ fromBlock, toBlock, recipient, lots, serialsOf }) {
      const address = registry.contractAddress();
      const range = { fromBlock: BigInt(fromBlock), toBlock: BigInt(toBlock) };
      const [notices, transfers] = await Promise.all([
        publicClient.getLogs({ address, events: NOTICE_EVENTS, ...range }),
        publicClient.getLogs({ address, event: PACK_TRANSFERRED, args: { to: recipient }, ...range }),
      ]);
      const byLotId = new Map(lots.map((l) => [lotIdOf(l.gtin, l.lot).toLowerCase(), l]));
      const packsOf = new Map<string, Map<string, string>>();
      const serialOf = (lotId: string, packId: Hex | null): string | null => {
        const known = byLotId.get(lotId);
        if (!known || packId === null) return null;
        let packs = packsOf.get(lotId);
        if (!packs) {
          packs = new Map(
            serialsOf(known.gtin, known.lot).map((s) => [packIdOf(known.gtin, s).toLowerCase(), s]),
          );
          packsOf.set(lotId, packs);
        }
        return packs.get(packId.toLowerCase()) ?? null;
      };
      const events: SupplyChainNoticeEvent[] = [];
      for (const log of [...notices, ...transfers]) {
        if (log.blockNumber === null || log.transactionHash === null || log.logIndex === null) continue;
        const args = log.args as Record<string, unknown>;
        const lotId = String(args.lotId).toLowerCase() as Hex;
        const packId = typeof args.packId === 'string' ? (args.packId as Hex) : null;
        const known = byLotId.get(lotId);
        const name = log.eventName as NoticeEventName;
        events.push({
          event: name,
          lotId,
          gtin: known?.gtin ?? null,
          lot: known?.lot ?? null,
          serial: serialOf(lotId, packId),
          packId,
          by: String(name === 'PackTransferred' ? args.from : args.by).toLowerCase() as Hex,
          ...(name === 'PackTransferred' ? { to: String(args.to).toLowerCase() as Hex } : {}),
          ...(args.outcome !== undefined
            ? { outcome: OUTCOME_NAMES[Number(args.outcome)] ?? 'illegitimate' }
            : {}),
          reference: (args.reasonHash ?? args.reportHash ?? args.transactionRef) as Hex,
          transactionHash: log.transactionHash,
          blockNumber: Number(log.blockNumber),
          logIndex: log.logIndex,
        });
      }
      events.sort((a, b) => a.blockNumber - b.blockNumber || a.logIndex - b.logIndex);
      return events;
    },
  };
}

/**
 * What the DSCSA documents ask of the registry (`T3Ledger`, and the report receipts' check): who handled a pack —
 * its product's manufacturer and every transfer of it, from `firstBlock` on — and which investigations a mined
 * transaction recorded.
 */
export function dscsaLedger(
  registry: ViemSupplyChainRegistry,
  firstBlock: FirstBlock = fromGenesis,
): T3Ledger & Pick<ViemSupplyChainRegistry, 'investigationsIn'> {
  return {
    async handlersOfPack(gtin, serial) {
      const product = await orNull(registry.productOf(gtin), 'SUPPLY.UNKNOWN_PRODUCT');
      if (!product || isZero(product.manufacturer)) return { manufacturer: null, transfers: [] };
      const transfers = await registry.packTransfers(packIdOf(gtin, serial), firstBlock());
      return {
        manufacturer: product.manufacturer.toLowerCase() as Hex,
        transfers: transfers.map(({ from, to }) => ({ from, to })),
      };
    },
    investigationsIn: (transactionHash) => registry.investigationsIn(transactionHash),
  };
}
