import { formatRate } from './progress.js';
import type { FileProblem, Origin, Rejection } from './sources.js';

/** What an import did so far. */
export interface ImportTally {
  /** Files found to import (readable or not). */
  files: number;
  /** Files sent completely. */
  filesDone: number;
  /** Resources the files hold (lines, entries). */
  resources: number;
  accepted: number;
  created: number;
  updated: number;
  /** Resources not stored (a failed transaction counts all of its entries). */
  rejected: number;
  /** Bundle entries without a resource (GET, DELETE): not imported. */
  skipped: number;
  rejections: Rejection[];
  fileProblems: FileProblem[];
}

export function emptyTally(): ImportTally {
  return {
    files: 0,
    filesDone: 0,
    resources: 0,
    accepted: 0,
    created: 0,
    updated: 0,
    rejected: 0,
    skipped: 0,
    rejections: [],
    fileProblems: [],
  };
}

/** `Observation.ndjson line 4 (Observation/obs-4)`, `bundle.json entry 12 (Patient/abc)`. */
export function describeOrigin(origin: Origin): string {
  const where =
    origin.line !== undefined
      ? ` line ${origin.line}`
      : origin.entry !== undefined
        ? ` entry ${origin.entry}`
        : origin.span !== undefined
          ? ` ${origin.span}`
          : '';
  const what = origin.resourceType
    ? ` (${origin.resourceType}${origin.id !== undefined ? `/${origin.id}` : ', no id'})`
    : '';
  return `${origin.file}${where}${what}`;
}

const SHOWN_PER_REASON = 10;

/** The human summary: counts, time and rate, then rejections grouped by kind and reason, then unreadable files. */
export function summaryText(tally: ImportTally, elapsedMs: number): string[] {
  const lines: string[] = [];
  const unreadable = tally.fileProblems.length;
  lines.push('Import summary');
  lines.push(
    `  files:     ${tally.filesDone} imported${unreadable > 0 ? `, ${unreadable} could not be read` : ''}${
      tally.files - tally.filesDone - unreadable > 0
        ? `, ${tally.files - tally.filesDone - unreadable} not finished`
        : ''
    }`,
  );
  lines.push(
    `  resources: ${tally.accepted} accepted (${tally.created} created, ${tally.updated} updated), ${tally.rejected} rejected${
      tally.skipped > 0
        ? `; ${tally.skipped} Bundle ${tally.skipped === 1 ? 'entry' : 'entries'} without a resource skipped`
        : ''
    }`,
  );
  lines.push(
    `  elapsed:   ${(elapsedMs / 1000).toFixed(2)} s (${formatRate(tally.accepted + tally.rejected, elapsedMs)})`,
  );
  if (tally.rejections.length > 0) {
    lines.push(`Rejected (${tally.rejected}):`);
    for (const [category, byReason] of groupRejections(tally.rejections)) {
      const count = [...byReason.values()].flat().reduce((n, r) => n + r.resources, 0);
      lines.push(`  ${category} — ${count} resource${count === 1 ? '' : 's'}:`);
      for (const [reason, items] of byReason) {
        lines.push(`    ${reason}`);
        for (const r of items.slice(0, SHOWN_PER_REASON)) lines.push(`      ${describeOrigin(r.origin)}`);
        if (items.length > SHOWN_PER_REASON)
          lines.push(`      … and ${items.length - SHOWN_PER_REASON} more (use --json for all)`);
      }
    }
  }
  if (unreadable > 0) {
    lines.push(`Files that could not be imported (${unreadable}):`);
    for (const p of tally.fileProblems) lines.push(`  ${p.file}: ${p.reason}`);
  }
  return lines;
}

/** Rejections by category (`HTTP 400 invalid`, `not JSON`), then by identical reason, in first-seen order. */
export function groupRejections(rejections: Rejection[]): Map<string, Map<string, Rejection[]>> {
  const groups = new Map<string, Map<string, Rejection[]>>();
  for (const r of rejections) {
    let byReason = groups.get(r.category);
    if (!byReason) groups.set(r.category, (byReason = new Map()));
    const items = byReason.get(r.reason);
    if (items) items.push(r);
    else byReason.set(r.reason, [r]);
  }
  return groups;
}

/** The summary as one JSON document (`--json`). */
export function summaryJson(tally: ImportTally, elapsedMs: number, stopped?: string): object {
  return {
    ok: tally.rejected === 0 && tally.fileProblems.length === 0 && stopped === undefined,
    ...(stopped !== undefined ? { stopped } : {}),
    files: {
      found: tally.files,
      imported: tally.filesDone,
      unreadable: tally.fileProblems,
    },
    resources: {
      total: tally.resources,
      accepted: tally.accepted,
      created: tally.created,
      updated: tally.updated,
      rejected: tally.rejected,
      skippedEntries: tally.skipped,
    },
    elapsedMs: Math.round(elapsedMs),
    resourcesPerSecond:
      elapsedMs > 0 ? Math.round(((tally.accepted + tally.rejected) * 1000) / elapsedMs) : 0,
    rejections: tally.rejections.map((r) => ({
      ...r.origin,
      ...(r.status !== undefined ? { status: r.status } : {}),
      category: r.category,
      reason: r.reason,
      resources: r.resources,
    })),
  };
}
