import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { FhirRepository } from '../../records/fhirRepository.js';

/** Administrative operations (admin tokens only). */
export const adminRoutes: FastifyPluginAsync<{
  repository: FhirRepository;
  /** Told of each erasure once it is durable (e.g. to withdraw the patient from the record locator). */
  onErased?: ((patientId: string) => void) | undefined;
}> = async (plain, { repository, onErased }) => {
  const app = plain.withTypeProvider<TypeBoxTypeProvider>();
  app.post(
    '/admin/patients/:id/erase',
    {
      config: { access: 'admin' },
      schema: {
        summary:
          "Erase a patient's data by destroying their data key (crypto-shredding); anchored hashes remain",
        params: Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9\\-.]{1,64}$' }) }),
        response: {
          200: Type.Object({
            patient: Type.String(),
            erasedResources: Type.Integer({
              description: "The patient's resources that could be read (not deleted) and no longer can",
            }),
          }),
          '4xx': { $ref: 'Problem#' },
        },
      },
    },
    async (request) => {
      const { resources } = await repository.erasePatient(request.params.id);
      onErased?.(request.params.id);
      return { patient: `Patient/${request.params.id}`, erasedResources: resources };
    },
  );
};
