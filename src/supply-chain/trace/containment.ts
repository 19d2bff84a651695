/**
 * When an object was inside which container, from the AggregationEvents captured here (pure). EPCIS aggregation:
 * `ADD` (or `OBSERVE`) puts the children in the parent; `DELETE` takes the listed children out, or, with no children
 * listed, empties the parent. An object is in one container at a time, so an `ADD` into another parent takes it out of
 * the one it was in (re-packing without an explicit `DELETE`). Events are taken in event-time order (ties by capture
 * order), not capture order: partners' documents arrive late.
 */

/** One AggregationEvent, reduced to what containment needs; identifiers as canonical keys. */
export interface AggregationFact {
  recordId: number;
  eventId: string;
  /** ms since the epoch */
  eventTime: number;
  action: string;
  /** The parent's canonical key. */
  parent: string;
  /** The parent as the event writes it (for people). */
  parentEpc: string;
  /** The children's canonical keys. */
  children: readonly string[];
}

/** The time an object spent in one container; both ends inclusive, `until: null` while it is still inside. */
export interface ContainmentInterval {
  container: string;
  containerEpc: string;
  from: number;
  until: number | null;
  /** The event that put it in. */
  addedBy: string;
  /** The event that took it out (or emptied the container, or put it in another one), if any. */
  removedBy: string | null;
}

const byTime = (a: AggregationFact, b: AggregationFact) =>
  a.eventTime - b.eventTime || a.recordId - b.recordId;

/**
 * The intervals `subject` spent inside containers, in time order.
 * @param facts - Every AggregationEvent of every parent the subject was ever a child of (those naming the subject as
 *   a child, and those emptying the parent); others are ignored. Duplicates (same event id) count once.
 */
export function containmentIntervals(
  subject: string,
  facts: readonly AggregationFact[],
): ContainmentInterval[] {
  const seen = new Set<string>();
  const ordered = facts.filter((f) => !seen.has(f.eventId) && seen.add(f.eventId)).sort(byTime);
  const closed: ContainmentInterval[] = [];
  let open: ContainmentInterval | undefined;
  const close = (fact: AggregationFact) => {
    if (!open) return;
    closed.push({ ...open, until: fact.eventTime, removedBy: fact.eventId });
    open = undefined;
  };
  for (const fact of ordered) {
    if (fact.parent === subject) continue; // the subject's own children: not about where it is
    const named = fact.children.includes(subject);
    if (fact.action === 'ADD' || fact.action === 'OBSERVE') {
      if (!named) continue;
      if (open?.container === fact.parent) continue; // already inside: an OBSERVE or a repeated ADD confirms it
      close(fact); // moved from another container into this one
      open = {
        container: fact.parent,
        containerEpc: fact.parentEpc,
        from: fact.eventTime,
        until: null,
        addedBy: fact.eventId,
        removedBy: null,
      };
    } else if (fact.action === 'DELETE') {
      if (open?.container === fact.parent && (named || fact.children.length === 0)) close(fact);
    }
  }
  if (open) closed.push(open);
  return closed;
}

/** A container the subject was in (directly or inside another container it was in), for a time. */
export interface ContainerWindow extends ContainmentInterval {
  /** 1 for the subject's own container, 2 for the container of that one, … */
  depth: number;
  /** The containers from the subject's own (first) up to this one (last), as canonical keys. */
  path: string[];
  /** The same, as the events write them. */
  pathEpcs: string[];
}

/** The deepest nesting followed: pack → case → pallet → and one more (a container in a shipping container, say). */
export const MAX_CONTAINER_DEPTH = 4;

/**
 * Every container `subject` was in, directly or nested (pack → case → pallet), each with the time window in which the
 * subject was inside it: a case's time on a pallet counts for the pack only while the pack was in the case.
 * @param factsOf - The AggregationEvents relevant to an object's containment (see {@link containmentIntervals}).
 */
export function containerWindows(
  subject: string,
  factsOf: (key: string) => readonly AggregationFact[],
  maxDepth = MAX_CONTAINER_DEPTH,
): ContainerWindow[] {
  const out: ContainerWindow[] = [];
  const visit = (
    key: string,
    window: { from: number; until: number | null } | null,
    path: ContainerWindow[],
  ) => {
    if (path.length >= maxDepth) return;
    for (const interval of containmentIntervals(key, factsOf(key))) {
      if (interval.container === subject || path.some((p) => p.container === interval.container)) continue;
      const from = window ? Math.max(window.from, interval.from) : interval.from;
      const until = minEnd(window?.until ?? null, interval.until);
      if (until !== null && until < from) continue; // not while the subject was inside
      const nested: ContainerWindow = {
        ...interval,
        from,
        until,
        depth: path.length + 1,
        path: [...path.map((p) => p.container), interval.container],
        pathEpcs: [...path.map((p) => p.containerEpc), interval.containerEpc],
      };
      out.push(nested);
      visit(interval.container, { from, until }, [...path, nested]);
    }
  };
  visit(subject, null, []);
  return out.sort((a, b) => a.from - b.from || a.depth - b.depth);
}

function minEnd(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.min(a, b);
}

/** True when `time` falls inside the window (both ends inclusive). */
export function within(window: { from: number; until: number | null }, time: number): boolean {
  return time >= window.from && (window.until === null || time <= window.until);
}
