/**
 * The envelope in which one gateway sends FHIR data to another organisation's gateway, over plain HTTP through
 * proxies neither trusts. Each request and each response is one envelope:
 *
 * - **Encrypted to the recipient organisation.** A fresh ephemeral X25519 key agrees a secret with the
 *   recipient's X25519 public key registered in OrganizationRegistry; HKDF-SHA256 turns it into a one-use
 *   AES-256-GCM key. The header (every member but `ciphertext` and `signature`) is the associated data, so the
 *   plaintext only opens under the exact header it was sealed with — including `from`: a third party who strips
 *   the signature and signs the ciphertext as itself gets an envelope that no longer decrypts.
 * - **Signed by the sending organisation** with its secp256k1 chain key, whose address is its identity in
 *   OrganizationRegistry. Encrypt-then-sign: the signature covers the header and the ciphertext's hash, so a byte
 *   changed anywhere is refused by the signature check before any decryption is attempted, and any gateway (or
 *   auditor) can tell who sent an envelope without being able to read it.
 * - **Fresh.** A random nonce, an issue and an expiry time: the recipient refuses envelopes outside their window
 *   and remembers nonces until then ({@link ReplayGuard}), so a captured envelope cannot be played twice. A
 *   response names the request it answers (`inReplyTo`, the request's nonce).
 *
 * Every member has exactly one accepted spelling (lower-case hex, unpadded canonical base64url, integers), so the
 * text signed is the text checked, and every flipped byte changes what is checked.
 *
 * Not checked here: whether the sender is an organisation we exchange with at all, i.e. an active member of
 * OrganizationRegistry. The caller must check that — ideally through `acceptSender`, which runs before the nonce is
 * recorded or anything is decrypted, so that non-members cannot fill the replay guard or spend our CPU on
 * decryption; otherwise on the `from` returned, before acting on the body.
 */
