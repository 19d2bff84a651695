import { Worker } from 'node:worker_threads';

/**
 * Starts a worker thread running a TypeScript module. Under `tsx` the main thread's loader hooks do not reach
 * worker threads on Node 20, so the worker first registers tsx's ESM hooks and then imports the module.
 */
export function startTsWorker(module: URL, workerData: unknown): Worker {
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const code = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(module.href)}); });`;
  return new Worker(code, { eval: true, workerData });
}
