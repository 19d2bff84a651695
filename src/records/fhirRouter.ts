import { CareLedgerError } from '../core/errors.js';
import { capabilityStatement } from './capabilityStatement.js';
import {
  assertInCompartment,
  checkAccess,
  restrictSearchToPatient,
  type AccessAudit,
  type AccessDetails,
  type FhirCaller,
  type PatientDataAccess,
} from './fhirAccess.js';
import { FhirError, fhirErrors, operationOutcomeOf } from './fhirErrors.js';
import type { FhirRepository, WriteResult } from './fhirRepository.js';
import { processBundle } from './processBundle.js';
import { MAX_COUNT } from './search/index.js';
import type { StoredVersion } from './ports.js';

/** A FHIR REST request, independent of the web framework. `path` is relative to the FHIR base. */
export interface FhirRequest {
  method: string;
  path: string;
  query: Record<string, string | string[] | undefined>;
  headers: { ifMatch?: string | undefined; prefer?: string | undefined };
  body: unknown;
  /** Absolute FHIR base URL, for Location headers, fullUrls and paging links. */
  baseUrl: string;
  /** Who calls: every interaction is checked against their scopes (see fhirAccess.ts). */
  caller: FhirCaller;
}

export interface FhirResponse {
  status: number;
  headers: Record<string, string>;
  /** A JSON string (stored resources are served as stored), an object to serialise, or nothing. */
  body?: string | object;
}

const FHIR_JSON = 'application/fhir+json; charset=utf-8';

/**
 * Deepest nesting (objects and arrays) a request body may have. Real FHIR resources, even inside a Bundle, stay far
 * below it; the limit keeps hostile bodies from overflowing the stack of the recursive walks (validation, reference
 * checks, canonical JSON).
 */
const MAX_BODY_DEPTH = 128;

/** A percent-decoded path segment; malformed percent-encoding (e.g. in a Bundle entry's url) is the client's error. */
function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw fhirErrors.badRequest(`The URL segment "${segment}" is not valid percent-encoding.`);
  }
}

/** Whether `value` nests objects/arrays more than `max` levels deep (checked without recursion). */
function nestingExceeds(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop() as [unknown, number];
    if (typeof current !== 'object' || current === null) continue;
    if (depth > max) return true;
    for (const child of Object.values(current)) stack.push([child, depth + 1]);
  }
  return false;
}

/** Response headers of one version: ETag, Last-Modified and, for creates, Location. */
function versionHeaders(
  baseUrl: string,
  r: { resourceType: string; id: string; version: number; lastUpdated: number },
  location: boolean,
) {
  return {
    etag: `W/"${r.version}"`,
    'last-modified': new Date(r.lastUpdated).toUTCString(),
    ...(location ? { location: `${baseUrl}/${r.resourceType}/${r.id}/_history/${r.version}` } : {}),
  };
}

/**
 * The FHIR REST API over a `FhirRepository` (https://hl7.org/fhir/R4/http.html): capabilities, create, read,
 * vread, update, delete, history, search, transaction/batch and `$proof`. Errors become OperationOutcomes with
 * the status each error carries.
 */
export class FhirRouter {
  private readonly repository: FhirRepository;
  private readonly version: string;
  private readonly access: PatientDataAccess | null;
  private readonly audit: AccessAudit | null;

  /**
   * `access` checks consent for staff reads of patients' data (null when consent is not enforced); `audit` is told
   * of every access to a patient's data, allowed or not (null: no audit trail).
   */
  constructor(
    repository: FhirRepository,
    version: string,
    access: PatientDataAccess | null = null,
    audit: AccessAudit | null = null,
  ) {
    this.repository = repository;
    this.version = version;
    this.access = access;
    this.audit = audit;
  }

  /** Whether the caller may see this resource of this patient (their own data always), and on what basis. */
  private async decide(caller: FhirCaller, patientId: string, json: string): Promise<ReadDecision> {
    if (!this.access || caller.patientId === patientId) return { outcome: 'allowed' };
    try {
      const basis = await this.access.check(caller, patientId, JSON.parse(json) as unknown);
      return basis.basis === 'break-glass'
        ? { outcome: 'break-glass' }
        : { outcome: 'allowed', consentId: basis.consentId };
    } catch (error) {
      if (!(error instanceof CareLedgerError) || error.status !== 403) throw error;
      const details = error.details ?? {};
      return {
        outcome: 'denied',
        error,
        reason: typeof details.reason === 'string' ? details.reason : error.code,
        consentId: typeof details.consentId === 'string' ? details.consentId : undefined,
      };
    }
  }

