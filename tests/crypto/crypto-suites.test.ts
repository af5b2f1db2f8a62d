// Cipher-suite provider: the Node fast path ('auto' under Node), the browser's
// WebCrypto path ('webcrypto') and noble give identical results, keys and
// signatures are validated the same way on all, and misuse is typed.
import { describe, expect, it, vi } from 'vitest';
import { p256, p384, p521 } from '@noble/curves/nist.js';
import fc from 'fast-check';
import { bytesEqual, bytesToHex, hexToBytes } from '../../lib/bytes.ts';
import { createCipherSuite, getCipherSuite, SUPPORTED_CIPHER_SUITES } from '../../lib/crypto/suites.ts';
import { derToP1363, p1363ToDer } from '../../lib/crypto/signature.ts';
import { x25519PublicKeyForTest } from '../../lib/crypto/dh.ts';
import { x25519 } from '@noble/curves/ed25519.js';
import { WEBCRYPTO_AES_THRESHOLD } from '../../lib/crypto/aead.ts';
import { nodeCrypto } from '../../lib/crypto/node-crypto.ts';
import { noblePrimitives } from '../../lib/crypto/noble.ts';
import { webCryptoPrimitives } from '../../lib/crypto/webcrypto.ts';
import { BACKENDS } from './backends.ts';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256, sha384, sha512 } from '@noble/hashes/sha2.js';
import { expand, extract } from '@noble/hashes/hkdf.js';
import { CryptoError, UsageError } from '../../lib/mls/errors.ts';

const utf8 = new TextEncoder();

describe('getCipherSuite', () => {
  it('returns all seven suites and rejects unknown ids with UsageError', () => {
    expect(SUPPORTED_CIPHER_SUITES).toEqual([1, 2, 3, 4, 5, 6, 7]);
    for (const id of SUPPORTED_CIPHER_SUITES) expect(getCipherSuite(id).id).toBe(id);
    for (const bad of [0, 8, 0xffff, -1, 1.5]) expect(() => getCipherSuite(bad)).toThrow(UsageError);
  });
});

