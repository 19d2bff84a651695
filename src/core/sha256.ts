import { hash } from 'node:crypto';

/**
 * SHA-256 of `data`. Node's one-shot `crypto.hash` skips the Hash object, which matters for the short inputs
 * Merkle trees hash millions of times. The digest is returned as a plain Uint8Array (a view, no copy), never as
 * a Buffer: `Buffer#slice` shares memory where `Uint8Array#slice` copies, and callers rely on the latter.
 */
export function sha256(data: Uint8Array): Uint8Array {
  const digest = hash('sha256', data, 'buffer') as unknown as Buffer;
  return new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength);
}
