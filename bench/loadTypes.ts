import type { HealthBody } from '../src/gateway/schemas.js';
import type { RecordSet } from './records.js';

/** What the load worker is asked to do. */
export interface LoadJob {
  url: string;
  /** Bearer token for the node's API. */
  token: string;
  concurrency: number;
  records: RecordSet;
  confirmTimeoutMs: number;
  healthPollMs: number;
  /** Stop sending after this many failed requests. */
  maxFailures: number;
}

export interface LoadResult {
  /** Epoch ms (sub-ms resolution) when the first request was sent. */
  startedAt: number;
  /** Epoch ms of the last 201. */
  lastAckAt: number;
  /** Epoch ms at which `/health` first showed every record confirmed; null if it never did in time. */
  confirmedAt: number | null;
  acked: number;
  failed: number;
  /** Up to a few failure descriptions. */
  errors: string[];
  /** Acknowledgement latency of the 201s, ms. */
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  healthPolls: number;
  finalHealth: HealthBody | null;
  /** Event-loop utilisation of the load worker while sending (1 = its thread was always busy). */
  clientEventLoopUtilization: number;
}

export type LoadMessage =
  | { type: 'progress'; acked: number; failed: number }
  | { type: 'acked'; acked: number; failed: number; at: number }
  | { type: 'done'; result: LoadResult }
  | { type: 'error'; message: string };
