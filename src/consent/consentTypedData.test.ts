import { readFileSync } from 'node:fs';
import { recoverTypedDataAddress, type Address } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../core/errors.js';
import {
  ALL_PURPOSES,
  CONSENT_TYPES,
  PURPOSES_OF_USE,
  appointDelegateTypedData,
  categoryScope,
  consentDomain,
  grantTypedData,
  maskToPurposes,
  purposesToMask,
  removeDelegateTypedData,
  resourceScope,
  revokeTypedData,
  scopeHash,
  signAppointDelegate,
  signGrant,
  signRemoveDelegate,
  signRevoke,
  typeScope,
  type ConsentTerms,
} from './consentTypedData.js';

const CONTRACT: Address = '0x5FbDB2315678afecb367f032d93F642f64180aa3';
const domain = consentDomain(31337, CONTRACT);
const solidity = readFileSync(new URL('../../contracts/ConsentRegistry.sol', import.meta.url), 'utf8');

describe('purposes of use', () => {
  it('maps codes to a bitmask and back', () => {
    expect(purposesToMask([])).toBe(0);
    expect(purposesToMask(['TREAT'])).toBe(1);
    expect(purposesToMask(['HPAYMT', 'PATRQT', 'HPAYMT'])).toBe(0b100_0100);
    expect(maskToPurposes(0b100_0100)).toEqual(['HPAYMT', 'PATRQT']);
    expect(maskToPurposes(0)).toEqual([]);
    expect(maskToPurposes(0x80 | 0b1000)).toEqual(['HRESCH']);
    const all = Object.keys(PURPOSES_OF_USE);
    expect(all).toEqual(['TREAT', 'ETREAT', 'HPAYMT', 'HRESCH', 'PUBHLTH', 'HOPERAT', 'PATRQT']);
    expect(purposesToMask(all)).toBe(ALL_PURPOSES);
    expect(maskToPurposes(ALL_PURPOSES)).toEqual(all);
    for (const code of all) expect(maskToPurposes(purposesToMask([code]))).toEqual([code]);
  });

  it('rejects an unknown code, naming it and listing the supported ones', () => {
    let error: unknown;
    try {
      purposesToMask(['TREAT', 'treat']);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(InvalidInputError);
    const invalid = error as InvalidInputError;
    expect(invalid.code).toBe('CONSENT.UNKNOWN_PURPOSE');
    expect(invalid.status).toBe(400);
    expect(invalid.message).toContain('"treat"');
    expect(invalid.message).toContain('PUBHLTH');
    expect(invalid.message).toContain('http://terminology.hl7.org/CodeSystem/v3-ActReason');
    expect(() => purposesToMask(['toString'])).toThrow(InvalidInputError);
  });

  it('matches the PURPOSE_* constants of the Solidity contract', () => {
    const onChain: Record<string, number> = {};
    for (const match of solidity.matchAll(/uint32 public constant (\w+) = ([^;]+);/g)) {
      const [, name, value] = match;
      if (name === undefined || value === undefined) continue;
      const shift = /^1 << (\d+)$/.exec(value.trim());
      onChain[name] = shift?.[1] !== undefined ? 1 << Number(shift[1]) : Number(value.trim());
    }
    const { ALL_PURPOSES: allOnChain, ...flags } = onChain;
    expect(flags).toEqual(
      Object.fromEntries(Object.entries(PURPOSES_OF_USE).map(([code, bit]) => [`PURPOSE_${code}`, bit])),
    );
    expect(allOnChain).toBe(ALL_PURPOSES);
  });
});

describe('scopes', () => {
  it('hashes the UTF-8 bytes of a scope string with keccak-256', () => {
    // Known keccak-256 vectors.
    expect(scopeHash('')).toBe('0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470');
    expect(scopeHash('abc')).toBe('0x4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45');
    expect(scopeHash('category:vital-signs')).not.toBe(scopeHash('category:laboratory'));
    expect(scopeHash('type:Observation')).toMatch(/^0x[0-9a-f]{64}$/);
  });

  it('builds the three kinds of scope string', () => {
    expect(typeScope('Observation')).toBe('type:Observation');
    expect(categoryScope('laboratory')).toBe('category:laboratory');
    expect(resourceScope('DocumentReference', 'a1b2')).toBe('resource:DocumentReference/a1b2');
  });
});

describe('typed data', () => {
  it('declares the same message types as the contract type hashes', () => {
    const source = solidity.replace(/"\s*\n\s*"/g, '');
    for (const [name, fields] of Object.entries(CONSENT_TYPES)) {
      const encoded = `${name}(${fields.map((f) => `${f.type} ${f.name}`).join(',')})`;
      expect(source).toContain(`"${encoded}"`);
    }
  });

  it('builds the domain of a deployment', () => {
    expect(consentDomain(31337n, CONTRACT)).toEqual({
      name: 'CareLedger ConsentRegistry',
      version: '1',
      chainId: 31337,
      verifyingContract: CONTRACT,
    });
  });

  it('signs each message so that it recovers to the signer, and only in its own domain', async () => {
    const patient = privateKeyToAccount(generatePrivateKey());
    const delegate = privateKeyToAccount(generatePrivateKey());
    const terms: ConsentTerms = {
      patient: patient.address,
      grantee: '0x1000000000000000000000000000000000000001',
      scopes: [scopeHash('type:Observation'), scopeHash('category:laboratory')],
      purposes: purposesToMask(['TREAT', 'HPAYMT']),
      validFrom: 1_700_000_000n,
      validUntil: 1_800_000_000n,
      dataFrom: 0n,
      dataUntil: 1_750_000_000n,
    };
    const deadline = 1_900_000_000n;

    const grant = await signGrant(delegate, domain, terms, 3n, deadline);
    expect(
      await recoverTypedDataAddress({ ...grantTypedData(domain, terms, 3n, deadline), signature: grant }),
    ).toBe(delegate.address);
    // Another nonce, chain, contract or term gives another digest, so it recovers to someone else.
    for (const typedData of [
      grantTypedData(domain, terms, 4n, deadline),
      grantTypedData(consentDomain(1, CONTRACT), terms, 3n, deadline),
      grantTypedData(consentDomain(31337, patient.address), terms, 3n, deadline),
      grantTypedData(domain, { ...terms, purposes: ALL_PURPOSES }, 3n, deadline),
      grantTypedData(domain, { ...terms, scopes: terms.scopes.slice(1) }, 3n, deadline),
    ]) {
      expect(await recoverTypedDataAddress({ ...typedData, signature: grant })).not.toBe(delegate.address);
    }

    const revoke = await signRevoke(patient, domain, 7n, 0n, deadline);
    expect(
      await recoverTypedDataAddress({ ...revokeTypedData(domain, 7n, 0n, deadline), signature: revoke }),
    ).toBe(patient.address);

    const appointment = { patient: patient.address, delegate: delegate.address, until: 0n };
    const appoint = await signAppointDelegate(patient, domain, appointment, 1n, deadline);
    expect(
      await recoverTypedDataAddress({
        ...appointDelegateTypedData(domain, appointment, 1n, deadline),
        signature: appoint,
      }),
    ).toBe(patient.address);

    const removal = { patient: patient.address, delegate: delegate.address };
    const remove = await signRemoveDelegate(delegate, domain, removal, 0n, deadline);
    expect(
      await recoverTypedDataAddress({
        ...removeDelegateTypedData(domain, removal, 0n, deadline),
        signature: remove,
      }),
    ).toBe(delegate.address);
  });
});
