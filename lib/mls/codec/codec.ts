/**
 * TLS presentation-language codec as profiled by RFC 9420 §2.1.
 *
 * Vectors carry a QUIC-style variable-length integer header (§2.1.2) whose
 * encoding must be minimal; decoding is strict: every failure is a
 * `DecodeError`, never another exception, and `decode()` rejects trailing bytes.
 * Sizes are capped (`maxLength`) so hostile input cannot make us allocate
 * without bound.
 *
 * Structs are encoded by `Codec<T>` objects that live beside their types.
 */
import { DecodeError } from '../errors.ts';

export interface DecodeOptions {
  /** Largest vector body (in bytes) accepted anywhere in the input. */
  maxLength?: number;
}

/** Default cap on one variable-length vector: 16 MiB. */
export const DEFAULT_MAX_LENGTH = 16 * 1024 * 1024;

/** Largest value a MLS varint can hold: 2^30 - 1. */
export const MAX_VARINT = 0x3fffffff;

export class Writer {
  private buf: Uint8Array;
  private len = 0;

  constructor(initialCapacity = 256) {
    this.buf = new Uint8Array(initialCapacity);
  }

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  get length(): number {
    return this.len;
  }

  u8(v: number): this {
    this.reserve(1);
    this.buf[this.len++] = v & 0xff;
    return this;
  }

  u16(v: number): this {
    this.reserve(2);
    this.buf[this.len++] = (v >>> 8) & 0xff;
    this.buf[this.len++] = v & 0xff;
    return this;
  }

  u32(v: number): this {
    this.reserve(4);
    this.buf[this.len++] = (v >>> 24) & 0xff;
    this.buf[this.len++] = (v >>> 16) & 0xff;
    this.buf[this.len++] = (v >>> 8) & 0xff;
    this.buf[this.len++] = v & 0xff;
    return this;
  }

  u64(v: bigint): this {
    this.u32(Number((v >> 32n) & 0xffffffffn));
    this.u32(Number(v & 0xffffffffn));
    return this;
  }

  /** Raw bytes with no length prefix (fixed-size fields). */
  bytes(v: Uint8Array): this {
    this.reserve(v.length);
    this.buf.set(v, this.len);
    this.len += v.length;
    return this;
  }

  /** RFC 9420 §2.1.2 variable-length integer, minimal encoding. */
  varint(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > MAX_VARINT) {
      throw new RangeError(`varint out of range: ${v}`);
    }
    if (v < 0x40) return this.u8(v);
    if (v < 0x4000) return this.u16(0x4000 | v);
    return this.u32((0x80000000 | v) >>> 0);
  }

  /** `opaque data<V>`: varint length then bytes. */
  opaque(v: Uint8Array): this {
    this.varint(v.length);
    return this.bytes(v);
  }

  /**
   * `T items<V>`: varint byte length then the encoded items. The items are
   * written in place after a one-byte length slot; only when the body needs a
   * longer prefix is it shifted, so nested vectors cost no extra buffers.
   */
  vector<T>(items: readonly T[], encodeItem: (w: Writer, item: T) => void): this {
    this.reserve(1);
    const slot = this.len;
    this.len += 1;
    for (const item of items) encodeItem(this, item);
    const n = this.len - slot - 1;
    if (n > MAX_VARINT) throw new RangeError(`vector of ${n} bytes is too long`);
    const prefix = n < 0x40 ? 1 : n < 0x4000 ? 2 : 4;
    if (prefix > 1) {
      this.reserve(prefix - 1);
      this.buf.copyWithin(slot + prefix, slot + 1, this.len);
      this.len += prefix - 1;
    }
    const end = this.len;
    this.len = slot;
    this.varint(n);
    this.len = end;
    return this;
  }

  /** `optional<T>`: presence octet, then the value if present. */
  optional<T>(value: T | undefined, encodeItem: (w: Writer, item: T) => void): this {
    if (value === undefined) return this.u8(0);
    this.u8(1);
    encodeItem(this, value);
    return this;
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }

  /** What was written, without a copy: valid only until the next write or `reset`. */
  view(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }

  /** Wipe what was written (it may be secret) and start over, keeping the buffer. */
  reset(): void {
    this.buf.fill(0, 0, this.len);
    this.len = 0;
  }

  get capacity(): number {
    return this.buf.length;
  }
}

export class Reader {
  private pos: number;
  private readonly end: number;
  readonly maxLength: number;

  constructor(
    private readonly buf: Uint8Array,
    options: DecodeOptions = {},
    start = 0,
    end = buf.length,
  ) {
    this.pos = start;
    this.end = end;
    this.maxLength = options.maxLength ?? DEFAULT_MAX_LENGTH;
  }

  get offset(): number {
    return this.pos;
  }

