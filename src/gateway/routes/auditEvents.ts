import type { AuditEvent } from '@medplum/fhirtypes';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from '../../auth/apiTokens.js';
import { formatSmartScope, scopesAllow } from '../../auth/smartScopes.js';
import { CareLedgerError } from '../../core/errors.js';
import { FhirError, fhirErrors } from '../../records/fhirErrors.js';
import { MAX_COUNT } from '../../records/search/index.js';
import { FHIR_ID_RE } from '../../records/supportedTypes.js';
import { FHIR_JSON, fhirBase, patientParam } from './fhirViewHelpers.js';

const DEFAULT_COUNT = 20;

/** What these routes need of the access audit trail (`AccessAuditTrail`). */
export interface AuditTrailReader {
  search(
    patientId: string,
    page: { count: number; offset: number },
  ): Promise<{ total: number; events: AuditEvent[] }>;
  read(id: string): Promise<{ json: string; patientId: string | null } | undefined>;
  proof(id: string): unknown;
}

/** A server-written, anchored record about patients, served read-only as one FHIR resource type. */
export interface PatientViewReader {
  search(
    patientId: string,
    page: { count: number; offset: number },
  ): Promise<{ total: number; resources: { id?: string | undefined }[] }>;
  read(id: string): Promise<{ json: string; patientId: string | null } | undefined>;
  proof(id: string): unknown;
}

/** How one read-only view describes itself in its errors. */
export interface PatientViewText {
  /** What the records are, for "Reading … needs" (e.g. "the access audit trail"). */
  what: string;
  /** Why they cannot be written (the 405's message). */
  readOnly: string;
  /** What read interactions exist (the message for anything else under `/fhir/<Type>/`). */
  supported: string;
}

const forbidden = (message: string) => new FhirError('FHIR.FORBIDDEN', 403, 'forbidden', message);

/**
 * Who may read the access audit trail: a patient's own token (from patient sign-in) reads the entries about that
 * patient; staff need the `admin` role (the gateway's auditors). Returns the Patient a token is confined to, null
 * for an auditor.
 */
function viewReadAccess(principal: Principal | null, type: string, what: string): string | null {
  if (!principal) throw forbidden(`Reading ${what} needs a bearer token.`);
  if (!scopesAllow(principal.scopes, type, 'read')) {
    throw forbidden(
      `This token's scopes (${principal.scopes.map(formatSmartScope).join(' ') || 'none'}) do not allow reading ${type}.`,
    );
  }
  if (principal.role === 'patient') {
    const subject = principal.subject;
    if (!subject?.startsWith('Patient/')) throw forbidden('This patient token acts for no Patient.');
    return subject.slice('Patient/'.length);
  }
  if (principal.role !== 'admin') {
    throw forbidden(
      `Reading ${what} needs an admin (auditor) token, or the patient's own token from patient ` +
        `sign-in; this token's role is "${principal.role}".`,
    );
  }
  return null;
}

const otherPatient = (patientId: string, what: string) =>
  forbidden(`This token reads only ${what} of Patient/${patientId}.`);

function whole(
  value: string | string[] | undefined,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  const n = Array.isArray(value) ? Number.NaN : Number(value);
  if (!Number.isSafeInteger(n) || n < min || n > max || String(value).trim() === '') {
    throw fhirErrors.badRequest(
      `${name} must be a whole number from ${min}${max < Number.MAX_SAFE_INTEGER ? ` to ${max}` : ''}.`,
      name,
    );
  }
  return n;
}

function pageLinks(
  base: string,
  type: string,
  patientId: string,
  count: number,
  offset: number,
  total: number,
) {
  const url = (at: number) =>
    `${base}/${type}?patient=${encodeURIComponent(patientId)}&_count=${count}${at > 0 ? `&_offset=${at}` : ''}`;
  const links = [{ relation: 'self', url: url(offset) }];
  if (offset + count < total) links.push({ relation: 'next', url: url(offset + count) });
  if (offset > 0) links.push({ relation: 'previous', url: url(Math.max(0, offset - count)) });
  return links;
}

const SEARCH_PARAMS = new Set(['patient', '_count', '_offset', '_format', '_pretty']);

/**
 * The access audit trail as FHIR: `GET /fhir/AuditEvent?patient=<id>` (a searchset Bundle, newest first, paged
 * with `_count`/`_offset`), `GET /fhir/AuditEvent/<id>` (served byte for byte as hashed) and
 * `GET /fhir/AuditEvent/<id>/$proof` (its anchoring proof). A patient reads their own entries with the token of
 * their key's sign-in; staff need an admin (auditor) token. The server alone writes AuditEvents: every write is 405.
 * Like `/fhir/Consent`, these static routes win over the FHIR router's `/fhir/*` catch-all.
 */
