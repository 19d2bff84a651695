import { parseEventLogs, zeroAddress, type TransactionReceipt } from 'viem';
import {
  CONSENT_DOMAIN_NAME,
  CONSENT_DOMAIN_VERSION,
  consentDomain,
  type ConsentDomain,
  type ConsentTerms,
  type DelegateAppointment,
  type DelegateRemoval,
} from '../consent/consentTypedData.js';
import type {
  ConsentChainEvent,
  ConsentChainEventType,
  ConsentEventSubscription,
  ConsentGrantReceipt,
  ConsentLedger,
  ConsentRecord,
  ConsentTransaction,
  WatchConsentEventsOptions,
} from '../consent/ports.js';
import { ConfigurationError, ConflictError, UnavailableError } from '../core/errors.js';
import type { Hex } from '../core/hex.js';
import type { ChainClients } from './chainClients.js';
import { ConsentRegistryRejectedError, decodeConsentError } from './decodeConsentError.js';
import { consentRegistryAbi } from './generated/contracts.js';
import { logsOf, SerialSender } from './serialSender.js';

type ConsentAbiItem = (typeof consentRegistryAbi)[number];
type ConsentAbiEvent = Extract<ConsentAbiItem, { type: 'event' }>;

/** The five events the watcher delivers (every event of the registry). */
const CONSENT_EVENTS = consentRegistryAbi.filter((item): item is ConsentAbiEvent => item.type === 'event');

/** How many consents `consentsOf` reads at once. */
const READ_CONCURRENCY = 16;

export interface ViemConsentRegistryOptions {
  /** How long a relay waits for its receipt before answering 503 (the transaction may still be mined). */
  receiptTimeoutMs?: number;
  /** How many consent ids `consentsOf` asks for per `consentIdsOf` call; default 100. */
  pageSize?: number;
}

/** The on-chain `Consent` struct as viem decodes it. */
interface ConsentStruct {
  patient: Hex;
  validFrom: bigint;
  purposes: number;
  grantee: Hex;
  validUntil: bigint;
  grantedBy: Hex;
  grantedAt: bigint;
  revokedBy: Hex;
  revokedAt: bigint;
  dataFrom: bigint;
  dataUntil: bigint;
  scopes: readonly Hex[];
}

function toRecord(id: bigint, c: ConsentStruct): ConsentRecord {
  const revoked = c.revokedAt !== 0n;
  return {
    id,
    patient: c.patient,
    grantee: c.grantee,
    scopes: [...c.scopes],
    purposes: c.purposes,
    validFrom: c.validFrom,
    validUntil: c.validUntil,
    dataFrom: c.dataFrom,
    dataUntil: c.dataUntil,
    grantedBy: c.grantedBy,
    grantedAt: c.grantedAt,
    revokedAt: revoked ? c.revokedAt : null,
    revokedBy: revoked && c.revokedBy !== zeroAddress ? c.revokedBy : null,
  };
}

/**
 * The `ConsentRegistry` over viem: relays what patients and delegates signed (as this organisation, which must be
 * an active consortium member), records break-glass access, reads consents and follows the registry's events.
 *
 * Every write is simulated first, so a refusal is reported with the contract's reason and nothing is sent;
 * writes of this adapter go out one at a time (one nonce each) and each waits for its receipt. Errors are
 * `CareLedgerError`s (see {@link decodeConsentError}).
 */
export class ViemConsentRegistry implements ConsentLedger {
  private readonly clients: ChainClients;
  private readonly pageSize: bigint;
  private address: Hex;
  private cachedDomain: ConsentDomain | undefined;
  /** Sends of this adapter, one after the other, so they never race each other for a nonce. */
  private readonly sender: SerialSender;

  constructor(clients: ChainClients, consentRegistry: Hex, options: ViemConsentRegistryOptions = {}) {
    this.clients = clients;
    this.address = consentRegistry;
    this.sender = new SerialSender(clients, options.receiptTimeoutMs ?? 30_000);
    this.pageSize = BigInt(Math.max(1, options.pageSize ?? 100));
  }

  contractAddress(): Hex {
    return this.address;
  }

  /** Points the adapter at a newly deployed registry (embedded chain redeployed after losing state). */
  useContract(consentRegistry: Hex): void {
    if (consentRegistry.toLowerCase() === this.address.toLowerCase()) return;
    this.address = consentRegistry;
    this.cachedDomain = undefined;
  }

