/** What the FHIR load worker is asked to do, and what it reports. */
export interface FhirLoadJob {
  url: string;
  /** Bearer token for the node's API. */
  token: string;
  /** Patients created first; every Observation references one of them. */
  patients: number;
  /** Untimed single creates before the timed ones (JIT warm-up of the node's validator and routes). */
  warmup: number;
  /** Timed single creates (`POST /fhir/Observation`), with `concurrency` requests in flight. */
  creates: number;
  concurrency: number;
  /** Resources created in transaction Bundles of `bundleSize`, `bundlesInFlight` Bundles at a time. */
  bundleResources: number;
  bundleSize: number;
  bundlesInFlight: number;
  /** `GET /fhir/Observation/{id}` of created ids, `concurrency` in flight. */
  reads: number;
  /** Wait at most this long, after the creates, for every record to be confirmed on chain (before the reads). */
  confirmTimeoutMs: number;
  /** Stop a phase after this many failed requests. */
  maxFailures: number;
}

/** A reads-only job: `reads` GETs cycling over `paths`, `concurrency` in flight (the consent-enforced reads). */
export interface FhirReadJob {
  url: string;
  token: string;
  paths: string[];
  reads: number;
  concurrency: number;
  maxFailures: number;
  /** Request headers added to every read (e.g. the purpose of use). */
  headers?: Record<string, string>;
}

export type FhirPhase = 'single' | 'bundle' | 'reads';

export interface PhaseResult {
  /** Resources created (or read) with a success status. */
  ok: number;
  /** Requests that failed. */
  failed: number;
  requests: number;
  /** Up to a few failure descriptions. */
  errors: string[];
  /** First request sent until the last success answered. */
  seconds: number;
  perSecond: number;
  /** Latency of the successful requests, ms. */
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  /** Event-loop utilisation of the load worker during the phase. */
  clientEventLoopUtilization: number;
  /** Mean request body size, bytes (0 for reads). */
  meanBodyBytes: number;
}

export interface FhirLoadResult {
  patients: number;
  patientSeconds: number;
  warmup: PhaseResult;
  single: PhaseResult;
  bundle: PhaseResult;
  /** Last create until `/health` showed every record confirmed; null if that did not happen in time. */
  confirmSeconds: number | null;
  reads: PhaseResult;
}

export type FhirLoadMessage =
  | { type: 'log'; line: string }
  | { type: 'phase'; phase: FhirPhase; event: 'start' | 'end' }
  | { type: 'done'; result: FhirLoadResult }
  | { type: 'readsDone'; result: PhaseResult }
  | { type: 'error'; message: string };
