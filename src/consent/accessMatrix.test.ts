import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Hex } from '../core/hex.js';
import { ORGANIZATION_ROLES, type OrganizationRole } from '../ledger/organizationRoles.js';
import { SUPPORTED_RESOURCE_TYPES, type SupportedResourceType } from '../records/supportedTypes.js';
import {
  decideAccess,
  type AccessDecision,
  type AccessRequest,
  type ConsentView,
} from './consentDecision.js';
import { ALL_PURPOSES, PURPOSES_OF_USE, scopeHash, type PurposeOfUse } from './consentTypedData.js';
import { resourceScopes } from './resourceScopes.js';

/**
 * Every organisation role × every supported resource type × every purpose of use × every consent state, each
 * decision compared with `expected`, written from the issue rather than from the implementation.
 */

const PATIENT: Hex = '0x000000000000000000000000000000000000a11c';
const ORG: Hex = '0x00000000000000000000000000000000000000b0';
const OTHER_ORG: Hex = '0x00000000000000000000000000000000000000b9';
const DOCTOR: Hex = '0x00000000000000000000000000000000000000d0';
const OTHER_DOCTOR: Hex = '0x00000000000000000000000000000000000000d9';
const NOW = Date.parse('2025-01-15T12:00:00Z') / 1000;
const YEAR = 365 * 86_400;
const at = (iso: string) => Date.parse(iso) / 1000;

const ROLES = Object.keys(ORGANIZATION_ROLES) as OrganizationRole[];
const hashes = new Map<string, Hex>();
function hash(scope: string): Hex {
  let h = hashes.get(scope);
  if (h === undefined) hashes.set(scope, (h = scopeHash(scope)));
  return h;
}
const PURPOSES = Object.keys(PURPOSES_OF_USE) as PurposeOfUse[];

// One sample of each type. All clinical dates fall in June 2020; Patient, Practitioner and Organization have
// none. Only the Observation is a laboratory result.
const cc = (code: string) => ({ coding: [{ system: 'http://example.org/cs', code }] });
const SAMPLES: Record<SupportedResourceType, Record<string, unknown>> = {
  Patient: { id: 'pat-1', name: [{ family: 'Example' }] },
  Practitioner: { id: 'prac-1' },
  Organization: { id: 'org-1' },
  Encounter: { id: 'enc-1', period: { start: '2020-06-01T08:00:00Z' } },
  Observation: { id: 'obs-1', category: [cc('laboratory')], effectiveDateTime: '2020-06-02' },
  Condition: { id: 'cond-1', category: [cc('problem-list-item')], onsetDateTime: '2020-06-03' },
  AllergyIntolerance: { id: 'allergy-1', category: ['food'], recordedDate: '2020-06-04' },
  MedicationRequest: { id: 'medrx-1', category: [cc('outpatient')], authoredOn: '2020-06-05' },
  Immunization: { id: 'imm-1', occurrenceDateTime: '2020-06-06' },
  Procedure: { id: 'proc-1', category: cc('387713003'), performedDateTime: '2020-06-07' },
  DiagnosticReport: { id: 'dr-1', category: [cc('LAB')], effectiveDateTime: '2020-06-08' },
  DocumentReference: { id: 'doc-1', category: [cc('clinical-note')], date: '2020-06-09T10:00:00Z' },
};
const UNDATED: readonly string[] = ['Patient', 'Practitioner', 'Organization'];
const LABORATORY: readonly string[] = ['Observation'];

const STATES = [
  'none',
  'granted',
  'expired',
  'not yet valid',
  'revoked',
  'wrong purpose',
  'wrong grantee',
  'other type',
  'practitioner grantee',
  'other practitioner',
  'category laboratory',
  'category imaging',
  'single document',
  'other document',
  'data range around',
  'data range before',
  'break-glass',
  'inactive',
  'inactive break-glass',
] as const;
type State = (typeof STATES)[number];

interface Case {
  role: OrganizationRole;
  type: SupportedResourceType;
  purpose: PurposeOfUse;
  state: State;
}

type Expected = { allow: 'consent' | 'break-glass' } | { deny: string };

