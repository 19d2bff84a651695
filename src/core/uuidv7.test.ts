import { describe, expect, it } from 'vitest';
import { uuidv7 } from './uuidv7.js';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const timeOf = (id: string): number => parseInt(id.replace(/-/g, '').slice(0, 12), 16);

describe('uuidv7', () => {
  it('has the RFC 9562 layout: version 7, variant 10, the time in the first 48 bits', () => {
    const at = Date.UTC(2026, 10, 24, 12, 0, 0, 123);
    const id = uuidv7(at);
    expect(id).toMatch(UUID_V7);
    expect(timeOf(id)).toBe(at);
  });

  it('is strictly increasing within a millisecond, across 10,000 ids and when the clock goes back', () => {
    const at = Date.now() + 60_000;
    const ids = Array.from({ length: 10_000 }, () => uuidv7(at));
    ids.push(uuidv7(at - 5_000)); // clock stepped back
    for (let i = 1; i < ids.length; i++) expect(ids[i]! > ids[i - 1]!).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(UUID_V7);
  });

  it('keeps unguessable bits: two ids of the same millisecond differ in their random tail', () => {
    const at = Date.now() + 120_000;
    const a = uuidv7(at).slice(19);
    const b = uuidv7(at).slice(19);
    expect(a).not.toBe(b);
  });
});