  /** One read of one version: decided, audited (for a patient's resource), and the 403 thrown if refused. */
  private async checkRead(
    caller: FhirCaller,
    action: 'read' | 'vread',
    entity: string,
    patientId: string | null,
    json: string,
  ): Promise<void> {
    if (patientId === null) return; // no patient's data: no consent, nothing to audit
    const decision = await this.decide(caller, patientId, json);
    // Recorded before anything is answered: a crash after the answer cannot lose the access.
    await this.audit?.recordAccess(caller, {
      action,
      entity,
      patientId,
      outcome: decision.outcome,
      reason: decision.outcome === 'denied' ? decision.reason : undefined,
      consentId: decision.consentId,
    });
    if (decision.outcome === 'denied') throw decision.error;
  }

  /**
   * Which items the caller may see (the rest are left out and counted, with the first reason given). Every
   * patient whose data was returned or left out gets one audit entry per outcome, with the count.
   */
  private async visible<T>(
    caller: FhirCaller,
    items: readonly T[],
    patientOf: (item: T) => string | null,
    jsonOf: (item: T) => string | null,
    audited: { action: 'search' | 'history'; entity: string },
  ): Promise<{ kept: T[]; omitted: number; reason: string | null }> {
    if (!this.access && !this.audit) return { kept: [...items], omitted: 0, reason: null };
    const kept: T[] = [];
    let omitted = 0;
    let reason: string | null = null;
    const tally = new Map<string, AccessDetails>();
    for (const item of items) {
      const json = jsonOf(item);
      const patientId = patientOf(item);
      // Deletions and erased data carry no content: nothing to check, nothing of the patient's shown.
      if (json === null || patientId === null) {
        kept.push(item);
        continue;
      }
      const decision = await this.decide(caller, patientId, json);
      if (decision.outcome === 'denied') {
        omitted++;
        reason ??= decision.error.message;
      } else {
        kept.push(item);
      }
      if (!this.audit) continue;
      const denial = decision.outcome === 'denied' ? decision.reason : undefined;
      const key = `${patientId}\u0000${decision.outcome}\u0000${decision.consentId ?? ''}\u0000${denial ?? ''}`;
      const entry = tally.get(key);
      if (entry) entry.resultCount = (entry.resultCount ?? 0) + 1;
      else {
        tally.set(key, {
          ...audited,
          patientId,
          outcome: decision.outcome,
          reason: denial,
          consentId: decision.consentId,
          resultCount: 1,
        });
      }
    }
    const audit = this.audit;
    if (audit) await Promise.all([...tally.values()].map((details) => audit.recordAccess(caller, details)));
    return { kept, omitted, reason };
  }

  async handle(request: FhirRequest): Promise<FhirResponse> {
    try {
      return await this.route(request);
    } catch (error) {
      if (error instanceof CareLedgerError) {
        return {
          status: error.status,
          headers: { 'content-type': FHIR_JSON },
          body: operationOutcomeOf(error),
        };
      }
      throw error;
    }
  }

