import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createApiToken } from '../auth/apiTokens.js';
import { DEFAULT_SCOPES } from '../auth/roles.js';
import { ConfigurationError } from '../core/errors.js';
import { openDatabase } from '../store/sqlite/openDatabase.js';
import { SqliteTokenStore } from '../store/sqlite/sqliteTokenStore.js';

export interface TokenCommandOptions {
  data?: string;
}

function withTokenStore<T>(options: TokenCommandOptions, run: (store: SqliteTokenStore) => T): T {
  const dataDir = resolve(options.data ?? process.env.CARELEDGER_DATA ?? './data');
  if (!existsSync(join(dataDir, 'careledger.db'))) {
    throw new ConfigurationError(
      'CLI.NO_DATABASE',
      `No CareLedger database in ${dataDir}; start the node once, or pass --data.`,
    );
  }
  // The node may be running: SQLite in WAL mode takes this short write alongside it.
  const db = openDatabase(join(dataDir, 'careledger.db'));
  try {
    return run(new SqliteTokenStore(db));
  } finally {
    db.close();
  }
}

export interface TokenCreateOptions extends TokenCommandOptions {
  name: string;
  role: string;
  expiresDays?: string;
  scopes?: string;
  subject?: string;
  address?: string;
}

/**
 * `careledger token create --name N --role R [--expires-days D] [--scopes S] [--subject REF] [--address A]`:
 * prints the new token once.
 */
export function tokenCreateCommand(options: TokenCreateOptions): number {
  const created = withTokenStore(options, (store) =>
    createApiToken(store, {
      name: options.name,
      role: options.role,
      expiresInDays: options.expiresDays === undefined ? undefined : Number(options.expiresDays),
      scopes: options.scopes,
      subject: options.subject,
      chainAddress: options.address,
    }),
  );
  console.log(created.token);
  console.error(
    `Created token "${created.name}" with role ${created.role}${created.expiresAt ? `, expiring ${new Date(created.expiresAt).toISOString()}` : ''}. It is shown only now; store it safely.`,
  );
  return 0;
}

/** `careledger token list`: names, roles and states; never the tokens. */
export function tokenListCommand(options: TokenCommandOptions): number {
  const rows = withTokenStore(options, (store) => store.listTokens());
  const now = Date.now();
  for (const t of rows) {
    const state = t.revokedAt ? 'revoked' : t.expiresAt && t.expiresAt <= now ? 'expired' : 'active';
    const scopes = t.scopes ?? `${DEFAULT_SCOPES[t.role]} (role default)`;
    console.log(
      `${t.name}\t${t.role}\t${state}\tcreated ${new Date(t.createdAt).toISOString()}\t${scopes}${t.subject ? `\t${t.subject}` : ''}`,
    );
  }
  return 0;
}

/** `careledger token revoke --name N`. */
export function tokenRevokeCommand(options: TokenCommandOptions & { name: string }): number {
  const count = withTokenStore(options, (store) => store.revokeToken(options.name, Date.now()));
  if (count === 0) {
    console.error(`No active token named "${options.name}".`);
    return 1;
  }
  console.log(`Revoked ${count} token(s) named "${options.name}".`);
  return 0;
}
