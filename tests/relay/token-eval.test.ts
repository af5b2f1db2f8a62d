// The relay's fast spend check (libsodium's ristretto255 map and scalar
// multiplication) must agree with noble's reference RFC 9497 VOPRF Evaluate
// for the same key, and accept nothing else.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ristretto255_hasher, ristretto255_oprf } from '@noble/curves/ed25519.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { createTokenEvaluator } from '../../relay/token-eval.ts';

const evaluate = (ristretto255_oprf.voprf as unknown as { evaluate(sk: Uint8Array, input: Uint8Array): Uint8Array }).evaluate;

describe('relay token evaluator', () => {
  it('accepts exactly the reference Evaluate output, for random keys and inputs', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), async (seed, input) => {
        const ev = await createTokenEvaluator(seed);
        const out = evaluate(ev.secretKey, input);
        expect(await ev.matches(input, out)).toBe(true);
        const flipped = out.slice();
        flipped[5]! ^= 0x10;
        expect(await ev.matches(input, flipped)).toBe(false);
        const other = input.slice();
        other[0]! ^= 1;
        expect(await ev.matches(other, out)).toBe(false);
      }),
      { numRuns: 60 },
    );
  });

  it('rejects the output for the negated element (the earlier X25519 route accepted both signs)', async () => {
    const seed = new Uint8Array(32).fill(7);
    const ev = await createTokenEvaluator(seed);
    const input = new TextEncoder().encode('a token input');
    const dst = new TextEncoder().encode('HashToGroup-OPRFV1-\x01-ristretto255-SHA512');
    const s = ev.secretKey.reduceRight((acc, b) => (acc << 8n) | BigInt(b), 0n);
    const element = ristretto255_hasher.hashToCurve(input, { DST: dst }).multiply(s);
    // Finalize (RFC 9497 §3.3.1): Hash(I2OSP(len(input), 2) ‖ input ‖ I2OSP(len(element), 2) ‖ element ‖ "Finalize").
    const finalize = (element: Uint8Array): Uint8Array =>
      sha512(new Uint8Array([0, input.length, ...input, 0, element.length, ...element, ...new TextEncoder().encode('Finalize')]));
    // The helper is the reference Finalize: it gives Evaluate's output for the element itself.
    expect(finalize(element.toBytes())).toEqual(evaluate(ev.secretKey, input));
    expect(await ev.matches(input, finalize(element.toBytes()))).toBe(true);
    expect(await ev.matches(input, finalize(element.negate().toBytes()))).toBe(false);
  });

  it('accepts a token issued through blind evaluation with a valid DLEQ proof under its public key', async () => {
    const ev = await createTokenEvaluator(new Uint8Array(32).fill(9));
    const input = new Uint8Array(32).fill(3);
    const b = ristretto255_oprf.voprf.blind(input);
    const r = ristretto255_oprf.voprf.blindEvaluate(ev.secretKey, ev.publicKey, b.blinded);
    const output = ristretto255_oprf.voprf.finalize(input, b.blind, r.evaluated, b.blinded, ev.publicKey, r.proof);
    expect(await ev.matches(input, output)).toBe(true);
  });
});
