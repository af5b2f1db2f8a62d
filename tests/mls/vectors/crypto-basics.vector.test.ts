// Official crypto-basics.json vectors: every case, every suite.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { bytesToHex, hexToBytes } from '../../../lib/bytes.ts';
import { getCipherSuite } from '../../../lib/crypto/suites.ts';
import {
  decryptWithLabel,
  deriveSecret,
  deriveTreeSecret,
  encryptWithLabel,
  expandWithLabel,
  refHash,
  signWithLabel,
  verifyWithLabel,
} from '../../../lib/mls/keys/crypto-ops.ts';

interface Case {
  cipher_suite: number;
  ref_hash: { label: string; value: string; out: string };
  expand_with_label: { secret: string; label: string; context: string; length: number; out: string };
  derive_secret: { secret: string; label: string; out: string };
  derive_tree_secret: { secret: string; label: string; generation: number; length: number; out: string };
  sign_with_label: { priv: string; pub: string; content: string; label: string; signature: string };
  encrypt_with_label: {
    priv: string;
    pub: string;
    label: string;
    context: string;
    plaintext: string;
    kem_output: string;
    ciphertext: string;
  };
}

const cases = JSON.parse(
  readFileSync(new URL('../../vectors/data/crypto-basics.json', import.meta.url), 'utf8'),
) as Case[];
const h = hexToBytes;

describe('crypto-basics vectors', () => {
  it('covers all seven suites', () => {
    expect(new Set(cases.map((c) => c.cipher_suite))).toEqual(new Set([1, 2, 3, 4, 5, 6, 7]));
  });

  cases.forEach((c, i) => {
    describe(`suite ${c.cipher_suite} case ${i}`, () => {
      const cs = getCipherSuite(c.cipher_suite);

      it(`suite ${c.cipher_suite} ref_hash`, () => {
        const v = c.ref_hash;
        expect(bytesToHex(refHash(cs, v.label, h(v.value)))).toBe(v.out);
      });

      it(`suite ${c.cipher_suite} expand_with_label`, () => {
        const v = c.expand_with_label;
        expect(bytesToHex(expandWithLabel(cs, h(v.secret), v.label, h(v.context), v.length))).toBe(v.out);
      });

      it(`suite ${c.cipher_suite} derive_secret`, () => {
        const v = c.derive_secret;
        expect(bytesToHex(deriveSecret(cs, h(v.secret), v.label))).toBe(v.out);
      });

      it(`suite ${c.cipher_suite} derive_tree_secret`, () => {
        const v = c.derive_tree_secret;
        expect(bytesToHex(deriveTreeSecret(cs, h(v.secret), v.label, v.generation, v.length))).toBe(v.out);
      });

      it(`suite ${c.cipher_suite} sign_with_label`, async () => {
        const v = c.sign_with_label;
        expect(await verifyWithLabel(cs, h(v.pub), v.label, h(v.content), h(v.signature))).toBe(true);
        const sig = await signWithLabel(cs, h(v.priv), v.label, h(v.content));
        expect(await verifyWithLabel(cs, h(v.pub), v.label, h(v.content), sig)).toBe(true);
        // A different label or content must not verify.
        expect(await verifyWithLabel(cs, h(v.pub), v.label + 'x', h(v.content), sig)).toBe(false);
        const tampered = h(v.signature);
        tampered[tampered.length - 1]! ^= 1;
        expect(await verifyWithLabel(cs, h(v.pub), v.label, h(v.content), tampered)).toBe(false);
      });

      it(`suite ${c.cipher_suite} encrypt_with_label`, async () => {
        const v = c.encrypt_with_label;
        const pt = await decryptWithLabel(cs, h(v.priv), v.label, h(v.context), h(v.kem_output), h(v.ciphertext));
        expect(bytesToHex(pt)).toBe(v.plaintext);
        const enc = await encryptWithLabel(cs, h(v.pub), v.label, h(v.context), h(v.plaintext));
        const pt2 = await decryptWithLabel(cs, h(v.priv), v.label, h(v.context), enc.kemOutput, enc.ciphertext);
        expect(bytesToHex(pt2)).toBe(v.plaintext);
        await expect(
          decryptWithLabel(cs, h(v.priv), v.label + 'x', h(v.context), h(v.kem_output), h(v.ciphertext)),
        ).rejects.toThrow(/HPKE open failed/);
      });
    });
  });
});
