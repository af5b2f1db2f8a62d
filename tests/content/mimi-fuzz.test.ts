/**
 * The MIMI content decoder under hostile input: mutated vectors, random
 * bytes and random well-formed CBOR of the wrong shape. Every input either
 * throws a ContentError or decodes to a value that re-encodes to exactly the
 * input (so nothing accepted is a partial or a re-interpreted value); no other
 * exception ever escapes. A seeded PRNG keeps every run the same.
 *
 * Then one case per rule (C-…), each a minimal change to a valid content.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { encode as encodeCbor } from 'cbor2';
import { describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes } from '../../lib/bytes.ts';
import { decodeContent, MAX_CONTENT_BYTES } from '../../lib/content/decode.ts';
import { encodeContent } from '../../lib/content/encode.ts';
import { ContentError, ContentErrorReason } from '../../lib/content/errors.ts';

const DIR = new URL('./vectors/', import.meta.url);
const VECTORS = readdirSync(DIR)
  .filter((f) => f.endsWith('.cbor'))
  .sort()
  .map((f) => new Uint8Array(readFileSync(new URL(f, DIR))));

/** mulberry32: small, seeded, deterministic. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Outcome = 'accepted' | ContentErrorReason;

/** Decode; an accepted value must re-encode to the input, and a failure must be a ContentError. */
function judge(input: Uint8Array): Outcome {
  let value;
  try {
    value = decodeContent(input);
  } catch (err) {
    if (!(err instanceof ContentError)) throw new Error(`not a ContentError for ${bytesToHex(input).slice(0, 200)}`, { cause: err });
    return err.reason;
  }
  expect(bytesToHex(encodeContent(value))).toBe(bytesToHex(input));
  return 'accepted';
}

function mutate(rand: () => number, src: Uint8Array): Uint8Array {
  const b = Array.from(src);
  const n = 1 + Math.floor(rand() * 4);
  for (let i = 0; i < n; i++) {
    const at = Math.floor(rand() * (b.length + 1));
    switch (Math.floor(rand() * 6)) {
      case 0: // flip a bit
        if (b.length > 0) b[at % b.length]! ^= 1 << Math.floor(rand() * 8);
        break;
      case 1: // set a byte to a random value
        if (b.length > 0) b[at % b.length] = Math.floor(rand() * 256);
        break;
      case 2: // insert a byte
        b.splice(at, 0, Math.floor(rand() * 256));
        break;
      case 3: // delete a byte
        b.splice(at, 1);
        break;
      case 4: // truncate
        b.length = at % (b.length + 1);
        break;
      default: // duplicate a slice (repeats map keys, array items)
        b.splice(at, 0, ...b.slice(at, at + Math.floor(rand() * 12)));
    }
  }
  return new Uint8Array(b);
}

/** A random CBOR value, shallow-ish, often close to the content's shape. */
function randomValue(rand: () => number, depth = 0): unknown {
  const pick = Math.floor(rand() * (depth > 3 ? 7 : 10));
  switch (pick) {
    case 0:
      return Math.floor(rand() * 300) - 20;
    case 1:
      return new Uint8Array(Array.from({ length: [0, 16, 32, 3][Math.floor(rand() * 4)]! }, () => Math.floor(rand() * 256)));
    case 2:
      return ['', 'en', 'text/plain;charset=utf-8', 'x'.repeat(256)][Math.floor(rand() * 4)];
    case 3:
      return null;
    case 4:
      return rand() < 0.5;
    case 5:
      return rand() * 10;
    case 6:
      return 2n ** 64n - 1n - BigInt(Math.floor(rand() * 3));
    case 7:
      return new Map(Array.from({ length: Math.floor(rand() * 3) }, (_, i) => [rand() < 0.5 ? i + 1 : `k${i}`, randomValue(rand, depth + 1)]));
    default:
      return Array.from({ length: Math.floor(rand() * 8) }, () => randomValue(rand, depth + 1));
  }
}

/** A content-shaped array with one field replaced by a random value. */
function nearContent(rand: () => number): Uint8Array {
  const salt = new Uint8Array(16).fill(7);
  const id = new Uint8Array(32).fill(1);
  const body: unknown[] = [1, '', 1, 'text/plain;charset=utf-8', new Uint8Array([104, 105])];
  const c: unknown[] = [salt, rand() < 0.5 ? null : id, new Uint8Array(0), null, rand() < 0.5 ? null : id, new Map(), body];
  const target = rand() < 0.5 ? c : body;
  target[Math.floor(rand() * target.length)] = randomValue(rand);
  if (rand() < 0.2) target.push(randomValue(rand));
  return encodeCbor(c);
}

