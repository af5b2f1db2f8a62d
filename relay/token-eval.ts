/**
 * Fast, constant-time VOPRF evaluation for spending checks.
 *
 * Checking a spent token means recomputing Evaluate(skS, input) (RFC 9497
 * §3.3.2): output = Hash(len‖input‖len‖SerializeElement(skS·HashToGroup(input))‖"Finalize").
 * The scalar multiplication dominates, and a constant-time one in BigInt
 * arithmetic costs ~1 ms. The runtime's native X25519 (WebCrypto) does the
 * same multiplication in constant time, on the Montgomery form of the curve:
 *
 *   - the server key is an X25519 private key `seed`; the VOPRF scalar is
 *     skS = clamp(seed) mod ℓ (what the issuance side uses with noble);
 *   - P = HashToGroup(input) is a ristretto255 element; any Edwards
 *     representative E of it maps to Montgomery u = (Z+Y)/(Z−Y);
 *   - X25519(seed, u) = u(clamp(seed)·E). clamp(seed) = skS + mℓ, and mℓ·E is
 *     4-torsion (representatives lie in 2E), which ristretto ignores, so this
 *     is u of a representative of skS·P;
 *   - u loses the sign, so both ±(skS·P) are serialized and hashed. Accepting
 *     either gives nothing away: whoever can compute −skS·P can negate it.
 *
 * The result is checked against noble's reference Evaluate in tests.
 */

import { ristretto255, ristretto255_hasher } from '@noble/curves/ed25519.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { bytesToNumberLE, numberToBytesLE } from '@noble/curves/utils.js';

const P = 2n ** 255n - 19n;
const L = 2n ** 252n + 27742317777372353535851937790883648493n;
const D = 37095705934669439343138083508754565189542113879843219016388785533085940283555n;
const enc = new TextEncoder();
// RFC 9497 §3.1: contextString = "OPRFV1-" ‖ I2OSP(mode, 1) ‖ "-" ‖ identifier; VOPRF mode is 0x01.
const CONTEXT = new Uint8Array([...enc.encode('OPRFV1-'), 0x01, ...enc.encode('-ristretto255-SHA512')]);
const HASH_TO_GROUP_DST = new Uint8Array([...enc.encode('HashToGroup-'), ...CONTEXT]);
const FINALIZE = enc.encode('Finalize');
const PKCS8_X25519_PREFIX = new Uint8Array([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20,
]);

const Fp = ristretto255.Point.Fp;

function clampedScalar(seed: Uint8Array): bigint {
  const k = new Uint8Array(seed);
  k[0]! &= 248;
  k[31]! &= 127;
  k[31]! |= 64;
  return bytesToNumberLE(k);
}

function hashInput(input: Uint8Array, element: Uint8Array): Uint8Array {
  const buf = new Uint8Array(2 + input.length + 2 + element.length + FINALIZE.length);
  let o = 0;
  buf[o++] = input.length >> 8;
  buf[o++] = input.length & 0xff;
  buf.set(input, o);
  o += input.length;
  buf[o++] = element.length >> 8;
  buf[o++] = element.length & 0xff;
  buf.set(element, o);
  o += element.length;
  buf.set(FINALIZE, o);
  return sha512(buf);
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return d === 0;
}

export interface TokenEvaluator {
  /** skS as noble's VOPRF functions take it (32 bytes little-endian, reduced mod ℓ). */
  readonly secretKey: Uint8Array;
  readonly publicKey: Uint8Array;
  /** Whether `output` is Evaluate(skS, input) (VOPRF mode), in constant time per candidate. */
  matches(input: Uint8Array, output: Uint8Array): Promise<boolean>;
}

export function newTokenSeed(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(32));
}

export async function createTokenEvaluator(seed: Uint8Array): Promise<TokenEvaluator> {
  if (seed.length !== 32) throw new Error('token key seed must be 32 bytes');
  const s = clampedScalar(seed) % L;
  const secretKey = numberToBytesLE(s, 32);
  const publicKey = ristretto255.Point.BASE.multiply(s).toBytes();
  const pkcs8 = new Uint8Array([...PKCS8_X25519_PREFIX, ...seed]);
  const privateKey = await crypto.subtle.importKey('pkcs8', pkcs8, { name: 'X25519' }, false, ['deriveBits']);

  return {
    secretKey,
    publicKey,
    async matches(input: Uint8Array, output: Uint8Array): Promise<boolean> {
      const point = ristretto255_hasher.hashToCurve(input, { DST: HASH_TO_GROUP_DST });
      if (point.is0()) return false;
      const { Y, Z } = (point as unknown as { ep: { X: bigint; Y: bigint; Z: bigint } }).ep;
      const u = Fp.div(Fp.add(Z, Y), Fp.sub(Z, Y));
      const pub = await crypto.subtle.importKey('raw', new Uint8Array(numberToBytesLE(u, 32)), { name: 'X25519' }, false, []);
      const shared = new Uint8Array(await crypto.subtle.deriveBits({ name: 'X25519', public: pub }, privateKey, 256));
      // Back to Edwards: y = (u−1)/(u+1), x = ±sqrt((y²−1)/(d·y²+1)).
      const u2 = bytesToNumberLE(shared) % P;
      const y = Fp.div(Fp.sub(u2, 1n), Fp.add(u2, 1n));
      const yy = Fp.sqr(y);
      const x = Fp.sqrt(Fp.div(Fp.sub(yy, 1n), Fp.add(Fp.mul(D, yy), 1n)));
      const candidate = ristretto255.Point.fromAffine({ x, y });
      const a = equalBytes(hashInput(input, candidate.toBytes()), output);
      const b = equalBytes(hashInput(input, candidate.negate().toBytes()), output);
      return a || b;
    },
  };
}
