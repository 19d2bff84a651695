import { describe, expect, it } from 'vitest';
import { supplyDemoCommand } from '../../src/cli/supply/supplyDemo.js';
import { captureCli } from './cliOutput.js';

describe('careledger supply demo', () => {
  it('walks a drug from manufacturer to patient and shows each party the counterfeit, clone, diversion and recall', async () => {
    const run = await captureCli(() => supplyDemoCommand({ json: true }));
    expect(run.code, run.stderr).toBe(0);
    const steps = run.stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { party: string; what: string });
    const said = (party: string, pattern: RegExp) =>
      steps.some((s) => s.party === party && pattern.test(s.what));
    expect(said('manufacturer', /committed the lot on chain/)).toBe(true);
    expect(said('wholesaler', /pack 2 on receipt: verified/)).toBe(true);
    expect(said('pharmacy', /pack 1 before dispensing: verified/)).toBe(true);
    expect(said('pharmacy', /dispensed pack 1 to a patient \(recorded on chain\)/)).toBe(true);
    expect(said('pharmacy', /serial 9999 .*UNKNOWN_SERIAL/)).toBe(true);
    expect(said('pharmacy', /second pack labelled serial 1 .*refused \(409\).*clone/)).toBe(true);
    expect(said('wholesaler', /pack 1, checked by the wholesaler: NOT verified: ALREADY_DISPENSED/)).toBe(
      true,
    );
    expect(said('pharmacy', /pack 5 offered as the wholesaler's: NOT verified: WRONG_OWNER/)).toBe(true);
    expect(said('pharmacy', /after the recall: NOT verified: RECALLED/)).toBe(true);
    expect(said('pharmacy', /dispensing pack 2 after the recall: refused \(409\): SUPPLY.RECALLED/)).toBe(
      true,
    );
  }, 120_000);
});
