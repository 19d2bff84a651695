import type { Address } from 'viem';
import type { AnchoringService } from '../anchoring/anchoringService.js';
import type { Config } from '../config/config.js';
import { supplyChainLedger } from '../ledger/supplyChainLedger.js';
import { SupplyChainMirror } from '../ledger/supplyChainMirror.js';
import type { ViemSupplyChainRegistry } from '../ledger/viemSupplyChainRegistry.js';
import { SqliteSupplyChainMirrorStore } from '../store/sqlite/sqliteSupplyChainMirrorStore.js';
import type { SqliteDatabase } from '../store/sqlite/openDatabase.js';
import { SqliteEpcisStore } from '../store/sqlite/sqliteEpcisStore.js';
import { SqliteSupplyStore } from '../store/sqlite/sqliteSupplyStore.js';
import { CaptureService } from '../supply-chain/capture/captureService.js';
import { epcisDocumentReader } from '../supply-chain/capture/epcisDocumentReader.js';
import { EpcisReaderPool } from '../supply-chain/capture/epcisReaderPool.js';
import { queryVocabulary } from '../supply-chain/capture/queryVocabulary.js';
import { commissionedPacks } from '../supply-chain/custody/commissionedPacks.js';
import { commitLot } from '../supply-chain/custody/lotCommissioning.js';
import { containerContents } from '../supply-chain/custody/containerContents.js';
import { CustodyService } from '../supply-chain/custody/custodyService.js';
import { identifierKey } from '../supply-chain/epcis/gs1.js';
import type { CapturedEvent } from '../supply-chain/capture/captureService.js';
import { InvalidInputError } from '../core/errors.js';
import { toHex } from '../core/hex.js';
import { sha256 } from '../core/sha256.js';
import { parseGs1Identifier } from '../supply-chain/identifiers/index.js';
import { SqlitePartyStore } from '../store/sqlite/sqlitePartyStore.js';
import { VerificationService } from '../supply-chain/verification/verificationService.js';
import type { PublicClient } from 'viem';
import { supplySuspectLedger } from '../ledger/supplyChainLedger.js';
import { SqliteSupplySuspectStore } from '../store/sqlite/sqliteSupplySuspectStore.js';
import { SqliteSupplyNotificationStore } from '../store/sqlite/sqliteSupplyNotificationStore.js';
import { SuspectService } from '../supply-chain/suspect/suspectService.js';
import { NotificationHub } from '../supply-chain/notifications/notificationHub.js';
import { NotificationWatcher } from '../supply-chain/notifications/notificationWatcher.js';
import type { Logger } from '../core/logger.js';
import { TraceService } from '../supply-chain/trace/traceService.js';
import { CareLedgerError } from '../core/errors.js';

import { organizationSigner } from '../keys/organizationSigner.js';
import { SqliteT3Store } from '../store/sqlite/sqliteT3Store.js';
import { T3Service } from '../supply-chain/dscsa/t3Service.js';
import { openEnvelope, sealEnvelope } from '../exchange/envelope.js';
import { httpTransport } from '../exchange/httpTransport.js';
import type { MemberProfile } from '../exchange/externalFetcher.js';
import type { ReplayGuard } from '../exchange/replayGuard.js';
import type { Hex } from '../core/hex.js';
import type { AccessAuditTrail } from '../audit/accessAuditTrail.js';
import type { ExchangeOperation } from '../exchange/exchangeGateway.js';
import { T3_OPERATION } from '../exchange/exchangeMessages.js';
import { t3Asker, t3Operation } from '../exchange/t3Requests.js';
import { dscsaLedger } from '../ledger/supplyChainLedger.js';
import type { OrganizationRoster } from '../ledger/organizationRoster.js';
import type { T3Audit } from '../supply-chain/dscsa/ports.js';
import { t3AuditEvent } from '../supply-chain/dscsa/t3AuditEvent.js';
import { T3Disclosure } from '../supply-chain/dscsa/t3Disclosure.js';
import { T3Retrieval } from '../supply-chain/dscsa/t3Retrieval.js';
import { isReportDelivery } from '../supply-chain/suspect/reportDocument.js';
import { ReportDeliveries } from '../supply-chain/suspect/reportDelivery.js';

