import { describe, expect, it } from 'vitest';
import type { Hex } from '../core/hex.js';
import { ORGANIZATION_ROLES } from '../ledger/organizationRoles.js';
import { ConsentCache } from './consentCache.js';
import { ConsentGuard, parsePurposeOfUse } from './consentGuard.js';
import { PURPOSES_OF_USE, scopeHash } from './consentTypedData.js';
import type { ConsentRecord } from './ports.js';

const HOSPITAL = '0x1000000000000000000000000000000000000001' as Hex;
const ALICE = '0x2000000000000000000000000000000000000002' as Hex;
const NOW_S = 1_800_000_000;
const observation = {
  resourceType: 'Observation',
  id: 'o1',
  category: [{ coding: [{ code: 'vital-signs' }] }],
  effectiveDateTime: '2026-01-01T00:00:00Z',
};

function consent(overrides: Partial<ConsentRecord> = {}): ConsentRecord {
  return {
    id: 1n,
    patient: ALICE,
    grantee: HOSPITAL,
    scopes: [scopeHash('type:Observation')],
    purposes: PURPOSES_OF_USE.TREAT,
    validFrom: BigInt(NOW_S - 100),
    validUntil: BigInt(NOW_S + 100),
    dataFrom: 0n,
    dataUntil: 0n,
    grantedBy: ALICE,
    grantedAt: BigInt(NOW_S - 100),
    revokedAt: null,
    revokedBy: null,
    ...overrides,
  };
}

function setup(options: { consents?: ConsentRecord[]; active?: boolean; linked?: boolean } = {}) {
  let onChain = options.consents ?? [consent()];
  let reads = 0;
  const breakGlass: string[] = [];
  const cache = new ConsentCache<ConsentRecord>();
  const guard = new ConsentGuard({
    organization: HOSPITAL,
    standing: () => Promise.resolve({ active: options.active ?? true, roles: ORGANIZATION_ROLES.PROVIDER }),
    consents: {
      consentsOf: (patient) => {
        reads++;
        return Promise.resolve(onChain.filter((c) => c.patient.toLowerCase() === patient.toLowerCase()));
      },
    },
    patientAddress: (id) => (id === 'alice' && options.linked !== false ? ALICE : undefined),
    cache,
    lastProcessedBlock: () => 10,
    onBreakGlass: (_patient, patientId, intent) =>
      breakGlass.push(`${patientId}:${intent.breakGlass?.reason}`),
    now: () => NOW_S * 1000,
  });
  return {
    guard,
    cache,
    reads: () => reads,
    breakGlass,
    setOnChain: (c: ConsentRecord[]) => (onChain = c),
  };
}

describe('ConsentGuard', () => {
  it('allows a read a consent covers, and reads the chain once per patient until an event for them', async () => {
    const { guard, cache, reads, setOnChain } = setup();
    expect(await guard.decide({ purpose: 'TREAT' }, 'alice', observation)).toMatchObject({
      allowed: true,
      basis: 'consent',
      consentId: 1n,
    });
    await guard.decide({ purpose: 'TREAT' }, 'alice', observation);
    expect(reads()).toBe(1);
    setOnChain([consent({ revokedAt: BigInt(NOW_S - 1), revokedBy: ALICE })]);
    cache.apply({ type: 'ConsentRevoked', patient: ALICE, blockNumber: 11n } as never);
    const after = await guard.decide({ purpose: 'TREAT' }, 'alice', observation);
    expect(after).toMatchObject({ allowed: false, reason: 'CONSENT_REVOKED' });
    expect(reads()).toBe(2);
  });

  it('refuses another purpose, an inactive organisation, and a patient with no linked key (saying so)', async () => {
    expect(await setup().guard.decide({ purpose: 'HRESCH' }, 'alice', observation)).toMatchObject({
      allowed: false,
    });
    expect(
      await setup({ active: false }).guard.decide({ purpose: 'TREAT' }, 'alice', observation),
    ).toMatchObject({
      allowed: false,
      reason: 'ORGANIZATION_INACTIVE',
    });
    const unlinked = await setup({ linked: false }).guard.decide({ purpose: 'TREAT' }, 'alice', observation);
    expect(unlinked).toMatchObject({ allowed: false, reason: 'NO_CONSENT' });
    expect(!unlinked.allowed && unlinked.message).toMatch(/has no key linked at this gateway/);
    await expect(
      setup({ consents: [] }).guard.assertMayRead({ purpose: 'TREAT' }, 'alice', observation),
    ).rejects.toMatchObject({
      status: 403,
    });
  });

  it('lets a provider break the glass without consent, and reports it', async () => {
    const { guard, breakGlass } = setup({ consents: [] });
    const decision = await guard.decide(
      { purpose: 'ETREAT', breakGlass: { reason: 'unconscious in ED' } },
      'alice',
      observation,
    );
    expect(decision).toMatchObject({ allowed: true, basis: 'break-glass' });
    expect(breakGlass).toEqual(['alice:unconscious in ED']);
  });

  it('reads the declared purpose of use', () => {
    expect(parsePurposeOfUse(undefined, 'TREAT')).toBe('TREAT');
    expect(parsePurposeOfUse('hpaymt', 'TREAT')).toBe('HPAYMT');
    expect(parsePurposeOfUse('http://terminology.hl7.org/CodeSystem/v3-ActReason|HRESCH', 'TREAT')).toBe(
      'HRESCH',
    );
    expect(() => parsePurposeOfUse('MARKETING', 'TREAT')).toThrow(/not a purpose of use/);
  });
});
