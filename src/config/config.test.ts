import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { describe, it, expect } from 'vitest';
import { ConfigurationError } from '../core/errors.js';
import { captureError } from '../testing/fixtures.js';
import { loadConfig, type Config } from './config.js';

const KEY = 'c0ffee'.repeat(10) + 'beef'; // 64 hex digits
const OTHER_KEY = '5eed'.repeat(16);
const ADDRESS_A = '0x' + '1a'.repeat(20);
const ADDRESS_B = '0x' + '2b'.repeat(20);
const ADDRESS_C = '0x' + '3C'.repeat(20);
const ADDRESS_D = '0x' + '4d'.repeat(20);
const ADDRESS_E = '0x' + '5e'.repeat(20);

function problemsOf(env: Record<string, string | undefined>): { message: string; problems: string[] } {
  const error = captureError(() => loadConfig(env));
  expect(error).toBeInstanceOf(ConfigurationError);
  expect(error.code).toBe('CONFIG.INVALID');
  expect(error.status).toBe(500);
  const problems = error.details?.problems as string[];
  expect(Array.isArray(problems)).toBe(true);
  return { message: error.message, problems };
}

describe('loadConfig: defaults', () => {
  it('returns the documented defaults for an empty environment (embedded chain)', () => {
    const expected: Config = {
      dataDir: resolve('./data'),
      http: { host: '127.0.0.1', port: 8080 },
      chain: { mode: 'embedded', anvilPort: 8545, chainId: 31_337, stateIntervalSeconds: 1 },
      organization: {
        name: 'CareLedger node',
        roles: ['PROVIDER'],
        gatewayUrl: 'http://127.0.0.1:8080',
        chainKey: undefined,
        masterKey: undefined,
      },
      contracts: {
        organizationRegistry: undefined,
        anchorRegistry: undefined,
        consentRegistry: undefined,
        recordLocator: undefined,
        supplyChainRegistry: undefined,
      },
      anchoring: {
        batchSize: 4_096,
        batchAgeMs: 2_000,
        receiptTimeoutMs: 30_000,
        chainCheckIntervalMs: 2_000,
      },
      records: { maxBytes: 1_048_576, maxBatchRecords: 1_000 },
      fhir: {
        maxBodyBytes: 33_554_432,
        maxAttachmentBytes: 10_485_760,
        validationWorkers: Math.min(4, availableParallelism() - 1),
      },
      auth: { bootstrapToken: undefined },
      database: { synchronous: 'FULL' },
      consent: { enforce: true },
      exchange: { timeoutMs: 10_000, retries: 1 },
      epcis: {
        maxDocumentBytes: 33_554_432,
        maxEvents: 10_000,
        futureToleranceMs: 300_000,
        readerWorkers: Math.min(2, availableParallelism() - 1),
      },
      supplyMirror: { pollingIntervalMs: 250, newHeads: 'auto' },
      logLevel: 'info',
    };
    expect(loadConfig({})).toEqual(expected);
  });

  it('treats empty strings like unset variables', () => {
    const config = loadConfig({ PORT: '', ANCHOR_BATCH_SIZE: '', CARELEDGER_ORG_KEY: '', LOG_LEVEL: '' });
    expect(config.http.port).toBe(8080);
    expect(config.anchoring.batchSize).toBe(4_096);
    expect(config.organization.chainKey).toBeUndefined();
    expect(config.logLevel).toBe('info');
  });

  it('reads every setting it is given', () => {
    const config = loadConfig({
      CARELEDGER_DATA: 'some/where',
      HOST: '0.0.0.0',
      PORT: '9000',
      ANVIL_PORT: '9545',
      ANVIL_CHAIN_ID: '1337',
      ANVIL_STATE_INTERVAL: '30',
      CARELEDGER_ORG_NAME: 'St. Elsewhere',
      CARELEDGER_ORG_ROLES: ' provider, payer ,,regulator',
      CARELEDGER_GATEWAY_URL: 'https://gw.example.org',
      CARELEDGER_MASTER_KEY: `0x${OTHER_KEY}`,
      CARELEDGER_ORG_REGISTRY: ADDRESS_A,
      CARELEDGER_ANCHOR_REGISTRY: ADDRESS_B,
      CARELEDGER_CONSENT_REGISTRY: ADDRESS_C,
      CARELEDGER_RECORD_LOCATOR: ADDRESS_D,
      CARELEDGER_SUPPLY_CHAIN_REGISTRY: ADDRESS_E,
      ANCHOR_BATCH_SIZE: '1',
      ANCHOR_BATCH_AGE_MS: '10',
      ANCHOR_RECEIPT_TIMEOUT_MS: '100',
      CHAIN_CHECK_INTERVAL_MS: '50',
      RECORD_MAX_BYTES: '1',
      RECORD_BATCH_MAX: '100000',
      SQLITE_SYNCHRONOUS: 'normal',
      LOG_LEVEL: 'silent',
      EPCIS_READER_WORKERS: '0',
    });
    expect(config.dataDir).toBe(resolve('some/where'));
    expect(config.epcis.readerWorkers).toBe(0);
    expect(config.http).toEqual({ host: '0.0.0.0', port: 9000 });
    expect(config.chain).toEqual({
      mode: 'embedded',
      anvilPort: 9545,
      chainId: 1337,
      stateIntervalSeconds: 30,
    });
    expect(config.organization).toEqual({
      name: 'St. Elsewhere',
      roles: ['PROVIDER', 'PAYER', 'REGULATOR'],
      gatewayUrl: 'https://gw.example.org',
      chainKey: undefined,
      masterKey: `0x${OTHER_KEY}`,
    });
    expect(config.contracts).toEqual({
      organizationRegistry: ADDRESS_A,
      anchorRegistry: ADDRESS_B,
      consentRegistry: ADDRESS_C,
      recordLocator: ADDRESS_D,
      supplyChainRegistry: ADDRESS_E,
    });
    expect(config.anchoring).toEqual({
      batchSize: 1,
      batchAgeMs: 10,
      receiptTimeoutMs: 100,
      chainCheckIntervalMs: 50,
    });
    expect(config.records).toEqual({ maxBytes: 1, maxBatchRecords: 100_000 });
    expect(config.database).toEqual({ synchronous: 'NORMAL' });
    expect(config.logLevel).toBe('silent');
  });

  it('derives the gateway URL from HOST and PORT when none is given', () => {
    expect(loadConfig({ HOST: '10.0.0.5', PORT: '7000' }).organization.gatewayUrl).toBe(
      'http://10.0.0.5:7000',
    );
  });

  it('accepts keys with or without 0x and stores them lower-case with 0x', () => {
    const config = loadConfig({
      CARELEDGER_ORG_KEY: KEY.toUpperCase(),
      CARELEDGER_MASTER_KEY: `0x${OTHER_KEY.toUpperCase()}`,
    });
    expect(config.organization.chainKey).toBe(`0x${KEY}`);
    expect(config.organization.masterKey).toBe(`0x${OTHER_KEY}`);
  });
});