  private async route(req: FhirRequest): Promise<FhirResponse> {
    if (nestingExceeds(req.body, MAX_BODY_DEPTH)) {
      throw fhirErrors.badRequest(`The body is nested more than ${MAX_BODY_DEPTH} levels deep.`);
    }
    const parts = req.path.split('/').filter(Boolean).map(decodeSegment);
    const method = req.method.toUpperCase();
    const [type, id, history, vid, operation] = parts;
    if (parts.length === 0) {
      if (method === 'POST') return this.bundle(req);
      throw fhirErrors.badRequest('Send a transaction or batch Bundle with POST to the FHIR base.');
    }
    if (type === 'metadata' && parts.length === 1 && method === 'GET') {
      return {
        status: 200,
        headers: { 'content-type': FHIR_JSON },
        body: capabilityStatement(req.baseUrl, this.version),
      };
    }
    if (type === undefined) throw fhirErrors.notFound(req.path);
    const isRead = method === 'GET' || (method === 'POST' && parts.length === 2 && id === '_search');
    // Null unless the caller is confined to one patient's record for this type.
    const confinedTo = checkAccess(req.caller, type, isRead ? 'read' : 'write');
    if (confinedTo !== null && id !== undefined && id !== '_search' && id !== '_history') {
      const owner = this.repository.patientOf(type, id);
      if (owner !== undefined) assertInCompartment(confinedTo, type, id, owner);
    }
    if (parts.length === 1) {
      if (method === 'GET') return this.search(req, type, req.query, confinedTo);
      if (method === 'POST') return this.create(req, type);
    }
    if (parts.length === 2 && id === '_history' && method === 'GET') {
      if (confinedTo !== null) {
        throw new FhirError(
          'FHIR.FORBIDDEN',
          403,
          'forbidden',
          `A patient's token cannot read the history of every ${type}; read the history of their own resources.`,
        );
      }
      return this.history(req, type, undefined);
    }
    if (parts.length === 2 && id === '_search' && method === 'POST') {
      return this.search(req, type, { ...formParams(req.body), ...req.query }, confinedTo);
    }
    if (parts.length === 2 && id !== undefined) {
      if (method === 'GET') {
        const { json, current } = this.repository.read(type, id);
        const entity = `${type}/${id}/_history/${current.version}`;
        await this.checkRead(req.caller, 'read', entity, current.patientId, json);
        return {
          status: 200,
          headers: { 'content-type': FHIR_JSON, ...versionHeaders(req.baseUrl, current, false) },
          body: json,
        };
      }
      if (method === 'PUT') return this.update(req, type, id);
      if (method === 'DELETE') {
        await this.repository.write([{ op: 'delete', resourceType: type, id }]);
        return { status: 204, headers: {} };
      }
    }
    if (id !== undefined && history === '_history' && method === 'GET') {
      if (parts.length === 3) return this.history(req, type, id);
      const version = Number(vid);
      if (parts.length === 4) {
        const { json, stored } = this.repository.vread(type, id, version);
        const owner = this.access || this.audit ? (this.repository.patientOf(type, id) ?? null) : null;
        await this.checkRead(req.caller, 'vread', `${type}/${id}/_history/${stored.version}`, owner, json);
        return {
          status: 200,
          headers: { 'content-type': FHIR_JSON, ...versionHeaders(req.baseUrl, stored, false) },
          body: json,
        };
      }
      // A proof carries hashes and ids, no content: the integrity check needs no consent.
      if (parts.length === 5 && operation === '$proof') {
        return {
          status: 200,
          headers: { 'content-type': 'application/json; charset=utf-8' },
          body: this.repository.proof(type, id, version) as object,
        };
      }
    }
    throw new CareLedgerError(
      'FHIR.UNSUPPORTED_INTERACTION',
      `${method} ${req.path} is not an interaction this server supports; see GET /fhir/metadata.`,
      {
        status: 405,
        issueType: 'not-supported',
      },
    );
  }

  private async create(req: FhirRequest, type: string): Promise<FhirResponse> {
    const body = req.body as { resourceType?: unknown } | null;
    if (
      body &&
      typeof body === 'object' &&
      !Array.isArray(body) &&
      typeof body.resourceType === 'string' &&
      body.resourceType !== type
    ) {
      throw fhirErrors.badRequest(
        `The body is a ${String(body.resourceType)}, but it was posted to ${type}.`,
        'resourceType',
      );
    }
    const [result] = await this.repository.write([{ op: 'create', resource: req.body }]);
    return this.written(req, result as WriteResult, 201);
  }

  private async update(req: FhirRequest, type: string, id: string): Promise<FhirResponse> {
    const [result] = await this.repository.write([
      { op: 'update', resourceType: type, id, resource: req.body, ifMatch: req.headers.ifMatch },
    ]);
    const r = result as WriteResult;
    return this.written(req, r, r.created ? 201 : 200);
  }

  private written(req: FhirRequest, r: WriteResult, status: number): FhirResponse {
    const headers = { 'content-type': FHIR_JSON, ...versionHeaders(req.baseUrl, r, true) };
    if (/return=minimal/.test(req.headers.prefer ?? '')) return { status, headers };
    return { status, headers, body: r.json ?? undefined };
  }

