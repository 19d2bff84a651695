import { getAddress } from 'viem';
import { describe, expect, it } from 'vitest';
import { CareLedgerError, InvalidInputError } from '../core/errors.js';
import type { Hex } from '../core/hex.js';
import { ORGANIZATION_ROLES } from '../ledger/organizationRoles.js';
import { PURPOSES_OF_USE, type PurposeOfUse } from './consentTypedData.js';
import {
  accessDeniedError,
  decideAccess,
  type AccessDenial,
  type AccessRequest,
  type ConsentView,
} from './consentDecision.js';
import type { ConsentRecord } from './ports.js';
import { categoryScopeHash, resourceScopes, typeScopeHash } from './resourceScopes.js';

const PATIENT: Hex = '0x00000000000000000000000000000000000000a1';
const HOSPITAL: Hex = '0x00000000000000000000000000000000000000b1';
const OTHER_ORG: Hex = '0x00000000000000000000000000000000000000b2';
const DOCTOR: Hex = '0x00000000000000000000000000000000000000c1';
const NOW = 1_750_000_000;
const DAY = 86_400;

const labObservation = resourceScopes({
  resourceType: 'Observation',
  id: 'obs-1',
  category: [{ coding: [{ code: 'laboratory' }] }],
  effectiveDateTime: '2024-06-01T00:00:00Z',
} as never);
const DATA_DATE = Date.parse('2024-06-01T00:00:00Z') / 1000;

function consent(overrides: Partial<ConsentView> = {}): ConsentView {
  return {
    id: 1n,
    patient: PATIENT,
    grantee: HOSPITAL,
    scopes: [typeScopeHash('Observation')],
    purposes: PURPOSES_OF_USE.TREAT,
    validFrom: BigInt(NOW - DAY),
    validUntil: BigInt(NOW + DAY),
    dataFrom: 0n,
    dataUntil: 0n,
    revokedAt: null,
    ...overrides,
  };
}

function request(overrides: Partial<AccessRequest> = {}, purpose: PurposeOfUse = 'TREAT'): AccessRequest {
  return {
    patient: PATIENT,
    caller: {
      organization: HOSPITAL,
      organizationActive: true,
      organizationRoles: ORGANIZATION_ROLES.PROVIDER,
    },
    purpose,
    resource: labObservation,
    ...overrides,
  };
}

function denial(decision: ReturnType<typeof decideAccess>): AccessDenial {
  if (decision.allowed)
    throw new Error(`expected a denial, got ${JSON.stringify(decision, (_k, v) => String(v))}`);
  return decision;
}

