/** A view of `u`'s bytes as a Buffer, for a BLOB parameter (no copy). */
export const buf = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

/** A view of a BLOB column's Buffer as a plain Uint8Array (no copy). */
export const bytes = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
