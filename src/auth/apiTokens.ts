import { randomBytes, timingSafeEqual } from 'node:crypto';
import { getAddress, isAddress, type Address } from 'viem';
import { InvalidInputError } from '../core/errors.js';
import { sha256 } from '../core/sha256.js';
import { AuthenticationError, ForbiddenError } from './errors.js';
import type { TokenStore } from './ports.js';
import { DEFAULT_SCOPES, isApiRole, roleAllows, type Access, type ApiRole } from './roles.js';
import { formatSmartScope, parseSmartScopes, type SmartScope } from './smartScopes.js';

/** Who is calling: the token's name, role and scopes, and whom it acts for. */
export interface Principal {
  name: string;
  role: ApiRole;
  scopes: SmartScope[];
  /** `Patient/…` for a patient's token, `Practitioner/…` for staff with a FHIR identity, else null. */
  subject: string | null;
  /** The person's chain address, if the token carries one (checksummed). */
  chainAddress: Address | null;
}

const TOKEN_PREFIX = 'clt_';
const TOKEN_RE = /^clt_[A-Za-z0-9_-]{43}$/;

export interface CreateApiTokenParameters {
  name: string;
  role: string;
  expiresInDays?: number | undefined;
  /** Expiry in ms from now (for short-lived sign-in tokens); wins over expiresInDays. */
  expiresInMs?: number | undefined;
  /** Space-separated SMART scopes; default: the role's (DEFAULT_SCOPES). */
  scopes?: string | undefined;
  subject?: string | undefined;
  chainAddress?: string | undefined;
  now?: number;
}

const SUBJECT_RE = /^(Patient|Practitioner)\/[A-Za-z0-9\-.]{1,64}$/;

/**
 * Creates a bearer token: 32 random bytes, shown once; only its SHA-256 is stored, so a copy of the database
 * does not give access.
 */
export function createApiToken(
  store: TokenStore,
  params: CreateApiTokenParameters,
): { token: string; name: string; role: ApiRole; expiresAt: number | null } {
  const name = params.name.trim();
  if (!/^[\w.@:-]{1,64}$/.test(name)) {
    throw new InvalidInputError(
      'TOKEN.INVALID_NAME',
      'A token name is 1 to 64 letters, digits or . _ @ : - (e.g. "dr.jones" or "lab-import").',
    );
  }
  if (!isApiRole(params.role)) {
    throw new InvalidInputError(
      'TOKEN.INVALID_ROLE',
      `Unknown role "${params.role}"; use admin, clinician, reader or patient.`,
    );
  }
  const scopes =
    params.scopes === undefined ? null : parseSmartScopes(params.scopes).map(formatSmartScope).join(' ');
  const subject = params.subject ?? null;
  if (subject !== null && !SUBJECT_RE.test(subject)) {
    throw new InvalidInputError(
      'TOKEN.INVALID_SUBJECT',
      `The subject must be a Patient or Practitioner reference such as "Practitioner/dr-jones", not "${subject}".`,
    );
  }
  if (params.role === 'patient' && !subject?.startsWith('Patient/')) {
    throw new InvalidInputError(
      'TOKEN.INVALID_SUBJECT',
      'A patient token must name its patient: subject "Patient/<id>".',
    );
  }
  if (params.chainAddress !== undefined && !isAddress(params.chainAddress, { strict: false })) {
    throw new InvalidInputError(
      'TOKEN.INVALID_ADDRESS',
      `"${params.chainAddress}" is not a chain address (0x followed by 40 hex digits).`,
    );
  }
  const chainAddress = params.chainAddress === undefined ? null : getAddress(params.chainAddress);
  if (
    params.expiresInDays !== undefined &&
    (!Number.isInteger(params.expiresInDays) || params.expiresInDays < 1)
  ) {
    throw new InvalidInputError('TOKEN.INVALID_EXPIRY', 'Expiry must be a whole number of days, at least 1.');
  }
  const now = params.now ?? Date.now();
  const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
  const expiresAt =
    params.expiresInMs !== undefined
      ? now + params.expiresInMs
      : params.expiresInDays
        ? now + params.expiresInDays * 86_400_000
        : null;
  store.insertToken({
    tokenHash: sha256(Buffer.from(token)),
    name,
    role: params.role,
    createdAt: now,
    expiresAt,
    revokedAt: null,
    scopes,
    subject,
    chainAddress,
  });
  return { token, name, role: params.role, expiresAt };
}

/**
 * Checks an `Authorization: Bearer …` header. `bootstrapToken` (from configuration, for automation) is accepted
 * as an admin, compared in constant time.
 */
export function authenticate(
  store: TokenStore,
  authorization: string | undefined,
  bootstrapToken?: string,
  now = Date.now(),
): Principal {
  if (!authorization) {
    throw new AuthenticationError(
      'AUTH.MISSING_TOKEN',
      'This endpoint needs a bearer token: send "Authorization: Bearer <token>" (create one with "careledger token create").',
    );
  }
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (!match)
    throw new AuthenticationError('AUTH.MALFORMED', 'The Authorization header must be "Bearer <token>".');
  const token = match[1] as string;
  if (
    bootstrapToken &&
    token.length === bootstrapToken.length &&
    timingSafeEqual(Buffer.from(token), Buffer.from(bootstrapToken))
  ) {
    return {
      name: 'bootstrap',
      role: 'admin',
      scopes: parseSmartScopes(DEFAULT_SCOPES.admin),
      subject: null,
      chainAddress: null,
    };
  }
  const row = TOKEN_RE.test(token) ? store.findToken(sha256(Buffer.from(token))) : undefined;
  if (!row)
    throw new AuthenticationError('AUTH.INVALID_TOKEN', 'The bearer token is not known to this gateway.');
  if (row.revokedAt !== null)
    throw new AuthenticationError('AUTH.REVOKED_TOKEN', `The token "${row.name}" was revoked.`);
  if (row.expiresAt !== null && row.expiresAt <= now) {
    throw new AuthenticationError(
      'AUTH.EXPIRED_TOKEN',
      `The token "${row.name}" expired at ${new Date(row.expiresAt).toISOString()}.`,
    );
  }
  return {
    name: row.name,
    role: row.role,
    scopes: parseSmartScopes(row.scopes ?? DEFAULT_SCOPES[row.role]),
    subject: row.subject,
    chainAddress: row.chainAddress as Address | null,
  };
}

/** Throws 403 unless the principal's role grants `access`. */
export function authorize(principal: Principal, access: Access): void {
  if (!roleAllows(principal.role, access)) {
    throw new ForbiddenError(
      `The role "${principal.role}" may not ${access === 'admin' ? 'administer this gateway' : access} here.`,
      {
        role: principal.role,
        needs: access,
      },
    );
  }
}
