import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { auditRecords } from '../anchoring/auditRecords.js';
import { createAuditContentResolver } from '../audit/accessAuditTrail.js';
import { deriveAuditTrailKey } from '../audit/auditKey.js';
import { SqliteAuditStore } from '../store/sqlite/sqliteAuditStore.js';
import { fromHex, isHex, type Hex } from '../core/hex.js';
import { deriveKeyEncryptionKey } from '../crypto/index.js';
import { readMasterKey } from '../keys/loadOrCreateKeys.js';
import { createVersionContentResolver } from '../records/versionContentResolver.js';
import { SqliteFhirStore } from '../store/sqlite/sqliteFhirStore.js';
import { createAnchorReader } from '../ledger/viemAnchorReader.js';
import { openDatabase } from '../store/sqlite/openDatabase.js';
import { SqliteAnchorStore } from '../store/sqlite/sqliteAnchorStore.js';

export interface AuditOptions {
  data?: string;
  rpc?: string;
  json?: boolean;
}

/**
 * `careledger audit`: re-hashes every stored record and checks every batch root, locally and on chain.
 * Exit 0 when everything matches, 1 when any record or batch does not, 2 when the audit could not run.
 */
export async function auditCommand(options: AuditOptions): Promise<number> {
  const dataDir = resolve(options.data ?? process.env.CARELEDGER_DATA ?? './data');
  const file = join(dataDir, 'careledger.db');
  if (!existsSync(file)) {
    console.error(`No CareLedger database in ${dataDir}; pass --data or set CARELEDGER_DATA.`);
    return 2;
  }
  const db = openDatabase(file, { readonly: true });
  try {
    const store = new SqliteAnchorStore(db);
    const organization = store.getMeta('organization');
    if (!organization || !isHex(organization, 20)) {
      console.error('The database does not record its organisation; start the node once before auditing.');
      return 2;
    }
    const rpc = options.rpc ?? process.env.CHAIN_RPC_URL ?? defaultEmbeddedRpc();
    const configuredKey = process.env.CARELEDGER_MASTER_KEY as Hex | undefined;
    const masterKey = readMasterKey(dataDir, configuredKey || undefined);
    if (!masterKey) {
      console.error(
        'No master key: set CARELEDGER_MASTER_KEY, or audit the data folder that holds keys/master.key.',
      );
      return 2;
    }
    const master = fromHex(masterKey, 32);
    // FHIR versions and access-audit entries are held encrypted: decrypt each and re-hash what was anchored.
    const fhirVersion = createVersionContentResolver(new SqliteFhirStore(db), deriveKeyEncryptionKey(master));
    const auditEntry = createAuditContentResolver(new SqliteAuditStore(db), deriveAuditTrailKey(master));
    const report = await auditRecords(store, {
      organization: fromHex(organization, 20),
      reader: createAnchorReader(rpc),
      resolveContent: (recordId) => fhirVersion(recordId) ?? auditEntry(recordId),
    });
    if (options.json) {
      console.log(JSON.stringify(report, null, 2));
    } else {
      console.log(
        `Audited ${report.recordsChecked} records in ${report.batchesChecked} sealed batches` +
          (report.erasedRecords ? ` (${report.erasedRecords} of erased patients: hashes only).` : '.'),
      );
      console.log(
        report.chainChecked
          ? `Batch roots checked on chain at ${rpc}.`
          : `Chain not checked: ${report.chainError ?? 'no confirmed batches'}.`,
      );
      for (const f of report.findings) console.log(`MISMATCH ${f.kind}: ${f.message}`);
      console.log(
        report.findings.length === 0
          ? 'OK: every record matches its anchored leaf.'
          : `${report.findings.length} problem(s) found.`,
      );
    }
    return report.findings.length === 0 ? 0 : 1;
  } finally {
    db.close();
  }
}

function defaultEmbeddedRpc(): string {
  return `http://127.0.0.1:${process.env.ANVIL_PORT || 8545}`;
}
