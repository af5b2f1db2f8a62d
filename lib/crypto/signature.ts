/**
 * Signature schemes of the MLS suites (RFC 9420 §5.1.2): Ed25519, Ed448 and
 * ECDSA over P-256/P-384/P-521 with SHA-256/384/512.
 *
 * Key formats are the ones the RFC and its test vectors use: Ed25519/Ed448
 * private keys are the RFC 8032 seeds and public keys their encodings; ECDSA
 * private keys are big-endian scalars and public keys uncompressed SEC1 points.
 * ECDSA signatures are DER-encoded `Ecdsa-Sig-Value`s (as in crypto-basics.json).
 *
 * Two implementations here: `nobleSignature`, pure JS, and
 * `webCryptoSignature`, where Ed25519 and ECDSA run in WebCrypto when the
 * runtime has them (about ten times faster than noble), each key imported
 * once and cached as a CryptoKey, and Ed448 and any curve the runtime lacks
 * use noble. The Node backend signs EdDSA through Node's synchronous one-shot
 * calls instead (node-crypto.ts). All paths accept exactly the same
 * signatures: strict DER, no ZIP-215 leniency, high-S ECDSA allowed
 * (WebCrypto allows it and the RFC does not forbid it).
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { ed448 } from '@noble/curves/ed448.js';
import { p256, p384, p521 } from '@noble/curves/nist.js';
import { UsageError } from './errors.ts';
import { concatBytes, hexToBytes } from '../bytes.ts';
import type { KeyPair, SignatureProvider } from './provider.ts';
import { buf, getSubtle, KeyCache, toBase64Url, webCryptoSupports } from './subtle.ts';

export type SignatureName = 'Ed25519' | 'Ed448' | 'ECDSA-P256' | 'ECDSA-P384' | 'ECDSA-P521';

// ---------------------------------------------------------------------------
// DER <-> fixed-size (IEEE P1363) ECDSA signatures.

/**
 * V-CRYPTO-3: parse a DER `SEQUENCE { INTEGER r, INTEGER s }` strictly (minimal lengths,
 * minimal positive integers, nothing trailing) into r||s of `size` bytes each.
 * Returns undefined for anything else.
 */
export function derToP1363(der: Uint8Array, size: number): Uint8Array | undefined {
  let pos = 0;
  const byte = (): number | undefined => (pos < der.length ? der[pos++] : undefined);
  const readLen = (): number | undefined => {
    const first = byte();
    if (first === undefined) return undefined;
    if (first < 0x80) return first;
    if (first !== 0x81) return undefined; // our signatures are < 256 bytes
    const n = byte();
    if (n === undefined || n < 0x80) return undefined; // short form was required
    return n;
  };
  const readInt = (out: Uint8Array, offset: number): boolean => {
    if (byte() !== 0x02) return false;
    const len = readLen();
    if (len === undefined || len === 0 || pos + len > der.length) return false;
    let start = pos;
    const end = pos + len;
    pos = end;
    if (der[start]! & 0x80) return false; // negative
    if (der[start] === 0) {
      if (len === 1) return true; // zero; left as zeros, rejected by range check
      if ((der[start + 1]! & 0x80) === 0) return false; // non-minimal
      start++;
    }
    const n = end - start;
    if (n > size) return false;
    out.set(der.subarray(start, end), offset + size - n);
    return true;
  };
  if (byte() !== 0x30) return undefined;
  const seqLen = readLen();
  if (seqLen === undefined || pos + seqLen !== der.length) return undefined;
  const out = new Uint8Array(2 * size);
  if (!readInt(out, 0) || !readInt(out, size) || pos !== der.length) return undefined;
  return out;
}

function derInt(x: Uint8Array): number[] {
  let i = 0;
  while (i < x.length - 1 && x[i] === 0) i++;
  const body = Array.from(x.subarray(i));
  if (body[0]! & 0x80) body.unshift(0);
  return [0x02, ...derLen(body.length), ...body];
}

function derLen(n: number): number[] {
  return n < 0x80 ? [n] : [0x81, n];
}

