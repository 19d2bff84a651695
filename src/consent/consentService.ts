import { getAddress, isAddress, zeroAddress, type Address } from 'viem';
import { InvalidInputError, NotFoundError } from '../core/errors.js';
import { isHex, type Hex } from '../core/hex.js';
import type { PatientLinkService } from '../patients/patientLinkService.js';
import { FHIR_ID_RE, SUPPORTED_RESOURCE_TYPES, isSupportedResourceType } from '../records/supportedTypes.js';
import {
  ALL_PURPOSES,
  CONSENT_TYPES,
  categoryScope,
  purposesToMask,
  resourceScope,
  scopeHash,
  typeScope,
  type ConsentDomain,
  type ConsentTerms,
} from './consentTypedData.js';
import { WELL_KNOWN_CATEGORIES, type ConsentViewContext } from './fhirConsentView.js';
import type { ConsentLedger, ConsentRecord, ConsentTransaction } from './ports.js';

/**
 * The consent use cases of a gateway, between its HTTP API (or any other adapter) and the `ConsentRegistry`:
 * what a client needs to sign, relaying what patients and their delegates signed, and reading a Patient's
 * consents back. Every input is checked here, with an `InvalidInputError` that names the field and says what is
 * expected, before anything is asked of the chain; what only the chain can tell (a signature that is not the
 * signer's, a replayed nonce, a signer who may not act for the patient) comes back from the adapter as its own
 * `CareLedgerError`s.
 *
 * The registry stores scope hashes only; this service remembers, in process, the scope string behind every hash it
 * has seen (and always knows the type scopes of the supported resource types and the common category codes), so
 * the readable view can say `type:Observation` rather than a hash.
 */

/** A whole number of the request: a JSON number (a safe integer) or a string of decimal digits. */
export type IntegerInput = number | string;

/** The terms of a grant as a client sends them; `ConsentTerms` once checked. */
export interface GrantTermsInput {
  patient: string;
  grantee: string;
  /**
   * 1–32 scopes: scope strings (`type:Observation`, `category:laboratory`, `resource:DocumentReference/<id>`),
   * which are hashed here, or their keccak-256 hashes (`0x` + 64 hex digits), used as they are.
   */
  scopes: readonly string[];
  /** Purpose-of-use codes (`["TREAT", "HPAYMT"]`) or the on-chain bitmask. */
  purposes: readonly string[] | number;
  /** UNIX seconds; default 0 (in force at once). */
  validFrom?: IntegerInput | undefined;
  validUntil: IntegerInput;
  /** UNIX seconds, inclusive; default 0 (unbounded). */
  dataFrom?: IntegerInput | undefined;
  dataUntil?: IntegerInput | undefined;
}

/** The fields every signed message carries. */
interface SignedInput {
  /** UNIX seconds after which the signature is refused. */
  deadline: IntegerInput;
  /** 65-byte ECDSA signature (`0x` + 130 hex digits) of the EIP-712 message. */
  signature: string;
}

export interface GrantInput extends SignedInput {
  terms: GrantTermsInput;
  /** The patient or one of their delegates. */
  signer: string;
}

export interface RevokeInput extends SignedInput {
  consentId: IntegerInput;
  signer: string;
}

export interface AppointDelegateInput extends SignedInput {
  /** The patient, who alone may appoint and signs the message. */
  patient: string;
  delegate: string;
  /** UNIX seconds at which the delegation lapses; default 0 (until removed). */
  until?: IntegerInput | undefined;
}

export interface RemoveDelegateInput extends SignedInput {
  patient: string;
  delegate: string;
  /** The patient or the delegate. */
  signer: string;
}

/** What a client needs to sign a consent message for `address`. */
export interface SigningInfo {
  address: Address;
  domain: ConsentDomain;
  types: typeof CONSENT_TYPES;
  /** The nonce the next message signed by `address` must carry. */
  nonce: bigint;
}

/** A scope as granted: its hash and, when this gateway knows it, the scope string. */
export interface ScopeView {
  hash: Hex;
  scope: string | null;
}

export interface GrantResult extends ConsentTransaction {
  consentId: bigint;
  /** The Patient the consent's patient address is linked to here, if any. */
  patientId: string | null;
  scopes: ScopeView[];
}

