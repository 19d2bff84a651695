import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, extname, isAbsolute, join, relative, resolve } from 'node:path';
import { FHIR_ID_RE } from '../../records/supportedTypes.js';
import { rewriteReferences } from '../../records/rewriteReferences.js';

/**
 * What `careledger import` reads: `.json` files (a Bundle or one resource) and `.ndjson` files (FHIR Bulk Data:
 * one resource per line), turned into the Bundles it sends. Nothing here talks to the gateway.
 */
export type SourceFormat = 'json' | 'ndjson';

export interface SourceFile {
  path: string;
  /** The file as reports show it: relative to the working folder when inside it. */
  name: string;
  format: SourceFormat;
}

/** Where a resource came from: file, NDJSON line or Bundle entry (0-based, as in Bundle.entry[n]), type and id. */
export interface Origin {
  file: string;
  line?: number;
  entry?: number;
  /** A part of the file (`lines 101–200`), when the whole request failed. */
  span?: string;
  resourceType?: string;
  id?: string;
}

export interface ImportEntry {
  origin: Origin;
  fullUrl?: string;
  resource: Record<string, unknown>;
  request: { method: 'PUT' | 'POST'; url: string };
}

/** A resource (or a whole transaction) that was not stored, and why. */
export interface Rejection {
  origin: Origin;
  /** The HTTP status the gateway answered; absent when the CLI refused it before sending. */
  status?: number;
  /** How reasons are grouped in the summary, e.g. `HTTP 400 invalid` or `not JSON`. */
  category: string;
  reason: string;
  /** Resources not stored because of it: 1, or every entry of a failed transaction. */
  resources: number;
}

/** One request's worth of work: a batch or transaction Bundle, plus lines refused before sending. */
export interface ImportUnit {
  kind: 'batch' | 'transaction';
  file: string;
  /** What part of the file it is, for messages: `lines 101–200`, `entries 0–77`. */
  span: string;
  entries: ImportEntry[];
  refused: Rejection[];
}

/** A file that cannot be imported at all (unreadable, not JSON, not FHIR). */
export interface FileProblem {
  file: string;
  reason: string;
}

export interface PlannedFile {
  source: SourceFile;
  /** Files are imported in tier order, so that what others refer to (Organization, Patient, …) comes first. */
  tier: number;
  /** Resources (lines, entries) this file holds, including those that will be refused. */
  resources: number;
  /** Bundle entries without a resource (GET or DELETE requests): not imported. */
  skipped: number;
  units(batchSize: number): AsyncGenerator<ImportUnit>;
}

const TIER_FIRST = [
  'Organization',
  'Location',
  'Practitioner',
  'PractitionerRole',
  'Patient',
  'RelatedPerson',
  'Encounter',
];
/** Resources that mostly point at other clinical resources (DiagnosticReport.result → Observation). */
const TIER_LAST = ['DiagnosticReport', 'DocumentReference'];

/** The import order of a resource type: Organizations, Practitioners and Patients early, reports late. */
export function tierOf(resourceType: string | undefined): number {
  if (resourceType === undefined) return TIER_FIRST.length;
  const first = TIER_FIRST.indexOf(resourceType);
  if (first >= 0) return first;
  const last = TIER_LAST.indexOf(resourceType);
  return last >= 0 ? TIER_FIRST.length + 1 + last : TIER_FIRST.length;
}

function displayName(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel === '' || rel.startsWith('..') || isAbsolute(rel) ? path : rel;
}

function formatOf(path: string): SourceFormat | undefined {
  const ext = extname(path).toLowerCase();
  if (ext === '.ndjson' || ext === '.jsonl') return 'ndjson';
  if (ext === '.json') return 'json';
  return undefined;
}

/**
 * The files to import: each file named (NDJSON by its extension `.ndjson`/`.jsonl`, otherwise JSON), and every
 * `.json`/`.ndjson` file of each folder named, by name; subfolders only when `recursive`. Hidden entries are skipped.
 */
