/**
 * SHA-256 (FIPS 180-4 §6.2) and HMAC-SHA-256 (RFC 2104) as one-shot
 * functions, written for the short inputs MLS hashes over and over (tree
 * nodes, labels, HKDF blocks of one secret): no hasher objects, no per-call
 * allocation beyond the output, the message words in one shared scratch
 * array. In Chromium this is several times faster per call than the
 * general-purpose streaming hashers of @noble/hashes for inputs of a few
 * blocks, and it is what suites with SHA-256 use for hashing, HMAC and HKDF
 * on the portable path (hash.ts). Outputs are tested against noble and the
 * RFC 4231 / FIPS 180-2 vectors.
 */

/** FIPS 180-4 §4.2.2: the first 32 bits of the fractional parts of the cube roots of the first 64 primes. */
const K = Int32Array.from([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

/** FIPS 180-4 §5.3.3: the initial hash value. */
const IV = Int32Array.from([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);

/** The message schedule of the block being compressed (JS is single-threaded and `compress` does not yield). */
const W = new Int32Array(64);
/** The last one or two blocks of a message with its padding. */
const TAIL = new Uint8Array(128);

/** FIPS 180-4 §6.2.2: fold the 64-byte block at `bytes[offset..]` into `state`. */
function compress(state: Int32Array, bytes: Uint8Array, offset: number): void {
  const w = W;
  for (let i = 0; i < 16; i++, offset += 4) {
    w[i] = (bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!;
  }
  for (let i = 16; i < 64; i++) {
    const x = w[i - 15]!;
    const y = w[i - 2]!;
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    w[i] = (w[i - 16]! + s0 + w[i - 7]! + s1) | 0;
  }
  let a = state[0]!;
  let b = state[1]!;
  let c = state[2]!;
  let d = state[3]!;
  let e = state[4]!;
  let f = state[5]!;
  let g = state[6]!;
  let h = state[7]!;
  for (let i = 0; i < 64; i++) {
    const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (h + s1 + ((e & f) ^ (~e & g)) + K[i]! + w[i]!) | 0;
    const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (s0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  state[0] = (state[0]! + a) | 0;
  state[1] = (state[1]! + b) | 0;
  state[2] = (state[2]! + c) | 0;
  state[3] = (state[3]! + d) | 0;
  state[4] = (state[4]! + e) | 0;
  state[5] = (state[5]! + f) | 0;
  state[6] = (state[6]! + g) | 0;
  state[7] = (state[7]! + h) | 0;
}

/**
 * Fold `data` into `state` as the end of a message whose first `prefixLength`
 * bytes (a multiple of 64) are already folded in, with the §5.1.1 padding,
 * and write the digest to `out[outOffset..+32]`.
 */
function finish(state: Int32Array, data: Uint8Array, prefixLength: number, out: Uint8Array, outOffset: number): void {
  const full = data.length - (data.length % 64);
  for (let off = 0; off < full; off += 64) compress(state, data, off);
  const rest = data.length - full;
  const tail = TAIL;
  for (let i = 0; i < rest; i++) tail[i] = data[full + i]!;
  tail[rest] = 0x80;
  const tailLength = rest < 56 ? 64 : 128;
  tail.fill(0, rest + 1, tailLength - 8);
  // The message length in bits as a 64-bit big-endian integer (< 2^53 bits here).
  const bits = (prefixLength + data.length) * 8;
  const high = Math.floor(bits / 0x100000000);
  const low = bits >>> 0;
  tail[tailLength - 8] = high >>> 24;
  tail[tailLength - 7] = high >>> 16;
  tail[tailLength - 6] = high >>> 8;
  tail[tailLength - 5] = high;
  tail[tailLength - 4] = low >>> 24;
  tail[tailLength - 3] = low >>> 16;
  tail[tailLength - 2] = low >>> 8;
  tail[tailLength - 1] = low;
  compress(state, tail, 0);
  if (tailLength === 128) compress(state, tail, 64);
  for (let i = 0; i < 8; i++) {
    const v = state[i]!;
    out[outOffset + 4 * i] = v >>> 24;
    out[outOffset + 4 * i + 1] = v >>> 16;
    out[outOffset + 4 * i + 2] = v >>> 8;
    out[outOffset + 4 * i + 3] = v;
  }
}

/** SHA-256(data). */
export function sha256(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(32);
  finish(IV.slice(), data, 0, out, 0);
  return out;
}

/** A 64-byte HMAC pad block: the key (hashed first if longer than a block) XOR `byte`. */
const PAD = new Uint8Array(64);

function keyedState(key: Uint8Array, byte: number): Int32Array {
  const k = key.length > 64 ? sha256(key) : key;
  PAD.fill(byte);
  for (let i = 0; i < k.length; i++) PAD[i] = k[i]! ^ byte;
  const state = IV.slice();
  compress(state, PAD, 0);
  return state;
}

/**
 * HMAC-SHA-256 with the key's two padded blocks folded in once: `mac(data)`
 * costs only the compressions of `data` and of the inner digest, so several
 * MACs under one key (HKDF-Expand of several labels from one secret) share
 * that work. The keyed states are copied per call, never modified.
 */
export function hmacSha256Keyed(key: Uint8Array): (data: Uint8Array) => Uint8Array {
  const inner = keyedState(key, 0x36);
  const outer = keyedState(key, 0x5c);
  PAD.fill(0);
  return (data) => {
    const out = new Uint8Array(32);
    finish(inner.slice(), data, 64, out, 0);
    finish(outer.slice(), out, 64, out, 0);
    return out;
  };
}

/** HMAC-SHA-256(key, data) (RFC 2104). */
export function hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
  return hmacSha256Keyed(key)(data);
}
