import {
  encodeEventTopics,
  parseEventLogs,
  TransactionReceiptNotFoundError,
  type ContractFunctionArgs,
  type ContractFunctionName,
  type ContractFunctionReturnType,
} from 'viem';
import { InvalidInputError, UnavailableError } from '../core/errors.js';
import { isHex, type Hex } from '../core/hex.js';
import type {
  ChainCustodyEntry,
  ChainCustodyEvent,
  InvestigationOutcome,
} from '../supply-chain/custody/ports.js';
import type { MirroredLot, MirroredProduct } from '../supply-chain/verification/ports.js';
import type { ChainClients } from './chainClients.js';
import {
  decodeSupplyChainError,
  PACK_STATES,
  SupplyChainRejectedError,
  type PackStateName,
} from './decodeSupplyChainError.js';
import { supplyChainRegistryAbi } from './generated/contracts.js';
import { logsOf, SerialSender } from './serialSender.js';
import { gtinFromBytes14, gtinToBytes14, lotHashOf, lotIdOf } from './supplyChainIds.js';

/** The contract's `MAX_BATCH_SIZE`: most packs in one batch call. */
export const SUPPLY_CHAIN_MAX_BATCH_SIZE = 256;

export type { InvestigationOutcome };
const OUTCOMES: Record<InvestigationOutcome, number> = { cleared: 0, illegitimate: 1 };

/** A pack named in a batch call; `proof` (its Merkle proof in the lot) is only needed for its first write. */
export interface PackRef {
  packId: Hex;
  proof?: readonly Hex[];
}

/** What a mined write returns. */
export interface SupplyChainReceipt {
  transactionHash: Hex;
  blockNumber: number;
  gasUsed: bigint;
}

/** The contract's `Product` of a GTIN (as the mirror keeps it, with the GTIN). */
export interface Product extends MirroredProduct {
  gtin: string;
}

/** The contract's `Lot` (as the mirror keeps it, with its id). */
export interface Lot extends MirroredLot {
  lotId: Hex;
}

/** `packStatus` (see `ISupplyChainRegistry.PackStatus`), with the state by name and times in UNIX seconds. */
export interface PackStatus {
  /** False while the chain holds nothing about the pack (then only a Merkle proof shows it is in the lot). */
  recorded: boolean;
  owner: Hex;
  state: PackStateName;
  suspect: boolean;
  illegitimate: boolean;
  lotRecalled: boolean;
  lotSuspect: boolean;
  lotIllegitimate: boolean;
  lotExpiry: number;
  lastTransferAt: number;
}

/** One registry event about a pack or its lot, as {@link ViemSupplyChainRegistry.packLogs} reads it. */
export type SupplyChainLog = ChainCustodyEntry;

/**
 * For each event about a pack or its lot: whether it is about the pack or the lot, and the event arguments naming
 * who acted and the document behind it (a transfer names its sender and recipient in `from` and `to` instead).
 */
const LOG_FIELDS: Record<ChainCustodyEvent, { scope: 'pack' | 'lot'; by?: string; reference?: string }> = {
  LotCommissioned: { scope: 'lot', by: 'manufacturer' },
  PackTransferred: { scope: 'pack', reference: 'transactionRef' },
  PackDispensed: { scope: 'pack', by: 'dispenser' },
  PackDecommissioned: { scope: 'pack', by: 'by', reference: 'reasonHash' },
  PackDestroyed: { scope: 'pack', by: 'by', reference: 'reportHash' },
  PackMarkedSuspect: { scope: 'pack', by: 'by', reference: 'reasonHash' },
  PackInvestigated: { scope: 'pack', by: 'by', reference: 'reportHash' },
  LotMarkedSuspect: { scope: 'lot', by: 'by', reference: 'reasonHash' },
  LotInvestigated: { scope: 'lot', by: 'by', reference: 'reportHash' },
  LotRecalled: { scope: 'lot', by: 'by', reference: 'reasonHash' },
};

export interface ViemSupplyChainRegistryOptions {
  /** How long a write waits for its receipt before answering 503 (it may still be mined). */
  receiptTimeoutMs?: number;
}

type SupplyChainEvent = 'ProductRegistered' | ChainCustodyEvent;

/** The registry's writes this adapter sends. */
export type SupplyChainWriteName =
  | 'registerProduct'
  | 'commissionLot'
  | 'transferPacks'
  | 'dispense'
  | 'decommission'
  | 'destroy'
  | 'markSuspect'
  | 'recordInvestigation'
  | 'markLotSuspect'
  | 'recordLotInvestigation'
  | 'recallLot';

