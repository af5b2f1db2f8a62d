/**
 * Diffie-Hellman groups for the DHKEMs of RFC 9180 §7.1: X25519, X448, P-256,
 * P-384 and P-521, with keys in their HPKE serialization (raw u-coordinate for
 * X25519/X448, uncompressed SEC1 points and fixed-length big-endian scalars for
 * the NIST curves).
 *
 * Two implementations: `nobleDhGroup`, pure JS, and `webCryptoDhGroup` (the
 * WebCrypto and Node backends'), where the DH runs in WebCrypto when the
 * runtime supports the curve (it is about ten times faster than noble), with
 * private keys imported once and cached, and otherwise in noble. X448 is
 * always noble (Chromium lacks it and Node marks it experimental). Both give
 * identical results and apply the same checks: public keys of the wrong
 * length or not on the curve, and all-zero X25519/X448 outputs, are
 * CryptoErrors.
 *
 * X25519 keys also take a "PKCS#8 route" in browsers: the public key of a
 * private key is read back from WebCrypto (import as PKCS#8, export as JWK)
 * instead of computed in noble, and an ephemeral key (HPKE Encap, once per
 * recipient of an UpdatePath) is random bytes imported that way instead of
 * `generateKey` + raw export. Measured in Chromium 156 (which runs these
 * calls on the page's thread): public key ~45-60 µs vs ~120-150 µs in noble;
 * ephemeral key + export + DH ~110 µs vs ~130 µs. Under Node the route is
 * about twice as slow as the other (~600 vs ~275 µs for an ephemeral DH), so
 * Node keeps noble and `generateKey`. The public keys are the same either way.
 */
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { x448 } from '@noble/curves/ed448.js';
import { p256, p384, p521 } from '@noble/curves/nist.js';
import { CryptoError } from './errors.ts';
import type { KeyPair } from './provider.ts';
import type { HashName } from './hash.ts';
import { cacheId, getSubtle, KeyCache, toBase64Url, webCryptoSupported, webCryptoSupports } from './subtle.ts';
import { concatBytes, fromB64, hexToBytes } from '../bytes.ts';

export type DhName = 'X25519' | 'X448' | 'P-256' | 'P-384' | 'P-521';

export interface DhGroup {
  readonly name: DhName;
  /** RFC 9180 §7.1 KEM identifier. */
  readonly kemId: number;
  /** Hash of the KEM's own HKDF. */
  readonly kemHash: HashName;
  readonly nsecret: number;
  readonly npk: number;
  readonly nsk: number;
  /** Montgomery curves derive a key by plain expansion; NIST ones by rejection sampling. */
  readonly montgomery: boolean;
  /** Mask for the first byte of a candidate scalar in DeriveKeyPair (NIST only). */
  readonly bitmask: number;
  isValidPrivateKey(sk: Uint8Array): boolean;
  publicKey(sk: Uint8Array): Uint8Array;
  generateKeyPair(): Promise<KeyPair>;
  /** The public key of `sk`, the same as `publicKey`, possibly computed off JavaScript (see the header). */
  publicKeyAsync(sk: Uint8Array): Promise<Uint8Array>;
  /** DH(sk, pk): the shared secret's serialization. */
  dh(sk: Uint8Array, pk: Uint8Array): Promise<Uint8Array>;
  /** A fresh ephemeral key and DH with `pk` (Encap's first half). */
  ephemeralDh(pk: Uint8Array): Promise<{ enc: Uint8Array; dh: Uint8Array }>;
}

/** How `dhGroup` computes: in noble only, or in WebCrypto where the runtime has the curve. */
interface DhBackend {
  webCrypto: boolean;
  /** Whether X25519 takes the PKCS#8 route for public keys and ephemeral keys (see the header). */
  pkcs8Route: boolean;
}

interface NobleDh {
  getPublicKey(sk: Uint8Array): Uint8Array;
  shared(sk: Uint8Array, pk: Uint8Array): Uint8Array;
  randomSecretKey(): Uint8Array;
  isValidSecretKey(sk: Uint8Array): boolean;
}

function nistNoble(c: typeof p256): NobleDh {
  return {
    getPublicKey: (sk) => c.getPublicKey(sk, false),
    // getSharedSecret returns a compressed point; the DH value is its x-coordinate.
    shared: (sk, pk) => c.getSharedSecret(sk, pk, true).subarray(1),
    randomSecretKey: () => c.utils.randomSecretKey(),
    isValidSecretKey: (sk) => c.utils.isValidSecretKey(sk),
  };
}