  /**
   * The EIP-712 domain, as the deployed contract reports it (ERC-5267 `eip712Domain`). Throws a
   * `ConfigurationError` if the contract is not a ConsentRegistry this gateway can sign for.
   */
  async domain(): Promise<ConsentDomain> {
    if (this.cachedDomain) return this.cachedDomain;
    const address = this.address;
    let name: string;
    let version: string;
    let chainId: bigint;
    let verifyingContract: Hex;
    try {
      [, name, version, chainId, verifyingContract] = await this.clients.publicClient.readContract({
        address,
        abi: consentRegistryAbi,
        functionName: 'eip712Domain',
      });
    } catch (error) {
      throw decodeConsentError(error);
    }
    if (name !== CONSENT_DOMAIN_NAME || version !== CONSENT_DOMAIN_VERSION) {
      throw new ConfigurationError(
        'CONSENT.DOMAIN_MISMATCH',
        `The contract at ${address} signs as "${name}" version "${version}", not as "${CONSENT_DOMAIN_NAME}" ` +
          `version "${CONSENT_DOMAIN_VERSION}": it is not a ConsentRegistry this gateway supports.`,
        { details: { address, name, version } },
      );
    }
    const domain = consentDomain(chainId, verifyingContract);
    if (address === this.address) this.cachedDomain = domain;
    return domain;
  }

  async nonceOf(account: Hex): Promise<bigint> {
    return this.read(() =>
      this.clients.publicClient.readContract({
        address: this.address,
        abi: consentRegistryAbi,
        functionName: 'nonces',
        args: [account],
      }),
    );
  }

  async relayGrant(
    terms: ConsentTerms,
    signer: Hex,
    deadline: bigint,
    signature: Hex,
  ): Promise<ConsentGrantReceipt> {
    const receipt = await this.send('grant', 'ConsentGranted', (address) =>
      this.clients.publicClient.simulateContract({
        address,
        abi: consentRegistryAbi,
        functionName: 'grantWithSig',
        args: [{ ...terms, scopes: [...terms.scopes] }, signer, deadline, signature],
        account: this.clients.account,
      }),
    );
    const [granted] = parseEventLogs({
      abi: consentRegistryAbi,
      logs: logsOf(receipt),
      eventName: 'ConsentGranted',
    });
    // send() made sure there is one.
    return { consentId: (granted as NonNullable<typeof granted>).args.consentId, ...mined(receipt) };
  }

  async relayRevoke(
    consentId: bigint,
    signer: Hex,
    deadline: bigint,
    signature: Hex,
  ): Promise<ConsentTransaction> {
    const receipt = await this.send('revocation', 'ConsentRevoked', (address) =>
      this.clients.publicClient.simulateContract({
        address,
        abi: consentRegistryAbi,
        functionName: 'revokeWithSig',
        args: [consentId, signer, deadline, signature],
        account: this.clients.account,
      }),
    );
    return mined(receipt);
  }

  async relayAppointDelegate(
    appointment: DelegateAppointment,
    deadline: bigint,
    signature: Hex,
  ): Promise<ConsentTransaction> {
    const { patient, delegate, until } = appointment;
    const receipt = await this.send('delegate appointment', 'DelegateAppointed', (address) =>
      this.clients.publicClient.simulateContract({
        address,
        abi: consentRegistryAbi,
        functionName: 'appointDelegateWithSig',
        args: [patient, delegate, until, deadline, signature],
        account: this.clients.account,
      }),
    );
    return mined(receipt);
  }

  async relayRemoveDelegate(
    removal: DelegateRemoval,
    signer: Hex,
    deadline: bigint,
    signature: Hex,
  ): Promise<ConsentTransaction> {
    const { patient, delegate } = removal;
    const receipt = await this.send('delegate removal', 'DelegateRemoved', (address) =>
      this.clients.publicClient.simulateContract({
        address,
        abi: consentRegistryAbi,
        functionName: 'removeDelegateWithSig',
        args: [patient, delegate, signer, deadline, signature],
        account: this.clients.account,
      }),
    );
    return mined(receipt);
  }

  async recordBreakGlass(
    patient: Hex,
    accessor: Hex,
    purpose: number,
    reasonHash: Hex,
  ): Promise<ConsentTransaction> {
    const receipt = await this.send('break-glass record', 'BreakGlassAccess', (address) =>
      this.clients.publicClient.simulateContract({
        address,
        abi: consentRegistryAbi,
        functionName: 'recordBreakGlass',
        args: [patient, accessor, purpose, reasonHash],
        account: this.clients.account,
      }),
    );
    return mined(receipt);
  }

  async getConsent(id: bigint): Promise<ConsentRecord> {
    return this.read(async () => this.readConsent(this.address, id));
  }

