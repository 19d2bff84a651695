/**
 * Replaces every `reference` whose value is a key of `map` (a Bundle entry's fullUrl, e.g. `urn:uuid:…`) with its
 * value (`Type/id`), anywhere in `value`. Pure; used by the server's transaction processing and by the importer.
 */
export function rewriteReferences(value: unknown, map: ReadonlyMap<string, string>): unknown {
  if (map.size === 0) return value;
  if (Array.isArray(value)) return value.map((v) => rewriteReferences(v, map));
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    out[key] =
      key === 'reference' && typeof child === 'string' && map.has(child)
        ? map.get(child)
        : rewriteReferences(child, map);
  }
  return out;
}