describe('decideAccess', () => {
  it('allows a read a consent covers and cites the consent', () => {
    expect(decideAccess(request(), [consent({ id: 7n })], NOW)).toEqual({
      allowed: true,
      basis: 'consent',
      consentId: 7n,
    });
  });

  it('accepts a chain ConsentRecord as it is', () => {
    const record: ConsentRecord = {
      ...(consent() as ConsentRecord),
      id: 3n,
      scopes: [typeScopeHash('Observation')],
      validFrom: BigInt(NOW - DAY),
      validUntil: BigInt(NOW + DAY),
      dataFrom: 0n,
      dataUntil: 0n,
      grantedBy: PATIENT,
      grantedAt: BigInt(NOW - DAY),
      revokedAt: null,
      revokedBy: null,
    };
    expect(decideAccess(request(), [record], NOW)).toMatchObject({ allowed: true, consentId: 3n });
  });

  it('accepts number times and ids, and revokedAt 0 as not revoked', () => {
    const numeric = consent({
      id: 4,
      validFrom: NOW - 1,
      validUntil: NOW + 1,
      dataFrom: 0,
      dataUntil: 0,
      revokedAt: 0,
    });
    expect(decideAccess(request(), [numeric], NOW)).toMatchObject({ allowed: true, consentId: 4 });
  });

  it('compares addresses whatever their case', () => {
    const checksummed = consent({ patient: getAddress(PATIENT), grantee: getAddress(HOSPITAL) });
    expect(decideAccess(request(), [checksummed], NOW).allowed).toBe(true);
    const upperCaller = request({
      patient: getAddress(PATIENT),
      caller: { ...request().caller, organization: getAddress(HOSPITAL) },
    });
    expect(decideAccess(upperCaller, [consent()], NOW).allowed).toBe(true);
  });

  it('allows a consent granted to the acting practitioner', () => {
    const toDoctor = consent({ grantee: DOCTOR });
    expect(decideAccess(request(), [toDoctor], NOW).allowed).toBe(false);
    const asDoctor = request({ caller: { ...request().caller, practitioner: DOCTOR } });
    expect(decideAccess(asDoctor, [toDoctor], NOW)).toMatchObject({ allowed: true, consentId: 1n });
  });

  it('matches by category and by one resource, and works with a plain list of scopes', () => {
    expect(
      decideAccess(request(), [consent({ scopes: [categoryScopeHash('laboratory')] })], NOW).allowed,
    ).toBe(true);
    expect(
      decideAccess(request(), [consent({ scopes: [categoryScopeHash('vital-signs')] })], NOW).allowed,
    ).toBe(false);
    const own = labObservation.resourceScope as Hex;
    expect(decideAccess(request(), [consent({ scopes: [own] })], NOW).allowed).toBe(true);
    const plain = request({ resource: { scopes: [...labObservation.scopes], dataDate: DATA_DATE } });
    expect(decideAccess(plain, [consent({ scopes: [own] })], NOW).allowed).toBe(true);
    expect(
      denial(decideAccess(plain, [consent({ scopes: [typeScopeHash('Condition')] })], NOW)).message,
    ).toContain('does not cover this resource');
  });

  it('holds the validity bounds: from inclusive, until exclusive', () => {
    expect(decideAccess(request(), [consent({ validFrom: BigInt(NOW) })], NOW).allowed).toBe(true);
    expect(denial(decideAccess(request(), [consent({ validFrom: BigInt(NOW + 1) })], NOW)).reason).toBe(
      'CONSENT_NOT_YET_VALID',
    );
    expect(decideAccess(request(), [consent({ validUntil: BigInt(NOW + 1) })], NOW).allowed).toBe(true);
    expect(denial(decideAccess(request(), [consent({ validUntil: BigInt(NOW) })], NOW)).reason).toBe(
      'CONSENT_EXPIRED',
    );
  });

  it('holds the data range inclusively on both ends, each end optional', () => {
    const d = BigInt(DATA_DATE);
    for (const [dataFrom, dataUntil, allowed] of [
      [d, d, true],
      [d - 1n, 0n, true],
      [0n, d + 1n, true],
      [d + 1n, 0n, false],
      [0n, d - 1n, false],
      [d + 1n, d + 100n, false],
    ] as const) {
      const decision = decideAccess(request(), [consent({ dataFrom, dataUntil })], NOW);
      expect(decision.allowed, `${dataFrom}..${dataUntil}`).toBe(allowed);
      if (!allowed) expect(denial(decision).reason).toBe('DATA_OUTSIDE_CONSENTED_RANGE');
    }
  });

  it('needs the whole span of a partial date inside the range', () => {
    const onset2019 = resourceScopes({ resourceType: 'Condition', id: 'c1', onsetDateTime: '2019' } as never);
    const ranged = (dataFrom: bigint, dataUntil: bigint) =>
      consent({ scopes: [typeScopeHash('Condition')], dataFrom, dataUntil });
    const jan = BigInt(Date.parse('2019-01-01T00:00:00Z') / 1000);
    const midYear = BigInt(Date.parse('2019-06-30T00:00:00Z') / 1000);
    const yearEnd = BigInt(Date.parse('2019-12-31T23:59:59Z') / 1000);
    const decision = denial(decideAccess(request({ resource: onset2019 }), [ranged(0n, midYear)], NOW));
    expect(decision.reason).toBe('DATA_OUTSIDE_CONSENTED_RANGE');
    expect(decision.message).toContain('this one is dated 2019-01-01T00:00:00Z to 2019-12-31T23:59:59Z');
    expect(decideAccess(request({ resource: onset2019 }), [ranged(jan, yearEnd)], NOW).allowed).toBe(true);
    expect(decideAccess(request({ resource: onset2019 }), [ranged(jan + 1n, 0n)], NOW).allowed).toBe(false);
  });

  it('never lets a consent with a data range cover undated data', () => {
    const patient = resourceScopes({ resourceType: 'Patient', id: 'p1' });
    const ranged = consent({ scopes: [typeScopeHash('Patient')], dataFrom: 1n, dataUntil: 0n });
    const decision = denial(decideAccess(request({ resource: patient }), [ranged], NOW));
    expect(decision.reason).toBe('DATA_OUTSIDE_CONSENTED_RANGE');
    expect(decision.message).toContain('has no clinical date');
    expect(decideAccess(request({ resource: patient }), [{ ...ranged, dataFrom: 0n }], NOW).allowed).toBe(
      true,
    );
  });

  it('fails closed on a malformed consent or clock', () => {
    const broken: Partial<ConsentView>[] = [
      { validFrom: undefined },
      { validUntil: undefined },
      { validUntil: Number.NaN },
      { revokedAt: undefined },
      { purposes: undefined },
      { dataFrom: Number.NaN },
      { dataUntil: Number.NaN },
    ];
    for (const fields of broken) {
      expect(
        decideAccess(request(), [consent(fields as Partial<ConsentView>)], NOW).allowed,
        JSON.stringify(fields),
      ).toBe(false);
    }
    expect(decideAccess(request(), [consent()], Number.NaN).allowed).toBe(false);
    const nanDate = request({ resource: { scopes: labObservation.scopes, dataDate: Number.NaN } });
    expect(decideAccess(nanDate, [consent({ dataFrom: 1n })], NOW).allowed).toBe(false);
    expect(decideAccess(nanDate, [consent({ dataUntil: BigInt(NOW) })], NOW).allowed).toBe(false);
  });

  it('ignores consents of other patients', () => {
    const foreign = consent({ patient: '0x00000000000000000000000000000000000000a2' });
    expect(denial(decideAccess(request(), [foreign], NOW)).reason).toBe('NO_CONSENT');
  });

  describe('says what is missing', () => {
    const cases: [string, ConsentView[], string, RegExp][] = [
      [
        'no consent at all',
        [],
        'NO_CONSENT',
        /^No consent from patient 0x0+a1 lets organisation 0x0+b1 read Observation \(category laboratory\) for purpose TREAT; ask the patient to grant one\.$/,
      ],
      [
        'a consent for someone else',
        [consent({ grantee: OTHER_ORG })],
        'WRONG_GRANTEE',
        /None of patient 0x0+a1's consents is granted to organisation 0x0+b1/,
      ],
      [
        'a consent for other data',
        [consent({ scopes: [typeScopeHash('Condition')] })],
        'SCOPE_NOT_CONSENTED',
        /^Consent 1 from patient 0x0+a1 to 0x0+b1 does not cover Observation \(category laboratory\)/,
      ],
      [
        'a consent for another purpose',
        [consent({ purposes: PURPOSES_OF_USE.HPAYMT | PURPOSES_OF_USE.HRESCH })],
        'PURPOSE_NOT_CONSENTED',
        /only for purpose HPAYMT, HRESCH, not TREAT/,
      ],
      [
        'a consent for other dates',
        [consent({ dataFrom: 1_000_000_000n, dataUntil: 1_100_000_000n })],
        'DATA_OUTSIDE_CONSENTED_RANGE',
        /dated 2001-09-09T01:46:40Z to 2004-11-09T11:33:20Z, and this one is dated 2024-06-01T00:00:00Z/,
      ],
      [
        'a revoked consent',
        [consent({ revokedAt: BigInt(NOW - 60) })],
        'CONSENT_REVOKED',
        /was revoked at 2025-06-15T15:05:40Z; ask the patient to grant a new one/,
      ],
      [
        'a future consent',
        [consent({ validFrom: BigInt(NOW + 60) })],
        'CONSENT_NOT_YET_VALID',
        /takes effect only at 2025-06-15T15:07:40Z/,
      ],
      [
        'an expired consent',
        [consent({ validUntil: BigInt(NOW - 60) })],
        'CONSENT_EXPIRED',
        /expired at 2025-06-15T15:05:40Z; ask the patient to renew it/,
      ],
    ];
    it.each(cases)('%s', (_name, consents, reason, message) => {
      const decision = denial(decideAccess(request(), consents, NOW));
      expect(decision.reason).toBe(reason);
      expect(decision.message).toMatch(message);
      expect(decision.consentId).toBe(reason === 'NO_CONSENT' || reason === 'WRONG_GRANTEE' ? undefined : 1n);
    });

    it('copes with a far-future validity from the chain', () => {
      const decision = denial(
        decideAccess(request(), [consent({ validFrom: 2n ** 64n - 2n, validUntil: 2n ** 64n - 1n })], NOW),
      );
      expect(decision.message).toContain('18446744073709551614 (UNIX seconds)');
    });
  });

  describe('reports the consent that came closest', () => {
    it('prefers a revoked consent for this grantee to consents for others or for other data', () => {
      const consents = [
        consent({ id: 1n, grantee: OTHER_ORG }),
        consent({ id: 2n, scopes: [typeScopeHash('Condition')] }),
        consent({ id: 3n, revokedAt: BigInt(NOW - 5) }),
        consent({ id: 4n, purposes: PURPOSES_OF_USE.HPAYMT }),
      ];
      expect(denial(decideAccess(request(), consents, NOW))).toMatchObject({
        reason: 'CONSENT_REVOKED',
        consentId: 3n,
      });
    });

    it('does not call a consent revoked when it never covered the data', () => {
      const consents = [
        consent({ id: 1n, grantee: OTHER_ORG }),
        consent({ id: 2n, scopes: [typeScopeHash('Condition')], revokedAt: 5n }),
      ];
      expect(denial(decideAccess(request(), consents, NOW))).toMatchObject({
        reason: 'SCOPE_NOT_CONSENTED',
        consentId: 2n,
      });
    });

    it('ranks revocation above expiry of the same consent, and the newest consent on a tie', () => {
      expect(
        denial(decideAccess(request(), [consent({ revokedAt: 5n, validUntil: BigInt(NOW - 1) })], NOW))
          .reason,
      ).toBe('CONSENT_REVOKED');
      const lapsed = [
        consent({ id: 5n, validUntil: BigInt(NOW - 1) }),
        consent({ id: 9n, validFrom: BigInt(NOW + 10) }),
        consent({ id: 6n, validUntil: BigInt(NOW - 2) }),
      ];
      expect(denial(decideAccess(request(), lapsed, NOW))).toMatchObject({
        reason: 'CONSENT_NOT_YET_VALID',
        consentId: 9n,
      });
    });

    it('allows as soon as any consent matches, whatever the others say', () => {
      const consents = [
        consent({ id: 1n, revokedAt: 5n }),
        consent({ id: 2n, grantee: OTHER_ORG }),
        consent({ id: 3n }),
      ];
      expect(decideAccess(request(), consents, NOW)).toMatchObject({ allowed: true, consentId: 3n });
    });
  });

  describe('organisation and role', () => {
    it('refuses an inactive organisation, even with a consent or in an emergency', () => {
      const inactive = { ...request().caller, organizationActive: false };
      const withConsent = denial(decideAccess(request({ caller: inactive }), [consent()], NOW));
      expect(withConsent.reason).toBe('ORGANIZATION_INACTIVE');
      expect(withConsent.message).toMatch(/not an active member.*not even in an emergency/);
      const emergency = request({ caller: inactive, breakGlass: { reason: 'unconscious' } }, 'ETREAT');
      expect(denial(decideAccess(emergency, [], NOW)).reason).toBe('ORGANIZATION_INACTIVE');
    });

    it('refuses a role the purpose is not open to, even with a consent, and says which purposes it may use', () => {
      const payer = { ...request().caller, organizationRoles: ORGANIZATION_ROLES.PAYER };
      const decision = denial(decideAccess(request({ caller: payer }), [consent()], NOW));
      expect(decision.reason).toBe('ROLE_NOT_ALLOWED_FOR_PURPOSE');
      expect(decision.message).toBe(
        `Organisation ${HOSPITAL} (roles: PAYER) may not read patient data for purpose TREAT, which is open to ` +
          'PROVIDER, DISPENSER; declare a purpose its roles allow (HPAYMT, PATRQT).',
      );
      const none = { ...request().caller, organizationRoles: 0 };
      expect(denial(decideAccess(request({ caller: none }), [consent()], NOW)).message).toMatch(
        /roles: none.*ask the consortium admin/,
      );
    });

    it('refuses an unknown purpose as invalid input', () => {
      expect(() => decideAccess(request({ purpose: 'SPYING' as PurposeOfUse }), [consent()], NOW)).toThrow(
        InvalidInputError,
      );
    });
  });

  describe('break-glass', () => {
    const emergency = (roles: number, purpose: PurposeOfUse = 'ETREAT') =>
      request(
        {
          caller: { ...request().caller, organizationRoles: roles },
          breakGlass: { reason: 'unconscious in A&E' },
        },
        purpose,
      );

    it('allows emergency treatment by a provider without consent, flagged', () => {
      expect(decideAccess(emergency(ORGANIZATION_ROLES.PROVIDER), [], NOW)).toEqual({
        allowed: true,
        basis: 'break-glass',
      });
      // Reported as break-glass even when a consent would have covered it.
      const covering = consent({ purposes: PURPOSES_OF_USE.ETREAT });
      expect(decideAccess(emergency(ORGANIZATION_ROLES.PROVIDER), [covering], NOW)).toEqual({
        allowed: true,
        basis: 'break-glass',
      });
    });

    it('is not honoured for other purposes or roles: consents decide, and the message says why', () => {
      const dispenser = denial(decideAccess(emergency(ORGANIZATION_ROLES.DISPENSER), [], NOW));
      expect(dispenser.reason).toBe('NO_CONSENT');
      expect(dispenser.message).toContain(
        'Break-glass access is only for purpose ETREAT by a PROVIDER organisation.',
      );
      const treat = decideAccess(emergency(ORGANIZATION_ROLES.PROVIDER, 'TREAT'), [consent()], NOW);
      expect(treat).toMatchObject({ allowed: true, basis: 'consent' });
      expect(denial(decideAccess(emergency(ORGANIZATION_ROLES.PAYER), [], NOW)).reason).toBe(
        'ROLE_NOT_ALLOWED_FOR_PURPOSE',
      );
    });

    it('needs a reason', () => {
      for (const reason of ['', '   ', undefined]) {
        const bad = request({ breakGlass: { reason } as never }, 'ETREAT');
        expect(() => decideAccess(bad, [], NOW)).toThrow(
          expect.objectContaining({ code: 'CONSENT.BREAK_GLASS_REASON_REQUIRED' }),
        );
      }
    });
  });

  it('turns a denial into a 403 error with the reason and the consent', () => {
    const error = accessDeniedError(
      denial(decideAccess(request(), [consent({ id: 12n, revokedAt: 5n })], NOW)),
    );
    expect(error).toBeInstanceOf(CareLedgerError);
    expect(error.status).toBe(403);
    expect(error.issueType).toBe('forbidden');
    expect(error.code).toBe('CONSENT.CONSENT_REVOKED');
    expect(error.details).toEqual({ reason: 'CONSENT_REVOKED', consentId: '12' });
    expect(JSON.stringify(error.details)).toContain('"12"');
    expect(accessDeniedError(denial(decideAccess(request(), [], NOW))).details).toEqual({
      reason: 'NO_CONSENT',
    });
  });
});