export async function listSourceFiles(
  paths: string[],
  recursive: boolean,
): Promise<{ files: SourceFile[]; problems: FileProblem[] }> {
  const files: SourceFile[] = [];
  const problems: FileProblem[] = [];
  const walk = async (dir: string): Promise<void> => {
    let names: string[];
    try {
      names = (await readdir(dir)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    } catch (error) {
      problems.push({ file: displayName(dir), reason: `cannot read the folder: ${errorText(error)}` });
      return;
    }
    for (const name of names) {
      if (name.startsWith('.')) continue;
      const path = join(dir, name);
      let info;
      try {
        info = await stat(path);
      } catch (error) {
        problems.push({ file: displayName(path), reason: `cannot read: ${errorText(error)}` });
        continue;
      }
      if (info.isDirectory()) {
        if (recursive) await walk(path);
        continue;
      }
      const format = formatOf(path);
      if (info.isFile() && format) files.push({ path, name: displayName(path), format });
    }
  };
  for (const given of paths) {
    const path = resolve(given);
    let info;
    try {
      info = await stat(path);
    } catch (error) {
      problems.push({ file: given, reason: `cannot read: ${errorText(error)}` });
      continue;
    }
    if (info.isDirectory()) await walk(path);
    else files.push({ path, name: displayName(path), format: formatOf(path) ?? 'json' });
  }
  return { files, problems };
}

/** Reads (JSON) or pre-scans (NDJSON) a file: how many resources it holds and how to send them. */
export async function planFile(source: SourceFile): Promise<PlannedFile | FileProblem> {
  try {
    return source.format === 'ndjson' ? await planNdjson(source) : await planJson(source);
  } catch (error) {
    return { file: source.name, reason: `cannot read: ${errorText(error)}` };
  }
}

/**
 * A JSON file is read twice: once to count and order it, once when its turn comes, so that a folder of thousands
 * of Bundles is never held in memory at once.
 */
async function planJson(source: SourceFile): Promise<PlannedFile | FileProblem> {
  const first = await loadJson(source);
  if (!('source' in first)) return first;
  return {
    source,
    tier: first.tier,
    resources: first.resources,
    skipped: first.skipped,
    async *units(batchSize: number) {
      const again = await loadJson(source);
      if (!('source' in again))
        throw Object.assign(new Error(`it changed since it was first read: ${again.reason}`), {
          code: 'ECHANGED',
        });
      yield* again.units(batchSize);
    },
  };
}

async function loadJson(source: SourceFile): Promise<PlannedFile | FileProblem> {
  const text = stripBom(await readFile(source.path, 'utf8'));
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { file: source.name, reason: `not JSON: ${jsonErrorText(error, text)}` };
  }
  if (!isResource(json)) {
    return {
      file: source.name,
      reason: 'is JSON but not a FHIR resource or Bundle (no "resourceType")',
    };
  }
  if (json.resourceType === 'Bundle') return planBundle(source, json);
  const made = toEntry(json, { file: source.name }, undefined, undefined);
  const single: ImportUnit = {
    kind: 'batch',
    file: source.name,
    span: 'the resource',
    entries: 'entry' in made ? [made.entry] : [],
    refused: 'refused' in made ? [made.refused] : [],
  };
  return {
    source,
    tier: tierOf(json.resourceType),
    resources: 1,
    skipped: 0,
    async *units() {
      yield single;
    },
  };
}

/**
 * A Bundle: `batch`, `searchset` and `history` Bundles are sent as batches (each entry on its own, in tier order);
 * `transaction`, `collection` and any other type as ONE transaction, so that `urn:uuid:` references between entries
 * are resolved by the server. Entries that carry an id are PUT with it (the ids are kept, and references to
 * their fullUrl are rewritten to `Type/id`); entries without one are POSTed under their fullUrl.
 */
