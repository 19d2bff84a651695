import { randomBytes } from 'node:crypto';
import { getAddress, isAddress, recoverMessageAddress, type Address, type Hex } from 'viem';
import { InvalidInputError } from '../core/errors.js';
import { createApiToken } from './apiTokens.js';
import { AuthenticationError, ForbiddenError } from './errors.js';
import type { TokenStore } from './ports.js';
import { DEFAULT_SCOPES } from './roles.js';

export interface PatientSignInOptions {
  tokens: TokenStore;
  /** The Patient id linked to an address at this gateway, if any. */
  patientOf: (address: Address) => string | undefined;
  gateway: { organization: Address; chainId: number };
  challengeTtlMs?: number;
  sessionMs?: number;
  /** Challenges kept at most (the oldest go first), so unauthenticated callers cannot fill memory. */
  maxChallenges?: number;
  now?: () => number;
}

interface Challenge {
  address: Address;
  message: string;
  expiresAt: number;
}

/**
 * Patients sign in with their key, not a password: the gateway hands out a one-time challenge naming the
 * address, this organisation, the chain, a random nonce and an expiry; the patient signs it (EIP-191, so any
 * wallet shows what is signed) and gets a short-lived bearer token for their own record (patient/*.read).
 * A challenge works once, before it expires, for the address it names, at this gateway only.
 */
export class PatientSignIn {
  private readonly options: Required<Omit<PatientSignInOptions, 'now'>> & { now: () => number };
  private readonly challenges = new Map<string, Challenge>();

  constructor(options: PatientSignInOptions) {
    this.options = {
      challengeTtlMs: 5 * 60_000,
      sessionMs: 60 * 60_000,
      maxChallenges: 10_000,
      now: Date.now,
      ...options,
    };
  }

  challenge(address: string): { nonce: string; message: string; expiresAt: string } {
    const checked = parseAddress(address);
    const now = this.options.now();
    this.prune(now);
    while (this.challenges.size >= this.options.maxChallenges) {
      const oldest = this.challenges.keys().next().value as string;
      this.challenges.delete(oldest);
    }
    const nonce = randomBytes(16).toString('base64url');
    const expiresAt = now + this.options.challengeTtlMs;
    const { organization, chainId } = this.options.gateway;
    const message = [
      'CareLedger: sign in to read my health record',
      `Address: ${checked}`,
      `Organization: ${getAddress(organization)}`,
      `Chain: ${chainId}`,
      `Nonce: ${nonce}`,
      `Expires at: ${new Date(expiresAt).toISOString()}`,
    ].join('\n');
    this.challenges.set(nonce, { address: checked, message, expiresAt });
    return { nonce, message, expiresAt: new Date(expiresAt).toISOString() };
  }

  async signIn(request: {
    address: string;
    nonce: string;
    signature: string;
  }): Promise<{ token: string; expiresAt: string; patient: string; scope: string }> {
    const address = parseAddress(request.address);
    const now = this.options.now();
    const challenge = this.challenges.get(request.nonce);
    // One use only, whatever happens next.
    this.challenges.delete(request.nonce);
    if (!challenge || challenge.expiresAt <= now || challenge.address !== address) {
      throw new AuthenticationError(
        'AUTH.BAD_CHALLENGE',
        'This sign-in challenge is unknown, used, expired or for another address; ask for a new one.',
      );
    }
    let signer: Address | null = null;
    if (/^0x[0-9a-fA-F]{130}$/.test(request.signature)) {
      signer = await recoverMessageAddress({
        message: challenge.message,
        signature: request.signature as Hex,
      }).catch(() => null);
    }
    if (signer !== address) {
      throw new AuthenticationError(
        'AUTH.BAD_SIGNATURE',
        `The signature is not ${address}'s signature of the challenge message.`,
      );
    }
    const patientId = this.options.patientOf(address);
    if (!patientId) {
      throw new ForbiddenError(
        `No Patient at this gateway is linked to ${address}; ask the organisation to link the key first (careledger patient link).`,
      );
    }
    // Sign-in tokens last an hour: drop the long-expired ones so the table does not grow with every sign-in.
    this.options.tokens.deleteExpired('patient', now - 24 * 60 * 60_000);
    const created = createApiToken(this.options.tokens, {
      name: `patient:${address}`,
      role: 'patient',
      subject: `Patient/${patientId}`,
      chainAddress: address,
      expiresInMs: this.options.sessionMs,
      now,
    });
    return {
      token: created.token,
      expiresAt: new Date(created.expiresAt as number).toISOString(),
      patient: `Patient/${patientId}`,
      scope: DEFAULT_SCOPES.patient,
    };
  }

  /** Challenges share one lifetime, so the Map's insertion order is expiry order: drop from the front. */
  private prune(now: number): void {
    for (const [nonce, c] of this.challenges) {
      if (c.expiresAt > now) return;
      this.challenges.delete(nonce);
    }
  }
}

function parseAddress(address: string): Address {
  if (typeof address !== 'string' || !isAddress(address, { strict: false })) {
    throw new InvalidInputError(
      'AUTH.BAD_ADDRESS',
      `"${String(address)}" is not a chain address (0x + 40 hex digits).`,
    );
  }
  return getAddress(address);
}
