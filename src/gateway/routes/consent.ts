import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { BundleEntry } from '@medplum/fhirtypes';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { Principal } from '../../auth/apiTokens.js';
import { ForbiddenError } from '../../auth/errors.js';
import { roleAllows } from '../../auth/roles.js';
import { formatSmartScope, onlyPatientContext, scopesAllow } from '../../auth/smartScopes.js';
import type { ConsentService, GrantInput } from '../../consent/consentService.js';
import { consentSearchBundle, fhirConsent } from '../../consent/fhirConsentView.js';
import type { ConsentRecord } from '../../consent/ports.js';
import { CareLedgerError, NotFoundError } from '../../core/errors.js';
import { FhirError, fhirErrors } from '../../records/fhirErrors.js';
import { fhirBase, patientParam, sendFhir } from './fhirViewHelpers.js';

/** A whole number as JSON number or decimal string (uint64/uint256 values do not fit a JSON number). */
const Integer = (description: string) =>
  Type.Union([Type.String({ pattern: '^[0-9]{1,78}$' }), Type.Integer({ minimum: 0 })], { description });
const Address = (description: string) => Type.String({ maxLength: 64, description });
const Deadline = Integer('UNIX seconds after which the signature is refused (the signed deadline)');
const Signature = Type.String({
  maxLength: 200,
  description: "the signer's 65-byte EIP-712 signature of the message (0x + 130 hex digits)",
});

const GrantBody = Type.Object(
  {
    terms: Type.Object(
      {
        patient: Address("the patient's chain address (their linked key)"),
        grantee: Address("who gets access: an organisation's or a practitioner's chain address"),
        scopes: Type.Array(
          Type.String({
            maxLength: 200,
            description:
              'type:<ResourceType>, category:<code>, resource:<ResourceType>/<id>, or the keccak-256 hash of one',
          }),
          { maxItems: 64, description: '1 to 32 scopes; the hashes are what was signed' },
        ),
        purposes: Type.Unknown({
          description:
            'purpose-of-use codes, e.g. ["TREAT", "HPAYMT"] (TREAT, ETREAT, HPAYMT, HRESCH, PUBHLTH, HOPERAT, ' +
            'PATRQT), or their on-chain bitmask',
        }),
        validFrom: Type.Optional(Integer('UNIX seconds from which the consent is in force; default 0')),
        validUntil: Integer('UNIX seconds at which the consent lapses'),
        dataFrom: Type.Optional(
          Integer('UNIX seconds, first date of the data covered; default 0 (unbounded)'),
        ),
        dataUntil: Type.Optional(
          Integer('UNIX seconds, last date of the data covered; default 0 (unbounded)'),
        ),
      },
      { additionalProperties: false },
    ),
    signer: Address('the patient or one of their delegates, who signed the Grant message'),
    deadline: Deadline,
    signature: Signature,
  },
  { additionalProperties: false },
);
const RevokeBody = Type.Object(
  {
    consentId: Type.Union(
      [Type.String({ pattern: '^(chain-)?[0-9]{1,78}$' }), Type.Integer({ minimum: 1 })],
      {
        description: 'the consent id (7 or chain-7)',
      },
    ),
    signer: Address('the patient or one of their delegates, who signed the Revoke message'),
    deadline: Deadline,
    signature: Signature,
  },
  { additionalProperties: false },
);
const AppointBody = Type.Object(
  {
    patient: Address('the patient, who signs the AppointDelegate message'),
    delegate: Address('who may grant and revoke for the patient'),
    until: Type.Optional(Integer('UNIX seconds at which the delegation lapses; default 0 (until removed)')),
    deadline: Deadline,
    signature: Signature,
  },
  { additionalProperties: false },
);
const RemoveBody = Type.Object(
  {
    patient: Address('the patient'),
    delegate: Address('the delegate whose delegation ends'),
    signer: Address('the patient or the delegate, who signed the RemoveDelegate message'),
    deadline: Deadline,
    signature: Signature,
  },
  { additionalProperties: false },
);