/** Who may use which purpose, as the issue and the brief state it. */
const ROLES_FOR_PURPOSE: Record<PurposeOfUse, readonly OrganizationRole[]> = {
  TREAT: ['PROVIDER', 'DISPENSER'],
  ETREAT: ['PROVIDER', 'DISPENSER'],
  HPAYMT: ['PAYER'],
  HRESCH: ['RESEARCHER'],
  PUBHLTH: ['REGULATOR'],
  HOPERAT: ['PROVIDER'],
  PATRQT: ROLES,
};

function expected({ role, type, purpose, state }: Case): Expected {
  if (state === 'inactive' || state === 'inactive break-glass') return { deny: 'ORGANIZATION_INACTIVE' };
  if (!ROLES_FOR_PURPOSE[purpose].includes(role)) return { deny: 'ROLE_NOT_ALLOWED_FOR_PURPOSE' };
  const dated = !UNDATED.includes(type);
  switch (state) {
    case 'granted':
    case 'practitioner grantee':
      return { allow: 'consent' };
    case 'none':
      return { deny: 'NO_CONSENT' };
    case 'expired':
      return { deny: 'CONSENT_EXPIRED' };
    case 'not yet valid':
      return { deny: 'CONSENT_NOT_YET_VALID' };
    case 'revoked':
      return { deny: 'CONSENT_REVOKED' };
    case 'wrong purpose':
      return { deny: 'PURPOSE_NOT_CONSENTED' };
    case 'wrong grantee':
    case 'other practitioner':
      return { deny: 'WRONG_GRANTEE' };
    case 'other type':
    case 'category imaging':
    case 'other document':
      return { deny: 'SCOPE_NOT_CONSENTED' };
    case 'category laboratory':
      return LABORATORY.includes(type) ? { allow: 'consent' } : { deny: 'SCOPE_NOT_CONSENTED' };
    case 'single document':
      return type === 'DocumentReference' ? { allow: 'consent' } : { deny: 'SCOPE_NOT_CONSENTED' };
    case 'data range around':
      return dated ? { allow: 'consent' } : { deny: 'DATA_OUTSIDE_CONSENTED_RANGE' };
    case 'data range before':
      return { deny: 'DATA_OUTSIDE_CONSENTED_RANGE' };
    case 'break-glass':
      return role === 'PROVIDER' && purpose === 'ETREAT' ? { allow: 'break-glass' } : { deny: 'NO_CONSENT' };
  }
}

const CONSENT_ID = 42n;

/** The consents and the request for one case. */
function build({ role, type, purpose, state }: Case): { request: AccessRequest; consents: ConsentView[] } {
  const base: ConsentView = {
    id: CONSENT_ID,
    patient: PATIENT,
    grantee: ORG,
    scopes: [hash(`type:${type}`)],
    purposes: PURPOSES_OF_USE[purpose],
    validFrom: BigInt(NOW - YEAR),
    validUntil: BigInt(NOW + YEAR),
    dataFrom: 0n,
    dataUntil: 0n,
    revokedAt: null,
  };
  const only = (changes: Partial<ConsentView>) => [{ ...base, ...changes }];
  const consents: Record<State, ConsentView[]> = {
    none: [],
    granted: [base],
    expired: only({ validFrom: BigInt(NOW - 2 * YEAR), validUntil: BigInt(NOW - YEAR) }),
    'not yet valid': only({ validFrom: BigInt(NOW + 60) }),
    revoked: only({ revokedAt: BigInt(NOW - 60) }),
    'wrong purpose': only({ purposes: ALL_PURPOSES & ~PURPOSES_OF_USE[purpose] }),
    'wrong grantee': only({ grantee: OTHER_ORG }),
    'other type': only({ scopes: [hash(type === 'Condition' ? 'type:Observation' : 'type:Condition')] }),
    'practitioner grantee': only({ grantee: DOCTOR }),
    'other practitioner': only({ grantee: OTHER_DOCTOR }),
    'category laboratory': only({ scopes: [hash('category:laboratory')] }),
    'category imaging': only({ scopes: [hash('category:imaging')] }),
    'single document': only({ scopes: [hash('resource:DocumentReference/doc-1')] }),
    'other document': only({ scopes: [hash('resource:DocumentReference/doc-2')] }),
    'data range around': only({ dataFrom: BigInt(at('2020-01-01')), dataUntil: BigInt(at('2020-12-31')) }),
    'data range before': only({ dataFrom: BigInt(at('2018-01-01')), dataUntil: BigInt(at('2019-12-31')) }),
    'break-glass': [],
    inactive: [base],
    'inactive break-glass': [],
  };
  const practitioner =
    state === 'practitioner grantee' || state === 'other practitioner' ? DOCTOR : undefined;
  const request: AccessRequest = {
    patient: PATIENT,
    caller: {
      organization: ORG,
      organizationActive: state !== 'inactive' && state !== 'inactive break-glass',
      organizationRoles: ORGANIZATION_ROLES[role],
      practitioner,
    },
    purpose,
    resource: resourceScopes({ resourceType: type, ...SAMPLES[type] }),
    breakGlass:
      state === 'break-glass' || state === 'inactive break-glass'
        ? { reason: 'arrived unconscious' }
        : undefined,
  };
  return { request, consents: consents[state] };
}

