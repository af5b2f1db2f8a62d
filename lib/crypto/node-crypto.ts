/**
 * An optional fast path through Node's own crypto module (OpenSSL), used when
 * the library runs under Node (tests, benchmarks, tools) and never in the
 * browser, where the WebCrypto/noble paths of the other files run unchanged.
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
 * and callers keep their portable path. The outputs are byte-identical to the
 * portable paths (the crypto-suites tests compare them); callers copy Node's
 * Buffers into plain Uint8Arrays (a Buffer may be a view into a shared pool).
 */
import type * as NodeCryptoModule from 'node:crypto';

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
