import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Starts a worker thread on one of our modules, given the URL of its compiled `.js`. From `dist/` that file
 * exists and runs as is. From the sources (tests, `tsx`), only the `.ts` exists, and on Node 20 the main thread's
 * loader hooks do not reach workers, so the worker registers tsx's hooks itself before importing the module.
 */
export function startModuleWorker(compiled: URL, options: WorkerOptions = {}): Worker {
  if (existsSync(fileURLToPath(compiled))) return new Worker(compiled, options);
  const source = new URL(compiled.href.replace(/\.js$/, '.ts'));
  if (!existsSync(fileURLToPath(source))) {
    throw new Error(`worker module not found: neither ${compiled.pathname} nor its .ts source exists`);
  }
  const tsxApi = tsxEsmApi();
  const code = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(source.href)}); });`;
  return new Worker(code, { ...options, eval: true });
}

/** The URL of tsx's ESM API (import.meta.resolve is missing under vitest's module runner, so read the exports). */
function tsxEsmApi(): string {
  const require = createRequire(import.meta.url);
  const manifest = require.resolve('tsx/package.json');
  const exports = (
    require('tsx/package.json') as { exports: Record<string, { import: { default: string } }> }
  ).exports;
  const entry = exports['./esm/api']?.import.default;
  if (!entry) throw new Error('tsx does not export ./esm/api; cannot start a worker from TypeScript sources');
  return pathToFileURL(join(dirname(manifest), entry)).href;
}
