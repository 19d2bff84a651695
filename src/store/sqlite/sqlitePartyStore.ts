import type { PartyStore } from '../../supply-chain/custody/ports.js';
import type { SqliteDatabase } from './openDatabase.js';

/** Trading partners' locations and parties mapped to member organisations, on SQLite. */
export class SqlitePartyStore implements PartyStore {
  private readonly stmt;

  constructor(db: SqliteDatabase) {
    this.stmt = {
      get: db.prepare(`SELECT organization FROM supply_parties WHERE party = ?`).pluck(),
      set: db.prepare(
        `INSERT INTO supply_parties (party, organization, name) VALUES (?, ?, ?)
         ON CONFLICT (party) DO UPDATE SET organization = excluded.organization, name = excluded.name`,
      ),
      list: db.prepare(`SELECT party, organization, name FROM supply_parties ORDER BY party`),
    };
  }

  organizationOf(partyKey: string): `0x${string}` | undefined {
    return this.stmt.get.get(partyKey) as `0x${string}` | undefined;
  }

  setParty(party: { key: string; organization: `0x${string}`; name: string }): void {
    this.stmt.set.run(party.key, party.organization.toLowerCase(), party.name);
  }

  list(): { key: string; organization: `0x${string}`; name: string }[] {
    return (this.stmt.list.all() as { party: string; organization: `0x${string}`; name: string }[]).map(
      (r) => ({
        key: r.party,
        organization: r.organization,
        name: r.name,
      }),
    );
  }
}
