/**
 * The Node backend: a fast path through Node's own crypto module (OpenSSL),
 * the default when the library runs under Node (tests, benchmarks, tools) and
 * never in the browser, which runs the WebCrypto backend (webcrypto.ts).
 *
 * Why: for the small inputs of one MLS message, Node's synchronous one-shot
 * calls are several times cheaper than both of the portable paths, measured
 * on Node 20 (per call): Ed25519 sign ~50 µs vs ~100 µs through
 * `crypto.subtle` (which also hops through the thread pool), verify ~105 µs vs
 * ~200 µs; AES-128-GCM of 200 bytes ~5 µs vs ~21 µs in noble (which expands the
 * key and GHASH tables per call); HMAC-SHA-256 ~4 µs vs ~10 µs in noble.
 *
 * The module is reached only through `process.getBuiltinModule` (Node ≥ 20.16),
 * never imported, so bundlers for the extension never see it; where that
 * function is absent (browsers, service workers) `nodeCrypto()` is undefined
 * and the default backend is the WebCrypto one (suites.ts). The outputs are
 * byte-identical to the other backends' (the crypto-suites tests compare
 * them); Node's Buffers are copied into plain Uint8Arrays (a Buffer may be a
 * view into a shared pool).
 */
import type * as NodeCryptoModule from 'node:crypto';
import { bytesToHex, concatBytes, hexToBytes } from '../bytes.ts';
import { aeadFrom, nobleAead, type AeadName } from './aead.ts';
import { UsageError } from './errors.ts';
import { hashSize, hkdf, portableDigest, type HashName, type KeyedMac } from './hash.ts';
import type { Primitives } from './primitives.ts';
import type { AeadProvider, HashProvider, KdfProvider, SignatureProvider } from './provider.ts';
import { ED25519_PKCS8_PREFIX, type SignatureName } from './signature.ts';
import { webCryptoPrimitives } from './webcrypto.ts';

export type NodeCrypto = typeof NodeCryptoModule;

let loaded: { module: NodeCrypto | undefined } | undefined;

/** Node's crypto module when the runtime provides it synchronously, else undefined. */
export function nodeCrypto(): NodeCrypto | undefined {
  if (loaded !== undefined) return loaded.module;
  let module: NodeCrypto | undefined;
  try {
    const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
    const m = proc?.getBuiltinModule?.('node:crypto') as Partial<NodeCrypto> | undefined;
    const complete =
      m !== undefined &&
      typeof m.createHmac === 'function' &&
      typeof m.createCipheriv === 'function' &&
      typeof m.createDecipheriv === 'function' &&
      typeof m.createPrivateKey === 'function' &&
      typeof m.createPublicKey === 'function' &&
      typeof m.sign === 'function' &&
      typeof m.verify === 'function';
    module = complete ? (m as NodeCrypto) : undefined;
  } catch {
    module = undefined;
  }
  loaded = { module };
  return module;
}

/** A bounded LRU map from key bytes (as hex) to an imported KeyObject. */
export class SyncKeyCache<V> {
  private readonly map = new Map<string, V>();

  constructor(private readonly capacity: number) {}

  get(id: string, load: () => V): V {
    const hit = this.map.get(id);
    if (hit !== undefined) {
      this.map.delete(id);
      this.map.set(id, hit);
      return hit;
    }
    const v = load();
    this.map.set(id, v);
    if (this.map.size > this.capacity) {
      const oldest = this.map.keys().next().value;
      if (oldest !== undefined) this.map.delete(oldest);
    }
    return v;
  }
}

// ---------------------------------------------------------------------------
// The Node primitives.

