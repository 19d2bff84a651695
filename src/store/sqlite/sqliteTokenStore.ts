import type { ApiTokenRow, TokenStore } from '../../auth/ports.js';
import type { ApiRole } from '../../auth/roles.js';
import type { SqliteDatabase } from './openDatabase.js';

interface Row {
  token_hash: Buffer;
  name: string;
  role: ApiRole;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
  scopes: string | null;
  subject: string | null;
  chain_address: string | null;
}

const toRow = (r: Row): ApiTokenRow => ({
  tokenHash: new Uint8Array(r.token_hash),
  name: r.name,
  role: r.role,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  revokedAt: r.revoked_at,
  scopes: r.scopes,
  subject: r.subject,
  chainAddress: r.chain_address,
});

/** API token hashes in SQLite. */
export class SqliteTokenStore implements TokenStore {
  private readonly stmt;

  constructor(db: SqliteDatabase) {
    this.stmt = {
      insert: db.prepare(
        `INSERT INTO api_tokens (token_hash, name, role, created_at, expires_at, revoked_at, scopes, subject, chain_address)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      find: db.prepare(`SELECT * FROM api_tokens WHERE token_hash = ?`),
      revoke: db.prepare(`UPDATE api_tokens SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL`),
      list: db.prepare(`SELECT * FROM api_tokens ORDER BY created_at`),
      deleteExpired: db.prepare(
        `DELETE FROM api_tokens WHERE role = ? AND expires_at IS NOT NULL AND expires_at < ?`,
      ),
    };
  }

  insertToken(row: ApiTokenRow): void {
    this.stmt.insert.run(
      Buffer.from(row.tokenHash),
      row.name,
      row.role,
      row.createdAt,
      row.expiresAt,
      row.revokedAt,
      row.scopes,
      row.subject,
      row.chainAddress,
    );
  }

  findToken(tokenHash: Uint8Array): ApiTokenRow | undefined {
    const row = this.stmt.find.get(Buffer.from(tokenHash)) as Row | undefined;
    return row ? toRow(row) : undefined;
  }

  revokeToken(name: string, at: number): number {
    return this.stmt.revoke.run(at, name).changes;
  }

  deleteExpired(role: ApiRole, before: number): number {
    return this.stmt.deleteExpired.run(role, before).changes;
  }

  listTokens(): ApiTokenRow[] {
    return (this.stmt.list.all() as Row[]).map(toRow);
  }
}
