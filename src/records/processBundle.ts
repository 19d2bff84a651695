import { uuidv7 } from '../core/uuidv7.js';
import { CareLedgerError } from '../core/errors.js';
import { fhirErrors, FhirError, operationOutcomeOf } from './fhirErrors.js';
import type { FhirRepository, WriteOperation, WriteResult } from './fhirRepository.js';
import { rewriteReferences } from './rewriteReferences.js';
import { FHIR_ID_RE } from './supportedTypes.js';

interface BundleEntry {
  fullUrl?: unknown;
  resource?: unknown;
  request?: { method?: unknown; url?: unknown; ifMatch?: unknown };
}

/** A read inside a Bundle (GET entries), answered by the router as if it were its own request. */
export type BundleRead = (url: string) => Promise<{ status: number; body?: string | object }>;

type Planned =
  { kind: 'write'; index: number; operation: WriteOperation } | { kind: 'read'; index: number; url: string };

/**
 * Processes a `transaction` or `batch` Bundle (https://hl7.org/fhir/R4/http.html#transaction). A transaction is
 * all or nothing: its writes go to the repository as ONE atomic write (one anchoring commit), `urn:uuid:`
 * references between its entries are resolved to the ids assigned, and any failure fails the whole Bundle
 * naming the entry. A batch runs each entry on its own and reports each outcome.
 */
export async function processBundle(
  repository: FhirRepository,
  body: unknown,
  baseUrl: string,
  read: BundleRead,
): Promise<object> {
  if (
    typeof body !== 'object' ||
    body === null ||
    (body as { resourceType?: unknown }).resourceType !== 'Bundle'
  ) {
    throw fhirErrors.badRequest(
      'POST to the FHIR base takes a Bundle of type transaction or batch.',
      'Bundle',
    );
  }
  const bundle = body as { type?: unknown; entry?: unknown };
  if (bundle.type !== 'transaction' && bundle.type !== 'batch') {
    throw fhirErrors.badRequest(
      `Bundle.type must be transaction or batch, not ${JSON.stringify(bundle.type)}.`,
      'Bundle.type',
    );
  }
  if (bundle.entry !== undefined && !Array.isArray(bundle.entry))
    throw fhirErrors.badRequest('Bundle.entry must be an array.', 'Bundle.entry');
  const entries = (bundle.entry ?? []) as BundleEntry[];
  return bundle.type === 'transaction'
    ? transaction(repository, entries, baseUrl, read)
    : batch(repository, entries, baseUrl, read);
}

