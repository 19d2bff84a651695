import { getAddress, isAddress, recoverMessageAddress, type Address, type Hex } from 'viem';
import { InvalidInputError } from '../core/errors.js';
import { FHIR_ID_RE } from '../records/supportedTypes.js';

/**
 * What a patient signs to link their key (their pseudonymous chain address) to their FHIR Patient at one gateway.
 * A plain-text EIP-191 message, so any wallet shows the patient exactly what they sign. It names the organisation
 * and chain, so a statement made for one gateway cannot be replayed at another, and carries its time, so an old
 * one cannot be replayed later.
 */
export interface LinkStatement {
  patientId: string;
  address: Address;
  organization: Address;
  chainId: number;
  issuedAt: Date;
}

/** How far a statement's time may be from the gateway's clock. */
export const LINK_STATEMENT_MAX_SKEW_MS = 10 * 60_000;

const HEADER = 'CareLedger: link my key to my health record';

export function linkStatementText(s: LinkStatement): string {
  return [
    HEADER,
    `Patient: Patient/${s.patientId}`,
    `Address: ${getAddress(s.address)}`,
    `Organization: ${getAddress(s.organization)}`,
    `Chain: ${s.chainId}`,
    `Issued at: ${s.issuedAt.toISOString()}`,
  ].join('\n');
}

/** A link request as the gateway receives it. */
export interface LinkRequest {
  address: string;
  issuedAt: string;
  signature: string;
}

/** The key that signs a link statement: the patient's account (a viem `PrivateKeyAccount`, say). */
export interface LinkSigner {
  address: Address;
  signMessage(args: { message: string }): Promise<Hex>;
}

/**
 * The body of the gateway's link API (`POST /admin/patients/{patientId}/link`, what `careledger patient link`
 * sends): `account` signs the statement linking its address to Patient/`patientId` at `organization` on
 * `chainId`, issued at `issuedAt` (now unless given).
 */
export async function signedLinkRequest(
  account: LinkSigner,
  link: { patientId: string; organization: Address; chainId: number; issuedAt?: Date },
): Promise<{ address: Address; issuedAt: string; signature: Hex }> {
  const issuedAt = link.issuedAt ?? new Date();
  const signature = await account.signMessage({
    message: linkStatementText({
      patientId: link.patientId,
      address: account.address,
      organization: link.organization,
      chainId: link.chainId,
      issuedAt,
    }),
  });
  return { address: account.address, issuedAt: issuedAt.toISOString(), signature };
}

/**
 * Checks a link request for `patientId` at this gateway: the address is well formed, the time is near now, and
 * the signature over the statement recovers to the address. Returns the statement (with the checksummed address).
 */
export async function verifyLinkRequest(
  patientId: string,
  request: LinkRequest,
  gateway: { organization: Address; chainId: number },
  now: number = Date.now(),
): Promise<LinkStatement> {
  if (!FHIR_ID_RE.test(patientId)) {
    throw new InvalidInputError('PATIENT.BAD_ID', `"${patientId}" is not a FHIR id.`);
  }
  if (!isAddress(request.address, { strict: false })) {
    throw new InvalidInputError(
      'PATIENT.BAD_ADDRESS',
      `"${request.address}" is not a chain address (0x followed by 40 hex digits).`,
    );
  }
  const issuedAt = new Date(request.issuedAt);
  if (Number.isNaN(issuedAt.getTime()) || !/^\d{4}-\d{2}-\d{2}T/.test(request.issuedAt)) {
    throw new InvalidInputError(
      'PATIENT.BAD_TIME',
      `issuedAt must be an ISO 8601 instant, not "${request.issuedAt}".`,
    );
  }
  if (Math.abs(issuedAt.getTime() - now) > LINK_STATEMENT_MAX_SKEW_MS) {
    throw new InvalidInputError(
      'PATIENT.STALE_STATEMENT',
      `The link statement was issued at ${issuedAt.toISOString()}, more than ${LINK_STATEMENT_MAX_SKEW_MS / 60_000} minutes from the gateway's clock (${new Date(now).toISOString()}); sign a fresh one.`,
    );
  }
  if (!/^0x[0-9a-fA-F]{130}$/.test(request.signature)) {
    throw new InvalidInputError(
      'PATIENT.BAD_SIGNATURE',
      'The signature must be 65 bytes as 0x-prefixed hex.',
    );
  }
  const statement: LinkStatement = {
    patientId,
    address: getAddress(request.address),
    organization: gateway.organization,
    chainId: gateway.chainId,
    issuedAt,
  };
  let signer: Address;
  try {
    signer = await recoverMessageAddress({
      message: linkStatementText(statement),
      signature: request.signature as Hex,
    });
  } catch {
    throw new InvalidInputError(
      'PATIENT.BAD_SIGNATURE',
      'The signature cannot be read (not a valid ECDSA signature).',
    );
  }
  if (signer !== statement.address) {
    throw new InvalidInputError(
      'PATIENT.WRONG_SIGNER',
      `The statement is not signed by ${statement.address}: it must be signed with that address's key, for this gateway (organisation ${getAddress(gateway.organization)}, chain ${gateway.chainId}).`,
    );
  }
  return statement;
}