describe.each(
  SUPPORTED_CIPHER_SUITES.flatMap((id) => [
    [id, 'auto'],
    [id, 'webcrypto'],
  ] as const),
)('suite %i: the %s backend and noble agree', (id, backend) => {
  const auto = createCipherSuite(id, BACKENDS[backend]);
  const noble = createCipherSuite(id, BACKENDS.noble);

  it(`suite ${id} signatures cross-verify (and are identical where deterministic)`, async () => {
    const kp = await auto.signature.generateKeyPair();
    const msg = utf8.encode('hello MLS');
    const sa = await auto.signature.sign(kp.privateKey, msg);
    const sn = await noble.signature.sign(kp.privateKey, msg);
    // Second use hits the CryptoKey cache.
    const sa2 = await auto.signature.sign(kp.privateKey, msg);
    if (id === 1 || id === 3 || id === 4 || id === 6) {
      expect(bytesToHex(sa)).toBe(bytesToHex(sn));
      expect(bytesToHex(sa2)).toBe(bytesToHex(sn));
    }
    for (const s of [sa, sn, sa2]) {
      expect(await auto.signature.verify(kp.publicKey, msg, s)).toBe(true);
      expect(await noble.signature.verify(kp.publicKey, msg, s)).toBe(true);
      expect(await auto.signature.verify(kp.publicKey, utf8.encode('other'), s)).toBe(false);
      expect(await noble.signature.verify(kp.publicKey, utf8.encode('other'), s)).toBe(false);
    }
    // Malformed keys and signatures are `false`, not exceptions.
    for (const cs of [auto, noble]) {
      expect(await cs.signature.verify(kp.publicKey.subarray(1), msg, sa)).toBe(false);
      expect(await cs.signature.verify(kp.publicKey, msg, sa.subarray(1))).toBe(false);
      expect(await cs.signature.verify(kp.publicKey, msg, new Uint8Array(0))).toBe(false);
      await expect(cs.signature.sign(new Uint8Array(kp.privateKey.length + 1), msg)).rejects.toThrow(UsageError);
      await expect(cs.signature.sign(new Uint8Array(0), msg)).rejects.toThrow(UsageError);
    }
  });

  it(`suite ${id} ECDSA scalars without leading zero octets are left-padded; EdDSA seeds are fixed-size`, async () => {
    let kp = await noble.signature.generateKeyPair();
    while (kp.privateKey[0] !== 0) kp = await noble.signature.generateKeyPair();
    const msg = utf8.encode('short key');
    for (const cs of [auto, noble]) {
      const short = kp.privateKey.subarray(1);
      if (id === 2 || id === 5 || id === 7) {
        expect(await cs.signature.verify(kp.publicKey, msg, await cs.signature.sign(short, msg))).toBe(true);
      } else {
        await expect(cs.signature.sign(short, msg)).rejects.toThrow(UsageError);
      }
    }
  });

  it(`suite ${id} HPKE seal/open and export cross between backends`, async () => {
    const kp = await auto.hpke.deriveKeyPair(utf8.encode('ikm for a deterministic key pair'));
    const kpN = await noble.hpke.deriveKeyPair(utf8.encode('ikm for a deterministic key pair'));
    expect(bytesToHex(kp.privateKey)).toBe(bytesToHex(kpN.privateKey));
    expect(bytesToHex(kp.publicKey)).toBe(bytesToHex(kpN.publicKey));
    expect(await auto.hpke.checkKeyPair(kp.privateKey, kp.publicKey)).toBe(true);
    const other = await noble.hpke.generateKeyPair();
    expect(await auto.hpke.checkKeyPair(kp.privateKey, other.publicKey)).toBe(false);

    const info = utf8.encode('info');
    const aad = utf8.encode('aad');
    const pt = utf8.encode('secret message');
    for (const [a, b] of [[auto, noble], [noble, auto], [auto, auto]] as const) {
      const ct = await a.hpke.seal(kp.publicKey, info, aad, pt);
      expect(ct.kemOutput.length).toBe(a.hpke.publicKeySize);
      const opened = await b.hpke.open(kp.privateKey, ct.kemOutput, info, aad, ct.ciphertext);
      expect(opened && bytesToHex(opened)).toBe(bytesToHex(pt));
      expect(await b.hpke.open(kp.privateKey, ct.kemOutput, utf8.encode('other'), aad, ct.ciphertext)).toBeNull();
      expect(await b.hpke.open(other.privateKey, ct.kemOutput, info, aad, ct.ciphertext)).toBeNull();
      const ex = await a.hpke.exportSender(kp.publicKey, info, utf8.encode('ctx'), 42);
      const rx = await b.hpke.exportReceiver(kp.privateKey, ex.kemOutput, info, utf8.encode('ctx'), 42);
      expect(bytesToHex(rx)).toBe(bytesToHex(ex.secret));
    }
    // A kem_output of the wrong size or off the curve does not open (both paths).
    for (const cs of [auto, noble]) {
      expect(await cs.hpke.open(kp.privateKey, new Uint8Array(3), info, aad, new Uint8Array(32))).toBeNull();
      await expect(
        cs.hpke.exportReceiver(kp.privateKey, new Uint8Array(3), info, utf8.encode('ctx'), 32),
      ).rejects.toThrow(CryptoError);
    }
  });

  it(`suite ${id} AEAD: WebCrypto (large) and noble agree; tampering fails`, async () => {
    const key = auto.randomBytes(auto.aead.keySize);
    const nonce = auto.randomBytes(auto.aead.nonceSize);
    const aad = utf8.encode('aad');
    for (const size of [0, 100, WEBCRYPTO_AES_THRESHOLD + 1000]) {
      const pt = auto.randomBytes(size);
      const ca = await auto.aead.seal(key, nonce, aad, pt);
      const cn = await noble.aead.seal(key, nonce, aad, pt);
      expect(bytesToHex(ca)).toBe(bytesToHex(cn));
      const back = await auto.aead.open(key, nonce, aad, cn);
      expect(back !== null && bytesEqual(back, pt)).toBe(true);
      const bad = ca.slice();
      bad[0]! ^= 1;
      expect(await auto.aead.open(key, nonce, aad, bad)).toBeNull();
      expect(await noble.aead.open(key, nonce, aad, bad)).toBeNull();
    }
    await expect(auto.aead.seal(key.subarray(1), nonce, aad, aad)).rejects.toThrow(UsageError);
    expect(await auto.aead.open(key, nonce, aad, new Uint8Array(5))).toBeNull();
  });
});

