import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { LogController, type FastifyInstance } from 'fastify';
import { pino, type Logger as PinoLogger } from 'pino';
import { createTestClient, http, parseEther, type PublicClient } from 'viem';
import { AnchoringService } from '../anchoring/anchoringService.js';
import type { TokenStore } from '../auth/ports.js';
import type { Config } from '../config/config.js';
import { fromHex, type Hex } from '../core/hex.js';
import type { FhirRepository } from '../records/fhirRepository.js';
import { withTimeout } from '../core/withTimeout.js';
import { buildApp } from '../gateway/app.js';
import type { HealthBody } from '../gateway/schemas.js';
import { loadOrCreateKeys } from '../keys/loadOrCreateKeys.js';
import { organizationEncryptionPublicKey } from '../keys/organizationEncryptionKey.js';
import { EmbeddedAnvil } from '../ledger/anvil/embeddedAnvil.js';
import { createChainClients, fetchChainId, type ChainClients } from '../ledger/chainClients.js';
import {
  ensureDeployment,
  ensureEndpoint,
  missingContracts,
  type Deployment,
  type OrganizationProfile,
} from '../ledger/ensureDeployment.js';
import { rolesToMask } from '../ledger/organizationRoles.js';
import { ViemAnchorChain } from '../ledger/viemAnchorChain.js';
import { ViemConsentRegistry } from '../ledger/viemConsentRegistry.js';
import { ViemRecordLocator } from '../ledger/viemRecordLocator.js';
import { ViemSupplyChainRegistry } from '../ledger/viemSupplyChainRegistry.js';
import type { SupplyChainMirror } from '../ledger/supplyChainMirror.js';
import type { ConsentLedger } from '../consent/ports.js';
import type { RecordLocator } from '../exchange/ports.js';
import type { AccessAuditTrail } from '../audit/accessAuditTrail.js';
import type { ConsentEnforcement } from './consentEnforcement.js';
import { openDatabase } from '../store/sqlite/openDatabase.js';
import { durableAtCommit, WalFsync } from '../store/sqlite/walFsync.js';
import { SqliteAnchorStore } from '../store/sqlite/sqliteAnchorStore.js';
import { SqliteTokenStore } from '../store/sqlite/sqliteTokenStore.js';
import { composeClinicalServices } from './composeClinicalServices.js';
import { composeExchange } from './composeExchange.js';
import { composeSupplyChain } from './composeSupplyChain.js';
import { acquireNodeLock } from './nodeLock.js';

export interface RunningNode {
  app: FastifyInstance;
  /** Base URL the gateway listens on. */
  url: string;
  rpcUrl: string;
  organization: Hex;
  deployment: () => Deployment;
  anchoring: AnchoringService;
  anvil: EmbeddedAnvil | null;
  tokens: TokenStore;
  fhir: FhirRepository;
  /** The anchored access audit trail (every access to a patient's data, as FHIR AuditEvents). */
  audit: AccessAuditTrail;
  /** The consent ledger this node relays through, and how far its consent cache has followed the chain. */
  consent: { ledger: ConsentLedger; lastProcessedBlock(): number };
  /**
   * The on-chain record locator as this organisation, for record exchange: announces and releases its own
   * entries, reads a patient's holders, and follows a redeployment of the embedded chain's contracts.
   */
  recordLocator: RecordLocator;
  /**
   * The on-chain SupplyChainRegistry as this organisation (products, lots, pack custody, dispensing, quarantine,
   * recalls); follows a redeployment of the embedded chain's contracts.
   */
  supplyChainRegistry: ViemSupplyChainRegistry;
  /** The local mirror of the SupplyChainRegistry that product verification reads. */
  supplyChainMirror: SupplyChainMirror;
  logger: PinoLogger;
  stop(): Promise<void>;
}

/**
 * Starts a CareLedger node: takes the data-folder lock, loads or creates keys, starts the embedded anvil (or
 * connects to CHAIN_RPC_URL), opens the store, makes sure the registries are deployed, starts anchoring and
 * the HTTP gateway. Everything started is stopped again if a later step fails.
 */
