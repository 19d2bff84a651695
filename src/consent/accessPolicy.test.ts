import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../core/errors.js';
import { ORGANIZATION_ROLES, type OrganizationRole } from '../ledger/organizationRoles.js';
import {
  BREAK_GLASS_POLICY,
  PURPOSE_ROLES,
  mayBreakGlass,
  mayUsePurpose,
  purposeBit,
  purposeRoleMask,
} from './accessPolicy.js';
import { PURPOSES_OF_USE, type PurposeOfUse } from './consentTypedData.js';

const ROLES = Object.keys(ORGANIZATION_ROLES) as OrganizationRole[];
const PURPOSES = Object.keys(PURPOSES_OF_USE) as PurposeOfUse[];

describe('access policy', () => {
  it('has a row for every purpose of use, naming only real roles', () => {
    expect(Object.keys(PURPOSE_ROLES).sort()).toEqual([...PURPOSES].sort());
    for (const purpose of PURPOSES) {
      expect(PURPOSE_ROLES[purpose].length).toBeGreaterThan(0);
      for (const role of PURPOSE_ROLES[purpose]) expect(ROLES).toContain(role);
    }
  });

  it('is the reviewed table', () => {
    expect(PURPOSE_ROLES).toEqual({
      TREAT: ['PROVIDER', 'DISPENSER'],
      ETREAT: ['PROVIDER', 'DISPENSER'],
      HPAYMT: ['PAYER'],
      HRESCH: ['RESEARCHER'],
      PUBHLTH: ['REGULATOR'],
      HOPERAT: ['PROVIDER'],
      PATRQT: ROLES,
    });
    expect(BREAK_GLASS_POLICY).toEqual({ purpose: 'ETREAT', roles: ['PROVIDER'] });
  });

  it('lets a single-role organisation use exactly the purposes its row lists', () => {
    for (const role of ROLES) {
      for (const purpose of PURPOSES) {
        expect(mayUsePurpose(ORGANIZATION_ROLES[role], purpose)).toBe(PURPOSE_ROLES[purpose].includes(role));
      }
    }
  });

  it('lets an organisation with several roles use the union of their purposes, and none without roles', () => {
    const payerAndResearcher = ORGANIZATION_ROLES.PAYER | ORGANIZATION_ROLES.RESEARCHER;
    expect(PURPOSES.filter((p) => mayUsePurpose(payerAndResearcher, p))).toEqual([
      'HPAYMT',
      'HRESCH',
      'PATRQT',
    ]);
    expect(PURPOSES.filter((p) => mayUsePurpose(0, p))).toEqual([]);
  });

  it('keeps break-glass to emergency treatment by providers', () => {
    for (const role of ROLES) {
      for (const purpose of PURPOSES) {
        expect(mayBreakGlass(ORGANIZATION_ROLES[role], purpose)).toBe(
          role === 'PROVIDER' && purpose === 'ETREAT',
        );
      }
    }
    expect(mayBreakGlass(ORGANIZATION_ROLES.DISPENSER | ORGANIZATION_ROLES.PROVIDER, 'ETREAT')).toBe(true);
  });

  it('maps purposes to their on-chain bits and refuses unknown codes', () => {
    for (const purpose of PURPOSES) expect(purposeBit(purpose)).toBe(PURPOSES_OF_USE[purpose]);
    for (const bad of ['treat', 'toString', '', 'OPERATIONS']) {
      expect(() => purposeBit(bad)).toThrow(InvalidInputError);
      expect(() => purposeRoleMask(bad)).toThrow(/Unsupported purpose of use/);
    }
    expect(() => mayUsePurpose(1, 'constructor' as PurposeOfUse)).toThrow(InvalidInputError);
  });
});