import {
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import { keccak256, recoverAddress } from 'viem';
import { privateKeyToAddress, sign } from 'viem/accounts';
import { canonicalJsonBytes } from '../core/canonicalJson.js';
import { CareLedgerError } from '../core/errors.js';
import { isHex, type Hex } from '../core/hex.js';
import { sha256 } from '../core/sha256.js';
import { secp256k1PrivateKeyIsValid } from '../keys/secp256k1.js';
import { EnvelopeError, EnvelopeErrorCode, malformed } from './exchangeErrors.js';
import type { ReplayGuard } from './replayGuard.js';

/** The value of `format` in every envelope of this version. */
export const ENVELOPE_FORMAT = 'careledger.exchange/v1';

/** Largest body an envelope may carry (before encryption): 16 MiB, well above a large FHIR Bundle. */
export const MAX_ENVELOPE_BODY_BYTES = 16 * 1024 * 1024;

/**
 * Default time to live of a sealed envelope: long enough for a large body through slow proxies, short enough that
 * a captured envelope is soon worthless and the recipient's replay guard stays small.
 */
export const DEFAULT_ENVELOPE_TTL_MS = 60_000;

/** Default clock difference tolerated between two gateways, both ways. */
export const DEFAULT_MAX_CLOCK_SKEW_MS = 60_000;

/** Default longest time to live a recipient accepts (it bounds how long nonces must be remembered). */
export const DEFAULT_MAX_ENVELOPE_TTL_MS = 5 * 60_000;

export type EnvelopeKind = 'request' | 'response';

/** The members of an envelope that are signed and bound to the ciphertext as associated data. */
export interface EnvelopeHeader {
  format: typeof ENVELOPE_FORMAT;
  kind: EnvelopeKind;
  /** Sender's chain address, lower-case hex. */
  from: Hex;
  /** Recipient's chain address, lower-case hex. */
  to: Hex;
  /** 16 random bytes, base64url: unique per sender. */
  nonce: string;
  /** Milliseconds since the epoch, sender's clock. */
  issuedAt: number;
  /** Milliseconds since the epoch; after it (plus the allowed skew) the envelope is refused. */
  expiresAt: number;
  /** For a response (and only then): the nonce of the request it answers. */
  inReplyTo?: string;
  /** The sender's ephemeral X25519 public key, 32 bytes base64url. */
  epk: string;
  /** The AES-GCM nonce, 12 bytes base64url. */
  iv: string;
}

/** An envelope as it travels: a JSON object. */
export interface SealedEnvelope extends EnvelopeHeader {
  /** AES-256-GCM ciphertext followed by its 16-byte tag, base64url. */
  ciphertext: string;
  /** 65-byte secp256k1 signature (r ‖ s ‖ v, v = 27 or 28, low s), lower-case hex. */
  signature: Hex;
}

export interface SealEnvelopeInput {
  /** This organisation: its chain address and the secp256k1 private key of that address (32 bytes hex). */
  sender: { address: Hex; signingKey: Hex };
  /** The other organisation: its chain address and its X25519 public key as registered in OrganizationRegistry. */
  recipient: { address: Hex; encryptionPublicKey: Uint8Array };
  kind: EnvelopeKind;
  body: Uint8Array;
  /** Required for a response (the request's nonce), refused for a request. */
  inReplyTo?: string;
  /** Milliseconds since the epoch; defaults to `Date.now()`. */
  now?: number;
  /** Defaults to {@link DEFAULT_ENVELOPE_TTL_MS}. */
  ttlMs?: number;
}

export interface OpenEnvelopeOptions {
  /** This organisation: its chain address and X25519 private key (`organizationEncryptionPrivateKey`). */
  recipient: { address: Hex; encryptionPrivateKey: Uint8Array };
  expectedKind: EnvelopeKind;
  /** When we know whom we are talking to (opening a response): the only sender accepted. */
  expectedFrom?: Hex;
  /** When opening a response: the nonce of the request we sent. */
  inReplyTo?: string;
  /** Milliseconds since the epoch; defaults to `Date.now()`. */
  now?: number;
  /** Defaults to {@link DEFAULT_MAX_CLOCK_SKEW_MS}. */
  maxSkewMs?: number;
  /** Defaults to {@link DEFAULT_MAX_ENVELOPE_TTL_MS}. */
  maxTtlMs?: number;
  /** Largest body accepted; defaults to (and cannot exceed) {@link MAX_ENVELOPE_BODY_BYTES}. */
  maxBodyBytes?: number;
  replay: ReplayGuard;
  /**
   * The sender policy, e.g. "is an active member of OrganizationRegistry". Called with the authenticated sender
   * (EIP-55 address) after the signature check and before the nonce is recorded or anything is decrypted; a
   * `false` refuses the envelope with `ENVELOPE.SENDER_NOT_ALLOWED`. What it throws propagates unchanged.
   */
  acceptSender?: (from: Hex) => boolean | Promise<boolean>;
}

/** What an opened envelope yields. The caller still decides whether `from` may ask for what the body asks. */
export interface OpenedEnvelope {
  /** The authenticated sender, EIP-55 checksummed. */
  from: Hex;
  nonce: string;
  issuedAt: number;
  body: Uint8Array;
  inReplyTo?: string;
}

const NONCE_BYTES = 16;
const EPK_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const X25519_KEY_BYTES = 32;

// What the signature covers: keccak256(domain ‖ canonical header ‖ sha256(ciphertext)). The domain keeps these
// hashes apart from anything else an organisation key signs (transactions, EIP-191 and EIP-712 messages all
// start otherwise); the header's JSON is self-delimiting and the hash that follows has a fixed length.
const SIGNING_DOMAIN = new TextEncoder().encode(`${ENVELOPE_FORMAT}\n`);
// HKDF info = 'careledger/exchange/v1' ‖ kind: a request's key can never serve as a response's. No separator is
// needed, as the kinds are a fixed set and neither is a prefix of the other.
const HKDF_INFO: Record<EnvelopeKind, Buffer> = {
  request: Buffer.from('careledger/exchange/v1request'),
  response: Buffer.from('careledger/exchange/v1response'),
};

const HEADER_MEMBERS = [
  'format',
  'kind',
  'from',
  'to',
  'nonce',
  'issuedAt',
  'expiresAt',
  'epk',
  'iv',
] as const;
const ALL_MEMBERS = new Set<string>([...HEADER_MEMBERS, 'inReplyTo', 'ciphertext', 'signature']);

const ADDRESS_RE = /^0x[0-9a-f]{40}$/;
const SIGNATURE_RE = /^0x[0-9a-f]{130}$/;
const BASE64URL_RE = /^[A-Za-z0-9_-]*$/;

// Order of the secp256k1 group, and half of it: signatures must have 1 <= s <= n/2 (EIP-2), so that (r, s) and
// (r, n - s) are not two spellings of one signature.
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const SECP256K1_HALF_N = SECP256K1_N >> 1n;

// PKCS#8 DER prefix of an X25519 private key (RFC 8410), followed by the 32 raw bytes.
const PKCS8_X25519_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

/**
 * Seals `body` for `recipient`: encrypts it to the recipient's X25519 key and signs the result with the sender's
 * chain key. The envelope is a plain JSON object, ready for `JSON.stringify`.
 *
 * @throws EnvelopeError `ENVELOPE.BODY_TOO_LARGE` for a body over {@link MAX_ENVELOPE_BODY_BYTES};
 *   `ENVELOPE.INVALID_ARGUMENT` for a key, address, time or `inReplyTo` that is not usable (including a signing key
 *   that does not belong to `sender.address`, and a registered encryption key that is not a usable X25519 key).
 */
export async function sealEnvelope(input: SealEnvelopeInput): Promise<SealedEnvelope> {
  const { sender, recipient, kind, body } = input;
  if (!isHex(sender.signingKey, 32) || !secp256k1PrivateKeyIsValid(sender.signingKey)) {
    throw invalidArgument('sender.signingKey must be a secp256k1 private key (32 bytes of 0x-prefixed hex).');
  }
  const from = lowerCaseAddress(sender.address, 'sender.address');
  const to = lowerCaseAddress(recipient.address, 'recipient.address');
  const signerAddress = addressOfKey(sender.signingKey);
  if (signerAddress !== from) {
    throw invalidArgument(
      `sender.signingKey belongs to ${signerAddress}, not to sender.address ${from}; the recipient would refuse ` +
        'the signature. Configure the organisation key of the registered address.',
    );
  }
  if (!(recipient.encryptionPublicKey instanceof Uint8Array)) {
    throw invalidArgument('recipient.encryptionPublicKey must be a Uint8Array.');
  }
  if (recipient.encryptionPublicKey.length !== X25519_KEY_BYTES) {
    throw invalidArgument(
      `recipient.encryptionPublicKey must be a 32-byte X25519 public key, not ${recipient.encryptionPublicKey.length} bytes; check the key registered for ${to}.`,
    );
  }
  if (kind !== 'request' && kind !== 'response') {
    throw invalidArgument(`kind must be "request" or "response", not ${JSON.stringify(String(kind))}.`);
  }
  if (kind === 'response' && !isNonce(input.inReplyTo)) {
    throw invalidArgument("A response must name the request it answers: inReplyTo = the request's nonce.");
  }
  if (kind === 'request' && input.inReplyTo !== undefined) {
    throw invalidArgument('A request answers nothing: inReplyTo is only for responses.');
  }
  if (!(body instanceof Uint8Array)) throw invalidArgument('body must be a Uint8Array.');
  if (body.length > MAX_ENVELOPE_BODY_BYTES) {
    throw new EnvelopeError(
      EnvelopeErrorCode.BODY_TOO_LARGE,
      `The body is ${body.length} bytes; an envelope carries at most ${MAX_ENVELOPE_BODY_BYTES}. Send it in parts.`,
      { details: { bytes: body.length, maxBytes: MAX_ENVELOPE_BODY_BYTES } },
    );
  }
  const now = input.now ?? Date.now();
  const ttlMs = input.ttlMs ?? DEFAULT_ENVELOPE_TTL_MS;
  if (!Number.isSafeInteger(now) || now < 0) throw invalidArgument('now must be an integer count of ms.');
  if (!Number.isSafeInteger(ttlMs) || ttlMs <= 0 || !Number.isSafeInteger(now + ttlMs)) {
    throw invalidArgument('ttlMs must be a positive integer count of ms.');
  }

  const ephemeral = generateKeyPairSync('x25519');
  const epk = ephemeral.publicKey.export({ format: 'jwk' }).x as string;
  let recipientKey: KeyObject;
  try {
    recipientKey = x25519PublicKeyObject(recipient.encryptionPublicKey);
  } catch (error) {
    throw invalidArgument(`The encryption key registered for ${to} is not an X25519 public key.`, error);
  }
  const iv = randomBytes(IV_BYTES);
  const header: EnvelopeHeader = {
    format: ENVELOPE_FORMAT,
    kind,
    from,
    to,
    nonce: randomBytes(NONCE_BYTES).toString('base64url'),
    issuedAt: now,
    expiresAt: now + ttlMs,
    ...(input.inReplyTo === undefined ? {} : { inReplyTo: input.inReplyTo }),
    epk,
    iv: iv.toString('base64url'),
  };
  const headerBytes = canonicalJsonBytes(header);

  const key = contentKey(
    ephemeral.privateKey,
    recipientKey,
    Buffer.from(epk, 'base64url'),
    recipient.encryptionPublicKey,
    kind,
  );
  if (key === undefined) {
    throw invalidArgument(
      `The encryption key registered for ${to} is a low-order X25519 point, which agrees no secret; it cannot be encrypted to.`,
    );
  }
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(headerBytes);
  const encrypted = cipher.update(body);
  cipher.final(); // GCM is a stream mode: final() emits no bytes, it computes the tag
  const ciphertext = Buffer.concat([encrypted, cipher.getAuthTag()]);
  key.fill(0);

  const signature = await sign({
    hash: signingHash(headerBytes, ciphertext),
    privateKey: sender.signingKey,
    to: 'hex',
  });
  return { ...header, ciphertext: ciphertext.toString('base64url'), signature };
}

/**
 * Opens an envelope received from another gateway, checking, in this order (cheapest and least revealing first,
 * and nothing decrypted before the signature and freshness are established):
 *
 * 1. shape: a plain JSON object of exactly this format's members, each of its type, encoding and size
 *    (`ENVELOPE.MALFORMED`, naming the member); `format` first, so another version says so
 *    (`ENVELOPE.UNSUPPORTED_FORMAT`);
 * 2. `kind` is `expectedKind` (`ENVELOPE.WRONG_KIND`); 3. `to` is us (`ENVELOPE.NOT_FOR_US`);
 * 4. time: a time to live within `maxTtlMs` (`ENVELOPE.MALFORMED`), issued no more than `maxSkewMs` ahead of our
 *    clock (`ENVELOPE.CLOCK_SKEW`), not expired more than `maxSkewMs` ago (`ENVELOPE.EXPIRED`);
 * 5. the signature recovers `from` (`ENVELOPE.BAD_SIGNATURE`), which is `expectedFrom` if given
 *    (`ENVELOPE.WRONG_SENDER`) and passes `acceptSender` if given (`ENVELOPE.SENDER_NOT_ALLOWED`);
 * 6. `inReplyTo` is the one given (`ENVELOPE.NOT_A_REPLY`);
 * 7. the nonce is new from this sender, and is then remembered until `expiresAt + maxSkewMs`
 *    (`ENVELOPE.REPLAYED`, or what the guard throws, e.g. `ENVELOPE.REPLAY_GUARD_FULL`);
 * 8. decryption (`ENVELOPE.UNDECRYPTABLE`: authentic, but not sealed to our key).
 *
 * Whatever `input` is, the only errors are {@link EnvelopeError}s (or what `replay` or `acceptSender` throw).
 * The caller must still check that `from` is an organisation it exchanges with (see the module comment).
 */
export async function openEnvelope(input: unknown, options: OpenEnvelopeOptions): Promise<OpenedEnvelope> {
  const settings = checkOpenOptions(options);
  const { now, maxSkewMs, maxTtlMs } = settings;
  const envelope = parseEnvelope(input, settings.maxBodyBytes);
  const { header } = envelope;

  if (header.kind !== options.expectedKind) {
    throw new EnvelopeError(
      EnvelopeErrorCode.WRONG_KIND,
      `Expected a ${options.expectedKind} envelope but received a ${header.kind}.`,
      { details: { expected: options.expectedKind, received: header.kind } },
    );
  }
  if (header.to !== settings.ourAddress) {
    throw new EnvelopeError(
      EnvelopeErrorCode.NOT_FOR_US,
      `The envelope is addressed to ${header.to}, not to this organisation (${settings.ourAddress}); the sender must seal it for the organisation it calls.`,
      { details: { to: header.to } },
    );
  }

  const ttl = header.expiresAt - header.issuedAt;
  if (ttl <= 0) throw malformed('expiresAt', 'must be later than issuedAt');
  if (ttl > maxTtlMs) throw malformed('expiresAt', `must be at most ${maxTtlMs} ms after issuedAt`);
  if (header.issuedAt > now + maxSkewMs) {
    throw new EnvelopeError(
      EnvelopeErrorCode.CLOCK_SKEW,
      `The envelope was issued at ${isoTime(header.issuedAt)}, more than ${maxSkewMs} ms ahead of this gateway's clock (${isoTime(now)}); one of the two clocks is wrong.`,
      { details: { issuedAt: header.issuedAt, now, maxSkewMs } },
    );
  }
  if (now > header.expiresAt + maxSkewMs) {
    throw new EnvelopeError(
      EnvelopeErrorCode.EXPIRED,
      `The envelope expired at ${isoTime(header.expiresAt)} (now ${isoTime(now)}, ${maxSkewMs} ms of clock skew allowed); the sender must seal a fresh one.`,
      { details: { expiresAt: header.expiresAt, now, maxSkewMs } },
    );
  }

  const headerBytes = canonicalJsonBytes(header);
  const signer = await recoverSigner(signingHash(headerBytes, envelope.ciphertext), envelope.signature);
  if (signer === undefined || signer.toLowerCase() !== header.from) {
    throw new EnvelopeError(
      EnvelopeErrorCode.BAD_SIGNATURE,
      `The signature does not prove that ${header.from} sent this envelope: it was altered in transit, or signed with another key than that address's.`,
      { details: { from: header.from } },
    );
  }
  if (settings.expectedFrom !== undefined && header.from !== settings.expectedFrom) {
    throw new EnvelopeError(
      EnvelopeErrorCode.WRONG_SENDER,
      `The envelope comes from ${header.from}, not from ${settings.expectedFrom}, the organisation this exchange is with.`,
      { details: { from: header.from, expectedFrom: settings.expectedFrom } },
    );
  }
  if (options.acceptSender !== undefined && !(await options.acceptSender(signer))) {
    throw new EnvelopeError(
      EnvelopeErrorCode.SENDER_NOT_ALLOWED,
      `${signer} is not an organisation this gateway exchanges with.`,
      { details: { from: signer } },
    );
  }
  if (options.inReplyTo !== undefined && header.inReplyTo !== options.inReplyTo) {
    throw new EnvelopeError(
      EnvelopeErrorCode.NOT_A_REPLY,
      'The response does not answer the request it was received for (its inReplyTo names another request).',
      { details: { expected: options.inReplyTo } },
    );
  }
  if (options.replay.seen(header.from, header.nonce, header.expiresAt + maxSkewMs, now)) {
    throw new EnvelopeError(
      EnvelopeErrorCode.REPLAYED,
      `An envelope from ${header.from} with this nonce was already received: this is a replay (or a retry that must be sealed afresh).`,
      { details: { from: header.from, nonce: header.nonce } },
    );
  }

  const body = decrypt(envelope, headerBytes, options.recipient.encryptionPrivateKey);
  return {
    from: signer,
    nonce: header.nonce,
    issuedAt: header.issuedAt,
    body,
    ...(header.inReplyTo === undefined ? {} : { inReplyTo: header.inReplyTo }),
  };
}

interface ParsedEnvelope {
  header: EnvelopeHeader;
  epk: Uint8Array;
  iv: Uint8Array;
  ciphertext: Uint8Array;
  signature: Hex;
}

interface OpenSettings {
  ourAddress: string;
  expectedFrom: string | undefined;
  now: number;
  maxSkewMs: number;
  maxTtlMs: number;
  maxBodyBytes: number;
}

function checkOpenOptions(options: OpenEnvelopeOptions): OpenSettings {
  const nonNegative = (value: number | undefined, fallback: number, name: string): number => {
    const result = value ?? fallback;
    if (!Number.isSafeInteger(result) || result < 0) {
      throw invalidArgument(`${name} must be a non-negative integer count of ms.`);
    }
    return result;
  };
  const key = options.recipient.encryptionPrivateKey;
  if (!(key instanceof Uint8Array) || key.length !== X25519_KEY_BYTES) {
    throw invalidArgument('recipient.encryptionPrivateKey must be the 32-byte X25519 private key.');
  }
  if (options.expectedKind !== 'request' && options.expectedKind !== 'response') {
    throw invalidArgument('expectedKind must be "request" or "response".');
  }
  if (options.inReplyTo !== undefined && !isNonce(options.inReplyTo)) {
    throw invalidArgument('inReplyTo must be the nonce of the request sent (16 bytes, base64url).');
  }
  const maxBodyBytes = options.maxBodyBytes ?? MAX_ENVELOPE_BODY_BYTES;
  if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes < 0 || maxBodyBytes > MAX_ENVELOPE_BODY_BYTES) {
    throw invalidArgument(`maxBodyBytes must be an integer from 0 to ${MAX_ENVELOPE_BODY_BYTES}.`);
  }
  return {
    ourAddress: lowerCaseAddress(options.recipient.address, 'recipient.address'),
    expectedFrom:
      options.expectedFrom === undefined ? undefined : lowerCaseAddress(options.expectedFrom, 'expectedFrom'),
    now: nonNegative(options.now, Date.now(), 'now'),
    maxSkewMs: nonNegative(options.maxSkewMs, DEFAULT_MAX_CLOCK_SKEW_MS, 'maxSkewMs'),
    maxTtlMs: nonNegative(options.maxTtlMs, DEFAULT_MAX_ENVELOPE_TTL_MS, 'maxTtlMs'),
    maxBodyBytes,
  };
}

