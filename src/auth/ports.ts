import type { ApiRole } from './roles.js';

export interface ApiTokenRow {
  tokenHash: Uint8Array;
  name: string;
  role: ApiRole;
  createdAt: number;
  expiresAt: number | null;
  revokedAt: number | null;
  /** Space-separated SMART scopes; null means the role's defaults. */
  scopes: string | null;
  /** Whom the token acts for, as a FHIR reference (`Patient/…` for patients, `Practitioner/…` for staff). */
  subject: string | null;
  /** The person's own chain address (a patient's key; a practitioner a consent can name as grantee). */
  chainAddress: string | null;
}

/** Where token hashes live (never the tokens themselves). */
export interface TokenStore {
  insertToken(row: ApiTokenRow): void;
  findToken(tokenHash: Uint8Array): ApiTokenRow | undefined;
  revokeToken(name: string, at: number): number;
  listTokens(): ApiTokenRow[];
  /** Deletes tokens of `role` that expired before `before`; returns how many. */
  deleteExpired(role: ApiTokenRow['role'], before: number): number;
}
