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
 * The server's CapabilityStatement (https://hl7.org/fhir/R4/capabilitystatement.html): exactly what this server
 * does — its types, interactions, search parameters, transaction and batch, the `$proof` operation, and the
 * read-only Consent views of the chain.
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
        ],
        interaction: [{ code: 'transaction' }, { code: 'batch' }],
      },
    ],
  };
}
