import { CareLedgerError, InvalidInputError } from '../core/errors.js';
import {
  gatewayRequest,
  gatewayTarget,
  outcomeCode,
  outcomeEntryIndex,
  outcomeText,
  serverMessage,
  type GatewayResponse,
  type GatewayTarget,
} from './import/gatewayClient.js';
import { Progress } from './import/progress.js';
import { emptyTally, summaryJson, summaryText, type ImportTally } from './import/report.js';
import {
  listSourceFiles,
  planFile,
  type ImportEntry,
  type ImportUnit,
  type Origin,
  type PlannedFile,
  type Rejection,
} from './import/sources.js';

export interface ImportOptions {
  url?: string;
  token?: string;
  recursive?: boolean;
  batchSize?: string;
  json?: boolean;
}

const DEFAULT_BATCH_SIZE = 100;
/** Rounds of re-sending resources whose references pointed at something imported later. */
const MAX_RETRY_ROUNDS = 10;
const MISSING_REFERENCE = /points at a resource that does not exist here/;

/** The import cannot go on: the gateway is unreachable, refuses the token, or is unavailable. */
class ImportStopped extends CareLedgerError {
  override readonly name = 'ImportStopped';
}

/**
 * `careledger import FILE|DIR… --url URL --token TOKEN`: loads FHIR data into a running gateway over its FHIR API
 * (the node holds the data-folder lock and the keys, so the CLI never writes the database itself).
 *
 * - A `.json` file is a Bundle or one resource. Transaction and collection Bundles go as one transaction (references
 *   between entries by `urn:uuid:` fullUrl are resolved by the server); batch Bundles as batches.
 * - A `.ndjson` file (FHIR Bulk Data) is sent as batch Bundles of `--batch-size` resources; a bad line does not stop
 *   the rest.
 * - Resources that carry an id are PUT with it (update-as-create), so references by the source ids keep working.
 * - A folder imports its `.json` and `.ndjson` files (subfolders with --recursive); files are ordered so that
 *   Organizations, Practitioners and Patients go before what refers to them. A resource whose reference points at
 *   something later in the import is sent again at the end.
 *
 * Exit 0 when every resource was accepted, 1 when any was rejected, 2 when the import could not run (bad options,
 * unreachable gateway, refused token, unreadable or non-JSON file, connection lost on the way).
 */
export async function importCommand(paths: string[], options: ImportOptions): Promise<number> {
  const started = Date.now();
  const tally = emptyTally();
  const fail = (message: string): number => {
    console.error(`careledger import: ${message}`);
    return 2;
  };

  let target: GatewayTarget;
  let batchSize: number;
  try {
    target = gatewayTarget(options);
    batchSize = parseBatchSize(options.batchSize);
  } catch (error) {
    if (error instanceof CareLedgerError) return fail(error.message);
    throw error;
  }

  const listed = await listSourceFiles(paths, options.recursive ?? false);
  tally.fileProblems.push(...listed.problems);
  tally.files = listed.files.length + listed.problems.length;
  if (listed.files.length === 0) {
    for (const p of listed.problems) console.error(`careledger import: ${p.file}: ${p.reason}`);
    if (listed.problems.length > 0) return 2;
    return fail(
      `No .json or .ndjson files in ${paths.join(', ')}${options.recursive ? '' : ' (pass --recursive for subfolders)'}.`,
    );
  }

  let supportedTypes: Set<string> | undefined;
  try {
    supportedTypes = await checkGateway(target);
  } catch (error) {
    if (error instanceof CareLedgerError) return fail(error.message);
    throw error;
  }

  const planned: PlannedFile[] = [];
  for (const source of listed.files) {
    const plan = await planFile(source);
    if ('source' in plan) planned.push(plan);
    else {
      tally.fileProblems.push(plan);
      console.error(`careledger import: ${plan.file}: ${plan.reason}; skipping it.`);
    }
  }
  // Stable sort: tier first, then the order found (folder listings are sorted by name).
  planned.sort((a, b) => a.tier - b.tier);
  tally.resources = planned.reduce((n, p) => n + p.resources, 0);
  tally.skipped = planned.reduce((n, p) => n + p.skipped, 0);

  const progress = new Progress({ total: tally.resources, tty: Boolean(process.stderr.isTTY), started });
  const importer = new Importer(target, tally, progress, batchSize, supportedTypes);
  let stopped: string | undefined;
  try {
    for (const plan of planned) {
      progress.file(plan.source.name, plan.resources);
      try {
        for await (const unit of plan.units(batchSize)) await importer.send(unit, true);
        tally.filesDone++;
      } catch (error) {
        // The file went away or became unreadable after it was first read: report it, go on with the others.
        if (error instanceof CareLedgerError || !(error instanceof Error) || !('code' in error)) throw error;
        const reason = `could not be read to the end: ${error.message}`;
        tally.fileProblems.push({ file: plan.source.name, reason });
        progress.say(`careledger import: ${plan.source.name} ${reason}`);
      }
    }
    await importer.retryDeferred();
  } catch (error) {
    if (!(error instanceof ImportStopped)) throw error;
    stopped = error.message;
  }
  progress.finish();

  const elapsed = progress.elapsedMs;
  if (options.json) console.log(JSON.stringify(summaryJson(tally, elapsed, stopped), null, 2));
  else for (const line of summaryText(tally, elapsed)) console.log(line);
  if (stopped !== undefined) return fail(stopped);
  if (tally.fileProblems.length > 0) return 2;
  return tally.rejected > 0 ? 1 : 0;
}

