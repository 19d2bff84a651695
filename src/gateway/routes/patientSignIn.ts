import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { PatientSignIn } from '../../auth/patientSignIn.js';

/** Public routes: a patient signs a one-time challenge with their key and gets a token for their own record. */
export const patientSignInRoutes: FastifyPluginAsync<{ signIn: PatientSignIn }> = async (
  plain,
  { signIn },
) => {
  const app = plain.withTypeProvider<TypeBoxTypeProvider>();
  app.post(
    '/auth/patient/challenge',
    {
      schema: {
        summary: 'A one-time sign-in challenge for a patient key (sign its message with EIP-191)',
        body: Type.Object({ address: Type.String({ maxLength: 64 }) }),
        response: {
          200: Type.Object({ nonce: Type.String(), message: Type.String(), expiresAt: Type.String() }),
          '4xx': { $ref: 'Problem#' },
        },
      },
    },
    async (request) => signIn.challenge(request.body.address),
  );
  app.post(
    '/auth/patient/token',
    {
      schema: {
        summary: "Exchange a signed challenge for a short-lived token that reads the patient's own record",
        body: Type.Object({
          address: Type.String({ maxLength: 64 }),
          nonce: Type.String({ maxLength: 64 }),
          signature: Type.String({ maxLength: 200 }),
        }),
        response: {
          200: Type.Object({
            token: Type.String(),
            tokenType: Type.Literal('Bearer'),
            expiresAt: Type.String(),
            patient: Type.String(),
            scope: Type.String(),
          }),
          '4xx': { $ref: 'Problem#' },
        },
      },
    },
    async (request) => ({ ...(await signIn.signIn(request.body)), tokenType: 'Bearer' as const }),
  );
};
