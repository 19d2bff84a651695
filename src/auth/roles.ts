/**
 * Roles a bearer token can carry. Deliberately few until SMART-style scopes arrive with consent: an `admin`
 * manages tokens and erasure, a `clinician` reads and writes records, a `reader` only reads.
 */
export const API_ROLES = ['admin', 'clinician', 'reader'] as const;
export type ApiRole = (typeof API_ROLES)[number];

/** What a route needs. */
export type Access = 'read' | 'write' | 'admin';

const GRANTS: Record<ApiRole, readonly Access[]> = {
  admin: ['read', 'write', 'admin'],
  clinician: ['read', 'write'],
  reader: ['read'],
};

export function isApiRole(value: unknown): value is ApiRole {
  return typeof value === 'string' && (API_ROLES as readonly string[]).includes(value);
}

/** True if `role` may do what `access` names. */
export function roleAllows(role: ApiRole, access: Access): boolean {
  return GRANTS[role].includes(access);
}
