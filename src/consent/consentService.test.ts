import { getAddress, type Address } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { beforeEach, describe, expect, it } from 'vitest';
import { CareLedgerError, NotFoundError } from '../core/errors.js';
import type { Hex } from '../core/hex.js';
import type { PatientLink } from '../patients/ports.js';
import {
  CONSENT_TYPES,
  consentDomain,
  PURPOSES_OF_USE,
  scopeHash,
  signGrant,
  type ConsentTerms,
} from './consentTypedData.js';
import { ConsentService, parseScope, type GrantInput } from './consentService.js';
import type { ConsentLedger, ConsentRecord } from './ports.js';

// The chain is irrelevant here: these tests are about what the service checks and passes on, so the ledger is a
// fake that records what it was asked. The relaying itself is tested against a real chain in
// test/consent/consentApi.int.test.ts.

const NOW_MS = Date.UTC(2026, 0, 1); // 2026-01-01T00:00:00Z
const NOW = BigInt(NOW_MS / 1000);
const patientKey = privateKeyToAccount(generatePrivateKey());
const PATIENT = patientKey.address;
const GRANTEE = getAddress('0x3333333333333333333333333333333333333333');
const DELEGATE = getAddress('0x2222222222222222222222222222222222222222');
const CONTRACT = getAddress('0x5fbdb2315678afecb367f032d93f642f64180aa3');
const TX: Hex = `0x${'ab'.repeat(32)}`;
const SIGNATURE: Hex = `0x${'11'.repeat(65)}`;

interface Call {
  method: string;
  args: unknown[];
}

function fakeLedger(calls: Call[], consents: ConsentRecord[] = []): ConsentLedger {
  const record =
    (method: string) =>
    (...args: unknown[]) => {
      calls.push({ method, args });
    };
  return {
    contractAddress: () => CONTRACT,
    domain: async () => consentDomain(31337, CONTRACT),
    nonceOf: async (account) => {
      record('nonceOf')(account);
      return 4n;
    },
    relayGrant: async (...args) => {
      record('relayGrant')(...args);
      return { consentId: 9n, transactionHash: TX, blockNumber: 21 };
    },
    relayRevoke: async (...args) => {
      record('relayRevoke')(...args);
      return { transactionHash: TX, blockNumber: 22 };
    },
    relayAppointDelegate: async (...args) => {
      record('relayAppointDelegate')(...args);
      return { transactionHash: TX, blockNumber: 23 };
    },
    relayRemoveDelegate: async (...args) => {
      record('relayRemoveDelegate')(...args);
      return { transactionHash: TX, blockNumber: 24 };
    },
    recordBreakGlass: async () => {
      throw new Error('not used');
    },
    getConsent: async (id) => {
      record('getConsent')(id);
      const found = consents.find((c) => c.id === id);
      if (!found)
        throw new NotFoundError('CONSENT.NOT_FOUND', `No consent with id ${id} is recorded on chain.`);
      return found;
    },
    consentsOf: async (patient) => {
      record('consentsOf')(patient);
      return consents.filter((c) => c.patient === patient);
    },
    isDelegate: async () => false,
    watchConsentEvents: () => {
      throw new Error('not used');
    },
  };
}

const links = new Map<string, Address>([['alice', PATIENT]]);
const patients = {
  get(patientId: string): PatientLink {
    const address = links.get(patientId);
    if (!address) throw new NotFoundError('PATIENT.NOT_LINKED', `Patient/${patientId} has no linked key.`);
    return { patientId, address, linkedAt: 0, statement: '', signature: SIGNATURE };
  },
  patientOf(address: Address): string | undefined {
    for (const [id, a] of links) if (a === address) return id;
    return undefined;
  },
};

function grantInput(
  overrides: Record<string, unknown> = {},
  terms: Record<string, unknown> = {},
): GrantInput {
  return {
    terms: {
      patient: PATIENT,
      grantee: GRANTEE,
      scopes: ['type:Observation', 'category:laboratory'],
      purposes: ['TREAT', 'HPAYMT'],
      validFrom: Number(NOW),
      validUntil: Number(NOW) + 86_400,
      ...terms,
    },
    signer: PATIENT,
    deadline: Number(NOW) + 600,
    signature: SIGNATURE,
    ...overrides,
  } as GrantInput;
}

