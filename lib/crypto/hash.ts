/**
 * Hash, HMAC and HKDF for the three MLS hash functions, all synchronous: for
 * the small inputs MLS hashes (labels, tree nodes, secrets) noble is about ten
 * times faster than a WebCrypto round trip. Under Node, HMAC (and so HKDF)
 * goes through Node's crypto module instead, about 2.5 times faster than noble
 * for a one-block HMAC (node-crypto.ts); hashes stay in noble, which is as
 * fast for the short inputs that dominate.
 */
import { sha256, sha384, sha512 } from '@noble/hashes/sha2.js';
import { hmac } from '@noble/hashes/hmac.js';
import { extract, expand } from '@noble/hashes/hkdf.js';
import type { HashProvider, KdfProvider } from './provider.ts';
import { UsageError } from '../mls/errors.ts';
import { nodeCrypto, type NodeCrypto } from './node-crypto.ts';

export type HashName = 'SHA-256' | 'SHA-384' | 'SHA-512';

export interface HashOptions {
  /** 'auto' (default) uses Node's HMAC when running under Node; the others force noble. */
  backend?: 'auto' | 'webcrypto' | 'noble';
}

const fns = { 'SHA-256': sha256, 'SHA-384': sha384, 'SHA-512': sha512 } as const;
const nodeNames = { 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' } as const;

type Mac = (key: Uint8Array, data: Uint8Array) => Uint8Array;

/** HMAC over Node's crypto, returning a plain Uint8Array. */
function nodeMac(nc: NodeCrypto, name: HashName): Mac {
  const alg = nodeNames[name];
  return (key, data) => new Uint8Array(nc.createHmac(alg, key).update(data).digest());
}

function macFor(name: HashName, options: HashOptions): { mac: Mac; node: NodeCrypto | undefined } {
  const nc = (options.backend ?? 'auto') === 'auto' ? nodeCrypto() : undefined;
  if (nc !== undefined) return { mac: nodeMac(nc, name), node: nc };
  const h = fns[name];
  return { mac: (key, data) => hmac(h, key, data), node: undefined };
}

export function hashProvider(name: HashName, options: HashOptions = {}): HashProvider {
  const h = fns[name];
  return {
    size: h.outputLen,
    digest: (data) => h(data),
    mac: macFor(name, options).mac,
  };
}

/** HKDF (RFC 5869) over `name`. */
export function kdfProvider(name: HashName, options: HashOptions = {}): KdfProvider {
  const h = fns[name];
  const size = h.outputLen;
  const { node } = macFor(name, options);
  const checkArgs = (prk: Uint8Array, length: number): void => {
    if (!Number.isInteger(length) || length < 0 || length > 255 * size) {
      throw new UsageError(`HKDF-Expand length ${length} out of range`);
    }
    // RFC 5869 §2.3: PRK is "at least HashLen octets".
    if (prk.length < size) throw new UsageError(`HKDF-Expand PRK of ${prk.length} octets, at least ${size} needed`);
  };
  if (node !== undefined) {
    const alg = nodeNames[name];
    const zeros = new Uint8Array(size);
    return {
      size,
      // RFC 5869 §2.2: an absent salt is HashLen zero octets.
      extract: (salt, ikm) => new Uint8Array(node.createHmac(alg, salt.length === 0 ? zeros : salt).update(ikm).digest()),
      // RFC 5869 §2.3: T(i) = HMAC(PRK, T(i-1) || info || i), output the first `length` octets.
      expand: (prk, info, length) => {
        checkArgs(prk, length);
        const blocks = Math.ceil(length / size);
        const out = new Uint8Array(blocks * size);
        const counter = new Uint8Array(1);
        let previous: Uint8Array = new Uint8Array(0);
        for (let i = 0; i < blocks; i++) {
          counter[0] = i + 1;
          previous = node.createHmac(alg, prk).update(previous).update(info).update(counter).digest();
          out.set(previous, i * size);
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