describe("AES-GCM at the browser's threshold (every size through WebCrypto)", () => {
  it.each(['AES-128-GCM', 'AES-256-GCM'] as const)('%s: WebCrypto for small inputs and noble agree; tampering fails', async (name) => {
    const browser = webCryptoPrimitives({ aesThreshold: -1 }).aead(name);
    const noble = noblePrimitives.aead(name);
    const spy = vi.spyOn(globalThis.crypto.subtle, 'encrypt');
    try {
      const key = crypto.getRandomValues(new Uint8Array(browser.keySize));
      const nonce = crypto.getRandomValues(new Uint8Array(12));
      for (const size of [0, 1, 100, 1000]) {
        const aad = crypto.getRandomValues(new Uint8Array(size % 7));
        const pt = crypto.getRandomValues(new Uint8Array(size));
        const cw = await browser.seal(key, nonce, aad, pt);
        const cn = await noble.seal(key, nonce, aad, pt);
        expect(bytesToHex(cw)).toBe(bytesToHex(cn));
        const back = await browser.open(key, nonce, aad, cn);
        expect(back !== null && bytesEqual(back, pt)).toBe(true);
        for (const i of [0, cw.length - 1]) {
          const bad = cw.slice();
          bad[i]! ^= 1;
          expect(await browser.open(key, nonce, aad, bad)).toBeNull();
        }
        expect(await browser.open(key, nonce, new Uint8Array([...aad, 0]), cw)).toBeNull();
      }
      // Every size went through WebCrypto (this is the browser's path, not noble's).
      expect(spy).toHaveBeenCalledTimes(4);
    } finally {
      spy.mockRestore();
    }
    expect(await browser.open(crypto.getRandomValues(new Uint8Array(browser.keySize)), new Uint8Array(12), new Uint8Array(0), new Uint8Array(5))).toBeNull();
    await expect(browser.seal(new Uint8Array(3), new Uint8Array(12), new Uint8Array(0), new Uint8Array(0))).rejects.toThrow(UsageError);
  });
});

describe('CryptoKey caching', () => {
  it('imports each WebCrypto key once (signature and DH keys)', async () => {
    const spy = vi.spyOn(globalThis.crypto.subtle, 'importKey');
    try {
      for (const id of [1, 2] as const) {
        const cs = createCipherSuite(id, BACKENDS.webcrypto);
        const kp = await cs.signature.generateKeyPair();
        const msg = utf8.encode('m');
        const sig = await cs.signature.sign(kp.privateKey, msg);
        spy.mockClear();
        for (let i = 0; i < 5; i++) {
          await cs.signature.sign(kp.privateKey.slice(), msg);
          expect(await cs.signature.verify(kp.publicKey.slice(), msg, sig)).toBe(true);
        }
        // One import for the public key; the private key was imported by the first sign.
        expect(spy).toHaveBeenCalledTimes(1);

        const hk = await cs.hpke.generateKeyPair();
        const ct = await cs.hpke.seal(hk.publicKey, msg, msg, msg);
        spy.mockClear();
        for (let i = 0; i < 5; i++) await cs.hpke.open(hk.privateKey.slice(), ct.kemOutput.slice(), msg, msg, ct.ciphertext);
        // The private key and the (same) kem_output are each imported once.
        expect(spy).toHaveBeenCalledTimes(2);
      }
    } finally {
      spy.mockRestore();
    }
  });
});

