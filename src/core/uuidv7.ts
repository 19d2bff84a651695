import { randomFillSync } from 'node:crypto';

const POOL_BYTES = 8 * 512;
const pool = new Uint8Array(POOL_BYTES);
let poolOffset = POOL_BYTES;
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

let lastMs = -1;
let counter = 0;

function randomBytes8(): Uint8Array {
  if (poolOffset + 8 > POOL_BYTES) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const bytes = pool.subarray(poolOffset, poolOffset + 8);
  poolOffset += 8;
  return bytes;
}

/**
 * A UUID version 7 (RFC 9562): 48 bits of Unix time in ms, a 12-bit counter (RFC 9562 §6.2 method 1, seeded at
 * random each millisecond so ids do not reveal how many were made), then 62 random bits. Ids made by one process
 * are strictly increasing, so B-tree indexes keyed by them grow at their right edge instead of rewriting a random
 * page per insert. They reveal their creation time to the millisecond (which version 1's `meta.lastUpdated` shows
 * anyway) and keep 62 bits that cannot be guessed.
 */
export function uuidv7(now: number = Date.now()): string {
  if (now > lastMs) {
    lastMs = now;
    const seed = randomBytes8();
    counter = (((seed[0] as number) << 8) | (seed[1] as number)) & 0x7ff; // leaves half the range to count up
  } else if (++counter > 0xfff) {
    // 4,096 ids in one millisecond, or the clock went back: borrow the next millisecond, staying monotonic.
    lastMs++;
    counter = 0;
  }
  const ms = lastMs;
  const r = randomBytes8();
  const b = new Uint8Array(16);
  const high = Math.floor(ms / 2 ** 16);
  b[0] = (high >>> 24) & 0xff;
  b[1] = (high >>> 16) & 0xff;
  b[2] = (high >>> 8) & 0xff;
  b[3] = high & 0xff;
  b[4] = (ms >>> 8) & 0xff;
  b[5] = ms & 0xff;
  b[6] = 0x70 | (counter >>> 8);
  b[7] = counter & 0xff;
  b[8] = 0x80 | ((r[0] as number) & 0x3f);
  for (let i = 9; i < 16; i++) b[i] = r[i - 8] as number;
  let s = '';
  for (let i = 0; i < 16; i++) {
    s += HEX[b[i] as number];
    if (i === 3 || i === 5 || i === 7 || i === 9) s += '-';
  }
  return s;
}