type Abi = typeof supplyChainRegistryAbi;
type ViewName = ContractFunctionName<Abi, 'view' | 'pure'>;

/** Throws `SUPPLY.INVALID_ID` (400) unless `value` is 32 bytes of 0x-prefixed hex. */
function bytes32(value: Hex, what: string): Hex {
  if (!isHex(value, 32)) {
    throw new InvalidInputError(
      'SUPPLY.INVALID_ID',
      `The ${what} ${JSON.stringify(String(value)).slice(0, 80)} is not a 32-byte 0x-prefixed hex value.`,
      { details: { [what]: value } },
    );
  }
  return value;
}

/** The pack ids and proofs of a batch, checked. */
function batch(packs: readonly PackRef[]): { packIds: Hex[]; proofs: Hex[][] } {
  return {
    packIds: packs.map((p) => bytes32(p.packId, 'pack id')),
    proofs: packs.map((p) => (p.proof ?? []).map((node) => bytes32(node, 'proof node'))),
  };
}

/** `fromBlock` as a JSON-RPC block tag; refuses anything but a block number (a bug on this side). */
function blockTag(fromBlock: number): Hex {
  if (!Number.isSafeInteger(fromBlock) || fromBlock < 0) {
    throw new InvalidInputError('SUPPLY.INVALID_BLOCK', `${String(fromBlock)} is not a block number.`);
  }
  return `0x${fromBlock.toString(16)}`;
}

const PACK_TRANSFERRED_TOPIC = encodeEventTopics({
  abi: supplyChainRegistryAbi,
  eventName: 'PackTransferred',
})[0] as Hex;

/** UNIX seconds from a `Date` or a number/bigint of seconds. */
function seconds(value: Date | number | bigint): bigint {
  if (value instanceof Date) return BigInt(Math.floor(value.getTime() / 1000));
  return BigInt(value);
}

/**
 * The `SupplyChainRegistry` over viem, as this organisation's account: one method per contract function, GTINs
 * as their digits (see `supplyChainIds.ts` for computing pack ids, lot ids and lot trees), states and outcomes by
 * name, times in UNIX seconds.
 *
 * The node deploys the registry with the others (`ensureDeployment`) and repoints this adapter when its embedded
 * chain redeploys it (`useContract`). Every write is simulated first, so a refusal is reported with the
 * contract's reason and nothing is sent; the writes of this adapter go out one at a time through a
 * {@link SerialSender} (one nonce each; a nonce taken meanwhile by another sender with the same key is retried),
 * and each resolves once its transaction is mined. A transaction that reverts after all (the state changed
 * between simulation and mining) is simulated again to report why. Errors are `CareLedgerError`s (see
 * {@link decodeSupplyChainError}). Unlike the record locator's, these writes are not
 * idempotent: a transfer or dispense repeated after a lost receipt is refused (`SUPPLY.NOT_OWNER`,
 * `SUPPLY.ALREADY_DISPENSED`), so read `packStatus` before sending again.
 */
export class ViemSupplyChainRegistry {
  private readonly clients: ChainClients;
  private address: Hex;
  /** Sends of this adapter, one after the other, so they never race each other for a nonce. */
  private readonly sender: SerialSender;
  /** Addresses found to hold code, so a write is never sent to an address without the contract. */
  private readonly withCode = new Set<string>();
  /** What a mined write waits for before it resolves (see `onMined`). */
  private afterMined: ((block: number) => Promise<void>) | null = null;

  constructor(clients: ChainClients, supplyChainRegistry: Hex, options: ViemSupplyChainRegistryOptions = {}) {
    this.clients = clients;
    this.address = supplyChainRegistry;
    this.sender = new SerialSender(clients, options.receiptTimeoutMs ?? 30_000);
  }

  contractAddress(): Hex {
    return this.address;
  }

  /**
   * Makes every write, once mined, wait for `afterMined(block)` before it resolves: the node's supply-chain mirror
   * applies that block first, so this gateway's answer to its own write (and any verification after it) already
   * reflects it. `afterMined` must not throw.
   */
  onMined(afterMined: (block: number) => Promise<void>): void {
    this.afterMined = afterMined;
  }

  /** Points the adapter at another deployment (embedded chain redeployed after losing state). */
  useContract(supplyChainRegistry: Hex): void {
    this.address = supplyChainRegistry;
  }