function outcome(decision: AccessDecision): Expected {
  if (!decision.allowed) return { deny: decision.reason };
  return { allow: decision.basis };
}

describe('access matrix', () => {
  it.each(ROLES)('%s: every resource type × purpose × consent state', (role) => {
    const mismatches: string[] = [];
    let cases = 0;
    let unauthorised = 0;
    for (const type of SUPPORTED_RESOURCE_TYPES) {
      for (const purpose of PURPOSES) {
        for (const state of STATES) {
          const c: Case = { role, type, purpose, state };
          const { request, consents } = build(c);
          const decision = decideAccess(request, consents, NOW);
          const want = expected(c);
          cases++;
          if ('deny' in want && decision.allowed) unauthorised++;
          if (JSON.stringify(outcome(decision)) !== JSON.stringify(want)) {
            mismatches.push(
              `${type} ${purpose} ${state}: want ${JSON.stringify(want)}, got ${JSON.stringify(outcome(decision))}`,
            );
          }
          if (decision.allowed && decision.basis === 'consent' && decision.consentId !== CONSENT_ID) {
            mismatches.push(`${type} ${purpose} ${state}: cites consent ${String(decision.consentId)}`);
          }
          if (
            !decision.allowed &&
            !(decision.message.includes(purpose) || decision.reason === 'ORGANIZATION_INACTIVE')
          ) {
            mismatches.push(`${type} ${purpose} ${state}: message does not name the purpose`);
          }
        }
      }
    }
    expect(cases).toBe(SUPPORTED_RESOURCE_TYPES.length * PURPOSES.length * STATES.length);
    expect(unauthorised).toBe(0);
    expect(mismatches.slice(0, 10)).toEqual([]);
  });
});

