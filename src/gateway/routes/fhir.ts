import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { FhirCaller } from '../../records/fhirAccess.js';
import type { FhirRouter } from '../../records/fhirRouter.js';

const FHIR_PREFIX = '/fhir';

/**
 * Mounts the FHIR REST API at `/fhir`: this adapter only turns HTTP into a framework-free `FhirRequest` for the
 * router and its `FhirResponse` back into HTTP. Reads need a token that may read, writes one that may write;
 * `GET /fhir/metadata` is public, as FHIR clients expect.
 */
export const fhirRoutes: FastifyPluginAsync<{ router: FhirRouter; maxBodyBytes: number }> = async (
  app,
  { router, maxBodyBytes },
) => {
  app.addContentTypeParser(
    ['application/fhir+json', 'application/json+fhir'],
    { parseAs: 'string', bodyLimit: maxBodyBytes },
    (_req, body, done) => {
      try {
        done(null, body === '' ? undefined : JSON.parse(body as string));
      } catch (error) {
        const err = error as Error & { statusCode?: number };
        err.statusCode = 400;
        done(err, undefined);
      }
    },
  );
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: maxBodyBytes },
    (_req, body, done) => done(null, body),
  );

  const handle = async (request: FastifyRequest, reply: FastifyReply) => {
    const url = request.url;
    const path = url.slice(FHIR_PREFIX.length).split('?')[0] ?? '';
    const response = await router.handle({
      method: request.method,
      path,
      query: request.query as Record<string, string | string[] | undefined>,
      headers: { ifMatch: header(request, 'if-match'), prefer: header(request, 'prefer') },
      body: request.body,
      baseUrl: `${request.protocol}://${request.host}${FHIR_PREFIX}`,
      caller: callerOf(request),
    });
    void reply.status(response.status).headers(response.headers);
    if (response.body === undefined) return reply.send();
    if (!('content-type' in response.headers)) void reply.type('application/fhir+json; charset=utf-8');
    return reply.send(typeof response.body === 'string' ? response.body : JSON.stringify(response.body));
  };

  const options = (access: 'read' | 'write') => ({
    bodyLimit: maxBodyBytes,
    config: { access },
    schema: { hide: true },
  });
  app.get(`${FHIR_PREFIX}/metadata`, { schema: { hide: true } }, handle);
  app.get(`${FHIR_PREFIX}/*`, options('read'), handle);
  app.post(`${FHIR_PREFIX}/:type/_search`, options('read'), handle);
  app.post(FHIR_PREFIX, options('write'), handle);
  app.post(`${FHIR_PREFIX}/*`, options('write'), handle);
  app.put(`${FHIR_PREFIX}/*`, options('write'), handle);
  app.delete(`${FHIR_PREFIX}/*`, options('write'), handle);
};

/** The FHIR router's view of the authenticated caller (metadata, the one public route, gets no scopes). */
export function callerOf(request: FastifyRequest): FhirCaller {
  const principal = request.principal;
  if (!principal) return { scopes: [], patientId: null };
  const subject = principal.subject;
  return {
    scopes: principal.scopes,
    patientId: principal.role === 'patient' && subject?.startsWith('Patient/') ? subject.slice(8) : null,
    // The consent check of staff reads: why they read, whether it is an emergency, and who (if known) reads.
    purpose: header(request, 'x-purpose-of-use'),
    breakGlassReason: header(request, 'x-break-glass'),
    practitioner: principal.chainAddress ?? undefined,
    // Who, for the access audit trail.
    tokenName: principal.name,
    role: principal.role,
    subject: principal.subject,
  };
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