  /** Registers the product `gtin` as this manufacturer's, with the hash of its master data kept off chain. */
  async registerProduct(gtin: string, metadataHash: Hex): Promise<SupplyChainReceipt> {
    const args = [gtinToBytes14(gtin), bytes32(metadataHash, 'metadata hash')] as const;
    return this.send('registerProduct', args, 'ProductRegistered');
  }

  /**
   * Commissions the lot `lot` (its lot number; only its hash is sent) of this manufacturer's product: `serialsRoot`
   * is `new LotTree(packIds).root`. Resolves with the lot id the contract derived (`lotIdOf(gtin, lot)`).
   */
  async commissionLot(lot: {
    gtin: string;
    lot: string;
    serialsRoot: Hex;
    packCount: number;
    expiry: Date | number | bigint;
  }): Promise<SupplyChainReceipt & { lotId: Hex }> {
    const gtin = gtinToBytes14(lot.gtin);
    const lotId = lotIdOf(lot.gtin, lot.lot);
    const args = [
      gtin,
      lotHashOf(lot.lot),
      bytes32(lot.serialsRoot, 'serials root'),
      lot.packCount,
      seconds(lot.expiry),
    ] as const;
    return { ...(await this.send('commissionLot', args, 'LotCommissioned')), lotId };
  }

  /**
   * Transfers this organisation's `packs` of `lotId` to `to`, for the transaction whose documents hash to
   * `transactionRef`: one transaction, all or nothing, at most {@link SUPPLY_CHAIN_MAX_BATCH_SIZE} packs.
   */
  async transferPacks(transfer: {
    lotId: Hex;
    packs: readonly PackRef[];
    to: Hex;
    transactionRef: Hex;
  }): Promise<SupplyChainReceipt> {
    const { packIds, proofs } = batch(transfer.packs);
    const args = [
      bytes32(transfer.lotId, 'lot id'),
      packIds,
      proofs,
      transfer.to,
      bytes32(transfer.transactionRef, 'transaction reference'),
    ] as const;
    return this.send('transferPacks', args, 'PackTransferred');
  }

  /** Records that this dispenser dispensed `packs` of `lotId` (a second dispense is refused: a clone). */
  async dispense(lotId: Hex, packs: readonly PackRef[]): Promise<SupplyChainReceipt> {
    const { packIds, proofs } = batch(packs);
    return this.send('dispense', [bytes32(lotId, 'lot id'), packIds, proofs] as const, 'PackDispensed');
  }

  /** Takes this organisation's `packs` of `lotId` out of commerce for the reason hashing to `reasonHash`. */
  async decommission(lotId: Hex, packs: readonly PackRef[], reasonHash: Hex): Promise<SupplyChainReceipt> {
    const { packIds, proofs } = batch(packs);
    const args = [bytes32(lotId, 'lot id'), packIds, proofs, bytes32(reasonHash, 'reason hash')] as const;
    return this.send('decommission', args, 'PackDecommissioned');
  }

  /** Records the destruction of this organisation's `packs` of `lotId` (`reportHash`: the destruction record). */
  async destroy(lotId: Hex, packs: readonly PackRef[], reportHash: Hex): Promise<SupplyChainReceipt> {
    const { packIds, proofs } = batch(packs);
    const args = [bytes32(lotId, 'lot id'), packIds, proofs, bytes32(reportHash, 'report hash')] as const;
    return this.send('destroy', args, 'PackDestroyed');
  }

  /** Quarantines `packs` of `lotId` (this organisation holds or held them, made them, or is a regulator). */
  async markSuspect(lotId: Hex, packs: readonly PackRef[], reasonHash: Hex): Promise<SupplyChainReceipt> {
    const { packIds, proofs } = batch(packs);
    const args = [bytes32(lotId, 'lot id'), packIds, proofs, bytes32(reasonHash, 'reason hash')] as const;
    return this.send('markSuspect', args, 'PackMarkedSuspect');
  }

  /**
   * Concludes the investigation of the suspect `packIds` of `lotId` (this organisation quarantined them, or
   * regulates).
   */
  async recordInvestigation(
    lotId: Hex,
    packIds: readonly Hex[],
    outcome: InvestigationOutcome,
    reportHash: Hex,
  ): Promise<SupplyChainReceipt> {
    const args = [
      bytes32(lotId, 'lot id'),
      packIds.map((id) => bytes32(id, 'pack id')),
      this.outcome(outcome),
      bytes32(reportHash, 'report hash'),
    ] as const;
    return this.send('recordInvestigation', args, 'PackInvestigated');
  }

