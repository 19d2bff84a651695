import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiToken } from '../../src/auth/apiTokens.js';
import { PURPOSES_OF_USE, scopeHash } from '../../src/consent/consentTypedData.js';
import { createChainClients } from '../../src/ledger/chainClients.js';
import { organizationRegistryAbi } from '../../src/ledger/generated/contracts.js';
import { ORGANIZATION_ROLES, type OrganizationRole } from '../../src/ledger/organizationRoles.js';
import { SUPPORTED_RESOURCE_TYPES } from '../../src/records/supportedTypes.js';
import { startTestNode, type TestNode } from '../helpers/inProcessNode.js';
import { chainIdOf, grantConsent, linkPatientKey, revokeConsent } from '../helpers/patientConsent.js';

/**
 * The access matrix over HTTP, on a real node and the real registries: every organisation role × every resource
 * type × every consent state, read by a clinician of that organisation → exactly the expected 200 or 403.
 * Each consent state belongs to its own practitioner (consents name the practitioner's address, so states do not
 * mix); the organisation's role is changed on the OrganizationRegistry between rounds.
 */
type State = 'none' | 'granted' | 'expired' | 'revoked' | 'wrong purpose' | 'wrong grantee' | 'break-glass';
const STATES: State[] = [
  'none',
  'granted',
  'expired',
  'revoked',
  'wrong purpose',
  'wrong grantee',
  'break-glass',
];
const NO_PATIENT = new Set(['Practitioner', 'Organization']);

/** The rule, written independently of the implementation. */
function expected(role: OrganizationRole, type: string, state: State): 200 | 403 {
  if (NO_PATIENT.has(type)) return 200; // not a patient's data: no consent involved
  if (state === 'break-glass') return role === 'PROVIDER' ? 200 : 403;
  const mayTreat = role === 'PROVIDER' || role === 'DISPENSER';
  return state === 'granted' && mayTreat ? 200 : 403;
}