const NODE_HASH_NAMES = { 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' } as const;

/** HMAC over Node's crypto, returning a plain Uint8Array. */
function nodeKeyedMac(nc: NodeCrypto, name: HashName): KeyedMac {
  const alg = NODE_HASH_NAMES[name];
  return (key) => (data) => new Uint8Array(nc.createHmac(alg, key).update(data).digest());
}

function nodeHash(nc: NodeCrypto, name: HashName): HashProvider {
  const keyed = nodeKeyedMac(nc, name);
  return { size: hashSize(name), digest: portableDigest(name), mac: (key, data) => keyed(key)(data) };
}

function nodeKdf(nc: NodeCrypto, name: HashName): KdfProvider {
  const keyed = nodeKeyedMac(nc, name);
  return hkdf(hashSize(name), (key, data) => keyed(key)(data), keyed);
}

/** AES-GCM through Node's synchronous cipher; ChaCha20-Poly1305 in noble. */
function nodeAead(nc: NodeCrypto, name: AeadName): AeadProvider {
  if (name === 'ChaCha20-Poly1305') return nobleAead(name);
  const alg = name === 'AES-128-GCM' ? 'aes-128-gcm' : 'aes-256-gcm';
  const tagSize = 16;
  return aeadFrom(name, {
    seal(key, nonce, aad, pt) {
      const c = nc.createCipheriv(alg, key, nonce, { authTagLength: tagSize });
      c.setAAD(aad);
      const body = c.update(pt);
      const last = c.final();
      const out = new Uint8Array(body.length + last.length + tagSize);
      out.set(body, 0);
      out.set(last, body.length);
      out.set(c.getAuthTag(), body.length + last.length);
      return out;
    },
    open(key, nonce, aad, ct) {
      const split = ct.length - tagSize;
      const d = nc.createDecipheriv(alg, key, nonce, { authTagLength: tagSize });
      d.setAAD(aad);
      d.setAuthTag(ct.subarray(split));
      const body = d.update(ct.subarray(0, split));
      try {
        // Throws when the tag does not verify; `body` is only released after that.
        const last = d.final();
        const out = new Uint8Array(body.length + last.length);
        out.set(body, 0);
        out.set(last, body.length);
        return out;
      } catch {
        body.fill(0);
        return null;
      }
    },
  });
}

/**
 * EdDSA key sizes (RFC 8032: seed and public key are the same length; a
 * signature is twice that) and the DER prefixes (RFC 8410) that wrap a raw
 * seed as PKCS#8 and a raw public key as SubjectPublicKeyInfo.
 */
const NODE_EDDSA: Partial<Record<SignatureName, { keySize: number; pkcs8Prefix: Uint8Array; spkiPrefix: Uint8Array }>> = {
  Ed25519: { keySize: 32, pkcs8Prefix: ED25519_PKCS8_PREFIX, spkiPrefix: hexToBytes('302a300506032b6570032100') },
  Ed448: { keySize: 57, pkcs8Prefix: hexToBytes('3047020100300506032b6571043b0439'), spkiPrefix: hexToBytes('3043300506032b6571033a00') },
};

type NodeCryptoKeyObject = ReturnType<NodeCrypto['createPublicKey']>;

/**
 * EdDSA through Node's one-shot `crypto.sign`/`crypto.verify` (synchronous),
 * KeyObjects cached by key bytes; ECDSA as `fallback` does it (WebCrypto).
 * Key generation stays `fallback`'s (noble's).
 */
function nodeSignature(nc: NodeCrypto, name: SignatureName, fallback: SignatureProvider): SignatureProvider {
  const der = NODE_EDDSA[name];
  if (der === undefined) return fallback;
  const privCache = new SyncKeyCache<NodeCryptoKeyObject>(256);
  const pubCache = new SyncKeyCache<NodeCryptoKeyObject>(1024);
  return {
    generateKeyPair: () => fallback.generateKeyPair(),
    async sign(privateKey, message) {
      if (privateKey.length !== der.keySize) throw new UsageError(`${name}: private key must be ${der.keySize} bytes, got ${privateKey.length}`);
      let key: NodeCryptoKeyObject;
      try {
        key = privCache.get(bytesToHex(privateKey), () =>
          nc.createPrivateKey({ key: Buffer.from(concatBytes(der.pkcs8Prefix, privateKey)), format: 'der', type: 'pkcs8' }),
        );
      } catch (cause) {
        throw new UsageError(`${name}: invalid private key`, { cause });
      }
      return new Uint8Array(nc.sign(null, message, key));
    },
    // False for a bad signature or a key Node refuses.
    async verify(publicKey, message, signature) {
      if (publicKey.length !== der.keySize || signature.length !== 2 * der.keySize) return false;
      try {
        const key = pubCache.get(bytesToHex(publicKey), () =>
          nc.createPublicKey({ key: Buffer.from(concatBytes(der.spkiPrefix, publicKey)), format: 'der', type: 'spki' }),
        );
        return nc.verify(null, message, key, signature);
      } catch {
        return false;
      }
    },
  };
}

/**
 * The Node backend: HMAC/HKDF, AES-GCM and EdDSA through `nc`, everything
 * else (DH, ECDSA, SHA-256 digests, ChaCha20-Poly1305) as the WebCrypto
 * backend does it under Node.
 */
export function nodePrimitives(nc: NodeCrypto): Primitives {
  const web = webCryptoPrimitives();
  return {
    name: 'node',
    hash: (name) => nodeHash(nc, name),
    kdf: (name) => nodeKdf(nc, name),
    aead: (name) => nodeAead(nc, name),
    dh: (name) => web.dh(name),
    signature: (name) => nodeSignature(nc, name, web.signature(name)),
  };
}
