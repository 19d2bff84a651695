import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { PatientLink } from '../../patients/ports.js';
import type { PatientLinkService } from '../../patients/patientLinkService.js';

const Params = Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9\\-.]{1,64}$' }) });
const LinkBody = Type.Object({
  address: Type.String({ description: "the patient's chain address (0x + 40 hex digits)", maxLength: 64 }),
  issuedAt: Type.String({ description: 'the time in the signed statement (ISO 8601)', maxLength: 40 }),
  signature: Type.String({
    description: 'EIP-191 signature of the link statement by that address',
    maxLength: 200,
  }),
});
const LinkReply = Type.Object({
  patient: Type.String(),
  address: Type.String(),
  linkedAt: Type.String({ format: 'date-time' }),
  statement: Type.String(),
});
const reply = (link: PatientLink) => ({
  patient: `Patient/${link.patientId}`,
  address: link.address,
  linkedAt: new Date(link.linkedAt).toISOString(),
  statement: link.statement,
});

/**
 * Links a patient's key to their Patient (staff submit it; the patient's signature over a statement naming this
 * gateway is what authorises it), and shows the link.
 */
export const patientLinkRoutes: FastifyPluginAsync<{ patients: PatientLinkService }> = async (
  plain,
  { patients },
) => {
  const app = plain.withTypeProvider<TypeBoxTypeProvider>();
  app.post(
    '/admin/patients/:id/link',
    {
      config: { access: 'write' },
      schema: {
        summary: "Link a patient's key (chain address) to their Patient, with the patient's signed statement",
        params: Params,
        body: LinkBody,
        response: { 200: LinkReply, 201: LinkReply, '4xx': { $ref: 'Problem#' } },
      },
    },
    async (request, res) => {
      const { link, created } = await patients.link(request.params.id, request.body);
      return res.status(created ? 201 : 200).send(reply(link));
    },
  );
  app.get(
    '/admin/patients/:id/link',
    {
      config: { access: 'read' },
      schema: {
        summary: 'The key linked to a Patient, with the statement the patient signed',
        params: Params,
        response: { 200: LinkReply, '4xx': { $ref: 'Problem#' } },
      },
    },
    async (request) => reply(patients.get(request.params.id)),
  );
};
