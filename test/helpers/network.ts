import { portIsFree } from '../../src/cli/network/processes.js';
import { captureCli } from '../cli/cliOutput.js';
import { freePort } from './testAnvil.js';

/** A base port with the three ports after it free too (anvil, then gateways 1..3), for `network up`. */
export async function freeBasePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = await freePort();
    if (base > 65_000) continue;
    const free = await Promise.all([1, 2, 3].map((k) => portIsFree(base + k)));
    if (free.every(Boolean)) return base;
  }
  throw new Error('no run of four free ports');
}

/** Runs a command function with its console output captured (and dropped); rethrows what it threw. */
export async function quiet<T>(run: () => Promise<T>): Promise<T> {
  let result = { error: new Error('not run') } as { value: T } | { error: unknown };
  await captureCli(async () => {
    try {
      result = { value: await run() };
    } catch (error) {
      result = { error };
    }
    return 0;
  });
  if ('error' in result) throw result.error;
  return result.value;
}
