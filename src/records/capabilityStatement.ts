import { supportedSearchParameters, toCapabilitySearchParam } from './search/index.js';
import { SUPPORTED_RESOURCE_TYPES } from './supportedTypes.js';

const INTERACTIONS = [
  'read',
  'vread',
  'update',
  'delete',
  'history-instance',
  'history-type',
  'create',
  'search-type',
];

/**
 * Consent: read-only views of the consents in the ConsentRegistry on chain (src/gateway/routes/consent.ts), found
 * by the Patient whose linked key they name; not stored, versioned or written through the FHIR API.
 */
const CONSENT_RESOURCE = {
  type: 'Consent',
  documentation:
    'Read-only views of the patient consents recorded in the ConsentRegistry on chain, with ids chain-<n>. Grant ' +
    "and revoke with the patient's signature through POST /consent/grants and POST /consent/revocations.",
  versioning: 'no-version',
  readHistory: false,
  updateCreate: false,
  conditionalCreate: false,
  conditionalRead: 'not-supported',
  conditionalUpdate: false,
  conditionalDelete: 'not-supported',
  interaction: [{ code: 'read' }, { code: 'search-type' }],
  searchParam: [
    {
      name: 'patient',
      definition: 'http://hl7.org/fhir/SearchParameter/clinical-patient',
      type: 'reference',
      documentation:
        'The Patient whose linked key the consents name: patient=<id> or patient=Patient/<id> (required).',
    },
  ],
};

/**
 * AuditEvent: the access audit trail (src/gateway/routes/auditEvents.ts), written by the server for every access to
 * a patient's data and anchored on chain; read and searched by patient, by that patient's own token or an admin.
 */
const auditEventResource = (baseUrl: string) => ({
  type: 'AuditEvent',
  documentation:
    "Who accessed a patient's data, for what purpose, and whether it was allowed: one entry per read, per search " +
    'or history (per patient, with counts), allowed, denied or break-glass; written by this server only and ' +
    "anchored on chain (GET AuditEvent/[id]/$proof). A patient's own token (patient sign-in) reads their own " +
    'entries; staff need the admin role.',
  versioning: 'no-version',
  readHistory: false,
  updateCreate: false,
  conditionalCreate: false,
  conditionalRead: 'not-supported',
  conditionalUpdate: false,
  conditionalDelete: 'not-supported',
  interaction: [{ code: 'read' }, { code: 'search-type' }],
  searchParam: [
    {
      name: 'patient',
      definition: 'http://hl7.org/fhir/SearchParameter/AuditEvent-patient',
      type: 'reference',
      documentation:
        'The Patient whose data was accessed: patient=<id> or patient=Patient/<id> (required; newest first, _count and _offset page).',
    },
  ],
  operation: [
    {
      name: 'proof',
      definition: `${baseUrl}/OperationDefinition/proof`,
      documentation:
        'GET AuditEvent/[id]/$proof: the inclusion proof anchoring this entry (the SHA-256 of its JSON as served) on chain.',
    },
  ],
});

/**
 * The server's CapabilityStatement (https://hl7.org/fhir/R4/capabilitystatement.html): exactly what this server
 * does — its types, interactions, search parameters, transaction and batch, the `$proof` operation, and the
 * read-only Consent views of the chain and the AuditEvents of the access audit trail.
 */
export function capabilityStatement(baseUrl: string, version: string): Record<string, unknown> {
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: new Date().toISOString(),
    kind: 'instance',
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'json'],
    software: { name: 'CareLedger', version },
    implementation: {
      description: 'CareLedger gateway: FHIR R4 records encrypted at rest, every version anchored on chain',
      url: baseUrl,
    },
    rest: [
      {
        mode: 'server',
        security: {
          cors: false,
          description:
            'Bearer tokens (Authorization: Bearer <token>) issued by the gateway operator; roles reader, clinician, admin.',
        },
        resource: [
          ...SUPPORTED_RESOURCE_TYPES.map((type) => ({
            type,
            versioning: 'versioned',
            readHistory: true,
            updateCreate: true,
            conditionalCreate: false,
            conditionalRead: 'not-supported',
            conditionalUpdate: false,
            conditionalDelete: 'not-supported',
            interaction: INTERACTIONS.map((code) => ({ code })),
            searchParam: supportedSearchParameters(type).map(toCapabilitySearchParam),
            operation: [
              {
                name: 'proof',
                definition: `${baseUrl}/OperationDefinition/proof`,
                documentation:
                  'GET [type]/[id]/_history/[vid]/$proof: the inclusion proof anchoring this version on chain; check it with "careledger verify".',
              },
            ],
          })),
          CONSENT_RESOURCE,
          auditEventResource(baseUrl),
        ],
        interaction: [{ code: 'transaction' }, { code: 'batch' }],
      },
    ],
  };
}