const ED_FP = ed25519.Point.Fp;
const ED_ORDER = ed25519.Point.Fn.ORDER;

/**
 * X25519(sk, 9) without the Montgomery ladder: the clamped scalar (RFC 7748
 * §5) times the Ed25519 base point, which noble multiplies with precomputed
 * tables in constant time (about 3x faster than the ladder), then the
 * birational map to the Montgomery u-coordinate, u = (1 + y) / (1 - y)
 * (RFC 7748 §4.1), evaluated on the projective Y/Z so it costs one inversion.
 * The Ed25519 base point maps to u = 9 and has prime order L, so [k]B =
 * [k mod L]B. A clamped k is never a multiple of L (it is a multiple of 8 in
 * [2^254, 2^255) and L is odd, about 2^252), so the result is never the
 * identity; the ladder stays as a defensive fallback.
 */
function x25519PublicKey(sk: Uint8Array): Uint8Array {
  let k = 0n;
  for (let i = 31; i >= 0; i--) k = (k << 8n) | BigInt(sk[i]!);
  k = (k & ((1n << 255n) - 8n)) | (1n << 254n);
  const m = k % ED_ORDER;
  if (m === 0n) return x25519.getPublicKey(sk);
  const p = ed25519.Point.BASE.multiply(m);
  const den = ED_FP.sub(p.Z, p.Y);
  if (ED_FP.is0(den)) return x25519.getPublicKey(sk);
  return ED_FP.toBytes(ED_FP.div(ED_FP.add(p.Z, p.Y), den));
}

function montNoble(c: typeof x25519, nsk: number): NobleDh {
  return {
    getPublicKey: c === x25519 ? x25519PublicKey : (sk) => c.getPublicKey(sk),
    shared: (sk, pk) => c.getSharedSecret(sk, pk),
    randomSecretKey: () => c.utils.randomSecretKey(),
    isValidSecretKey: (sk) => sk.length === nsk,
  };
}

interface Params {
  kemId: number;
  kemHash: HashName;
  nsecret: number;
  npk: number;
  nsk: number;
  bitmask: number;
  noble: NobleDh;
  /** WebCrypto algorithm, if the curve may exist there. */
  web?: { alg: EcKeyGenParams | Algorithm; bits: number; pkcs8Prefix?: string };
}

const PARAMS: Record<DhName, Params> = {
  X25519: {
    kemId: 0x0020, kemHash: 'SHA-256', nsecret: 32, npk: 32, nsk: 32, bitmask: 0,
    noble: montNoble(x25519, 32),
    web: { alg: { name: 'X25519' }, bits: 256, pkcs8Prefix: '302e020100300506032b656e04220420' },
  },
  X448: {
    kemId: 0x0021, kemHash: 'SHA-512', nsecret: 64, npk: 56, nsk: 56, bitmask: 0,
    noble: montNoble(x448 as unknown as typeof x25519, 56),
  },
  'P-256': {
    kemId: 0x0010, kemHash: 'SHA-256', nsecret: 32, npk: 65, nsk: 32, bitmask: 0xff,
    noble: nistNoble(p256),
    web: { alg: { name: 'ECDH', namedCurve: 'P-256' }, bits: 256 },
  },
  'P-384': {
    kemId: 0x0011, kemHash: 'SHA-384', nsecret: 48, npk: 97, nsk: 48, bitmask: 0xff,
    noble: nistNoble(p384),
    web: { alg: { name: 'ECDH', namedCurve: 'P-384' }, bits: 384 },
  },
  'P-521': {
    kemId: 0x0012, kemHash: 'SHA-512', nsecret: 64, npk: 133, nsk: 66, bitmask: 0x01,
    noble: nistNoble(p521),
    web: { alg: { name: 'ECDH', namedCurve: 'P-521' }, bits: 528 },
  },
};

function isAllZero(b: Uint8Array): boolean {
  let acc = 0;
  for (const x of b) acc |= x;
  return acc === 0;
}

/** Bounded sync cache of sk -> pk (public-key derivation is a scalar multiplication). */
class PublicKeyCache {
  private readonly map = new Map<string, Uint8Array>();
  constructor(private readonly capacity = 256) {}
  get(sk: Uint8Array, compute: () => Uint8Array): Uint8Array {
    const id = cacheId(sk);
    const hit = this.map.get(id);
    if (hit !== undefined) return hit.slice();
    const pk = compute();
    this.set(sk, pk);
    return pk.slice();
  }
  peek(sk: Uint8Array): Uint8Array | undefined {
    return this.map.get(cacheId(sk))?.slice();
  }
  set(sk: Uint8Array, pk: Uint8Array): void {
    this.map.set(cacheId(sk), pk.slice());
    if (this.map.size > this.capacity) {
      const oldest = this.map.keys().next().value;
      if (oldest !== undefined) this.map.delete(oldest);
    }
  }
}

