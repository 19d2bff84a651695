import { randomBytes } from 'node:crypto';
/** Bench parameters, each overridable from the environment (e.g. `BENCH_RECORDS=20000 npm run bench`). */
export interface BenchSettings {
  /** Records sent to the node over HTTP (and inserted again into raw SQLite). */
  records: number;
  /** Concurrent `POST /records` requests in flight. */
  concurrency: number;
  /** Smallest and largest record size in bytes. */
  minBytes: number;
  maxBytes: number;
  /** ANCHOR_BATCH_AGE_MS of the node under test (the batch size stays at the node's default, 4,096). */
  batchAgeMs: number;
  /** How long to wait, after the last acknowledgement, for every record to be confirmed on chain. */
  confirmTimeoutMs: number;
  /** Single-record anchor transactions sent for the gas baseline. */
  singleAnchors: number;
  /** Duration of each timed loop of the proof-verification section. */
  verifyMs: number;
  /** Duration of the consent-decision section. */
  consentMs: number;
  /** FHIR section: Patients created first (every Observation references one). */
  fhirPatients: number;
  /** FHIR section: untimed single creates before the timed ones (warm-up). */
  fhirWarmup: number;
  /** FHIR section: timed single creates (`POST /fhir/Observation`). */
  fhirCreates: number;
  /** FHIR section: requests in flight for single creates and for reads. */
  fhirConcurrency: number;
  /** FHIR section: Observations created in transaction Bundles, `fhirBundleSize` per Bundle. */
  fhirBundleResources: number;
  fhirBundleSize: number;
  /** FHIR section: transaction Bundles in flight. */
  fhirBundlesInFlight: number;
  /** FHIR section: `GET /fhir/Observation/{id}` reads (cycling over the created ids). */
  fhirReads: number;
  /**
   * FHIR section: the in-process per-create CPU breakdown times its steps in 4 rounds of this many ms, each followed
   * by half as long of whole writes.
   */
  fhirBreakdownMs: number;
  /** Exchange section: timed cross-gateway `$fetch-external` calls (each followed by the same read from the local store). */
  exchangeFetches: number;
  /** EPCIS section: events captured in the timed run (`POST /epcis/capture`), in documents of `epcisDocumentEvents`. */
  epcisEvents: number;
  epcisDocumentEvents: number;
  /** EPCIS section: untimed events captured first (warm-up), in documents of the same size. */
  epcisWarmupEvents: number;
  /** EPCIS section: capture requests (documents) in flight. */
  epcisDocumentsInFlight: number;
  /** EPCIS section: packs per case (each commissioning and packing event lists this many). */
  epcisPacksPerCase: number;
  /** Product verification: packs of the lot committed on chain and then verified. */
  productLotPacks: number;
  /** Product verification: timed `GET /verify/product` requests (a tenth of them for serials never commissioned). */
  productVerifications: number;
  /** Product verification: requests in flight. */
  productVerifyConcurrency: number;
  /** Product verification: no more requests are sent after this long (the count may then not be reached). */
  productVerifyMaxMs: number;
}

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

export function readSettings(env: NodeJS.ProcessEnv = process.env): BenchSettings {
  const minBytes = int(env, 'BENCH_MIN_BYTES', 256, 1, 1_048_576);
  const maxBytes = int(env, 'BENCH_MAX_BYTES', 1024, minBytes, 1_048_576);
  return {
    records: int(env, 'BENCH_RECORDS', 50_000, 1, 10_000_000),
    concurrency: int(env, 'BENCH_CONCURRENCY', 64, 1, 1024),
    minBytes,
    maxBytes,
    batchAgeMs: int(env, 'BENCH_BATCH_AGE_MS', 1_000, 10, 60_000),
    confirmTimeoutMs: int(env, 'BENCH_CONFIRM_TIMEOUT_MS', 120_000, 1_000, 3_600_000),
    singleAnchors: int(env, 'BENCH_SINGLE_ANCHORS', 50, 1, 10_000),
    verifyMs: int(env, 'BENCH_VERIFY_MS', 2_000, 100, 60_000),
    consentMs: int(env, 'BENCH_CONSENT_MS', 2_000, 100, 60_000),
    fhirPatients: int(env, 'BENCH_FHIR_PATIENTS', 100, 1, 100_000),
    fhirWarmup: int(env, 'BENCH_FHIR_WARMUP', 2_000, 0, 1_000_000),
    fhirCreates: int(env, 'BENCH_FHIR_CREATES', 15_000, 1, 10_000_000),
    fhirConcurrency: int(env, 'BENCH_FHIR_CONCURRENCY', 64, 1, 1024),
    fhirBundleResources: int(env, 'BENCH_FHIR_BUNDLE_RESOURCES', 15_000, 1, 10_000_000),
    fhirBundleSize: int(env, 'BENCH_FHIR_BUNDLE_SIZE', 100, 1, 10_000),
    fhirBundlesInFlight: int(env, 'BENCH_FHIR_BUNDLES_IN_FLIGHT', 4, 1, 256),
    fhirReads: int(env, 'BENCH_FHIR_READS', 40_000, 1, 10_000_000),
    fhirBreakdownMs: int(env, 'BENCH_FHIR_BREAKDOWN_MS', 800, 100, 60_000),
    exchangeFetches: int(env, 'BENCH_EXCHANGE_FETCHES', 20, 1, 10_000),
    epcisEvents: int(env, 'BENCH_EPCIS_EVENTS', 50_000, 1, 10_000_000),
    epcisDocumentEvents: int(env, 'BENCH_EPCIS_DOCUMENT_EVENTS', 100, 1, 10_000),
    epcisWarmupEvents: int(env, 'BENCH_EPCIS_WARMUP_EVENTS', 5_000, 0, 1_000_000),
    epcisDocumentsInFlight: int(env, 'BENCH_EPCIS_IN_FLIGHT', 4, 1, 256),
    epcisPacksPerCase: int(env, 'BENCH_EPCIS_PACKS_PER_CASE', 10, 1, 1_000),
    productLotPacks: int(env, 'BENCH_PRODUCT_LOT_PACKS', 1_000, 1, 100_000),
    productVerifications: int(env, 'BENCH_PRODUCT_VERIFICATIONS', 5_000, 1, 10_000_000),
    productVerifyConcurrency: int(env, 'BENCH_PRODUCT_VERIFY_CONCURRENCY', 4, 1, 1024),
    productVerifyMaxMs: int(env, 'BENCH_PRODUCT_VERIFY_MAX_MS', 30_000, 1_000, 3_600_000),
  };
}

/** The bootstrap API token of the bench's own throwaway node (random per run). */
export const BENCH_TOKEN = `bench-${randomBytes(24).toString('base64url')}`;
