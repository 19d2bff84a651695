import type { Cleanup } from './cleanup.js';
import type {
  CaptureLoadJob,
  CaptureLoadResult,
  SupplyLoadMessage,
  VerifyLoadJob,
  VerifyLoadResult,
} from './supplyLoadWorker.js';
import { startTsWorker } from './tsWorker.js';

/** Runs one job of the supply-chain load worker; `onPhase` marks the start and end of its timed part. */
export function runSupplyWorker(
  job: CaptureLoadJob,
  cleanup: Cleanup,
  log: (line: string) => void,
  onPhase: (event: 'start' | 'end') => void,
): Promise<CaptureLoadResult>;
export function runSupplyWorker(
  job: VerifyLoadJob,
  cleanup: Cleanup,
  log: (line: string) => void,
  onPhase: (event: 'start' | 'end') => void,
): Promise<VerifyLoadResult>;
export function runSupplyWorker(
  job: CaptureLoadJob | VerifyLoadJob,
  cleanup: Cleanup,
  log: (line: string) => void,
  onPhase: (event: 'start' | 'end') => void,
): Promise<CaptureLoadResult | VerifyLoadResult> {
  const worker = startTsWorker(new URL('./supplyLoadWorker.ts', import.meta.url), job);
  cleanup.defer(`stop the ${job.kind} load worker`, () => worker.terminate().then(() => undefined));
  return new Promise((resolve, reject) => {
    worker.on('message', (message: SupplyLoadMessage) => {
      if (message.type === 'log') log(message.line);
      else if (message.type === 'phase') onPhase(message.event);
      else if (message.type === 'done') {
        resolve(message.result);
        void worker.terminate();
      } else if (message.type === 'error')
        reject(new Error(`${job.kind} load worker failed: ${message.message}`));
    });
    worker.on('error', reject);
    worker.on('exit', (code) =>
      reject(new Error(`${job.kind} load worker exited (code ${code}) before reporting`)),
    );
  });
}