export interface RevokeResult extends ConsentTransaction {
  consentId: bigint;
}

export interface PatientConsents {
  patientId: string;
  address: Address;
  /** Every consent granted for that address, in grant order, revoked and lapsed ones included. */
  consents: ConsentRecord[];
}

export interface ConsentServiceOptions {
  ledger: ConsentLedger;
  patients: Pick<PatientLinkService, 'get' | 'patientOf'>;
  /** Milliseconds since the epoch; default `Date.now`. */
  now?: () => number;
  /** How many learned scope strings and relayed transactions are remembered; default 10,000 each. */
  memorySize?: number;
}

const UINT64_MAX = (1n << 64n) - 1n;
const UINT256_MAX = (1n << 256n) - 1n;
const MAX_SCOPES = 32;
const MAX_SCOPE_LENGTH = 200;
/** FHIR `code`: no leading or trailing whitespace, single spaces inside. */
const CATEGORY_CODE_RE = /^[^\s]+( [^\s]+)*$/;
const HASH_RE = /^0x[0-9a-fA-F]{64}$/;
const DECIMAL_RE = /^(0|[1-9][0-9]*)$/;
const ZERO_HASH: Hex = `0x${'0'.repeat(64)}`;

function invalid(code: string, message: string, details?: Record<string, unknown>): InvalidInputError {
  return new InvalidInputError(code, message, details ? { details } : {});
}

/** A checksummed address, or a 400 naming `field`. Mixed case must be a valid EIP-55 checksum. */
export function parseAddress(value: unknown, field: string, options: { allowZero?: boolean } = {}): Address {
  if (typeof value !== 'string' || !/^0x[0-9a-fA-F]{40}$/.test(value)) {
    throw invalid(
      'CONSENT.INVALID_ADDRESS',
      `${field} must be a chain address (0x followed by 40 hex digits), got ${describe(value)}.`,
      { field },
    );
  }
  if (!isAddress(value)) {
    throw invalid(
      'CONSENT.INVALID_ADDRESS',
      `${field} ${value} has mixed case but not the EIP-55 checksum of an address: check it for typos, or send it ` +
        `all lower-case.`,
      { field },
    );
  }
  const address = getAddress(value);
  if (!options.allowZero && address === zeroAddress) {
    throw invalid('CONSENT.ZERO_ADDRESS', `${field} is the zero address; it must name an account.`, {
      field,
    });
  }
  return address;
}

/** A whole number in [0, max], from a safe-integer JSON number or a decimal string; else a 400 naming `field`. */
export function parseInteger(value: unknown, field: string, max: bigint, what = 'a whole number'): bigint {
  let n: bigint | undefined;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) n = BigInt(value);
  else if (typeof value === 'string' && value.length <= 78 && DECIMAL_RE.test(value)) n = BigInt(value);
  if (n === undefined) {
    throw invalid(
      'CONSENT.INVALID_INTEGER',
      `${field} must be ${what} (a non-negative integer, as a JSON number or a string of decimal digits), got ` +
        `${describe(value)}.`,
      { field },
    );
  }
  if (n > max) {
    throw invalid('CONSENT.INVALID_INTEGER', `${field} is ${n}, more than the largest allowed, ${max}.`, {
      field,
    });
  }
  return n;
}

function parseSignature(value: unknown): Hex {
  if (!isHex(value, 65)) {
    throw invalid(
      'CONSENT.INVALID_SIGNATURE_FORMAT',
      `signature must be a 65-byte ECDSA signature (0x followed by 130 hex digits), got ${describe(value)}.`,
      { field: 'signature' },
    );
  }
  return value.toLowerCase() as Hex;
}

/** UNIX seconds of `deadline`, refused (400) if it has passed: the registry would refuse it anyway. */
function parseDeadline(value: unknown, nowSeconds: bigint): bigint {
  const deadline = parseInteger(value, 'deadline', UINT256_MAX, 'UNIX seconds');
  if (deadline < nowSeconds) {
    throw invalid(
      'CONSENT.SIGNATURE_EXPIRED',
      `The signed message expired at ${isoOf(deadline)} (deadline ${deadline}); it is now ${isoOf(nowSeconds)}. ` +
        `Ask the signer to sign it again with a later deadline.`,
      { field: 'deadline', deadline: deadline.toString() },
    );
  }
  return deadline;
}