describe('any allow cites an active, matching consent (property)', () => {
  const patients: Hex[] = [PATIENT, '0x000000000000000000000000000000000000a22c'];
  const grantees: Hex[] = [ORG, OTHER_ORG, DOCTOR, OTHER_DOCTOR];
  const types = SUPPORTED_RESOURCE_TYPES;
  const scopePool = [
    ...types.map((t) => `type:${t}`),
    'category:laboratory',
    'category:food',
    'category:imaging',
    'resource:DocumentReference/doc-1',
    'resource:Observation/obs-1',
    'resource:Observation/obs-2',
  ].map(hash);
  const time = fc.integer({ min: NOW - 2 * YEAR, max: NOW + 2 * YEAR });
  const dataBound = fc.oneof(fc.constant(0), fc.integer({ min: at('2019-01-01'), max: at('2021-12-31') }));

  // Each field of a consent agrees with the request (same patient, grantee, type scope, purpose, in force,
  // no data range) three times in four, so allows are common and near misses of every kind are tried.
  const likely = <T>(value: T, other: fc.Arbitrary<T>) =>
    fc.oneof({ arbitrary: fc.constant(value), weight: 3 }, { arbitrary: other, weight: 1 });
  const consentArb = (r: AccessRequest): fc.Arbitrary<ConsentView> =>
    fc
      .record({
        id: fc.bigInt({ min: 1n, max: 1000n }),
        patient: likely(r.patient, fc.constantFrom(...patients)),
        grantee: likely(r.caller.practitioner ?? r.caller.organization, fc.constantFrom(...grantees)),
        scopes: likely([r.resource.scopes[0] as Hex], fc.subarray(scopePool, { minLength: 1, maxLength: 4 })),
        purposes: likely(PURPOSES_OF_USE[r.purpose], fc.integer({ min: 1, max: ALL_PURPOSES })),
        validFrom: likely(NOW - YEAR, time),
        validUntil: likely(NOW + YEAR, time),
        dataFrom: likely(0, dataBound),
        dataUntil: likely(0, dataBound),
        revokedAt: likely<number | null>(null, fc.oneof(fc.constant(0), time)),
      })
      .map((c) => ({ ...c, validFrom: BigInt(c.validFrom), validUntil: BigInt(c.validUntil) }));

  const requestArb: fc.Arbitrary<AccessRequest> = fc
    .record({
      patient: fc.constantFrom(...patients),
      organization: fc.constantFrom(ORG, OTHER_ORG),
      organizationActive: likely(true, fc.boolean()),
      organizationRoles: fc.integer({ min: 0, max: 0xff }),
      practitioner: fc.option(fc.constantFrom(DOCTOR, OTHER_DOCTOR), { nil: undefined }),
      purpose: fc.constantFrom(...PURPOSES),
      type: fc.constantFrom(...types),
      id: fc.constantFrom('doc-1', 'obs-1', 'obs-2', 'x'),
      breakGlass: fc.boolean(),
    })
    .map((r) => ({
      patient: r.patient,
      caller: {
        organization: r.organization,
        organizationActive: r.organizationActive,
        organizationRoles: r.organizationRoles,
        practitioner: r.practitioner,
      },
      purpose: r.purpose,
      resource: resourceScopes({ resourceType: r.type, ...SAMPLES[r.type], id: r.id }),
      breakGlass: r.breakGlass ? { reason: 'emergency' } : undefined,
    }));

  const roleAllows = (r: AccessRequest) =>
    ROLES_FOR_PURPOSE[r.purpose].some(
      (role) => (r.caller.organizationRoles & ORGANIZATION_ROLES[role]) !== 0,
    );

  /** Independent restatement of "an active consent covering this read". */
  function covers(c: ConsentView, r: AccessRequest): boolean {
    const grantee = c.grantee === r.caller.organization || c.grantee === r.caller.practitioner;
    const scope = c.scopes.some((s) => r.resource.scopes.includes(s));
    const purpose = (c.purposes & PURPOSES_OF_USE[r.purpose]) !== 0;
    // The data's date runs from dataDate to dataDateEnd (a partial date is a whole day, month or year).
    const first = r.resource.dataDate;
    const last = r.resource.dataDateEnd ?? first;
    const from = Number(c.dataFrom);
    const until = Number(c.dataUntil);
    const unbounded = from === 0 && until === 0;
    const inRange =
      unbounded ||
      (first !== null && last !== null && (from === 0 || first >= from) && (until === 0 || last <= until));
    const active = !c.revokedAt && Number(c.validFrom) <= NOW && NOW < Number(c.validUntil);
    return c.patient === r.patient && grantee && scope && purpose && inRange && active;
  }

  it('holds for random consents and requests', () => {
    const seen = { consent: 0, breakGlass: 0, denied: 0 };
    fc.assert(
      fc.property(
        requestArb.chain((r) => fc.tuple(fc.constant(r), fc.array(consentArb(r), { maxLength: 6 }))),
        ([request, consents]) => {
          const decision = decideAccess(request, consents, NOW);
          const permitted = request.caller.organizationActive && roleAllows(request);
          const emergency =
            permitted &&
            request.breakGlass !== undefined &&
            request.purpose === 'ETREAT' &&
            (request.caller.organizationRoles & ORGANIZATION_ROLES.PROVIDER) !== 0;
          if (decision.allowed && decision.basis === 'consent') {
            expect(permitted).toBe(true);
            expect(emergency).toBe(false); // a declared emergency is always reported as break-glass
            const cited = consents.filter((c) => c.id === decision.consentId);
            expect(cited.some((c) => covers(c, request))).toBe(true);
            seen.consent++;
          } else if (decision.allowed) {
            expect(emergency).toBe(true);
            seen.breakGlass++;
          } else {
            seen.denied++;
            // A denial is right only if nothing would have allowed it.
            expect(emergency).toBe(false);
            expect(permitted && consents.some((c) => covers(c, request))).toBe(false);
          }
        },
      ),
      { numRuns: 3000 },
    );
    // Not vacuous: a fair share of the runs are allowed each way.
    expect(seen.consent).toBeGreaterThan(300);
    expect(seen.breakGlass).toBeGreaterThan(30);
  });
});