describe('DH groups', () => {
  it.each(['X25519', 'X448', 'P-256', 'P-384', 'P-521'] as const)('%s: both back ends derive the same secret', async (name) => {
    const a = BACKENDS.auto.dh(name);
    const n = noblePrimitives.dh(name);
    const k1 = await n.generateKeyPair();
    const k2 = await n.generateKeyPair();
    const s1 = await a.dh(k1.privateKey, k2.publicKey);
    const s2 = await n.dh(k2.privateKey, k1.publicKey);
    expect(bytesToHex(s1)).toBe(bytesToHex(s2));
  });

  it.each([false, true])('X25519 (PKCS#8 route %s): an ephemeral key gives the recipient the same secret from enc', async (pkcs8Route) => {
    const g = webCryptoPrimitives({ pkcs8Route }).dh('X25519');
    const n = noblePrimitives.dh('X25519');
    const recipient = await n.generateKeyPair();
    const encs = new Set<string>();
    for (let i = 0; i < 8; i++) {
      const { enc, dh } = await g.ephemeralDh(recipient.publicKey);
      expect(enc.length).toBe(32);
      expect(bytesToHex(await n.dh(recipient.privateKey, enc))).toBe(bytesToHex(dh));
      encs.add(bytesToHex(enc));
    }
    expect(encs.size).toBe(8);
    // V-CRYPTO-1 holds on this path too.
    await expect(g.ephemeralDh(new Uint8Array(32))).rejects.toThrow(CryptoError);
  });

  it.each([false, true])('X25519 (PKCS#8 route %s): publicKeyAsync equals the RFC 7748 vectors and noble; generated pairs match', async (pkcs8Route) => {
    const g = webCryptoPrimitives({ pkcs8Route }).dh('X25519');
    const vectors = [
      ['77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a', '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a'],
      ['5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb', 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f'],
    ] as const;
    for (const [sk, pk] of vectors) {
      expect(bytesToHex(await g.publicKeyAsync(hexToBytes(sk)))).toBe(pk);
      // A second time from the cache, and the sync form agrees.
      expect(bytesToHex(await g.publicKeyAsync(hexToBytes(sk)))).toBe(pk);
      expect(bytesToHex(g.publicKey(hexToBytes(sk)))).toBe(pk);
    }
    const edge = [new Uint8Array(32), new Uint8Array(32).fill(0xff)];
    for (let i = 0; i < 16; i++) edge.push(crypto.getRandomValues(new Uint8Array(32)));
    for (const sk of edge) expect(bytesToHex(await g.publicKeyAsync(sk))).toBe(bytesToHex(x25519.getPublicKey(sk)));
    const pair = await g.generateKeyPair();
    expect(bytesToHex(pair.publicKey)).toBe(bytesToHex(x25519.getPublicKey(pair.privateKey)));
    await expect(g.publicKeyAsync(new Uint8Array(31))).rejects.toThrow(CryptoError);
  });

  it('X25519: the fixed-base (Edwards) public key equals the RFC 7748 vectors and the Montgomery ladder', () => {
    // RFC 7748 §6.1 (Alice and Bob).
    const vectors = [
      ['77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a', '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a'],
      ['5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb', 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f'],
    ] as const;
    for (const [sk, pk] of vectors) {
      expect(bytesToHex(x25519PublicKeyForTest(hexToBytes(sk)))).toBe(pk);
      expect(bytesToHex(BACKENDS.auto.dh('X25519').publicKey(hexToBytes(sk)))).toBe(pk);
    }
    const edge = [new Uint8Array(32), new Uint8Array(32).fill(0xff)];
    for (let i = 0; i < 64; i++) edge.push(crypto.getRandomValues(new Uint8Array(32)));
    for (const sk of edge) expect(bytesToHex(x25519PublicKeyForTest(sk))).toBe(bytesToHex(x25519.getPublicKey(sk)));
  });

  it.each(['X25519', 'X448'] as const)('V-CRYPTO-1 %s: an all-zero (low-order) shared secret is a CryptoError on both paths', async (name) => {
    for (const g of [BACKENDS.auto.dh(name), noblePrimitives.dh(name)]) {
      const k = await g.generateKeyPair();
      await expect(g.dh(k.privateKey, new Uint8Array(g.npk))).rejects.toThrow(CryptoError);
    }
  });

  it.each(['P-256', 'P-384', 'P-521'] as const)('V-CRYPTO-2 %s: off-curve and compressed public keys are CryptoErrors', async (name) => {
    for (const g of [BACKENDS.auto.dh(name), noblePrimitives.dh(name)]) {
      const k = await g.generateKeyPair();
      const off = k.publicKey.slice();
      off[off.length - 1]! ^= 1;
      await expect(g.dh(k.privateKey, off)).rejects.toThrow(CryptoError);
      const compressed = k.publicKey.slice(0, 1 + (g.npk - 1) / 2);
      await expect(g.dh(k.privateKey, compressed)).rejects.toThrow(CryptoError);
    }
  });
});

describe('ECDSA DER encoding', () => {
  const curves = [
    [2, p256, 32],
    [5, p521, 66],
    [7, p384, 48],
  ] as const;

  it.each(curves)('suite %i: high-S signatures verify on both paths (WebCrypto accepts them)', async (id, curve, size) => {
    const msg = utf8.encode('m');
    const sk = curve.utils.randomSecretKey();
    const pk = curve.getPublicKey(sk, false);
    const raw = curve.sign(msg, sk, { lowS: true, format: 'compact' });
    const n = curve.Point.Fn.ORDER;
    const s = BigInt('0x' + bytesToHex(raw.subarray(size)));
    const hiS = hexToBytes((n - s).toString(16).padStart(2 * size, '0'));
    const hi = new Uint8Array([...raw.subarray(0, size), ...hiS]);
    for (const cs of [createCipherSuite(id), createCipherSuite(id, BACKENDS.webcrypto), createCipherSuite(id, BACKENDS.noble)]) {
      expect(await cs.signature.verify(pk, msg, p1363ToDer(raw, size))).toBe(true);
      expect(await cs.signature.verify(pk, msg, p1363ToDer(hi, size))).toBe(true);
    }
  });

  it('V-CRYPTO-3 property: DER encoding round-trips any r||s; random bytes never parse to something that re-encodes differently', () => {
    for (const size of [32, 48, 66]) {
      fc.assert(
        fc.property(fc.uint8Array({ minLength: 2 * size, maxLength: 2 * size }), (raw) => {
          const der = p1363ToDer(raw, size);
          expect(bytesToHex(derToP1363(der, size)!)).toBe(bytesToHex(raw));
        }),
        { numRuns: 200 },
      );
      fc.assert(
        fc.property(
          fc.oneof(
            fc.uint8Array({ maxLength: 2 * size + 10 }),
            // Mutations of valid encodings hit the interesting paths.
            fc.tuple(fc.uint8Array({ minLength: 2 * size, maxLength: 2 * size }), fc.nat(), fc.integer({ min: 0, max: 255 })).map(
              ([raw, at, v]) => {
                const der = p1363ToDer(raw, size);
                der[at % der.length] = v;
                return der;
              },
            ),
          ),
          (junk) => {
          const parsed = derToP1363(junk, size);
          // Only canonical encodings parse, so whatever parses re-encodes to the same bytes.
          if (parsed !== undefined) expect(bytesToHex(p1363ToDer(parsed, size))).toBe(bytesToHex(junk));
          },
        ),
        { numRuns: 1000 },
      );
    }
  });

  it('V-CRYPTO-3: round-trips and rejects non-canonical DER', () => {
    const size = 32;
    const raw = new Uint8Array(64);
    raw[31] = 1;
    raw[32] = 0x80;
    const der = p1363ToDer(raw, size);
    expect(bytesToHex(der)).toBe('3026020101022100' + '80' + '00'.repeat(31));
    expect(bytesToHex(derToP1363(der, size)!)).toBe(bytesToHex(raw));
    const bad = [
      '3006020101020101ff', // trailing byte
      '30070201010202 0001'.replace(' ', ''), // non-minimal integer (leading zero before < 0x80)
      '3006020181020101', // truncated / negative
      '300602010102018f', // negative s
      '30810602010102 0101'.replace(' ', ''), // long-form length where short form is required
      '3106020101020101', // not a SEQUENCE
      '3005020101020101', // sequence length mismatch
      '3000',
      '',
    ];
    for (const hex of bad) expect(derToP1363(hexToBytes(hex), size), hex).toBeUndefined();
    // An integer wider than the field is rejected.
    expect(derToP1363(hexToBytes('3026020101022101' + '00'.repeat(32)), size)).toBeUndefined();
  });
});

describe('Node fast path (node-crypto.ts)', () => {
  const nobleHashes = { 'SHA-256': sha256, 'SHA-384': sha384, 'SHA-512': sha512 } as const;

  it('is present under Node (so the other tests here exercise it as the auto backend)', () => {
    expect(nodeCrypto()).toBeDefined();
  });

  it.each(['SHA-256', 'SHA-384', 'SHA-512'] as const)('%s: HMAC and HKDF equal noble for any key, salt, info and length', (name) => {
    const h = nobleHashes[name];
    const fast = { hash: BACKENDS.auto.hash(name), kdf: BACKENDS.auto.kdf(name) };
    const size = h.outputLen;
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 200 }),
        fc.uint8Array({ maxLength: 200 }),
        fc.uint8Array({ minLength: size, maxLength: 3 * size }),
        fc.uint8Array({ maxLength: 80 }),
        fc.integer({ min: 0, max: 4 * size + 1 }),
        (key, data, prk, info, length) => {
          expect(bytesToHex(fast.hash.mac(key, data))).toBe(bytesToHex(hmac(h, key, data)));
          expect(bytesToHex(fast.kdf.extract(key, data))).toBe(bytesToHex(extract(h, data, key)));
          expect(bytesToHex(fast.kdf.expand(prk, info, length))).toBe(bytesToHex(expand(h, prk, info, length)));
        },
      ),
      { numRuns: 100 },
    );
    const prk = new Uint8Array(size).fill(7);
    expect(fast.kdf.expand(prk, new Uint8Array(0), 255 * size).length).toBe(255 * size);
    for (const kdf of [fast.kdf, noblePrimitives.kdf(name)]) {
      expect(() => kdf.expand(prk, new Uint8Array(0), 255 * size + 1)).toThrow(UsageError);
      expect(() => kdf.expand(prk.subarray(1), new Uint8Array(0), size)).toThrow(UsageError);
    }
    // Outputs are plain Uint8Arrays (not Node Buffers), so they compare equal to other byte strings.
    expect(Object.getPrototypeOf(fast.hash.mac(prk, prk))).toBe(Uint8Array.prototype);
  });

  it.each([1, 5] as const)('suite %i AEAD: Node, WebCrypto and noble ciphertexts are identical; any bit flip or truncation fails to open', async (id) => {
    const backends = (['auto', 'webcrypto', 'noble'] as const).map((backend) => createCipherSuite(id, BACKENDS[backend]).aead);
    const [fast] = backends;
    const key = getCipherSuite(id).randomBytes(fast!.keySize);
    const nonce = getCipherSuite(id).randomBytes(fast!.nonceSize);
    for (const size of [0, 1, 16, 100, 1000]) {
      const pt = getCipherSuite(id).randomBytes(size);
      const aad = utf8.encode(`aad ${size}`);
      const cts = await Promise.all(backends.map((a) => a.seal(key, nonce, aad, pt)));
      expect(new Set(cts.map(bytesToHex)).size).toBe(1);
      const ct = cts[0]!;
      for (const a of backends) expect(bytesToHex((await a.open(key, nonce, aad, ct))!)).toBe(bytesToHex(pt));
      for (const at of [0, ct.length - 1, Math.floor(ct.length / 2)]) {
        const bad = ct.slice();
        bad[at]! ^= 0x80;
        expect(await fast!.open(key, nonce, aad, bad)).toBeNull();
      }
      expect(await fast!.open(key, nonce, utf8.encode('other aad'), ct)).toBeNull();
      expect(await fast!.open(key, nonce, aad, ct.subarray(0, ct.length - 1))).toBeNull();
      expect(await fast!.open(key, nonce, aad, ct.subarray(1))).toBeNull();
    }
  });

  it.each([1, 4] as const)('suite %i EdDSA: same signatures as noble; non-canonical S, bad points and wrong lengths are false, never thrown', async (id) => {
    const fast = createCipherSuite(id).signature;
    const noble = createCipherSuite(id, BACKENDS.noble).signature;
    const kp = await noble.generateKeyPair();
    const msg = utf8.encode('FramedContentTBS');
    const sig = await fast.sign(kp.privateKey, msg);
    expect(bytesToHex(sig)).toBe(bytesToHex(await noble.sign(kp.privateKey, msg)));
    expect(await fast.verify(kp.publicKey, msg, sig)).toBe(true);
    // S + L (the group order) is the same scalar mod L: strict verifiers (RFC 8032 §5.1.7) reject it.
    const half = sig.length / 2;
    const order = id === 1 ? 2n ** 252n + 27742317777372353535851937790883648493n : 2n ** 446n - 13818066809895115352007386748515426880336692474882178609894547503885n;
    let s = 0n;
    for (let i = half - 1; i >= half - half; i--) s = (s << 8n) | BigInt(sig[half + i]!);
    let sPlusL = s + order;
    const malleated = sig.slice();
    for (let i = 0; i < half; i++, sPlusL >>= 8n) malleated[half + i] = Number(sPlusL & 0xffn);
    expect(await noble.verify(kp.publicKey, msg, malleated)).toBe(false);
    expect(await fast.verify(kp.publicKey, msg, malleated)).toBe(false);
    // A public key that is not a curve point (y >= p) and signatures of the wrong length.
    const notAPoint = new Uint8Array(kp.publicKey.length).fill(0xff);
    expect(await fast.verify(notAPoint, msg, sig)).toBe(false);
    expect(await fast.verify(kp.publicKey, msg, sig.subarray(1))).toBe(false);
    expect(await fast.verify(kp.publicKey, msg, new Uint8Array([...sig, 0]))).toBe(false);
    // Keys are imported once: a second verify with a copy of the key creates no new KeyObject.
    const nc = nodeCrypto()!;
    const spy = vi.spyOn(nc, 'createPublicKey');
    try {
      expect(await fast.verify(kp.publicKey.slice(), msg, sig)).toBe(true);
      expect(spy).not.toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
  });
});

