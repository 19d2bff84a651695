import type { ApiRole } from './roles.js';

export interface ApiTokenRow {
  tokenHash: Uint8Array;
  name: string;
  role: ApiRole;
  createdAt: number;
  expiresAt: number | null;
  revokedAt: number | null;
}

/** Where token hashes live (never the tokens themselves). */
export interface TokenStore {
  insertToken(row: ApiTokenRow): void;
  findToken(tokenHash: Uint8Array): ApiTokenRow | undefined;
  revokeToken(name: string, at: number): number;
  listTokens(): ApiTokenRow[];
}
