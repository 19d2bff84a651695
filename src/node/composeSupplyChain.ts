import type { Address } from 'viem';
import type { AnchoringService } from '../anchoring/anchoringService.js';
import type { Config } from '../config/config.js';
import { supplyChainLedger } from '../ledger/supplyChainLedger.js';
import type { ViemSupplyChainRegistry } from '../ledger/viemSupplyChainRegistry.js';
import type { SqliteDatabase } from '../store/sqlite/openDatabase.js';
import { SqliteEpcisStore } from '../store/sqlite/sqliteEpcisStore.js';
import { SqliteSupplyStore } from '../store/sqlite/sqliteSupplyStore.js';
import { CaptureService } from '../supply-chain/capture/captureService.js';
import { epcisDocumentReader } from '../supply-chain/capture/epcisDocumentReader.js';
import { queryVocabulary } from '../supply-chain/capture/queryVocabulary.js';
import { commissionedPacks } from '../supply-chain/custody/commissionedPacks.js';
import { commitLot } from '../supply-chain/custody/lotCommissioning.js';
import { VerificationService } from '../supply-chain/verification/verificationService.js';

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
}) {
  const store = new SqliteEpcisStore(p.db);
  const packs = new SqliteSupplyStore(p.db);
  const ledger = supplyChainLedger(p.registry);
  const capture = new CaptureService({
    store,
    reader: epcisDocumentReader({
      maxEvents: p.config.epcis.maxEvents,
      futureToleranceMs: p.config.epcis.futureToleranceMs,
    }),
    anchoring: p.anchoring,
    derive: (events) => packs.recordPacks(events.flatMap(({ event }) => commissionedPacks(event))),
  });
  const verification = new VerificationService({ ledger, packs });
  return {
    epcis: {
      capture,
      store,
      vocabulary: queryVocabulary,
      proof: (recordId: number) => p.anchoring.getProof(recordId),
      maxDocumentBytes: p.config.epcis.maxDocumentBytes,
    },
    supply: {
      commitLot: (gtin: string, lot: string) => commitLot(gtin, lot, { packs, ledger, self: p.organization }),
      verify: (query: Parameters<VerificationService['verify']>[0]) => verification.verify(query),
    },
    registry: p.registry,
  };
}
