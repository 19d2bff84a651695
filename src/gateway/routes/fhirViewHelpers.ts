import type { FastifyReply, FastifyRequest } from 'fastify';
import { fhirErrors } from '../../records/fhirErrors.js';
import { FHIR_ID_RE } from '../../records/supportedTypes.js';

/** Shared by the read-only FHIR views the gateway serves beside the FHIR router (Consent, AuditEvent). */
export const FHIR_JSON = 'application/fhir+json; charset=utf-8';

/** The absolute FHIR base of this request, for fullUrls and paging links. */
export function fhirBase(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}/fhir`;
}

export function sendFhir(reply: FastifyReply, status: number, body: object): FastifyReply {
  return reply.status(status).type(FHIR_JSON).send(JSON.stringify(body));
}

/**
 * The Patient id of a `patient=` search parameter on `type`: `<id>`, `Patient/<id>`, or the absolute form on this
 * server; exactly one. Undefined when the parameter is absent.
 */
export function patientParam(
  value: string | string[] | undefined,
  baseUrl: string,
  type: string,
): string | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value) || value.includes(',')) {
    throw fhirErrors.badRequest(`Search ${type} by exactly one patient: patient=<id>.`, 'patient');
  }
  const id = value.startsWith(`${baseUrl}/Patient/`)
    ? value.slice(baseUrl.length + 9)
    : value.startsWith('Patient/')
      ? value.slice(8)
      : value;
  if (!FHIR_ID_RE.test(id)) {
    throw fhirErrors.badRequest(
      `patient=${value} is not a Patient reference; write patient=<id> or patient=Patient/<id>.`,
      'patient',
    );
  }
  return id;
}
