/**
 * The seven cipher suites of RFC 9420 §17.1 as table entries, each composed
 * once from one backend's primitives (primitives.ts): hash, HKDF, AEAD, our
 * RFC 9180 HPKE over the backend's DH group, and signatures. By default the
 * backend is the runtime's fastest: Node's (node-crypto.ts) under Node, else
 * WebCrypto's (webcrypto.ts), as in the extension.
 *
 *   id  KEM              AEAD               Hash     Signature
 *   1   DHKEM(X25519)    AES-128-GCM        SHA-256  Ed25519
 *   2   DHKEM(P-256)     AES-128-GCM        SHA-256  ECDSA P-256
 *   3   DHKEM(X25519)    ChaCha20Poly1305   SHA-256  Ed25519
 *   4   DHKEM(X448)      AES-256-GCM        SHA-512  Ed448
 *   5   DHKEM(P-521)     AES-256-GCM        SHA-512  ECDSA P-521
 *   6   DHKEM(X448)      ChaCha20Poly1305   SHA-512  Ed448
 *   7   DHKEM(P-384)     AES-256-GCM        SHA-384  ECDSA P-384
 */
import { randomBytes as nobleRandomBytes } from '@noble/hashes/utils.js';
import { UsageError } from './errors.ts';
import type { CipherSuite, CipherSuiteId } from './provider.ts';
import type { AeadName, DhName, HashName, Primitives, SignatureName } from './primitives.ts';
import { hpkeProvider } from './hpke.ts';
import { nodeCrypto, nodePrimitives } from './node-crypto.ts';
import { webCryptoPrimitives } from './webcrypto.ts';

interface SuiteSpec {
  name: string;
  dh: DhName;
  aead: AeadName;
  hash: HashName;
  signature: SignatureName;
}

const SPECS: Record<CipherSuiteId, SuiteSpec> = {
  1: { name: 'MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519', dh: 'X25519', aead: 'AES-128-GCM', hash: 'SHA-256', signature: 'Ed25519' },
  2: { name: 'MLS_128_DHKEMP256_AES128GCM_SHA256_P256', dh: 'P-256', aead: 'AES-128-GCM', hash: 'SHA-256', signature: 'ECDSA-P256' },
  3: { name: 'MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_Ed25519', dh: 'X25519', aead: 'ChaCha20-Poly1305', hash: 'SHA-256', signature: 'Ed25519' },
  4: { name: 'MLS_256_DHKEMX448_AES256GCM_SHA512_Ed448', dh: 'X448', aead: 'AES-256-GCM', hash: 'SHA-512', signature: 'Ed448' },
  5: { name: 'MLS_256_DHKEMP521_AES256GCM_SHA512_P521', dh: 'P-521', aead: 'AES-256-GCM', hash: 'SHA-512', signature: 'ECDSA-P521' },
  6: { name: 'MLS_256_DHKEMX448_CHACHA20POLY1305_SHA512_Ed448', dh: 'X448', aead: 'ChaCha20-Poly1305', hash: 'SHA-512', signature: 'Ed448' },
  7: { name: 'MLS_256_DHKEMP384_AES256GCM_SHA384_P384', dh: 'P-384', aead: 'AES-256-GCM', hash: 'SHA-384', signature: 'ECDSA-P384' },
};

/** The suite ids we implement: all of RFC 9420's. */
export const SUPPORTED_CIPHER_SUITES: readonly CipherSuiteId[] = [1, 2, 3, 4, 5, 6, 7];

/** The runtime's fastest backend: Node's crypto module where there is one, else WebCrypto (browsers). */
export function defaultPrimitives(): Primitives {
  const nc = nodeCrypto();
  return nc !== undefined ? nodePrimitives(nc) : webCryptoPrimitives();
}

export function isSupportedCipherSuite(id: number): id is CipherSuiteId {
  return Object.prototype.hasOwnProperty.call(SPECS, id);
}

/**
 * Build a fresh suite instance (own key caches) on `primitives`, every part
 * of it on that one backend. Most code wants `getCipherSuite`.
 */
export function createCipherSuite(id: number, primitives: Primitives = defaultPrimitives()): CipherSuite {
  if (!isSupportedCipherSuite(id)) throw new UsageError(`unsupported cipher suite ${id}`);
  const spec = SPECS[id];
  return Object.freeze({
    id,
    name: spec.name,
    hash: primitives.hash(spec.hash),
    kdf: primitives.kdf(spec.hash),
    aead: primitives.aead(spec.aead),
    hpke: hpkeProvider(primitives, { kem: spec.dh, kdf: spec.hash, aead: spec.aead }),
    signature: primitives.signature(spec.signature),
    randomBytes: (length: number) => nobleRandomBytes(length),
  });
}

const instances = new Map<number, CipherSuite>();

/** The shared instance of suite `id`; throws UsageError for ids outside 1..7. */
export function getCipherSuite(id: number): CipherSuite {
  let cs = instances.get(id);
  if (cs === undefined) {
    cs = createCipherSuite(id);
    instances.set(id, cs);
  }
  return cs;
}