function parseBatchSize(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_BATCH_SIZE;
  const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(value) || value < 1 || value > 1000)
    throw new InvalidInputError(
      'CLI.BAD_BATCH_SIZE',
      `--batch-size must be a whole number from 1 to 1000, got "${raw}".`,
    );
  return value;
}

/**
 * Sends an empty batch Bundle: proves the gateway is there, is a CareLedger FHIR endpoint, and takes this token for
 * writes, without storing anything.
 */
async function checkGateway(target: GatewayTarget): Promise<Set<string> | undefined> {
  const res = await gatewayRequest(target, 'POST', '/fhir', {
    resourceType: 'Bundle',
    type: 'batch',
    entry: [],
  });
  if (res.status !== 200) throw stopFor(target, res, 'a test request');
  // The resource types it keeps, from its CapabilityStatement (public); without it the server says per resource.
  const metadata = await gatewayRequest(target, 'GET', '/fhir/metadata');
  const resources = (metadata.body as { rest?: { resource?: { type?: unknown }[] }[] } | undefined)?.rest?.[0]
    ?.resource;
  if (metadata.status !== 200 || !Array.isArray(resources)) return undefined;
  return new Set(resources.map((r) => r.type).filter((t): t is string => typeof t === 'string'));
}

/** The error that stops an import for a refused token, a forbidden write or an unavailable gateway. */
function stopFor(target: GatewayTarget, res: GatewayResponse, what: string): ImportStopped {
  const message = serverMessage(res);
  const text =
    res.status === 401
      ? `The gateway at ${target.baseUrl} refused the token: ${message}`
      : res.status === 403
        ? `The token may not write to the gateway at ${target.baseUrl} (import needs a clinician or admin token): ${message}`
        : res.status === 404
          ? `${target.baseUrl} does not look like a CareLedger gateway: POST /fhir answered 404 (${message}).`
          : `The gateway at ${target.baseUrl} answered HTTP ${res.status} to ${what}: ${message}`;
  return new ImportStopped('IMPORT.STOPPED', text, { status: res.status });
}

interface Deferred<T> {
  item: T;
  rejection: Rejection;
}

/** Sends units, counts what was accepted and rejected, and keeps resources whose references were not there yet. */
class Importer {
  private deferredEntries: Deferred<ImportEntry>[] = [];
  private deferredUnits: Deferred<ImportUnit>[] = [];

  constructor(
    private readonly target: GatewayTarget,
    private readonly tally: ImportTally,
    private readonly progress: Progress,
    private readonly batchSize: number,
    private readonly supportedTypes: Set<string> | undefined,
  ) {}

  async send(unit: ImportUnit, mayDefer: boolean): Promise<void> {
    for (const r of unit.refused) this.reject(r);
    const sent = unit.entries.filter((e) => this.keeps(e, unit.kind));
    if (sent.length < unit.entries.length) unit = { ...unit, entries: sent };
    if (unit.entries.length === 0) return;
    const bundle = {
      resourceType: 'Bundle',
      type: unit.kind,
      entry: unit.entries.map((e) => ({
        ...(e.fullUrl ? { fullUrl: e.fullUrl } : {}),
        resource: e.resource,
        request: e.request,
      })),
    };
    let res: GatewayResponse;
    try {
      res = await gatewayRequest(this.target, 'POST', '/fhir', bundle);
    } catch (error) {
      if (!(error instanceof CareLedgerError)) throw error;
      throw this.stopped(`${error.message.replace(/\.$/, '')} while sending ${unit.file} ${unit.span}`, unit);
    }
    if (res.status === 401 || res.status === 403 || res.status === 503) {
      throw this.stopped(stopFor(this.target, res, `${unit.file} ${unit.span}`).message, unit);
    }
    const body = res.body as { type?: unknown; entry?: unknown } | undefined;
    if (res.status === 200 && Array.isArray(body?.entry)) {
      const answers = body.entry as { response?: { status?: unknown; outcome?: unknown } }[];
      unit.entries.forEach((entry, i) => this.settleEntry(entry, answers[i]?.response, mayDefer));
      return;
    }
    this.settleFailedRequest(unit, res, mayDefer);
  }