describe('HPKE follows the suite backend', () => {
  it('the KEM key schedule uses the backend the suite was built with, not always Node HMAC', async () => {
    const nc = nodeCrypto()!;
    const hmacCalls = async (backend: 'auto' | 'webcrypto' | 'noble'): Promise<number> => {
      const hpke = createCipherSuite(1, BACKENDS[backend]).hpke;
      const spy = vi.spyOn(nc, 'createHmac');
      try {
        const kp = await hpke.deriveKeyPair(new Uint8Array(32).fill(7));
        const ct = await hpke.seal(kp.publicKey, utf8.encode('info'), utf8.encode('aad'), utf8.encode('hello'));
        expect(await hpke.open(kp.privateKey, ct.kemOutput, utf8.encode('info'), utf8.encode('aad'), ct.ciphertext)).toEqual(utf8.encode('hello'));
        return spy.mock.calls.length;
      } finally {
        spy.mockRestore();
      }
    };
    // Under Node the default takes Node's HMAC, so the spy does see HPKE's key schedule...
    expect(await hmacCalls('auto')).toBeGreaterThan(0);
    // ...and the portable backends, measured and tested as the browser's path, never reach it.
    expect(await hmacCalls('webcrypto')).toBe(0);
    expect(await hmacCalls('noble')).toBe(0);
  });
});
