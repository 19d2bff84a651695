import type { ExchangeTransport } from './externalFetcher.js';

/** Largest answer read from another gateway (a patient's whole record with proofs). */
const MAX_ANSWER_BYTES = 256 * 1024 * 1024;

/**
 * Posts a sealed envelope to another gateway over HTTP(S) with a hard deadline for the whole exchange (connect,
 * send, the holder's work and reading the answer), so a hung peer costs at most `timeoutMs`.
 */
export const httpTransport: ExchangeTransport = async (url, body, timeoutMs) => {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body,
    signal: AbortSignal.timeout(timeoutMs),
    redirect: 'error',
  });
  const length = Number(response.headers.get('content-length') ?? 0);
  if (length > MAX_ANSWER_BYTES) {
    await response.body?.cancel();
    throw new Error(`the answer is ${length} bytes, more than the ${MAX_ANSWER_BYTES} accepted`);
  }
  return { status: response.status, body: await response.text() };
};