async function transaction(
  repository: FhirRepository,
  entries: BundleEntry[],
  baseUrl: string,
  read: BundleRead,
): Promise<object> {
  // Ids for created resources first, so references to them (by fullUrl) can be rewritten everywhere.
  const assigned = new Map<string, string>();
  entries.forEach((entry, i) => {
    if (typeof entry?.request?.method === 'string' && entry.request.method.toUpperCase() === 'POST') {
      const type = typeof entry.request.url === 'string' ? entry.request.url.split('?')[0] : undefined;
      if (typeof entry.fullUrl === 'string' && type) {
        if (assigned.has(entry.fullUrl))
          throw entryError(i, fhirErrors.badRequest(`fullUrl ${entry.fullUrl} appears twice.`));
        assigned.set(entry.fullUrl, `${type}/${uuidv7()}`);
      }
    } else if (
      typeof entry?.request?.method === 'string' &&
      entry.request.method.toUpperCase() === 'PUT' &&
      typeof entry.fullUrl === 'string' &&
      typeof entry.request.url === 'string'
    ) {
      // An update names its own id: references to its fullUrl (often urn:uuid:) mean that Type/id.
      const url = entry.request.url.replace(/^\//, '');
      if (/^[A-Za-z]+\/[A-Za-z0-9\-.]{1,64}$/.test(url) && entry.fullUrl !== url) {
        if (assigned.has(entry.fullUrl))
          throw entryError(i, fhirErrors.badRequest(`fullUrl ${entry.fullUrl} appears twice.`));
        assigned.set(entry.fullUrl, url);
      }
    }
  });
  const resolved = entries.map((entry) =>
    entry?.resource === undefined
      ? entry
      : { ...entry, resource: rewriteReferences(entry.resource, assigned) },
  );
  const planned = resolved.map((entry, i) => plan(entry, i, assigned));
  const writes = planned.filter((p): p is Extract<Planned, { kind: 'write' }> => p.kind === 'write');

  // All or nothing: a read that fails must fail the transaction before anything is written, as a commit cannot be
  // undone. Reads of resources this transaction writes are answered after the writes (FHIR's order), like all reads.
  const writtenHere = new Set(writes.map((w) => targetOf(w.operation)));
  for (const p of planned) {
    if (p.kind !== 'read') continue;
    const [path = ''] = p.url.split('?');
    if (writtenHere.has(path.split('/').slice(0, 2).join('/'))) continue;
    const res = await read(p.url);
    if (res.status >= 400) throw entryError(p.index, readFailed(p.url, res.status));
  }

  let results: WriteResult[];
  try {
    results = await repository.write(writes.map((w) => w.operation));
  } catch (error) {
    const failed =
      error instanceof CareLedgerError
        ? ((error.details?.operationIndex as number | undefined) ?? (writes.length === 1 ? 0 : undefined))
        : undefined;
    if (failed !== undefined && writes[failed])
      throw entryError(writes[failed].index, error as CareLedgerError);
    throw error;
  }
  const byIndex = new Map(writes.map((w, i) => [w.index, results[i] as WriteResult]));
  const responses = [];
  for (const p of planned) {
    if (p.kind === 'read') {
      const res = await read(p.url);
      if (res.status >= 400) {
        // The writes are committed: report the read's outcome in its entry rather than claim nothing was stored.
        responses.push({ response: { status: String(res.status), outcome: res.body } });
        continue;
      }
      responses.push({
        resource: typeof res.body === 'string' ? (JSON.parse(res.body) as unknown) : res.body,
        response: { status: '200 OK' },
      });
    } else {
      responses.push(writeResponse(byIndex.get(p.index) as WriteResult, baseUrl));
    }
  }
  return { resourceType: 'Bundle', type: 'transaction-response', entry: responses };
}

async function batch(
  repository: FhirRepository,
  entries: BundleEntry[],
  baseUrl: string,
  read: BundleRead,
): Promise<object> {
  const responses = await Promise.all(
    entries.map(async (entry, i) => {
      try {
        const p = plan(entry, i, new Map());
        if (p.kind === 'read') {
          const res = await read(p.url);
          if (res.status >= 400) return { response: { status: String(res.status), outcome: res.body } };
          return {
            resource: typeof res.body === 'string' ? (JSON.parse(res.body) as unknown) : res.body,
            response: { status: '200 OK' },
          };
        }
        const [result] = await repository.write([p.operation]);
        return writeResponse(result as WriteResult, baseUrl);
      } catch (error) {
        if (!(error instanceof CareLedgerError)) throw error;
        return { response: { status: String(error.status), outcome: operationOutcomeOf(error) } };
      }
    }),
  );
  return { resourceType: 'Bundle', type: 'batch-response', entry: responses };
}

/** Turns one Bundle entry into a write or a read, checking its request. */
function plan(entry: BundleEntry, index: number, assigned: Map<string, string>): Planned {
  const method = typeof entry?.request?.method === 'string' ? entry.request.method.toUpperCase() : undefined;
  const url = typeof entry?.request?.url === 'string' ? entry.request.url.replace(/^\//, '') : undefined;
  if (!method || !url)
    throw entryError(index, fhirErrors.badRequest('Every entry needs request.method and request.url.'));
  const [path] = url.split('?') as [string];
  const [type, id, ...rest] = path.split('/');
  const ifMatch = typeof entry.request?.ifMatch === 'string' ? entry.request.ifMatch : undefined;
  if (
    entry.request &&
    ['ifNoneExist', 'ifNoneMatch', 'ifModifiedSince'].some((k) => k in (entry.request as object))
  ) {
    // Conditional interactions are not supported (the CapabilityStatement says so): refuse rather than ignore.
    throw entryError(
      index,
      new FhirError(
        'FHIR.CONDITIONAL_UNSUPPORTED',
        400,
        'not-supported',
        'Conditional requests (ifNoneExist, ifNoneMatch, ifModifiedSince) are not supported; send PUT [type]/[id] to create-or-update by id.',
      ),
    );
  }
  switch (method) {
    case 'GET':
      return { kind: 'read', index, url };
    case 'POST': {
      if (!type || id !== undefined)
        throw entryError(index, fhirErrors.badRequest(`A POST entry's url is a resource type, not ${url}.`));
      const bodyType =
        typeof entry.resource === 'object' && entry.resource !== null
          ? (entry.resource as { resourceType?: unknown }).resourceType
          : undefined;
      if (bodyType !== undefined && bodyType !== type)
        throw entryError(
          index,
          fhirErrors.badRequest(
            `The entry's resource is a ${String(bodyType)}, but it is posted to ${type}.`,
            'resourceType',
          ),
        );
      const target = typeof entry.fullUrl === 'string' ? assigned.get(entry.fullUrl) : undefined;
      return {
        kind: 'write',
        index,
        operation: {
          op: 'create',
          resource: entry.resource,
          ...(target ? { id: target.split('/')[1] as string } : {}),
        },
      };
    }
    case 'PUT':
      if (!type || !id || rest.length > 0 || !FHIR_ID_RE.test(id))
        throw entryError(index, fhirErrors.badRequest(`A PUT entry's url is [type]/[id], not ${url}.`));
      return {
        kind: 'write',
        index,
        operation: { op: 'update', resourceType: type, id, resource: entry.resource, ifMatch },
      };
    case 'DELETE':
      if (!type || !id || rest.length > 0)
        throw entryError(index, fhirErrors.badRequest(`A DELETE entry's url is [type]/[id], not ${url}.`));
      return { kind: 'write', index, operation: { op: 'delete', resourceType: type, id } };
    default:
      throw entryError(
        index,
        fhirErrors.badRequest(`Entry method ${method} is not supported; use GET, POST, PUT or DELETE.`),
      );
  }
}

/** `Type/id` of the resource a write creates, updates or deletes (`Type/` for a create without an assigned id). */
function targetOf(operation: WriteOperation): string {
  if (operation.op !== 'create') return `${operation.resourceType}/${operation.id}`;
  const type = (operation.resource as { resourceType?: unknown } | null)?.resourceType;
  return `${String(type)}/${operation.id ?? ''}`;
}

function readFailed(url: string, status: number): FhirError {
  return new FhirError('FHIR.BUNDLE_READ_FAILED', status, 'processing', `GET ${url} answered ${status}.`);
}

function writeResponse(r: WriteResult, baseUrl: string) {
  return {
    ...(r.json ? { resource: JSON.parse(r.json) as unknown } : {}),
    response: {
      status: r.json === null ? '204 No Content' : r.created ? '201 Created' : '200 OK',
      location: `${baseUrl}/${r.resourceType}/${r.id}/_history/${r.version}`,
      etag: `W/"${r.version}"`,
      lastModified: new Date(r.lastUpdated).toISOString(),
    },
  };
}

/** The same error, its message prefixed with the entry it concerns (and nothing of the Bundle stored). */
function entryError(index: number, error: CareLedgerError): FhirError {
  const issues = (error.details?.issues as { expression?: string[] }[] | undefined)?.map((i) => ({
    ...i,
    expression: [`Bundle.entry[${index}]`, ...(i.expression ?? [])],
  }));
  return new FhirError(
    error.code,
    error.status,
    error.issueType,
    `Bundle.entry[${index}]: ${error.message} Nothing in this transaction was stored.`,
    issues as never,
  );
}