/** Exposed for tests: the fixed-base X25519 public key must equal the ladder's. */
export const x25519PublicKeyForTest = x25519PublicKey;

/** The group in pure JS (the noble backend). */
export function nobleDhGroup(name: DhName): DhGroup {
  return dhGroup(name, { webCrypto: false, pkcs8Route: false });
}

/**
 * The group in WebCrypto where the runtime has the curve, else noble.
 * `pkcs8Route`: whether X25519 takes the PKCS#8 route (see the header); the
 * WebCrypto backend takes it in browsers, not under Node/Deno.
 */
export function webCryptoDhGroup(name: DhName, pkcs8Route: boolean): DhGroup {
  return dhGroup(name, { webCrypto: true, pkcs8Route });
}

function dhGroup(name: DhName, backend: DhBackend): DhGroup {
  const p = PARAMS[name];
  const noble = p.noble;
  const montgomery = name === 'X25519' || name === 'X448';
  const pubCache = new PublicKeyCache();
  const web = backend.webCrypto ? p.web : undefined;
  const privCache = new KeyCache<CryptoKey>();
  // Members' HPKE public keys: a commit in a blank tree of N members encrypts
  // to up to N-1 of them, and they stay the same from commit to commit until
  // their owners update, so the cache must hold a whole large group's keys
  // (smaller, it would thrash: LRU over a cyclic scan misses every time).
  const pubKeyCache = new KeyCache<CryptoKey>(4096);
  const pkcs8Route = web?.pkcs8Prefix !== undefined && backend.pkcs8Route;
  const pkcs8Prefix = web?.pkcs8Prefix === undefined ? undefined : hexToBytes(web.pkcs8Prefix);

  /** `sk` imported as an extractable PKCS#8 key and its public key read back from a JWK export. */
  async function importWithPublic(subtle: SubtleCrypto, sk: Uint8Array): Promise<{ key: CryptoKey; publicKey: Uint8Array }> {
    const der = concatBytes(pkcs8Prefix!, sk);
    // Extractable only so that the public key can be read back; the key is not kept.
    const key = await subtle.importKey('pkcs8', der as Uint8Array<ArrayBuffer>, web!.alg, true, ['deriveBits']);
    der.fill(0);
    const { x } = await subtle.exportKey('jwk', key);
    const publicKey = x === undefined ? undefined : (fromB64(x) ?? undefined);
    if (publicKey?.length !== p.npk) throw new CryptoError('DH', `${name}: WebCrypto exported no public key`);
    return { key, publicKey };
  }

  // V-CRYPTO-2 (RFC 9180 §7.1.4): public keys must be well-formed; NIST points
  // uncompressed and on the curve (the curve check happens in noble/WebCrypto).
  function checkPublic(pk: Uint8Array): void {
    if (pk.length !== p.npk) throw new CryptoError('DH', `${name}: public key must be ${p.npk} bytes, got ${pk.length}`);
    if (!montgomery && pk[0] !== 0x04) throw new CryptoError('DH', `${name}: public key is not an uncompressed point`);
  }

  function checkPrivate(sk: Uint8Array): void {
    if (!noble.isValidSecretKey(sk)) throw new CryptoError('DH', `${name}: invalid private key`);
  }

  function publicKey(sk: Uint8Array): Uint8Array {
    checkPrivate(sk);
    return pubCache.get(sk, () => noble.getPublicKey(sk));
  }

  async function publicKeyAsync(sk: Uint8Array): Promise<Uint8Array> {
    checkPrivate(sk);
    const cached = pubCache.peek(sk);
    if (cached !== undefined) return cached;
    const subtle = pkcs8Route && (await useWeb()) ? getSubtle() : undefined;
    if (subtle === undefined) return publicKey(sk);
    const { publicKey: pk } = await importWithPublic(subtle, sk);
    pubCache.set(sk, pk);
    return pk;
  }

  function nobleDh(sk: Uint8Array, pk: Uint8Array): Uint8Array {
    let out: Uint8Array;
    try {
      out = noble.shared(sk, pk);
    } catch (cause) {
      throw new CryptoError('DH', `${name}: invalid public key`, { cause });
    }
    // V-CRYPTO-1 (RFC 9180 §7.1.4, RFC 7748 §6): reject the all-zero X25519/X448 output.
    if (isAllZero(out)) throw new CryptoError('DH', `V-CRYPTO-1 ${name}: all-zero shared secret`);
    return out.slice();
  }

  async function useWeb(): Promise<boolean> {
    return web !== undefined && (webCryptoSupported(web.alg) ?? (await webCryptoSupports(web.alg, ['deriveBits'])));
  }

  /** WebCrypto's SubtleCrypto if the curve runs there, without yielding once the probe has settled (one call per seal). */
  function subtleNow(): SubtleCrypto | undefined | Promise<SubtleCrypto | undefined> {
    const known = web === undefined ? false : webCryptoSupported(web.alg);
    if (known !== undefined) return known ? getSubtle() : undefined;
    return useWeb().then((ok) => (ok ? getSubtle() : undefined));
  }

  function importPrivate(subtle: SubtleCrypto, sk: Uint8Array): Promise<CryptoKey> {
    const w = web!;
    return privCache.get(sk, () => {
      if (pkcs8Prefix !== undefined) {
        const der = concatBytes(pkcs8Prefix, sk) as Uint8Array<ArrayBuffer>;
        return subtle.importKey('pkcs8', der, w.alg, false, ['deriveBits']);
      }
      const pk = publicKey(sk);
      const n = (pk.length - 1) / 2;
      const jwk: JsonWebKey = {
        kty: 'EC',
        crv: (w.alg as EcKeyGenParams).namedCurve,
        d: toBase64Url(sk),
        x: toBase64Url(pk.subarray(1, 1 + n)),
        y: toBase64Url(pk.subarray(1 + n)),
      };
      return subtle.importKey('jwk', jwk, w.alg, false, ['deriveBits']);
    });
  }

  function importPublic(subtle: SubtleCrypto, pk: Uint8Array): Promise<CryptoKey> {
    return pubKeyCache.get(pk, () => subtle.importKey('raw', pk.slice() as Uint8Array<ArrayBuffer>, web!.alg, true, []));
  }

  async function webDh(subtle: SubtleCrypto, skKey: CryptoKey, pk: Uint8Array): Promise<Uint8Array> {
    let out: Uint8Array;
    try {
      const pubKey = pubKeyCache.peek(pk) ?? (await importPublic(subtle, pk));
      const algName = web!.alg.name;
      out = new Uint8Array(await subtle.deriveBits({ name: algName, public: pubKey } as EcdhKeyDeriveParams, skKey, web!.bits));
    } catch (cause) {
      throw new CryptoError('DH', `${name}: invalid public key`, { cause });
    }
    if (isAllZero(out)) throw new CryptoError('DH', `V-CRYPTO-1 ${name}: all-zero shared secret`);
    return out;
  }

  return {
    name,
    kemId: p.kemId,
    kemHash: p.kemHash,
    nsecret: p.nsecret,
    npk: p.npk,
    nsk: p.nsk,
    montgomery,
    bitmask: p.bitmask,
    isValidPrivateKey: (sk) => noble.isValidSecretKey(sk),
    publicKey,
    publicKeyAsync,
    async generateKeyPair() {
      const privateKey = noble.randomSecretKey();
      return { privateKey, publicKey: await publicKeyAsync(privateKey) };
    },
    async dh(sk, pk) {
      checkPublic(pk);
      checkPrivate(sk);
      const subtle = await subtleNow();
      if (subtle === undefined) return nobleDh(sk, pk);
      return webDh(subtle, await importPrivate(subtle, sk), pk);
    },
    async ephemeralDh(pk) {
      checkPublic(pk);
      const subtle = await subtleNow();
      if (subtle === undefined) {
        const sk = noble.randomSecretKey();
        return { enc: noble.getPublicKey(sk), dh: nobleDh(sk, pk) };
      }
      if (pkcs8Route) {
        // Random bytes are a valid X25519 private key (clamped on use, RFC 7748 §5).
        const sk = noble.randomSecretKey();
        const { key, publicKey: enc } = await importWithPublic(subtle, sk);
        sk.fill(0);
        return { enc, dh: await webDh(subtle, key, pk) };
      }
      const pair = (await subtle.generateKey(web!.alg, false, ['deriveBits'])) as CryptoKeyPair;
      const enc = new Uint8Array(await subtle.exportKey('raw', pair.publicKey));
      return { enc, dh: await webDh(subtle, pair.privateKey, pk) };
    },
  };
}