describe('MIMI content decoder fuzz', () => {
  it('10,000 mutated vectors: a ContentError or a value that re-encodes to the input', () => {
    const rand = prng(20);
    const seen = new Map<Outcome, number>();
    for (let i = 0; i < 10_000; i++) {
      const o = judge(mutate(rand, VECTORS[i % VECTORS.length]!));
      seen.set(o, (seen.get(o) ?? 0) + 1);
    }
    // The mutations reach both stages, and some survive as other valid contents.
    expect(seen.get(ContentErrorReason.Cbor)).toBeGreaterThan(1000);
    expect(seen.get(ContentErrorReason.Shape)).toBeGreaterThan(50);
    expect(seen.get('accepted')).toBeGreaterThan(10);
  });

  it('3,000 random byte strings', () => {
    const rand = prng(2026);
    for (let i = 0; i < 3000; i++) {
      const input = new Uint8Array(Math.floor(rand() * 64)).map(() => Math.floor(rand() * 256));
      // Start most of them as a 7-array, so they get past the first byte.
      if (input.length > 0 && rand() < 0.7) input[0] = 0x87;
      judge(input);
    }
  });

  it('5,000 well-formed CBOR values near the content shape', () => {
    const rand = prng(7);
    const seen = new Map<Outcome, number>();
    for (let i = 0; i < 5000; i++) {
      const o = judge(nearContent(rand));
      seen.set(o, (seen.get(o) ?? 0) + 1);
    }
    expect(seen.get(ContentErrorReason.Shape)).toBeGreaterThan(1000);
    expect(seen.get('accepted')).toBeGreaterThan(100);
  });
});

