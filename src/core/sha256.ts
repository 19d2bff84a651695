import { hash, createHash } from 'node:crypto';

/**
 * SHA-256 of the concatenation of `parts`. Uses Node's one-shot `crypto.hash` for a single part (it skips the
 * Hash object and is markedly faster for the short inputs Merkle trees hash) and a streaming hash otherwise.
 */
export function sha256(...parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) {
    const out = hash('sha256', parts[0] as Uint8Array, 'buffer') as unknown as Buffer;
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  }
  const h = createHash('sha256');
  for (const part of parts) h.update(part);
  const out = h.digest();
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}