/**
 * Step 1 of {@link openEnvelope}: the strict shape. Anything unexpected — including a getter or proxy that throws
 * on a value that did not come from JSON.parse — ends as `ENVELOPE.MALFORMED`, never as a foreign exception.
 */
function parseEnvelope(input: unknown, maxBodyBytes: number): ParsedEnvelope {
  try {
    return parseEnvelopeUnguarded(input, maxBodyBytes);
  } catch (error) {
    if (error instanceof CareLedgerError) throw error;
    throw new EnvelopeError(
      EnvelopeErrorCode.MALFORMED,
      'Malformed envelope: it cannot be read as JSON data.',
      {
        details: { field: '', reason: 'reading it threw' },
        cause: error,
      },
    );
  }
}

function parseEnvelopeUnguarded(input: unknown, maxBodyBytes: number): ParsedEnvelope {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw malformed('', 'must be a JSON object');
  }
  const prototype: unknown = Object.getPrototypeOf(input);
  if (prototype !== Object.prototype && prototype !== null)
    throw malformed('', 'must be a plain JSON object');
  const object = input as Record<string, unknown>;
  const has = (member: string): boolean => Object.prototype.hasOwnProperty.call(object, member);

  // The format first: an envelope of another version may well have other members, and should be told so.
  if (!has('format')) throw malformed('format', 'is missing');
  const format = object.format;
  if (typeof format !== 'string') throw malformed('format', 'must be a string');
  if (format !== ENVELOPE_FORMAT) {
    throw new EnvelopeError(
      EnvelopeErrorCode.UNSUPPORTED_FORMAT,
      `The envelope format ${JSON.stringify(format.slice(0, 64))} is not supported; this gateway speaks "${ENVELOPE_FORMAT}".`,
      { details: { supported: ENVELOPE_FORMAT } },
    );
  }
  for (const member of Object.keys(object)) {
    if (!ALL_MEMBERS.has(member)) throw malformed(member.slice(0, 64), 'is not a member of this format');
  }
  for (const member of [...HEADER_MEMBERS, 'ciphertext', 'signature']) {
    if (!has(member)) throw malformed(member, 'is missing');
  }

  const kind = object.kind;
  if (kind !== 'request' && kind !== 'response') throw malformed('kind', 'must be "request" or "response"');
  const from = address(object.from, 'from');
  const to = address(object.to, 'to');
  const nonce = object.nonce;
  decodeBase64url(nonce, 'nonce', NONCE_BYTES, NONCE_BYTES);
  const issuedAt = time(object.issuedAt, 'issuedAt');
  const expiresAt = time(object.expiresAt, 'expiresAt');
  let inReplyTo: string | undefined;
  if (has('inReplyTo')) {
    if (kind === 'request') throw malformed('inReplyTo', 'is only for responses');
    decodeBase64url(object.inReplyTo, 'inReplyTo', NONCE_BYTES, NONCE_BYTES);
    inReplyTo = object.inReplyTo as string;
  } else if (kind === 'response') {
    throw malformed('inReplyTo', 'is missing (a response names the request it answers)');
  }
  const epk = decodeBase64url(object.epk, 'epk', EPK_BYTES, EPK_BYTES);
  const iv = decodeBase64url(object.iv, 'iv', IV_BYTES, IV_BYTES);
  const ciphertext = decodeBase64url(object.ciphertext, 'ciphertext', TAG_BYTES, maxBodyBytes + TAG_BYTES);
  const signature = object.signature;
  if (typeof signature !== 'string' || !SIGNATURE_RE.test(signature)) {
    throw malformed('signature', 'must be 65 bytes of lower-case 0x-prefixed hex');
  }

  const header: EnvelopeHeader = {
    format: ENVELOPE_FORMAT,
    kind,
    from,
    to,
    nonce: nonce as string,
    issuedAt,
    expiresAt,
    ...(inReplyTo === undefined ? {} : { inReplyTo }),
    epk: object.epk as string,
    iv: object.iv as string,
  };
  return { header, epk, iv, ciphertext, signature: signature as Hex };
}

