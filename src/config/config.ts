import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { ConfigurationError } from '../core/errors.js';
import { isHex, type Hex } from '../core/hex.js';

/** How the node reaches its chain: an anvil it starts itself, or an external EVM node (e.g. Besu QBFT). */
export type ChainConfig =
  | { mode: 'embedded'; anvilPort: number; chainId: number; stateIntervalSeconds: number }
  | { mode: 'external'; rpcUrl: string };

/** Every setting of a CareLedger node, read once from the environment and validated. */
export interface Config {
  dataDir: string;
  http: { host: string; port: number };
  chain: ChainConfig;
  organization: {
    name: string;
    roles: string[];
    /** Public URL other gateways use to reach this one (published in OrganizationRegistry). */
    gatewayUrl: string;
    /** Chain key from configuration; when absent it is created in the data folder on first start. */
    chainKey: Hex | undefined;
    /** 32-byte master key from configuration; when absent it is created in the data folder on first start. */
    masterKey: Hex | undefined;
  };
  /** Contract addresses to use on an external chain; when absent the node deploys and remembers them. */
  contracts: {
    organizationRegistry: Hex | undefined;
    anchorRegistry: Hex | undefined;
    consentRegistry: Hex | undefined;
    recordLocator: Hex | undefined;
    supplyChainRegistry: Hex | undefined;
  };
  anchoring: {
    /** A batch is sealed once it holds this many records… */
    batchSize: number;
    /** …or once its first record is this old, whichever comes first. */
    batchAgeMs: number;
    /** How long to wait for a receipt before asking the chain whether the transaction was dropped. */
    receiptTimeoutMs: number;
    /** How often the node checks that the chain still holds what it anchored. */
    chainCheckIntervalMs: number;
  };
  records: { maxBytes: number; maxBatchRecords: number };
  /** FHIR API limits: request body, and decoded size of one inline attachment (DocumentReference). */
  fhir: { maxBodyBytes: number; maxAttachmentBytes: number; validationWorkers: number };
  /** A bearer token accepted as admin (for automation and first set-up); tokens are otherwise created by the CLI. */
  auth: { bootstrapToken: string | undefined };
  database: { synchronous: 'FULL' | 'NORMAL' };
  /** Consent enforcement on staff reads of patients' data (on unless switched off for a single-organisation lab). */
  consent: { enforce: boolean };
  /** Asking other gateways: per-attempt deadline and retries (a dead gateway costs at most (1 + retries) × timeout). */
  exchange: { timeoutMs: number; retries: number };
  /** EPCIS capture: largest document, most events per document, how far in the future an event time may be. */
  epcis: {
    maxDocumentBytes: number;
    maxEvents: number;
    futureToleranceMs: number;
    /** Worker threads reading captured documents; 0 reads on the event loop. */
    readerWorkers: number;
  };
  /**
   * The local mirror of the SupplyChainRegistry that product verification reads: how often it polls the chain's
   * head, and where it hears of new blocks at once (`auto`: the RPC URL's host and port over WebSocket; `off`; or a
   * ws(s) URL).
   */
  supplyMirror: { pollingIntervalMs: number; newHeads: string };
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
}

type Env = Record<string, string | undefined>;