describe('MIMI content decoder rules', () => {
  const SALT = new Uint8Array(16).fill(9);
  const ID = new Uint8Array(32).fill(1);
  const TEXT: unknown[] = [1, '', 1, 'text/plain;charset=utf-8', new Uint8Array([104, 105])];
  const make = (change: (c: unknown[]) => void): Uint8Array => {
    const c: unknown[] = [SALT, null, new Uint8Array(0), null, null, new Map(), [...TEXT]];
    change(c);
    return encodeCbor(c);
  };
  const reason = (b: Uint8Array): string => {
    try {
      decodeContent(b);
      return 'accepted';
    } catch (err) {
      return err instanceof ContentError ? `${err.reason} ${err.message.split(':')[0]}` : 'other';
    }
  };

  it('the base case is accepted', () => expect(reason(make(() => undefined))).toBe('accepted'));
  it('C-SIZE-1: over the size cap, before CBOR is read', () => expect(reason(new Uint8Array(MAX_CONTENT_BYTES + 1))).toBe('too-large C-SIZE-1'));
  it('C-CBOR-1: trailing bytes, truncation, duplicate keys, non-preferred and indefinite encodings', () => {
    const ok = make(() => undefined);
    expect(reason(new Uint8Array([...ok, 0]))).toBe('cbor C-CBOR-1');
    expect(reason(ok.subarray(0, ok.length - 1))).toBe('cbor C-CBOR-1');
    expect(reason(new Uint8Array(0))).toBe('cbor C-CBOR-1');
    // {1: "a", 1: "b"} as the extensions
    const dup = hexToBytes(bytesToHex(make((c) => (c[5] = new Map([[1, 'a'], [3, 'b']])))).replace('a2016161036162', 'a2016161016162'));
    expect(reason(dup)).toBe('cbor C-CBOR-1');
    // the disposition 1 written in two octets (0x18 0x01)
    const long = hexToBytes(bytesToHex(ok).replace('8501600178', '851801600178'));
    expect(long).not.toEqual(ok);
    expect(reason(long)).toBe('cbor C-CBOR-1');
    // the whole content as an indefinite-length array
    expect(reason(new Uint8Array([0x9f, ...ok.subarray(1), 0xff]))).toBe('cbor C-CBOR-1');
  });
  it('C-TOP-1/2/3: 7 fields, a 16-octet salt, a topicId of at most 4096 octets', () => {
    expect(reason(make((c) => c.pop()))).toBe('shape C-TOP-1');
    expect(reason(make((c) => (c[0] = new Uint8Array(15))))).toBe('shape C-TOP-2');
    expect(reason(make((c) => (c[2] = new Uint8Array(4097))))).toBe('too-large C-TOP-3');
  });
  it('C-ID-1: message ids are 32 octets naming SHA-256', () => {
    expect(reason(make((c) => (c[1] = ID)))).toBe('accepted');
    expect(reason(make((c) => (c[1] = ID.subarray(0, 31))))).toBe('shape C-ID-1');
    expect(reason(make((c) => (c[4] = new Uint8Array(32).fill(2))))).toBe('shape C-ID-1');
  });
  it('C-EXP-1: [bool, uint32]', () => {
    expect(reason(make((c) => (c[3] = [true, 600])))).toBe('accepted');
    expect(reason(make((c) => (c[3] = [1, 600])))).toBe('shape C-EXP-1');
    expect(reason(make((c) => (c[3] = [false, 2 ** 32])))).toBe('shape C-TYPE-3');
    expect(reason(make((c) => (c[3] = [false, 1.5])))).toBe('shape C-TYPE-3');
  });
  it('C-EXT-1/2/3: keys, the known keys text, values of at most 4095 octets', () => {
    expect(reason(make((c) => (c[5] = new Map<unknown, unknown>([[-7, [1, 2]], ['x', new Map()]]))))).toBe('accepted');
    expect(reason(make((c) => (c[5] = new Map([['', 1]]))))).toBe('shape C-EXT-1');
    expect(reason(make((c) => (c[5] = new Map([['k'.repeat(256), 1]]))))).toBe('shape C-EXT-1');
    expect(reason(make((c) => (c[5] = new Map([[new Uint8Array(1), 1]]))))).toBe('shape C-EXT-1');
    expect(reason(make((c) => (c[5] = new Map([[1, new Uint8Array(1)]]))))).toBe('shape C-EXT-2');
    expect(reason(make((c) => (c[5] = new Map([[9, new Uint8Array(4093)]]))))).toBe('too-large C-EXT-3');
    expect(reason(make((c) => (c[5] = [])))).toBe('shape C-EXT-1');
  });
  it('C-PART-1: at most 4 levels and 1024 parts', () => {
    const nest = (levels: number): unknown => (levels === 1 ? [...TEXT] : [1, '', 3, 2, [nest(levels - 1), [...TEXT]]]);
    expect(reason(make((c) => (c[6] = nest(4))))).toBe('accepted');
    expect(reason(make((c) => (c[6] = nest(5))))).toBe('too-large C-PART-1');
    expect(reason(make((c) => (c[6] = [1, '', 3, 2, Array.from({ length: 1024 }, () => [...TEXT])])))).toBe('too-large C-PART-1');
    expect(reason(make((c) => (c[6] = [1, '', 3, 2, Array.from({ length: 1023 }, () => [...TEXT])])))).toBe('accepted');
  });
  it('C-PART-2..6: each cardinality has exactly its fields; unknown cardinality and semantics refused', () => {
    expect(reason(make((c) => (c[6] = [1, '', 4])))).toBe('shape C-PART-2');
    expect(reason(make((c) => (c[6] = [1, ''])))).toBe('shape C-PART-2');
    expect(reason(make((c) => (c[6] = [1, '', 0, 'x'])))).toBe('shape C-PART-3');
    expect(reason(make((c) => (c[6] = [...TEXT, 0])))).toBe('shape C-PART-4');
    expect(reason(make((c) => (c[6] = [6, '', 2, 'a/b', 'u', 0, 0, 0, new Uint8Array(0), new Uint8Array(0), new Uint8Array(0), 0, new Uint8Array(0), ''])))).toBe('shape C-PART-5');
    expect(reason(make((c) => (c[6] = [1, '', 3, 3, [[...TEXT], [...TEXT]]])))).toBe('shape C-PART-6');
    expect(reason(make((c) => (c[6] = [1, '', 3, 0, [[...TEXT]]])))).toBe('shape C-PART-6');
  });
  it('C-TYPE-1..3: bytes, text and ranged unsigned integers where the CDDL says so', () => {
    expect(reason(make((c) => (c[6] = [1, '', 1, 'text/plain', 'hi'])))).toBe('shape C-TYPE-1');
    expect(reason(make((c) => (c[6] = [1, 0, 1, 'text/plain', new Uint8Array(0)])))).toBe('shape C-TYPE-2');
    expect(reason(make((c) => (c[6] = [256, '', 0])))).toBe('shape C-TYPE-3');
    expect(reason(make((c) => (c[6] = [-1, '', 0])))).toBe('shape C-TYPE-3');
    expect(reason(make((c) => (c[6] = [9, '', 0])))).toBe('accepted'); // an unknown disposition is legitimate (§9)
  });
});
