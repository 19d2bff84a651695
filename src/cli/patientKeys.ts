import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { isAddress, type Hex } from 'viem';
import { CareLedgerError, InvalidInputError } from '../core/errors.js';
import { signedLinkRequest } from '../patients/patientLink.js';
import { FHIR_ID_RE } from '../records/supportedTypes.js';
import { gatewayRequest, gatewayTarget, serverMessage, type GatewayOptions } from './import/gatewayClient.js';

export interface PatientKeygenOptions {
  out: string;
  force?: boolean;
  json?: boolean;
}

/**
 * `careledger patient keygen --out FILE`: a new secp256k1 key for a patient, written to FILE (mode 0600, never
 * over an existing file unless --force), and its address printed: the patient's pseudonymous identity on chain.
 * The key signs consents and the link to their record; it holds no ether and needs none.
 */
export function patientKeygenCommand(options: PatientKeygenOptions): number {
  const key = generatePrivateKey();
  const { address } = privateKeyToAccount(key);
  try {
    writeFileSync(options.out, `${key}\n`, { mode: 0o600, flag: options.force ? 'w' : 'wx' });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'EEXIST'
        ? `${options.out} already exists; a patient key is never overwritten (pass --force if you mean it).`
        : `cannot write ${options.out}: ${(error as Error).message}`;
    console.error(`careledger patient keygen: ${why}`);
    return 2;
  }
  if (options.json) console.log(JSON.stringify({ address, keyFile: options.out }));
  else
    console.log(
      `Patient key written to ${options.out} (keep it secret; anyone with it can grant access to the patient's data).\nAddress: ${address}`,
    );
  return 0;
}

export interface PatientLinkOptions extends GatewayOptions {
  key: string;
  json?: boolean;
}

/** Reads a patient key file, refusing one other users can read (as the node does for its own keys). */
export function readPatientKey(file: string): Hex {
  let text: string;
  let mode: number;
  try {
    mode = statSync(file).mode;
    text = readFileSync(file, 'utf8').trim();
  } catch (error) {
    throw new InvalidInputError(
      'CLI.NO_KEY',
      `cannot read the key file ${file}: ${(error as Error).message}`,
    );
  }
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new InvalidInputError(
      'CLI.KEY_PERMISSIONS',
      `Key file ${file} is readable by other users (mode ${(mode & 0o777).toString(8)}); run "chmod 600 ${file}".`,
    );
  }
  if (!/^0x[0-9a-fA-F]{64}$/.test(text)) {
    throw new InvalidInputError('CLI.BAD_KEY', `${file} does not hold a key (0x followed by 64 hex digits).`);
  }
  return text as Hex;
}

/**
 * `careledger patient link PATIENT_ID --key FILE`: signs, with the patient's key, a statement linking it to
 * Patient/PATIENT_ID at this gateway (its organisation and chain come from `GET /health`), and submits it.
 * Exit 0 when linked (or already linked to this key), 1 when the gateway refuses (unknown Patient, another key),
 * 2 when the link could not be asked for.
 */
export async function patientLinkCommand(patientId: string, options: PatientLinkOptions): Promise<number> {
  const say = (ok: boolean, message: string, extra: Record<string, unknown> = {}) => {
    if (options.json)
      console.log(JSON.stringify({ linked: ok, patient: `Patient/${patientId}`, message, ...extra }));
    else (ok ? console.log : console.error)(ok ? message : `careledger patient link: ${message}`);
  };
  if (!FHIR_ID_RE.test(patientId)) {
    say(false, `"${patientId}" is not a FHIR id; pass the Patient's id, not its reference.`);
    return 2;
  }
  try {
    const account = privateKeyToAccount(readPatientKey(options.key));
    const target = gatewayTarget(options);
    const health = await gatewayRequest(target, 'GET', '/health');
    const body = health.body as { organization?: { address?: unknown }; chain?: { chainId?: unknown } };
    const organization = body?.organization?.address;
    const chainId = body?.chain?.chainId;
    if (typeof organization !== 'string' || !isAddress(organization) || typeof chainId !== 'number') {
      say(false, `the gateway's /health does not name its organisation and chain (status ${health.status}).`);
      return 2;
    }
    const res = await gatewayRequest(
      target,
      'POST',
      `/admin/patients/${encodeURIComponent(patientId)}/link`,
      await signedLinkRequest(account, { patientId, organization, chainId }),
    );
    if (res.status === 200 || res.status === 201) {
      say(
        true,
        res.status === 201
          ? `Linked ${account.address} to Patient/${patientId} at organisation ${organization}.`
          : `Patient/${patientId} was already linked to ${account.address}; nothing changed.`,
        { address: account.address, created: res.status === 201 },
      );
      return 0;
    }
    const message = serverMessage(res);
    say(false, message, { status: res.status });
    return res.status === 404 || res.status === 409 || res.status === 410 ? 1 : 2;
  } catch (error) {
    if (!(error instanceof CareLedgerError)) throw error;
    say(false, error.message);
    return 2;
  }
}