const Transaction = {
  transactionHash: Type.String(),
  blockNumber: Type.Integer(),
};
const GrantReply = Type.Object({
  consentId: Type.String({ description: 'the on-chain consent id (decimal)' }),
  consent: Type.String({ description: 'the FHIR view: Consent/chain-<id>' }),
  patient: Type.Union([Type.String(), Type.Null()], {
    description: 'Patient/<id> when the patient address is linked at this gateway',
  }),
  scopes: Type.Array(Type.Object({ hash: Type.String(), scope: Type.Union([Type.String(), Type.Null()]) })),
  ...Transaction,
});
const RevokeReply = Type.Object({ consentId: Type.String(), consent: Type.String(), ...Transaction });
const TransactionReply = Type.Object(Transaction);
const SigningInfoReply = Type.Object({
  address: Type.String(),
  nonce: Type.String({ description: 'the nonce the next message signed by address must carry (decimal)' }),
  domain: Type.Object({
    name: Type.String(),
    version: Type.String(),
    chainId: Type.Integer(),
    verifyingContract: Type.String(),
  }),
  types: Type.Record(Type.String(), Type.Array(Type.Object({ name: Type.String(), type: Type.String() })), {
    description: 'EIP-712 message types: Grant, Revoke, AppointDelegate, RemoveDelegate',
  }),
});
const problems = { '4xx': { $ref: 'Problem#' }, '5xx': { $ref: 'Problem#' } };

const SUBMIT_DESCRIPTION =
  "The patient's (or delegate's) signature is the authority; the gateway relays it as this organisation. Staff " +
  "tokens that may write submit any signed message; a patient's own token (from patient sign-in) submits the " +
  'messages signed by its own key.';

/**
 * Who may hand a signed consent message to this gateway: a token that may write, or a patient's token for the
 * key that signed it (the patient's app). The signature, checked on chain, is what authorises the change itself.
 */
function assertMaySubmit(principal: Principal | null, signer: unknown): void {
  if (principal && roleAllows(principal.role, 'write')) return;
  const own =
    principal?.role === 'patient' &&
    principal.chainAddress !== null &&
    typeof signer === 'string' &&
    signer.toLowerCase() === principal.chainAddress.toLowerCase();
  if (own) return;
  throw new ForbiddenError(
    principal?.role === 'patient'
      ? "A patient's token may submit only messages signed by its own key " +
          `(${principal.chainAddress ?? 'none'}); this one is signed by ${String(signer)}.`
      : `The role "${principal?.role ?? 'none'}" may not submit consent messages: use a token that may write, or ` +
          "the patient's own token.",
    { role: principal?.role, needs: 'write' },
  );
}

/** The Patient a token is confined to for Consent reads (null: it may read any), or 403 if it may not read them. */
function consentReadAccess(principal: Principal | null): string | null {
  if (!principal) return null; // the onRequest hook has authenticated already; kept for types
  if (!scopesAllow(principal.scopes, 'Consent', 'read')) {
    throw new FhirError(
      'FHIR.FORBIDDEN',
      403,
      'forbidden',
      `This token's scopes (${principal.scopes.map(formatSmartScope).join(' ') || 'none'}) do not allow reading Consent.`,
    );
  }
  if (!onlyPatientContext(principal.scopes, 'Consent', 'read')) return null;
  const subject = principal.subject;
  if (principal.role !== 'patient' || !subject?.startsWith('Patient/')) {
    throw new FhirError(
      'FHIR.FORBIDDEN',
      403,
      'forbidden',
      'This token has only patient scopes for Consent but acts for no patient.',
    );
  }
  return subject.slice('Patient/'.length);
}

function forbiddenOtherPatient(patientId: string): FhirError {
  return new FhirError(
    'FHIR.FORBIDDEN',
    403,
    'forbidden',
    `This token reads only Patient/${patientId}'s record, which does not include this consent.`,
  );
}

