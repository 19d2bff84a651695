import { describe, expect, it } from 'vitest';
import { formatRate, Progress } from '../../src/cli/import/progress.js';

describe('import progress', () => {
  it('redraws one bar line on a terminal, with done/total and rate', () => {
    let now = 0;
    const written: string[] = [];
    const lines: string[] = [];
    const progress = new Progress({
      total: 200,
      tty: true,
      now: () => now,
      write: (t) => written.push(t),
      line: (t) => lines.push(t),
    });
    progress.file('Observation.ndjson', 200);
    now = 1_000;
    progress.advance(100);
    now = 2_000;
    progress.advance(100);
    progress.finish();
    expect(lines).toEqual([]);
    const last = written.filter((w) => w.startsWith('\r')).at(-1) as string;
    expect(last).toContain('200/200 resources (100%), 100 resources/s');
    expect(last).toContain('█'.repeat(28));
    expect(written.at(-1)).toBe('\n');
  });

  it('prints plain lines every interval when stderr is not a terminal', () => {
    let now = 0;
    const lines: string[] = [];
    const progress = new Progress({
      total: 300,
      tty: false,
      intervalMs: 2_000,
      now: () => now,
      line: (t) => lines.push(t),
    });
    progress.file('Patient.ndjson', 300);
    for (let i = 1; i <= 3; i++) {
      now = i * 1_000;
      progress.advance(100);
    }
    progress.finish();
    expect(lines).toEqual([
      'import: Patient.ndjson (300 resources)',
      'import: 200/300 resources (66%), 100 resources/s',
      'import: 300/300 resources (100%), 100 resources/s',
    ]);
  });

  it('formats rates', () => {
    expect(formatRate(0, 0)).toBe('0.0 resources/s');
    expect(formatRate(5, 2_000)).toBe('2.5 resources/s');
    expect(formatRate(10_500, 5_830)).toBe('1801 resources/s');
  });
});
