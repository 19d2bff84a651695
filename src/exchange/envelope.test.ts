import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { keccak256, recoverAddress } from 'viem';
import { generatePrivateKey, privateKeyToAddress, sign } from 'viem/accounts';
import { describe, expect, it } from 'vitest';
import { canonicalJsonBytes } from '../core/canonicalJson.js';
import { CareLedgerError } from '../core/errors.js';
import { toHex, type Hex } from '../core/hex.js';
import { sha256 } from '../core/sha256.js';
import {
  organizationEncryptionPrivateKey,
  organizationEncryptionPublicKey,
} from '../keys/organizationEncryptionKey.js';
import {
  DEFAULT_ENVELOPE_TTL_MS,
  DEFAULT_MAX_CLOCK_SKEW_MS,
  ENVELOPE_FORMAT,
  MAX_ENVELOPE_BODY_BYTES,
  openEnvelope,
  sealEnvelope,
  type EnvelopeKind,
  type OpenEnvelopeOptions,
  type SealedEnvelope,
} from './envelope.js';
import { EnvelopeError, EnvelopeErrorCode } from './exchangeErrors.js';
import { MemoryReplayGuard } from './replayGuard.js';

interface Organisation {
  address: Hex; // EIP-55, as viem gives it
  signingKey: Hex;
  encryptionPrivateKey: Uint8Array;
  encryptionPublicKey: Uint8Array;
}

function organisation(): Organisation {
  const signingKey = generatePrivateKey();
  const masterKey = toHex(randomBytes(32));
  return {
    address: privateKeyToAddress(signingKey),
    signingKey,
    encryptionPrivateKey: organizationEncryptionPrivateKey(masterKey),
    encryptionPublicKey: organizationEncryptionPublicKey(masterKey),
  };
}

const ALICE = organisation(); // asks
const BOB = organisation(); // holds the records, answers
const MALLORY = organisation(); // another member, up to no good

const T0 = 1_800_000_000_000;
const BODY = new TextEncoder().encode('{"resourceType":"Bundle","type":"searchset","total":0}');

function seal(
  overrides: Partial<Parameters<typeof sealEnvelope>[0]> = {},
  from: Organisation = ALICE,
  to: Organisation = BOB,
): Promise<SealedEnvelope> {
  return sealEnvelope({
    sender: { address: from.address, signingKey: from.signingKey },
    recipient: { address: to.address, encryptionPublicKey: to.encryptionPublicKey },
    kind: 'request',
    body: BODY,
    now: T0,
    ...overrides,
  });
}

function open(
  input: unknown,
  overrides: Partial<OpenEnvelopeOptions> = {},
  as: Organisation = BOB,
): ReturnType<typeof openEnvelope> {
  return openEnvelope(input, {
    recipient: { address: as.address, encryptionPrivateKey: as.encryptionPrivateKey },
    expectedKind: 'request',
    now: T0 + 1_000,
    replay: new MemoryReplayGuard(),
    ...overrides,
  });
}

/** The error `promise` rejects with; fails the test when it resolves or rejects with anything else. */
async function refusal(promise: Promise<unknown>): Promise<EnvelopeError> {
  let result: unknown;
  try {
    result = await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(EnvelopeError);
    return error as EnvelopeError;
  }
  throw new Error(`expected a refusal, got ${JSON.stringify(result)?.slice(0, 200)}`);
}

async function expectRefused(
  promise: Promise<unknown>,
  code: string,
  status?: number,
): Promise<EnvelopeError> {
  const error = await refusal(promise);
  expect(error.code, error.message).toBe(code);
  if (status !== undefined) expect(error.status).toBe(status);
  return error;
}

/** The envelope as it travels and as the recipient parses it. */
function wire(envelope: SealedEnvelope): Record<string, unknown> {
  return JSON.parse(JSON.stringify(envelope)) as Record<string, unknown>;
}

function flipByteOfBase64url(value: string, index: number, mask = 0x01): string {
  const bytes = Buffer.from(value, 'base64url');
  bytes[index] = bytes[index]! ^ mask;
  return bytes.toString('base64url');
}