/** A parsed consent scope: its on-chain hash and, for a scope string, the string. */
export interface ParsedScope {
  hash: Hex;
  scope: string | null;
}

/**
 * Checks one scope as a client gives it: `type:<ResourceType>` and `resource:<ResourceType>/<id>` for the
 * supported resource types, `category:<code>` for any FHIR code, or a non-zero keccak-256 hash.
 */
export function parseScope(value: unknown, index = 0): ParsedScope {
  const field = `terms.scopes[${index}]`;
  const expected =
    'a scope string (type:<ResourceType>, category:<code>, resource:<ResourceType>/<id>) or the keccak-256 hash ' +
    'of one (0x followed by 64 hex digits)';
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_SCOPE_LENGTH) {
    throw invalid('CONSENT.INVALID_SCOPE', `${field} must be ${expected}, got ${describe(value)}.`, {
      field,
    });
  }
  if (value.startsWith('0x')) {
    if (!HASH_RE.test(value)) {
      throw invalid('CONSENT.INVALID_SCOPE', `${field} must be ${expected}, got ${describe(value)}.`, {
        field,
      });
    }
    const hash = value.toLowerCase() as Hex;
    if (hash === ZERO_HASH) {
      throw invalid(
        'CONSENT.ZERO_SCOPE',
        `${field} is the zero hash; it must be the hash of a scope string.`,
        {
          field,
        },
      );
    }
    return { hash, scope: null };
  }
  const colon = value.indexOf(':');
  const kind = colon < 0 ? '' : value.slice(0, colon);
  const rest = colon < 0 ? '' : value.slice(colon + 1);
  const supported = SUPPORTED_RESOURCE_TYPES.join(', ');
  switch (kind) {
    case 'type':
      if (!isSupportedResourceType(rest)) {
        throw invalid(
          'CONSENT.INVALID_SCOPE',
          `${field} "${value}" names an unsupported resource type; type scopes are type:<ResourceType> with one ` +
            `of ${supported} (case matters).`,
          { field, supportedTypes: [...SUPPORTED_RESOURCE_TYPES] },
        );
      }
      return { hash: scopeHash(typeScope(rest)), scope: typeScope(rest) };
    case 'category':
      if (!CATEGORY_CODE_RE.test(rest)) {
        throw invalid(
          'CONSENT.INVALID_SCOPE',
          `${field} "${value}" has no valid category code after "category:" (a FHIR code such as laboratory ` +
            `or problem-list-item, without surrounding spaces).`,
          { field },
        );
      }
      return { hash: scopeHash(categoryScope(rest)), scope: categoryScope(rest) };
    case 'resource': {
      const slash = rest.indexOf('/');
      const type = slash < 0 ? '' : rest.slice(0, slash);
      const id = slash < 0 ? '' : rest.slice(slash + 1);
      if (!isSupportedResourceType(type) || !FHIR_ID_RE.test(id)) {
        throw invalid(
          'CONSENT.INVALID_SCOPE',
          `${field} "${value}" must be resource:<ResourceType>/<id>, with one of ${supported} and a FHIR id ` +
            `(1–64 letters, digits, "-" and "."), e.g. resource:DocumentReference/123.`,
          { field },
        );
      }
      return { hash: scopeHash(resourceScope(type, id)), scope: resourceScope(type, id) };
    }
    default:
      throw invalid('CONSENT.INVALID_SCOPE', `${field} must be ${expected}, got ${describe(value)}.`, {
        field,
      });
  }
}

/** The purposes mask from codes or a mask; a 400 for an empty list, unknown codes or undefined bits. */
export function parsePurposes(value: unknown): number {
  if (Array.isArray(value)) {
    if (value.length === 0 || value.some((code) => typeof code !== 'string')) {
      throw invalid(
        'CONSENT.INVALID_PURPOSES',
        'terms.purposes must list one or more purpose-of-use codes, e.g. ["TREAT", "HPAYMT"].',
        { field: 'terms.purposes' },
      );
    }
    return purposesToMask(value as string[]);
  }
  if (typeof value === 'number' && Number.isInteger(value) && value > 0 && (value & ~ALL_PURPOSES) === 0) {
    return value;
  }
  throw invalid(
    'CONSENT.INVALID_PURPOSES',
    `terms.purposes must be a list of purpose-of-use codes (TREAT, ETREAT, HPAYMT, HRESCH, PUBHLTH, HOPERAT, ` +
      `PATRQT) or their bitmask (1–${ALL_PURPOSES}), got ${describe(value)}.`,
    { field: 'terms.purposes' },
  );
}

