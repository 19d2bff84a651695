import type { Hex } from 'viem';
import type { PrivateKeyAccount } from 'viem/accounts';
import {
  PURPOSES_OF_USE,
  scopeHash,
  signGrant,
  type ConsentDomain,
} from '../src/consent/consentTypedData.js';
import type { ConsentLedger } from '../src/consent/ports.js';

/**
 * The patient signs a TREAT grant to `grantee` for `scopes`, valid for a day, and `ledger` relays it. The signing
 * domain and the patient's nonce are read from the chain unless `known` gives them (a fresh key's nonce is 0).
 */
export async function grantTreat(
  ledger: ConsentLedger,
  patient: PrivateKeyAccount,
  grantee: Hex,
  scopes: string[],
  known: { domain?: ConsentDomain; nonce?: bigint } = {},
): Promise<void> {
  const now = BigInt(Math.floor(Date.now() / 1000));
  const terms = {
    patient: patient.address,
    grantee,
    scopes: scopes.map(scopeHash),
    purposes: PURPOSES_OF_USE.TREAT,
    validFrom: now - 60n,
    validUntil: now + 86_400n,
    dataFrom: 0n,
    dataUntil: 0n,
  };
  const deadline = now + 600n;
  const nonce = known.nonce ?? (await ledger.nonceOf(patient.address));
  const signature = await signGrant(patient, known.domain ?? (await ledger.domain()), terms, nonce, deadline);
  await ledger.relayGrant(terms, patient.address, deadline, signature);
}
