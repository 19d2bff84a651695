import type { FastifyPluginAsync } from 'fastify';
import { CareLedgerError } from '../../core/errors.js';
import type { ExchangeGateway } from '../../exchange/exchangeGateway.js';
import type { ExternalRecords } from '../../exchange/externalRecords.js';
import { checkAccess } from '../../records/fhirAccess.js';
import { fhirErrors } from '../../records/fhirErrors.js';
import { FHIR_ID_RE } from '../../records/supportedTypes.js';
import { patientViewRoutes, type PatientViewReader } from './auditEvents.js';
import { callerOf } from './fhir.js';
import { fhirBase, sendFhir } from './fhirViewHelpers.js';

/** A sealed request is small (a patient address, a purpose); answers go the other way. */
const MAX_REQUEST_BYTES = 64 * 1024;

/**
 * Cross-organisation exchange over HTTP.
 *
 * - `POST /exchange/v1/requests` is for other member gateways, not people: no bearer token, because the sealed
 *   envelope itself authenticates the sending organisation (its chain key, checked against the registry) and
 *   only an active member gets an answer, sealed to its own registered key.
 * - `GET /fhir/Patient/{id}/$fetch-external` is for this gateway's staff: it fetches, verifies and keeps the
 *   patient's records held by other organisations (purpose from `X-Purpose-Of-Use`, default TREAT).
 * - `GET /fhir/Provenance?patient=<id>`, `/fhir/Provenance/<id>[/$proof]`: what was received, when and from whom
 *   (an auditor's admin token, or the patient's own sign-in token).
 */
export const exchangeRoutes: FastifyPluginAsync<{
  gateway: ExchangeGateway;
  external: ExternalRecords;
  receipts: PatientViewReader;
}> = async (app, { gateway, external, receipts }) => {
  app.post(
    '/exchange/v1/requests',
    { bodyLimit: MAX_REQUEST_BYTES, schema: { hide: true } },
    async (request, reply) => {
      const sealed = await gateway.handle(request.body);
      return reply.status(200).type('application/json; charset=utf-8').send(JSON.stringify(sealed));
    },
  );

  app.get(
    '/fhir/Patient/:id/$fetch-external',
    { config: { access: 'read' as const }, schema: { hide: true } },
    async (request, reply) => {
      const caller = callerOf(request);
      if (caller.patientId !== null) {
        throw new CareLedgerError(
          'FHIR.FORBIDDEN',
          "$fetch-external asks other organisations for a patient's records on this organisation's behalf; it is for staff tokens, not a patient's.",
          { status: 403, issueType: 'forbidden' },
        );
      }
      checkAccess(caller, 'Patient', 'read');
      const { id } = request.params as { id: string };
      if (!FHIR_ID_RE.test(id)) throw fhirErrors.badRequest(`"${id}" is not a valid FHIR id.`);
      const bundle = await external.fetch(caller, id, fhirBase(request));
      return sendFhir(reply, 200, bundle);
    },
  );

  // What this gateway received, and from whom: one anchored Provenance per receipt, read-only.
  await patientViewRoutes(app, 'Provenance', receipts, {
    what: 'the record of what other organisations sent',
    readOnly:
      'Provenances here are written by this server, one for every receipt of records from another organisation ' +
      '($fetch-external), and anchored on chain; they cannot be created, changed or deleted. Read them with ' +
      'GET /fhir/Provenance?patient=<id> or GET /fhir/Provenance/<id>.',
    supported:
      'Provenances support read (GET /fhir/Provenance/<id>), $proof and search by patient; not history or vread.',
  });
};