/** Encode r||s (each `size` bytes) as a minimal DER Ecdsa-Sig-Value. */
export function p1363ToDer(sig: Uint8Array, size: number): Uint8Array {
  const body = [...derInt(sig.subarray(0, size)), ...derInt(sig.subarray(size, 2 * size))];
  return new Uint8Array([0x30, ...derLen(body.length), ...body]);
}

// ---------------------------------------------------------------------------

/** RFC 8410 OneAsymmetricKey prefix that wraps a 32-byte Ed25519 seed as PKCS#8. */
export const ED25519_PKCS8_PREFIX = hexToBytes('302e020100300506032b657004220420');

interface Scheme {
  skSize: number;
  /** ECDSA scalars may arrive without leading zero octets (a 65-byte P-521 key in the vectors). */
  variableLengthSk: boolean;
  pkSize: number;
  keygen(): KeyPair;
  nobleSign(sk: Uint8Array, msg: Uint8Array): Uint8Array;
  nobleVerify(pk: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean;
  /** WebCrypto form, if the runtime might have it. */
  web?: {
    keyAlg: EcKeyImportParams | Algorithm;
    signAlg: EcdsaParams | Algorithm;
    /** How to import a private key: PKCS#8 needs no public key, JWK does. */
    importPrivate(subtle: SubtleCrypto, sk: Uint8Array): Promise<CryptoKey>;
    /** Wire signature -> WebCrypto signature, or undefined if malformed. */
    toWeb(sig: Uint8Array): Uint8Array | undefined;
    fromWeb(sig: Uint8Array): Uint8Array;
  };
}

function edScheme(c: typeof ed25519, skSize: number, pkSize: number, webName?: string): Scheme {
  return {
    skSize,
    variableLengthSk: false,
    pkSize,
    keygen: () => {
      const { secretKey, publicKey } = c.keygen();
      return { privateKey: secretKey, publicKey };
    },
    nobleSign: (sk, msg) => c.sign(msg, sk),
    nobleVerify: (pk, msg, sig) => c.verify(sig, msg, pk, { zip215: false }),
    ...(webName === undefined
      ? {}
      : {
          web: {
            keyAlg: { name: webName },
            signAlg: { name: webName },
            // RFC 8410 OneAsymmetricKey wrapping the 32-byte seed.
            importPrivate: (subtle, sk) =>
              subtle.importKey('pkcs8', concatBytes(ED25519_PKCS8_PREFIX, sk) as Uint8Array<ArrayBuffer>, { name: webName }, false, ['sign']),
            toWeb: (sig) => (sig.length === 2 * pkSize ? sig : undefined),
            fromWeb: (sig) => sig,
          },
        }),
  };
}

function ecdsaScheme(c: typeof p256, curve: string, hash: string, size: number): Scheme {
  return {
    skSize: size,
    variableLengthSk: true,
    pkSize: 1 + 2 * size,
    keygen: () => {
      const privateKey = c.utils.randomSecretKey();
      return { privateKey, publicKey: c.getPublicKey(privateKey, false) };
    },
    nobleSign: (sk, msg) => p1363ToDer(c.sign(msg, sk, { lowS: false, format: 'compact' }), size),
    nobleVerify: (pk, msg, sig) => {
      const raw = derToP1363(sig, size);
      return raw !== undefined && c.verify(raw, msg, pk, { lowS: false, format: 'compact' });
    },
    web: {
      keyAlg: { name: 'ECDSA', namedCurve: curve },
      signAlg: { name: 'ECDSA', hash },
      // JWK rather than PKCS#8: portable EC private-key import needs the public point.
      importPrivate: (subtle, sk) => {
        const pk = c.getPublicKey(sk, false);
        const jwk: JsonWebKey = {
          kty: 'EC',
          crv: curve,
          d: toBase64Url(sk),
          x: toBase64Url(pk.subarray(1, 1 + size)),
          y: toBase64Url(pk.subarray(1 + size)),
        };
        return subtle.importKey('jwk', jwk, { name: 'ECDSA', namedCurve: curve }, false, ['sign']);
      },
      toWeb: (sig) => derToP1363(sig, size),
      fromWeb: (sig) => p1363ToDer(sig, size),
    },
  };
}

const SCHEMES: Record<SignatureName, () => Scheme> = {
  Ed25519: () => edScheme(ed25519, 32, 32, 'Ed25519'),
  Ed448: () => edScheme(ed448 as unknown as typeof ed25519, 57, 57),
  'ECDSA-P256': () => ecdsaScheme(p256, 'P-256', 'SHA-256', 32),
  'ECDSA-P384': () => ecdsaScheme(p384, 'P-384', 'SHA-384', 48),
  'ECDSA-P521': () => ecdsaScheme(p521, 'P-521', 'SHA-512', 66),
};

/** The scheme in pure JS (the noble backend). */
export function nobleSignature(name: SignatureName): SignatureProvider {
  return signatureProvider(name, false);
}

/** The scheme in WebCrypto where the runtime has it, else noble. */
export function webCryptoSignature(name: SignatureName): SignatureProvider {
  return signatureProvider(name, true);
}

function signatureProvider(name: SignatureName, webCrypto: boolean): SignatureProvider {
  const s = SCHEMES[name]();
  const web = webCrypto ? s.web : undefined;
  const privCache = new KeyCache<CryptoKey>();
  const pubCache = new KeyCache<CryptoKey>(1024);

  /** The private key at its fixed size (ECDSA scalars are left-padded). */
  function normalizePrivate(sk: Uint8Array): Uint8Array {
    if (sk.length === s.skSize) return sk;
    if (s.variableLengthSk && sk.length > 0 && sk.length < s.skSize) {
      const out = new Uint8Array(s.skSize);
      out.set(sk, s.skSize - sk.length);
      return out;
    }
    throw new UsageError(`${name}: private key must be ${s.skSize} bytes, got ${sk.length}`);
  }

  /** Outcome of the WebCrypto probe, once known (lets `sign` run without yielding). */
  let probed: { subtle: SubtleCrypto | undefined } | undefined = web === undefined ? { subtle: undefined } : undefined;

  async function subtleFor(): Promise<SubtleCrypto | undefined> {
    if (probed !== undefined) return probed.subtle;
    const ok = await webCryptoSupports(web!.keyAlg as EcKeyGenParams, ['sign', 'verify']);
    probed = { subtle: ok ? getSubtle() : undefined };
    return probed.subtle;
  }

  return {
    async generateKeyPair() {
      return s.keygen();
    },

    // Once the probe and the key import are done, this reaches subtle.sign
    // without an await, so the signing job starts within the caller's
    // synchronous turn and the caller can do other work while it runs.
    async sign(rawPrivateKey, message) {
      const privateKey = normalizePrivate(rawPrivateKey);
      const subtle = probed !== undefined ? probed.subtle : await subtleFor();
      if (subtle === undefined) {
        try {
          return s.nobleSign(privateKey, message);
        } catch (cause) {
          throw new UsageError(`${name}: invalid private key`, { cause });
        }
      }
      const w = web!;
      let key: CryptoKey;
      try {
        key = privCache.peek(privateKey) ?? (await privCache.get(privateKey, () => w.importPrivate(subtle, privateKey)));
      } catch (cause) {
        throw new UsageError(`${name}: invalid private key`, { cause });
      }
      const sig = new Uint8Array(await subtle.sign(w.signAlg, key, buf(message)));
      return w.fromWeb(sig);
    },

    async verify(publicKey, message, signature) {
      if (publicKey.length !== s.pkSize) return false;
      // A join checks a signature per member; once the probe is known, no extra await.
      const subtle = probed !== undefined ? probed.subtle : await subtleFor();
      if (subtle === undefined) {
        try {
          return s.nobleVerify(publicKey, message, signature);
        } catch {
          return false;
        }
      }
      const w = web!;
      const raw = w.toWeb(signature);
      if (raw === undefined) return false;
      try {
        const key =
          pubCache.peek(publicKey) ??
          (await pubCache.get(publicKey, () => subtle.importKey('raw', publicKey.slice() as Uint8Array<ArrayBuffer>, w.keyAlg, true, ['verify'])));
        return await subtle.verify(w.signAlg, key, buf(raw), buf(message));
      } catch {
        return false;
      }
    },
  };
}
