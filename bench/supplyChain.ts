/**
 * The supply-chain sections (rows 10 and 11) on one manufacturer's node: EPCIS capture, then product verification
 * of a lot committed on chain; with the node stopped, the capture's baseline (raw SQLite inserts of the same rows,
 * and the capture logic in-process).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBenchNode } from './benchNode.js';
import type { Cleanup } from './cleanup.js';
import { epcisBaseline, runEpcisCapture, type EpcisCaptureResult } from './epcisCapture.js';
import { runProductVerification, type ProductVerificationResult } from './productVerification.js';
import type { BenchSettings } from './settings.js';

export interface SupplyChainResult {
  capture: EpcisCaptureResult | null;
  verification: ProductVerificationResult | null;
  problems: string[];
}

const message = (error: unknown) =>
  error instanceof Error ? (error.message.split('\n')[0] ?? error.name) : String(error);

export async function runSupplyChain(
  settings: BenchSettings,
  cleanup: Cleanup,
  log: (line: string) => void,
): Promise<SupplyChainResult> {
  const problems: string[] = [];
  const bench = await startBenchNode(settings.batchAgeMs, cleanup, log, {
    CARELEDGER_ORG_ROLES: 'MANUFACTURER',
  });
  let capture: EpcisCaptureResult | null = null;
  let job: Awaited<ReturnType<typeof runEpcisCapture>>['job'] | null = null;
  try {
    ({ result: capture, job } = await runEpcisCapture(settings, bench, cleanup, log));
    problems.push(...capture.problems);
  } catch (error) {
    cleanup.throwIfAborted();
    problems.push(`EPCIS capture section failed: ${message(error)}`);
    console.error(error);
  }
  cleanup.throwIfAborted();

  let verification: ProductVerificationResult | null = null;
  try {
    verification = await runProductVerification(settings, bench, cleanup, log);
    problems.push(...verification.problems);
  } catch (error) {
    cleanup.throwIfAborted();
    problems.push(`product verification section failed: ${message(error)}`);
    console.error(error);
  }
  log('stopping the node…');
  await bench.stop();
  cleanup.throwIfAborted();

  if (capture && job) {
    try {
      const dir = mkdtempSync(join(tmpdir(), 'careledger-bench-epcis-'));
      cleanup.defer('remove the EPCIS baseline folder', () => rmSync(dir, { recursive: true, force: true }));
      log(
        'EPCIS baseline: the same documents through the capture logic in-process, then their rows into raw SQLite…',
      );
      capture.baseline = await epcisBaseline(job, dir);
    } catch (error) {
      problems.push(`EPCIS baseline failed: ${message(error)}`);
      console.error(error);
    }
  }
  return { capture, verification, problems };
}
