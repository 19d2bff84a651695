/** Lower-case `0x`-prefixed hex, the form every hash and address takes at CareLedger's edges. */
export type Hex = `0x${string}`;

const HEX_RE = /^0x[0-9a-fA-F]*$/;

/** Encodes bytes as `0x`-prefixed lower-case hex. */
export function toHex(bytes: Uint8Array): Hex {
  return `0x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')}`;
}

/** True if `value` is `0x`-prefixed hex with an even number of digits (and, if given, exactly `byteLength` bytes). */
export function isHex(value: unknown, byteLength?: number): value is Hex {
  if (typeof value !== 'string' || !HEX_RE.test(value) || value.length % 2 !== 0) return false;
  return byteLength === undefined || value.length === 2 + byteLength * 2;
}

/** Decodes `0x`-prefixed hex; throws `TypeError` on anything else so callers can wrap it in their own error. */
export function fromHex(value: string, byteLength?: number): Uint8Array {
  if (!isHex(value, byteLength)) {
    throw new TypeError(
      byteLength === undefined
        ? `expected 0x-prefixed hex, got ${JSON.stringify(value).slice(0, 80)}`
        : `expected ${byteLength} bytes of 0x-prefixed hex, got ${JSON.stringify(value).slice(0, 80)}`,
    );
  }
  return new Uint8Array(Buffer.from(value.slice(2), 'hex'));
}
