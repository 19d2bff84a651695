/** Number formatting and the aligned text table the bench prints. */

export const fmt = (value: number, digits = 0): string =>
  value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** A ratio as `0.123×`, or as `1/4,000` when it is too small to read that way. */
export function fmtRatio(ratio: number | null): string {
  if (ratio === null || !Number.isFinite(ratio)) return 'n/a';
  if (ratio >= 0.01) return `${ratio.toFixed(3)}×`;
  return `1/${fmt(1 / ratio)}`;
}

export type Status = 'PASS' | 'MISS' | 'n/a' | '';

export interface Row {
  figure: string;
  value: string;
  baseline: string;
  ratio: string;
  target: string;
  status: Status;
}

export function status(value: number | null, target: number, direction: 'atLeast' | 'atMost'): Status {
  if (value === null) return 'n/a';
  return (direction === 'atLeast' ? value >= target : value <= target) ? 'PASS' : 'MISS';
}

export function renderTable(rows: Row[]): string {
  const header: Row = {
    figure: 'Figure',
    value: 'Value',
    baseline: 'Baseline (same run)',
    ratio: 'Ratio',
    target: 'Target',
    status: '',
  };
  const all = [header, ...rows];
  const width = (key: keyof Row) => Math.max(...all.map((r) => r[key].length));
  const w = {
    figure: width('figure'),
    value: width('value'),
    baseline: width('baseline'),
    ratio: width('ratio'),
    target: width('target'),
  };
  const line = (r: Row) =>
    [
      r.figure.padEnd(w.figure),
      r.value.padStart(w.value),
      r.baseline.padEnd(w.baseline),
      r.ratio.padStart(w.ratio),
      r.target.padEnd(w.target),
      r.status,
    ]
      .join('  ')
      .trimEnd();
  const rule = '-'.repeat(line(header).length + 6);
  return [line(header), rule, ...rows.map(line)].join('\n');
}