function address(value: unknown, field: string): Hex {
  if (typeof value !== 'string' || !ADDRESS_RE.test(value)) {
    throw malformed(field, 'must be a chain address in lower-case 0x-prefixed hex (20 bytes)');
  }
  return value as Hex;
}

function time(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw malformed(field, 'must be a non-negative integer count of ms since the epoch');
  }
  return value;
}

/**
 * Decodes unpadded base64url (RFC 4648 §5) of `minBytes`..`maxBytes` bytes, refusing every other spelling:
 * Node's decoder skips characters it does not know and ignores the spare low bits of the last character, so
 * without these checks several strings would decode to the same bytes.
 */
function decodeBase64url(value: unknown, field: string, minBytes: number, maxBytes: number): Uint8Array {
  const size = minBytes === maxBytes ? `${minBytes} bytes` : `${minBytes} to ${maxBytes} bytes`;
  if (typeof value !== 'string') throw malformed(field, `must be a base64url string (${size})`);
  // Lengths first: cheap, and they keep an oversize string from being scanned or decoded at all.
  if (value.length > base64urlLength(maxBytes)) throw malformed(field, `is longer than ${size}`);
  if (value.length < base64urlLength(minBytes)) throw malformed(field, `is shorter than ${size}`);
  if (value.length % 4 === 1 || !BASE64URL_RE.test(value)) {
    throw malformed(field, 'must be unpadded base64url (A-Z a-z 0-9 - _)');
  }
  const decoded = Buffer.from(value, 'base64url');
  const tailChars = value.length % 4;
  if (tailChars !== 0) {
    const tailBytes = tailChars - 1; // 2 characters carry 1 byte, 3 carry 2
    if (decoded.subarray(decoded.length - tailBytes).toString('base64url') !== value.slice(-tailChars)) {
      throw malformed(field, 'is not canonical base64url (its last character has spare bits set)');
    }
  }
  return decoded;
}