  /** Re-sends what waited for a reference, round after round while rounds make progress. */
  async retryDeferred(): Promise<void> {
    for (let round = 1; this.deferredEntries.length + this.deferredUnits.length > 0; round++) {
      const entries = this.deferredEntries;
      const units = this.deferredUnits;
      this.deferredEntries = [];
      this.deferredUnits = [];
      const acceptedBefore = this.tally.accepted;
      const last = round >= MAX_RETRY_ROUNDS;
      for (let at = 0; at < entries.length; at += this.batchSize) {
        const chunk = entries.slice(at, at + this.batchSize).map((d) => d.item);
        await this.send(
          {
            kind: 'batch',
            file: 'retry',
            span: `of ${chunk.length} resources whose references were missing at first`,
            entries: chunk,
            refused: [],
          },
          !last,
        );
      }
      for (const { item } of units) await this.send(item, !last);
      if (this.tally.accepted === acceptedBefore) {
        // Nothing moved: what is still waiting points at something that is not in this import.
        for (const d of [...this.deferredEntries, ...this.deferredUnits]) this.reject(d.rejection);
        this.deferredEntries = [];
        this.deferredUnits = [];
      }
    }
  }

  /**
   * Whether the gateway keeps this resource type. Resources it does not keep are rejected here, and left out of
   * their transaction so that the rest of it can be stored (Synthea Bundles hold Claims, CarePlans, …).
   */
  private keeps(entry: ImportEntry, kind: ImportUnit['kind']): boolean {
    const type = entry.origin.resourceType;
    if (this.supportedTypes === undefined || type === undefined || this.supportedTypes.has(type)) return true;
    this.reject({
      origin: entry.origin,
      category: 'unsupported resource type',
      reason: `This gateway does not keep ${type} resources (see GET /fhir/metadata)${
        kind === 'transaction' ? '; left out of the transaction, the rest of which was sent' : ''
      }.`,
      resources: 1,
    });
    return false;
  }

  private settleEntry(
    entry: ImportEntry,
    response: { status?: unknown; outcome?: unknown } | undefined,
    mayDefer: boolean,
  ): void {
    const status = typeof response?.status === 'string' ? Number.parseInt(response.status, 10) : Number.NaN;
    if (status >= 200 && status < 300) {
      this.accept(status === 201 ? 1 : 0, status === 201 ? 0 : 1);
      return;
    }
    const reason = outcomeText(response?.outcome) ?? `The gateway gave no answer for this entry.`;
    const rejection: Rejection = {
      origin: entry.origin,
      ...(Number.isNaN(status) ? {} : { status }),
      category: categoryOf(Number.isNaN(status) ? undefined : status, outcomeCode(response?.outcome)),
      reason,
      resources: 1,
    };
    if (mayDefer && status === 422 && MISSING_REFERENCE.test(reason))
      this.deferredEntries.push({ item: entry, rejection });
    else this.reject(rejection);
  }

  /** A whole request was refused: a transaction names the entry that failed; nothing of it was stored. */
  private settleFailedRequest(unit: ImportUnit, res: GatewayResponse, mayDefer: boolean): void {
    let reason = serverMessage(res);
    let origin: Origin = { file: unit.file, span: unit.span };
    // The failing entry: named in the issue's expression (Bundle.entry[n]) or at the start of the message.
    const named = /^Bundle\.entry\[(\d+)\]:\s*/.exec(reason);
    const index = named ? Number(named[1]) : outcomeEntryIndex(res.body);
    if (named) reason = reason.slice(named[0].length);
    reason = reason.replace(/\s*Nothing in this transaction was stored\.\s*/, ' ').trim();
    const culprit = index === undefined ? undefined : unit.entries[index];
    if (culprit) origin = culprit.origin;
    const count = unit.entries.length;
    const rejection: Rejection = {
      origin,
      status: res.status,
      category: categoryOf(res.status, outcomeCode(res.body)),
      reason:
        unit.kind === 'transaction'
          ? `${reason.replace(/\.$/, '')}; the whole transaction (${count} resource${count === 1 ? '' : 's'}) was not stored.`
          : `${reason} (the whole batch of ${count} was refused)`,
      resources: count,
    };
    if (mayDefer && unit.kind === 'transaction' && res.status === 422 && MISSING_REFERENCE.test(reason))
      this.deferredUnits.push({ item: unit, rejection });
    else this.reject(rejection);
  }

  private accept(created: number, updated: number): void {
    this.tally.accepted += created + updated;
    this.tally.created += created;
    this.tally.updated += updated;
    this.progress.advance(created + updated);
  }

  private reject(rejection: Rejection): void {
    this.tally.rejections.push(rejection);
    this.tally.rejected += rejection.resources;
    this.progress.advance(rejection.resources);
  }

  private stopped(why: string, unit: ImportUnit): ImportStopped {
    const t = this.tally;
    const waiting = this.deferredEntries.length + this.deferredUnits.length;
    return new ImportStopped(
      'IMPORT.STOPPED',
      `${why}. Stopped after ${t.filesDone} of ${t.files} files and ${t.accepted + t.rejected} of ${t.resources} resources (${t.accepted} accepted, ${t.rejected} rejected${
        waiting > 0 ? `, ${waiting} waiting to be retried` : ''
      }); the ${unit.entries.length} resources of that request may or may not have been stored. Resources with ids are PUT, so running the same import again is safe.`,
    );
  }
}

function categoryOf(status: number | undefined, issueCode: string | undefined): string {
  if (status === undefined) return 'no answer';
  return `HTTP ${status}${issueCode ? ` ${issueCode}` : ''}`;
}
