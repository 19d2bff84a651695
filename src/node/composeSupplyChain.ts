import type { Address } from 'viem';
import type { AnchoringService } from '../anchoring/anchoringService.js';
import type { Config } from '../config/config.js';
import { supplyChainLedger } from '../ledger/supplyChainLedger.js';
import { SupplyChainMirror } from '../ledger/supplyChainMirror.js';
import type { MirroredSupplyChainRegistry } from '../ledger/supplyChainMirrorWrites.js';
import { SqliteSupplyChainMirrorStore } from '../store/sqlite/sqliteSupplyChainMirrorStore.js';
import type { SqliteDatabase } from '../store/sqlite/openDatabase.js';
import { SqliteEpcisStore } from '../store/sqlite/sqliteEpcisStore.js';
import { SqliteSupplyStore } from '../store/sqlite/sqliteSupplyStore.js';
import { CaptureService } from '../supply-chain/capture/captureService.js';
import { epcisDocumentReader } from '../supply-chain/capture/epcisDocumentReader.js';
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
  registry: MirroredSupplyChainRegistry;
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
  /** The exchange's sealing identity, member directory and replay guard: T3s travel in the same envelopes. */
  exchange: {
    self: { address: Hex; signingKey: Hex; encryptionPrivateKey: Uint8Array };
    member(organization: Hex): Promise<MemberProfile | null>;
    replay: ReplayGuard;
  };
}) {
  const store = new SqliteEpcisStore(p.db);
  const packs = new SqliteSupplyStore(p.db);
  const ledger = supplyChainLedger(p.registry);
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
  const t3 = new T3Service({
    self: { organization: p.organization, name: p.name },
    signer: organizationSigner(p.chainKey),
    store: new SqliteT3Store(p.db),
    packs,
    anchoring: p.anchoring,
    memberName: async (organization) => (await p.exchange.member(organization))?.name ?? organization,
    deliver: async (buyer, signed) => {
      const member = await p.exchange.member(buyer);
      if (!member?.active) throw new Error(`${buyer} is not an active member`);
      const envelope = await sealEnvelope({
        sender: { address: p.exchange.self.address, signingKey: p.exchange.self.signingKey },
        recipient: { address: member.organization, encryptionPublicKey: member.encryptionPublicKey },
        kind: 'request',
        body: Buffer.from(JSON.stringify(signed), 'utf8'),
      });
      const answer = await httpTransport(
        `${member.gatewayUrl.replace(/\/+$/, '')}/exchange/v1/documents`,
        JSON.stringify(envelope),
        p.config.exchange.timeoutMs,
      );
      if (answer.status !== 201)
        throw new Error(`the buyer's gateway answered HTTP ${answer.status}: ${answer.body.slice(0, 200)}`);
    },
    logger: p.logger,
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
    return t3.receive(document, opened.from);
  };
  /** Commissioned by a mapped partner (its shared documents): the lot is known here, but not ours to vouch for. */
  const commissionedElsewhere = (event: CapturedEvent) => {
    const site = event.bizLocation ?? event.readPoint;
    const owner = site ? parties.organizationOf(site) : undefined;
    return owner !== undefined && owner.toLowerCase() !== self;
  };
  const capture = new CaptureService({
    store,
    reader: epcisDocumentReader({
      maxEvents: p.config.epcis.maxEvents,
      futureToleranceMs: p.config.epcis.futureToleranceMs,
    }),
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
  const suspectLedger = supplySuspectLedger(p.registry, p.publicClient);
  const suspect = new SuspectService({
    self,
    ledger: { lot: (gtin, lot) => ledger.lot(gtin, lot), ...suspectLedger },
    packs,
    store: new SqliteSupplySuspectStore(p.db),
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
    deliverPendingT3: () => t3.deliverPending(),
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
      t3: { forPack: t3.forPack.bind(t3), get: t3.get.bind(t3), receive: receiveDocument },
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
