import type { Hex } from 'viem';
import type { PrivateKeyAccount } from 'viem/accounts';
import { signGrant, signRevoke, type ConsentTerms } from '../../src/consent/consentTypedData.js';
import type { ConsentLedger } from '../../src/consent/ports.js';
import { signedLinkRequest } from '../../src/patients/patientLink.js';
import { TEST_TOKEN } from './testToken.js';

/** A node as these helpers need it: its URL, organisation, and the ledger it relays consents through. */
interface ConsentNode {
  url: string;
  organization: Hex;
  consent: { ledger: ConsentLedger };
}

/** The chain id a node reports on `/health`. */
export async function chainIdOf(url: string): Promise<number> {
  const health = (await (await fetch(`${url}/health`)).json()) as { chain: { chainId: number } };
  return health.chain.chainId;
}

/** Links `account` to Patient/`patientId` at the node, as `careledger patient link` does; returns the HTTP status. */
export async function linkPatientKey(
  node: Pick<ConsentNode, 'url' | 'organization'>,
  patientId: string,
  account: PrivateKeyAccount,
  token = TEST_TOKEN,
): Promise<number> {
  const issuedAt = new Date();
  const request = await signedLinkRequest(account, {
    patientId,
    organization: node.organization,
    chainId: await chainIdOf(node.url),
    issuedAt,
  });
  const res = await fetch(`${node.url}/admin/patients/${patientId}/link`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(request),
  });
  return res.status;
}

const nowSeconds = () => BigInt(Math.floor(Date.now() / 1000));

/**
 * The patient signs a grant and the node's relay sends it (what `POST /consent/grants` does). Valid from a minute
 * ago for `validForSeconds`; no data date range unless given.
 */
export async function grantConsent(
  node: ConsentNode,
  patient: PrivateKeyAccount,
  grant: {
    grantee: Hex;
    scopes: Hex[];
    purposes: number;
    validForSeconds?: number;
    dataFrom?: bigint;
    dataUntil?: bigint;
  },
): Promise<bigint> {
  const ledger = node.consent.ledger;
  const now = nowSeconds();
  const terms: ConsentTerms = {
    patient: patient.address,
    grantee: grant.grantee,
    scopes: grant.scopes,
    purposes: grant.purposes,
    validFrom: now - 60n,
    validUntil: now + BigInt(grant.validForSeconds ?? 86_400),
    dataFrom: grant.dataFrom ?? 0n,
    dataUntil: grant.dataUntil ?? 0n,
  };
  const deadline = now + 600n;
  const nonce = await ledger.nonceOf(patient.address);
  const signature = await signGrant(patient, await ledger.domain(), terms, nonce, deadline);
  return (await ledger.relayGrant(terms, patient.address, deadline, signature)).consentId;
}

/** The patient signs a revocation of `consentId` and `ledger` relays it; resolves with the mined block. */
export async function revokeConsent(
  ledger: Pick<ConsentLedger, 'nonceOf' | 'domain' | 'relayRevoke'>,
  patient: PrivateKeyAccount,
  consentId: bigint,
): Promise<{ blockNumber: bigint | number }> {
  const deadline = nowSeconds() + 600n;
  const nonce = await ledger.nonceOf(patient.address);
  const signature = await signRevoke(patient, await ledger.domain(), consentId, nonce, deadline);
  return ledger.relayRevoke(consentId, patient.address, deadline, signature);
}
