/**
 * Roles a bearer token can carry: an `admin` manages tokens and erasure, a `clinician` reads and writes records, a
 * `reader` only reads, a `patient` reads their own record (tokens from signing in with their key). SMART scopes
 * on the token narrow what a role may touch per resource type (see smartScopes.ts).
 */
export const API_ROLES = ['admin', 'clinician', 'reader', 'patient'] as const;
export type ApiRole = (typeof API_ROLES)[number];

/** What a route needs. */
export type Access = 'read' | 'write' | 'admin';

const GRANTS: Record<ApiRole, readonly Access[]> = {
  admin: ['read', 'write', 'admin'],
  clinician: ['read', 'write'],
  reader: ['read'],
  patient: ['read'],
};

/** The SMART scopes a token of each role has when it was created without explicit ones. */
export const DEFAULT_SCOPES: Record<ApiRole, string> = {
  admin: 'user/*.*',
  clinician: 'user/*.*',
  reader: 'user/*.read',
  patient: 'patient/*.read',
};

export function isApiRole(value: unknown): value is ApiRole {
  return typeof value === 'string' && (API_ROLES as readonly string[]).includes(value);
}

/** True if `role` may do what `access` names. */
export function roleAllows(role: ApiRole, access: Access): boolean {
  return GRANTS[role].includes(access);
}
