/**
 * Round-trip property for every wire struct (RFC 9420 §2.1): for random valid
 * values, encode → decode → encode is the identity, and neither side mutates
 * its input. The structs and their arbitraries are listed once in
 * `support/structs.ts`.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decode, encode } from '../../lib/mls/codec/codec.ts';
import { STRUCTS, expectRoundTrip } from './support/structs.ts';

describe('struct codecs round-trip', () => {
  it('covers every struct', () => expect(STRUCTS.length).toBeGreaterThanOrEqual(50));

  for (const s of STRUCTS) {
    it(`${s.name}: encode → decode → encode`, () => {
      fc.assert(fc.property(s.arb, (v) => void expectRoundTrip(s.codec, v)), { numRuns: 150 });
    });
  }

  it('decoded values do not alias the input buffer', () => {
    const s = STRUCTS.find((x) => x.name === 'MLSMessage')!;
    fc.assert(
      fc.property(s.arb, (v) => {
        const bytes = encode(s.codec, v);
        const decoded = decode(s.codec, bytes);
        const before = encode(s.codec, decoded);
        bytes.fill(0xee);
        expect(encode(s.codec, decoded)).toEqual(before);
      }),
      { numRuns: 100 },
    );
  });
});