/** Reads and validates the configuration; every problem is reported at once, naming the variable. */
export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];

  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = /^\d+$/.test(raw.trim()) ? Number(raw) : Number.NaN; // no hex, exponents or blanks
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
      return fallback;
    }
    return value;
  };
  const hexKey = (name: string): Hex | undefined => {
    const raw = env[name];
    if (raw === undefined || raw === '') return undefined;
    const value = raw.startsWith('0x') ? raw : `0x${raw}`;
    if (!isHex(value, 32)) {
      problems.push(`${name} must be 32 bytes of hex (64 hex digits)`); // never echo key material
      return undefined;
    }
    return value.toLowerCase() as Hex;
  };
  const address = (name: string): Hex | undefined => {
    const raw = env[name];
    if (raw === undefined || raw === '') return undefined;
    if (!isHex(raw, 20)) {
      problems.push(`${name} must be a 0x-prefixed 20-byte address, got "${raw}"`);
      return undefined;
    }
    return raw as Hex;
  };

  const port = int('PORT', 8080, 0, 65_535);
  const host = env.HOST || '127.0.0.1';
  const rpcUrl = env.CHAIN_RPC_URL;
  let chain: ChainConfig;
  if (rpcUrl) {
    if (!/^https?:\/\/\S+$/.test(rpcUrl))
      problems.push(`CHAIN_RPC_URL must be an http(s) URL, got "${rpcUrl}"`);
    chain = { mode: 'external', rpcUrl };
  } else {
    chain = {
      mode: 'embedded',
      anvilPort: int('ANVIL_PORT', 8545, 0, 65_535),
      chainId: int('ANVIL_CHAIN_ID', 31_337, 1, 2 ** 32),
      stateIntervalSeconds: int('ANVIL_STATE_INTERVAL', 1, 1, 3_600),
    };
  }

  const chainKey = hexKey('CARELEDGER_ORG_KEY');
  if (chain.mode === 'external' && !chainKey) {
    problems.push(
      'CHAIN_RPC_URL is set, so CARELEDGER_ORG_KEY (the organisation account key, funded on that chain) is required',
    );
  }

  const roles = (env.CARELEDGER_ORG_ROLES || 'PROVIDER')
    .split(',')
    .map((r) => r.trim().toUpperCase())
    .filter(Boolean);

  const enforcement = (env.CONSENT_ENFORCEMENT || 'on').toLowerCase();
  if (enforcement !== 'on' && enforcement !== 'off') {
    problems.push(`CONSENT_ENFORCEMENT must be on or off, got "${env.CONSENT_ENFORCEMENT}"`);
  }
  const synchronous = (env.SQLITE_SYNCHRONOUS || 'FULL').toUpperCase();
  if (synchronous !== 'FULL' && synchronous !== 'NORMAL') {
    problems.push(`SQLITE_SYNCHRONOUS must be FULL or NORMAL, got "${env.SQLITE_SYNCHRONOUS}"`);
  }
  const newHeads = env.CHAIN_WS_URL || 'auto';
  if (newHeads !== 'auto' && newHeads !== 'off' && !/^wss?:\/\/\S+$/.test(newHeads)) {
    problems.push(`CHAIN_WS_URL must be auto, off or a ws(s):// URL, got "${newHeads}"`);
  }
  const logLevel = (env.LOG_LEVEL || 'info') as Config['logLevel'];
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    problems.push(
      `LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "${logLevel}"`,
    );
  }

  const config: Config = {
    dataDir: resolve(env.CARELEDGER_DATA || './data'),
    http: { host, port },
    chain,
    organization: {
      name: env.CARELEDGER_ORG_NAME || 'CareLedger node',
      roles,
      gatewayUrl: env.CARELEDGER_GATEWAY_URL || `http://${host}:${port}`,
      chainKey,
      masterKey: hexKey('CARELEDGER_MASTER_KEY'),
    },
    contracts: {
      organizationRegistry: address('CARELEDGER_ORG_REGISTRY'),
      anchorRegistry: address('CARELEDGER_ANCHOR_REGISTRY'),
      consentRegistry: address('CARELEDGER_CONSENT_REGISTRY'),
      recordLocator: address('CARELEDGER_RECORD_LOCATOR'),
      supplyChainRegistry: address('CARELEDGER_SUPPLY_CHAIN_REGISTRY'),
    },
    anchoring: {
      batchSize: int('ANCHOR_BATCH_SIZE', 4_096, 1, 1_000_000),
      batchAgeMs: int('ANCHOR_BATCH_AGE_MS', 2_000, 10, 86_400_000),
      receiptTimeoutMs: int('ANCHOR_RECEIPT_TIMEOUT_MS', 30_000, 100, 3_600_000),
      chainCheckIntervalMs: int('CHAIN_CHECK_INTERVAL_MS', 2_000, 50, 3_600_000),
    },
    records: {
      maxBytes: int('RECORD_MAX_BYTES', 1_048_576, 1, 64 * 1_048_576),
      maxBatchRecords: int('RECORD_BATCH_MAX', 1_000, 1, 100_000),
    },
    fhir: {
      maxBodyBytes: int('FHIR_MAX_BODY_BYTES', 33_554_432, 1_024, 1_073_741_824),
      maxAttachmentBytes: int('FHIR_MAX_ATTACHMENT_BYTES', 10_485_760, 1, 536_870_912),
      // One core stays with the event loop (HTTP, commits); validation gets the others, up to 4.
      validationWorkers: int('FHIR_VALIDATION_WORKERS', Math.min(4, availableParallelism() - 1), 0, 64),
    },
    auth: { bootstrapToken: env.CARELEDGER_API_TOKEN || undefined },
    database: { synchronous: synchronous === 'NORMAL' ? 'NORMAL' : 'FULL' },
    consent: { enforce: enforcement !== 'off' },
    exchange: {
      timeoutMs: int('EXCHANGE_TIMEOUT_MS', 10_000, 100, 600_000),
      retries: int('EXCHANGE_RETRIES', 1, 0, 10),
    },
    epcis: {
      maxDocumentBytes: int('EPCIS_MAX_DOCUMENT_BYTES', 33_554_432, 1_024, 1_073_741_824),
      maxEvents: int('EPCIS_MAX_EVENTS', 10_000, 1, 1_000_000),
      futureToleranceMs: int('EPCIS_FUTURE_TOLERANCE_MS', 300_000, 0, 86_400_000),
      readerWorkers: int('EPCIS_READER_WORKERS', Math.min(2, availableParallelism() - 1), 0, 64),
    },
    supplyMirror: { pollingIntervalMs: int('SUPPLY_MIRROR_POLLING_MS', 250, 10, 60_000), newHeads },
    logLevel,
  };
  // Compare what was set, not what parsed: an invalid address is already reported above.
  const contractVariables = [
    'CARELEDGER_ORG_REGISTRY',
    'CARELEDGER_ANCHOR_REGISTRY',
    'CARELEDGER_CONSENT_REGISTRY',
    'CARELEDGER_RECORD_LOCATOR',
    'CARELEDGER_SUPPLY_CHAIN_REGISTRY',
  ];
  const unset = contractVariables.filter((name) => !env[name]);
  if (unset.length > 0 && unset.length < contractVariables.length) {
    const missing =
      unset.length === 1 ? unset.join('') : `${unset.slice(0, -1).join(', ')} and ${unset.at(-1)}`;
    problems.push(
      `CARELEDGER_ORG_REGISTRY, CARELEDGER_ANCHOR_REGISTRY, CARELEDGER_CONSENT_REGISTRY, ` +
        `CARELEDGER_RECORD_LOCATOR and CARELEDGER_SUPPLY_CHAIN_REGISTRY go together: set all five (the ` +
        `consortium's contracts; the founding node logs them and GET /health lists them) or none; ${missing} ` +
        `${unset.length === 1 ? 'is' : 'are'} missing`,
    );
  }
  const bootstrap = env.CARELEDGER_API_TOKEN;
  if (bootstrap && !/^[\x21-\x7e]{32,256}$/.test(bootstrap)) {
    problems.push('CARELEDGER_API_TOKEN must be 32 to 256 printable characters without spaces'); // never echo it
  }
  if (problems.length > 0) {
    throw new ConfigurationError('CONFIG.INVALID', `Invalid configuration:\n- ${problems.join('\n- ')}`, {
      details: { problems },
    });
  }
  return config;
}
