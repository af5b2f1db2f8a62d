// The RejoinTicket codec: a round trip keeps every field; anything but a whole, well-formed ticket is
// refused with a RejoinTicketError (never another error, never a partial result), over 10,000+ fuzzed inputs.
import { describe, expect, it } from 'vitest';
import { decodeRejoinTicket, encodeRejoinTicket, RejoinTicketError, ticketConversationId, type RejoinTicket } from '../../../lib/background/healing/rejoin-ticket.ts';
import { toB64 } from '../../../lib/bytes.ts';

/** A small deterministic generator, so a failure can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const bytes = (r: () => number, n: number): Uint8Array => Uint8Array.from({ length: n }, () => Math.floor(r() * 256));

function sample(r: () => number, withRelay: boolean): RejoinTicket {
  return {
    ...(withRelay ? { relayUrl: 'https://relay.example.org' } : {}),
    groupId: bytes(r, 1 + Math.floor(r() * 64)),
    slotId: bytes(r, 16),
    slotKey: bytes(r, 32),
    slotVerifyKey: bytes(r, 32),
    queue: bytes(r, 32),
    capability: bytes(r, 32),
    leafIndex: Math.floor(r() * 0xffffffff),
    signaturePublicKey: bytes(r, 32),
    signaturePrivateKey: bytes(r, 32),
    credentialIdentity: bytes(r, 1 + Math.floor(r() * 40)),
  };
}

describe('RejoinTicket codec', () => {
  it('round-trips every field, with and without a relay origin', () => {
    const r = rng(1);
    for (const withRelay of [true, false]) {
      const t = sample(r, withRelay);
      const back = decodeRejoinTicket(encodeRejoinTicket(t));
      expect(back).toEqual(t);
      expect(ticketConversationId(back)).toBe(toB64(t.groupId));
    }
  });

  it('keeps the largest leaf index', () => {
    const t = { ...sample(rng(2), false), leafIndex: 0xffffffff };
    expect(decodeRejoinTicket(encodeRejoinTicket(t)).leafIndex).toBe(0xffffffff);
  });

  it('refuses to encode what it could not decode', () => {
    const t = sample(rng(3), false);
    expect(() => encodeRejoinTicket({ ...t, slotId: new Uint8Array(15) })).toThrow(RangeError);
    expect(() => encodeRejoinTicket({ ...t, groupId: new Uint8Array(0) })).toThrow(RangeError);
    expect(() => encodeRejoinTicket({ ...t, relayUrl: 'https://relay.example.org/path' })).toThrow(RangeError);
    expect(() => encodeRejoinTicket({ ...t, leafIndex: -1 })).toThrow(RangeError);
  });

  it('names each kind of damage', () => {
    const good = encodeRejoinTicket(sample(rng(4), true));
    const problem = (b: Uint8Array): string => {
      try {
        decodeRejoinTicket(b);
        return 'accepted';
      } catch (err) {
        return err instanceof RejoinTicketError ? err.problem : 'other';
      }
    };
    expect(problem(good.subarray(0, good.length - 1))).toBe('truncated');
    expect(problem(Uint8Array.from([...good, 0]))).toBe('trailing');
    expect(problem(Uint8Array.from([0x4e, ...good.subarray(1)]))).toBe('magic');
    expect(problem(Uint8Array.from([...good.subarray(0, 4), 2, ...good.subarray(5)]))).toBe('version');
    expect(problem(Uint8Array.from([...good.subarray(0, 5), 0x03, ...good.subarray(6)]))).toBe('flags');
    // The relay origin replaced by one of the same length that is not an origin.
    const bad = Uint8Array.from(good);
    bad.set(new TextEncoder().encode('https://relay.example.org'.replace('https://', 'ftp://x')), 8);
    expect(problem(bad)).toBe('relay');
    expect(problem(new Uint8Array(0))).toBe('truncated');
  });

  it('fuzz: 12,000 mutated and random inputs give a ticket or a RejoinTicketError, nothing else', () => {
    const r = rng(20261206);
    let accepted = 0;
    let refused = 0;
    for (let i = 0; i < 12_000; i++) {
      const base = encodeRejoinTicket(sample(r, r() < 0.5));
      let input: Uint8Array;
      const how = i % 4;
      if (how === 0) input = bytes(r, Math.floor(r() * 400));
      else if (how === 1) {
        input = Uint8Array.from(base);
        for (let k = 0, n = 1 + Math.floor(r() * 4); k < n; k++) input[Math.floor(r() * input.length)] = Math.floor(r() * 256);
      } else if (how === 2) input = base.subarray(0, Math.floor(r() * base.length));
      else input = Uint8Array.from([...base, ...bytes(r, 1 + Math.floor(r() * 8))]);
      const copy = Uint8Array.from(input);
      try {
        const t = decodeRejoinTicket(input);
        // Whatever decodes encodes back to the same bytes: no field was read loosely.
        expect(toB64(encodeRejoinTicket(t))).toBe(toB64(input));
        accepted++;
      } catch (err) {
        expect(err).toBeInstanceOf(RejoinTicketError);
        refused++;
      }
      expect(toB64(input)).toBe(toB64(copy));
    }
    expect(accepted + refused).toBe(12_000);
    expect(refused).toBeGreaterThan(6_000);
  });
});