  /** Quarantines the whole lot `lotId`. */
  async markLotSuspect(lotId: Hex, reasonHash: Hex): Promise<SupplyChainReceipt> {
    const args = [bytes32(lotId, 'lot id'), bytes32(reasonHash, 'reason hash')] as const;
    return this.send('markLotSuspect', args, 'LotMarkedSuspect');
  }

  /** Concludes the investigation of the suspect lot `lotId`. */
  async recordLotInvestigation(
    lotId: Hex,
    outcome: InvestigationOutcome,
    reportHash: Hex,
  ): Promise<SupplyChainReceipt> {
    const args = [
      bytes32(lotId, 'lot id'),
      this.outcome(outcome),
      bytes32(reportHash, 'report hash'),
    ] as const;
    return this.send('recordLotInvestigation', args, 'LotInvestigated');
  }

  /** Recalls the lot `lotId` (this organisation is its manufacturer or a regulator). */
  async recallLot(lotId: Hex, reasonHash: Hex): Promise<SupplyChainReceipt> {
    const args = [bytes32(lotId, 'lot id'), bytes32(reasonHash, 'reason hash')] as const;
    return this.send('recallLot', args, 'LotRecalled');
  }

  /** Everything a verifier needs about `packId` of `lotId`, in one call. */
  async packStatus(lotId: Hex, packId: Hex): Promise<PackStatus> {
    const args = [bytes32(lotId, 'lot id'), bytes32(packId, 'pack id')] as const;
    const status = await this.view('packStatus', args);
    return {
      recorded: status.recorded,
      owner: status.owner,
      state: PACK_STATES[status.state] ?? 'active',
      suspect: status.suspect,
      illegitimate: status.illegitimate,
      lotRecalled: status.lotRecalled,
      lotSuspect: status.lotSuspect,
      lotIllegitimate: status.lotIllegitimate,
      lotExpiry: Number(status.lotExpiry),
      lastTransferAt: Number(status.lastTransferAt),
    };
  }

  /** The lot `lotId`. */
  async lotOf(lotId: Hex): Promise<Lot> {
    const args = [bytes32(lotId, 'lot id')] as const;
    const lot = await this.view('lotOf', args);
    return {
      lotId,
      gtin: gtinFromBytes14(lot.gtin),
      manufacturer: lot.manufacturer,
      serialsRoot: lot.serialsRoot,
      packCount: lot.packCount,
      expiry: Number(lot.expiry),
      commissionedAt: Number(lot.commissionedAt),
      recalled: lot.recalled,
      recalledAt: Number(lot.recalledAt),
      suspect: lot.suspect,
      illegitimate: lot.illegitimate,
      quarantinedBy: lot.quarantinedBy,
    };
  }

  /** The product `gtin`. */
  async productOf(gtin: string): Promise<Product> {
    const args = [gtinToBytes14(gtin)] as const;
    const product = await this.view('productOf', args);
    return {
      gtin: gtinFromBytes14(args[0]),
      manufacturer: product.manufacturer,
      registeredAt: Number(product.registeredAt),
      lotCount: product.lotCount,
      metadataHash: product.metadataHash,
    };
  }

  /** Whether `proof` shows that `packId` is in the lot `lotId`. */
  async isInLot(lotId: Hex, packId: Hex, proof: readonly Hex[]): Promise<boolean> {
    const args = [
      bytes32(lotId, 'lot id'),
      bytes32(packId, 'pack id'),
      proof.map((node) => bytes32(node, 'proof node')),
    ] as const;
    return this.view('isInLot', args);
  }