export const auditEventRoutes: FastifyPluginAsync<{ audit: AuditTrailReader }> = async (app, { audit }) =>
  patientViewRoutes(
    app,
    'AuditEvent',
    {
      search: async (patientId, page) => {
        const { total, events } = await audit.search(patientId, page);
        return { total, resources: events };
      },
      read: (id) => audit.read(id),
      proof: (id) => audit.proof(id),
    },
    {
      what: 'the access audit trail',
      readOnly:
        'AuditEvents are written by this server, one for every access to patient data, and anchored on chain; they ' +
        'cannot be created, changed or deleted. Read them with GET /fhir/AuditEvent?patient=<id> or ' +
        'GET /fhir/AuditEvent/<id>.',
      supported:
        'AuditEvents support read (GET /fhir/AuditEvent/<id>), $proof and search by patient; not history or vread.',
    },
  );

/**
 * Routes of one read-only, server-written view: `GET /fhir/<Type>?patient=<id>` (searchset, newest first, paged),
 * `GET /fhir/<Type>/<id>` (byte for byte as hashed), `GET /fhir/<Type>/<id>/$proof`; every write is 405. A patient
 * reads their own with their sign-in token; staff need an admin (auditor) token.
 */
export async function patientViewRoutes(
  app: FastifyInstance,
  type: string,
  reader: PatientViewReader,
  text: PatientViewText,
): Promise<void> {
  const send = (reply: FastifyReply, body: string | object, contentType = FHIR_JSON) =>
    reply
      .status(200)
      .type(contentType)
      .send(typeof body === 'string' ? body : JSON.stringify(body));
  const route = { config: { access: 'read' as const }, schema: { hide: true } };
  const access = (request: FastifyRequest) => viewReadAccess(request.principal, type, text.what);

  app.get(`/fhir/${type}`, route, async (request, reply) => {
    const confinedTo = access(request);
    const query = request.query as Record<string, string | string[] | undefined>;
    const lenient = /handling=lenient/.test(String(request.headers.prefer ?? ''));
    for (const name of Object.keys(query)) {
      if (!SEARCH_PARAMS.has(name) && !lenient) {
        throw fhirErrors.badRequest(
          `${type} supports only the search parameter patient (GET /fhir/${type}?patient=<id>, with _count ` +
            `and _offset), not "${name}"; send Prefer: handling=lenient to have unknown parameters ignored.`,
          name,
        );
      }
    }
    const base = fhirBase(request);
    const patientId = patientParam(query.patient, base, type) ?? confinedTo;
    if (patientId === null) {
      throw fhirErrors.badRequest(`Search ${type} by patient: GET /fhir/${type}?patient=<id>.`, 'patient');
    }
    if (confinedTo !== null && patientId !== confinedTo) throw otherPatient(confinedTo, text.what);
    const count = whole(query._count, '_count', DEFAULT_COUNT, 0, MAX_COUNT);
    const offset = whole(query._offset, '_offset', 0, 0, Number.MAX_SAFE_INTEGER);
    const { total, resources } = await reader.search(patientId, { count, offset });
    return send(reply, {
      resourceType: 'Bundle',
      type: 'searchset',
      total,
      link: pageLinks(base, type, patientId, count, offset, total),
      entry: resources.map((resource) => ({
        fullUrl: `${base}/${type}/${resource.id}`,
        resource,
        search: { mode: 'match' },
      })),
    });
  });

  const entry = async (request: FastifyRequest) => {
    const confinedTo = access(request);
    const { id } = request.params as { id: string };
    const found = FHIR_ID_RE.test(id) ? await reader.read(id) : undefined;
    if (!found) throw fhirErrors.notFound(`${type}/${id}`);
    if (confinedTo !== null && found.patientId !== confinedTo) throw otherPatient(confinedTo, text.what);
    return { id, json: found.json };
  };
  app.get(`/fhir/${type}/:id`, route, async (request, reply) => send(reply, (await entry(request)).json));
  app.get(`/fhir/${type}/:id/$proof`, route, async (request, reply) => {
    const { id } = await entry(request);
    return send(reply, reader.proof(id) as object, 'application/json; charset=utf-8');
  });

  // Bodies of refused requests are not read, whatever their type. (Registered once per Fastify context.)
  if (!app.hasContentTypeParser('application/x-www-form-urlencoded')) {
    app.addContentTypeParser(
      ['application/fhir+json', 'application/json+fhir', 'application/x-www-form-urlencoded'],
      { parseAs: 'string' },
      (_request, _body, done) => done(null, undefined),
    );
  }
  const refuse = (message: string) => async () => {
    throw new CareLedgerError('FHIR.UNSUPPORTED_INTERACTION', message, {
      status: 405,
      issueType: 'not-supported',
    });
  };
  app.post(`/fhir/${type}/_search`, route, refuse(`Search ${type} with GET /fhir/${type}?patient=<id>.`));
  app.get(`/fhir/${type}/*`, route, refuse(text.supported));
  for (const url of [`/fhir/${type}`, `/fhir/${type}/*`]) {
    app.route({
      method: ['POST', 'PUT', 'PATCH', 'DELETE'],
      url,
      ...route,
      handler: refuse(text.readOnly),
    });
  }
}
