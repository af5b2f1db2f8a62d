// The relay's fast spend check (native X25519 for the scalar multiplication)
// must agree with noble's reference RFC 9497 VOPRF Evaluate for the same key.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ristretto255_oprf } from '@noble/curves/ed25519.js';
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

  it('accepts a token issued through blind evaluation with a valid DLEQ proof under its public key', async () => {
    const ev = await createTokenEvaluator(new Uint8Array(32).fill(9));
    const input = new Uint8Array(32).fill(3);
    const b = ristretto255_oprf.voprf.blind(input);
    const r = ristretto255_oprf.voprf.blindEvaluate(ev.secretKey, ev.publicKey, b.blinded);
    const output = ristretto255_oprf.voprf.finalize(input, b.blind, r.evaluated, b.blinded, ev.publicKey, r.proof);
    expect(await ev.matches(input, output)).toBe(true);
  });
});
