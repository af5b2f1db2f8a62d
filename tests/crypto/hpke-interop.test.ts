// Our RFC 9180 HPKE against an independent implementation (@hpke/core, test-only
// import): same DeriveKeyPair output, each side opens the other's ciphertexts,
// and the exporter agrees — for the KEM/KDF/AEAD combination of every suite.
import { describe, expect, it } from 'vitest';
import {
  Aes128Gcm,
  Aes256Gcm,
  CipherSuite as HpkeSuite,
  DhkemP256HkdfSha256,
  DhkemP384HkdfSha384,
  DhkemP521HkdfSha512,
  DhkemX25519HkdfSha256,
  DhkemX448HkdfSha512,
  HkdfSha256,
  HkdfSha384,
  HkdfSha512,
} from '@hpke/core';
import { Chacha20Poly1305 } from '@hpke/chacha20poly1305';
import { bytesToHex } from '../../lib/bytes.ts';
import { createCipherSuite, SUPPORTED_CIPHER_SUITES } from '../../lib/crypto/suites.ts';
import { BACKENDS } from './backends.ts';

function reference(id: number): HpkeSuite {
  switch (id) {
    case 1: return new HpkeSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes128Gcm() });
    case 2: return new HpkeSuite({ kem: new DhkemP256HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes128Gcm() });
    case 3: return new HpkeSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: new Chacha20Poly1305() });
    case 4: return new HpkeSuite({ kem: new DhkemX448HkdfSha512(), kdf: new HkdfSha512(), aead: new Aes256Gcm() });
    case 5: return new HpkeSuite({ kem: new DhkemP521HkdfSha512(), kdf: new HkdfSha512(), aead: new Aes256Gcm() });
    case 6: return new HpkeSuite({ kem: new DhkemX448HkdfSha512(), kdf: new HkdfSha512(), aead: new Chacha20Poly1305() });
    case 7: return new HpkeSuite({ kem: new DhkemP384HkdfSha384(), kdf: new HkdfSha384(), aead: new Aes256Gcm() });
    default: throw new Error(`no suite ${id}`);
  }
}

const utf8 = new TextEncoder();
const u8 = (b: ArrayBuffer) => new Uint8Array(b);

describe.each(SUPPORTED_CIPHER_SUITES.map((id) => [id]))('HPKE interop, suite %i', (id) => {
  for (const backend of ['auto', 'noble'] as const) {
    it(`suite ${id} (${backend}) matches @hpke/core`, async () => {
      const ours = createCipherSuite(id, BACKENDS[backend]).hpke;
      const ref = reference(id);
      for (let i = 0; i < 3; i++) {
        const ikm = utf8.encode(`ikm ${i} for suite ${id}`);
        const kp = await ours.deriveKeyPair(ikm);
        const refKp = await ref.kem.deriveKeyPair(ikm.slice().buffer);
        expect(bytesToHex(kp.privateKey)).toBe(bytesToHex(u8(await ref.kem.serializePrivateKey(refKp.privateKey))));
        expect(bytesToHex(kp.publicKey)).toBe(bytesToHex(u8(await ref.kem.serializePublicKey(refKp.publicKey))));

        const info = utf8.encode('info');
        const aad = utf8.encode('aad');
        const pt = utf8.encode(`plaintext ${i}`);
        // ours -> reference
        const c1 = await ours.seal(kp.publicKey, info, aad, pt);
        const p1 = await ref.open({ recipientKey: refKp.privateKey, enc: c1.kemOutput, info }, c1.ciphertext, aad);
        expect(bytesToHex(u8(p1))).toBe(bytesToHex(pt));
        // reference -> ours
        const c2 = await ref.seal({ recipientPublicKey: refKp.publicKey, info }, pt, aad);
        const p2 = await ours.open(kp.privateKey, u8(c2.enc), info, aad, u8(c2.ct));
        expect(p2 && bytesToHex(p2)).toBe(bytesToHex(pt));
        // exporter, both directions
        const ctx = utf8.encode('exporter context');
        const ex = await ours.exportSender(kp.publicKey, info, ctx, 32);
        const rc = await ref.createRecipientContext({ recipientKey: refKp.privateKey, enc: ex.kemOutput, info });
        expect(bytesToHex(u8(await rc.export(ctx, 32)))).toBe(bytesToHex(ex.secret));
        const sc = await ref.createSenderContext({ recipientPublicKey: refKp.publicKey, info });
        const mine = await ours.exportReceiver(kp.privateKey, u8(sc.enc), info, ctx, 32);
        expect(bytesToHex(mine)).toBe(bytesToHex(u8(await sc.export(ctx, 32))));
      }
    });
  }
});

// A Welcome's HPKE info is the whole encrypted GroupInfo (hundreds of KB in a
// large group); from 16 KiB on the WebCrypto backend hashes it in WebCrypto's
// HMAC instead of our SHA-256 (hpke.ts LARGE_INPUT). Both paths must agree
// with the reference, for seal, sealToMany, open and the exporter.
describe('HPKE interop with a large info', () => {
  for (const id of [1, 2, 7] as const) {
    for (const backend of ['webcrypto', 'noble', 'auto'] as const) {
      it(`suite ${id} (${backend}), 16 KiB - 1 and 300 KB of info`, async () => {
        const ours = createCipherSuite(id, BACKENDS[backend]).hpke;
        const ref = reference(id);
        const ikm = utf8.encode(`large info ${id}`);
        const kp = await ours.deriveKeyPair(ikm);
        const refKp = await ref.kem.deriveKeyPair(ikm.slice().buffer);
        for (const size of [16 * 1024 - 1, 300_000]) {
          const info = new Uint8Array(size).map((_, i) => (i * 31 + size) & 0xff);
          const aad = utf8.encode('aad');
          const pt = utf8.encode(`group secrets, ${size}`);
          const c1 = await ours.seal(kp.publicKey, info, aad, pt);
          expect(bytesToHex(u8(await ref.open({ recipientKey: refKp.privateKey, enc: c1.kemOutput, info }, c1.ciphertext, aad)))).toBe(bytesToHex(pt));
          const [c3] = await ours.sealToMany([kp.publicKey], info, aad, [pt]);
          expect(bytesToHex(u8(await ref.open({ recipientKey: refKp.privateKey, enc: c3!.kemOutput, info }, c3!.ciphertext, aad)))).toBe(bytesToHex(pt));
          const c2 = await ref.seal({ recipientPublicKey: refKp.publicKey, info }, pt, aad);
          const p2 = await ours.open(kp.privateKey, u8(c2.enc), info, aad, u8(c2.ct));
          expect(p2 && bytesToHex(p2)).toBe(bytesToHex(pt));
          // One bit of the info changed: the context differs, so open fails.
          const other = info.slice();
          other[size - 1]! ^= 1;
          expect(await ours.open(kp.privateKey, u8(c2.enc), other, aad, u8(c2.ct))).toBeNull();
          const ctx = utf8.encode('exporter context');
          const ex = await ours.exportSender(kp.publicKey, info, ctx, 32);
          const rc = await ref.createRecipientContext({ recipientKey: refKp.privateKey, enc: ex.kemOutput, info });
          expect(bytesToHex(u8(await rc.export(ctx, 32)))).toBe(bytesToHex(ex.secret));
        }
      });
    }
  }
});