function base64urlLength(bytes: number): number {
  return Math.ceil((bytes * 4) / 3);
}

function isNonce(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length === base64urlLength(NONCE_BYTES) &&
    BASE64URL_RE.test(value) &&
    Buffer.from(value, 'base64url').toString('base64url') === value
  );
}

function signingHash(headerBytes: Uint8Array, ciphertext: Uint8Array): Hex {
  const message = new Uint8Array(SIGNING_DOMAIN.length + headerBytes.length + 32);
  message.set(SIGNING_DOMAIN, 0);
  message.set(headerBytes, SIGNING_DOMAIN.length);
  message.set(sha256(ciphertext), SIGNING_DOMAIN.length + headerBytes.length);
  return keccak256(message);
}

/**
 * The address that made `signature` over `hash`, or undefined when it is not a valid signature in its one
 * canonical form: v must be 27 or 28 (not also 0 or 1) and s in the lower half of the group order, so that no
 * changed byte of a signature still recovers the same address.
 */
async function recoverSigner(hash: Hex, signature: Hex): Promise<Hex | undefined> {
  const v = signature.slice(130);
  if (v !== '1b' && v !== '1c') return undefined;
  const r = BigInt(`0x${signature.slice(2, 66)}`);
  const s = BigInt(`0x${signature.slice(66, 130)}`);
  if (r === 0n || r >= SECP256K1_N || s === 0n || s > SECP256K1_HALF_N) return undefined;
  try {
    return await recoverAddress({ hash, signature });
  } catch {
    return undefined; // r is not the x coordinate of a curve point, or the recovered point is at infinity
  }
}

