import { BaseError, NonceTooLowError, type TransactionReceipt } from 'viem';
import { CareLedgerError } from '../core/errors.js';
import type { ChainClients } from './chainClients.js';

/** A write that lost its nonce to another transaction of the same account is tried this many times. */
const SEND_ATTEMPTS = 5;

/** True if a send failed because another transaction of the same account took its nonce. */
function isNonceClash(error: unknown): boolean {
  if (!(error instanceof BaseError)) return false;
  const texts: string[] = [];
  const clash = error.walk((e) => {
    if (e instanceof NonceTooLowError) return true;
    texts.push(e instanceof BaseError ? `${e.details} ${e.shortMessage}` : String(e));
    return false;
  });
  return (
    clash !== null ||
    /nonce too low|nonce has already been used|replacement transaction underpriced|already known/i.test(
      texts.join(' '),
    )
  );
}

/** The logs `receipt` holds from the contract it called. */
export function logsOf(receipt: TransactionReceipt): TransactionReceipt['logs'] {
  const to = receipt.to?.toLowerCase();
  return receipt.logs.filter((log) => log.address.toLowerCase() === to);
}

/** One contract write for {@link SerialSender.send}. */
export interface SerialSend {
  /** Simulates the call; its `request` is what is sent. Called again to learn why a mined transaction reverted. */
  simulate: () => Promise<{ request: unknown }>;
  /** Turns a viem error into the contract's `CareLedgerError` (see `decodeContractError`). */
  decode: (error: unknown) => unknown;
  /** The error for a reverted receipt whose reason a new simulation does not tell. */
  reverted: (receipt: TransactionReceipt) => CareLedgerError;
}

/**
 * Sends one account's contract writes one at a time (one nonce each), so the writes of one adapter never race
 * each other for a nonce.
 */
export class SerialSender {
  private readonly clients: ChainClients;
  private readonly receiptTimeoutMs: number;
  /** Sends, one after the other. */
  private sending: Promise<unknown> = Promise.resolve();

  constructor(clients: ChainClients, receiptTimeoutMs: number) {
    this.clients = clients;
    this.receiptTimeoutMs = receiptTimeoutMs;
  }

  /**
   * Simulates the call (a refusal is decoded and nothing is sent), sends it after this sender's earlier sends
   * (again, up to five times in all, if another transaction of the account took its nonce) and waits for the
   * receipt. Resolves with a successful receipt. A reverted receipt (the state changed between simulation and
   * mining) is simulated again to report the reason, else `reverted(receipt)`. Errors are decoded with `decode`.
   */
  async send({ simulate, decode, reverted }: SerialSend): Promise<TransactionReceipt> {
    try {
      const hash = await this.serialized(async () => {
        for (let attempt = 1; ; attempt++) {
          const { request } = await simulate();
          try {
            return await this.clients.walletClient.writeContract(
              request as Parameters<typeof this.clients.walletClient.writeContract>[0],
            );
          } catch (error) {
            if (attempt < SEND_ATTEMPTS && isNonceClash(error)) continue;
            // The state changed between the simulation and the send (another sender of this account got there
            // first): the send's own revert carries only the function's ABI, so simulate again for the decoded reason.
            await simulate();
            throw error;
          }
        }
      });
      const receipt = await this.clients.publicClient.waitForTransactionReceipt({
        hash,
        timeout: this.receiptTimeoutMs,
        pollingInterval: 100,
      });
      if (receipt.status === 'success') return receipt;
      try {
        await simulate();
      } catch (error) {
        const decoded = decode(error);
        if (decoded instanceof CareLedgerError) throw decoded;
      }
      throw reverted(receipt);
    } catch (error) {
      throw decode(error);
    }
  }

  private serialized<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.sending.then(fn, fn);
    this.sending = result.catch(() => undefined);
    return result;
  }
}
