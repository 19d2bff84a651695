import type {
  NewNotification,
  NotificationStore,
  SupplyNotification,
} from '../../supply-chain/notifications/ports.js';
import type { SqliteDatabase } from './openDatabase.js';

interface NotificationRow {
  id: number;
  created_at: number;
  body: string;
}

const toNotification = (r: NotificationRow): SupplyNotification => ({
  id: r.id,
  createdAt: new Date(r.created_at).toISOString(),
  ...(JSON.parse(r.body) as NewNotification),
});

/** Supply-chain notifications and the chain watcher's progress, on SQLite (lots known from `supply_packs`). */
export class SqliteSupplyNotificationStore implements NotificationStore {
  private readonly stmt;
  private readonly appendAll;

  constructor(db: SqliteDatabase) {
    this.stmt = {
      lots: db.prepare(`SELECT DISTINCT gtin, lot FROM supply_packs`),
      serials: db.prepare(`SELECT serial FROM supply_packs WHERE gtin = ? AND lot = ?`).pluck(),
      cursor: db.prepare(`SELECT block FROM supply_watch_cursor WHERE contract = ?`).pluck(),
      setCursor: db.prepare(
        `INSERT INTO supply_watch_cursor (contract, block) VALUES (?, ?)
         ON CONFLICT (contract) DO UPDATE SET block = excluded.block`,
      ),
      insert: db.prepare(
        `INSERT OR IGNORE INTO supply_notifications (created_at, kind, lot_id, transaction_hash, body)
         VALUES (?, ?, ?, ?, ?)`,
      ),
      first: db.prepare(`SELECT id, created_at, body FROM supply_notifications ORDER BY id DESC LIMIT ?`),
      before: db.prepare(
        `SELECT id, created_at, body FROM supply_notifications WHERE id < ? ORDER BY id DESC LIMIT ?`,
      ),
      after: db.prepare(
        `SELECT id, created_at, body FROM supply_notifications WHERE id > ? ORDER BY id LIMIT ?`,
      ),
    };
    this.appendAll = db.transaction(
      (
        notifications: readonly NewNotification[],
        cursor: { contract: string; block: number },
        now: number,
      ) => {
        const stored: SupplyNotification[] = [];
        for (const n of notifications) {
          const result = this.stmt.insert.run(now, n.kind, n.lotId, n.transactionHash, JSON.stringify(n));
          if (result.changes === 1) {
            stored.push({ id: Number(result.lastInsertRowid), createdAt: new Date(now).toISOString(), ...n });
          }
        }
        this.stmt.setCursor.run(cursor.contract, cursor.block);
        return stored;
      },
    );
  }

  knownLots(): { gtin: string; lot: string }[] {
    return this.stmt.lots.all() as { gtin: string; lot: string }[];
  }

  serialsOf(gtin: string, lot: string): string[] {
    return this.stmt.serials.all(gtin, lot) as string[];
  }

  cursor(contract: string): number | undefined {
    return this.stmt.cursor.get(contract) as number | undefined;
  }

  append(
    notifications: readonly NewNotification[],
    cursor: { contract: string; block: number },
    now: number,
  ): SupplyNotification[] {
    return this.appendAll(notifications, cursor, now);
  }

  list(page: {
    limit: number;
    before?: number | undefined;
    after?: number | undefined;
  }): SupplyNotification[] {
    const rows =
      page.before !== undefined
        ? this.stmt.before.all(page.before, page.limit)
        : page.after !== undefined
          ? this.stmt.after.all(page.after, page.limit)
          : this.stmt.first.all(page.limit);
    return (rows as NotificationRow[]).map(toNotification);
  }
}