export async function startNode(
  config: Config,
  logger: PinoLogger = pino({ level: config.logLevel }),
): Promise<RunningNode> {
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const cleanups: (() => Promise<void> | void)[] = [];
  const cleanup = async () => {
    for (const fn of cleanups.reverse()) {
      try {
        await fn();
      } catch (error) {
        logger.error({ err: String(error) }, 'error while stopping');
      }
    }
  };

  try {
    cleanups.push(acquireNodeLock(config.dataDir));
    const keys = loadOrCreateKeys({
      dataDir: config.dataDir,
      chainKey: config.organization.chainKey,
      masterKey: config.organization.masterKey,
    });
    logger.info(
      { chainKey: keys.sources.chainKey, masterKey: keys.sources.masterKey },
      'organisation keys loaded',
    );

    let anvil: EmbeddedAnvil | null = null;
    let anchoringRef: AnchoringService | null = null;
    let onAnvilRestarted = () => anchoringRef?.requestChainCheck();
    let rpcUrl: string;
    let chainId: number;
    if (config.chain.mode === 'embedded') {
      anvil = new EmbeddedAnvil({
        dataDir: config.dataDir,
        port: config.chain.anvilPort,
        chainId: config.chain.chainId,
        stateIntervalSeconds: config.chain.stateIntervalSeconds,
        logger,
        onRestarted: () => onAnvilRestarted(),
      });
      await anvil.start();
      const embedded = anvil;
      cleanups.push(() => embedded.stop());
      rpcUrl = anvil.rpcUrl;
      chainId = config.chain.chainId;
    } else {
      rpcUrl = config.chain.rpcUrl;
      chainId = await fetchChainId(rpcUrl);
    }
    const clients = createChainClients(rpcUrl, chainId, keys.chainKey);
    const organization = clients.account.address;
    if (anvil) await fundOnAnvil(clients, rpcUrl);

    // FULL durability is SQLite's NORMAL plus a group fsync of the WAL off the event loop (see WalFsync).
    const dbFile = join(config.dataDir, 'careledger.db');
    const db = openDatabase(dbFile, {
      synchronous: 'NORMAL',
      walAutocheckpointPages: 8_000,
      cacheKiB: 65_536, // the hot index pages of a busy gateway stay in memory (SQLite's default is 2 MB)
    });
    const durability = config.database.synchronous === 'FULL' ? new WalFsync(dbFile) : durableAtCommit;
    cleanups.push(() => {
      durability.close();
      db.close();
    });
    const store = new SqliteAnchorStore(db, durability);
    const tokens = new SqliteTokenStore(db);
    store.setMeta('organization', organization);

    const profile: OrganizationProfile = {
      name: config.organization.name,
      roles: rolesToMask(config.organization.roles),
      gatewayUrl: config.organization.gatewayUrl,
      encryptionPublicKey: organizationEncryptionPublicKey(keys.masterKey),
    };
    const { organizationRegistry, anchorRegistry, consentRegistry, recordLocator, supplyChainRegistry } =
      config.contracts;
    const configured =
      organizationRegistry && anchorRegistry && consentRegistry && recordLocator && supplyChainRegistry
        ? { organizationRegistry, anchorRegistry, consentRegistry, recordLocator, supplyChainRegistry }
        : undefined;
    let deployment: Deployment = await ensureDeployment({
      clients,
      memory: store,
      organization: profile,
      configured,
      logger,
    });
    const chain = new ViemAnchorChain(clients, deployment.anchorRegistry);
    // Set once consent enforcement starts (below); a redeploy before that has nothing to repoint.
    let enforcementRef: ConsentEnforcement | null = null;
    // Set once exchange is composed (below); links made before that are announced by its start-up reconciliation.
    let exchangeRef: { onLinked(address: Hex): void } | null = null;
    const consentLedger = new ViemConsentRegistry(clients, deployment.consentRegistry, {
      receiptTimeoutMs: config.anchoring.receiptTimeoutMs,
    });
    const locator = new ViemRecordLocator(clients, deployment.recordLocator, {
      receiptTimeoutMs: config.anchoring.receiptTimeoutMs,
    });
    const supplyChain = new ViemSupplyChainRegistry(clients, deployment.supplyChainRegistry, {
      receiptTimeoutMs: config.anchoring.receiptTimeoutMs,
    });
    // Only a node that runs its own chain may redeploy: on a shared chain missing contracts are an operator error.
    // The submitter (AnchorRegistry gone) and an anvil restart (a ConsentRegistry, RecordLocator or
    // SupplyChainRegistry alone gone) may both ask: one at a time, so the second finds the first's deployment
    // instead of deploying again.
    let redeploying: Promise<void> = Promise.resolve();
    const redeploy = (onlyIfAnchorRegistryPresent: boolean): Promise<void> => {
      const run = redeploying.then(async () => {
        if (onlyIfAnchorRegistryPresent) {
          // A missing AnchorRegistry is the submitter's to handle: it redeploys everything and re-anchors.
          const missing = await missingContracts(clients, deployment);
          if (missing.length === 0 || missing.includes('anchorRegistry')) return;
        }
        await fundOnAnvil(clients, rpcUrl);
        deployment = await ensureDeployment({ clients, memory: store, organization: profile, logger });
        chain.useContract(deployment.anchorRegistry);
        consentLedger.useContract(deployment.consentRegistry);
        locator.useContract(deployment.recordLocator);
        supplyChain.useContract(deployment.supplyChainRegistry);
        enforcementRef?.useOrganizationRegistry(deployment.organizationRegistry);
      });
      redeploying = run.catch(() => undefined);
      return run;
    };

    const anchoring = new AnchoringService(store, chain, {
      batchSize: config.anchoring.batchSize,
      batchAgeMs: config.anchoring.batchAgeMs,
      receiptTimeoutMs: config.anchoring.receiptTimeoutMs,
      chainCheckIntervalMs: config.anchoring.chainCheckIntervalMs,
      maxRecordBytes: config.records.maxBytes,
      logger,
      onContractsMissing: anvil ? () => redeploy(false) : undefined,
    });
    anchoringRef = anchoring;
    onAnvilRestarted = () => {
      void fundOnAnvil(clients, rpcUrl).catch(() => undefined);
      anchoring.requestChainCheck();
      // A state dumped before the ConsentRegistry, RecordLocator or SupplyChainRegistry was deployed can lack it
      // while the others remain.
      void redeploy(true).catch((error: unknown) =>
        logger.warn(
          { err: String(error) },
          'could not check or redeploy the ConsentRegistry, RecordLocator and SupplyChainRegistry; will retry on ' +
            'the next restart',
        ),
      );
    };
    anchoring.start();
    cleanups.push(() => anchoring.stop());

    const { fhirRepository, fhirRouter, patients, patientSignIn, consent, audit, enforcement } =
      await composeClinicalServices({
        config,
        logger,
        db,
        masterKey: fromHex(keys.masterKey, 32),
        anchoring,
        tokens,
        clients,
        consentLedger,
        organization,
        chainId,
        organizationRegistry: deployment.organizationRegistry,
        cleanups,
        onPatientLinked: (address) => exchangeRef?.onLinked(address),
      });
    enforcementRef = enforcement;
    const exchange = composeExchange({
      logger,
      db,
      clients,
      rpcUrl,
      keys,
      organization,
      registries: () => deployment,
      locator,
      anchoring,
      fhirRepository,
      patients,
      enforcement,
      audit,
      exchange: config.exchange,
      cleanups,
    });
    exchangeRef = exchange;
    const { newHeads } = config.supplyMirror;
    const { epcis, supply, notifications, mirror, deliverPendingDocuments } = composeSupplyChain({
      config,
      db,
      anchoring,
      organization,
      registry: supplyChain,
      publicClient: clients.publicClient as PublicClient,
      logger,
      name: config.organization.name,
      chainKey: keys.chainKey,
      cleanups,
      exchange: exchange.envelopes,
      mirror: {
        startBlock: () => deployment.deployedAtBlock,
        newHeadsUrl:
          newHeads === 'off' ? null : newHeads === 'auto' ? rpcUrl.replace(/^http/, 'ws') : newHeads,
      },
    });
    // T3s and reports whose recipient's gateway was away are delivered again, now and every half minute.
    const redeliver = () =>
      void deliverPendingDocuments().catch((error: unknown) =>
        logger.warn(
          { err: error instanceof Error ? error.message : String(error) },
          'redelivery of T3s and reports failed',
        ),
      );
    const redelivery = setInterval(redeliver, 30_000);
    redelivery.unref();
    cleanups.push(() => clearInterval(redelivery));
    // Recalls, quarantines, investigations and receipts from the chain become notifications, from this block on.
    await notifications.start();
    cleanups.push(() => notifications.stop());
    // Product verification reads this mirror of the registry once it has caught up (the chain until then).
    mirror.start();
    cleanups.push(() => mirror.stop());

    const health = async (): Promise<HealthBody> => {
      const status = anchoring.status();
      let reachable = false;
      let latestBlock: number | null = null;
      let error: string | undefined;
      try {
        latestBlock = Number(await withTimeout(clients.publicClient.getBlockNumber({ cacheTime: 0 }), 2_000));
        reachable = true;
      } catch (e) {
        error = e instanceof Error ? e.message.split('\n')[0] : String(e);
      }
      return {
        status: reachable ? 'ok' : 'degraded',
        organization: { address: organization, name: config.organization.name },
        chain: {
          mode: config.chain.mode,
          reachable,
          chainId: reachable ? chainId : null,
          latestBlock,
          rpcUrl: anvil ? rpcUrl : null,
          ...(error ? { error } : {}),
        },
        contracts: {
          organizationRegistry: deployment.organizationRegistry,
          anchorRegistry: deployment.anchorRegistry,
          consentRegistry: deployment.consentRegistry,
          recordLocator: deployment.recordLocator,
          supplyChainRegistry: deployment.supplyChainRegistry,
        },
        anchoring: {
          openBatchRecords: status.openBatchRecords,
          pendingRecords: status.pendingRecords,
          batches: {
            open: status.open,
            sealed: status.sealed,
            submitted: status.submitted,
            confirmed: status.confirmed,
          },
          oldestPendingSince:
            status.oldestPendingAt === null ? null : new Date(status.oldestPendingAt).toISOString(),
          lastConfirmed: status.lastConfirmed
            ? {
                sequence: status.lastConfirmed.sequence,
                anchoredAt: new Date(status.lastConfirmed.anchoredAt * 1000).toISOString(),
              }
            : null,
          submitter: {
            state: status.submitter.state,
            lastError: status.submitter.lastError,
            reanchoredBatches: status.submitter.reanchoredBatches,
          },
        },
      };
    };

    const app = await buildApp(
      {
        anchoring,
        health,
        fhir: { router: fhirRouter, repository: fhirRepository, maxBodyBytes: config.fhir.maxBodyBytes },
        auth: { tokens, bootstrapToken: config.auth.bootstrapToken },
        limits: { maxRecordBytes: config.records.maxBytes, maxBatchRecords: config.records.maxBatchRecords },
        patients,
        patientSignIn,
        consent,
        audit,
        exchange,
        epcis,
        supply,
      },
      {
        loggerInstance: logger.child({ component: 'http' }),
        // Per-request logs only when debugging: at thousands of records a second they would drown everything else.
        logController: new LogController({
          disableRequestLogging: config.logLevel !== 'debug' && config.logLevel !== 'trace',
        }),
      },
    );
    cleanups.push(() => app.close());
    await app.listen({ host: config.http.host, port: config.http.port });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.http.port;
    const url = `http://${config.http.host.includes(':') ? `[${config.http.host}]` : config.http.host}:${port}`;
    // Other members reach this gateway at the URL in the registry: keep it (and the encryption key) current. A node
    // on port 0 with no CARELEDGER_GATEWAY_URL knows its URL only now.
    const advertised =
      config.http.port === 0 && config.organization.gatewayUrl === `http://${config.http.host}:0`
        ? url
        : config.organization.gatewayUrl;
    await ensureEndpoint(
      clients,
      deployment.organizationRegistry,
      { gatewayUrl: advertised, encryptionPublicKey: profile.encryptionPublicKey },
      logger,
    ).catch((error: unknown) =>
      logger.warn(
        { err: error instanceof Error ? error.message.split('\n')[0] : String(error) },
        "could not check this organisation's gateway URL in the registry; other members may not reach it",
      ),
    );
    logger.info(
      {
        url,
        chainId,
        rpcUrl: anvil ? rpcUrl : undefined,
        organization,
        anchorRegistry: deployment.anchorRegistry,
        consentRegistry: deployment.consentRegistry,
        recordLocator: deployment.recordLocator,
        supplyChainRegistry: deployment.supplyChainRegistry,
      },
      'CareLedger node started',
    );

    let stopped = false;
    return {
      app,
      url,
      rpcUrl,
      organization,
      deployment: () => deployment,
      anchoring,
      anvil,
      tokens,
      fhir: fhirRepository,
      audit,
      consent: { ledger: enforcement.ledger, lastProcessedBlock: () => enforcement.lastProcessedBlock() },
      recordLocator: locator,
      supplyChainRegistry: supplyChain,
      supplyChainMirror: mirror,
      logger,
      async stop() {
        if (stopped) return;
        stopped = true;
        await cleanup();
      },
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

/** Gives the organisation account ether on the embedded chain, which has no faucet and no other funder. */
async function fundOnAnvil(clients: ChainClients, rpcUrl: string): Promise<void> {
  const balance = await clients.publicClient.getBalance({ address: clients.account.address });
  if (balance >= parseEther('1000')) return;
  const test = createTestClient({ mode: 'anvil', chain: clients.chain, transport: http(rpcUrl) });
  await test.setBalance({ address: clients.account.address, value: parseEther('1000000') });
}