/**
 * The consent API: what a client needs to sign, relaying signed grants, revocations and delegations to the
 * `ConsentRegistry` (`/consent/...`, problem+json errors), and the read-only FHIR view of a Patient's on-chain
 * consents (`/fhir/Consent`, OperationOutcome errors). The FHIR routes are static and parametric routes under
 * `/fhir/Consent`, which Fastify prefers over the FHIR router's `/fhir/*` catch-all; every other type still
 * reaches the router.
 */
export const consentRoutes: FastifyPluginAsync<{ consents: ConsentService }> = async (
  plain,
  { consents },
) => {
  const app = plain.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    '/consent/signing-info',
    {
      config: { access: 'read' },
      schema: {
        summary:
          'What a patient (or delegate) needs to sign a consent message: EIP-712 domain, types and nonce',
        querystring: Type.Object({ address: Address('the chain address that will sign') }),
        response: { 200: SigningInfoReply, ...problems },
      },
    },
    async (request) => {
      const info = await consents.signingInfo(request.query.address);
      return { ...info, nonce: info.nonce.toString() };
    },
  );

  app.post(
    '/consent/grants',
    {
      config: { access: 'read' },
      schema: {
        summary: 'Relay a consent grant signed by the patient or a delegate',
        description: SUBMIT_DESCRIPTION,
        body: GrantBody,
        response: { 201: GrantReply, ...problems },
      },
    },
    async (request, reply) => {
      assertMaySubmit(request.principal, request.body.signer);
      // purposes is typed loosely above (codes or a mask); the service checks it.
      const result = await consents.grant(request.body as GrantInput);
      const id = result.consentId.toString();
      return reply
        .status(201)
        .header('location', `/fhir/Consent/chain-${id}`)
        .send({
          consentId: id,
          consent: `Consent/chain-${id}`,
          patient: result.patientId === null ? null : `Patient/${result.patientId}`,
          scopes: result.scopes,
          transactionHash: result.transactionHash,
          blockNumber: result.blockNumber,
        });
    },
  );

  app.post(
    '/consent/revocations',
    {
      config: { access: 'read' },
      schema: {
        summary: 'Relay the revocation of a consent, signed by the patient or a delegate',
        description: SUBMIT_DESCRIPTION,
        body: RevokeBody,
        response: { 200: RevokeReply, ...problems },
      },
    },
    async (request) => {
      assertMaySubmit(request.principal, request.body.signer);
      const result = await consents.revoke(request.body);
      const id = result.consentId.toString();
      return {
        consentId: id,
        consent: `Consent/chain-${id}`,
        transactionHash: result.transactionHash,
        blockNumber: result.blockNumber,
      };
    },
  );

  app.post(
    '/consent/delegates',
    {
      config: { access: 'read' },
      schema: {
        summary: 'Relay the appointment of a delegate (a guardian, a carer), signed by the patient',
        description: SUBMIT_DESCRIPTION,
        body: AppointBody,
        response: { 201: TransactionReply, ...problems },
      },
    },
    async (request, reply) => {
      assertMaySubmit(request.principal, request.body.patient);
      return reply.status(201).send(await consents.appointDelegate(request.body));
    },
  );

  app.post(
    '/consent/delegates/remove',
    {
      config: { access: 'read' },
      schema: {
        summary: 'Relay the end of a delegation, signed by the patient or the delegate',
        description: SUBMIT_DESCRIPTION,
        body: RemoveBody,
        response: { 200: TransactionReply, ...problems },
      },
    },
    async (request) => {
      assertMaySubmit(request.principal, request.body.signer);
      return consents.removeDelegate(request.body);
    },
  );

  // --- FHIR: read-only views. Errors become OperationOutcomes in the app's error handler (a /fhir path). ---

  const viewOf = async (consent: ConsentRecord, patientId: string | null) =>
    fhirConsent(consent, await consents.viewContext(consent, patientId));

  app.get(
    '/fhir/Consent',
    { config: { access: 'read' }, schema: { hide: true } },
    async (request: FastifyRequest, reply) => {
      const confinedTo = consentReadAccess(request.principal);
      const query = request.query as Record<string, string | string[] | undefined>;
      const lenient = /handling=lenient/.test(String(request.headers.prefer ?? ''));
      for (const name of Object.keys(query)) {
        if (name !== 'patient' && !lenient) {
          throw fhirErrors.badRequest(
            `Consent supports only the search parameter patient (GET /fhir/Consent?patient=<id>), not "${name}"; ` +
              'send Prefer: handling=lenient to have unknown parameters ignored.',
            name,
          );
        }
      }
      const base = fhirBase(request);
      const patientId = patientParam(query.patient, base, 'Consent') ?? confinedTo;
      if (patientId === null) {
        throw fhirErrors.badRequest(
          "Search Consent by patient: GET /fhir/Consent?patient=<id> lists the consents naming that Patient's key.",
          'patient',
        );
      }
      if (confinedTo !== null && patientId !== confinedTo) throw forbiddenOtherPatient(confinedTo);
      const self = `${base}/Consent?patient=${encodeURIComponent(patientId)}`;
      let found;
      try {
        found = await consents.consentsOfPatient(patientId);
      } catch (error) {
        // A search matches nothing rather than failing; the OperationOutcome entry says why.
        if (!(error instanceof NotFoundError) || error.code !== 'PATIENT.NOT_LINKED') throw error;
        const outcome: BundleEntry = {
          resource: {
            resourceType: 'OperationOutcome',
            issue: [{ severity: 'information', code: 'not-found', details: { text: error.message } }],
          },
          search: { mode: 'outcome' },
        };
        return sendFhir(reply, 200, { ...consentSearchBundle([], base, self), entry: [outcome] });
      }
      const views = await Promise.all(found.consents.map((c) => viewOf(c, found.patientId)));
      return sendFhir(reply, 200, consentSearchBundle(views, base, self));
    },
  );

  app.get(
    '/fhir/Consent/:id',
    { config: { access: 'read' }, schema: { hide: true } },
    async (request: FastifyRequest, reply) => {
      const confinedTo = consentReadAccess(request.principal);
      const { id } = request.params as { id: string };
      if (!/^chain-[1-9][0-9]{0,77}$/.test(id)) {
        throw fhirErrors.notFound(`Consent/${id} (consents here are views of the chain, with ids chain-<n>)`);
      }
      let found;
      try {
        found = await consents.consentById(id);
      } catch (error) {
        if (error instanceof CareLedgerError && error.status === 404)
          throw fhirErrors.notFound(`Consent/${id}`);
        throw error;
      }
      if (confinedTo !== null && found.patientId !== confinedTo) throw forbiddenOtherPatient(confinedTo);
      return sendFhir(reply, 200, await viewOf(found.consent, found.patientId));
    },
  );

  // Everything else on Consent: say what is supported instead of letting the FHIR router call the type unknown.
  const readOnly = () =>
    new CareLedgerError(
      'FHIR.UNSUPPORTED_INTERACTION',
      'Consent resources here are read-only views of the ConsentRegistry on chain: read them with GET ' +
        '/fhir/Consent?patient=<id> or GET /fhir/Consent/chain-<n>; grant and revoke by POST /consent/grants and ' +
        'POST /consent/revocations with the patient’s signature.',
      { status: 405, issueType: 'not-supported' },
    );
  // Bodies of refused writes are not read, whatever their type.
  app.addContentTypeParser(
    ['application/fhir+json', 'application/json+fhir', 'application/x-www-form-urlencoded'],
    { parseAs: 'string' },
    (_request, _body, done) => done(null, undefined),
  );
  const refuse = async () => {
    throw readOnly();
  };
  app.get('/fhir/Consent/*', { config: { access: 'read' }, schema: { hide: true } }, refuse);
  for (const url of ['/fhir/Consent', '/fhir/Consent/*']) {
    app.route({
      method: ['POST', 'PUT', 'PATCH', 'DELETE'],
      url,
      config: { access: 'read' },
      schema: { hide: true },
      handler: refuse,
    });
  }
};
