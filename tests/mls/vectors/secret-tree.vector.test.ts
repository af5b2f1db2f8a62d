// Official secret-tree.json vectors: sender-data key/nonce and every leaf's
// handshake/application ratchets, every case, every suite.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { bytesToHex, hexToBytes } from '../../../lib/bytes.ts';
import { getCipherSuite } from '../../../lib/crypto/suites.ts';
import { SecretTree, senderDataKeyNonce } from '../../../lib/mls/keys/secret-tree.ts';
import { leafIndex } from '../../../lib/mls/tree/tree-math.ts';

interface Case {
  cipher_suite: number;
  sender_data: { sender_data_secret: string; ciphertext: string; key: string; nonce: string };
  encryption_secret: string;
  leaves: Array<
    Array<{
      generation: number;
      handshake_key: string;
      handshake_nonce: string;
      application_key: string;
      application_nonce: string;
    }>
  >;
}

const cases = JSON.parse(
  readFileSync(new URL('../../vectors/data/secret-tree.json', import.meta.url), 'utf8'),
) as Case[];

describe('secret-tree vectors', () => {
  it('covers all seven suites', () => {
    expect(new Set(cases.map((c) => c.cipher_suite))).toEqual(new Set([1, 2, 3, 4, 5, 6, 7]));
  });

  cases.forEach((c, i) => {
    const cs = getCipherSuite(c.cipher_suite);

    it(`suite ${c.cipher_suite} case ${i} sender_data`, () => {
      const sd = c.sender_data;
      const { key, nonce } = senderDataKeyNonce(cs, hexToBytes(sd.sender_data_secret), hexToBytes(sd.ciphertext));
      expect(bytesToHex(key)).toBe(sd.key);
      expect(bytesToHex(nonce)).toBe(sd.nonce);
    });

    it(`suite ${c.cipher_suite} case ${i} ratchets of ${c.leaves.length} leaves`, () => {
      const tree = new SecretTree(cs, hexToBytes(c.encryption_secret), c.leaves.length);
      c.leaves.forEach((gens, leaf) => {
        for (const g of gens) {
          const hs = tree.consumeKey(leafIndex(leaf), 'handshake', g.generation);
          const app = tree.consumeKey(leafIndex(leaf), 'application', g.generation);
          expect(bytesToHex(hs.key), `leaf ${leaf} gen ${g.generation}`).toBe(g.handshake_key);
          expect(bytesToHex(hs.nonce)).toBe(g.handshake_nonce);
          expect(bytesToHex(app.key)).toBe(g.application_key);
          expect(bytesToHex(app.nonce)).toBe(g.application_nonce);
        }
      });
      // Deletion schedule: once every leaf is initialised no tree-node secret is left.
      expect(tree.storedNodeSecrets).toBe(0);
    });
  });
});