function parseConsentId(value: unknown): bigint {
  const text = typeof value === 'string' && value.startsWith('chain-') ? value.slice(6) : value;
  const id = parseInteger(text, 'consentId', UINT256_MAX, 'a consent id');
  if (id === 0n)
    throw invalid('CONSENT.INVALID_INTEGER', 'consentId must be 1 or more.', { field: 'consentId' });
  return id;
}

function requireObject(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid('CONSENT.INVALID_REQUEST', `${field} must be a JSON object, got ${describe(value)}.`, {
      field,
    });
  }
  return value as Record<string, unknown>;
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = typeof value === 'bigint' ? value.toString() : JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function isoOf(seconds: bigint): string {
  return seconds <= 253_402_300_799n
    ? new Date(Number(seconds) * 1000).toISOString()
    : `${seconds} (UNIX seconds)`;
}

/** A Map that forgets its oldest entries beyond `max`. */
class BoundedMap<K, V> extends Map<K, V> {
  constructor(private readonly max: number) {
    super();
  }
  override set(key: K, value: V): this {
    super.delete(key);
    super.set(key, value);
    while (this.size > this.max) super.delete(this.keys().next().value as K);
    return this;
  }
}

/** The scope strings every gateway knows without having seen them: supported types and common categories. */
function wellKnownScopes(): Map<Hex, string> {
  const known = new Map<Hex, string>();
  for (const type of SUPPORTED_RESOURCE_TYPES) known.set(scopeHash(typeScope(type)), typeScope(type));
  for (const { code } of WELL_KNOWN_CATEGORIES)
    known.set(scopeHash(categoryScope(code)), categoryScope(code));
  return known;
}

const WELL_KNOWN_SCOPES = wellKnownScopes();

export class ConsentService {
  private readonly ledger: ConsentLedger;
  private readonly patients: Pick<PatientLinkService, 'get' | 'patientOf'>;
  private readonly now: () => number;
  private readonly learnedScopes: BoundedMap<Hex, string>;
  /** Keyed by registry and consent id. */
  private readonly transactions: BoundedMap<
    string,
    { grant?: ConsentTransaction; revocation?: ConsentTransaction }
  >;

  constructor(options: ConsentServiceOptions) {
    this.ledger = options.ledger;
    this.patients = options.patients;
    this.now = options.now ?? Date.now;
    const size = Math.max(1, options.memorySize ?? 10_000);
    this.learnedScopes = new BoundedMap(size);
    this.transactions = new BoundedMap(size);
  }

  /** The EIP-712 domain, the message types and `address`'s next nonce (read from the chain). */
  async signingInfo(address: unknown): Promise<SigningInfo> {
    const checked = parseAddress(address, 'address');
    const [domain, nonce] = await Promise.all([this.ledger.domain(), this.ledger.nonceOf(checked)]);
    return { address: checked, domain, types: CONSENT_TYPES, nonce };
  }

