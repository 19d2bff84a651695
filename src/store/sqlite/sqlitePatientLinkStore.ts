import type { Address, Hex } from 'viem';
import type { PatientLink, PatientLinkStore } from '../../patients/ports.js';
import type { SqliteDatabase } from './openDatabase.js';

interface LinkRow {
  patient_id: string;
  address: string;
  linked_at: number;
  statement: string;
  signature: string;
}

const toLink = (r: LinkRow): PatientLink => ({
  patientId: r.patient_id,
  address: r.address as Address,
  linkedAt: r.linked_at,
  statement: r.statement,
  signature: r.signature as Hex,
});

/** Patient links on SQLite; addresses are stored checksummed (as the service passes them). */
export class SqlitePatientLinkStore implements PatientLinkStore {
  private readonly stmt;

  constructor(db: SqliteDatabase) {
    this.stmt = {
      byPatient: db.prepare(`SELECT * FROM patient_links WHERE patient_id = ?`),
      byAddress: db.prepare(`SELECT * FROM patient_links WHERE address = ?`),
      addresses: db.prepare(`SELECT address FROM patient_links ORDER BY linked_at, address`).pluck(),
      insert: db.prepare(
        `INSERT INTO patient_links (patient_id, address, linked_at, statement, signature) VALUES (?, ?, ?, ?, ?)`,
      ),
    };
  }

  byPatient(patientId: string): PatientLink | undefined {
    const row = this.stmt.byPatient.get(patientId) as LinkRow | undefined;
    return row ? toLink(row) : undefined;
  }

  byAddress(address: Address): PatientLink | undefined {
    const row = this.stmt.byAddress.get(address) as LinkRow | undefined;
    return row ? toLink(row) : undefined;
  }

  addresses(): Address[] {
    return this.stmt.addresses.all() as Address[];
  }

  insert(link: PatientLink): void {
    this.stmt.insert.run(link.patientId, link.address, link.linkedAt, link.statement, link.signature);
  }
}