describe('loadConfig: chain mode', () => {
  it('uses an external chain when CHAIN_RPC_URL is set, with the organisation key', () => {
    const config = loadConfig({ CHAIN_RPC_URL: 'http://besu-1:8545', CARELEDGER_ORG_KEY: `0x${KEY}` });
    expect(config.chain).toEqual({ mode: 'external', rpcUrl: 'http://besu-1:8545' });
    expect(config.organization.chainKey).toBe(`0x${KEY}`);
  });

  it('ignores the ANVIL_* settings (and does not validate them) on an external chain', () => {
    const config = loadConfig({
      CHAIN_RPC_URL: 'https://rpc.example.org/v1',
      CARELEDGER_ORG_KEY: KEY,
      ANVIL_PORT: 'not-a-port',
    });
    expect(config.chain).toEqual({ mode: 'external', rpcUrl: 'https://rpc.example.org/v1' });
  });

  it('requires CARELEDGER_ORG_KEY on an external chain', () => {
    const { message, problems } = problemsOf({ CHAIN_RPC_URL: 'http://besu-1:8545' });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('CARELEDGER_ORG_KEY');
    expect(problems[0]).toContain('CHAIN_RPC_URL');
    expect(message).toContain('CARELEDGER_ORG_KEY');
  });

  it('does not require a key on the embedded chain', () => {
    expect(loadConfig({}).organization.chainKey).toBeUndefined();
  });

  it('rejects an RPC URL that is not http(s)', () => {
    const { problems } = problemsOf({ CHAIN_RPC_URL: 'ws://besu-1:8546', CARELEDGER_ORG_KEY: KEY });
    expect(problems).toEqual(['CHAIN_RPC_URL must be an http(s) URL, got "ws://besu-1:8546"']);
  });
});

