import { createRequire } from 'node:module';

/** CareLedger's version, from package.json (reported in /health-adjacent places such as the CapabilityStatement). */
export const CARELEDGER_VERSION: string = (
  createRequire(import.meta.url)('../../package.json') as { version: string }
).version;
