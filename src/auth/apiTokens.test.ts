import { describe, expect, it } from 'vitest';
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
    expect(authenticate(tokens, `Bearer ${token}`)).toEqual({ name: 'dr.jones', role: 'clinician' });
    expect(authenticate(tokens, `bearer   ${token}`)).toEqual({ name: 'dr.jones', role: 'clinician' });
  });

  it('accepts the configured bootstrap token as admin, and only that exact token', () => {
    const bootstrap = 'b'.repeat(40);
    expect(authenticate(store(), `Bearer ${bootstrap}`, bootstrap)).toEqual({
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
    const error = captureError(() => authorize({ name: 'auditor', role: 'reader' }, 'write'));
    expect(error.status).toBe(403);
    expect(error.code).toBe('AUTH.FORBIDDEN');
  });
});