  /** Every consent of `patient`, read at one block so the list is consistent. */
  async consentsOf(patient: Hex): Promise<ConsentRecord[]> {
    return this.read(async () => {
      const address = this.address;
      const client = this.clients.publicClient;
      const blockNumber = await client.getBlockNumber({ cacheTime: 0 });
      const count = await client.readContract({
        address,
        abi: consentRegistryAbi,
        functionName: 'consentCountOf',
        args: [patient],
        blockNumber,
      });
      const ids: bigint[] = [];
      for (let offset = 0n; offset < count; offset += this.pageSize) {
        const page = await client.readContract({
          address,
          abi: consentRegistryAbi,
          functionName: 'consentIdsOf',
          args: [patient, offset, this.pageSize],
          blockNumber,
        });
        ids.push(...page);
      }
      const records: ConsentRecord[] = [];
      for (let i = 0; i < ids.length; i += READ_CONCURRENCY) {
        const chunk = ids.slice(i, i + READ_CONCURRENCY);
        records.push(...(await Promise.all(chunk.map((id) => this.readConsent(address, id, blockNumber)))));
      }
      return records;
    });
  }

  async isDelegate(patient: Hex, account: Hex): Promise<boolean> {
    return this.read(() =>
      this.clients.publicClient.readContract({
        address: this.address,
        abi: consentRegistryAbi,
        functionName: 'isDelegate',
        args: [patient, account],
      }),
    );
  }

  /**
   * Polls `eth_getLogs` over block ranges from `options.fromBlock` and hands every registry event to `onEvent`,
   * one at a time, in (block, log index) order; the next event waits for `onEvent`'s promise. On an RPC failure,
   * or if `onEvent` throws, the watcher reports the error to `options.onError`, backs off (doubling up to
   * `maxBackoffMs`) and tries again from the first event not yet delivered: delivery is at least once per
   * event and never out of order. If the chain's head falls behind what was processed (an embedded chain
   * restarted from an older state), it reports a `CHAIN.REWOUND` error and continues from the new head.
   */
  watchConsentEvents(
    onEvent: (event: ConsentChainEvent) => void | Promise<void>,
    options: WatchConsentEventsOptions,
  ): ConsentEventSubscription {
    const pollingIntervalMs = options.pollingIntervalMs ?? 1_000;
    const maxBlockRange = BigInt(Math.max(1, options.maxBlockRange ?? 2_000));
    const maxBackoffMs = Math.max(pollingIntervalMs, options.maxBackoffMs ?? 30_000);
    const report = (error: unknown) => {
      try {
        options.onError?.(error);
      } catch {
        // a failing error handler must not stop the watcher
      }
    };

    /** Next block to read; events of `next` up to and including `delivered` were handed over already. */
    let next = BigInt(options.fromBlock);
    let delivered: { blockNumber: bigint; logIndex: number } | null = null;
    let stopped = false;
    let wake: (() => void) | null = null;

    const sleep = (ms: number) =>
      new Promise<void>((resolve) => {
        if (stopped) return resolve();
        const done = () => {
          clearTimeout(timer);
          wake = null;
          resolve();
        };
        const timer = setTimeout(done, ms);
        wake = done;
      });

    const poll = async (): Promise<boolean> => {
      const client = this.clients.publicClient;
      const head = await client.getBlockNumber({ cacheTime: 0 });
      if (head < next - 1n) {
        report(
          new ConflictError(
            'CHAIN.REWOUND',
            `The chain's head is block ${head}, behind block ${next - 1n} already processed: the chain lost ` +
              `blocks (restarted from an older state). Continuing from block ${head + 1n}; events of the lost ` +
              `blocks are not delivered again.`,
            { details: { head: Number(head), lastProcessedBlock: Number(next - 1n) } },
          ),
        );
        next = head + 1n;
        delivered = null;
      }
      if (head < next) return false;
      const toBlock = head < next + maxBlockRange - 1n ? head : next + maxBlockRange - 1n;
      const logs = await client.getLogs({
        address: this.address,
        events: CONSENT_EVENTS,
        fromBlock: next,
        toBlock,
      });
      logs.sort((a, b) =>
        a.blockNumber === b.blockNumber ? a.logIndex - b.logIndex : a.blockNumber < b.blockNumber ? -1 : 1,
      );
      for (const log of logs) {
        if (stopped) return false;
        const done = delivered;
        if (
          done &&
          (log.blockNumber < done.blockNumber ||
            (log.blockNumber === done.blockNumber && log.logIndex <= done.logIndex))
        ) {
          continue;
        }
        const event = toEvent(log);
        if (event) await onEvent(event);
        delivered = { blockNumber: log.blockNumber, logIndex: log.logIndex };
      }
      next = toBlock + 1n;
      delivered = null;
      return toBlock < head;
    };

    const loop = async () => {
      let backoff = pollingIntervalMs;
      while (!stopped) {
        try {
          const more = await poll();
          backoff = pollingIntervalMs;
          if (!more) await sleep(pollingIntervalMs);
        } catch (error) {
          if (stopped) break;
          report(decodeConsentError(error));
          await sleep(backoff);
          backoff = Math.min(backoff * 2, maxBackoffMs);
        }
      }
    };
    const running = loop().catch(report); // loop() handles its own errors; this is belt and braces

    return {
      get lastProcessedBlock() {
        return Number(next - 1n);
      },
      async stop() {
        stopped = true;
        wake?.();
        await running;
      },
    };
  }

