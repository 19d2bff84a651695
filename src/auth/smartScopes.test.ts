import { describe, expect, it } from 'vitest';
import {
  formatSmartScope,
  onlyPatientContext,
  parseSmartScope,
  parseSmartScopes,
  scopesAllow,
} from './smartScopes.js';

describe('SMART scopes', () => {
  it('parses v1 and v2 permissions', () => {
    expect(parseSmartScope('user/Observation.read')).toEqual({
      context: 'user',
      resourceType: 'Observation',
      read: true,
      write: false,
    });
    expect(parseSmartScope('patient/*.write')).toMatchObject({ read: false, write: true });
    expect(parseSmartScope('system/*.*')).toMatchObject({ read: true, write: true });
    expect(parseSmartScope('user/Patient.rs')).toMatchObject({ read: true, write: false });
    expect(parseSmartScope('user/Patient.cud')).toMatchObject({ read: false, write: true });
    expect(parseSmartScope('user/*.cruds')).toMatchObject({ read: true, write: true });
  });

  it('refuses what is not a resource scope, saying what one looks like', () => {
    for (const bad of [
      'openid',
      'user/Observation',
      'doctor/*.read',
      'user/Obs-ervation.read',
      'user/*.rc',
      'user/*.',
    ]) {
      expect(() => parseSmartScope(bad), bad).toThrow(/is not a SMART resource scope; write e\.g\./);
    }
    expect(() => parseSmartScopes('   ')).toThrow(/at least one scope/);
  });

  it('allows by type and action, and tells when only patient-context scopes allow', () => {
    const scopes = parseSmartScopes('user/Observation.read patient/*.read user/Condition.write');
    expect(scopesAllow(scopes, 'Observation', 'read')).toBe(true);
    expect(scopesAllow(scopes, 'Observation', 'write')).toBe(false);
    expect(scopesAllow(scopes, 'Condition', 'write')).toBe(true);
    expect(scopesAllow(scopes, 'Patient', 'read')).toBe(true);
    expect(scopesAllow(scopes, 'Patient', 'write')).toBe(false);
    expect(onlyPatientContext(scopes, 'Patient', 'read')).toBe(true);
    expect(onlyPatientContext(scopes, 'Observation', 'read')).toBe(false);
    expect(parseSmartScopes('user/*.rs patient/Observation.read').map(formatSmartScope)).toEqual([
      'user/*.read',
      'patient/Observation.read',
    ]);
  });
});