/**
 * Composes the supply-chain services on the spine: the EPCIS repository (capture, queries, events anchored like
 * any record; the packs a commissioning event brings recorded in the same commit), lot commissioning on the
 * `SupplyChainRegistry` as this organisation (`registry`), and product verification.
 */
export function composeSupplyChain(p: {
  config: Config;
  db: SqliteDatabase;
  anchoring: AnchoringService;
  organization: Address;
  /** The node's SupplyChainRegistry adapter; it follows a redeployment of the embedded chain's contracts. */
  registry: ViemSupplyChainRegistry;
  /**
   * The registry mirror product verification reads: the registry's deployment block (0 when unknown) and the
   * WebSocket endpoint announcing new blocks (null: polling only).
   */
  mirror: { startBlock: () => number; newHeadsUrl: string | null };
  /** Reads the registry's logs (suspect-product reports and the notification watcher). */
  publicClient: PublicClient;
  logger: Logger;
  /** This organisation's name and chain key (it signs the T3s of its sales). */
  name: string;
  chainKey: Hex;
  /** Run when the node stops (the EPCIS reader workers are stopped there). */
  cleanups: (() => Promise<void> | void)[];
  /**
   * The exchange's sealing identity, member directory and replay guard: T3s and illegitimate-product reports travel
   * in the same envelopes; T3 requests are a request kind of its holder's endpoint; the roster says who is a
   * regulator (read afresh); both sides of a T3 request are in the access audit trail.
   */
  exchange: {
    self: { address: Hex; signingKey: Hex; encryptionPrivateKey: Uint8Array };
    member(organization: Hex): Promise<MemberProfile | null>;
    replay: ReplayGuard;
    limits: { timeoutMs: number; retries: number };
    addOperation(name: string, operation: ExchangeOperation): void;
    roster: OrganizationRoster;
    audit: Pick<AccessAuditTrail, 'recordDurably'>;
  };
}) {
  const store = new SqliteEpcisStore(p.db);
  const packs = new SqliteSupplyStore(p.db);
  // Log queries start at the registry's deployment block (0 when unknown), not at the chain's genesis.
  const ledger = supplyChainLedger(p.registry, p.mirror.startBlock);
  const parties = new SqlitePartyStore(p.db);
  // Verification reads the registry's mirror, kept current from its events; this gateway's own writes are applied
  // to it before they are answered.
  const mirror = new SupplyChainMirror({
    publicClient: p.publicClient,
    registry: p.registry,
    store: new SqliteSupplyChainMirrorStore(p.db),
    startBlock: p.mirror.startBlock,
    pollingIntervalMs: p.config.supplyMirror.pollingIntervalMs,
    newHeadsUrl: p.mirror.newHeadsUrl,
    logger: p.logger,
  });
  p.registry.onMined((block) => mirror.caughtUpTo(block));
  const verification = new VerificationService({ ledger, packs, state: mirror });
  const self = p.organization.toLowerCase() as Address;
  const signer = organizationSigner(p.chainKey);
  /** Delivers a signed document to a member's gateway in a sealed envelope; rejects unless it acknowledged it. */
  const deliverDocument = async (recipient: Hex, document: object) => {
    const member = await p.exchange.member(recipient);
    if (!member?.active) throw new Error(`${recipient} is not an active member`);
    const envelope = await sealEnvelope({
      sender: { address: p.exchange.self.address, signingKey: p.exchange.self.signingKey },
      recipient: { address: member.organization, encryptionPublicKey: member.encryptionPublicKey },
      kind: 'request',
      body: Buffer.from(JSON.stringify(document), 'utf8'),
    });
    const answer = await httpTransport(
      `${member.gatewayUrl.replace(/\/+$/, '')}/exchange/v1/documents`,
      JSON.stringify(envelope),
      p.config.exchange.timeoutMs,
    );
    if (answer.status !== 201)
      throw new Error(`the recipient's gateway answered HTTP ${answer.status}: ${answer.body.slice(0, 200)}`);
  };
  const t3Store = new SqliteT3Store(p.db);
  const t3 = new T3Service({
    self: { organization: p.organization, name: p.name },
    signer,
    store: t3Store,
    packs,
    anchoring: p.anchoring,
    memberName: async (organization) => (await p.exchange.member(organization))?.name ?? organization,
    deliver: deliverDocument,
    logger: p.logger,
  });
  // A regulator's request for the T3s of a pack: answered here as holder, asked of every handler as requester.
  // Nothing is disclosed, and no answer is taken, whose audit entry is not on disk (503 otherwise).
  const t3Audit: T3Audit = {
    record: (entry) => p.exchange.audit.recordDurably(t3AuditEvent(entry, self, Date.now())),
  };
  const dscsa = dscsaLedger(p.registry, p.mirror.startBlock);
  const disclosure = new T3Disclosure({ store: t3Store, roster: p.exchange.roster, audit: t3Audit });
  p.exchange.addOperation(
    T3_OPERATION,
    t3Operation((from, query) => disclosure.disclose(from, query)),
  );
  const t3Requests = new T3Retrieval({
    self,
    ledger: dscsa,
    ask: t3Asker({
      self: p.exchange.self,
      member: p.exchange.member,
      transport: httpTransport,
      replay: p.exchange.replay,
      timeoutMs: p.exchange.limits.timeoutMs,
      retries: p.exchange.limits.retries,
    }),
    local: t3Store,
    recover: (bytes, signature) => signer.recover(bytes, signature),
    audit: t3Audit,
  });
  const custody = new CustodyService({
    self,
    ledger,
    packs,
    // Checks that decide a write read the chain itself.
    verify: (request) => verification.verify(request, { source: 'chain' }),
    context: {
      organizationOf: (key) => parties.organizationOf(key),
      childrenOf: (key) => containerContents(store, key),
    },
    onTransferred: async (transfer) => {
      try {
        await t3.issue({
          buyer: transfer.to as Hex,
          products: [{ gtin: transfer.gtin, lot: transfer.lot, serials: transfer.serials }],
          shipmentEventId: transfer.eventId,
          shipmentTime: Date.now(),
          chainTransaction: transfer.transactionHash,
        });
      } catch (error) {
        p.logger.error(
          { err: error instanceof Error ? error.message : String(error), lot: transfer.lot },
          'the T3 of a transfer could not be issued',
        );
      }
    },
  });
  /** Receives a T3 from its seller's gateway: the envelope authenticates the seller, the T3 carries its signature. */
  const receiveDocument = async (input: unknown) => {
    const opened = await openEnvelope(input, {
      recipient: {
        address: p.exchange.self.address,
        encryptionPrivateKey: p.exchange.self.encryptionPrivateKey,
      },
      expectedKind: 'request',
      replay: p.exchange.replay,
      acceptSender: async (from) => (await p.exchange.member(from))?.active === true,
    });
    let document: unknown;
    try {
      document = JSON.parse(Buffer.from(opened.body).toString('utf8'));
    } catch {
      throw new InvalidInputError('T3.MALFORMED', 'The delivered document is not JSON.');
    }
    return isReportDelivery(document)
      ? reportDeliveries.receive(document, opened.from)
      : t3.receive(document, opened.from);
  };
  /** Commissioned by a mapped partner (its shared documents): the lot is known here, but not ours to vouch for. */
  const commissionedElsewhere = (event: CapturedEvent) => {
    const site = event.bizLocation ?? event.readPoint;
    const owner = site ? parties.organizationOf(site) : undefined;
    return owner !== undefined && owner.toLowerCase() !== self;
  };
  // Documents are read (parsed, checked, hashed, made canonical) on worker threads when there is a core to spare.
  const readerOptions = {
    maxEvents: p.config.epcis.maxEvents,
    futureToleranceMs: p.config.epcis.futureToleranceMs,
  };
  const readerWorkers = p.config.epcis.readerWorkers;
  const reader =
    readerWorkers > 0
      ? new EpcisReaderPool(readerWorkers, readerOptions, p.logger)
      : epcisDocumentReader(readerOptions);
  if (reader instanceof EpcisReaderPool) p.cleanups.push(() => reader.close());
  const capture = new CaptureService({
    store,
    reader,
    anchoring: p.anchoring,
    beforeStore: (events) => custody.apply(events),
    derive: (events) =>
      packs.recordPacks(
        events.flatMap(({ event }) =>
          commissionedPacks(event).map((pack) =>
            commissionedElsewhere(event) ? { ...pack, origin: 'received' as const } : pack,
          ),
        ),
      ),
  });
  const tracer = new TraceService({
    events: store,
    packs,
    packHistory: ledger.packHistory?.bind(ledger),
    // An event whose batch is not confirmed on chain yet has no proof: 'pending' rather than the spine's 409.
    proofOf: (recordId) => {
      try {
        return p.anchoring.getProof(recordId);
      } catch (error) {
        if (error instanceof CareLedgerError && error.code === 'PROOF.NOT_ANCHORED_YET') return 'pending';
        throw error;
      }
    },
  });
  // Suspect product and notifications (DSCSA): quarantines and investigations on chain, anchored illegitimate-product
  // reports, and a watcher turning the registry's events about lots known here into notifications.
  const suspectLedger = supplySuspectLedger(p.registry, p.publicClient, p.mirror.startBlock);
  const suspectStore = new SqliteSupplySuspectStore(p.db);
  const reportDeliveries = new ReportDeliveries({
    store: suspectStore,
    signer,
    standing: (organization) => p.exchange.roster.standing(organization),
    investigationsIn: (transactionHash) => dscsa.investigationsIn(transactionHash),
    anchoring: p.anchoring,
    memberName: async (organization) => (await p.exchange.member(organization))?.name ?? organization,
    deliver: deliverDocument,
    logger: p.logger,
  });
  const suspect = new SuspectService({
    self,
    signer,
    regulators: () => p.exchange.roster.activeWithRole('REGULATOR'),
    deliverReport: (id) => reportDeliveries.deliverReport(id),
    ledger: { lot: (gtin, lot) => ledger.lot(gtin, lot), ...suspectLedger },
    packs,
    store: suspectStore,
    anchoring: p.anchoring,
  });
  const notificationStore = new SqliteSupplyNotificationStore(p.db);
  const hub = new NotificationHub();
  const watcher = new NotificationWatcher({
    ledger: suspectLedger,
    store: notificationStore,
    hub,
    self,
    regulator: p.config.organization.roles.includes('REGULATOR'),
    pollingIntervalMs: Math.min(1_000, p.config.anchoring.chainCheckIntervalMs),
    logger: p.logger,
  });
  return {
    notifications: watcher,
    mirror,
    /** T3s and illegitimate-product reports whose recipient's gateway has not acknowledged them yet. */
    deliverPendingDocuments: async () =>
      (await t3.deliverPending()) + (await reportDeliveries.deliverPending()),
    epcis: {
      capture,
      store,
      vocabulary: queryVocabulary,
      proof: (recordId: number) => p.anchoring.getProof(recordId),
      maxDocumentBytes: p.config.epcis.maxDocumentBytes,
      trace: { trace: tracer.trace.bind(tracer) },
    },
    supply: {
      commitLot: (gtin: string, lot: string) => commitLot(gtin, lot, { packs, ledger, self: p.organization }),
      recallLot: (gtin: string, lot: string, reason: string) =>
        ledger.recallLot(gtin, lot, toHex(sha256(Buffer.from(reason, 'utf8'))) as `0x${string}`),
      verify: (query: Parameters<VerificationService['verify']>[0]) => verification.verify(query),
      setParty: (party: string, organization: string, name: string) => {
        const kind = parseGs1Identifier(party).kind; // a 400 naming what is wrong with it
        if (kind !== 'sgln' && kind !== 'pgln') {
          throw new InvalidInputError(
            'SUPPLY.NOT_A_PARTY',
            `${party.slice(0, 200)} is a ${kind.toUpperCase()}, not a location or party: give an SGLN (urn:epc:id:sgln:…, /414/…) or a PGLN (urn:epc:id:pgln:…, /417/…).`,
          );
        }
        const key = identifierKey(party);
        parties.setParty({ key, organization: organization as Address, name });
        return { key, organization: organization.toLowerCase(), name };
      },
      parties: () => parties.list(),
      t3: {
        forPack: t3.forPack.bind(t3),
        get: t3.get.bind(t3),
        receive: receiveDocument,
        request: t3Requests.retrieve.bind(t3Requests),
      },
      suspect: {
        quarantine: suspect.quarantine.bind(suspect),
        investigate: suspect.investigate.bind(suspect),
        reports: suspect.reports.bind(suspect),
        report: suspect.report.bind(suspect),
        notifications: {
          list: (page: { limit: number; before?: number | undefined; after?: number | undefined }) =>
            notificationStore.list(page),
          subscribe: hub.subscribe.bind(hub),
        },
      },
    },
    registry: p.registry,
  };
}
