/**
 * Decoder fuzzing (RFC 9420 §2.1: strict decoding). Every struct's decoder is
 * fed at least 10,000 inputs per run: random bytes and mutations of valid
 * encodings (bit flips, truncation, extension, length-prefix tampering, byte
 * overwrites, splices). Each input must either
 *   - fail with our own `DecodeError`, thrown by our code (not a wrapped
 *     TypeError/RangeError: the decoder is driven directly, without the
 *     catch-all in `decode()`), or
 *   - decode, and then re-encode to exactly the input bytes (strict decoding
 *     admits only canonical encodings),
 * and the input buffer must be left untouched. A hang would fail the test
 * timeout. The seed is printed on failure; set FUZZ_SEED to replay a run.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encode, Reader, type Codec } from '../../lib/mls/codec/codec.ts';
import { bytesEqual, bytesToHex, hexToBytes } from '../../lib/bytes.ts';
import { commitCodec } from '../../lib/mls/group/commit.ts';
import { DecodeError } from '../../lib/mls/errors.ts';
import { mlsMessageCodec } from '../../lib/mls/framing/framing.ts';
import { ratchetTreeCodec } from '../../lib/mls/tree/tree-node.ts';
import { groupSecretsCodec } from '../../lib/mls/join/welcome.ts';
import { STRUCTS } from './support/structs.ts';

const INPUTS_PER_STRUCT = 10_000;
const POOL_SIZE = 48;
const SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : (Date.now() ^ 0x5bd1e995) >>> 0;
/** A small cap keeps hostile lengths from allocating much and exercises `too-large`. */
const OPTIONS = { maxLength: 1 << 12 };