describe('loadConfig: invalid values', () => {
  const cases: { name: string; env: Record<string, string>; variable: string }[] = [
    { name: 'PORT=abc', env: { PORT: 'abc' }, variable: 'PORT' },
    { name: 'PORT=65536', env: { PORT: '65536' }, variable: 'PORT' },
    { name: 'PORT=-1', env: { PORT: '-1' }, variable: 'PORT' },
    { name: 'PORT=80.5', env: { PORT: '80.5' }, variable: 'PORT' },
    { name: 'ANCHOR_BATCH_SIZE=0', env: { ANCHOR_BATCH_SIZE: '0' }, variable: 'ANCHOR_BATCH_SIZE' },
    {
      name: 'ANCHOR_BATCH_SIZE=1000001',
      env: { ANCHOR_BATCH_SIZE: '1000001' },
      variable: 'ANCHOR_BATCH_SIZE',
    },
    { name: 'ANCHOR_BATCH_AGE_MS=9', env: { ANCHOR_BATCH_AGE_MS: '9' }, variable: 'ANCHOR_BATCH_AGE_MS' },
    { name: 'ANVIL_CHAIN_ID=0', env: { ANVIL_CHAIN_ID: '0' }, variable: 'ANVIL_CHAIN_ID' },
    { name: 'RECORD_MAX_BYTES=x', env: { RECORD_MAX_BYTES: 'x' }, variable: 'RECORD_MAX_BYTES' },
    {
      name: 'CARELEDGER_ORG_KEY too short',
      env: { CARELEDGER_ORG_KEY: KEY.slice(2) },
      variable: 'CARELEDGER_ORG_KEY',
    },
    {
      name: 'CARELEDGER_ORG_KEY not hex',
      env: { CARELEDGER_ORG_KEY: `0x${'zz'.repeat(32)}` },
      variable: 'CARELEDGER_ORG_KEY',
    },
    {
      name: 'CARELEDGER_MASTER_KEY too long',
      env: { CARELEDGER_MASTER_KEY: `${OTHER_KEY}00` },
      variable: 'CARELEDGER_MASTER_KEY',
    },
    {
      name: 'CARELEDGER_ORG_REGISTRY not an address',
      env: {
        CARELEDGER_ORG_REGISTRY: '0x1234',
        CARELEDGER_ANCHOR_REGISTRY: ADDRESS_B,
        CARELEDGER_CONSENT_REGISTRY: ADDRESS_C,
        CARELEDGER_RECORD_LOCATOR: ADDRESS_D,
        CARELEDGER_SUPPLY_CHAIN_REGISTRY: ADDRESS_E,
      },
      variable: 'CARELEDGER_ORG_REGISTRY',
    },
    {
      name: 'CARELEDGER_ANCHOR_REGISTRY without 0x',
      env: {
        CARELEDGER_ORG_REGISTRY: ADDRESS_A,
        CARELEDGER_ANCHOR_REGISTRY: ADDRESS_B.slice(2),
        CARELEDGER_CONSENT_REGISTRY: ADDRESS_C,
        CARELEDGER_RECORD_LOCATOR: ADDRESS_D,
        CARELEDGER_SUPPLY_CHAIN_REGISTRY: ADDRESS_E,
      },
      variable: 'CARELEDGER_ANCHOR_REGISTRY',
    },
    {
      name: 'CARELEDGER_CONSENT_REGISTRY one byte short',
      env: {
        CARELEDGER_ORG_REGISTRY: ADDRESS_A,
        CARELEDGER_ANCHOR_REGISTRY: ADDRESS_B,
        CARELEDGER_CONSENT_REGISTRY: ADDRESS_C.slice(0, -2),
        CARELEDGER_RECORD_LOCATOR: ADDRESS_D,
        CARELEDGER_SUPPLY_CHAIN_REGISTRY: ADDRESS_E,
      },
      variable: 'CARELEDGER_CONSENT_REGISTRY',
    },
    {
      name: 'CARELEDGER_RECORD_LOCATOR with a non-hex digit',
      env: {
        CARELEDGER_ORG_REGISTRY: ADDRESS_A,
        CARELEDGER_ANCHOR_REGISTRY: ADDRESS_B,
        CARELEDGER_CONSENT_REGISTRY: ADDRESS_C,
        CARELEDGER_RECORD_LOCATOR: ADDRESS_D.slice(0, -1) + 'g',
        CARELEDGER_SUPPLY_CHAIN_REGISTRY: ADDRESS_E,
      },
      variable: 'CARELEDGER_RECORD_LOCATOR',
    },
    {
      name: 'CARELEDGER_SUPPLY_CHAIN_REGISTRY not an address',
      env: {
        CARELEDGER_ORG_REGISTRY: ADDRESS_A,
        CARELEDGER_ANCHOR_REGISTRY: ADDRESS_B,
        CARELEDGER_CONSENT_REGISTRY: ADDRESS_C,
        CARELEDGER_RECORD_LOCATOR: ADDRESS_D,
        CARELEDGER_SUPPLY_CHAIN_REGISTRY: 'SupplyChainRegistry',
      },
      variable: 'CARELEDGER_SUPPLY_CHAIN_REGISTRY',
    },
    { name: 'LOG_LEVEL=verbose', env: { LOG_LEVEL: 'verbose' }, variable: 'LOG_LEVEL' },
    { name: 'LOG_LEVEL=INFO (case matters)', env: { LOG_LEVEL: 'INFO' }, variable: 'LOG_LEVEL' },
    { name: 'SQLITE_SYNCHRONOUS=OFF', env: { SQLITE_SYNCHRONOUS: 'OFF' }, variable: 'SQLITE_SYNCHRONOUS' },
    {
      name: 'SUPPLY_MIRROR_POLLING_MS=5',
      env: { SUPPLY_MIRROR_POLLING_MS: '5' },
      variable: 'SUPPLY_MIRROR_POLLING_MS',
    },
    { name: 'CHAIN_WS_URL=http://x:8546', env: { CHAIN_WS_URL: 'http://x:8546' }, variable: 'CHAIN_WS_URL' },
    {
      name: 'EPCIS_READER_WORKERS=-1',
      env: { EPCIS_READER_WORKERS: '-1' },
      variable: 'EPCIS_READER_WORKERS',
    },
    {
      name: 'EPCIS_READER_WORKERS=two',
      env: { EPCIS_READER_WORKERS: 'two' },
      variable: 'EPCIS_READER_WORKERS',
    },
  ];

  for (const c of cases) {
    it(`${c.name} -> CONFIG.INVALID naming ${c.variable}`, () => {
      const { message, problems } = problemsOf(c.env);
      expect(problems).toHaveLength(1);
      expect(problems[0]?.startsWith(`${c.variable} `)).toBe(true);
      expect(message).toBe(`Invalid configuration:\n- ${problems[0]}`);
    });
  }

  it('gives the exact message for a bad number, echoing the value', () => {
    expect(problemsOf({ PORT: 'abc' }).problems).toEqual([
      'PORT must be a whole number from 0 to 65535, got "abc"',
    ]);
  });

  it('refuses some but not all of the five contract addresses, naming the missing ones', () => {
    const together =
      'CARELEDGER_ORG_REGISTRY, CARELEDGER_ANCHOR_REGISTRY, CARELEDGER_CONSENT_REGISTRY, ' +
      'CARELEDGER_RECORD_LOCATOR and CARELEDGER_SUPPLY_CHAIN_REGISTRY go together: set all five (the ' +
      "consortium's contracts; the founding node logs them and GET /health lists them) or none; ";
    const cases: [Record<string, string>, string][] = [
      [
        { CARELEDGER_ORG_REGISTRY: ADDRESS_A },
        'CARELEDGER_ANCHOR_REGISTRY, CARELEDGER_CONSENT_REGISTRY, CARELEDGER_RECORD_LOCATOR and ' +
          'CARELEDGER_SUPPLY_CHAIN_REGISTRY are',
      ],
      [
        {
          CARELEDGER_ANCHOR_REGISTRY: ADDRESS_B,
          CARELEDGER_RECORD_LOCATOR: ADDRESS_D,
          CARELEDGER_SUPPLY_CHAIN_REGISTRY: ADDRESS_E,
        },
        'CARELEDGER_ORG_REGISTRY and CARELEDGER_CONSENT_REGISTRY are',
      ],
      [
        { CARELEDGER_SUPPLY_CHAIN_REGISTRY: ADDRESS_E },
        'CARELEDGER_ORG_REGISTRY, CARELEDGER_ANCHOR_REGISTRY, CARELEDGER_CONSENT_REGISTRY and ' +
          'CARELEDGER_RECORD_LOCATOR are',
      ],
      // A node configured before the ConsentRegistry existed must be told the last three addresses...
      [
        { CARELEDGER_ORG_REGISTRY: ADDRESS_A, CARELEDGER_ANCHOR_REGISTRY: ADDRESS_B },
        'CARELEDGER_CONSENT_REGISTRY, CARELEDGER_RECORD_LOCATOR and CARELEDGER_SUPPLY_CHAIN_REGISTRY are',
      ],
      // ...one configured before the RecordLocator existed, the last two...
      [
        {
          CARELEDGER_ORG_REGISTRY: ADDRESS_A,
          CARELEDGER_ANCHOR_REGISTRY: ADDRESS_B,
          CARELEDGER_CONSENT_REGISTRY: ADDRESS_C,
        },
        'CARELEDGER_RECORD_LOCATOR and CARELEDGER_SUPPLY_CHAIN_REGISTRY are',
      ],
      // ...and one configured before the SupplyChainRegistry existed, the supply chain's.
      [
        {
          CARELEDGER_ORG_REGISTRY: ADDRESS_A,
          CARELEDGER_ANCHOR_REGISTRY: ADDRESS_B,
          CARELEDGER_CONSENT_REGISTRY: ADDRESS_C,
          CARELEDGER_RECORD_LOCATOR: ADDRESS_D,
        },
        'CARELEDGER_SUPPLY_CHAIN_REGISTRY is',
      ],
    ];
    for (const [env, missing] of cases) {
      expect(problemsOf(env).problems).toEqual([`${together}${missing} missing`]);
    }
  });

  it('reports every problem at once, in a stable order', () => {
    const { message, problems } = problemsOf({
      PORT: 'abc',
      CHAIN_RPC_URL: 'http://besu-1:8545',
      SQLITE_SYNCHRONOUS: 'OFF',
      LOG_LEVEL: 'loud',
      CARELEDGER_MASTER_KEY: '0x1234',
      CARELEDGER_ORG_REGISTRY: 'nope',
      ANCHOR_BATCH_SIZE: '0',
    });
    expect(problems.map((p) => p.split(' ')[0])).toEqual([
      'PORT',
      'CHAIN_RPC_URL', // ...is set, so CARELEDGER_ORG_KEY is required
      'SQLITE_SYNCHRONOUS',
      'LOG_LEVEL',
      'CARELEDGER_MASTER_KEY',
      'CARELEDGER_ORG_REGISTRY',
      'ANCHOR_BATCH_SIZE',
      'CARELEDGER_ORG_REGISTRY,', // ...and the other four contract addresses go together
    ]);
    for (const problem of problems) expect(message).toContain(problem);
  });

  it('never puts key material in the message or the details', () => {
    const secretChain = 'ab12cd34'.repeat(8).slice(0, 63); // one digit short
    const secretMaster = `0x${'9f8e7d6c'.repeat(8)}ff`; // one byte too long
    const error = captureError(() =>
      loadConfig({
        CARELEDGER_ORG_KEY: secretChain,
        CARELEDGER_MASTER_KEY: secretMaster,
        PORT: 'abc',
      }),
    );
    expect(error.code).toBe('CONFIG.INVALID');
    const everything = `${error.message}\n${JSON.stringify(error.details)}`;
    expect(everything).toContain('CARELEDGER_ORG_KEY must be 32 bytes of hex (64 hex digits)');
    expect(everything).toContain('CARELEDGER_MASTER_KEY must be 32 bytes of hex (64 hex digits)');
    for (const secret of [secretChain, secretMaster]) {
      // Not even a fragment of the secret.
      for (let i = 0; i + 8 <= secret.length; i += 4)
        expect(everything).not.toContain(secret.slice(i, i + 8));
    }
  });

  it('does not echo a valid key either when another setting is wrong', () => {
    const error = captureError(() =>
      loadConfig({ CARELEDGER_ORG_KEY: KEY, CARELEDGER_MASTER_KEY: OTHER_KEY, LOG_LEVEL: 'x' }),
    );
    const everything = `${error.message}\n${JSON.stringify(error.details)}`;
    expect(everything).not.toContain(KEY.slice(0, 16));
    expect(everything).not.toContain(OTHER_KEY.slice(0, 16));
  });
});

