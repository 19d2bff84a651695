import { getAddress, type Address, type PublicClient } from 'viem';
import type { AnchoringService } from '../anchoring/anchoringService.js';
import type { AccessAuditTrail } from '../audit/accessAuditTrail.js';
import type { Hex } from '../core/hex.js';
import type { Logger } from '../core/logger.js';
import { ExchangeGateway } from '../exchange/exchangeGateway.js';
import { ExchangeResponder } from '../exchange/exchangeResponder.js';
import { ExternalFetcher } from '../exchange/externalFetcher.js';
import { ExternalRecords } from '../exchange/externalRecords.js';
import { httpTransport } from '../exchange/httpTransport.js';
import { LocatorAnnouncer } from '../exchange/locatorAnnouncer.js';
import type { RecordLocator } from '../exchange/ports.js';
import { ReceiptKeeper } from '../exchange/receiptKeeper.js';
import { MemoryReplayGuard } from '../exchange/replayGuard.js';
import { organizationEncryptionPrivateKey } from '../keys/organizationEncryptionKey.js';
import type { ChainClients } from '../ledger/chainClients.js';
import { MemberDirectory } from '../ledger/memberDirectory.js';
import { OrganizationRoster } from '../ledger/organizationRoster.js';
import { createAnchorReader } from '../ledger/viemAnchorReader.js';
import type { PatientLinkService } from '../patients/patientLinkService.js';
import type { FhirRepository } from '../records/fhirRepository.js';
import type { SqliteDatabase } from '../store/sqlite/openDatabase.js';
import { SqliteExchangeStore } from '../store/sqlite/sqliteExchangeStore.js';
import type { ConsentEnforcement } from './consentEnforcement.js';

export interface ExchangeParameters {
  logger: Logger;
  db: SqliteDatabase;
  clients: ChainClients;
  rpcUrl: string;
  /** This organisation's chain key (signs envelopes) and master key (its X25519 key is derived from it). */
  keys: { chainKey: Hex; masterKey: Hex };
  organization: Address;
  /** The current deployment's registries (they change when the embedded chain is redeployed). */
  registries: () => { organizationRegistry: Address; anchorRegistry: Address };
  locator: RecordLocator;
  anchoring: AnchoringService;
  fhirRepository: FhirRepository;
  patients: PatientLinkService;
  enforcement: ConsentEnforcement;
  audit: AccessAuditTrail;
  exchange: { timeoutMs: number; retries: number };
  cleanups: (() => Promise<void> | void)[];
}

/**
 * Composes cross-organisation exchange: the record locator announcements (on link, withdrawn on erasure,
 * reconciled at start), the holder's endpoint for other gateways, and the requesting side (`$fetch-external`)
 * with its verification, receipts and audit.
 */
export function composeExchange(p: ExchangeParameters) {
  const { logger, keys, organization } = p;
  // Not cached: every exchange reads the requester's (and holder's) standing afresh, so a suspension mined in one
  // block is refused from the next request on. Exchanges are few and heavy; one registry read each costs little.
  const directory = new MemberDirectory(p.clients, p.registries().organizationRegistry, { ttlMs: 0 });
  const self = {
    address: organization,
    signingKey: keys.chainKey,
    encryptionPrivateKey: organizationEncryptionPrivateKey(keys.masterKey),
  };
  const replay = new MemoryReplayGuard();
  const member = (organization: Hex) => {
    directory.useRegistry(p.registries().organizationRegistry);
    return directory.member(organization);
  };

  const responder = new ExchangeResponder({
    standingOf: (org) => p.enforcement.standingOf(org),
    patientIdOf: (address) => p.patients.patientOf(getAddress(address)),
    patientRecord: (patientId) => p.fhirRepository.patientRecord(patientId),
    proof: (recordId) => p.fhirRepository.proofOfRecord(recordId),
    access: (caller, intent, patientId) => p.enforcement.guard.organizationAccess(caller, intent, patientId),
    recordAccess: (caller, details) => p.audit.recordAccess(caller, details),
  });
  const gateway = new ExchangeGateway({ self, member, replay, responder });

  // The chain id never changes under a running node: asked once, not once per root checked.
  const rpcReader = createAnchorReader(p.rpcUrl);
  let chainId: Promise<number> | null = null;
  const reader: typeof rpcReader = {
    ...rpcReader,
    chainId: () =>
      (chainId ??= rpcReader.chainId().catch((error: unknown) => {
        chainId = null;
        throw error;
      })),
  };
  const fetcher = new ExternalFetcher({
    self,
    patientAddress: (patientId) => p.patients.addressOf(patientId),
    locator: p.locator,
    member,
    transport: httpTransport,
    chain: {
      reader,
      get anchorRegistry() {
        return p.registries().anchorRegistry;
      },
    },
    replay,
    timeoutMs: p.exchange.timeoutMs,
    retries: p.exchange.retries,
  });
  const keeper = new ReceiptKeeper({
    self: organization,
    store: new SqliteExchangeStore(p.db),
    seal: (patientId, aad, bytes) => p.fhirRepository.sealForPatient(patientId, aad, bytes),
    open: (keyId, aad, payload) => p.fhirRepository.openForPatient(keyId, aad, payload),
    anchoring: p.anchoring,
  });
  const external = new ExternalRecords({
    fetcher,
    keeper,
    recordAccess: (caller, details) => p.audit.recordAccess(caller, details),
  });

  const announcer = new LocatorAnnouncer({ locator: p.locator, logger });
  p.cleanups.push(() => announcer.stop());
  // Every link made before (or while the chain was away) is announced again; quietly skipped when it is there.
  void announcer.reconcile(p.patients.addresses());
  const onErased = (patientId: string) => {
    const address = p.patients.addressOf(patientId);
    if (address) void announcer.release(address);
  };
  return {
    /**
     * What the supply chain's documents (T3s, illegitimate-product reports) reuse: the sealing identity, the
     * directory, the replay guard, bounds of a request, the holder's endpoint (for the T3 request kind), the roster
     * of members by role (read afresh) and the audit trail.
     */
    envelopes: {
      self,
      member,
      replay,
      limits: p.exchange,
      addOperation: gateway.addOperation.bind(gateway),
      roster: new OrganizationRoster(
        p.clients.publicClient as PublicClient,
        () => p.registries().organizationRegistry,
      ),
      audit: p.audit,
    },
    gateway,
    external,
    keeper,
    receipts: keeper,
    announcer,
    onErased,
    onLinked: (address: Address) => void announcer.announce(address),
  };
}