/** xorshift32: fast and reproducible from the seed. */
function prng(seed: number): () => number {
  let x = seed >>> 0 || 0x9e3779b9;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

/** Varint-shaped headers: boundaries, non-minimal forms, the reserved prefix. */
const HEADERS: readonly number[][] = [
  [0x00], [0x01], [0x3f], [0x40, 0x00], [0x40, 0x3f], [0x40, 0x40], [0x7f, 0xff],
  [0x80, 0x00, 0x00, 0x00], [0x80, 0x00, 0x3f, 0xff], [0x80, 0x00, 0x40, 0x00],
  [0xbf, 0xff, 0xff, 0xff], [0xc0], [0xff, 0xff], [0x80, 0x01, 0x00, 0x00],
];

function mutate(valid: Uint8Array, next: () => number): Uint8Array {
  const n = valid.length;
  const at = (): number => (n === 0 ? 0 : next() % n);
  const rndBytes = (len: number): Uint8Array => {
    const b = new Uint8Array(len);
    for (let i = 0; i < len; i++) b[i] = next() & 0xff;
    return b;
  };
  switch (next() % 9) {
    case 0: // pure noise
      return rndBytes(next() % 96);
    case 1: {
      // one to four bit flips
      const out = valid.slice();
      const flips = 1 + (next() % 4);
      for (let i = 0; i < flips && n > 0; i++) out[at()]! ^= 1 << (next() % 8);
      return out;
    }
    case 2: // truncation
      return valid.slice(0, n === 0 ? 0 : next() % n);
    case 3: {
      // extension with trailing bytes
      const extra = rndBytes(1 + (next() % 8));
      const out = new Uint8Array(n + extra.length);
      out.set(valid);
      out.set(extra, n);
      return out;
    }
    case 4: {
      // overwrite with a varint-shaped header (length tampering)
      const out = valid.slice();
      const h = HEADERS[next() % HEADERS.length]!;
      const p = at();
      for (let i = 0; i < h.length && p + i < n; i++) out[p + i] = h[i]!;
      return out;
    }
    case 5: {
      // off-by-small a byte (nudges lengths and enums across their bounds)
      const out = valid.slice();
      if (n > 0) {
        const p = at();
        out[p] = (out[p]! + (next() % 2 === 0 ? 1 : 255)) & 0xff;
      }
      return out;
    }
    case 6: {
      // random byte values at a few places
      const out = valid.slice();
      const k = 1 + (next() % 3);
      for (let i = 0; i < k && n > 0; i++) out[at()] = next() & 0xff;
      return out;
    }
    case 7: {
      // delete a range
      const a = at();
      const b = Math.min(n, a + 1 + (next() % 8));
      const out = new Uint8Array(n - (b - a));
      out.set(valid.subarray(0, a));
      out.set(valid.subarray(b), a);
      return out;
    }
    default: {
      // duplicate a range in place
      const a = at();
      const b = Math.min(n, a + 1 + (next() % 8));
      const out = new Uint8Array(n + (b - a));
      out.set(valid.subarray(0, b));
      out.set(valid.subarray(a), b);
      return out;
    }
  }
}

/**
 * Feed `count` mutations of the `pool` encodings to `codec`'s decoder and
 * check the contract in the header; returns how many were rejected.
 */
function fuzz(name: string, codec: Codec<unknown>, pool: readonly Uint8Array[], seed: number, count: number): number {
  const next = prng(seed);
  let rejected = 0;
  for (let i = 0; i < count; i++) {
    const input = mutate(pool[next() % pool.length]!, next);
    const copy = input.slice();
    const context = (): string => `struct ${name}, seed ${SEED}, input ${bytesToHex(input)}`;
    let value: unknown;
    try {
      const r = new Reader(input, OPTIONS);
      value = codec.decode(r);
      r.finish();
    } catch (err) {
      if (!(err instanceof DecodeError) || err.cause !== undefined) {
        throw new Error(`non-DecodeError ${String(err)} (${context()})`, { cause: err });
      }
      rejected++;
      if (!bytesEqual(input, copy)) throw new Error(`decoder mutated its input (${context()})`);
      continue;
    }
    if (!bytesEqual(input, copy)) throw new Error(`decoder mutated its input (${context()})`);
    const again = encode(codec, value);
    if (!bytesEqual(again, input)) throw new Error(`accepted a non-canonical encoding (${context()})`);
  }
  return rejected;
}

describe(`decoder fuzz (seed ${SEED})`, () => {
  STRUCTS.forEach((s, index) => {
    it(`${s.name}: ${INPUTS_PER_STRUCT} hostile inputs give only DecodeError or a canonical decode`, () => {
      const pool = fc.sample(s.arb, { numRuns: POOL_SIZE, seed: (SEED + index) | 0 }).map((v) => encode(s.codec, v));
      const rejected = fuzz(s.name, s.codec, pool, SEED + index * 0x9e3779b1, INPUTS_PER_STRUCT);
      // The mutations must actually exercise the error paths.
      expect(rejected).toBeGreaterThan(INPUTS_PER_STRUCT / 10);
    });
  });
});

/** Real encodings from the official vectors (messages.json) as mutation seeds. */
describe(`decoder fuzz on messages.json encodings (seed ${SEED})`, () => {
  const cases = JSON.parse(
    readFileSync(new URL('../vectors/data/messages.json', import.meta.url), 'utf8'),
  ) as Record<string, string>[];
  const corpora: [string, Codec<unknown>, string[]][] = [
    ['MLSMessage', mlsMessageCodec as Codec<unknown>, ['mls_welcome', 'mls_group_info', 'mls_key_package', 'public_message_application', 'public_message_proposal', 'public_message_commit', 'private_message']],
    ['Commit', commitCodec as Codec<unknown>, ['commit']],
    ['ratchet_tree', ratchetTreeCodec as Codec<unknown>, ['ratchet_tree']],
    ['GroupSecrets', groupSecretsCodec as Codec<unknown>, ['group_secrets']],
  ];
  corpora.forEach(([name, codec, fields], index) => {
    it(`${name}: ${INPUTS_PER_STRUCT} mutations of vector encodings`, () => {
      const pool = cases.flatMap((c) => fields.map((f) => hexToBytes(c[f]!)));
      const rejected = fuzz(name, codec, pool, SEED ^ (0x1234567 * (index + 1)), INPUTS_PER_STRUCT);
      expect(rejected).toBeGreaterThan(INPUTS_PER_STRUCT / 10);
    });
  });
});
