import { CareLedgerError } from '../core/errors.js';
import { FHIR_ID_RE } from '../records/supportedTypes.js';
import { gatewayRequest, gatewayTarget, serverMessage, type GatewayOptions } from './import/gatewayClient.js';

export interface PatientEraseOptions extends GatewayOptions {
  json?: boolean;
}

/**
 * `careledger patient erase PATIENT_ID --url URL --token TOKEN`: crypto-shreds a patient on a running gateway
 * (`POST /admin/patients/{id}/erase`, admin tokens only): their data key is destroyed, so every version of every
 * resource of theirs becomes unreadable for good; the anchored hashes stay on chain and reveal nothing.
 *
 * Exit 0 when erased; 1 when there was nothing to erase (no data held: 404, or already erased: 410); 2 when the
 * erasure could not be asked for (bad id or options, unreachable gateway, refused token, not an admin token).
 */
export async function patientEraseCommand(patientId: string, options: PatientEraseOptions): Promise<number> {
  const say = (ok: boolean, message: string, extra: Record<string, unknown> = {}) => {
    if (options.json)
      console.log(JSON.stringify({ erased: ok, patient: `Patient/${patientId}`, message, ...extra }));
    else (ok ? console.log : console.error)(ok ? message : `careledger patient erase: ${message}`);
  };
  if (!FHIR_ID_RE.test(patientId)) {
    say(
      false,
      `"${patientId}" is not a FHIR id (1–64 letters, digits, '-' or '.'); pass the Patient's id, not its reference.`,
    );
    return 2;
  }
  let response;
  try {
    const target = gatewayTarget(options);
    response = await gatewayRequest(target, 'POST', `/admin/patients/${encodeURIComponent(patientId)}/erase`);
  } catch (error) {
    if (!(error instanceof CareLedgerError)) throw error;
    say(false, error.message);
    return 2;
  }
  const { status } = response;
  if (status === 200) {
    const body = response.body as { patient?: unknown; erasedResources?: unknown };
    const count = typeof body?.erasedResources === 'number' ? body.erasedResources : undefined;
    say(
      true,
      `Erased Patient/${patientId}: its data key is destroyed, so ${count ?? 'all'} resource${count === 1 ? '' : 's'} (every version) can no longer be read or found. The anchored hashes remain on chain; they prove the records existed and reveal nothing.`,
      { erasedResources: count },
    );
    return 0;
  }
  const message = serverMessage(response);
  switch (status) {
    case 401:
      say(false, `The gateway refused the token: ${message}`, { status });
      return 2;
    case 403:
      say(false, `This token may not erase patients; erasure needs an admin token. (${message})`, { status });
      return 2;
    case 404:
      say(false, `The gateway holds no data for Patient/${patientId}; nothing was erased. (${message})`, {
        status,
      });
      return 1;
    case 410:
      say(false, `Nothing to do: ${message}`, { status });
      return 1;
    default:
      say(false, `The gateway answered HTTP ${status}: ${message}`, { status });
      return 2;
  }
}
