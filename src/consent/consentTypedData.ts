import {
  keccak256,
  stringToBytes,
  type Address,
  type Hex,
  type LocalAccount,
  type TypedDataDefinition,
} from 'viem';
import { bitFlags } from '../core/bitFlags.js';
import { InvalidInputError } from '../core/errors.js';

/**
 * EIP-712 typed data of the `ConsentRegistry` contract (`contracts/ConsentRegistry.sol`): the domain, the four
 * message types a patient (or their delegate) signs, purposes of use and scope hashes. A patient signs with
 * their own secp256k1 key and any active member gateway relays the signature (`grantWithSig`,
 * `revokeWithSig`, `appointDelegateWithSig`, `removeDelegateWithSig`). Every message carries the signer's
 * next nonce (`nonces(signer)` on chain) and a deadline in UNIX seconds.
 */

/** The EIP-712 domain name and version the contract was deployed with. */
export const CONSENT_DOMAIN_NAME = 'CareLedger ConsentRegistry';
export const CONSENT_DOMAIN_VERSION = '1';

export interface ConsentDomain {
  name: typeof CONSENT_DOMAIN_NAME;
  version: typeof CONSENT_DOMAIN_VERSION;
  chainId: number;
  verifyingContract: Address;
}

/** The EIP-712 domain of the `ConsentRegistry` at `verifyingContract` on chain `chainId`. */
export function consentDomain(chainId: number | bigint, verifyingContract: Address): ConsentDomain {
  return {
    name: CONSENT_DOMAIN_NAME,
    version: CONSENT_DOMAIN_VERSION,
    chainId: Number(chainId),
    verifyingContract,
  };
}

/** The message types, for viem's `signTypedData`, `hashTypedData` and `recoverTypedDataAddress`. */
export const CONSENT_TYPES = {
  Grant: [
    { name: 'patient', type: 'address' },
    { name: 'grantee', type: 'address' },
    { name: 'scopes', type: 'bytes32[]' },
    { name: 'purposes', type: 'uint32' },
    { name: 'validFrom', type: 'uint64' },
    { name: 'validUntil', type: 'uint64' },
    { name: 'dataFrom', type: 'uint64' },
    { name: 'dataUntil', type: 'uint64' },
    { name: 'nonce', type: 'uint256' },
    { name: 'deadline', type: 'uint256' },
  ],
  Revoke: [
    { name: 'consentId', type: 'uint256' },
    { name: 'nonce', type: 'uint256' },
    { name: 'deadline', type: 'uint256' },
  ],
  AppointDelegate: [
    { name: 'patient', type: 'address' },
    { name: 'delegate', type: 'address' },
    { name: 'until', type: 'uint64' },
    { name: 'nonce', type: 'uint256' },
    { name: 'deadline', type: 'uint256' },
  ],
  RemoveDelegate: [
    { name: 'patient', type: 'address' },
    { name: 'delegate', type: 'address' },
    { name: 'nonce', type: 'uint256' },
    { name: 'deadline', type: 'uint256' },
  ],
} as const;

export type ConsentMessageType = keyof typeof CONSENT_TYPES;

/** The code system of the purpose-of-use codes (HL7 v3 ActReason). */
export const PURPOSE_OF_USE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';

/**
 * Purposes of use as the bit flags of the contract's `uint32` purposes mask. Mirrors the `PURPOSE_*`
 * constants of `contracts/ConsentRegistry.sol`; keep the two in step (a unit test compares them).
 */
export const PURPOSES_OF_USE = {
  /** Treatment. */
  TREAT: 1 << 0,
  /** Emergency treatment. */
  ETREAT: 1 << 1,
  /** Healthcare payment. */
  HPAYMT: 1 << 2,
  /** Healthcare research. */
  HRESCH: 1 << 3,
  /** Public health. */
  PUBHLTH: 1 << 4,
  /** Healthcare operations. */
  HOPERAT: 1 << 5,
  /** Patient requested. */
  PATRQT: 1 << 6,
} as const;

export type PurposeOfUse = keyof typeof PURPOSES_OF_USE;

/** Mask of every defined purpose (`ALL_PURPOSES` on chain). */
export const ALL_PURPOSES = 0x7f;

const PURPOSE_FLAGS = bitFlags(
  PURPOSES_OF_USE,
  (code, known) =>
    new InvalidInputError(
      'CONSENT.UNKNOWN_PURPOSE',
      `Unsupported purpose of use ${JSON.stringify(code)}; supported codes of ${PURPOSE_OF_USE_SYSTEM} are ` +
        `${known.join(', ')}.`,
      { details: { code, system: PURPOSE_OF_USE_SYSTEM, supportedCodes: known } },
    ),
);

/** True for a supported purpose-of-use code. */
export const isPurposeOfUse = (code: string): code is PurposeOfUse => PURPOSE_FLAGS.has(code);

/**
 * Combines purpose-of-use codes into the on-chain bitmask. Duplicates are harmless; an empty list gives 0
 * (which the contract rejects). Throws `CONSENT.UNKNOWN_PURPOSE` for a code that is not supported.
 */
export const purposesToMask = (codes: readonly string[]): number => PURPOSE_FLAGS.toMask(codes);

/** The purpose-of-use codes set in `mask`, in flag order; bits that are not defined purposes are ignored. */
export const maskToPurposes = (mask: number): PurposeOfUse[] => PURPOSE_FLAGS.fromMask(mask);

