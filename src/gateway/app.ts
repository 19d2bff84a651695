import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { AnchoringService } from '../anchoring/anchoringService.js';
import { RecordProofSchema } from '../anchoring/recordProof.js';
import { authenticate, authorize, type Principal } from '../auth/apiTokens.js';
import type { TokenStore } from '../auth/ports.js';
import type { Access } from '../auth/roles.js';
import { handleError } from './problem.js';
import { CareLedgerError } from '../core/errors.js';
import type { FhirRepository } from '../records/fhirRepository.js';
import type { FhirRouter } from '../records/fhirRouter.js';
import type { PatientLinkService } from '../patients/patientLinkService.js';
import type { ConsentService } from '../consent/consentService.js';
import { adminRoutes } from './routes/admin.js';
import { auditEventRoutes, type AuditTrailReader, type PatientViewReader } from './routes/auditEvents.js';
import { consentRoutes } from './routes/consent.js';
import { exchangeRoutes } from './routes/exchange.js';
import { epcisRoutes, type EpcisRouteOptions } from './routes/epcis.js';
import { traceRoutes, type TraceRouteOptions } from './routes/trace.js';
import { supplyRoutes, type SupplyRouteOptions } from './routes/supply.js';
import { t3Routes } from './routes/t3.js';
import { supplySuspectRoutes, type SupplySuspectRouteOptions } from './routes/supplySuspect.js';
import type { ExchangeGateway } from '../exchange/exchangeGateway.js';
import type { ExternalRecords } from '../exchange/externalRecords.js';
import { patientLinkRoutes } from './routes/patientLinks.js';
import { patientSignInRoutes } from './routes/patientSignIn.js';
import type { PatientSignIn } from '../auth/patientSignIn.js';
import { batchRoutes } from './routes/batches.js';
import { fhirRoutes } from './routes/fhir.js';
import { healthRoutes } from './routes/health.js';
import { recordRoutes } from './routes/records.js';
import {
  BatchViewSchema,
  HealthSchema,
  ProblemSchema,
  RecordReceiptSchema,
  RecordViewSchema,
  type HealthBody,
} from './schemas.js';

export interface GatewayDependencies {
  anchoring: AnchoringService;
  fhir: { router: FhirRouter; repository: FhirRepository; maxBodyBytes: number };
  auth: { tokens: TokenStore; bootstrapToken?: string | undefined };
  health: () => Promise<HealthBody>;
  limits: { maxRecordBytes: number; maxBatchRecords: number };
  patients: PatientLinkService;
  patientSignIn: PatientSignIn;
  /** Signed consent messages relayed to the ConsentRegistry, and the FHIR Consent view of them. */
  consent: ConsentService;
  /** The access audit trail, served as FHIR AuditEvents (absent: no /fhir/AuditEvent routes). */
  audit?: AuditTrailReader | undefined;
  /** The EPCIS repository (absent: no /epcis routes); with `trace`, chain-of-custody traces at /trace. */
  epcis?: (EpcisRouteOptions & { trace?: TraceRouteOptions | undefined }) | undefined;
  /** Lot commissioning and product verification (absent: no /supply and /verify routes). */
  supply?: (SupplyRouteOptions & { suspect?: SupplySuspectRouteOptions | undefined }) | undefined;
  /** Cross-organisation exchange (absent: no /exchange routes and no $fetch-external). */
  exchange?:
    | {
        gateway: ExchangeGateway;
        external: ExternalRecords;
        receipts: PatientViewReader;
        onErased(patientId: string): void;
      }
    | undefined;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated caller, on routes that declare `config.access`. */
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    access?: Access;
  }
}

/**
 * Builds the gateway's HTTP app. It only adapts HTTP to the services it is given; `server.ts`-style listening is
 * the caller's job, and tests use `inject` on the returned app.
 */
export async function buildApp(
  deps: GatewayDependencies,
  options: FastifyServerOptions = {},
): Promise<FastifyInstance> {
  const app = Fastify({
    // The default body limit guards every JSON route; the record routes set their own.
    bodyLimit: 1_048_576,
    // Refuse unknown fields instead of silently dropping them: a typo in a request should be an error.
    ajv: { customOptions: { removeAdditional: false } },
    // Errors Fastify raises before routing (a malformed URL) go through the same handler as everything else.
    frameworkErrors: (error, request, reply) => handleError(error, request, reply),
    ...options,
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.setErrorHandler(handleError);
  // Routes say what they need in `config.access`; routes without it (health, OpenAPI) are public.
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (request) => {
    const access = (request.routeOptions.config as { access?: Access } | undefined)?.access;
    if (!access) return;
    const principal = authenticate(deps.auth.tokens, request.headers.authorization, deps.auth.bootstrapToken);
    authorize(principal, access);
    request.principal = principal;
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    const fhir = path === '/fhir' || path.startsWith('/fhir/');
    const error = fhir
      ? new CareLedgerError(
          'FHIR.UNSUPPORTED_INTERACTION',
          `${request.method} ${path} is not an interaction this server supports; see GET /fhir/metadata.`,
          {
            status: ['GET', 'POST', 'PUT', 'DELETE'].includes(request.method) ? 404 : 405,
            issueType: 'not-supported',
          },
        )
      : new CareLedgerError('ROUTE.NOT_FOUND', `No route ${request.method} ${path}; see GET /openapi.json.`, {
          status: 404,
          issueType: 'not-found',
        });
    handleError(error as unknown as FastifyError, request, reply);
  });

  for (const schema of [
    ProblemSchema,
    RecordReceiptSchema,
    RecordViewSchema,
    RecordProofSchema,
    BatchViewSchema,
    HealthSchema,
  ]) {
    app.addSchema(schema);
  }
  await app.register(swagger, {
    openapi: {
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
      info: {
        title: 'CareLedger gateway',
        version: '0.1.0',
        description: 'Records made durable, batched into RFC 6962 Merkle trees and anchored on an EVM chain.',
      },
    },
  });

  await app.register(healthRoutes, { health: deps.health });
  await app.register(recordRoutes, { anchoring: deps.anchoring, limits: deps.limits });
  await app.register(batchRoutes, { anchoring: deps.anchoring });
  await app.register(fhirRoutes, { router: deps.fhir.router, maxBodyBytes: deps.fhir.maxBodyBytes });
  // /fhir/Consent and /fhir/Consent/:id are more specific than the FHIR router's /fhir/* and win over it.
  await app.register(consentRoutes, { consents: deps.consent });
  // Likewise /fhir/AuditEvent: the access audit trail, written by the server alone.
  if (deps.audit) await app.register(auditEventRoutes, { audit: deps.audit });
  // Before the FHIR router's /fhir/* catch-all: /fhir/Patient/:id/$fetch-external is more specific.
  if (deps.exchange) await app.register(exchangeRoutes, deps.exchange);
  if (deps.epcis) await app.register(epcisRoutes, deps.epcis);
  if (deps.epcis?.trace) await app.register(traceRoutes, deps.epcis.trace);
  if (deps.supply) await app.register(supplyRoutes, deps.supply);
  if (deps.supply?.t3) await app.register(t3Routes, deps.supply.t3);
  // Suspect product, illegitimate-product reports and this organisation's notifications (and their event stream).
  if (deps.supply?.suspect) await app.register(supplySuspectRoutes, deps.supply.suspect);
  await app.register(adminRoutes, { repository: deps.fhir.repository, onErased: deps.exchange?.onErased });
  await app.register(patientLinkRoutes, { patients: deps.patients });
  await app.register(patientSignInRoutes, { signIn: deps.patientSignIn });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  return app;
}
