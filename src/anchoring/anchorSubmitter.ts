import { ConflictError, UnavailableError } from '../core/errors.js';
import { toHex, type Hex } from '../core/hex.js';
import type { Logger } from '../core/logger.js';
import { AnchorRejectedError } from './errors.js';
import type { AnchorChain, AnchorStore, Batch, TransactionStatus } from './ports.js';

export interface AnchorSubmitterOptions {
  receiptTimeoutMs: number;
  chainCheckIntervalMs: number;
  logger: Logger;
  /**
   * Called when the registry contracts are gone from the chain (an embedded chain restarted from an older
   * state). The embedded node redeploys; without it the submitter reports the problem and waits.
   */
  onContractsMissing?: () => Promise<void>;
}

export interface SubmitterStatus {
  state: 'idle' | 'anchoring' | 'retrying' | 'stopped';
  chainReachable: boolean;
  lastError: string | null;
  lastChainCheckAt: number | null;
  reanchoredBatches: number;
}

const MAX_BACKOFF_MS = 5_000;

/**
 * Gets sealed batches on chain, one transaction at a time in sequence order (the registry requires gapless
 * per-organisation sequences), and keeps checking that the chain still holds them.
 *
 * Every step is idempotent and driven by persisted batch state, so a crash at any point resumes correctly:
 * a batch whose transaction was sent but not recorded is found on chain by its root; a dropped or replaced
 * transaction (nonce clash) is sent again; and when the chain lost state (anvil restarted from an older
 * dump), the registry's `nextSequence` shows which batches vanished and they are anchored again.
 */
export class AnchorSubmitter {
  private readonly store: AnchorStore;
  private readonly chain: AnchorChain;
  private readonly options: AnchorSubmitterOptions;
  private running = false;
  private loopDone: Promise<void> = Promise.resolve();
  private wake: (() => void) | null = null;
  private nextChainCheck = 0;
  private readonly current: SubmitterStatus = {
    state: 'stopped',
    chainReachable: false,
    lastError: null,
    lastChainCheckAt: null,
    reanchoredBatches: 0,
  };

  constructor(store: AnchorStore, chain: AnchorChain, options: AnchorSubmitterOptions) {
    this.store = store;
    this.chain = chain;
    this.options = options;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.current.state = 'idle';
    this.loopDone = this.loop();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.notify();
    await this.loopDone;
    this.current.state = 'stopped';
  }

