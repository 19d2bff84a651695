import { performance } from 'node:perf_hooks';
import type { AnchoringService } from '../src/anchoring/anchoringService.js';
import type { WriteUnit } from '../src/anchoring/ports.js';

export interface CommitStats {
  /** Commits that wrote records (age-triggered seals without records are not counted). */
  commits: number;
  records: number;
  meanGroup: number;
  maxGroup: number;
  /** Wall time spent inside the store's commit (binding, SQLite, fsync), ms. */
  commitMs: number;
}

export interface CommitProbe {
  stats(): CommitStats;
  /** Puts the store's own `commit` back. */
  remove(): void;
}

type CommitFn = (unit: WriteUnit) => void;

/**
 * Measurement probe: wraps the node's store `commit` (reached through the anchoring service's private `store`
 * field, at run time) to count group-commit sizes and the time spent committing. Returns null, and the bench falls
 * back to an estimate, if the service no longer has that shape.
 */
export function probeCommits(anchoring: AnchoringService): CommitProbe | null {
  const store = (anchoring as unknown as { store?: { commit?: unknown } }).store;
  if (!store || typeof store.commit !== 'function') return null;
  const target = store as { commit: CommitFn };
  const original = target.commit;
  let commits = 0;
  let records = 0;
  let maxGroup = 0;
  let commitMs = 0;
  target.commit = function probedCommit(this: unknown, unit: WriteUnit) {
    const t0 = performance.now();
    try {
      original.call(this, unit);
    } finally {
      commitMs += performance.now() - t0;
      if (unit.records.length > 0) {
        commits++;
        records += unit.records.length;
        if (unit.records.length > maxGroup) maxGroup = unit.records.length;
      }
    }
  };
  return {
    stats: () => ({ commits, records, meanGroup: commits > 0 ? records / commits : 0, maxGroup, commitMs }),
    remove: () => {
      Reflect.deleteProperty(target, 'commit');
    },
  };
}