  private async readConsent(address: Hex, id: bigint, blockNumber?: bigint): Promise<ConsentRecord> {
    const consent = await this.clients.publicClient.readContract({
      address,
      abi: consentRegistryAbi,
      functionName: 'getConsent',
      args: [id],
      ...(blockNumber === undefined ? {} : { blockNumber }),
    });
    return toRecord(id, consent);
  }

  private async read<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw decodeConsentError(error);
    }
  }

  /**
   * Simulates the call (a refusal is decoded and nothing is sent), sends it after this adapter's earlier sends,
   * and waits for the receipt (see {@link SerialSender.send}).
   */
  private async send(
    what: string,
    expectedEvent: ConsentChainEventType,
    simulate: (address: Hex) => Promise<{ request: unknown }>,
  ): Promise<TransactionReceipt> {
    const address = this.address;
    const receipt = await this.sender.send({
      simulate: () => simulate(address),
      decode: decodeConsentError,
      reverted: ({ transactionHash, blockNumber }) =>
        new ConsentRegistryRejectedError(
          'CONSENT.TRANSACTION_REVERTED',
          `The ${what} transaction ${transactionHash} reverted in block ${blockNumber}; check the consent's ` +
            `state and try again.`,
          { details: { transactionHash, blockNumber: Number(blockNumber) } },
        ),
    });
    // Every successful call emits an event. None means there was no contract to run (calls to an address
    // without code succeed and do nothing): the registry is gone (chain state lost) or misconfigured.
    if (parseEventLogs({ abi: consentRegistryAbi, logs: logsOf(receipt), eventName: expectedEvent }).length) {
      return receipt;
    }
    throw new UnavailableError(
      'CONSENT.REGISTRY_MISSING',
      `The ${what} transaction ${receipt.transactionHash} was mined but the ConsentRegistry at ${address} ` +
        `emitted no ${expectedEvent} event: no ConsentRegistry runs at that address on this chain, so nothing ` +
        `was recorded; check CARELEDGER_CONSENT_REGISTRY and CHAIN_RPC_URL (an embedded chain redeploys it on ` +
        `its own).`,
      { details: { address, transactionHash: receipt.transactionHash } },
    );
  }
}

function mined(receipt: TransactionReceipt): ConsentTransaction {
  return { transactionHash: receipt.transactionHash, blockNumber: Number(receipt.blockNumber) };
}

/** A decoded registry log as a domain event (`null` for a log that did not decode). */
function toEvent(log: {
  eventName?: string;
  args?: unknown;
  blockNumber: bigint;
  logIndex: number;
  transactionHash: Hex;
}): ConsentChainEvent | null {
  const position = {
    blockNumber: Number(log.blockNumber),
    logIndex: log.logIndex,
    transactionHash: log.transactionHash,
  };
  const a = (log.args ?? {}) as Record<string, unknown>;
  const address = (key: string) => a[key] as Hex;
  const big = (key: string) => a[key] as bigint;
  const num = (key: string) => Number(a[key]);
  switch (log.eventName) {
    case 'ConsentGranted':
      return {
        type: 'ConsentGranted',
        consentId: big('consentId'),
        patient: address('patient'),
        grantee: address('grantee'),
        purposes: num('purposes'),
        validUntil: big('validUntil'),
        grantedBy: address('grantedBy'),
        ...position,
      };
    case 'ConsentRevoked':
      return {
        type: 'ConsentRevoked',
        consentId: big('consentId'),
        patient: address('patient'),
        grantee: address('grantee'),
        revokedBy: address('revokedBy'),
        ...position,
      };
    case 'DelegateAppointed':
      return {
        type: 'DelegateAppointed',
        patient: address('patient'),
        delegate: address('delegate'),
        until: big('until'),
        ...position,
      };
    case 'DelegateRemoved':
      return {
        type: 'DelegateRemoved',
        patient: address('patient'),
        delegate: address('delegate'),
        removedBy: address('removedBy'),
        ...position,
      };
    case 'BreakGlassAccess':
      return {
        type: 'BreakGlassAccess',
        patient: address('patient'),
        organization: address('organization'),
        accessor: address('accessor'),
        purpose: num('purpose'),
        reasonHash: a.reasonHash as Hex,
        accessedAt: big('accessedAt'),
        ...position,
      };
    default:
      return null;
  }
}