  /** A copy of the input bytes from `start` to the current offset (what one item just decoded from). */
  copyFrom(start: number): Uint8Array {
    if (start < 0 || start > this.pos) throw new RangeError(`copyFrom(${start}) past offset ${this.pos}`);
    return this.buf.slice(start, this.pos);
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number): void {
    if (n > this.end - this.pos) {
      throw new DecodeError('truncated', `need ${n} bytes, have ${this.end - this.pos}`, this.pos);
    }
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  u16(): number {
    this.need(2);
    const v = (this.buf[this.pos]! << 8) | this.buf[this.pos + 1]!;
    this.pos += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const b = this.buf;
    const p = this.pos;
    const v = ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
    this.pos += 4;
    return v;
  }

  u64(): bigint {
    const hi = BigInt(this.u32());
    const lo = BigInt(this.u32());
    return (hi << 32n) | lo;
  }

  /** `n` raw bytes (a copy, so callers may keep it). */
  bytes(n: number): Uint8Array {
    this.need(n);
    const out = this.buf.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  varint(): number {
    const start = this.pos;
    this.need(1);
    const first = this.buf[this.pos]!;
    const prefix = first >> 6;
    if (prefix === 3) throw new DecodeError('invalid-varint', 'varint prefix 0b11 is reserved', start);
    const size = 1 << prefix;
    this.need(size);
    let v = first & 0x3f;
    for (let i = 1; i < size; i++) v = v * 256 + this.buf[this.pos + i]!;
    this.pos += size;
    // §2.1.2: the smallest encoding MUST be used.
    const minimal = v < 0x40 ? 1 : v < 0x4000 ? 2 : 4;
    if (size !== minimal) throw new DecodeError('invalid-varint', `varint ${v} not minimally encoded`, start);
    return v;
  }

  private length(): number {
    const start = this.pos;
    const n = this.varint();
    if (n > this.maxLength) throw new DecodeError('too-large', `length ${n} exceeds cap ${this.maxLength}`, start);
    if (n > this.remaining) throw new DecodeError('overlong-length', `length ${n} runs past the input`, start);
    return n;
  }

  opaque(): Uint8Array {
    return this.bytes(this.length());
  }

  /** Decode `T items<V>`: every item must end exactly at the vector's end. */
  vector<T>(decodeItem: (r: Reader) => T): T[] {
    const n = this.length();
    const sub = new Reader(this.buf, { maxLength: this.maxLength }, this.pos, this.pos + n);
    const items: T[] = [];
    while (sub.remaining > 0) {
      const before = sub.offset;
      items.push(decodeItem(sub));
      // An item that consumes nothing would repeat forever: refuse rather than hang.
      if (sub.offset === before) throw new DecodeError('bad-value', 'vector item consumed no bytes', before);
    }
    this.pos += n;
    return items;
  }

  optional<T>(decodeItem: (r: Reader) => T): T | undefined {
    const start = this.pos;
    const flag = this.u8();
    if (flag === 0) return undefined;
    if (flag !== 1) throw new DecodeError('bad-value', `optional presence octet ${flag}`, start);
    return decodeItem(this);
  }

  /** Read a u16 enum and reject values outside `allowed`. */
  enumU16<T extends number>(allowed: ReadonlySet<number>, what: string): T {
    const start = this.pos;
    const v = this.u16();
    if (!allowed.has(v)) throw new DecodeError('bad-enum', `${what}: unknown value ${v}`, start);
    return v as T;
  }

  /** Read a u8 enum and reject values outside `allowed`. */
  enumU8<T extends number>(allowed: ReadonlySet<number>, what: string): T {
    const start = this.pos;
    const v = this.u8();
    if (!allowed.has(v)) throw new DecodeError('bad-enum', `${what}: unknown value ${v}`, start);
    return v as T;
  }

  /** Fail unless every byte was consumed. */
  finish(): void {
    if (this.pos !== this.end) {
      throw new DecodeError('trailing-bytes', `${this.end - this.pos} trailing bytes`, this.pos);
    }
  }
}

/** A struct's encoder and decoder, kept together beside its type. */
export interface Codec<T> {
  encode(w: Writer, value: T): void;
  decode(r: Reader): T;
}

/**
 * Scratch writers for `encode`, reused because allocating a fresh buffer for
 * each of the many small encodes (tree nodes, labels, TBS structs) was a
 * sizeable share of garbage collection. A stack, not a single writer, since
 * a codec may call `encode` while encoding. Buffers are wiped before reuse
 * and only moderately sized ones are kept.
 */
const scratchWriters: Writer[] = [];
const SCRATCH_MAX_CAPACITY = 1 << 16;

export function encode<T>(codec: Codec<T>, value: T): Uint8Array {
  const w = scratchWriters.pop() ?? new Writer(1024);
  try {
    codec.encode(w, value);
    return w.finish();
  } finally {
    w.reset();
    if (w.capacity <= SCRATCH_MAX_CAPACITY && scratchWriters.length < 8) scratchWriters.push(w);
  }
}

/**
 * Strictly decode a whole buffer. Anything other than a `DecodeError` thrown
 * while decoding (a RangeError from a typed array, say) is a decoding failure
 * too, and is reported as one so callers see a single error type.
 */
export function decode<T>(codec: Codec<T>, bytes: Uint8Array, options?: DecodeOptions): T {
  const r = new Reader(bytes, options);
  try {
    const value = codec.decode(r);
    r.finish();
    return value;
  } catch (err) {
    if (err instanceof DecodeError) throw err;
    throw new DecodeError('bad-value', `malformed input: ${String(err)}`, r.offset, { cause: err });
  }
}

/** Codec for `opaque<V>`. */
export const opaqueCodec: Codec<Uint8Array> = {
  encode: (w, v) => void w.opaque(v),
  decode: (r) => r.opaque(),
};

export const u8Codec: Codec<number> = { encode: (w, v) => void w.u8(v), decode: (r) => r.u8() };
export const u16Codec: Codec<number> = { encode: (w, v) => void w.u16(v), decode: (r) => r.u16() };
export const u32Codec: Codec<number> = { encode: (w, v) => void w.u32(v), decode: (r) => r.u32() };

export function vectorCodec<T>(item: Codec<T>): Codec<T[]> {
  return {
    encode: (w, v) => void w.vector(v, item.encode),
    decode: (r) => r.vector(item.decode),
  };
}

export function optionalCodec<T>(item: Codec<T>): Codec<T | undefined> {
  return {
    encode: (w, v) => void w.optional(v, item.encode),
    decode: (r) => r.optional(item.decode),
  };
}
