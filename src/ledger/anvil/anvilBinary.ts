import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ConfigurationError } from '../../core/errors.js';

const PLATFORM_PACKAGES: Record<string, string | undefined> = {
  'linux-x64': '@foundry-rs/anvil-linux-amd64',
  'linux-arm64': '@foundry-rs/anvil-linux-arm64',
  'darwin-x64': '@foundry-rs/anvil-darwin-amd64',
  'darwin-arm64': '@foundry-rs/anvil-darwin-arm64',
  'win32-x64': '@foundry-rs/anvil-win32-amd64',
};

/**
 * Path of the anvil executable shipped by the `@foundry-rs/anvil` npm package for this platform.
 * We spawn the native binary directly (not the package's `bin.mjs` wrapper) so that signals reach anvil
 * itself: SIGTERM makes anvil dump its state, and a kill test kills the real process.
 */
export function anvilBinaryPath(): string {
  const fromEnv = process.env.ANVIL_BINARY;
  if (fromEnv) return fromEnv;
  const pkg = PLATFORM_PACKAGES[`${process.platform}-${process.arch}`];
  if (!pkg) {
    throw new ConfigurationError(
      'CHAIN.ANVIL_UNSUPPORTED_PLATFORM',
      `The embedded chain has no anvil build for ${process.platform}-${process.arch}; set CHAIN_RPC_URL to an external EVM node instead.`,
    );
  }
  const require = createRequire(import.meta.url);
  let packageJson: string;
  try {
    packageJson = require.resolve(`${pkg}/package.json`);
  } catch (cause) {
    throw new ConfigurationError(
      'CHAIN.ANVIL_MISSING',
      `The anvil binary package ${pkg} is not installed; run "npm ci" (optional dependencies must not be omitted).`,
      { cause },
    );
  }
  const binary = join(dirname(packageJson), 'bin', process.platform === 'win32' ? 'anvil.exe' : 'anvil');
  if (!existsSync(binary)) {
    throw new ConfigurationError(
      'CHAIN.ANVIL_MISSING',
      `The anvil binary is missing at the expected place in ${pkg}.`,
    );
  }
  return binary;
}
