/**
 * Hash, HMAC and HKDF for the three MLS hash functions, all in noble and all
 * synchronous: for the small inputs MLS hashes (labels, tree nodes, secrets)
 * noble is about ten times faster than a WebCrypto round trip.
 */
import { sha256, sha384, sha512 } from '@noble/hashes/sha2.js';
import { hmac } from '@noble/hashes/hmac.js';
import { extract, expand } from '@noble/hashes/hkdf.js';
import type { HashProvider, KdfProvider } from './provider.ts';
import { UsageError } from '../mls/errors.ts';

export type HashName = 'SHA-256' | 'SHA-384' | 'SHA-512';

const fns = { 'SHA-256': sha256, 'SHA-384': sha384, 'SHA-512': sha512 } as const;

export function hashProvider(name: HashName): HashProvider {
  const h = fns[name];
  return {
    size: h.outputLen,
    digest: (data) => h(data),
    mac: (key, data) => hmac(h, key, data),
  };
}

/** HKDF (RFC 5869) over `name`. */
export function kdfProvider(name: HashName): KdfProvider {
  const h = fns[name];
  const size = h.outputLen;
  return {
    size,
    extract: (salt, ikm) => extract(h, ikm, salt),
    expand: (prk, info, length) => {
      if (!Number.isInteger(length) || length < 0 || length > 255 * size) {
        throw new UsageError(`HKDF-Expand length ${length} out of range`);
      }
      return expand(h, prk, info, length);
    },
  };
}