  /** Wakes the loop now (a batch was sealed). */
  notify(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  /** Forces a chain check on the next turn (e.g. the embedded chain was restarted). */
  requestChainCheck(): void {
    this.nextChainCheck = 0;
    this.notify();
  }

  status(): SubmitterStatus {
    return { ...this.current };
  }

  private async loop(): Promise<void> {
    let backoff = 100;
    while (this.running) {
      try {
        if (Date.now() >= this.nextChainCheck) {
          await this.checkChain();
          this.nextChainCheck = Date.now() + this.options.chainCheckIntervalMs;
        }
        const batch = this.store.nextBatchToAnchor();
        if (!batch) {
          this.current.state = 'idle';
          await this.sleep(Math.max(0, this.nextChainCheck - Date.now()));
          continue;
        }
        this.current.state = 'anchoring';
        this.current.lastError = null;
        await this.anchor(batch);
        backoff = 100;
      } catch (error) {
        this.current.state = 'retrying';
        this.current.lastError = describe(error);
        if (isUnreachable(error)) this.current.chainReachable = false;
        this.options.logger.warn(
          { err: describe(error), retryInMs: backoff },
          'anchoring paused; will retry',
        );
        this.nextChainCheck = 0; // after any failure, re-check what the chain holds before trying again
        await this.sleep(backoff);
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      }
    }
  }

  /** Compares what the chain holds for this organisation with what the store says is confirmed. */
  private async checkChain(): Promise<void> {
    if (!(await this.chain.contractsPresent())) {
      this.current.chainReachable = true;
      if (!this.options.onContractsMissing) {
        throw new UnavailableError(
          'CHAIN.CONTRACTS_MISSING',
          `The AnchorRegistry contract at ${this.chain.contractAddress()} has no code on this chain; check CHAIN_RPC_URL and the configured contract addresses.`,
        );
      }
      this.options.logger.warn(
        {},
        'registry contracts are missing from the chain (chain state lost); redeploying',
      );
      await this.options.onContractsMissing();
      this.reopen(1, 'contracts were missing from the chain and have been redeployed');
    }
    const next = await this.chain.nextSequence();
    this.current.chainReachable = true;
    this.current.lastChainCheckAt = Date.now();
    const highest = this.store.highestConfirmed();
    if (highest && highest.sequence >= next) {
      this.reopen(next, `the chain holds batches only up to ${next - 1}; it lost later ones (rolled back)`);
    }
    if (next > 1) {
      const local = this.store.getBatch(next - 1);
      if (!local || !local.root || local.state === 'open') {
        throw new ConflictError(
          'ANCHOR.CHAIN_AHEAD',
          `The chain holds ${next - 1} batches for organisation ${this.chain.organization}, more than this node has sealed; this data folder does not belong to this key and contract.`,
          { details: { chainNextSequence: next } },
        );
      }
      const onChain = await this.chain.rootAt(next - 1);
      if (onChain !== toHex(local.root)) {
        throw new ConflictError(
          'ANCHOR.ROOT_DIVERGED',
          `The chain holds root ${onChain} for batch ${next - 1}, but this node sealed ${toHex(local.root)}.`,
          { details: { sequence: next - 1 } },
        );
      }
    }
  }

  private reopen(from: number, reason: string): void {
    const count = this.store.reopenAnchorsFrom(from, reason);
    if (count > 0) {
      this.current.reanchoredBatches += count;
      this.options.logger.warn({ fromSequence: from, batches: count }, `re-anchoring batches: ${reason}`);
    }
  }

  private async anchor(batch: Batch): Promise<void> {
    const root = toHex(batch.root as Uint8Array);
    if (batch.state === 'submitted' && batch.transactionHash) {
      const status = await this.waitFor(batch.transactionHash);
      if (status.status === 'mined') return this.confirm(batch, batch.transactionHash, status);
      if (status.status === 'pending') {
        // Still in the pool: a second transaction would only queue behind it (or be refused as a duplicate),
        // so keep waiting and say so on /health.
        this.current.lastError = `anchor transaction ${batch.transactionHash} of batch ${batch.sequence} is still pending after ${this.options.receiptTimeoutMs} ms`;
        this.options.logger.warn(
          { sequence: batch.sequence, transactionHash: batch.transactionHash },
          'anchor transaction still pending',
        );
        return;
      }
      this.options.logger.warn(
        { sequence: batch.sequence, status: status.status },
        'anchor transaction did not land; sending it again',
      );
    }

    // The anchor may already be on chain: sent before a crash, or by a transaction we gave up on.
    const existing = await this.chain.getAnchor(root);
    if (existing) {
      if (
        existing.organization.toLowerCase() !== this.chain.organization.toLowerCase() ||
        existing.sequence !== batch.sequence
      ) {
        throw new ConflictError(
          'ANCHOR.ROOT_TAKEN',
          `Root ${root} of batch ${batch.sequence} is already anchored by ${existing.organization} as batch ${existing.sequence}.`,
        );
      }
      const tx = await this.chain.findAnchorTransaction(root, existing.blockNumber);
      if (!tx)
        throw new UnavailableError(
          'CHAIN.EVENT_MISSING',
          `The chain holds root ${root} but not its BatchAnchored event.`,
        );
      return this.confirm(batch, tx.transactionHash, {
        status: 'mined',
        blockNumber: existing.blockNumber,
        blockHash: tx.blockHash,
        anchoredAt: existing.anchoredAt,
      });
    }

    const next = await this.chain.nextSequence();
    if (next < batch.sequence) {
      this.reopen(next, `the chain expects batch ${next} before ${batch.sequence}`);
      return;
    }
    let hash: Hex;
    try {
      hash = await this.chain.submitAnchor(root, batch.leafCount, batch.sequence);
    } catch (error) {
      this.store.markAttemptFailed(batch.sequence, describe(error));
      if (error instanceof AnchorRejectedError && error.reason !== 'unauthorized') this.nextChainCheck = 0;
      throw error;
    }
    this.store.markSubmitted(batch.sequence, hash, Date.now());
    this.store.recordEvent(batch.sequence, 'submitted', hash);
    const status = await this.waitFor(hash);
    if (status.status === 'mined') return this.confirm(batch, hash, status);
    if (status.status === 'reverted') {
      this.store.markAttemptFailed(
        batch.sequence,
        `transaction ${hash} reverted in block ${status.blockNumber}`,
      );
    }
    // pending or dropped: the next turn of the loop finds the batch 'submitted' and looks again.
  }

  private confirm(
    batch: Batch,
    transactionHash: Hex,
    mined: Extract<TransactionStatus, { status: 'mined' }>,
  ): Promise<void> {
    return this.chain.chainId().then((chainId) => {
      this.store.markConfirmed(batch.sequence, {
        chainId,
        contract: this.chain.contractAddress(),
        organization: this.chain.organization,
        transactionHash,
        blockNumber: mined.blockNumber,
        blockHash: mined.blockHash,
        anchoredAt: mined.anchoredAt,
      });
      this.store.recordEvent(batch.sequence, 'confirmed', `${transactionHash} in block ${mined.blockNumber}`);
      this.options.logger.debug(
        { sequence: batch.sequence, leafCount: batch.leafCount, blockNumber: mined.blockNumber },
        'batch anchored',
      );
    });
  }

  /** Polls a transaction until it is mined, reverted or dropped, or the receipt timeout passes ('pending'). */
  private async waitFor(hash: Hex): Promise<TransactionStatus> {
    const deadline = Date.now() + this.options.receiptTimeoutMs;
    let delay = 5;
    for (;;) {
      const status = await this.chain.transactionStatus(hash);
      if (status.status !== 'pending' || Date.now() >= deadline || !this.running) return status;
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 250);
    }
  }

  private sleep(ms: number): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = null;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message.split('\n')[0] ?? error.name;
  return String(error);
}

function isUnreachable(error: unknown): boolean {
  const text = `${describe(error)} ${error instanceof Error && error.cause ? describe(error.cause) : ''}`;
  return /ECONNREFUSED|fetch failed|HTTP request failed|socket|timed out|ECONNRESET/i.test(text);
}