  /**
   * The registry's events about `packId` of `lotId` (indexed by pack, then lot) and about the lot itself (indexed by
   * lot first), oldest first, with their block times: a pack's chain of custody in two log filters.
   * @param fromBlock - The first block to search: the registry's deployment block (0 when unknown, e.g. for an
   * address given by configuration), so a long chain is not scanned from its genesis for every pack.
   */
  async packLogs(lotId: Hex, packId: Hex, fromBlock: number): Promise<SupplyChainLog[]> {
    const lot = bytes32(lotId, 'lot id');
    const pack = bytes32(packId, 'pack id');
    const from = blockTag(fromBlock);
    const filter = (topics: (Hex | null)[]) =>
      this.read(() =>
        this.clients.publicClient.request({
          method: 'eth_getLogs',
          params: [{ address: this.address, topics, fromBlock: from, toBlock: 'latest' }],
        }),
      );
    const [packLogs, lotLogs] = await Promise.all([filter([null, pack, lot]), filter([null, lot])]);
    const parsed = parseEventLogs({ abi: supplyChainRegistryAbi, logs: [...packLogs, ...lotLogs] });
    const times = new Map<bigint, Promise<number>>();
    const timeOf = (blockNumber: bigint) => {
      let time = times.get(blockNumber);
      if (!time) {
        time = this.read(() => this.clients.publicClient.getBlock({ blockNumber })).then((b) =>
          Number(b.timestamp),
        );
        times.set(blockNumber, time);
      }
      return time;
    };
    const out: SupplyChainLog[] = [];
    for (const log of parsed) {
      if (log.blockNumber === null || log.transactionHash === null || log.logIndex === null) continue;
      const base = {
        blockNumber: Number(log.blockNumber),
        transactionHash: log.transactionHash,
        logIndex: log.logIndex,
        time: await timeOf(log.blockNumber),
      };
      if (!Object.hasOwn(LOG_FIELDS, log.eventName)) continue; // another event whose first indexed topic happens to match
      const event = log.eventName as ChainCustodyEvent;
      const fields = LOG_FIELDS[event];
      const a = log.args as Record<string, unknown>;
      const hex = (key: string) => a[key] as Hex;
      const entry: SupplyChainLog = { ...base, event, scope: fields.scope };
      if (event === 'PackTransferred') {
        entry.from = hex('from');
        entry.to = hex('to');
      }
      if (fields.by) entry.by = hex(fields.by);
      if (fields.reference) entry.reference = hex(fields.reference);
      if (event === 'PackInvestigated' || event === 'LotInvestigated') {
        entry.outcome = Number(a.outcome) === OUTCOMES.illegitimate ? 'illegitimate' : 'cleared';
      }
      out.push(entry);
    }
    return out.sort((x, y) => x.blockNumber - y.blockNumber || x.logIndex - y.logIndex);
  }

  /**
   * Every transfer of `packId`, in whichever lot (`PackTransferred` is indexed by pack first), oldest first: the
   * pack's sellers and buyers, from `fromBlock` (the registry's deployment block, 0 when unknown) on.
   */
  async packTransfers(
    packId: Hex,
    fromBlock: number,
  ): Promise<{ lotId: Hex; from: Hex; to: Hex; blockNumber: number }[]> {
    const topics = [PACK_TRANSFERRED_TOPIC, bytes32(packId, 'pack id')];
    const logs = await this.read(() =>
      this.clients.publicClient.request({
        method: 'eth_getLogs',
        params: [{ address: this.address, topics, fromBlock: blockTag(fromBlock), toBlock: 'latest' }],
      }),
    );
    return parseEventLogs({ abi: supplyChainRegistryAbi, eventName: 'PackTransferred', logs })
      .filter((log) => log.blockNumber !== null && log.logIndex !== null)
      .sort((x, y) =>
        x.blockNumber === y.blockNumber
          ? (x.logIndex as number) - (y.logIndex as number)
          : (x.blockNumber as bigint) < (y.blockNumber as bigint)
            ? -1
            : 1,
      )
      .map((log) => ({
        lotId: log.args.lotId,
        from: log.args.from.toLowerCase() as Hex,
        to: log.args.to.toLowerCase() as Hex,
        blockNumber: Number(log.blockNumber),
      }));
  }

  /**
   * The investigations this registry recorded in the mined transaction `transactionHash` (its `PackInvestigated`
   * and `LotInvestigated` events): who recorded them, the outcome and the report hash. Empty when no such
   * transaction was mined, or it recorded none.
   */
  async investigationsIn(
    transactionHash: Hex,
  ): Promise<{ by: Hex; outcome: InvestigationOutcome; reportHash: Hex }[]> {
    const hash = bytes32(transactionHash, 'transaction hash');
    let receipt;
    try {
      receipt = await this.clients.publicClient.getTransactionReceipt({ hash });
    } catch (error) {
      if (error instanceof TransactionReceiptNotFoundError) return [];
      throw decodeSupplyChainError(error);
    }
    if (receipt.status !== 'success') return [];
    const own = receipt.logs.filter((log) => log.address.toLowerCase() === this.address.toLowerCase());
    return parseEventLogs({
      abi: supplyChainRegistryAbi,
      eventName: ['PackInvestigated', 'LotInvestigated'],
      logs: own,
    }).map((log) => ({
      by: log.args.by.toLowerCase() as Hex,
      outcome: Number(log.args.outcome) === OUTCOMES.illegitimate ? 'illegitimate' : 'cleared',
      reportHash: log.args.reportHash.toLowerCase() as Hex,
    }));
  }

