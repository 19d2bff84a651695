export { withTimeout } from '../src/core/withTimeout.js';
import { performance } from 'node:perf_hooks';

/** Milliseconds since the epoch with sub-millisecond resolution, comparable across worker threads. */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Nearest-rank percentile of an ascending array (0 for an empty one). */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

/**
 * Calls `step` in a loop for about `ms` milliseconds (checking the clock every `chunk` calls) and returns the
 * number of calls per second. `step` gets the iteration number.
 */
export function ratePerSecond(ms: number, step: (i: number) => void, chunk = 256): number {
  let i = 0;
  const start = performance.now();
  let elapsed = 0;
  do {
    for (let j = 0; j < chunk; j++) step(i++);
    elapsed = performance.now() - start;
  } while (elapsed < ms);
  return (i / elapsed) * 1000;
}

export interface RateStats {
  /** Calls per second of the fastest slice: the per-core figure, least disturbed by other work on the machine. */
  best: number;
  median: number;
  slices: number[];
}

/** Warms `step` up, then measures it in `slices` equal slices of `ms / slices` each. */
export function sliceRates(ms: number, step: (i: number) => void, slices = 4): RateStats {
  ratePerSecond(Math.min(300, ms / 4), step);
  const rates: number[] = [];
  for (let s = 0; s < slices; s++) rates.push(ratePerSecond(ms / slices, step));
  const sorted = [...rates].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median =
    sorted.length % 2 === 1
      ? (sorted[mid] as number)
      : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  return { best: sorted[sorted.length - 1] as number, median, slices: rates };
}