const RESOURCES: Record<string, Record<string, unknown>> = {
  Patient: { name: [{ family: 'Matrix' }] },
  Practitioner: { name: [{ family: 'Doc' }] },
  Organization: { name: 'Clinic' },
  Encounter: {
    status: 'finished',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
    subject: { reference: 'Patient/pm' },
  },
  Observation: {
    status: 'final',
    code: { text: 'pulse' },
    subject: { reference: 'Patient/pm' },
    effectiveDateTime: '2026-01-01T00:00:00Z',
  },
  Condition: { code: { text: 'asthma' }, subject: { reference: 'Patient/pm' } },
  AllergyIntolerance: {
    patient: { reference: 'Patient/pm' },
    code: { text: 'peanut' },
    clinicalStatus: {
      coding: [
        { system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' },
      ],
    },
  },
  MedicationRequest: {
    status: 'active',
    intent: 'order',
    medicationCodeableConcept: { text: 'salbutamol' },
    subject: { reference: 'Patient/pm' },
  },
  Immunization: {
    status: 'completed',
    vaccineCode: { text: 'flu' },
    patient: { reference: 'Patient/pm' },
    occurrenceDateTime: '2025-10-01',
  },
  Procedure: { status: 'completed', code: { text: 'spirometry' }, subject: { reference: 'Patient/pm' } },
  DiagnosticReport: {
    status: 'final',
    code: { text: 'lung function' },
    subject: { reference: 'Patient/pm' },
  },
  DocumentReference: {
    status: 'current',
    subject: { reference: 'Patient/pm' },
    content: [{ attachment: { contentType: 'text/plain', data: 'aGVsbG8=' } }],
  },
};

describe('the access matrix over HTTP: role × resource type × consent state', () => {
  let node: TestNode;
  let chainId: number;
  const patient = privateKeyToAccount(generatePrivateKey());
  const practitioners = new Map<State, PrivateKeyAccount>(
    STATES.map((s) => [s, privateKeyToAccount(generatePrivateKey())]),
  );
  const tokens = new Map<State, string>();
  let admin: ReturnType<typeof createChainClients>;

  const grant = (grantee: Hex, purposes: number, validForSeconds: number): Promise<bigint> =>
    grantConsent(node, patient, {
      grantee,
      scopes: SUPPORTED_RESOURCE_TYPES.map((t) => scopeHash(`type:${t}`)),
      purposes,
      validForSeconds,
    });

  beforeAll(async () => {
    node = await startTestNode({ CONSENT_ENFORCEMENT: 'on' });
    chainId = await chainIdOf(node.url);
    for (const type of SUPPORTED_RESOURCE_TYPES) {
      const id = type === 'Patient' ? 'pm' : `m-${type.toLowerCase()}`;
      const res = await node.api(`/fhir/${type}/${id}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/fhir+json' },
        body: JSON.stringify({ resourceType: type, id, ...RESOURCES[type] }),
      });
      expect(res.status, type).toBe(201);
    }
    expect(await linkPatientKey(node, 'pm', patient)).toBe(201);

    const now = Math.floor(Date.now() / 1000);
    const day = 86_400;
    const p = (s: State) => (practitioners.get(s) as PrivateKeyAccount).address;
    await grant(p('granted'), PURPOSES_OF_USE.TREAT, day);
    await grant(p('expired'), PURPOSES_OF_USE.TREAT, 3);
    const revoked = await grant(p('revoked'), PURPOSES_OF_USE.TREAT, day);
    await revokeConsent(node.consent.ledger, patient, revoked);
    await grant(p('wrong purpose'), PURPOSES_OF_USE.HRESCH, day);
    await grant(privateKeyToAccount(generatePrivateKey()).address, PURPOSES_OF_USE.TREAT, day); // someone else
    for (const state of STATES) {
      tokens.set(
        state,
        createApiToken(node.tokens, {
          name: `matrix-${state.replace(/ /g, '-')}`,
          role: 'clinician',
          chainAddress: p(state),
        }).token,
      );
    }
    const key = readFileSync(join(node.dataDir, 'keys', 'org-chain.key'), 'utf8').trim() as Hex;
    admin = createChainClients(node.rpcUrl, chainId, key);
    // Let the short consent lapse (the gateway judges validity by its clock).
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, (now + 4) * 1000 - Date.now())));
  }, 60_000);
  afterAll(async () => {
    await node?.destroy();
  });

  it('answers exactly as expected for all 8 roles × 12 types × 7 states, with zero unauthorised reads', async () => {
    const mismatches: string[] = [];
    let unauthorised = 0;
    let checked = 0;
    for (const role of Object.keys(ORGANIZATION_ROLES) as OrganizationRole[]) {
      // The node sends from the same account (anchors, break-glass records): retry a nonce it took first.
      for (let attempt = 1; ; attempt++) {
        try {
          const hash = await admin.walletClient.writeContract({
            address: node.deployment().organizationRegistry,
            abi: organizationRegistryAbi,
            functionName: 'setRoles',
            args: [node.organization, ORGANIZATION_ROLES[role]],
          });
          await admin.publicClient.waitForTransactionReceipt({ hash });
          break;
        } catch (error) {
          // Same account, same nonce: "nonce too low", "replacement transaction underpriced", "already known".
          if (attempt >= 8 || !/nonce|underpriced|already known/i.test(String(error))) throw error;
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 1_100)); // the gateway re-reads its standing every second
      for (const type of SUPPORTED_RESOURCE_TYPES) {
        const id = type === 'Patient' ? 'pm' : `m-${type.toLowerCase()}`;
        for (const state of STATES) {
          const headers: Record<string, string> = { authorization: `Bearer ${tokens.get(state) as string}` };
          if (state === 'break-glass') headers['x-break-glass'] = 'matrix test emergency';
          const status = (await fetch(`${node.url}/fhir/${type}/${id}`, { headers })).status;
          const want = expected(role, type, state);
          checked++;
          if (status !== want) mismatches.push(`${role} ${type} ${state}: ${status}, expected ${want}`);
          if (status === 200 && want === 403) unauthorised++;
        }
      }
    }
    expect(checked).toBe(8 * 12 * 7);
    expect(unauthorised).toBe(0);
    expect(mismatches).toEqual([]);
  }, 120_000);
});
