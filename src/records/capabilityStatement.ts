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
 * The server's CapabilityStatement (https://hl7.org/fhir/R4/capabilitystatement.html): exactly what this server
 * does — its types, interactions, search parameters, transaction and batch, and the `$proof` operation.
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
        resource: SUPPORTED_RESOURCE_TYPES.map((type) => ({
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
        interaction: [{ code: 'transaction' }, { code: 'batch' }],
      },
    ],
  };
}
