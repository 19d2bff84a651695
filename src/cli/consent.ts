import type { Bundle, Consent, OperationOutcome } from '@medplum/fhirtypes';
import { isAddress, type Address } from 'viem';
import { privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts';
import { parseScope } from '../consent/consentService.js';
import {
  CONSENT_DOMAIN_NAME,
  CONSENT_DOMAIN_VERSION,
  consentDomain,
  purposesToMask,
  signGrant,
  signRevoke,
  type ConsentDomain,
  type ConsentTerms,
} from '../consent/consentTypedData.js';
import { REVOCATION_EXTENSION, SCOPE_HASH_SYSTEM } from '../consent/fhirConsentView.js';
import { parseFhirDateSpan } from '../consent/resourceScopes.js';
import { CareLedgerError, InvalidInputError } from '../core/errors.js';
import { FHIR_ID_RE } from '../records/supportedTypes.js';
import {
  gatewayRequest,
  gatewayTarget,
  serverMessage,
  type GatewayOptions,
  type GatewayResponse,
  type GatewayTarget,
} from './import/gatewayClient.js';
import { readPatientKey } from './patientKeys.js';

/**
 * `careledger consent grant|revoke|list`: a patient's consents through a running gateway. The patient's key file
 * signs (EIP-712, with the nonce and domain the gateway reads from the chain); the gateway relays the signature
 * to the ConsentRegistry. Exit codes, as `careledger patient link`: 0 done, 1 the gateway or the chain refused
 * (the key may not act for the patient, an unknown consent, an already revoked one, a Patient without a linked
 * key), 2 it could not be asked (bad options, unreadable key, unreachable gateway, refused token).
 */

/** How long a signature handed to the gateway stays valid. */
const SIGNATURE_LIFETIME_SECONDS = 600n;

export interface ConsentGrantOptions extends GatewayOptions {
  key: string;
  grantee: string;
  /** Comma-separated purpose-of-use codes; repeated options add up. */
  purpose: string[];
  /** Repeatable; at least one is needed. */
  scope?: string[] | undefined;
  from?: string | undefined;
  until: string;
  dataFrom?: string | undefined;
  dataUntil?: string | undefined;
  json?: boolean | undefined;
}

export interface ConsentRevokeOptions extends GatewayOptions {
  key: string;
  json?: boolean | undefined;
}

export interface ConsentListOptions extends GatewayOptions {
  json?: boolean | undefined;
}

/** Commander collector for repeatable options. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

type Say = (ok: boolean, message: string, extra?: Record<string, unknown>) => void;

function sayer(command: string, json: boolean | undefined, fields: Record<string, unknown> = {}): Say {
  return (ok, message, extra = {}) => {
    if (json) console.log(JSON.stringify({ ok, ...fields, message, ...extra }));
    else if (ok) console.log(message);
    else console.error(`careledger consent ${command}: ${message}`);
  };
}

function badOption(message: string): InvalidInputError {
  return new InvalidInputError('CLI.BAD_OPTION', message);
}

/**
 * UNIX seconds of a date or date-time option: `2026-03-01`, `2026-03`, `2026`, or `2026-03-01T12:00:00Z` (a time
 * needs its zone). `start` is the first second it denotes; `last` its last (for inclusive ends: a date-only
 * `--data-until 2020-12-31` covers that whole day); `after` the second after it (for exclusive ends: `--until
 * 2026-12-31` lasts through that day), except that a time to the second is taken as it is.
 */
export function parseTimeOption(value: string, option: string, edge: 'start' | 'last' | 'after'): bigint {
  let span = parseFhirDateSpan(value);
  if (span === null && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value)) {
    const ms = Date.parse(value);
    if (!Number.isNaN(ms)) span = { start: Math.floor(ms / 1000), end: Math.floor(ms / 1000) };
  }
  if (span === null || span.start < 0) {
    throw badOption(
      `${option} must be a date or a date-time with its zone (e.g. 2026-03-01 or 2026-03-01T12:00:00Z), got "${value}".`,
    );
  }
  if (edge === 'start') return BigInt(span.start);
  if (edge === 'last' || span.start === span.end) return BigInt(span.end);
  return BigInt(span.end) + 1n;
}