  private async history(req: FhirRequest, type: string, id: string | undefined): Promise<FhirResponse> {
    const { count, offset } = paging(req.query);
    const { entries, total } = this.repository.history(type, id, count, offset);
    const owners = new Map<string, string | null>();
    const ownerOf = (resourceType: string, resourceId: string): string | null => {
      const key = `${resourceType}/${resourceId}`;
      if (!owners.has(key)) owners.set(key, this.repository.patientOf(resourceType, resourceId) ?? null);
      return owners.get(key) as string | null;
    };
    // Versions of patients' resources the caller may not see are left out (deletions carry no content).
    const { kept, omitted } = await this.visible(
      req.caller,
      entries,
      ({ stored }) => (this.access || this.audit ? ownerOf(stored.resourceType, stored.id) : null),
      ({ json }) => json,
      { action: 'history', entity: `${type}${id ? `/${id}` : ''}/_history` },
    );
    const self = `${req.baseUrl}/${type}${id ? `/${id}` : ''}/_history`;
    return {
      status: 200,
      headers: { 'content-type': FHIR_JSON },
      body: {
        resourceType: 'Bundle',
        type: 'history',
        ...(omitted === 0 ? { total } : {}),
        link: pageLinks(self, {}, count, offset, total),
        entry: kept.map(({ stored, json }) => historyEntry(req.baseUrl, stored, json)),
      },
    };
  }

  private async search(
    req: FhirRequest,
    type: string,
    params: Record<string, string | string[] | undefined>,
    confinedTo: string | null,
  ): Promise<FhirResponse> {
    const lenient = /handling=lenient/.test(req.headers.prefer ?? '');
    // _format and _pretty shape the response, not the result; JSON is all this server speaks.
    const { _format: _ignoredFormat, _pretty: _ignoredPretty, ...searchParams } = params;
    params = searchParams;
    const parsed = this.repository.parseSearch(type, params, lenient);
    const query = confinedTo === null ? parsed : restrictSearchToPatient(parsed, confinedTo);
    const { matches, total } = this.repository.search(query);
    const kept = Object.fromEntries(
      Object.entries(params).filter(([k]) => k !== '_offset' && !query.ignored.includes(k)),
    );
    // Matches the caller may not see are left out silently, and the Bundle says how many and why.
    const visible = await this.visible(
      req.caller,
      matches,
      ({ current }) => current.patientId,
      ({ json }) => json,
      { action: 'search', entity: searchEntity(type, Object.keys(params), query.ignored) },
    );
    const entry: unknown[] = visible.kept.map(({ current, json }) => ({
      fullUrl: `${req.baseUrl}/${type}/${current.id}`,
      resource: JSON.parse(json) as unknown,
      search: { mode: 'match' },
    }));
    if (visible.omitted > 0) {
      entry.push({
        resource: {
          resourceType: 'OperationOutcome',
          issue: [
            {
              severity: 'information',
              code: 'suppressed',
              details: {
                text: `${visible.omitted} matching resource${visible.omitted === 1 ? ' is' : 's are'} left out of this page: no consent covers them for this caller. For example: ${visible.reason}`,
              },
            },
          ],
        },
        search: { mode: 'outcome' },
      });
    }
    return {
      status: 200,
      headers: { 'content-type': FHIR_JSON },
      body: {
        resourceType: 'Bundle',
        type: 'searchset',
        // With resources left out the number the caller may see is unknown without checking every page.
        ...(visible.omitted === 0 ? { total } : {}),
        link: pageLinks(`${req.baseUrl}/${type}`, kept, query.count, query.offset, total),
        entry,
      },
    };
  }

