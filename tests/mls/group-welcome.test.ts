/**
 * Welcome encryption: GroupSecrets to many new members under one context
 * (encryptWithLabelToMany, the context hashed once) decrypt with the plain
 * DecryptWithLabel of each recipient, for every suite.
 */
import { describe, expect, it } from 'vitest';
import { getCipherSuite } from '../../lib/crypto/suites.ts';
import { bytesToHex } from '../../lib/bytes.ts';
import { decryptWithLabel, encryptWithLabelToMany } from '../../lib/mls/keys/crypto-ops.ts';

describe('encryptWithLabelToMany', () => {
  for (const suiteId of [1, 2, 3, 4, 5, 6, 7]) {
    it(`suite ${suiteId}: each ciphertext opens with its recipient's key and the shared context`, async () => {
      const cs = getCipherSuite(suiteId);
      const kps = await Promise.all([0, 1, 2].map(() => cs.hpke.generateKeyPair()));
      const context = cs.randomBytes(5000);
      const plaintexts = kps.map((_, i) => new Uint8Array([i, i + 1, i + 2]));
      const cts = await encryptWithLabelToMany(cs, kps.map((k) => k.publicKey), 'Welcome', context, plaintexts);
      expect(cts.length).toBe(3);
      for (const [i, ct] of cts.entries()) {
        const pt = await decryptWithLabel(cs, kps[i]!.privateKey, 'Welcome', context, ct.kemOutput, ct.ciphertext);
        expect(bytesToHex(pt)).toBe(bytesToHex(plaintexts[i]!));
        // Another context, or another recipient, does not open it.
        await expect(decryptWithLabel(cs, kps[i]!.privateKey, 'Welcome', context.subarray(1), ct.kemOutput, ct.ciphertext)).rejects.toThrow();
        await expect(decryptWithLabel(cs, kps[(i + 1) % 3]!.privateKey, 'Welcome', context, ct.kemOutput, ct.ciphertext)).rejects.toThrow();
      }
      await expect(encryptWithLabelToMany(cs, [kps[0]!.publicKey], 'Welcome', context, plaintexts)).rejects.toThrow('one plaintext per public key');
    });
  }
});