function decrypt(envelope: ParsedEnvelope, headerBytes: Uint8Array, privateKeyBytes: Uint8Array): Uint8Array {
  const undecryptable = (cause?: unknown): EnvelopeError =>
    new EnvelopeError(
      EnvelopeErrorCode.UNDECRYPTABLE,
      'The envelope is authentic but was not encrypted to this organisation’s current encryption key; the sender ' +
        'must seal it again with the key now registered for this organisation.',
      { details: { from: envelope.header.from }, cause },
    );
  const der = Buffer.concat([PKCS8_X25519_PREFIX, privateKeyBytes]);
  let privateKey: KeyObject;
  let ephemeral: KeyObject;
  try {
    privateKey = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
    ephemeral = x25519PublicKeyObject(envelope.epk);
  } catch (error) {
    throw undecryptable(error);
  } finally {
    der.fill(0);
  }
  const ourPublicKey = Buffer.from(
    createPublicKey(privateKey).export({ format: 'jwk' }).x as string,
    'base64url',
  );
  const key = contentKey(privateKey, ephemeral, envelope.epk, ourPublicKey, envelope.header.kind);
  if (key === undefined) throw undecryptable();

  const ciphertext = envelope.ciphertext;
  const tagStart = ciphertext.length - TAG_BYTES;
  const decipher = createDecipheriv('aes-256-gcm', key, envelope.iv, { authTagLength: TAG_BYTES });
  decipher.setAuthTag(ciphertext.subarray(tagStart));
  decipher.setAAD(headerBytes);
  const plaintext = decipher.update(ciphertext.subarray(0, tagStart));
  try {
    decipher.final();
  } catch (error) {
    plaintext.fill(0); // never leave unauthenticated plaintext lying around
    throw undecryptable(error);
  } finally {
    key.fill(0);
  }
  return new Uint8Array(plaintext.buffer, plaintext.byteOffset, plaintext.byteLength);
}