function planBundle(source: SourceFile, bundle: Record<string, unknown>): PlannedFile | FileProblem {
  if (bundle.entry !== undefined && !Array.isArray(bundle.entry))
    return { file: source.name, reason: 'is a Bundle whose "entry" is not an array' };
  const kind =
    bundle.type === 'batch' || bundle.type === 'searchset' || bundle.type === 'history'
      ? 'batch'
      : 'transaction';
  const entries: ImportEntry[] = [];
  const refused: Rejection[] = [];
  let skipped = 0;
  ((bundle.entry ?? []) as unknown[]).forEach((raw, index) => {
    const entry = (typeof raw === 'object' && raw !== null ? raw : {}) as {
      fullUrl?: unknown;
      resource?: unknown;
      request?: { method?: unknown; url?: unknown };
    };
    if (entry.resource === undefined) {
      skipped++;
      return;
    }
    const origin: Origin = { file: source.name, entry: index };
    if (!isResource(entry.resource)) {
      refused.push(refusal(origin, 'not a FHIR resource', 'The entry\'s "resource" has no resourceType.'));
      return;
    }
    const made = toEntry(
      entry.resource,
      origin,
      typeof entry.fullUrl === 'string' ? entry.fullUrl : undefined,
      idFromRequest(entry.request),
    );
    if ('refused' in made) refused.push(made.refused);
    else entries.push(made.entry);
  });

  // References to the fullUrl of an entry that is PUT with its id become `Type/id`.
  const kept = new Map<string, string>();
  for (const e of entries) if (e.request.method === 'PUT' && e.fullUrl) kept.set(e.fullUrl, e.request.url);
  for (const e of entries) e.resource = rewriteReferences(e.resource, kept) as Record<string, unknown>;

  // A Bundle goes with the latest type it holds: one of only Organizations goes first, a patient record later.
  const tier = entries.reduce((t, e) => Math.max(t, tierOf(e.origin.resourceType)), 0);
  return {
    source,
    tier: entries.length === 0 ? tierOf(undefined) : tier,
    resources: entries.length + refused.length,
    skipped,
    async *units(batchSize: number) {
      if (kind === 'transaction') {
        if (entries.length + refused.length === 0) return;
        yield {
          kind,
          file: source.name,
          span: 'the transaction',
          entries,
          refused,
        };
        return;
      }
      const ordered = entries
        .map((e, i) => ({ e, i }))
        .sort((a, b) => tierOf(a.e.origin.resourceType) - tierOf(b.e.origin.resourceType) || a.i - b.i)
        .map(({ e }) => e);
      for (let at = 0; at < Math.max(ordered.length, refused.length > 0 ? 1 : 0); at += batchSize) {
        const chunk = ordered.slice(at, at + batchSize);
        yield {
          kind,
          file: source.name,
          span: `(batch of ${chunk.length} entries)`,
          entries: chunk,
          refused: at === 0 ? refused : [],
        };
      }
    },
  };
}

async function planNdjson(source: SourceFile): Promise<PlannedFile> {
  let resources = 0;
  let firstType: string | undefined;
  for await (const { text } of readLines(source.path)) {
    if (text.trim() === '') continue;
    resources++;
    if (resources === 1) {
      try {
        const first = JSON.parse(text) as { resourceType?: unknown };
        if (typeof first?.resourceType === 'string') firstType = first.resourceType;
      } catch {
        // reported when the line is sent
      }
    }
  }
  // Bulk Data files hold one type each; a file named Patient.ndjson or Patient.001.ndjson tells it too.
  const type = firstType ?? basename(source.path).split('.')[0];
  return {
    source,
    tier: tierOf(type),
    resources,
    skipped: 0,
    async *units(batchSize: number) {
      let entries: ImportEntry[] = [];
      let refused: Rejection[] = [];
      let firstLine = 0;
      let lastLine = 0;
      const unit = (): ImportUnit => ({
        kind: 'batch',
        file: source.name,
        span: firstLine === lastLine ? `line ${firstLine}` : `lines ${firstLine}–${lastLine}`,
        entries,
        refused,
      });
      for await (const { text, line } of readLines(source.path)) {
        if (text.trim() === '') continue;
        if (entries.length + refused.length === 0) firstLine = line;
        lastLine = line;
        const origin: Origin = { file: source.name, line };
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch (error) {
          refused.push(refusal(origin, 'not JSON', `The line is not JSON: ${jsonErrorText(error, text)}.`));
          json = undefined;
        }
        if (json !== undefined) {
          if (!isResource(json)) {
            refused.push(
              refusal(
                origin,
                'not a FHIR resource',
                'The line is JSON but not a FHIR resource (no resourceType).',
              ),
            );
          } else {
            const made = toEntry(json, origin, undefined, undefined);
            if ('refused' in made) refused.push(made.refused);
            else entries.push(made.entry);
          }
        }
        if (entries.length + refused.length >= batchSize) {
          yield unit();
          entries = [];
          refused = [];
        }
      }
      if (entries.length + refused.length > 0) yield unit();
    },
  };
}

