/** Official psk_secret vectors (RFC 9420 §8.4): chain external PSKs into psk_secret. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { getCipherSuite } from '../../../lib/crypto/suites.ts';
import type { CipherSuiteId } from '../../../lib/crypto/provider.ts';
import { bytesToHex, hexToBytes } from '../../../lib/bytes.ts';
import { PskType, computePskSecret, type ResolvedPsk } from '../../../lib/mls/keys/psk.ts';

interface PskCase {
  cipher_suite: number;
  psks: { psk_id: string; psk: string; psk_nonce: string }[];
  psk_secret: string;
}

const cases = JSON.parse(
  readFileSync(new URL('../../vectors/data/psk_secret.json', import.meta.url), 'utf8'),
) as PskCase[];

describe('psk_secret vectors', () => {

  cases.forEach((c, i) => {
    it(`suite ${c.cipher_suite} case ${i} (${c.psks.length} PSKs)`, () => {
      const cs = getCipherSuite(c.cipher_suite as CipherSuiteId);
      const psks: ResolvedPsk[] = c.psks.map((p) => ({
        id: { psktype: PskType.external, pskId: hexToBytes(p.psk_id), pskNonce: hexToBytes(p.psk_nonce) },
        psk: hexToBytes(p.psk),
      }));
      const before = psks.map((p) => bytesToHex(p.psk));
      expect(bytesToHex(computePskSecret(cs, psks))).toBe(c.psk_secret);
      // inputs are not mutated
      expect(psks.map((p) => bytesToHex(p.psk))).toEqual(before);
    });
  });
});