  /** Checks a signed grant and relays it; resolves once mined, with the new consent's id. */
  async grant(input: GrantInput): Promise<GrantResult> {
    const body = requireObject(input, 'the request body');
    const terms = requireObject(body.terms, 'terms');
    const patient = parseAddress(terms.patient, 'terms.patient');
    const grantee = parseAddress(terms.grantee, 'terms.grantee');
    if (grantee === patient) {
      throw invalid(
        'CONSENT.INVALID_GRANTEE',
        'terms.grantee is the patient: a consent grants access to someone else (an organisation or a practitioner).',
        { field: 'terms.grantee' },
      );
    }
    if (!Array.isArray(terms.scopes) || terms.scopes.length === 0 || terms.scopes.length > MAX_SCOPES) {
      throw invalid(
        'CONSENT.INVALID_SCOPE_COUNT',
        `terms.scopes must list 1 to ${MAX_SCOPES} scopes, e.g. ["type:Observation", "category:laboratory"]; got ` +
          `${Array.isArray(terms.scopes) ? `${terms.scopes.length}` : describe(terms.scopes)}.`,
        { field: 'terms.scopes' },
      );
    }
    const scopes = (terms.scopes as unknown[]).map((scope, i) => parseScope(scope, i));
    const purposes = parsePurposes(terms.purposes);
    const validFrom =
      terms.validFrom === undefined
        ? 0n
        : parseInteger(terms.validFrom, 'terms.validFrom', UINT64_MAX, 'UNIX seconds');
    const validUntil = parseInteger(terms.validUntil, 'terms.validUntil', UINT64_MAX, 'UNIX seconds');
    const dataFrom =
      terms.dataFrom === undefined
        ? 0n
        : parseInteger(terms.dataFrom, 'terms.dataFrom', UINT64_MAX, 'UNIX seconds');
    const dataUntil =
      terms.dataUntil === undefined
        ? 0n
        : parseInteger(terms.dataUntil, 'terms.dataUntil', UINT64_MAX, 'UNIX seconds');
    const now = this.nowSeconds();
    if (validUntil <= validFrom || validUntil <= now) {
      throw invalid(
        'CONSENT.INVALID_VALIDITY',
        `The validity period from ${isoOf(validFrom)} until ${isoOf(validUntil)} is empty or already over: ` +
          `terms.validUntil must be after terms.validFrom and in the future.`,
        { field: 'terms.validUntil' },
      );
    }
    if (dataFrom !== 0n && dataUntil !== 0n && dataFrom > dataUntil) {
      throw invalid(
        'CONSENT.INVALID_DATA_RANGE',
        `The data date range is inverted: terms.dataFrom ${isoOf(dataFrom)} is after terms.dataUntil ` +
          `${isoOf(dataUntil)}.`,
        { field: 'terms.dataFrom' },
      );
    }
    const signer = parseAddress(body.signer, 'signer');
    const deadline = parseDeadline(body.deadline, now);
    const signature = parseSignature(body.signature);

    const checked: ConsentTerms = {
      patient,
      grantee,
      scopes: scopes.map((s) => s.hash),
      purposes,
      validFrom,
      validUntil,
      dataFrom,
      dataUntil,
    };
    const receipt = await this.ledger.relayGrant(checked, signer, deadline, signature);
    for (const s of scopes) if (s.scope !== null) this.rememberScope(s.scope, s.hash);
    const { consentId, transactionHash, blockNumber } = receipt;
    this.transactions.set(this.txKey(consentId), { grant: { transactionHash, blockNumber } });
    return {
      consentId,
      transactionHash,
      blockNumber,
      patientId: this.patients.patientOf(patient) ?? null,
      scopes: scopes.map((s) => ({ hash: s.hash, scope: s.scope ?? this.scopeName(s.hash) ?? null })),
    };
  }

  /** Checks a signed revocation and relays it. */
  async revoke(input: RevokeInput): Promise<RevokeResult> {
    const body = requireObject(input, 'the request body');
    const consentId = parseConsentId(body.consentId);
    const signer = parseAddress(body.signer, 'signer');
    const deadline = parseDeadline(body.deadline, this.nowSeconds());
    const signature = parseSignature(body.signature);
    const tx = await this.ledger.relayRevoke(consentId, signer, deadline, signature);
    const key = this.txKey(consentId);
    this.transactions.set(key, { ...this.transactions.get(key), revocation: tx });
    return { consentId, ...tx };
  }

  /** Checks a delegate appointment signed by the patient and relays it. */
  async appointDelegate(input: AppointDelegateInput): Promise<ConsentTransaction> {
    const body = requireObject(input, 'the request body');
    const patient = parseAddress(body.patient, 'patient');
    const delegate = parseAddress(body.delegate, 'delegate');
    if (delegate === patient) {
      throw invalid('CONSENT.INVALID_DELEGATE', 'delegate is the patient; a delegate is someone else.', {
        field: 'delegate',
      });
    }
    const until =
      body.until === undefined ? 0n : parseInteger(body.until, 'until', UINT64_MAX, 'UNIX seconds');
    const now = this.nowSeconds();
    if (until !== 0n && until <= now) {
      throw invalid(
        'CONSENT.INVALID_DELEGATION_EXPIRY',
        `until ${isoOf(until)} has passed: give 0 (until removed) or a future time.`,
        { field: 'until' },
      );
    }
    const deadline = parseDeadline(body.deadline, now);
    const signature = parseSignature(body.signature);
    return this.ledger.relayAppointDelegate({ patient, delegate, until }, deadline, signature);
  }

