import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../store/sqlite/openDatabase.js';
import { SqliteTokenStore } from '../store/sqlite/sqliteTokenStore.js';
import { authenticate } from './apiTokens.js';
import { PatientSignIn } from './patientSignIn.js';

const alice = privateKeyToAccount(generatePrivateKey());
const mallory = privateKeyToAccount(generatePrivateKey());
const gateway = { organization: privateKeyToAccount(generatePrivateKey()).address, chainId: 31_337 };

function setup(maxChallenges = 10) {
  let now = 1_800_000_000_000;
  const tokens = new SqliteTokenStore(openDatabase(':memory:'));
  const signIn = new PatientSignIn({
    tokens,
    patientOf: (address) => (address === alice.address ? 'alice' : undefined),
    gateway,
    maxChallenges,
    now: () => now,
  });
  return { tokens, signIn, advance: (ms: number) => (now += ms), now: () => now };
}

const failure = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: { code?: string; status?: number }) => `${e.status} ${e.code}`,
  );

describe('patient sign-in with a signed challenge', () => {
  it('gives a short-lived patient token for the linked Patient; the challenge works once', async () => {
    const { tokens, signIn, now } = setup();
    const c = signIn.challenge(alice.address.toLowerCase());
    expect(c.message).toContain(`Address: ${alice.address}`);
    expect(c.message).toContain(`Organization: ${gateway.organization}`);
    const signature = await alice.signMessage({ message: c.message });
    const session = await signIn.signIn({ address: alice.address, nonce: c.nonce, signature });
    expect(session).toMatchObject({ patient: 'Patient/alice', scope: 'patient/*.read' });
    expect(Date.parse(session.expiresAt) - now()).toBe(60 * 60_000);
    const principal = authenticate(tokens, `Bearer ${session.token}`, undefined, now());
    expect(principal).toMatchObject({
      role: 'patient',
      subject: 'Patient/alice',
      chainAddress: alice.address,
    });
    expect(await failure(signIn.signIn({ address: alice.address, nonce: c.nonce, signature }))).toBe(
      '401 AUTH.BAD_CHALLENGE',
    );
  });

  it('refuses a forged signature, another address, an expired challenge and an unlinked key', async () => {
    const { signIn, advance } = setup();
    const c1 = signIn.challenge(alice.address);
    const forged = await mallory.signMessage({ message: c1.message });
    expect(await failure(signIn.signIn({ address: alice.address, nonce: c1.nonce, signature: forged }))).toBe(
      '401 AUTH.BAD_SIGNATURE',
    );
    const c2 = signIn.challenge(alice.address);
    const sig2 = await alice.signMessage({ message: c2.message });
    expect(await failure(signIn.signIn({ address: mallory.address, nonce: c2.nonce, signature: sig2 }))).toBe(
      '401 AUTH.BAD_CHALLENGE',
    );
    const c3 = signIn.challenge(alice.address);
    const sig3 = await alice.signMessage({ message: c3.message });
    advance(5 * 60_000);
    expect(await failure(signIn.signIn({ address: alice.address, nonce: c3.nonce, signature: sig3 }))).toBe(
      '401 AUTH.BAD_CHALLENGE',
    );
    const c4 = signIn.challenge(mallory.address);
    const sig4 = await mallory.signMessage({ message: c4.message });
    expect(await failure(signIn.signIn({ address: mallory.address, nonce: c4.nonce, signature: sig4 }))).toBe(
      '403 AUTH.FORBIDDEN',
    );
    expect(() => signIn.challenge('0x12')).toThrow(/not a chain address/);
  });

  it('keeps a bounded number of outstanding challenges, dropping the oldest', async () => {
    const { signIn } = setup(3);
    const first = signIn.challenge(alice.address);
    for (let i = 0; i < 3; i++) signIn.challenge(alice.address);
    const signature = await alice.signMessage({ message: first.message });
    expect(await failure(signIn.signIn({ address: alice.address, nonce: first.nonce, signature }))).toBe(
      '401 AUTH.BAD_CHALLENGE',
    );
  });

  it('drops patient sign-in tokens that expired more than a day ago, and only those', async () => {
    const { tokens, signIn, advance } = setup();
    const signInOnce = async () => {
      const c = signIn.challenge(alice.address);
      return signIn.signIn({
        address: alice.address,
        nonce: c.nonce,
        signature: await alice.signMessage({ message: c.message }),
      });
    };
    await signInOnce();
    advance(2 * 60 * 60_000); // the first token expired an hour ago: kept for now
    await signInOnce();
    expect(tokens.listTokens()).toHaveLength(2);
    advance(25 * 60 * 60_000); // both expired; the first more than a day ago
    await signInOnce();
    expect(tokens.listTokens().map((t) => t.role)).toEqual(['patient', 'patient']);
  });
});