/**
 * The one-use AES-256 key: HKDF-SHA256 of the X25519 shared secret, salted with the ephemeral and the recipient's
 * public key (binding the key to both ends) and labelled with the kind. Undefined when the peer's key is a
 * low-order point (all-zero shared secret), which must never be used as a key.
 */
function contentKey(
  privateKey: KeyObject,
  publicKey: KeyObject,
  ephemeralPublic: Uint8Array,
  recipientPublic: Uint8Array,
  kind: EnvelopeKind,
): Buffer | undefined {
  let shared: Buffer;
  try {
    shared = diffieHellman({ privateKey, publicKey });
  } catch {
    return undefined; // OpenSSL refuses an all-zero X25519 result itself
  }
  try {
    if (shared.every((byte) => byte === 0)) return undefined;
    const salt = Buffer.concat([ephemeralPublic, recipientPublic]);
    return Buffer.from(hkdfSync('sha256', shared, salt, HKDF_INFO[kind], 32));
  } finally {
    shared.fill(0);
  }
}

function x25519PublicKeyObject(raw: Uint8Array): KeyObject {
  return createPublicKey({
    key: {
      kty: 'OKP',
      crv: 'X25519',
      x: Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64url'),
    },
    format: 'jwk',
  });
}

function lowerCaseAddress(value: unknown, name: string): Hex {
  if (!isHex(value, 20))
    throw invalidArgument(`${name} must be a chain address (0x followed by 40 hex digits).`);
  return value.toLowerCase() as Hex;
}

// One secp256k1 point multiplication (~0.3 ms) per seal is as much as the signature itself, and a gateway seals
// with one key: remember the address of the last key (the caller holds that key string anyway).
let lastSigner: { key: Hex; address: string } | undefined;

function addressOfKey(signingKey: Hex): string {
  if (lastSigner?.key !== signingKey) {
    lastSigner = { key: signingKey, address: privateKeyToAddress(signingKey).toLowerCase() };
  }
  return lastSigner.address;
}

function invalidArgument(message: string, cause?: unknown): EnvelopeError {
  return new EnvelopeError(EnvelopeErrorCode.INVALID_ARGUMENT, message, cause === undefined ? {} : { cause });
}

function isoTime(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? `${ms} ms` : date.toISOString();
}
