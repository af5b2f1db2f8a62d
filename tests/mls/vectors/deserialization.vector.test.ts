/**
 * deserialization.json (README-upstream "Vector Deserialization"): each
 * variable-length vector header decodes to the given length, is the minimal
 * encoding of it (§2.1.2), and a vector of that length round-trips.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../../lib/mls/errors.ts';
import { decode, encode, opaqueCodec, Reader, Writer } from '../../../lib/mls/codec/codec.ts';
import { bytesToHex, hexToBytes } from '../../../lib/bytes.ts';

interface Case {
  vlbytes_header: string;
  length: number;
}
const cases = JSON.parse(
  readFileSync(new URL('../../vectors/data/deserialization.json', import.meta.url), 'utf8'),
) as Case[];

describe('deserialization.json', () => {
  it('has cases', () => expect(cases.length).toBeGreaterThan(0));

  cases.forEach((c, i) => {
    it(`case ${i}: header ${c.vlbytes_header} is length ${c.length}`, () => {
      const header = hexToBytes(c.vlbytes_header);
      const r = new Reader(header);
      expect(r.varint()).toBe(c.length);
      r.finish();
      // Our encoder produces exactly this header (it is minimal).
      expect(bytesToHex(new Writer().varint(c.length).finish())).toBe(c.vlbytes_header);
      // A whole opaque<V> with that header and body decodes to the body.
      if (c.length <= 1 << 20) {
        const body = new Uint8Array(c.length).fill(0xa5);
        const wire = new Uint8Array(header.length + body.length);
        wire.set(header);
        wire.set(body, header.length);
        const decoded = decode(opaqueCodec, wire);
        expect(decoded.length).toBe(c.length);
        expect(bytesToHex(encode(opaqueCodec, decoded))).toBe(bytesToHex(wire));
      }
      // The header alone promises bytes that are not there: a typed error.
      if (c.length > 0) {
        expect(() => decode(opaqueCodec, header)).toThrow(DecodeError);
      }
    });
  });
});