/**
 * The on-chain form of a consent scope: keccak-256 of its UTF-8 bytes. Scope strings are `type:<ResourceType>`
 * (e.g. `type:Observation`), `category:<code>` (e.g. `category:laboratory`) or `resource:<Type>/<id>`
 * (one document); only the hash goes on chain, and a gateway matches data by hashing its candidate scopes.
 */
export function scopeHash(scope: string): Hex {
  return keccak256(stringToBytes(scope));
}

/** The scope covering every resource of a FHIR type, e.g. `type:Observation`. */
export function typeScope(resourceType: string): string {
  return `type:${resourceType}`;
}

/** The scope covering a category code, e.g. `category:laboratory`. */
export function categoryScope(code: string): string {
  return `category:${code}`;
}

/** The scope covering one resource, e.g. `resource:DocumentReference/123`. */
export function resourceScope(resourceType: string, id: string): string {
  return `resource:${resourceType}/${id}`;
}

/**
 * The terms of a consent, exactly as the contract's `ConsentTerms` tuple (so the same object can be passed to
 * `grant`/`grantWithSig`). Times are UNIX seconds; `dataFrom`/`dataUntil` of 0 mean unbounded.
 */
export interface ConsentTerms {
  patient: Address;
  grantee: Address;
  scopes: readonly Hex[];
  purposes: number;
  validFrom: bigint;
  validUntil: bigint;
  dataFrom: bigint;
  dataUntil: bigint;
}

export interface DelegateAppointment {
  patient: Address;
  delegate: Address;
  /** UNIX seconds at which the delegation lapses; 0 = until removed. */
  until: bigint;
}

export interface DelegateRemoval {
  patient: Address;
  delegate: Address;
}

type ConsentTypedData<P extends ConsentMessageType> = TypedDataDefinition<typeof CONSENT_TYPES, P>;

/** The `Grant` typed data for `terms`, signed with the signer's `nonce`, valid until `deadline`. */
export function grantTypedData(
  domain: ConsentDomain,
  terms: ConsentTerms,
  nonce: bigint,
  deadline: bigint,
): ConsentTypedData<'Grant'> {
  return {
    domain,
    types: CONSENT_TYPES,
    primaryType: 'Grant',
    message: {
      patient: terms.patient,
      grantee: terms.grantee,
      scopes: terms.scopes,
      purposes: terms.purposes,
      validFrom: terms.validFrom,
      validUntil: terms.validUntil,
      dataFrom: terms.dataFrom,
      dataUntil: terms.dataUntil,
      nonce,
      deadline,
    },
  };
}

/** The `Revoke` typed data for consent `consentId`. */
export function revokeTypedData(
  domain: ConsentDomain,
  consentId: bigint,
  nonce: bigint,
  deadline: bigint,
): ConsentTypedData<'Revoke'> {
  return { domain, types: CONSENT_TYPES, primaryType: 'Revoke', message: { consentId, nonce, deadline } };
}

/** The `AppointDelegate` typed data; only the patient's signature is accepted. */
export function appointDelegateTypedData(
  domain: ConsentDomain,
  appointment: DelegateAppointment,
  nonce: bigint,
  deadline: bigint,
): ConsentTypedData<'AppointDelegate'> {
  const { patient, delegate, until } = appointment;
  return {
    domain,
    types: CONSENT_TYPES,
    primaryType: 'AppointDelegate',
    message: { patient, delegate, until, nonce, deadline },
  };
}

/** The `RemoveDelegate` typed data; the patient's or the delegate's signature is accepted. */
export function removeDelegateTypedData(
  domain: ConsentDomain,
  removal: DelegateRemoval,
  nonce: bigint,
  deadline: bigint,
): ConsentTypedData<'RemoveDelegate'> {
  const { patient, delegate } = removal;
  return {
    domain,
    types: CONSENT_TYPES,
    primaryType: 'RemoveDelegate',
    message: { patient, delegate, nonce, deadline },
  };
}

/** Signs a `Grant` of `terms` with `account` (the patient or a delegate); `nonce` is `nonces(account)`. */
export function signGrant(
  account: LocalAccount,
  domain: ConsentDomain,
  terms: ConsentTerms,
  nonce: bigint,
  deadline: bigint,
): Promise<Hex> {
  return account.signTypedData(grantTypedData(domain, terms, nonce, deadline));
}

/** Signs a `Revoke` of consent `consentId` with `account` (the patient or a delegate). */
export function signRevoke(
  account: LocalAccount,
  domain: ConsentDomain,
  consentId: bigint,
  nonce: bigint,
  deadline: bigint,
): Promise<Hex> {
  return account.signTypedData(revokeTypedData(domain, consentId, nonce, deadline));
}

/** Signs an `AppointDelegate` with the patient's `account`. */
export function signAppointDelegate(
  account: LocalAccount,
  domain: ConsentDomain,
  appointment: DelegateAppointment,
  nonce: bigint,
  deadline: bigint,
): Promise<Hex> {
  return account.signTypedData(appointDelegateTypedData(domain, appointment, nonce, deadline));
}

/** Signs a `RemoveDelegate` with `account` (the patient or the delegate). */
export function signRemoveDelegate(
  account: LocalAccount,
  domain: ConsentDomain,
  removal: DelegateRemoval,
  nonce: bigint,
  deadline: bigint,
): Promise<Hex> {
  return account.signTypedData(removeDelegateTypedData(domain, removal, nonce, deadline));
}
