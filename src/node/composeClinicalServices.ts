import type { Address } from 'viem';
import type { AnchoringService } from '../anchoring/anchoringService.js';
import { AccessAuditTrail } from '../audit/accessAuditTrail.js';
import type { AccessEvent } from '../audit/accessEvent.js';
import { deriveAuditTrailKey } from '../audit/auditKey.js';
import { PatientSignIn } from '../auth/patientSignIn.js';
import type { TokenStore } from '../auth/ports.js';
import type { Config } from '../config/config.js';
import { ConsentService } from '../consent/consentService.js';
import type { ConsentLedger } from '../consent/ports.js';
import type { Logger } from '../core/logger.js';
import { CARELEDGER_VERSION } from '../core/version.js';
import { deriveKeyEncryptionKey, deriveSearchIndexKey } from '../crypto/index.js';
import type { ChainClients } from '../ledger/chainClients.js';
import { PatientLinkService } from '../patients/patientLinkService.js';
import { FhirRepository } from '../records/fhirRepository.js';
import { FhirRouter } from '../records/fhirRouter.js';
import { loadFhirDefinitions } from '../records/validateFhirResource.js';
import { InlineValidator } from '../records/validation/resourceValidator.js';
import { ValidationPool } from '../records/validation/validationPool.js';
import type { SqliteDatabase } from '../store/sqlite/openDatabase.js';
import { SqliteAuditStore } from '../store/sqlite/sqliteAuditStore.js';
import { SqliteFhirStore } from '../store/sqlite/sqliteFhirStore.js';
import { SqlitePatientLinkStore } from '../store/sqlite/sqlitePatientLinkStore.js';
import { startConsentEnforcement } from './consentEnforcement.js';

export interface ClinicalServicesParameters {
  config: Config;
  logger: Logger;
  db: SqliteDatabase;
  masterKey: Uint8Array;
  anchoring: AnchoringService;
  tokens: TokenStore;
  clients: ChainClients;
  /** The node's one ConsentRegistry adapter (one sender, one nonce sequence). */
  consentLedger: ConsentLedger;
  organization: Address;
  chainId: number;
  organizationRegistry: Address;
  /** Where each part registers how to stop it (they run in reverse order). */
  cleanups: (() => Promise<void> | void)[];
  /** Told of every patient link made or confirmed (exchange announces the patient on the record locator). */
  onPatientLinked?: (address: Address) => void;
}

/**
 * Composes what sits on the ledger spine for clinical data: the FHIR store and router (with the validation
 * workers), patient links and sign-in, consent relaying and enforcement, and the access audit trail.
 */
export async function composeClinicalServices(p: ClinicalServicesParameters) {
  const {
    config,
    logger,
    db,
    masterKey,
    anchoring,
    tokens,
    clients,
    consentLedger,
    organization,
    chainId,
    cleanups,
  } = p;
  loadFhirDefinitions();
  const searchIndexKey = deriveSearchIndexKey(masterKey);
  const auditKey = deriveAuditTrailKey(masterKey);
  const pool =
    config.fhir.validationWorkers > 0
      ? new ValidationPool(config.fhir.validationWorkers, { searchIndexKey, auditKey }, logger)
      : null;
  const validator = pool ?? new InlineValidator(searchIndexKey);
  cleanups.push(() => validator.close());
  const fhirRepository = new FhirRepository(new SqliteFhirStore(db), anchoring, {
    masterKeyEncryptionKey: deriveKeyEncryptionKey(masterKey),
    searchIndexKey,
    maxAttachmentBytes: config.fhir.maxAttachmentBytes,
    logger,
    validator,
  });
  const patients = new PatientLinkService({
    store: new SqlitePatientLinkStore(db),
    gateway: { organization, chainId },
    assertPatientHeld: (patientId) => void fhirRepository.read('Patient', patientId),
    whenDurable: () => anchoring.whenDurable(),
    onLinked: (link) => p.onPatientLinked?.(link.address),
  });
  const enforcement = await startConsentEnforcement({
    clients,
    ledger: consentLedger,
    organization,
    organizationRegistry: p.organizationRegistry,
    addressOfPatient: (patientId) => patients.addressOf(patientId),
    logger,
    pollingIntervalMs: Math.min(1_000, config.anchoring.chainCheckIntervalMs),
  });
  cleanups.push(() => enforcement.stop());
  const audit = new AccessAuditTrail({
    store: new SqliteAuditStore(db),
    anchoring,
    key: auditKey,
    searchIndexKey,
    // Every audited read's sealing runs on the validation workers when there are any.
    ...(pool ? { sealer: (events: AccessEvent[]) => pool.sealAudit(events) } : {}),
    organization,
    logger,
  });
  // Stopped before anchoring (cleanups run in reverse): entries still queued reach the spine's last commit.
  cleanups.push(() => audit.flush());
  const fhirRouter = new FhirRouter(
    fhirRepository,
    CARELEDGER_VERSION,
    config.consent.enforce ? enforcement.access : null,
    audit,
  );
  const consent = new ConsentService({ ledger: enforcement.ledger, patients });
  const patientSignIn = new PatientSignIn({
    tokens,
    patientOf: (address) => patients.patientOf(address),
    gateway: { organization, chainId },
  });

  return { fhirRepository, fhirRouter, patients, patientSignIn, consent, audit, enforcement };
}
