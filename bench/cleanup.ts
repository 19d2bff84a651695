/**
 * A stack of clean-up steps run in reverse order, each at most once, even if an earlier one fails. Also run on
 * SIGINT/SIGTERM and by a watchdog, so an interrupted or stuck bench leaves no node, anvil or temp folder behind.
 */
export class Cleanup {
  private readonly steps: { name: string; fn: () => Promise<void> | void }[] = [];
  private running: Promise<void> | null = null;

  defer(name: string, fn: () => Promise<void> | void): void {
    this.steps.push({ name, fn });
  }

  runAll(): Promise<void> {
    this.running ??= (async () => {
      while (this.steps.length > 0) {
        const step = this.steps.pop() as { name: string; fn: () => Promise<void> | void };
        try {
          await step.fn();
        } catch (error) {
          console.error(`clean-up step "${step.name}" failed: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
    })();
    return this.running;
  }
}
