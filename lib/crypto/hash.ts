/**
 * Hash, HMAC and HKDF for the three MLS hash functions, all synchronous: for
 * the small inputs MLS hashes (labels, tree nodes, secrets) JavaScript is
 * about ten times faster than a WebCrypto round trip, so no backend hashes in
 * WebCrypto. Three implementations, picked by the backends:
 *  - noble (`nobleHash`, `nobleKdf`): @noble/hashes for everything, the
 *    reference the others are compared with;
 *  - portable (`portableHash`, `portableKdf`, the WebCrypto backend's, as in
 *    browsers): SHA-256 (suites 1-3) through our one-shot sha256.ts, about
 *    three times faster per call than noble's streaming hashers for short
 *    inputs (Chromium 156 and Node 20: a 60-byte HMAC ~2.5 µs vs ~7-8 µs);
 *    SHA-384/512 through noble;
 *  - Node's HMAC (node-crypto.ts), which builds its HKDF with `hkdf` below.
 */
import { sha256, sha384, sha512 } from '@noble/hashes/sha2.js';
import { hmac } from '@noble/hashes/hmac.js';
import { extract, expand } from '@noble/hashes/hkdf.js';
import type { HashProvider, KdfProvider } from './provider.ts';
import { UsageError } from './errors.ts';
import { hmacSha256, hmacSha256Keyed, sha256 as fastSha256 } from './sha256.ts';

export type HashName = 'SHA-256' | 'SHA-384' | 'SHA-512';

const fns = { 'SHA-256': sha256, 'SHA-384': sha384, 'SHA-512': sha512 } as const;

/** HMAC under one key, for the blocks of an HKDF-Expand. */
export type KeyedMac = (key: Uint8Array) => (data: Uint8Array) => Uint8Array;

/** Output length (Nh) of `name`. */
export function hashSize(name: HashName): number {
  return fns[name].outputLen;
}

/** The digest of `name` as the portable backends compute it. */
export function portableDigest(name: HashName): (data: Uint8Array) => Uint8Array {
  const h = fns[name];
  return name === 'SHA-256' ? fastSha256 : (data) => h(data);
}

function checkExpandArgs(size: number, prk: Uint8Array, length: number): void {
  if (!Number.isInteger(length) || length < 0 || length > 255 * size) {
    throw new UsageError(`HKDF-Expand length ${length} out of range`);
  }
  // RFC 5869 §2.3: PRK is "at least HashLen octets".
  if (prk.length < size) throw new UsageError(`HKDF-Expand PRK of ${prk.length} octets, at least ${size} needed`);
}

export function nobleHash(name: HashName): HashProvider {
  const h = fns[name];
  return { size: h.outputLen, digest: (data) => h(data), mac: (key, data) => hmac(h, key, data) };
}

export function nobleKdf(name: HashName): KdfProvider {
  const h = fns[name];
  const size = h.outputLen;
  return {
    size,
    extract: (salt, ikm) => extract(h, ikm, salt),
    expand: (prk, info, length) => {
      checkExpandArgs(size, prk, length);
      return expand(h, prk, info, length);
    },
  };
}

export function portableHash(name: HashName): HashProvider {
  if (name !== 'SHA-256') return nobleHash(name);
  return { size: 32, digest: fastSha256, mac: hmacSha256 };
}

export function portableKdf(name: HashName): KdfProvider {
  return name === 'SHA-256' ? hkdf(32, hmacSha256, hmacSha256Keyed) : nobleKdf(name);
}

/** HKDF (RFC 5869) over an HMAC of output length `size`, given one-shot (`mac`) and keyed once per PRK (`keyed`). */
export function hkdf(size: number, mac: (key: Uint8Array, data: Uint8Array) => Uint8Array, keyed: KeyedMac): KdfProvider {
  // RFC 5869 §2.2: an absent salt is HashLen zero octets; that key's HMAC
  // state is set up once (HPKE's KEM extracts with an empty salt per seal).
  const macZeros = keyed(new Uint8Array(size));
  const expandWith = (macPrk: (data: Uint8Array) => Uint8Array, info: Uint8Array, length: number): Uint8Array => {
    const blocks = Math.ceil(length / size);
    const out = new Uint8Array(blocks * size);
    // RFC 5869 §2.3: T(i) = HMAC(PRK, T(i-1) || info || i); `input` holds T(i-1) || info || i.
    const input = new Uint8Array(size + info.length + 1);
    input.set(info, size);
    for (let i = 0; i < blocks; i++) {
      input[size + info.length] = i + 1;
      const t = macPrk(i === 0 ? input.subarray(size) : input);
      out.set(t, i * size);
      input.set(t, 0);
    }
    return out.length === length ? out : out.slice(0, length);
  };
  return {
    size,
    extract: (salt, ikm) => (salt.length === 0 ? macZeros(ikm) : mac(salt, ikm)),
    expand: (prk, info, length) => {
      checkExpandArgs(size, prk, length);
      return expandWith(keyed(prk), info, length);
    },
    expander: (prk) => {
      checkExpandArgs(size, prk, 0);
      const macPrk = keyed(prk);
      return (info, length) => {
        checkExpandArgs(size, prk, length);
        return expandWith(macPrk, info, length);
      };
    },
  };
}
