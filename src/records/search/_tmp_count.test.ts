import { it } from 'vitest';
import { createHmac } from 'node:crypto';
import { extractIndexEntries } from './extractIndexEntries.js';
it('count', () => {
  const h = (v: string) => new Uint8Array(createHmac('sha256', 'k').update(v).digest().subarray(0, 16));
  const e = extractIndexEntries({ resourceType: 'Patient', id: 'p', identifier: [{ system: 's', value: 'v' }], name: [{ family: 'Müller', given: ['Jürgen', 'Hans'], prefix: ['Mr.'] }], birthDate: '1968-04-12' }, h);
  const by: Record<string, number> = {};
  for (const t of e.tokens) by[t.param] = (by[t.param] ?? 0) + 1;
  console.log(JSON.stringify(by));
});
