import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../core/errors.js';
import {
  LINK_STATEMENT_MAX_SKEW_MS,
  linkStatementText,
  signedLinkRequest,
  verifyLinkRequest,
} from './patientLink.js';

const patient = privateKeyToAccount(generatePrivateKey());
const other = privateKeyToAccount(generatePrivateKey());
const gateway = { organization: privateKeyToAccount(generatePrivateKey()).address, chainId: 31_337 };
const NOW = Date.UTC(2026, 10, 24, 12, 0, 0);

async function request(
  overrides: {
    signer?: typeof patient;
    organization?: `0x${string}`;
    chainId?: number;
    issuedAt?: Date;
    patientId?: string;
  } = {},
) {
  const issuedAt = overrides.issuedAt ?? new Date(NOW);
  const signature = await (overrides.signer ?? patient).signMessage({
    message: linkStatementText({
      patientId: overrides.patientId ?? 'p-1',
      address: patient.address,
      organization: overrides.organization ?? gateway.organization,
      chainId: overrides.chainId ?? gateway.chainId,
      issuedAt,
    }),
  });
  return { address: patient.address, issuedAt: issuedAt.toISOString(), signature };
}

const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: unknown) => (e instanceof InvalidInputError ? e.code : String(e)),
  );

describe('patient link statements', () => {
  it('is a readable statement naming the Patient, the key, the organisation, the chain and the time', () => {
    const text = linkStatementText({
      patientId: 'p-1',
      address: patient.address,
      organization: gateway.organization,
      chainId: 31_337,
      issuedAt: new Date(NOW),
    });
    expect(text.split('\n')).toEqual([
      'CareLedger: link my key to my health record',
      'Patient: Patient/p-1',
      `Address: ${patient.address}`,
      `Organization: ${gateway.organization}`,
      'Chain: 31337',
      'Issued at: 2026-11-24T12:00:00.000Z',
    ]);
  });

  it('accepts a statement signed by the key it names, for this gateway, now; also with a lower-case address', async () => {
    const good = await request();
    const statement = await verifyLinkRequest('p-1', good, gateway, NOW);
    expect(statement.address).toBe(patient.address);
    await expect(
      verifyLinkRequest('p-1', { ...good, address: patient.address.toLowerCase() }, gateway, NOW + 60_000),
    ).resolves.toMatchObject({ address: patient.address });
  });

  it('signedLinkRequest makes the request the gateway accepts, the same as signing the statement by hand', async () => {
    const link = { patientId: 'p-1', ...gateway, issuedAt: new Date(NOW) };
    const signed = await signedLinkRequest(patient, link);
    expect(signed).toEqual(await request());
    await expect(verifyLinkRequest('p-1', signed, gateway, NOW)).resolves.toMatchObject({
      address: patient.address,
    });
    const now = await signedLinkRequest(patient, { patientId: 'p-1', ...gateway });
    expect(Math.abs(Date.parse(now.issuedAt) - Date.now())).toBeLessThan(60_000);
  });

  it('refuses forged, foreign, replayed-late and malformed statements with a reason', async () => {
    expect(await codeOf(verifyLinkRequest('p-1', await request({ signer: other }), gateway, NOW))).toBe(
      'PATIENT.WRONG_SIGNER',
    );
    expect(
      await codeOf(verifyLinkRequest('p-1', await request({ organization: other.address }), gateway, NOW)),
    ).toBe('PATIENT.WRONG_SIGNER');
    expect(await codeOf(verifyLinkRequest('p-1', await request({ chainId: 1 }), gateway, NOW))).toBe(
      'PATIENT.WRONG_SIGNER',
    );
    expect(await codeOf(verifyLinkRequest('p-2', await request(), gateway, NOW))).toBe(
      'PATIENT.WRONG_SIGNER',
    );
    expect(
      await codeOf(verifyLinkRequest('p-1', await request(), gateway, NOW + LINK_STATEMENT_MAX_SKEW_MS + 1)),
    ).toBe('PATIENT.STALE_STATEMENT');
    const good = await request();
    expect(await codeOf(verifyLinkRequest('p 1', good, gateway, NOW))).toBe('PATIENT.BAD_ID');
    expect(await codeOf(verifyLinkRequest('p-1', { ...good, address: '0x1234' }, gateway, NOW))).toBe(
      'PATIENT.BAD_ADDRESS',
    );
    expect(await codeOf(verifyLinkRequest('p-1', { ...good, issuedAt: 'yesterday' }, gateway, NOW))).toBe(
      'PATIENT.BAD_TIME',
    );
    expect(await codeOf(verifyLinkRequest('p-1', { ...good, signature: '0x1234' }, gateway, NOW))).toBe(
      'PATIENT.BAD_SIGNATURE',
    );
    expect(
      await codeOf(verifyLinkRequest('p-1', { ...good, signature: `0x${'00'.repeat(65)}` }, gateway, NOW)),
    ).toBe('PATIENT.BAD_SIGNATURE');
  });
});
