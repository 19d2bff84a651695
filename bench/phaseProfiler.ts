import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Session } from 'node:inspector/promises';

/** `.bench/` at the repository's root, where the bench writes what it measured. */
export function benchOutputDirectory(): string {
  const directory = fileURLToPath(new URL('../.bench/', import.meta.url));
  mkdirSync(directory, { recursive: true });
  return directory;
}

/**
 * CPU profile of the node's main thread during one bench phase, for finding where its time goes:
 * `BENCH_PROFILE=single` (or `bundle`, `reads`) writes `.bench/<phase>.cpuprofile`, which Chrome DevTools or
 * speedscope open. Profiling slows the phase, so its figures are not comparable with an unprofiled run.
 */
export class PhaseProfiler {
  private session: Session | null = null;

  constructor(
    private readonly phase: string | undefined,
    private readonly directory: string,
    private readonly log: (line: string) => void,
  ) {}

  async start(phase: string): Promise<void> {
    if (phase !== this.phase || this.session) return;
    this.session = new Session();
    this.session.connect();
    await this.session.post('Profiler.enable');
    await this.session.post('Profiler.start');
  }

  async stop(phase: string): Promise<void> {
    const session = this.session;
    if (phase !== this.phase || !session) return;
    this.session = null;
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    const file = `${this.directory}${phase}.cpuprofile`;
    writeFileSync(file, JSON.stringify(profile));
    this.log(`wrote the main thread's CPU profile of "${phase}" to ${file}`);
  }
}