/** The signing hash as the format documents it, computed independently of envelope.ts. */
function documentedSigningHash(envelope: SealedEnvelope): Hex {
  const { ciphertext, signature: _signature, ...header } = envelope;
  return keccak256(
    Buffer.concat([
      Buffer.from(`${ENVELOPE_FORMAT}\n`),
      canonicalJsonBytes(header),
      sha256(Buffer.from(ciphertext, 'base64url')),
    ]),
  );
}

/** JSON text with members sorted at every level: equal for values a JSON reader cannot tell apart. */
function sortedJson(value: unknown): string {
  return JSON.stringify(value, (_key, member: unknown) =>
    member !== null && typeof member === 'object' && !Array.isArray(member)
      ? Object.fromEntries(Object.entries(member).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : member,
  );
}

describe('sealEnvelope / openEnvelope round trip', () => {
  it('carries a request from Alice to Bob, who learns who sent it', async () => {
    const envelope = await seal();
    expect(Object.keys(envelope).sort()).toEqual(
      [
        'ciphertext',
        'epk',
        'expiresAt',
        'format',
        'from',
        'issuedAt',
        'iv',
        'kind',
        'nonce',
        'signature',
        'to',
      ].sort(),
    );
    expect(envelope).toMatchObject({
      format: 'careledger.exchange/v1',
      kind: 'request',
      from: ALICE.address.toLowerCase(),
      to: BOB.address.toLowerCase(),
      issuedAt: T0,
      expiresAt: T0 + DEFAULT_ENVELOPE_TTL_MS,
    });
    expect(Buffer.from(envelope.nonce, 'base64url')).toHaveLength(16);
    expect(Buffer.from(envelope.epk, 'base64url')).toHaveLength(32);
    expect(Buffer.from(envelope.iv, 'base64url')).toHaveLength(12);
    expect(Buffer.from(envelope.ciphertext, 'base64url')).toHaveLength(BODY.length + 16);
    expect(envelope.signature).toMatch(/^0x[0-9a-f]{128}1[bc]$/);
    // The plaintext is nowhere in clear.
    expect(JSON.stringify(envelope)).not.toContain('Bundle');

    const opened = await open(wire(envelope));
    expect(opened).toEqual({ from: ALICE.address, nonce: envelope.nonce, issuedAt: T0, body: BODY });
    expect(opened.body).toBeInstanceOf(Uint8Array);
  });

  it('signs exactly keccak256(domain ‖ canonical header ‖ sha256(ciphertext)), as documented', async () => {
    const envelope = await seal();
    const signer = await recoverAddress({
      hash: documentedSigningHash(envelope),
      signature: envelope.signature,
    });
    expect(signer).toBe(ALICE.address);
  });

  it('carries Bob’s response back to Alice, bound to her request', async () => {
    const request = await seal();
    const received = await open(wire(request));
    const answer = new TextEncoder().encode('{"resourceType":"Bundle","type":"searchset","total":3}');
    const response = await seal(
      { kind: 'response', body: answer, inReplyTo: received.nonce, now: T0 + 2_000 },
      BOB,
      ALICE,
    );
    expect(response.inReplyTo).toBe(request.nonce);

    const opened = await open(
      wire(response),
      {
        expectedKind: 'response',
        expectedFrom: BOB.address,
        inReplyTo: request.nonce,
        now: T0 + 3_000,
      },
      ALICE,
    );
    expect(opened).toEqual({
      from: BOB.address,
      nonce: response.nonce,
      issuedAt: T0 + 2_000,
      body: answer,
      inReplyTo: request.nonce,
    });
  });

  it('carries an empty body and a 2 MB body', async () => {
    const empty = await open(wire(await seal({ body: new Uint8Array(0) })));
    expect(empty.body).toHaveLength(0);

    const large = new Uint8Array(randomBytes(2 * 1024 * 1024));
    const envelope = await seal({ body: large });
    const opened = await open(JSON.parse(JSON.stringify(envelope)));
    expect(opened.body.length).toBe(large.length);
    expect(Buffer.from(opened.body).equals(Buffer.from(large))).toBe(true);
  });

  it('gives every envelope a fresh nonce, ephemeral key and IV', async () => {
    const [a, b] = await Promise.all([seal(), seal()]);
    expect(a!.nonce).not.toBe(b!.nonce);
    expect(a!.epk).not.toBe(b!.epk);
    expect(a!.iv).not.toBe(b!.iv);
    expect(a!.ciphertext).not.toBe(b!.ciphertext);
  });

  it('accepts addresses in any case from the caller', async () => {
    const envelope = await sealEnvelope({
      sender: { address: ALICE.address.toLowerCase() as Hex, signingKey: ALICE.signingKey },
      recipient: {
        address: BOB.address.toUpperCase().replace('0X', '0x') as Hex,
        encryptionPublicKey: BOB.encryptionPublicKey,
      },
      kind: 'request',
      body: BODY,
      now: T0,
    });
    const opened = await open(wire(envelope), {
      recipient: {
        address: BOB.address.toLowerCase() as Hex,
        encryptionPrivateKey: BOB.encryptionPrivateKey,
      },
    });
    expect(opened.from).toBe(ALICE.address);
  });
});

describe('tampering', () => {
  it('refuses a flipped bit at every position of the envelope as sent, and only with EnvelopeErrors', async () => {
    const envelope = await seal();
    const text = Buffer.from(JSON.stringify(envelope));
    const replay = new MemoryReplayGuard();
    let parsed = 0;
    for (let index = 0; index < text.length; index++) {
      for (const mask of [0x01, 0x20]) {
        const tampered = Buffer.from(text);
        tampered[index] = tampered[index]! ^ mask;
        let input: unknown;
        try {
          input = JSON.parse(tampered.toString('utf8'));
        } catch {
          continue; // no longer JSON: the HTTP layer refuses it before the envelope is looked at
        }
        parsed++;
        const error = await refusal(open(input, { replay }));
        expect(error.code).not.toBe(EnvelopeErrorCode.UNDECRYPTABLE);
      }
    }
    expect(parsed).toBeGreaterThan(text.length); // most flips still parse, so this really tried them
    // Nothing refused used up the nonce: the untouched envelope still opens.
    expect(replay.size).toBe(0);
    await expect(open(wire(envelope), { replay })).resolves.toMatchObject({ body: BODY });
  });

  it('refuses a changed byte of every binary member by its signature, before any decryption', async () => {
    const envelope = await seal();
    const cases: [member: 'nonce' | 'epk' | 'iv' | 'ciphertext', index: number][] = [];
    for (const member of ['nonce', 'epk', 'iv'] as const) {
      const length = Buffer.from(envelope[member], 'base64url').length;
      for (let index = 0; index < length; index++) cases.push([member, index]);
    }
    const ciphertextLength = Buffer.from(envelope.ciphertext, 'base64url').length;
    for (let index = 0; index < ciphertextLength; index++) cases.push(['ciphertext', index]); // the tag too
    for (const [member, index] of cases) {
      for (const mask of [0x01, 0x80]) {
        const tampered = { ...wire(envelope), [member]: flipByteOfBase64url(envelope[member], index, mask) };
        await expectRefused(open(tampered), EnvelopeErrorCode.BAD_SIGNATURE, 401);
      }
    }
  });

  it('refuses a changed byte anywhere in the signature', async () => {
    const envelope = await seal();
    const bytes = Buffer.from(envelope.signature.slice(2), 'hex');
    for (let index = 0; index < 65; index++) {
      for (const mask of [0x01, 0x07, 0x80, 0xff]) {
        const tampered = Buffer.from(bytes);
        tampered[index] = tampered[index]! ^ mask;
        const signature = `0x${tampered.toString('hex')}`;
        await expectRefused(open({ ...wire(envelope), signature }), EnvelopeErrorCode.BAD_SIGNATURE);
      }
    }
  });

  it('refuses the other spellings of a valid signature: high s, v as 0/1', async () => {
    const envelope = await seal();
    const r = envelope.signature.slice(2, 66);
    const s = BigInt(`0x${envelope.signature.slice(66, 130)}`);
    const v = envelope.signature.slice(130);
    const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
    // (r, n - s) with the other parity is the same signature in its malleable form: it recovers Alice too.
    const highS = `0x${r}${(n - s).toString(16).padStart(64, '0')}${v === '1b' ? '1c' : '1b'}` as Hex;
    expect(await recoverAddress({ hash: documentedSigningHash(envelope), signature: highS })).toBe(
      ALICE.address,
    );
    await expectRefused(open({ ...wire(envelope), signature: highS }), EnvelopeErrorCode.BAD_SIGNATURE);
    const v01 = `${envelope.signature.slice(0, 130)}${v === '1b' ? '00' : '01'}`;
    await expectRefused(open({ ...wire(envelope), signature: v01 }), EnvelopeErrorCode.BAD_SIGNATURE);
  });

  it('refuses a changed header member with the check that owns it', async () => {
    const envelope = await seal();
    const base = wire(envelope);
    const cases: [Record<string, unknown>, string][] = [
      [{ format: 'careledger.exchange/v2' }, EnvelopeErrorCode.UNSUPPORTED_FORMAT],
      [{ kind: 'response', inReplyTo: envelope.nonce }, EnvelopeErrorCode.WRONG_KIND],
      [{ to: MALLORY.address.toLowerCase() }, EnvelopeErrorCode.NOT_FOR_US],
      [{ from: MALLORY.address.toLowerCase() }, EnvelopeErrorCode.BAD_SIGNATURE],
      [{ issuedAt: T0 - 1 }, EnvelopeErrorCode.BAD_SIGNATURE],
      [{ expiresAt: T0 + DEFAULT_ENVELOPE_TTL_MS + 1 }, EnvelopeErrorCode.BAD_SIGNATURE],
      [{ nonce: randomBytes(16).toString('base64url') }, EnvelopeErrorCode.BAD_SIGNATURE],
      [{ epk: randomBytes(32).toString('base64url') }, EnvelopeErrorCode.BAD_SIGNATURE],
    ];
    for (const [change, code] of cases) {
      await expectRefused(open({ ...base, ...change }), code);
    }
  });

  it('binds the sender into the encryption: re-signing someone else’s envelope yields nothing readable', async () => {
    // Mallory (a member) intercepts Alice's request, claims it as her own and signs it with her key. The
    // signature then checks out as Mallory's, but the ciphertext was sealed under a header naming Alice.
    const envelope = await seal();
    const claimed = { ...envelope, from: MALLORY.address.toLowerCase() as Hex };
    const signature = await sign({
      hash: documentedSigningHash(claimed),
      privateKey: MALLORY.signingKey,
      to: 'hex',
    });
    await expectRefused(open({ ...claimed, signature }), EnvelopeErrorCode.UNDECRYPTABLE, 400);
  });
});

describe('who may open, and from whom', () => {
  it('refuses an envelope addressed to another organisation', async () => {
    const envelope = await seal();
    const error = await expectRefused(open(wire(envelope), {}, MALLORY), EnvelopeErrorCode.NOT_FOR_US, 401);
    expect(error.issueType).toBe('security');
  });

  it('cannot be read with another organisation’s private key even when addressed to it', async () => {
    const envelope = await seal();
    await expectRefused(
      open(wire(envelope), {
        recipient: { address: BOB.address, encryptionPrivateKey: MALLORY.encryptionPrivateKey },
      }),
      EnvelopeErrorCode.UNDECRYPTABLE,
    );
  });

  it('refuses an envelope signed with another key than the sender’s (BAD_SIGNATURE)', async () => {
    const byMallory = await seal({}, MALLORY, BOB);
    const claimingAlice = { ...wire(byMallory), from: ALICE.address.toLowerCase() };
    await expectRefused(open(claimingAlice), EnvelopeErrorCode.BAD_SIGNATURE, 401);
  });

  it('refuses an authentic envelope from another sender than expected (WRONG_SENDER)', async () => {
    const byMallory = await seal({}, MALLORY, BOB);
    const error = await expectRefused(
      open(wire(byMallory), { expectedFrom: ALICE.address }),
      EnvelopeErrorCode.WRONG_SENDER,
      401,
    );
    expect(error.details).toMatchObject({ from: MALLORY.address.toLowerCase() });
  });

  it('asks the sender policy after the signature and before recording the nonce', async () => {
    const envelope = await seal();
    const replay = new MemoryReplayGuard();
    const asked: Hex[] = [];
    await expectRefused(
      open(wire(envelope), {
        replay,
        acceptSender: (from) => {
          asked.push(from);
          return Promise.resolve(false);
        },
      }),
      EnvelopeErrorCode.SENDER_NOT_ALLOWED,
      403,
    );
    expect(asked).toEqual([ALICE.address]);
    expect(replay.size).toBe(0);
    await expect(open(wire(envelope), { replay, acceptSender: () => true })).resolves.toMatchObject({
      from: ALICE.address,
    });

    // A forged envelope never reaches the policy.
    await expectRefused(
      open(
        { ...wire(envelope), from: MALLORY.address.toLowerCase() },
        { acceptSender: (from) => asked.push(from) > 0 },
      ),
      EnvelopeErrorCode.BAD_SIGNATURE,
    );
    expect(asked).toHaveLength(1);
  });

  it('refuses a request where a response is expected, and the reverse', async () => {
    const request = await seal();
    await expectRefused(open(wire(request), { expectedKind: 'response' }), EnvelopeErrorCode.WRONG_KIND, 400);
    const response = await seal({ kind: 'response', inReplyTo: request.nonce });
    await expectRefused(open(wire(response)), EnvelopeErrorCode.WRONG_KIND);
  });

  it('refuses a response to another request (NOT_A_REPLY)', async () => {
    const request = await seal();
    const response = await seal({ kind: 'response', inReplyTo: request.nonce }, BOB, ALICE);
    const other = randomBytes(16).toString('base64url');
    await expectRefused(
      open(wire(response), { expectedKind: 'response', inReplyTo: other }, ALICE),
      EnvelopeErrorCode.NOT_A_REPLY,
      409,
    );
  });
});

describe('time window', () => {
  const skew = DEFAULT_MAX_CLOCK_SKEW_MS;

  it('accepts until expiresAt plus the allowed skew, then refuses as EXPIRED', async () => {
    const envelope = await seal({ ttlMs: 30_000 });
    await expect(open(wire(envelope), { now: T0 + 30_000 + skew })).resolves.toMatchObject({ body: BODY });
    const error = await expectRefused(
      open(wire(envelope), { now: T0 + 30_000 + skew + 1 }),
      EnvelopeErrorCode.EXPIRED,
      401,
    );
    expect(error.message).toContain('seal a fresh one');
  });

  it('refuses an envelope issued further ahead than the allowed skew (CLOCK_SKEW)', async () => {
    const envelope = await seal({ now: T0 + skew + 1 });
    await expectRefused(open(wire(envelope), { now: T0 }), EnvelopeErrorCode.CLOCK_SKEW, 401);
    const nearFuture = await seal({ now: T0 + skew });
    await expect(open(wire(nearFuture), { now: T0 })).resolves.toMatchObject({ issuedAt: T0 + skew });
    await expectRefused(
      open(wire(await seal({ now: T0 + 1_001 })), { now: T0, maxSkewMs: 1_000 }),
      EnvelopeErrorCode.CLOCK_SKEW,
    );
  });

  it('refuses a time to live longer than the recipient allows (MALFORMED, naming expiresAt)', async () => {
    const envelope = await seal({ ttlMs: 10 * 60_000 });
    const error = await expectRefused(open(wire(envelope)), EnvelopeErrorCode.MALFORMED, 400);
    expect(error.details).toMatchObject({ field: 'expiresAt' });
    await expect(open(wire(envelope), { maxTtlMs: 10 * 60_000 })).resolves.toMatchObject({ body: BODY });
    const backwards = { ...wire(await seal()), expiresAt: T0 - 1 };
    expect((await expectRefused(open(backwards), EnvelopeErrorCode.MALFORMED)).details).toMatchObject({
      field: 'expiresAt',
    });
  });
});

describe('replay', () => {
  it('refuses the same envelope twice (REPLAYED, 409)', async () => {
    const replay = new MemoryReplayGuard();
    const envelope = await seal();
    await open(wire(envelope), { replay });
    const error = await expectRefused(open(wire(envelope), { replay }), EnvelopeErrorCode.REPLAYED, 409);
    expect(error.issueType).toBe('security');
  });

  it('keys nonces by sender', () => {
    const replay = new MemoryReplayGuard();
    const nonce = randomBytes(16).toString('base64url');
    expect(replay.seen(ALICE.address, nonce, T0 + 1_000, T0)).toBe(false);
    expect(replay.seen(BOB.address, nonce, T0 + 1_000, T0)).toBe(false);
    expect(replay.seen(ALICE.address.toLowerCase() as Hex, nonce, T0 + 1_000, T0)).toBe(true);
  });

  it('forgets a nonce once its envelope could only be refused as expired', async () => {
    const replay = new MemoryReplayGuard();
    const envelope = await seal({ ttlMs: 10_000 });
    await open(wire(envelope), { replay, now: T0 });
    expect(replay.size).toBe(1);
    const windowEnd = T0 + 10_000 + DEFAULT_MAX_CLOCK_SKEW_MS;
    await expectRefused(open(wire(envelope), { replay, now: windowEnd }), EnvelopeErrorCode.REPLAYED);
    expect(replay.size).toBe(1); // still inside the window

    const later = await seal({ now: windowEnd });
    await open(wire(later), { replay, now: windowEnd + 1 });
    expect(replay.size).toBe(1); // the first nonce was pruned, the new one recorded
    await expectRefused(open(wire(envelope), { replay, now: windowEnd + 1 }), EnvelopeErrorCode.EXPIRED);
  });

  it('refuses new envelopes with 503 when the guard is full, never forgetting an unexpired nonce', async () => {
    const replay = new MemoryReplayGuard({ maxEntries: 3 });
    const accepted: SealedEnvelope[] = [];
    for (let i = 0; i < 3; i++) {
      const envelope = await seal();
      await open(wire(envelope), { replay });
      accepted.push(envelope);
    }
    const error = await expectRefused(
      open(wire(await seal()), { replay }),
      EnvelopeErrorCode.REPLAY_GUARD_FULL,
      503,
    );
    expect(error.issueType).toBe('transient');
    expect(error.message).toContain('maxEntries');
    // Replays of what it holds are still recognised as replays.
    for (const envelope of accepted) {
      await expectRefused(open(wire(envelope), { replay }), EnvelopeErrorCode.REPLAYED);
    }
    expect(replay.size).toBe(3);
    // Once those nonces expire, there is room again.
    const later = T0 + DEFAULT_ENVELOPE_TTL_MS + DEFAULT_MAX_CLOCK_SKEW_MS + 1;
    await expect(open(wire(await seal({ now: later })), { replay, now: later })).resolves.toMatchObject({
      body: BODY,
    });
    expect(replay.size).toBe(1);
  });

  it('prunes exactly the expired nonces, whatever order they arrive in', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 1_000 }), { maxLength: 200 }),
        fc.array(fc.integer({ min: 0, max: 1_000 }), { maxLength: 20 }),
        (expiries, probes) => {
          const replay = new MemoryReplayGuard({ maxEntries: 1_000 });
          expiries.forEach((expiresAt, i) => replay.seen(ALICE.address, `n${i}`, expiresAt, 0));
          let now = 0;
          for (const probe of [...probes].sort((a, b) => a - b)) {
            now = probe;
            replay.seen(BOB.address, `probe${probe}`, 2_000, now);
            const aliceLeft = expiries.filter((expiresAt) => expiresAt >= now).length;
            const probesLeft = new Set(probes.filter((p) => p <= now)).size;
            expect(replay.size).toBe(aliceLeft + probesLeft);
            // Every nonce still held is still recognised.
            expiries.forEach((expiresAt, i) => {
              if (expiresAt >= now + 1)
                expect(replay.seen(ALICE.address, `n${i}`, expiresAt, now)).toBe(true);
            });
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it('refuses a nonsensical capacity', () => {
    expect(() => new MemoryReplayGuard({ maxEntries: 0 })).toThrow(EnvelopeError);
  });
});

describe('malformed envelopes', () => {
  async function expectMalformed(input: unknown, field: string, options: Partial<OpenEnvelopeOptions> = {}) {
    const error = await expectRefused(open(input, options), EnvelopeErrorCode.MALFORMED, 400);
    expect(error.details).toMatchObject({ field });
    expect(error.issueType).toBe('invalid');
    return error;
  }

  it('names the member at fault', async () => {
    const envelope = wire(await seal());
    await expectMalformed(null, '');
    await expectMalformed([envelope], '');
    await expectMalformed('envelope', '');
    await expectMalformed(new Map(Object.entries(envelope)), '');
    await expectMalformed({ ...envelope, extra: 1 }, 'extra');
    await expectMalformed({ ...envelope, ['"\n'.repeat(100)]: 1 }, '"\n'.repeat(100).slice(0, 64));
    // JSON.parse makes "__proto__" an own member (no prototype change): refused like any unknown member.
    await expectMalformed(JSON.parse(`{"__proto__":1,${JSON.stringify(envelope).slice(1)}`), '__proto__');
    const { signature: _s, ...unsigned } = envelope;
    await expectMalformed(unsigned, 'signature');
    const { format: _f, ...formatless } = envelope;
    await expectMalformed(formatless, 'format');
    await expectMalformed({ ...envelope, format: 1 }, 'format');
    await expectMalformed({ ...envelope, kind: 'Request' }, 'kind');
    await expectMalformed({ ...envelope, from: ALICE.address }, 'from'); // checksummed: one spelling only
    await expectMalformed({ ...envelope, to: 42 }, 'to');
    await expectMalformed({ ...envelope, issuedAt: String(T0) }, 'issuedAt');
    await expectMalformed({ ...envelope, issuedAt: T0 + 0.5 }, 'issuedAt');
    await expectMalformed({ ...envelope, expiresAt: 2 ** 53 }, 'expiresAt');
    await expectMalformed({ ...envelope, nonce: (envelope.nonce as string).slice(1) }, 'nonce');
    await expectMalformed({ ...envelope, nonce: `${(envelope.nonce as string).slice(0, 21)}+` }, 'nonce');
    await expectMalformed({ ...envelope, epk: `${envelope.epk as string}=` }, 'epk');
    await expectMalformed({ ...envelope, iv: null }, 'iv');
    await expectMalformed(
      { ...envelope, signature: (envelope.signature as string).toUpperCase() },
      'signature',
    );
    await expectMalformed({ ...envelope, ciphertext: '' }, 'ciphertext');
    await expectMalformed({ ...envelope, inReplyTo: envelope.nonce }, 'inReplyTo'); // on a request
  });

  it('accepts an envelope object without a prototype', async () => {
    const envelope = wire(await seal());
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, envelope);
    await expect(open(bare)).resolves.toMatchObject({ body: BODY });
  });

  it('refuses a second spelling of the same bytes (spare bits in the last base64url character)', async () => {
    const envelope = wire(await seal());
    const nonce = envelope.nonce as string; // 16 bytes: 22 characters, the last carrying 4 spare bits
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(nonce.at(-1)!);
    const sameBytes = `${nonce.slice(0, -1)}${alphabet[last ^ 0x01]}`;
    expect(Buffer.from(sameBytes, 'base64url').equals(Buffer.from(nonce, 'base64url'))).toBe(true);
    await expectMalformed({ ...envelope, nonce: sameBytes }, 'nonce');
  });

  it('refuses a response without inReplyTo', async () => {
    const response = wire(await seal({ kind: 'response', inReplyTo: randomBytes(16).toString('base64url') }));
    delete response.inReplyTo;
    await expectMalformed(response, 'inReplyTo', { expectedKind: 'response' });
  });

  it('refuses a ciphertext over the body limit before decoding it', async () => {
    const envelope = wire(await seal({ body: new Uint8Array(1_000) }));
    await expectMalformed(envelope, 'ciphertext', { maxBodyBytes: 999 });
    await expect(open(envelope, { maxBodyBytes: 1_000 })).resolves.toMatchObject({ nonce: envelope.nonce });
  });

  it('tells another format version apart from a malformed envelope', async () => {
    const future = { format: 'careledger.exchange/v2', payload: 'x' };
    const error = await expectRefused(open(future), EnvelopeErrorCode.UNSUPPORTED_FORMAT, 400);
    expect(error.message).toContain('careledger.exchange/v1');
  });

  it('turns a throwing getter into MALFORMED, not a foreign exception', async () => {
    const envelope = wire(await seal());
    const hostile = Object.defineProperty({ ...envelope }, 'kind', {
      enumerable: true,
      get() {
        throw new Error('boom');
      },
    });
    await expectMalformed(hostile, '');
  });

  it('answers arbitrary JSON with EnvelopeErrors only', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), async (value) => {
        const error = await refusal(open(value));
        expect(error).toBeInstanceOf(CareLedgerError);
        expect(error.code).toMatch(/^ENVELOPE\./);
      }),
      { numRuns: 300 },
    );
  });

  it('answers arbitrary values (not only JSON) with EnvelopeErrors only', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.anything({
          withBigInt: true,
          withBoxedValues: true,
          withDate: true,
          withMap: true,
          withSet: true,
          withNullPrototype: true,
          withObjectString: true,
          withSparseArray: true,
          withTypedArray: true,
          withUnicodeString: true,
        }),
        async (value) => {
          const error = await refusal(open(value));
          expect(error.code).toMatch(/^ENVELOPE\./);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('answers a real envelope with members replaced by arbitrary JSON with EnvelopeErrors only', async () => {
    const envelope = wire(await seal());
    const members = [...Object.keys(envelope), 'inReplyTo', 'extra'];
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(fc.constantFrom(...members), fc.jsonValue({ maxDepth: 2 }), { minKeys: 1, maxKeys: 4 }),
        fc.subarray(members, { maxLength: 2 }),
        async (replaced, removed) => {
          const input: Record<string, unknown> = { ...envelope, ...replaced };
          for (const member of removed) delete input[member];
          const changed = sortedJson(input) !== sortedJson(envelope);
          let result: unknown;
          try {
            result = await open(input);
          } catch (error) {
            expect(error).toBeInstanceOf(EnvelopeError);
            return;
          }
          expect(changed, `accepted a changed envelope: ${JSON.stringify(result)}`).toBe(false);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('sealing refuses what cannot be sent', () => {
  async function expectInvalid(overrides: Partial<Parameters<typeof sealEnvelope>[0]>, fragment: string) {
    const error = await expectRefused(seal(overrides), EnvelopeErrorCode.INVALID_ARGUMENT, 500);
    expect(error.message).toContain(fragment);
  }

  it('a signing key that is not the sender’s', async () => {
    await expectInvalid({ sender: { address: ALICE.address, signingKey: MALLORY.signingKey } }, 'belongs to');
    await expectInvalid(
      { sender: { address: ALICE.address, signingKey: `0x${'00'.repeat(32)}` } },
      'signingKey',
    );
    await expectInvalid({ sender: { address: '0x1234', signingKey: ALICE.signingKey } }, 'sender.address');
  });

  it('an unusable recipient key', async () => {
    await expectInvalid(
      { recipient: { address: BOB.address, encryptionPublicKey: new Uint8Array(31) } },
      '32-byte X25519',
    );
    // The all-zero point has small order: every shared secret with it is zero.
    await expectInvalid(
      { recipient: { address: BOB.address, encryptionPublicKey: new Uint8Array(32) } },
      'low-order',
    );
  });

  it('a response without the request it answers, a request that claims to answer one', async () => {
    const kinds: [EnvelopeKind, string | undefined, string][] = [
      ['response', undefined, 'must name the request'],
      ['response', 'not-a-nonce', 'must name the request'],
      ['request', randomBytes(16).toString('base64url'), 'only for responses'],
    ];
    for (const [kind, inReplyTo, fragment] of kinds) await expectInvalid({ kind, inReplyTo }, fragment);
  });

  it('a bad time or time to live', async () => {
    await expectInvalid({ now: 1.5 }, 'now');
    await expectInvalid({ ttlMs: 0 }, 'ttlMs');
  });

  it('a body over the format’s limit (413)', async () => {
    const error = await expectRefused(
      seal({ body: new Uint8Array(MAX_ENVELOPE_BODY_BYTES + 1) }),
      EnvelopeErrorCode.BODY_TOO_LARGE,
      413,
    );
    expect(error.issueType).toBe('too-long');
  });

  it('opening with unusable options is our own error (500), not the sender’s', async () => {
    const envelope = wire(await seal());
    await expectRefused(
      open(envelope, { recipient: { address: BOB.address, encryptionPrivateKey: new Uint8Array(16) } }),
      EnvelopeErrorCode.INVALID_ARGUMENT,
      500,
    );
    await expectRefused(open(envelope, { maxSkewMs: -1 }), EnvelopeErrorCode.INVALID_ARGUMENT);
    await expectRefused(open(envelope, { inReplyTo: 'x' }), EnvelopeErrorCode.INVALID_ARGUMENT);
  });
});