  private outcome(outcome: InvestigationOutcome): number {
    const value = OUTCOMES[outcome];
    if (value === undefined) {
      throw new InvalidInputError(
        'SUPPLY.INVALID_OUTCOME',
        `Unknown investigation outcome ${JSON.stringify(outcome)}: give "cleared" or "illegitimate".`,
        { details: { outcome } },
      );
    }
    return value;
  }

  /** Calls the view `functionName(...args)` of the registry (errors decoded). */
  private view<F extends ViewName>(
    functionName: F,
    args: ContractFunctionArgs<Abi, 'view' | 'pure', F>,
  ): Promise<ContractFunctionReturnType<Abi, 'view' | 'pure', F>> {
    return this.read(
      () =>
        this.clients.publicClient.readContract({
          address: this.address,
          abi: supplyChainRegistryAbi,
          functionName,
          args,
        } as never) as Promise<ContractFunctionReturnType<Abi, 'view' | 'pure', F>>,
    );
  }

  private async read<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw decodeSupplyChainError(error);
    }
  }

  /**
   * Simulates `functionName(...args)` (a refusal is decoded and nothing is sent), sends it after this adapter's
   * earlier sends and waits for the receipt (see {@link SerialSender.send}). A mined transaction without
   * `expectedEvent` means there is no SupplyChainRegistry at the address (calls to an address without code
   * succeed).
   */
  private async send(
    functionName: SupplyChainWriteName,
    args: readonly unknown[],
    expectedEvent: SupplyChainEvent,
  ): Promise<SupplyChainReceipt> {
    const address = this.address;
    await this.requireCode(address, functionName);
    const receipt = await this.sender.send({
      simulate: () =>
        this.clients.publicClient.simulateContract({
          address,
          abi: supplyChainRegistryAbi,
          functionName,
          args,
          account: this.clients.account,
        } as Parameters<typeof this.clients.publicClient.simulateContract>[0]),
      decode: decodeSupplyChainError,
      reverted: ({ transactionHash, blockNumber }) =>
        new SupplyChainRejectedError(
          'SUPPLY.TRANSACTION_REVERTED',
          `The ${functionName} transaction ${transactionHash} reverted in block ${blockNumber}, and simulating ` +
            `it again gives no reason; check the state on chain and try again.`,
          { details: { transactionHash, blockNumber: Number(blockNumber) } },
        ),
    });
    const logs = logsOf(receipt);
    if (!parseEventLogs({ abi: supplyChainRegistryAbi, logs, eventName: expectedEvent }).length) {
      throw missingRegistry(functionName, address);
    }
    const blockNumber = Number(receipt.blockNumber);
    await this.afterMined?.(blockNumber);
    return { transactionHash: receipt.transactionHash, blockNumber, gasUsed: receipt.gasUsed };
  }

  /** Throws `SUPPLY.CONTRACT_MISSING` (nothing sent) if there is no code at `address`. */
  private async requireCode(address: Hex, what: string): Promise<void> {
    if (this.withCode.has(address.toLowerCase())) return;
    const code = await this.read(() => this.clients.publicClient.getCode({ address }));
    if (!code || code === '0x') {
      throw new UnavailableError(
        'SUPPLY.CONTRACT_MISSING',
        `No SupplyChainRegistry runs at ${address} on this chain, so the ${what} was not sent; check ` +
          `CARELEDGER_SUPPLY_CHAIN_REGISTRY and CHAIN_RPC_URL (an embedded chain redeploys it on its own).`,
        { details: { address } },
      );
    }
    this.withCode.add(address.toLowerCase());
  }
}

/** A mined call that did nothing: there is no SupplyChainRegistry at the address. */
function missingRegistry(what: string, address: Hex): UnavailableError {
  return new UnavailableError(
    'SUPPLY.CONTRACT_MISSING',
    `The ${what} transaction was mined but no SupplyChainRegistry at ${address} recorded it: no ` +
      `SupplyChainRegistry runs at that address on this chain; check CARELEDGER_SUPPLY_CHAIN_REGISTRY and ` +
      `CHAIN_RPC_URL (an embedded chain redeploys it on its own).`,
    { details: { address } },
  );
}
