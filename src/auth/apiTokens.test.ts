import { describe, expect, it } from 'vitest';
import { getAddress } from 'viem';
import { openDatabase } from '../store/sqlite/openDatabase.js';
import { SqliteTokenStore } from '../store/sqlite/sqliteTokenStore.js';
import { captureError } from '../testing/fixtures.js';
import { authenticate, authorize, createApiToken } from './apiTokens.js';
import { roleAllows } from './roles.js';

const store = () => new SqliteTokenStore(openDatabase(':memory:'));

describe('API tokens', () => {
  it('stores only the hash and authenticates the token it printed', () => {
    const tokens = store();
    const { token } = createApiToken(tokens, { name: 'dr.jones', role: 'clinician' });
    expect(token).toMatch(/^clt_[A-Za-z0-9_-]{43}$/);
    const [row] = tokens.listTokens();
    expect(Buffer.from(row?.tokenHash ?? []).toString()).not.toContain(token.slice(4));
    expect(authenticate(tokens, `Bearer ${token}`)).toMatchObject({
      name: 'dr.jones',
      role: 'clinician',
      subject: null,
    });
    expect(authenticate(tokens, `bearer   ${token}`)).toMatchObject({
      name: 'dr.jones',
      role: 'clinician',
      subject: null,
    });
  });

  it('accepts the configured bootstrap token as admin, and only that exact token', () => {
    const bootstrap = 'b'.repeat(40);
    expect(authenticate(store(), `Bearer ${bootstrap}`, bootstrap)).toMatchObject({
      name: 'bootstrap',
      role: 'admin',
    });
    expect(captureError(() => authenticate(store(), `Bearer ${'b'.repeat(39)}c`, bootstrap)).code).toBe(
      'AUTH.INVALID_TOKEN',
    );
  });

  it('refuses bad names, roles and expiries with clear codes', () => {
    const tokens = store();
    expect(captureError(() => createApiToken(tokens, { name: 'has space', role: 'reader' })).code).toBe(
      'TOKEN.INVALID_NAME',
    );
    expect(captureError(() => createApiToken(tokens, { name: 'x', role: 'root' })).code).toBe(
      'TOKEN.INVALID_ROLE',
    );
    expect(
      captureError(() => createApiToken(tokens, { name: 'x', role: 'reader', expiresInDays: 0 })).code,
    ).toBe('TOKEN.INVALID_EXPIRY');
  });

  it('maps roles to what they may do', () => {
    expect([
      roleAllows('reader', 'read'),
      roleAllows('reader', 'write'),
      roleAllows('reader', 'admin'),
    ]).toEqual([true, false, false]);
    expect([roleAllows('clinician', 'write'), roleAllows('clinician', 'admin')]).toEqual([true, false]);
    expect(roleAllows('admin', 'admin')).toBe(true);
    const auditor = {
      name: 'auditor',
      role: 'reader' as const,
      scopes: [],
      subject: null,
      chainAddress: null,
    };
    const error = captureError(() => authorize(auditor, 'write'));
    expect(error.status).toBe(403);
    expect(error.code).toBe('AUTH.FORBIDDEN');
  });

  it("gives a token its role's default SMART scopes, or the ones it was created with", () => {
    const tokens = store();
    const reader = createApiToken(tokens, { name: 'scoped-default', role: 'reader' });
    expect(authenticate(tokens, `Bearer ${reader.token}`).scopes).toEqual([
      { context: 'user', resourceType: '*', read: true, write: false },
    ]);
    const narrow = createApiToken(tokens, {
      name: 'lab-import',
      role: 'clinician',
      scopes: 'user/Observation.cruds user/DiagnosticReport.write',
      subject: 'Practitioner/lab-robot',
      chainAddress: '0x00112233445566778899aabbccddeeff00112233',
    });
    const principal = authenticate(tokens, `Bearer ${narrow.token}`);
    expect(principal.scopes.map((s) => `${s.resourceType}:${s.read}:${s.write}`)).toEqual([
      'Observation:true:true',
      'DiagnosticReport:false:true',
    ]);
    expect(principal.subject).toBe('Practitioner/lab-robot');
    expect(principal.chainAddress).toBe(getAddress('0x00112233445566778899aabbccddeeff00112233'));
  });

  it('refuses bad scopes, subjects and addresses, and a patient token without its patient', () => {
    const tokens = store();
    const code = (params: Parameters<typeof createApiToken>[1]) =>
      captureError(() => createApiToken(tokens, params)).code;
    expect(code({ name: 'a', role: 'reader', scopes: 'openid' })).toBe('AUTH.BAD_SCOPE');
    expect(code({ name: 'a', role: 'reader', subject: 'Device/x' })).toBe('TOKEN.INVALID_SUBJECT');
    expect(code({ name: 'a', role: 'patient' })).toBe('TOKEN.INVALID_SUBJECT');
    expect(code({ name: 'a', role: 'reader', chainAddress: '0x12' })).toBe('TOKEN.INVALID_ADDRESS');
  });

  it('gives short-lived tokens an expiry in ms', () => {
    const tokens = store();
    const t = createApiToken(tokens, {
      name: 'session',
      role: 'patient',
      subject: 'Patient/p1',
      expiresInMs: 60_000,
      now: 1_000,
    });
    expect(t.expiresAt).toBe(61_000);
    expect(() => authenticate(tokens, `Bearer ${t.token}`, undefined, 61_000)).toThrow(/expired/);
  });
});
