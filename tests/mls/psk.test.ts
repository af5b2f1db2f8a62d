/** PreSharedKeyID codec properties and the PSK validation rules (RFC 9420 §8.4, §12.1.4, §12.2, §12.4.3.1). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decode, encode } from '../../lib/mls/codec/codec.ts';
import { bytesToHex } from '../../lib/bytes.ts';
import { DecodeError, ValidationError } from '../../lib/mls/errors.ts';
import {
  PskType,
  ResumptionPskUsage,
  computePskSecret,
  pskLabelCodec,
  preSharedKeyIdCodec,
  preSharedKeyIdEqual,
  resolvePsks,
  validateDistinctPskIds,
  validatePreSharedKeyId,
  validateWelcomePskIds,
  type PreSharedKeyId,
} from '../../lib/mls/keys/psk.ts';
import { getCipherSuite } from '../../lib/crypto/suites.ts';

const bytes = (max = 64) => fc.uint8Array({ maxLength: max });

const arbPskId: fc.Arbitrary<PreSharedKeyId> = fc.oneof(
  fc.record({ psktype: fc.constant(PskType.external), pskId: bytes(), pskNonce: bytes() }),
  fc.record({
    psktype: fc.constant(PskType.resumption),
    usage: fc.constantFrom(ResumptionPskUsage.application, ResumptionPskUsage.reinit, ResumptionPskUsage.branch),
    pskGroupId: bytes(),
    pskEpoch: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    pskNonce: bytes(),
  }),
);

describe('PreSharedKeyID codec', () => {
  it('round-trips', () => {
    fc.assert(
      fc.property(arbPskId, (id) => {
        const b = encode(preSharedKeyIdCodec, id);
        expect(decode(preSharedKeyIdCodec, b)).toEqual(id);
        expect(bytesToHex(encode(preSharedKeyIdCodec, decode(preSharedKeyIdCodec, b)))).toBe(bytesToHex(b));
      }),
    );
  });

  it('PSKLabel round-trips', () => {
    fc.assert(
      fc.property(arbPskId, fc.integer({ min: 1, max: 0xffff }), (id, count) => {
        const v = { id, index: count - 1, count };
        expect(decode(pskLabelCodec, encode(pskLabelCodec, v))).toEqual(v);
      }),
    );
  });

  it('rejects reserved PSKType and usage values with typed errors', () => {
    expect(() => decode(preSharedKeyIdCodec, Uint8Array.of(0, 0, 0))).toThrow(DecodeError);
    expect(() => decode(preSharedKeyIdCodec, Uint8Array.of(3, 0, 0))).toThrow(DecodeError);
    expect(() => decode(preSharedKeyIdCodec, Uint8Array.of(2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))).toThrow(DecodeError);
    expect(() => decode(preSharedKeyIdCodec, Uint8Array.of(2, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))).toThrow(DecodeError);
    expect(decode(preSharedKeyIdCodec, Uint8Array.of(2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)).psktype).toBe(2);
  });

  it('fuzz: 10,000 random and mutated inputs give only DecodeError', () => {
    const seeds = fc.sample(arbPskId, 50).map((id) => encode(preSharedKeyIdCodec, id));
    const mutated = fc.tuple(fc.constantFrom(...seeds), fc.nat(), fc.nat(255), fc.nat(3)).map(([s, pos, val, op]) => {
      const b = s.slice();
      if (op === 0 && b.length > 0) b[pos % b.length] = val;
      if (op === 1) return b.subarray(0, pos % (b.length + 1));
      if (op === 2) return Uint8Array.from([...b, val]);
      return b;
    });
    fc.assert(
      fc.property(fc.oneof(bytes(80), mutated), (input) => {
        try {
          decode(preSharedKeyIdCodec, input);
        } catch (err) {
          expect(err).toBeInstanceOf(DecodeError);
        }
      }),
      { numRuns: 10_000 },
    );
  });
});

describe('PSK validation', () => {
  const cs = getCipherSuite(1);
  const nonce = new Uint8Array(32);
  const ext = (n: number): PreSharedKeyId => ({ psktype: PskType.external, pskId: Uint8Array.of(n), pskNonce: nonce });
  const res = (usage: ResumptionPskUsage): PreSharedKeyId => ({
    psktype: PskType.resumption,
    usage,
    pskGroupId: Uint8Array.of(1),
    pskEpoch: 3n,
    pskNonce: nonce,
  });

  it('V-PSK-1: resumption/reinit only during reinit', () => {
    expect(() => validatePreSharedKeyId(cs, res(ResumptionPskUsage.reinit))).toThrow(/V-PSK-1/);
    expect(() => validatePreSharedKeyId(cs, res(ResumptionPskUsage.reinit), 'reinit')).not.toThrow();
  });

  it('V-PSK-2: resumption/branch only during branching', () => {
    expect(() => validatePreSharedKeyId(cs, res(ResumptionPskUsage.branch))).toThrow(/V-PSK-2/);
    expect(() => validatePreSharedKeyId(cs, res(ResumptionPskUsage.branch), 'branch')).not.toThrow();
  });

  it('V-PSK-3: psk_nonce must be KDF.Nh long', () => {
    expect(() => validatePreSharedKeyId(cs, { ...ext(1), pskNonce: new Uint8Array(31) })).toThrow(/V-PSK-3/);
    expect(() => validatePreSharedKeyId(cs, ext(1))).not.toThrow();
    expect(() => validatePreSharedKeyId(cs, res(ResumptionPskUsage.application))).not.toThrow();
  });

  it('V-PSK-4: no duplicate PreSharedKeyIDs in a Commit', () => {
    expect(() => validateDistinctPskIds([ext(1), ext(2), ext(1)])).toThrow(ValidationError);
    expect(() => validateDistinctPskIds([ext(1), ext(1)])).toThrow(/V-PSK-4/);
    expect(() => validateDistinctPskIds([ext(1), ext(2), res(ResumptionPskUsage.application)])).not.toThrow();
    expect(preSharedKeyIdEqual(ext(1), ext(1))).toBe(true);
    expect(preSharedKeyIdEqual(ext(1), ext(2))).toBe(false);
  });

  it('V-PSK-5: at most one reinit/branch resumption PSK in a Welcome', () => {
    expect(() => validateWelcomePskIds([res(ResumptionPskUsage.reinit), res(ResumptionPskUsage.branch)])).toThrow(/V-PSK-5/);
    expect(validateWelcomePskIds([ext(1), res(ResumptionPskUsage.branch)])).toBe(ResumptionPskUsage.branch);
    expect(validateWelcomePskIds([ext(1), res(ResumptionPskUsage.application)])).toBeUndefined();
  });

  it('V-PSK-6: more PSKs than a uint16 count can label is rejected', () => {
    const one = { id: ext(1), psk: new Uint8Array(32) };
    expect(() => computePskSecret(cs, new Array<typeof one>(0x10000).fill(one))).toThrow(/V-PSK-6/);
    expect(computePskSecret(cs, []).every((b) => b === 0)).toBe(true);
  });

  it('V-PSK-7: a missing PSK is an error', () => {
    const store = new Map([[bytesToHex(Uint8Array.of(1)), Uint8Array.of(9)]]);
    const lookup = (id: PreSharedKeyId) =>
      id.psktype === PskType.external ? store.get(bytesToHex(id.pskId)) : undefined;
    expect(resolvePsks([ext(1)], lookup)[0]!.psk).toEqual(Uint8Array.of(9));
    expect(() => resolvePsks([ext(1), ext(2)], lookup)).toThrow(/V-PSK-7/);
  });
});