/** A resource as an entry: PUT `Type/id` when it has an id (kept), else POST `Type`. */
function toEntry(
  resource: Record<string, unknown> & { resourceType: string },
  at: Origin,
  fullUrl: string | undefined,
  requestId: string | undefined,
): { entry: ImportEntry } | { refused: Rejection } {
  const type = resource.resourceType;
  const id = typeof resource.id === 'string' ? resource.id : requestId;
  const origin: Origin = { ...at, resourceType: type, ...(id !== undefined ? { id } : {}) };
  if (!/^[A-Z][A-Za-z]{1,63}$/.test(type))
    return { refused: refusal(origin, 'not a FHIR resource', `"${type}" is not a FHIR resource type.`) };
  if (resource.id !== undefined && typeof resource.id !== 'string')
    return { refused: refusal(origin, 'invalid id', 'The resource id must be a string.') };
  if (id === undefined) {
    return {
      entry: { origin, resource, request: { method: 'POST', url: type }, ...(fullUrl ? { fullUrl } : {}) },
    };
  }
  if (!FHIR_ID_RE.test(id)) {
    return {
      refused: refusal(
        origin,
        'invalid id',
        `"${id}" is not a valid FHIR id (1–64 letters, digits, '-' or '.'); fix it, or remove it to let the server assign one.`,
      ),
    };
  }
  return {
    entry: {
      origin,
      resource: { ...resource, id },
      request: { method: 'PUT', url: `${type}/${id}` },
      ...(fullUrl ? { fullUrl } : {}),
    },
  };
}

function idFromRequest(request: { method?: unknown; url?: unknown } | undefined): string | undefined {
  if (typeof request?.method !== 'string' || request.method.toUpperCase() !== 'PUT') return undefined;
  const match = typeof request.url === 'string' ? /^\/?[A-Za-z]+\/([^/?]+)$/.exec(request.url) : null;
  return match?.[1];
}

function refusal(origin: Origin, category: string, reason: string): Rejection {
  return { origin, category, reason, resources: 1 };
}

function isResource(value: unknown): value is Record<string, unknown> & { resourceType: string } {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    typeof (value as { resourceType?: unknown }).resourceType === 'string'
  );
}

/** The lines of a file, numbered from 1, read as a stream (so NDJSON files of any size are fine). */
async function* readLines(path: string): AsyncGenerator<{ text: string; line: number }> {
  let rest = '';
  let line = 0;
  for await (const chunk of createReadStream(path, { encoding: 'utf8' })) {
    const text = rest + (chunk as string);
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      line++;
      yield { text: clean(text.slice(start, nl), line), line };
      start = nl + 1;
    }
    rest = text.slice(start);
  }
  if (rest !== '') yield { text: clean(rest, line + 1), line: line + 1 };
}

function clean(text: string, line: number): string {
  const trimmed = text.endsWith('\r') ? text.slice(0, -1) : text;
  return line === 1 ? stripBom(trimmed) : trimmed;
}

function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** JSON.parse's complaint, with line and column when it gives a position. */
function jsonErrorText(error: unknown, text: string): string {
  const message = (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ');
  const match = /at position (\d+)/.exec(message);
  if (!match) return message;
  const position = Number(match[1]);
  const before = text.slice(0, position);
  const line = before.split('\n').length;
  const column = position - before.lastIndexOf('\n');
  const what = message.replace(/ (in JSON )?at position \d+.*$/, '');
  return text.includes('\n') ? `${what} at line ${line}, column ${column}` : `${what} at column ${column}`;
}

function errorText(error: unknown): string {
  const e = error as { code?: unknown; message?: unknown };
  if (e?.code === 'ENOENT') return 'no such file or folder';
  if (e?.code === 'EACCES') return 'permission denied';
  return typeof e?.message === 'string' ? e.message : String(error);
}
