import { describe, expect, it } from 'vitest';
import { bitFlags } from './bitFlags.js';

const flags = bitFlags(
  { A: 1, B: 2, C: 8 } as const,
  (name, known) => new Error(`${name} not in ${known.join('/')}`),
);

describe('bitFlags', () => {
  it('maps names to a mask and back, in flag order, ignoring undefined bits', () => {
    expect(flags.toMask(['C', 'A', 'A'])).toBe(9);
    expect(flags.toMask([])).toBe(0);
    expect(flags.fromMask(0xff)).toEqual(['A', 'B', 'C']);
    expect(flags.fromMask(4)).toEqual([]);
    expect(flags.has('B')).toBe(true);
    expect(flags.has('toString')).toBe(false);
  });

  it('refuses an unknown name with the caller’s error', () => {
    expect(() => flags.toMask(['A', 'D'])).toThrow('D not in A/B/C');
  });
});
