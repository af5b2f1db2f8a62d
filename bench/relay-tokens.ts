/**
 * Sealed-sender tokens for the relay benchmarks, issued by the relay under
 * test through its ordinary issuance endpoint, at a fraction of a client's
 * cost: the bench blinds with the scalar 1.
 *
 * A real client blinds each input with a random scalar r (one scalar
 * multiplication) and unblinds the answer with r⁻¹ (another): that hides the
 * input from the relay, which matters for people and not for a benchmark.
 * With r = 1 the blinded element is the input's hash to the group itself and
 * the relay's answer is already unblinded, so a token costs the bench one
 * hash to the group instead of two scalar multiplications. On a shared 2-core
 * machine the benchmarks need 20,000–100,000 tokens, and blinding them took
 * longer than the runs. The relay does exactly what it does for any client:
 * it evaluates under its key, and every send is checked in full (the token's
 * output recomputed under the relay's key, then spent once).
 *
 * The encoding follows RFC 9497 (VOPRF mode, ristretto255-SHA512):
 * blinded = HashToGroup(input), output = SHA-512(len‖input‖len‖evaluated‖"Finalize").
 */
import { ristretto255_hasher } from '@noble/curves/ed25519.js';
import { sha512 } from '@noble/hashes/sha2.js';
import type { RelayClient, WireToken } from '../tests/relay/support/client.ts';

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);
const CONTEXT = new Uint8Array([...ascii('OPRFV1-'), 0x01, ...ascii('-ristretto255-SHA512')]);
const HASH_TO_GROUP_DST = new Uint8Array([...ascii('HashToGroup-'), ...CONTEXT]);
const b64u = (b: Uint8Array): string => Buffer.from(b).toString('base64url');

function lengthPrefixed(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(2 + b.length);
  out[0] = b.length >> 8;
  out[1] = b.length & 0xff;
  out.set(b, 2);
  return out;
}

function finalize(input: Uint8Array, evaluated: Uint8Array): Uint8Array {
  const parts = [lengthPrefixed(input), lengthPrefixed(evaluated), ascii('Finalize')];
  const buf = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    buf.set(p, at);
    at += p.length;
  }
  return sha512(buf);
}

/** `n` tokens for `session`'s account, issued in requests of 100. */
export async function benchTokens(c: RelayClient, session: string, n: number): Promise<WireToken[]> {
  const out: WireToken[] = [];
  while (out.length < n) {
    const size = Math.min(100, n - out.length);
    const inputs = Array.from({ length: size }, () => crypto.getRandomValues(new Uint8Array(32)));
    const blinded = inputs.map((x) => ristretto255_hasher.hashToCurve(x, { DST: HASH_TO_GROUP_DST }).toBytes());
    const res = await c.ok('/v1/tokens/issue', { blinded: blinded.map(b64u) }, session);
    const evaluated = (res.evaluated as string[]).map((e) => new Uint8Array(Buffer.from(e, 'base64url')));
    if (evaluated.length !== size) throw new Error(`asked for ${size} tokens, got ${evaluated.length}`);
    inputs.forEach((input, i) => out.push({ keyId: String(res.keyId), input: b64u(input), output: b64u(finalize(input, evaluated[i]!)) }));
  }
  return out;
}
