/**
 * Hash, HMAC and HKDF for the three MLS hash functions, all synchronous: for
 * the small inputs MLS hashes (labels, tree nodes, secrets) JavaScript is
 * about ten times faster than a WebCrypto round trip. SHA-256 (suites 1-3)
 * uses our one-shot sha256.ts, about three times faster per call than noble's
 * streaming hashers for short inputs (Chromium 156 and Node 20: a 60-byte
 * HMAC ~2.5 µs vs ~7-8 µs); SHA-384/512 use noble. Under Node, HMAC (and so
 * HKDF) goes through Node's crypto module instead (node-crypto.ts). The
 * 'noble' backend keeps noble for everything, as the reference the tests
 * compare the other backends with.
 */
import { sha256, sha384, sha512 } from '@noble/hashes/sha2.js';
import { hmac } from '@noble/hashes/hmac.js';
import { extract, expand } from '@noble/hashes/hkdf.js';
import type { HashProvider, KdfProvider } from './provider.ts';
import { UsageError } from './errors.ts';
import { nodeCrypto, type NodeCrypto } from './node-crypto.ts';
import { hmacSha256, hmacSha256Keyed, sha256 as fastSha256 } from './sha256.ts';

export type HashName = 'SHA-256' | 'SHA-384' | 'SHA-512';

export interface HashOptions {
  /**
   * 'auto' (default) uses Node's HMAC when running under Node, else as
   * 'webcrypto': sha256.ts for SHA-256, noble for the others; 'noble': noble only.
   */
  backend?: 'auto' | 'webcrypto' | 'noble';
}

const fns = { 'SHA-256': sha256, 'SHA-384': sha384, 'SHA-512': sha512 } as const;
const nodeNames = { 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' } as const;

type Mac = (key: Uint8Array, data: Uint8Array) => Uint8Array;
/** HMAC under one key, for the blocks of an HKDF-Expand. */
type KeyedMac = (key: Uint8Array) => (data: Uint8Array) => Uint8Array;

/** HMAC over Node's crypto, returning a plain Uint8Array. */
function nodeKeyedMac(nc: NodeCrypto, name: HashName): KeyedMac {
  const alg = nodeNames[name];
  return (key) => (data) => new Uint8Array(nc.createHmac(alg, key).update(data).digest());
}

/** Whether SHA-256 goes through sha256.ts (every backend but the 'noble' reference). */
function fastSha256For(name: HashName, options: HashOptions): boolean {
  return name === 'SHA-256' && options.backend !== 'noble';
}

/** The HMAC of a backend; `keyed` when it is not noble's (whose own HKDF is used then). */
function macFor(name: HashName, options: HashOptions): { mac: Mac; keyed?: KeyedMac } {
  const nc = (options.backend ?? 'auto') === 'auto' ? nodeCrypto() : undefined;
  if (nc !== undefined) {
    const keyed = nodeKeyedMac(nc, name);
    return { mac: (key, data) => keyed(key)(data), keyed };
  }
  if (fastSha256For(name, options)) return { mac: hmacSha256, keyed: hmacSha256Keyed };
  const h = fns[name];
  return { mac: (key, data) => hmac(h, key, data) };
}

export function hashProvider(name: HashName, options: HashOptions = {}): HashProvider {
  const h = fns[name];
  return {
    size: h.outputLen,
    digest: fastSha256For(name, options) ? fastSha256 : (data) => h(data),
    mac: macFor(name, options).mac,
  };
}

/** HKDF (RFC 5869) over `name`. */
export function kdfProvider(name: HashName, options: HashOptions = {}): KdfProvider {
  const h = fns[name];
  const size = h.outputLen;
  const { mac, keyed } = macFor(name, options);
  const checkArgs = (prk: Uint8Array, length: number): void => {
    if (!Number.isInteger(length) || length < 0 || length > 255 * size) {
      throw new UsageError(`HKDF-Expand length ${length} out of range`);
    }
    // RFC 5869 §2.3: PRK is "at least HashLen octets".
    if (prk.length < size) throw new UsageError(`HKDF-Expand PRK of ${prk.length} octets, at least ${size} needed`);
  };
  if (keyed !== undefined) {
    const zeros = new Uint8Array(size);
    return {
      size,
      // RFC 5869 §2.2: an absent salt is HashLen zero octets.
      extract: (salt, ikm) => mac(salt.length === 0 ? zeros : salt, ikm),
      expand: (prk, info, length) => {
        checkArgs(prk, length);
        const macPrk = keyed(prk);
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
      },
    };
  }
  return {
    size,
    extract: (salt, ikm) => extract(h, ikm, salt),
    expand: (prk, info, length) => {
      checkArgs(prk, length);
      return expand(h, prk, info, length);
    },
  };
}
