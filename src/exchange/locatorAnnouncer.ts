import type { Hex } from '../core/hex.js';
import type { Logger } from '../core/logger.js';
import type { RecordLocator } from './ports.js';

export interface LocatorAnnouncerOptions {
  locator: Pick<RecordLocator, 'announce' | 'release'>;
  logger: Logger;
  /** Attempts per announcement before it is left to the next start's reconciliation. */
  attempts?: number;
  /** First wait between attempts; doubles each time. */
  retryDelayMs?: number;
}

/**
 * Publishes on the record locator that this organisation holds records for a patient, when the patient's key is
 * linked here (the link needs the Patient to be held, and the key is the patient's only identity on chain), and
 * withdraws it when the patient is erased. Linking must not depend on the chain being up, so announcements run in
 * the background with bounded retries; `reconcile` at start re-announces every link, which also repairs what a
 * chain reset or an exhausted retry lost. One patient's announcements never run twice at once.
 */
export class LocatorAnnouncer {
  private readonly options: LocatorAnnouncerOptions;
  private readonly attempts: number;
  private readonly retryDelayMs: number;
  private readonly running = new Map<string, Promise<void>>();
  private stopped = false;

  constructor(options: LocatorAnnouncerOptions) {
    this.options = options;
    this.attempts = options.attempts ?? 5;
    this.retryDelayMs = options.retryDelayMs ?? 500;
  }

  /** Announces in the background; the returned promise (for tests and shutdown) never rejects. */
  announce(patient: Hex): Promise<void> {
    return this.enqueue(patient, 'announce');
  }

  /** Withdraws in the background (after an erasure); never rejects. */
  release(patient: Hex): Promise<void> {
    return this.enqueue(patient, 'release');
  }

  /** Re-announces every linked patient, one at a time (the chain call is a cheap read when nothing is missing). */
  async reconcile(patients: readonly Hex[]): Promise<void> {
    for (const patient of patients) {
      if (this.stopped) return;
      await this.announce(patient);
    }
  }

  /** Waits for what is running; nothing new starts. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all([...this.running.values()]);
  }

  private enqueue(patient: Hex, action: 'announce' | 'release'): Promise<void> {
    const key = patient.toLowerCase();
    const previous = this.running.get(key) ?? Promise.resolve();
    const next = previous.then(() => this.run(patient, action));
    this.running.set(key, next);
    void next.finally(() => {
      if (this.running.get(key) === next) this.running.delete(key);
    });
    return next;
  }

  private async run(patient: Hex, action: 'announce' | 'release'): Promise<void> {
    for (let attempt = 1; attempt <= this.attempts && !this.stopped; attempt++) {
      try {
        await this.options.locator[action](patient);
        return;
      } catch (error) {
        const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
        if (attempt === this.attempts) {
          this.options.logger.error(
            { patient, action, err: message },
            `could not ${action} the patient on the record locator; the next start retries`,
          );
          return;
        }
        this.options.logger.warn({ patient, action, attempt, err: message }, 'record locator: retrying');
        await new Promise((resolve) => setTimeout(resolve, this.retryDelayMs * 2 ** (attempt - 1)));
      }
    }
  }
}
