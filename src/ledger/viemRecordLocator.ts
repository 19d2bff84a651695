import { parseEventLogs, type TransactionReceipt } from 'viem';
import { CareLedgerError, UnavailableError } from '../core/errors.js';
import type { Hex } from '../core/hex.js';
import type { RecordLocator } from '../exchange/ports.js';
import type { ChainClients } from './chainClients.js';
import { decodeLocatorError, RecordLocatorRejectedError } from './decodeLocatorError.js';
import { recordLocatorAbi } from './generated/contracts.js';
import { logsOf, SerialSender } from './serialSender.js';

export interface ViemRecordLocatorOptions {
  /** How long `announce` and `release` wait for their receipt before answering 503 (it may still be mined). */
  receiptTimeoutMs?: number;
}

type LocatorEvent = 'RecordsAnnounced' | 'RecordsReleased';

/**
 * The `RecordLocator` over viem: announces and releases this organisation's entries (it must be an active
 * consortium member to announce) and reads who holds records for a patient.
 *
 * Both writes are idempotent. Each first reads `holds(patient, this organisation)` and sends nothing when the
 * chain already says what was asked; calls for the same patient run one after the other (each waits for the
 * previous one's receipt), so an `announce` racing a `release` cannot read a state the other is about to
 * change, and a burst of announcements for one patient sends one transaction. A send is simulated first, so a
 * refusal is reported with the contract's reason and nothing is sent; sends of this adapter go out one at a
 * time (one nonce each), and each call resolves once its transaction is mined. Errors are `CareLedgerError`s
 * (see {@link decodeLocatorError}).
 */
export class ViemRecordLocator implements RecordLocator {
  private readonly clients: ChainClients;
  private address: Hex;
  /** Sends of this adapter, one after the other, so they never race each other for a nonce. */
  private readonly sender: SerialSender;
  /** The last call queued per patient (lower-case address); removed once it is done and nothing follows. */
  private readonly perPatient = new Map<string, Promise<unknown>>();

  constructor(clients: ChainClients, recordLocator: Hex, options: ViemRecordLocatorOptions = {}) {
    this.clients = clients;
    this.address = recordLocator;
    this.sender = new SerialSender(clients, options.receiptTimeoutMs ?? 30_000);
  }

  contractAddress(): Hex {
    return this.address;
  }

  /** Points the adapter at a newly deployed locator (embedded chain redeployed after losing state). */
  useContract(recordLocator: Hex): void {
    this.address = recordLocator;
  }

  /**
   * Publishes that this organisation holds records for `patient`; sends nothing if the chain already says so.
   * Resolves once the announcement is mined (or found on chain).
   */
  announce(patient: Hex): Promise<void> {
    return this.forPatient(patient, async () => {
      if (await this.holds(patient)) return;
      const receipt = await this.send('announcement', 'announce', 'RecordsAnnounced', patient);
      if (receipt) return;
      // Mined without an event: the contract's no-op for an entry that exists (another sender with this key
      // announced first) — or there is no contract at the address, which the read below reports as missing.
      if (await this.holds(patient)) return;
      throw missingLocator('announcement', this.address);
    });
  }

  /**
   * Withdraws this organisation's entry for `patient` (after erasure); sends nothing if there is none.
   * Resolves once the release is mined (or the entry is found gone).
   */
  release(patient: Hex): Promise<void> {
    return this.forPatient(patient, async () => {
      if (!(await this.holds(patient))) return;
      try {
        const receipt = await this.send('release', 'release', 'RecordsReleased', patient);
        if (receipt) return;
        throw missingLocator('release', this.address); // `release` always emits or reverts
      } catch (error) {
        // Released meanwhile by another sender with this organisation's key: what was asked is done.
        if (error instanceof CareLedgerError && error.code === 'LOCATOR.NOT_HELD') return;
        throw error;
      }
    });
  }

  /** The organisations that hold records for `patient`, in the contract's order (see `IRecordLocator`). */
  async holdersOf(patient: Hex): Promise<Hex[]> {
    const holders = await this.read(() =>
      this.clients.publicClient.readContract({
        address: this.address,
        abi: recordLocatorAbi,
        functionName: 'holdersOf',
        args: [patient],
      }),
    );
    return [...holders];
  }

  /** Whether `organization` (by default this one) holds an entry for `patient`. */
  async holds(patient: Hex, organization: Hex = this.clients.account.address): Promise<boolean> {
    return this.read(() =>
      this.clients.publicClient.readContract({
        address: this.address,
        abi: recordLocatorAbi,
        functionName: 'holds',
        args: [patient, organization],
      }),
    );
  }

  private async read<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw decodeLocatorError(error);
    }
  }

  /**
   * Simulates `functionName(patient)` (a refusal is decoded and nothing is sent), sends it after this adapter's
   * earlier sends, and waits for the receipt (see {@link SerialSender.send}). Returns the receipt if it carries
   * `expectedEvent`, `null` if it was mined without it (the caller decides what that means).
   */
  private async send(
    what: string,
    functionName: 'announce' | 'release',
    expectedEvent: LocatorEvent,
    patient: Hex,
  ): Promise<TransactionReceipt | null> {
    const address = this.address;
    const receipt = await this.sender.send({
      simulate: () =>
        this.clients.publicClient.simulateContract({
          address,
          abi: recordLocatorAbi,
          functionName,
          args: [patient],
          account: this.clients.account,
        }),
      decode: decodeLocatorError,
      reverted: ({ transactionHash, blockNumber }) =>
        new RecordLocatorRejectedError(
          'LOCATOR.TRANSACTION_REVERTED',
          `The ${what} transaction ${transactionHash} for patient ${patient} reverted in block ${blockNumber}; ` +
            `try again.`,
          { details: { transactionHash, blockNumber: Number(blockNumber), patient } },
        ),
    });
    return parseEventLogs({ abi: recordLocatorAbi, logs: logsOf(receipt), eventName: expectedEvent }).length
      ? receipt
      : null;
  }

  /** Runs `fn` after every earlier call for `patient` has finished (whatever their outcome). */
  private forPatient<T>(patient: Hex, fn: () => Promise<T>): Promise<T> {
    const key = patient.toLowerCase();
    const result = (this.perPatient.get(key) ?? Promise.resolve()).then(fn, fn);
    const tail = result.catch(() => undefined);
    this.perPatient.set(key, tail);
    void tail.then(() => {
      if (this.perPatient.get(key) === tail) this.perPatient.delete(key);
    });
    return result;
  }
}

/**
 * A mined call that did nothing: calls to an address without code succeed and do nothing, so the locator is
 * gone (chain state lost) or misconfigured.
 */
function missingLocator(what: string, address: Hex): UnavailableError {
  return new UnavailableError(
    'LOCATOR.CONTRACT_MISSING',
    `The ${what} transaction was mined but no RecordLocator at ${address} recorded it: no RecordLocator ` +
      `runs at that address on this chain; check CARELEDGER_RECORD_LOCATOR and CHAIN_RPC_URL (an embedded ` +
      `chain redeploys it on its own).`,
    { details: { address } },
  );
}