  /** Checks a delegate removal signed by the patient or the delegate and relays it. */
  async removeDelegate(input: RemoveDelegateInput): Promise<ConsentTransaction> {
    const body = requireObject(input, 'the request body');
    const patient = parseAddress(body.patient, 'patient');
    const delegate = parseAddress(body.delegate, 'delegate');
    const signer = parseAddress(body.signer, 'signer');
    if (signer !== patient && signer !== delegate) {
      throw invalid(
        'CONSENT.INVALID_SIGNER',
        'signer must be the patient or the delegate: only they may end a delegation.',
        { field: 'signer' },
      );
    }
    const deadline = parseDeadline(body.deadline, this.nowSeconds());
    const signature = parseSignature(body.signature);
    return this.ledger.relayRemoveDelegate({ patient, delegate }, signer, deadline, signature);
  }

  /** Every on-chain consent of the key linked to Patient/`patientId` (404 if the Patient has no linked key). */
  async consentsOfPatient(patientId: string): Promise<PatientConsents> {
    if (typeof patientId !== 'string' || !FHIR_ID_RE.test(patientId)) {
      throw invalid(
        'CONSENT.INVALID_PATIENT',
        `${describe(patientId)} is not a Patient id (1–64 letters, digits, "-" and ".").`,
        { field: 'patient' },
      );
    }
    let address: Address;
    try {
      address = this.patients.get(patientId).address;
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
      throw new NotFoundError(
        'PATIENT.NOT_LINKED',
        `Patient/${patientId} has no linked key at this gateway, so no consents can be found for them: consents ` +
          `name patients by their key's address. Link the patient's key first (careledger patient link).`,
        { details: { patient: `Patient/${patientId}` }, cause: error },
      );
    }
    return { patientId, address, consents: await this.ledger.consentsOf(address) };
  }

  /** One consent by id (`7` or `chain-7`), with the Patient its patient address is linked to here, if any. */
  async consentById(id: unknown): Promise<{ consent: ConsentRecord; patientId: string | null }> {
    const consentId = parseConsentId(id);
    const consent = await this.ledger.getConsent(consentId);
    return { consent, patientId: this.patients.patientOf(getAddress(consent.patient)) ?? null };
  }

  /** The scope string behind a scope hash, when this gateway knows it. */
  scopeName(hash: Hex): string | undefined {
    const key = hash.toLowerCase() as Hex;
    return WELL_KNOWN_SCOPES.get(key) ?? this.learnedScopes.get(key);
  }

  /** Remembers a scope string, so views can show it instead of its hash. */
  rememberScope(scope: string, hash: Hex = scopeHash(scope)): void {
    const key = hash.toLowerCase() as Hex;
    if (!WELL_KNOWN_SCOPES.has(key)) this.learnedScopes.set(key, scope);
  }

  /** What `fhirConsent` needs besides the record: the chain, the time, scope names, known transactions. */
  async viewContext(consent: ConsentRecord, patientId: string | null): Promise<ConsentViewContext> {
    const domain = await this.ledger.domain();
    return {
      patientId,
      chainId: domain.chainId,
      contract: domain.verifyingContract,
      now: this.nowSeconds(),
      scopeName: (hash) => this.scopeName(hash),
      transactions: this.transactions.get(this.txKey(consent.id)) ?? {},
    };
  }

  /** Consent ids restart on a redeployed registry (embedded chain), so transactions are kept per registry. */
  private txKey(consentId: bigint): string {
    return `${this.ledger.contractAddress().toLowerCase()}:${consentId}`;
  }

  private nowSeconds(): bigint {
    return BigInt(Math.floor(this.now() / 1000));
  }
}
