import { InvalidInputError } from '../core/errors.js';

/**
 * SMART on FHIR resource scopes (https://hl7.org/fhir/smart-app-launch/scopes-and-launch-context.html):
 * `context/Type.permissions`, where context is `patient` (the token's own patient only), `user` (what the user
 * may see) or `system`; Type a resource type or `*`; permissions SMART v1 `read`, `write`, `*` or v2 letters
 * from `cruds` (create, read, update, delete, search).
 */
export interface SmartScope {
  context: 'patient' | 'user' | 'system';
  resourceType: string;
  read: boolean;
  write: boolean;
}

export type ScopeAction = 'read' | 'write';

const SCOPE_RE = /^(patient|user|system)\/([A-Za-z]{1,64}|\*)\.(read|write|\*|c?r?u?d?s?)$/;

export function parseSmartScope(text: string): SmartScope {
  const m = SCOPE_RE.exec(text);
  const permissions = m?.[3] ?? '';
  if (!m || permissions === '') {
    throw new InvalidInputError(
      'AUTH.BAD_SCOPE',
      `"${text}" is not a SMART resource scope; write e.g. "user/Observation.read", "patient/*.read" or "user/*.cruds".`,
    );
  }
  const v1 = permissions === 'read' || permissions === 'write' || permissions === '*';
  const read = v1 ? permissions !== 'write' : /[rs]/.test(permissions);
  const write = v1 ? permissions !== 'read' : /[cud]/.test(permissions);
  return { context: m[1] as SmartScope['context'], resourceType: m[2] as string, read, write };
}

/** Parses a space-separated scope list (the OAuth `scope` format); unknown non-resource scopes are errors. */
export function parseSmartScopes(text: string): SmartScope[] {
  const parts = text.trim().split(/\s+/).filter(Boolean);
  if (parts.length === 0) throw new InvalidInputError('AUTH.BAD_SCOPE', 'A token needs at least one scope.');
  return parts.map(parseSmartScope);
}

export function formatSmartScope(scope: SmartScope): string {
  const permissions = scope.read && scope.write ? '*' : scope.read ? 'read' : 'write';
  return `${scope.context}/${scope.resourceType}.${permissions}`;
}

/** True when some scope allows `action` on `resourceType`. */
export function scopesAllow(
  scopes: readonly SmartScope[],
  resourceType: string,
  action: ScopeAction,
): boolean {
  return scopes.some(
    (s) =>
      (s.resourceType === '*' || s.resourceType === resourceType) && (action === 'read' ? s.read : s.write),
  );
}

/** True when every scope that allows this is patient-context: the caller may only touch their own data. */
export function onlyPatientContext(
  scopes: readonly SmartScope[],
  resourceType: string,
  action: ScopeAction,
): boolean {
  const allowing = scopes.filter(
    (s) =>
      (s.resourceType === '*' || s.resourceType === resourceType) && (action === 'read' ? s.read : s.write),
  );
  return allowing.length > 0 && allowing.every((s) => s.context === 'patient');
}