function parsePurposeOption(values: readonly string[]): string[] {
  const codes = values
    .flatMap((v) => v.split(','))
    .map((c) => c.trim().toUpperCase())
    .filter(Boolean);
  if (codes.length === 0) throw badOption('--purpose needs one or more codes, e.g. --purpose TREAT,HPAYMT.');
  purposesToMask(codes); // throws CONSENT.UNKNOWN_PURPOSE listing the supported codes
  return codes;
}

function consentIdOf(value: string): string {
  const id = value.startsWith('chain-') ? value.slice(6) : value;
  if (!/^[1-9][0-9]{0,77}$/.test(id)) {
    throw badOption(`"${value}" is not a consent id; pass the number (7) or the FHIR id (chain-7).`);
  }
  return id;
}

function requirePatientId(patientId: string): void {
  if (!FHIR_ID_RE.test(patientId)) {
    throw badOption(`"${patientId}" is not a FHIR id; pass the Patient's id, not its reference.`);
  }
}

/** The problem code of an error answer, if it has one. */
function problemCode(res: GatewayResponse): string | undefined {
  const code = (res.body as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** 1 when the gateway or the chain refused on the merits of the request, 2 when it could not be asked. */
function refusalExit(res: GatewayResponse): number {
  const code = problemCode(res) ?? '';
  return res.status >= 400 && res.status < 500 && /^(CONSENT|PATIENT)\./.test(code) ? 1 : 2;
}

/** The signing domain and `address`'s nonce, from the gateway (which reads them from the chain). */
async function signingInfo(
  target: GatewayTarget,
  address: Address,
): Promise<{ domain: ConsentDomain; nonce: bigint } | GatewayResponse> {
  const res = await gatewayRequest(target, 'GET', `/consent/signing-info?address=${address}`);
  if (res.status !== 200) return res;
  const body = res.body as {
    nonce?: unknown;
    domain?: { name?: unknown; version?: unknown; chainId?: unknown; verifyingContract?: unknown };
  };
  const d = body?.domain;
  if (
    typeof body?.nonce !== 'string' ||
    !/^[0-9]+$/.test(body.nonce) ||
    d?.name !== CONSENT_DOMAIN_NAME ||
    d.version !== CONSENT_DOMAIN_VERSION ||
    typeof d.chainId !== 'number' ||
    typeof d.verifyingContract !== 'string' ||
    !isAddress(d.verifyingContract)
  ) {
    throw new CareLedgerError(
      'CLI.BAD_GATEWAY_ANSWER',
      `The gateway's /consent/signing-info did not give a ${CONSENT_DOMAIN_NAME} domain and a nonce; is it a ` +
        'CareLedger gateway of this version?',
      { status: 502 },
    );
  }
  return { domain: consentDomain(d.chainId, d.verifyingContract), nonce: BigInt(body.nonce) };
}

function deadlineFromNow(): bigint {
  return BigInt(Math.floor(Date.now() / 1000)) + SIGNATURE_LIFETIME_SECONDS;
}

function iso(seconds: bigint): string {
  return new Date(Number(seconds) * 1000).toISOString().replace('.000Z', 'Z');
}

/**
 * `careledger consent grant PATIENT_ID --key FILE --grantee 0x… --purpose TREAT[,HPAYMT] --scope type:Observation
 * [--scope …] [--from ISO] --until ISO [--data-from ISO] [--data-until ISO]`: signs a Grant with the key (the
 * patient's own, or a delegate's) for the key linked to Patient/PATIENT_ID and has the gateway relay it.
 */
export async function consentGrantCommand(patientId: string, options: ConsentGrantOptions): Promise<number> {
  const say = sayer('grant', options.json, { patient: `Patient/${patientId}` });
  try {
    requirePatientId(patientId);
    const account: PrivateKeyAccount = privateKeyToAccount(readPatientKey(options.key));
    if (!isAddress(options.grantee)) {
      throw badOption(
        `--grantee must be a chain address (0x followed by 40 hex digits; mixed case must be its EIP-55 ` +
          `checksum), got "${options.grantee}".`,
      );
    }
    const grantee = options.grantee as Address;
    const purposes = parsePurposeOption(options.purpose);
    const scopeOptions = options.scope ?? [];
    if (scopeOptions.length === 0) {
      throw badOption(
        '--scope is needed at least once, e.g. --scope type:Observation --scope category:laboratory.',
      );
    }
    const scopes = scopeOptions.map((s, i) => parseScope(s.trim(), i));
    const validFrom =
      options.from === undefined
        ? BigInt(Math.floor(Date.now() / 1000))
        : parseTimeOption(options.from, '--from', 'start');
    const validUntil = parseTimeOption(options.until, '--until', 'after');
    const dataFrom =
      options.dataFrom === undefined ? 0n : parseTimeOption(options.dataFrom, '--data-from', 'start');
    const dataUntil =
      options.dataUntil === undefined ? 0n : parseTimeOption(options.dataUntil, '--data-until', 'last');

    const target = gatewayTarget(options);
    const link = await gatewayRequest(target, 'GET', `/admin/patients/${encodeURIComponent(patientId)}/link`);
    const patient = (link.body as { address?: unknown } | null)?.address;
    if (link.status !== 200 || typeof patient !== 'string' || !isAddress(patient)) {
      say(false, serverMessage(link), { status: link.status });
      return link.status === 404 ? 1 : 2;
    }
    const info = await signingInfo(target, account.address);
    if (!('domain' in info)) {
      say(false, serverMessage(info), { status: info.status });
      return refusalExit(info);
    }
    const terms: ConsentTerms = {
      patient,
      grantee,
      scopes: scopes.map((s) => s.hash),
      purposes: purposesToMask(purposes),
      validFrom,
      validUntil,
      dataFrom,
      dataUntil,
    };
    const deadline = deadlineFromNow();
    const signature = await signGrant(account, info.domain, terms, info.nonce, deadline);
    const res = await gatewayRequest(target, 'POST', '/consent/grants', {
      terms: {
        patient,
        grantee,
        scopes: scopes.map((s) => s.scope ?? s.hash),
        purposes,
        validFrom: validFrom.toString(),
        validUntil: validUntil.toString(),
        dataFrom: dataFrom.toString(),
        dataUntil: dataUntil.toString(),
      },
      signer: account.address,
      deadline: deadline.toString(),
      signature,
    });
    if (res.status !== 201) {
      say(false, serverMessage(res), { status: res.status, code: problemCode(res) });
      return refusalExit(res);
    }
    const body = res.body as { consentId: string; transactionHash: string; blockNumber: number };
    say(
      true,
      `Consent chain-${body.consentId} granted for Patient/${patientId} to ${grantee}: ${purposes.join(', ')} on ` +
        `${scopeOptions.join(', ')}, ${iso(validFrom)} until ${iso(validUntil)} (transaction ` +
        `${body.transactionHash}, block ${body.blockNumber}).`,
      {
        consentId: body.consentId,
        consent: `Consent/chain-${body.consentId}`,
        transactionHash: body.transactionHash,
        blockNumber: body.blockNumber,
      },
    );
    return 0;
  } catch (error) {
    if (!(error instanceof CareLedgerError)) throw error;
    say(false, error.message);
    return 2;
  }
}

/** `careledger consent revoke CONSENT_ID --key FILE`: signs a Revoke with the key and has the gateway relay it. */
export async function consentRevokeCommand(
  consentId: string,
  options: ConsentRevokeOptions,
): Promise<number> {
  const say = sayer('revoke', options.json, { consent: `Consent/chain-${consentId.replace(/^chain-/, '')}` });
  try {
    const id = consentIdOf(consentId);
    const account = privateKeyToAccount(readPatientKey(options.key));
    const target = gatewayTarget(options);
    const info = await signingInfo(target, account.address);
    if (!('domain' in info)) {
      say(false, serverMessage(info), { status: info.status });
      return refusalExit(info);
    }
    const deadline = deadlineFromNow();
    const signature = await signRevoke(account, info.domain, BigInt(id), info.nonce, deadline);
    const res = await gatewayRequest(target, 'POST', '/consent/revocations', {
      consentId: id,
      signer: account.address,
      deadline: deadline.toString(),
      signature,
    });
    if (res.status !== 200) {
      say(false, serverMessage(res), { status: res.status, code: problemCode(res) });
      return refusalExit(res);
    }
    const body = res.body as { transactionHash: string; blockNumber: number };
    say(
      true,
      `Consent chain-${id} revoked (transaction ${body.transactionHash}, block ${body.blockNumber}).`,
      {
        consentId: id,
        transactionHash: body.transactionHash,
        blockNumber: body.blockNumber,
      },
    );
    return 0;
  } catch (error) {
    if (!(error instanceof CareLedgerError)) throw error;
    say(false, error.message);
    return 2;
  }
}

/** The scopes of a Consent view, as scope strings (or hashes when the gateway does not know the string). */
export function scopesOfView(consent: Consent): string[] {
  const p = consent.provision;
  return [
    ...(p?.class ?? []).map((c) => `type:${c.code}`),
    ...(p?.code ?? []).map((c) => {
      const coding = c.coding?.[0];
      return coding?.system === SCOPE_HASH_SYSTEM ? `${coding.code}` : (c.text ?? `category:${coding?.code}`);
    }),
    ...(p?.data ?? []).map((d) => `resource:${d.reference.reference}`),
  ];
}

/** A few readable lines about one Consent view. */
export function describeConsent(consent: Consent): string {
  const p = consent.provision;
  const actor = p?.actor?.[0]?.reference.identifier?.value ?? '?';
  const purposes = (p?.purpose ?? []).map((c) => c.code).join(', ');
  const period = p?.period;
  const data = p?.dataPeriod;
  const revocation = consent.extension?.find((e) => e.url === REVOCATION_EXTENSION)?.extension;
  const revokedAt = revocation?.find((e) => e.url === 'revokedAt')?.valueDateTime;
  const revokedBy = revocation?.find((e) => e.url === 'revokedBy')?.valueIdentifier?.value;
  const performer = consent.performer?.[0];
  const lines = [
    `Consent/${consent.id}  ${consent.status}`,
    `  grantee   ${actor}`,
    `  purposes  ${purposes}`,
    `  scopes    ${scopesOfView(consent).join(', ')}`,
    `  valid     ${period?.start ?? 'from the start'} until ${period?.end ?? 'no end'}`,
    `  data      ${data ? `${data.start ?? 'any date'} to ${data.end ?? 'any date'}` : 'any date'}`,
    `  granted   ${consent.dateTime ?? '?'} by ${performer?.identifier?.value ?? '?'} (${performer?.display ?? ''})`,
  ];
  if (revokedAt) lines.push(`  revoked   ${revokedAt} by ${revokedBy ?? '?'}`);
  return lines.join('\n');
}

/** `careledger consent list PATIENT_ID`: the Patient's consents as the gateway reads them from the chain. */
export async function consentListCommand(patientId: string, options: ConsentListOptions): Promise<number> {
  const say = sayer('list', false);
  try {
    requirePatientId(patientId);
    const target = gatewayTarget(options);
    const res = await gatewayRequest(target, 'GET', `/fhir/Consent?patient=${encodeURIComponent(patientId)}`);
    if (res.status !== 200) {
      if (options.json) console.log(JSON.stringify(res.body));
      else say(false, serverMessage(res));
      return 2;
    }
    const bundle = res.body as Bundle;
    const entries = bundle.entry ?? [];
    const consents = entries
      .filter((e) => e.search?.mode !== 'outcome' && e.resource?.resourceType === 'Consent')
      .map((e) => e.resource as Consent);
    const outcome = entries.find((e) => e.search?.mode === 'outcome')?.resource as
      OperationOutcome | undefined;
    const notLinked = consents.length === 0 && outcome?.issue?.some((i) => i.code === 'not-found');
    if (options.json) console.log(JSON.stringify(bundle));
    else if (notLinked)
      say(false, outcome?.issue?.[0]?.details?.text ?? `Patient/${patientId} has no linked key.`);
    else if (consents.length === 0) console.log(`Patient/${patientId} has no consents on chain.`);
    else console.log(consents.map(describeConsent).join('\n\n'));
    return notLinked ? 1 : 0;
  } catch (error) {
    if (!(error instanceof CareLedgerError)) throw error;
    say(false, error.message);
    return 2;
  }
}
