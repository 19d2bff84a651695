import { CareLedgerError, InvalidInputError } from '../../core/errors.js';

/** Where the CLI talks to a running gateway, and with which bearer token. */
export interface GatewayTarget {
  /** Base URL of the gateway, without a trailing slash and without `/fhir`. */
  baseUrl: string;
  token: string;
}

export interface GatewayOptions {
  url?: string | undefined;
  token?: string | undefined;
}

/** How long one request may take before the CLI gives up on it. */
const REQUEST_TIMEOUT_MS = 300_000;

/**
 * The gateway URL (`--url`, else `http://127.0.0.1:$PORT`, else port 8080) and token (`--token`, else
 * `CARELEDGER_TOKEN`). Throws a `CLI.*` error when either is missing or malformed.
 */
export function gatewayTarget(options: GatewayOptions, env: NodeJS.ProcessEnv = process.env): GatewayTarget {
  const raw = options.url ?? `http://127.0.0.1:${env.PORT || 8080}`;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new InvalidInputError(
      'CLI.BAD_URL',
      `--url must be an http(s) URL such as http://127.0.0.1:8080, got "${raw}".`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidInputError('CLI.BAD_URL', `--url must be an http(s) URL, got "${raw}".`);
  }
  // Accept the FHIR base too (…/fhir), since that is what FHIR tools are usually given.
  const baseUrl = `${url.origin}${url.pathname.replace(/\/+$/, '').replace(/\/fhir$/, '')}`;
  const token = options.token ?? env.CARELEDGER_TOKEN;
  if (!token) {
    throw new InvalidInputError(
      'CLI.NO_TOKEN',
      'No bearer token: pass --token or set CARELEDGER_TOKEN (create one with "careledger token create").',
    );
  }
  return { baseUrl, token };
}

export interface GatewayResponse {
  status: number;
  /** The parsed JSON body, the raw text when it is not JSON, or undefined when empty. */
  body: unknown;
}

/** One HTTP request to the gateway. A network failure or timeout throws `GATEWAY.UNREACHABLE`. */
export async function gatewayRequest(
  target: GatewayTarget,
  method: string,
  path: string,
  body?: unknown,
  contentType = path.startsWith('/fhir') ? 'application/fhir+json' : 'application/json',
): Promise<GatewayResponse> {
  const headers: Record<string, string> = {
    authorization: `Bearer ${target.token}`,
    accept: 'application/fhir+json, application/json, application/problem+json',
  };
  if (body !== undefined) headers['content-type'] = contentType;
  let res: Response;
  let text: string;
  try {
    res = await fetch(`${target.baseUrl}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    text = await res.text();
  } catch (error) {
    throw new CareLedgerError(
      'GATEWAY.UNREACHABLE',
      `Cannot reach the gateway at ${target.baseUrl}: ${networkReason(error)}.`,
      { status: 503, issueType: 'transient', cause: error },
    );
  }
  if (text === '') return { status: res.status, body: undefined };
  try {
    return { status: res.status, body: JSON.parse(text) as unknown };
  } catch {
    return { status: res.status, body: text };
  }
}

/** Why a fetch failed, in the words of the socket error (ECONNREFUSED, ENOTFOUND, …) when there is one. */
export function networkReason(error: unknown): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return `no answer within ${REQUEST_TIMEOUT_MS / 1000} s`;
  }
  const cause =
    error instanceof Error ? (error.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  if (cause && typeof cause.message === 'string') {
    return typeof cause.code === 'string' && !cause.message.includes(cause.code)
      ? `${cause.code} ${cause.message}`
      : cause.message;
  }
  return error instanceof Error ? error.message : String(error);
}

interface OutcomeIssueLike {
  code?: unknown;
  details?: { text?: unknown };
  diagnostics?: unknown;
  expression?: unknown;
}

/** The human text of an OperationOutcome: each issue's text, with where it applies when it says so. */
export function outcomeText(outcome: unknown): string | undefined {
  const issues = (outcome as { resourceType?: unknown; issue?: unknown } | null)?.issue;
  if (
    (outcome as { resourceType?: unknown } | null)?.resourceType !== 'OperationOutcome' ||
    !Array.isArray(issues)
  )
    return undefined;
  const texts = (issues as OutcomeIssueLike[]).map((issue) => {
    const text =
      typeof issue?.details?.text === 'string'
        ? issue.details.text
        : typeof issue?.diagnostics === 'string'
          ? issue.diagnostics
          : String(issue?.code ?? 'error');
    const where = Array.isArray(issue?.expression)
      ? issue.expression.filter(
          (e): e is string => typeof e === 'string' && !/^Bundle\.entry\[\d+\]$/.test(e),
        )
      : [];
    return where.length > 0 && !where.some((e) => text.includes(e))
      ? `${text.replace(/\.$/, '')} (at ${where.join(', ')})`
      : text;
  });
  return texts.length > 0 ? texts.join('; ') : undefined;
}

/** The first issue code of an OperationOutcome (invalid, processing, …). */
export function outcomeCode(outcome: unknown): string | undefined {
  const issue = (outcome as { issue?: { code?: unknown }[] } | null)?.issue?.[0];
  return typeof issue?.code === 'string' ? issue.code : undefined;
}

/** The Bundle entry an OperationOutcome is about (`Bundle.entry[n]` in an issue's expression), if any. */
export function outcomeEntryIndex(outcome: unknown): number | undefined {
  const issues = (outcome as { issue?: unknown } | null)?.issue;
  if (!Array.isArray(issues)) return undefined;
  for (const issue of issues as OutcomeIssueLike[]) {
    for (const e of Array.isArray(issue?.expression) ? issue.expression : []) {
      const match = typeof e === 'string' ? /^Bundle\.entry\[(\d+)\]/.exec(e) : null;
      if (match) return Number(match[1]);
    }
  }
  return undefined;
}

/** What the gateway said: an OperationOutcome's text, a problem document's detail, or the raw body. */
export function serverMessage(response: GatewayResponse): string {
  const { body } = response;
  const fromOutcome = outcomeText(body);
  if (fromOutcome) return fromOutcome;
  const detail = (body as { detail?: unknown } | null)?.detail;
  if (typeof detail === 'string') return detail;
  if (typeof body === 'string' && body.trim() !== '') return body.trim().slice(0, 300);
  return `HTTP ${response.status} with no explanation`;
}
