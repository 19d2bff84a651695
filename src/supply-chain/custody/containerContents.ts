import type { EpcisStore } from '../capture/ports.js';
import { identifierKey } from '../epcis/gs1.js';

/**
 * What a container (an SSCC case or pallet, by canonical key) holds according to the aggregation events stored
 * here, in the order they were captured: ADD puts children in, DELETE takes them out (or, without children, empties
 * it). The children are returned as canonical keys.
 */
export function containerContents(
  store: Pick<EpcisStore, 'query' | 'hasIdentifier'>,
  parentKey: string,
): string[] {
  // A container no event packed is empty: the usual answer for a case being packed, found by one index probe.
  if (store.hasIdentifier?.(parentKey, 'parent') === false) return [];
  const contents = new Set<string>();
  let after = 0;
  for (;;) {
    const rows = store.query({
      eventTypes: ['AggregationEvent'],
      epcConditions: [{ epcs: [parentKey], prefixes: [], roles: ['parent'] }],
      afterRecordId: after,
      limit: 500,
    });
    for (const row of rows) {
      const event = JSON.parse(row.body) as { action?: string; childEPCs?: unknown[] };
      const children = (event.childEPCs ?? [])
        .filter((c): c is string => typeof c === 'string')
        .map(identifierKey);
      if (event.action === 'ADD') for (const c of children) contents.add(c);
      else if (event.action === 'DELETE') {
        if (children.length === 0) contents.clear();
        for (const c of children) contents.delete(c);
      }
    }
    if (rows.length < 500) break;
    after = (rows[rows.length - 1] as { recordId: number }).recordId;
  }
  return [...contents];
}
