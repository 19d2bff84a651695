import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../core/errors.js';
import { ALL_ORGANIZATION_ROLES, ORGANIZATION_ROLES, maskToRoles, rolesToMask } from './organizationRoles.js';

describe('organization roles', () => {
  it('maps role names to a bitmask and back', () => {
    expect(rolesToMask([])).toBe(0);
    expect(rolesToMask(['PROVIDER'])).toBe(1);
    expect(rolesToMask(['PAYER', 'REGULATOR', 'PAYER'])).toBe(0b1000_0010);
    expect(maskToRoles(0b1000_0010)).toEqual(['PAYER', 'REGULATOR']);
    expect(maskToRoles(0)).toEqual([]);
    expect(maskToRoles(0x1_00 | 0b100)).toEqual(['RESEARCHER']);
    const all = Object.keys(ORGANIZATION_ROLES);
    expect(rolesToMask(all)).toBe(ALL_ORGANIZATION_ROLES);
    expect(maskToRoles(ALL_ORGANIZATION_ROLES)).toEqual(all);
  });

  it('rejects an unknown role, naming it and listing the valid ones', () => {
    let error: unknown;
    try {
      rolesToMask(['PROVIDER', 'pharmacy']);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(InvalidInputError);
    const invalid = error as InvalidInputError;
    expect(invalid.code).toBe('ORGANIZATION.UNKNOWN_ROLE');
    expect(invalid.status).toBe(400);
    expect(invalid.message).toContain('"pharmacy"');
    expect(invalid.message).toContain('DEVICE_VENDOR');
    expect(invalid.details).toMatchObject({ role: 'pharmacy' });
    expect(() => rolesToMask(['toString'])).toThrow(InvalidInputError);
  });

  it('matches the Solidity OrganizationRoles library', () => {
    const source = readFileSync(
      new URL('../../contracts/libraries/OrganizationRoles.sol', import.meta.url),
      'utf8',
    );
    const onChain: Record<string, number> = {};
    for (const match of source.matchAll(/uint32 internal constant (\w+) = ([^;]+);/g)) {
      const [, name, value] = match;
      if (name === undefined || value === undefined) continue;
      const shift = /^1 << (\d+)$/.exec(value.trim());
      onChain[name] = shift?.[1] !== undefined ? 1 << Number(shift[1]) : Number(value.trim());
    }
    const { ALL_ROLES, ...flags } = onChain;
    expect(flags).toEqual(ORGANIZATION_ROLES);
    expect(ALL_ROLES).toBe(ALL_ORGANIZATION_ROLES);
  });
});