  private async bundle(req: FhirRequest): Promise<FhirResponse> {
    // Every write entry needs a scope that lets the caller write its type (read entries are checked as they run).
    const entries = (req.body as { entry?: unknown } | null)?.entry;
    if (Array.isArray(entries)) {
      for (const entry of entries as {
        request?: { method?: unknown; url?: unknown };
        resource?: unknown;
      }[]) {
        const method = typeof entry?.request?.method === 'string' ? entry.request.method.toUpperCase() : '';
        if (method === '' || method === 'GET' || method === 'HEAD') continue;
        const urlType =
          typeof entry.request?.url === 'string' ? entry.request.url.split(/[/?]/)[0] : undefined;
        const bodyType = (entry.resource as { resourceType?: unknown } | undefined)?.resourceType;
        const type = urlType || (typeof bodyType === 'string' ? bodyType : undefined);
        if (type) checkAccess(req.caller, type, 'write');
      }
    }
    const body = await processBundle(this.repository, req.body, req.baseUrl, async (url) => {
      const [path, search] = url.split('?') as [string, string | undefined];
      const query: Record<string, string | string[]> = {};
      for (const [k, v] of new URLSearchParams(search ?? '')) {
        const prev = query[k];
        query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
      }
      return this.handle({ ...req, method: 'GET', path: `/${path}`, query, body: undefined });
    });
    return { status: 200, headers: { 'content-type': FHIR_JSON }, body };
  }
}

/** A read decision: allowed (by consent, or the patient's own), break-glass, or denied with the 403 to throw. */
type ReadDecision =
  | { outcome: 'allowed' | 'break-glass'; consentId?: string | undefined }
  | { outcome: 'denied'; error: CareLedgerError; reason: string; consentId?: string | undefined };

/** A parameter name as FHIR spells them (a name like `code:text` or `_lastUpdated`); anything else is left out. */
const PARAM_NAME_RE = /^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$/;

/**
 * What a search accessed, for the audit trail: the type and the names of the parameters it used, never their
 * values (a name or an identifier searched for is itself personal data).
 */
function searchEntity(type: string, names: readonly string[], ignored: readonly string[]): string {
  const used = [...new Set(names)].filter((n) => PARAM_NAME_RE.test(n) && !ignored.includes(n)).sort();
  return used.length === 0 ? type : `${type}?${used.join('&')}`;
}

function historyEntry(baseUrl: string, stored: StoredVersion, json: string | null) {
  const url = `${stored.resourceType}/${stored.id}`;
  return {
    fullUrl: `${baseUrl}/${url}`,
    ...(json ? { resource: JSON.parse(json) as unknown } : {}),
    request: {
      method: stored.deleted ? 'DELETE' : stored.version === 1 ? 'POST' : 'PUT',
      url: stored.version === 1 && !stored.deleted ? stored.resourceType : url,
    },
    response: {
      status: stored.deleted ? '204' : stored.version === 1 ? '201' : '200',
      etag: `W/"${stored.version}"`,
      lastModified: new Date(stored.lastUpdated).toISOString(),
    },
  };
}

function paging(query: FhirRequest['query']): { count: number; offset: number } {
  const count = query._count === undefined ? 20 : Number(query._count);
  const offset = query._offset === undefined ? 0 : Number(query._offset);
  if (!Number.isInteger(count) || count < 1 || count > MAX_COUNT)
    throw fhirErrors.badRequest(`_count must be a whole number from 1 to ${MAX_COUNT}.`, '_count');
  if (!Number.isSafeInteger(offset) || offset < 0)
    throw fhirErrors.badRequest('_offset must be a whole number from 0.', '_offset');
  return { count, offset };
}

/** self, next and previous links for a page (https://hl7.org/fhir/R4/http.html#paging). */
function pageLinks(
  base: string,
  params: Record<string, string | string[] | undefined>,
  count: number,
  offset: number,
  total: number,
) {
  const url = (at: number) => {
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(params)) {
      if (key === '_count' || value === undefined) continue;
      for (const v of Array.isArray(value) ? value : [value]) search.append(key, v);
    }
    search.set('_count', String(count));
    if (at > 0) search.set('_offset', String(at));
    return `${base}?${search.toString()}`;
  };
  const links = [{ relation: 'self', url: url(offset) }];
  if (count > 0 && offset + count < total) links.push({ relation: 'next', url: url(offset + count) });
  if (count > 0 && offset > 0) links.push({ relation: 'previous', url: url(Math.max(0, offset - count)) });
  return links;
}

/** `POST [type]/_search` with an application/x-www-form-urlencoded body. */
function formParams(body: unknown): Record<string, string | string[]> {
  if (typeof body !== 'string') return {};
  const out: Record<string, string | string[]> = {};
  for (const [key, value] of new URLSearchParams(body)) {
    const prev = out[key];
    out[key] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return out;
}