async function refusal(promise: Promise<unknown>): Promise<CareLedgerError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof CareLedgerError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('ConsentService', () => {
  let calls: Call[];
  let service: ConsentService;
  beforeEach(() => {
    calls = [];
    service = new ConsentService({ ledger: fakeLedger(calls), patients, now: () => NOW_MS });
  });

  it('gives what a client needs to sign: the domain, the types and the nonce from the chain', async () => {
    const info = await service.signingInfo(PATIENT.toLowerCase());
    expect(info).toEqual({
      address: PATIENT,
      domain: {
        name: 'CareLedger ConsentRegistry',
        version: '1',
        chainId: 31337,
        verifyingContract: CONTRACT,
      },
      types: CONSENT_TYPES,
      nonce: 4n,
    });
    expect(calls).toEqual([{ method: 'nonceOf', args: [PATIENT] }]);
    const bad = await refusal(service.signingInfo('0x1234'));
    expect(bad).toMatchObject({ status: 400, code: 'CONSENT.INVALID_ADDRESS' });
    expect(bad.message).toMatch(/address must be a chain address \(0x followed by 40 hex digits\)/);
  });

  it('hashes scope strings, turns purposes into the mask, relays exactly the signed terms, and remembers the scopes', async () => {
    const domain = consentDomain(31337, CONTRACT);
    const terms: ConsentTerms = {
      patient: PATIENT,
      grantee: GRANTEE,
      scopes: [scopeHash('type:Observation'), scopeHash('resource:DocumentReference/doc-1')],
      purposes: PURPOSES_OF_USE.TREAT,
      validFrom: NOW,
      validUntil: NOW + 86_400n,
      dataFrom: NOW - 365n * 86_400n,
      dataUntil: 0n,
    };
    const signature = await signGrant(patientKey, domain, terms, 4n, NOW + 600n);
    const result = await service.grant({
      terms: {
        patient: PATIENT.toLowerCase(),
        grantee: GRANTEE,
        scopes: ['type:Observation', 'resource:DocumentReference/doc-1'],
        purposes: ['TREAT'],
        validFrom: NOW.toString(),
        validUntil: Number(NOW + 86_400n),
        dataFrom: Number(NOW - 365n * 86_400n),
      },
      signer: PATIENT,
      deadline: (NOW + 600n).toString(),
      signature,
    });
    expect(calls).toEqual([{ method: 'relayGrant', args: [terms, PATIENT, NOW + 600n, signature] }]);
    expect(result).toEqual({
      consentId: 9n,
      transactionHash: TX,
      blockNumber: 21,
      patientId: 'alice',
      scopes: [
        { hash: scopeHash('type:Observation'), scope: 'type:Observation' },
        { hash: scopeHash('resource:DocumentReference/doc-1'), scope: 'resource:DocumentReference/doc-1' },
      ],
    });
    expect(service.scopeName(scopeHash('resource:DocumentReference/doc-1'))).toBe(
      'resource:DocumentReference/doc-1',
    );
  });

  it('accepts scope hashes and a purposes mask as they are', async () => {
    const hash = scopeHash('category:some-local-code');
    await service.grant(grantInput({}, { scopes: [hash.toUpperCase().replace('0X', '0x')], purposes: 5 }));
    const terms = calls[0]?.args[0] as ConsentTerms;
    expect(terms.scopes).toEqual([hash]);
    expect(terms.purposes).toBe(PURPOSES_OF_USE.TREAT | PURPOSES_OF_USE.HPAYMT);
    expect(terms).toMatchObject({ dataFrom: 0n, dataUntil: 0n });
    // A hash sent bare stays unnamed until someone sends its string.
    expect(service.scopeName(hash)).toBeUndefined();
  });

  it('always knows the type scopes of supported types and the common categories', () => {
    for (const scope of [
      'type:Observation',
      'type:DocumentReference',
      'category:laboratory',
      'category:vital-signs',
      'category:imaging',
      'category:social-history',
      'category:problem-list-item',
      'category:encounter-diagnosis',
    ]) {
      expect(service.scopeName(scopeHash(scope))).toBe(scope);
    }
    expect(service.scopeName(scopeHash('category:unheard-of'))).toBeUndefined();
  });

  it('forgets the oldest learned scope strings beyond its memory', async () => {
    const small = new ConsentService({
      ledger: fakeLedger(calls),
      patients,
      now: () => NOW_MS,
      memorySize: 2,
    });
    for (const code of ['a', 'b', 'c']) small.rememberScope(`category:${code}`);
    expect(small.scopeName(scopeHash('category:a'))).toBeUndefined();
    expect(small.scopeName(scopeHash('category:c'))).toBe('category:c');
    expect(small.scopeName(scopeHash('type:Observation'))).toBe('type:Observation');
  });

  const invalidGrants: [string, GrantInput, string, RegExp][] = [
    [
      'a body that is no object',
      [] as unknown as GrantInput,
      'CONSENT.INVALID_REQUEST',
      /body must be a JSON object/,
    ],
    [
      'missing terms',
      grantInput({ terms: undefined }),
      'CONSENT.INVALID_REQUEST',
      /terms must be a JSON object/,
    ],
    [
      'a malformed patient',
      grantInput({}, { patient: '0x12' }),
      'CONSENT.INVALID_ADDRESS',
      /terms\.patient must be/,
    ],
    [
      'a bad checksum',
      grantInput({}, { grantee: '0x5fbDB2315678afecb367f032d93F642f64180aa3' }),
      'CONSENT.INVALID_ADDRESS',
      /EIP-55 checksum/,
    ],
    [
      'the zero grantee',
      grantInput({}, { grantee: `0x${'0'.repeat(40)}` }),
      'CONSENT.ZERO_ADDRESS',
      /terms\.grantee is the zero address/,
    ],
    [
      'the patient as grantee',
      grantInput({}, { grantee: PATIENT }),
      'CONSENT.INVALID_GRANTEE',
      /grantee is the patient/,
    ],
    ['no scopes', grantInput({}, { scopes: [] }), 'CONSENT.INVALID_SCOPE_COUNT', /1 to 32 scopes/],
    [
      '33 scopes',
      grantInput({}, { scopes: Array.from({ length: 33 }, () => 'type:Observation') }),
      'CONSENT.INVALID_SCOPE_COUNT',
      /got 33/,
    ],
    [
      'a lower-case type',
      grantInput({}, { scopes: ['type:observation'] }),
      'CONSENT.INVALID_SCOPE',
      /terms\.scopes\[0\] "type:observation" names an unsupported resource type/,
    ],
    [
      'a scope of no known kind',
      grantInput({}, { scopes: ['type:Observation', 'Observation'] }),
      'CONSENT.INVALID_SCOPE',
      /terms\.scopes\[1\] must be a scope string/,
    ],
    [
      'a resource scope without id',
      grantInput({}, { scopes: ['resource:DocumentReference/'] }),
      'CONSENT.INVALID_SCOPE',
      /resource:<ResourceType>\/<id>/,
    ],
    [
      'a short hash',
      grantInput({}, { scopes: ['0x1234'] }),
      'CONSENT.INVALID_SCOPE',
      /must be a scope string/,
    ],
    ['the zero hash', grantInput({}, { scopes: [`0x${'0'.repeat(64)}`] }), 'CONSENT.ZERO_SCOPE', /zero hash/],
    [
      'no purposes',
      grantInput({}, { purposes: [] }),
      'CONSENT.INVALID_PURPOSES',
      /one or more purpose-of-use/,
    ],
    [
      'an unknown purpose',
      grantInput({}, { purposes: ['TREAT', 'SPAM'] }),
      'CONSENT.UNKNOWN_PURPOSE',
      /"SPAM"/,
    ],
    [
      'a mask with unknown bits',
      grantInput({}, { purposes: 0x80 }),
      'CONSENT.INVALID_PURPOSES',
      /bitmask \(1–127\)/,
    ],
    [
      'a negative time',
      grantInput({}, { validUntil: -1 }),
      'CONSENT.INVALID_INTEGER',
      /terms\.validUntil must be UNIX seconds/,
    ],
    ['a fractional time', grantInput({}, { validFrom: 1.5 }), 'CONSENT.INVALID_INTEGER', /terms\.validFrom/],
    [
      'a time beyond uint64',
      grantInput({}, { dataUntil: (1n << 64n).toString() }),
      'CONSENT.INVALID_INTEGER',
      /more than the largest allowed/,
    ],
    [
      'a validity already over',
      grantInput({}, { validFrom: 0, validUntil: Number(NOW) - 1 }),
      'CONSENT.INVALID_VALIDITY',
      /empty or already over/,
    ],
    [
      'an empty validity',
      grantInput({}, { validFrom: Number(NOW) + 100, validUntil: Number(NOW) + 100 }),
      'CONSENT.INVALID_VALIDITY',
      /empty or already over/,
    ],
    [
      'an inverted data range',
      grantInput({}, { dataFrom: Number(NOW), dataUntil: Number(NOW) - 1 }),
      'CONSENT.INVALID_DATA_RANGE',
      /inverted/,
    ],
    [
      'a malformed signer',
      grantInput({ signer: 'alice' }),
      'CONSENT.INVALID_ADDRESS',
      /signer must be a chain address/,
    ],
    [
      'a past deadline',
      grantInput({ deadline: Number(NOW) - 1 }),
      'CONSENT.SIGNATURE_EXPIRED',
      /expired at 2025-12-31T23:59:59.000Z .*sign it again with a later deadline/,
    ],
    [
      'a deadline as a date',
      grantInput({ deadline: '2026-02-01' }),
      'CONSENT.INVALID_INTEGER',
      /deadline must be UNIX seconds/,
    ],
    [
      'a short signature',
      grantInput({ signature: '0x1234' }),
      'CONSENT.INVALID_SIGNATURE_FORMAT',
      /65-byte ECDSA/,
    ],
  ];

  it.each(invalidGrants)(
    'refuses %s with a clear 400 before touching the chain',
    async (_what, input, code, message) => {
      const error = await refusal(service.grant(input));
      expect(error.status).toBe(400);
      expect(error.code).toBe(code);
      expect(error.message).toMatch(message);
      expect(calls).toEqual([]);
    },
  );

  it('relays revocations (by id or chain-<id>) and remembers both transactions for the view', async () => {
    await service.grant(grantInput());
    const revoked = await service.revoke({
      consentId: 'chain-9',
      signer: PATIENT,
      deadline: Number(NOW) + 60,
      signature: SIGNATURE,
    });
    expect(revoked).toEqual({ consentId: 9n, transactionHash: TX, blockNumber: 22 });
    expect(calls[1]).toEqual({ method: 'relayRevoke', args: [9n, PATIENT, NOW + 60n, SIGNATURE] });
    const record = { id: 9n } as ConsentRecord;
    const context = await service.viewContext(record, 'alice');
    expect(context).toMatchObject({
      patientId: 'alice',
      chainId: 31337,
      contract: CONTRACT,
      now: NOW,
      transactions: {
        grant: { transactionHash: TX, blockNumber: 21 },
        revocation: { transactionHash: TX, blockNumber: 22 },
      },
    });
    expect(context.scopeName?.(scopeHash('type:Observation'))).toBe('type:Observation');
  });

  it('refuses malformed revocations before touching the chain', async () => {
    const base = { consentId: 1, signer: PATIENT, deadline: Number(NOW) + 60, signature: SIGNATURE };
    for (const [input, code] of [
      [{ ...base, consentId: 0 }, 'CONSENT.INVALID_INTEGER'],
      [{ ...base, consentId: 'seven' }, 'CONSENT.INVALID_INTEGER'],
      [{ ...base, signer: undefined }, 'CONSENT.INVALID_ADDRESS'],
      [{ ...base, deadline: Number(NOW) - 10 }, 'CONSENT.SIGNATURE_EXPIRED'],
      [{ ...base, signature: 'signed' }, 'CONSENT.INVALID_SIGNATURE_FORMAT'],
    ] as const) {
      expect(await refusal(service.revoke(input as never))).toMatchObject({ status: 400, code });
    }
    expect(calls).toEqual([]);
  });

  it('relays delegate appointments and removals, checking who may sign them', async () => {
    const deadline = Number(NOW) + 60;
    await service.appointDelegate({ patient: PATIENT, delegate: DELEGATE, deadline, signature: SIGNATURE });
    expect(calls[0]).toEqual({
      method: 'relayAppointDelegate',
      args: [{ patient: PATIENT, delegate: DELEGATE, until: 0n }, NOW + 60n, SIGNATURE],
    });
    await service.removeDelegate({
      patient: PATIENT,
      delegate: DELEGATE,
      signer: DELEGATE,
      deadline,
      signature: SIGNATURE,
    });
    expect(calls[1]).toEqual({
      method: 'relayRemoveDelegate',
      args: [{ patient: PATIENT, delegate: DELEGATE }, DELEGATE, NOW + 60n, SIGNATURE],
    });
    calls.length = 0;
    expect(
      await refusal(
        service.appointDelegate({ patient: PATIENT, delegate: PATIENT, deadline, signature: SIGNATURE }),
      ),
    ).toMatchObject({ code: 'CONSENT.INVALID_DELEGATE' });
    expect(
      await refusal(
        service.appointDelegate({
          patient: PATIENT,
          delegate: DELEGATE,
          until: Number(NOW) - 1,
          deadline,
          signature: SIGNATURE,
        }),
      ),
    ).toMatchObject({ code: 'CONSENT.INVALID_DELEGATION_EXPIRY' });
    expect(
      await refusal(
        service.removeDelegate({
          patient: PATIENT,
          delegate: DELEGATE,
          signer: GRANTEE,
          deadline,
          signature: SIGNATURE,
        }),
      ),
    ).toMatchObject({ code: 'CONSENT.INVALID_SIGNER' });
    expect(calls).toEqual([]);
  });

  it("lists the consents of a Patient's linked key, and says clearly when the Patient has none", async () => {
    const consent = { id: 1n, patient: PATIENT } as ConsentRecord;
    const listing = new ConsentService({ ledger: fakeLedger(calls, [consent]), patients, now: () => NOW_MS });
    expect(await listing.consentsOfPatient('alice')).toEqual({
      patientId: 'alice',
      address: PATIENT,
      consents: [consent],
    });
    const missing = await refusal(listing.consentsOfPatient('bob'));
    expect(missing).toMatchObject({ status: 404, code: 'PATIENT.NOT_LINKED' });
    expect(missing.message).toMatch(
      /Patient\/bob has no linked key at this gateway.*careledger patient link/,
    );
    expect(await refusal(listing.consentsOfPatient('no spaces'))).toMatchObject({ status: 400 });
    expect(await listing.consentById('chain-1')).toEqual({ consent, patientId: 'alice' });
    expect(await refusal(listing.consentById('chain-2'))).toMatchObject({
      status: 404,
      code: 'CONSENT.NOT_FOUND',
    });
  });
});

describe('parseScope', () => {
  it('hashes each kind of scope string as the registry expects', () => {
    expect(parseScope('type:Condition')).toEqual({
      hash: scopeHash('type:Condition'),
      scope: 'type:Condition',
    });
    expect(parseScope('category:problem-list-item')).toEqual({
      hash: scopeHash('category:problem-list-item'),
      scope: 'category:problem-list-item',
    });
    expect(parseScope('resource:DocumentReference/abc-1.2')).toEqual({
      hash: scopeHash('resource:DocumentReference/abc-1.2'),
      scope: 'resource:DocumentReference/abc-1.2',
    });
    expect(() => parseScope('category: laboratory')).toThrow(/no valid category code/);
    expect(() => parseScope('resource:Nope/1')).toThrow(/resource:<ResourceType>\/<id>/);
    expect(() => parseScope(42)).toThrow(/must be a scope string/);
  });
});