describe('loadConfig: numbers are plain decimal', () => {
  for (const raw of [' ', '0x50', '1e3', '8080.0', '-1']) {
    it(`refuses PORT=${JSON.stringify(raw)}`, () => {
      expect(() => loadConfig({ PORT: raw })).toThrow(/PORT must be a whole number/);
    });
  }
});

describe('loadConfig: bootstrap API token', () => {
  it('takes a long printable token and refuses a short one without echoing it', () => {
    const token = 'k'.repeat(40);
    expect(loadConfig({ CARELEDGER_API_TOKEN: token }).auth.bootstrapToken).toBe(token);
    let message = '';
    try {
      loadConfig({ CARELEDGER_API_TOKEN: 'short secret' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('CARELEDGER_API_TOKEN must be 32 to 256 printable characters');
    expect(message).not.toContain('short secret');
  });
});

describe('CONSENT_ENFORCEMENT', () => {
  it('is on by default, can be switched off, and refuses anything else', () => {
    expect(loadConfig({}).consent.enforce).toBe(true);
    expect(loadConfig({ CONSENT_ENFORCEMENT: 'OFF' }).consent.enforce).toBe(false);
    expect(() => loadConfig({ CONSENT_ENFORCEMENT: 'maybe' })).toThrow(
      /CONSENT_ENFORCEMENT must be on or off/,
    );
  });
});

describe('supply-chain mirror settings', () => {
  it('reads the polling interval and the new-blocks endpoint, and refuses what it cannot use', () => {
    expect(
      loadConfig({ SUPPLY_MIRROR_POLLING_MS: '1000', CHAIN_WS_URL: 'wss://besu-1:8546' }).supplyMirror,
    ).toEqual({ pollingIntervalMs: 1_000, newHeads: 'wss://besu-1:8546' });
    expect(loadConfig({ CHAIN_WS_URL: 'off' }).supplyMirror.newHeads).toBe('off');
    expect(problemsOf({ CHAIN_WS_URL: 'besu-1:8546' }).problems).toEqual([
      'CHAIN_WS_URL must be auto, off or a ws(s):// URL, got "besu-1:8546"',
    ]);
  });
});
