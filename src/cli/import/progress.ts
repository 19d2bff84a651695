/**
 * Import progress on stderr: a redrawn bar on a terminal, plain lines every few seconds otherwise (logs, CI).
 */
export interface ProgressOptions {
  total: number;
  /** Draw a bar (stderr is a terminal) instead of printing periodic lines. */
  tty: boolean;
  /** How often plain lines are printed. */
  intervalMs?: number;
  now?: () => number;
  /** When the import started (default: now). */
  started?: number;
  /** Where the bar is drawn (default process.stderr). */
  write?: (text: string) => void;
  /** Where plain lines go (default console.error). */
  line?: (text: string) => void;
}

const BAR_WIDTH = 28;

export class Progress {
  private readonly total: number;
  private readonly tty: boolean;
  private readonly intervalMs: number;
  private readonly now: () => number;
  private readonly write: (text: string) => void;
  private readonly line: (text: string) => void;
  private readonly started: number;
  private done = 0;
  private current = '';
  private lastDraw = 0;
  private drawn = false;

  constructor(options: ProgressOptions) {
    this.total = options.total;
    this.tty = options.tty;
    this.intervalMs = options.intervalMs ?? 2_000;
    this.now = options.now ?? Date.now;
    this.write = options.write ?? ((text) => void process.stderr.write(text));
    this.line = options.line ?? ((text) => console.error(text));
    this.started = options.started ?? this.now();
    this.lastDraw = this.started;
  }

  /** The file being imported now (shown on the bar). */
  file(name: string, resources: number): void {
    this.current = name;
    if (this.tty) this.draw(true);
    else this.line(`import: ${name} (${resources} resource${resources === 1 ? '' : 's'})`);
  }

  advance(count: number): void {
    this.done += count;
    const now = this.now();
    if (this.tty) {
      if (now - this.lastDraw >= 100 || this.done >= this.total) this.draw(false);
    } else if (now - this.lastDraw >= this.intervalMs) {
      this.lastDraw = now;
      this.line(`import: ${this.status(now)}`);
    }
  }

  /** Prints a message without mangling the bar. */
  say(message: string): void {
    if (this.tty && this.drawn) this.write('\r\x1b[K');
    this.line(message);
    if (this.tty && this.drawn) this.draw(true);
  }

  /** Leaves the final state on screen (terminal) or prints a last line. */
  finish(): void {
    if (this.tty) {
      this.draw(true);
      this.write('\n');
      this.drawn = false;
    } else {
      this.line(`import: ${this.status(this.now())}`);
    }
  }

  get elapsedMs(): number {
    return this.now() - this.started;
  }

  private status(now: number): string {
    const pct = this.total === 0 ? 100 : Math.floor((this.done / this.total) * 100);
    return `${this.done}/${this.total} resources (${pct}%), ${formatRate(this.done, now - this.started)}`;
  }

  private draw(force: boolean): void {
    const now = this.now();
    if (!force && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const ratio = this.total === 0 ? 1 : Math.min(1, this.done / this.total);
    const filled = Math.round(ratio * BAR_WIDTH);
    const bar = `${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)}`;
    const columns = process.stderr.columns || 100;
    const text = `[${bar}] ${this.status(now)}  ${this.current}`;
    this.write(`\r\x1b[K${text.length > columns - 1 ? text.slice(0, columns - 1) : text}`);
    this.drawn = true;
  }
}

/** `412 resources/s`. */
export function formatRate(count: number, elapsedMs: number): string {
  const perSecond = elapsedMs > 0 ? (count * 1000) / elapsedMs : 0;
  return `${perSecond >= 100 ? Math.round(perSecond) : perSecond.toFixed(1)} resources/s`;
}
