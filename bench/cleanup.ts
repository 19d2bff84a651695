/**
 * A stack of clean-up steps run in reverse order, each at most once, even if an earlier one fails. Also run on
 * SIGINT/SIGTERM and by a watchdog, so an interrupted or stuck bench leaves no node, anvil or temp folder behind.
 * Steps deferred while (or after) clean-up runs are drained by the next `runAll`.
 */
export class Cleanup {
  private readonly steps: { name: string; fn: () => Promise<void> | void }[] = [];
  private draining: Promise<void> = Promise.resolve();
  private reason: string | null = null;

  defer(name: string, fn: () => Promise<void> | void): void {
    this.steps.push({ name, fn });
  }

  /** Marks the run as aborted: `throwIfAborted` then stops the bench between sections. */
  abort(reason: string): void {
    this.reason ??= reason;
  }

  get aborted(): string | null {
    return this.reason;
  }

  throwIfAborted(): void {
    if (this.reason !== null) throw new Error(`bench aborted: ${this.reason}`);
  }

  runAll(): Promise<void> {
    this.draining = this.draining.then(() => this.drain());
    return this.draining;
  }

  private async drain(): Promise<void> {
    for (let step = this.steps.pop(); step; step = this.steps.pop()) {
      try {
        await step.fn();
      } catch (error) {
        console.error(
          `clean-up step "${step.name}" failed: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    }
  }
}
