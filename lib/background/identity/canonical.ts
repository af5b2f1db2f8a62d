/**
 * The byte strings our identity signatures cover. Never JSON text: two
 * encoders may order or escape JSON differently, and a signature must cover
 * exactly one reading of its content.
 *
 *   signed = label (ASCII) || 0x00 || field || field || ...
 *   bytes  = u32 length (big-endian) || the bytes      (strings as UTF-8)
 *   int    = u64 (big-endian), a safe non-negative integer
 *
 * Every kind of signature has its own label (domain separation): a roster
 * signature can never be read as a leaf binding, or the other way round.
 */
const enc = new TextEncoder();

export class Canonical {
  private parts: Uint8Array[] = [];
  private length = 0;

  constructor(label: string) {
    this.push(enc.encode(label));
    this.push(new Uint8Array([0]));
  }

  bytes(b: Uint8Array): this {
    const len = new Uint8Array(4);
    new DataView(len.buffer).setUint32(0, b.length);
    return this.push(len).push(b);
  }

  text(s: string): this {
    return this.bytes(enc.encode(s));
  }

  int(n: number): this {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError('canonical int must be a safe non-negative integer');
    const out = new Uint8Array(8);
    new DataView(out.buffer).setBigUint64(0, BigInt(n));
    return this.push(out);
  }

  /** A flag for an optional part: 0 absent, 1 present. */
  flag(present: boolean): this {
    return this.push(new Uint8Array([present ? 1 : 0]));
  }

  done(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }

  private push(b: Uint8Array): this {
    this.parts.push(b);
    this.length += b.length;
    return this;
  }
}
