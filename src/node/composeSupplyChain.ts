import type { AnchoringService } from '../anchoring/anchoringService.js';
import type { Config } from '../config/config.js';
import type { SqliteDatabase } from '../store/sqlite/openDatabase.js';
import { SqliteEpcisStore } from '../store/sqlite/sqliteEpcisStore.js';
import { CaptureService } from '../supply-chain/capture/captureService.js';
import { epcisDocumentReader } from '../supply-chain/capture/epcisDocumentReader.js';
import { queryVocabulary } from '../supply-chain/capture/queryVocabulary.js';

/**
 * Composes the supply-chain services on the spine: the EPCIS repository (capture, queries, events anchored like
 * any record).
 */
export function composeSupplyChain(p: { config: Config; db: SqliteDatabase; anchoring: AnchoringService }) {
  const store = new SqliteEpcisStore(p.db);
  const capture = new CaptureService({
    store,
    reader: epcisDocumentReader({
      maxEvents: p.config.epcis.maxEvents,
      futureToleranceMs: p.config.epcis.futureToleranceMs,
    }),
    anchoring: p.anchoring,
  });
  return {
    capture,
    store,
    vocabulary: queryVocabulary,
    proof: (recordId: number) => p.anchoring.getProof(recordId),
    maxDocumentBytes: p.config.epcis.maxDocumentBytes,
  };
}
