/**
 * WebCrypto plumbing shared by the AEAD, signature and DH code that runs in
 * `crypto.subtle` (the WebCrypto primitives, webcrypto.ts): runtime feature
 * detection (Chromium and Node differ in which curves they offer) and a bounded
 * cache of imported CryptoKeys.
 *
 * Why a cache: importing a private key (PKCS#8 or JWK) costs more than the
 * signature or DH it is imported for, and MLS uses the same few keys over and
 * over (our signature key, our leaf's HPKE key, members' public keys). Each key
 * is therefore imported once and kept as a CryptoKey, keyed by its bytes.
 * Private CryptoKeys are non-extractable.
 */
/**
 * A Map key for `bytes`: one UTF-16 code unit per byte. Unlike a hex string
 * it costs one call instead of a string concatenation per byte; the keys of
 * one cache all have the same length or differ in it, so no two byte strings
 * share a key. It is looked up once per HPKE seal and signature check,
 * about a thousand times per commit or join in a large group.
 */
export function cacheId(bytes: Uint8Array): string {
  if (bytes.length <= 4096) return String.fromCharCode.apply(null, bytes as unknown as number[]);
  let s = '';
  for (let i = 0; i < bytes.length; i += 4096) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 4096) as unknown as number[]);
  return s;
}

/** The runtime's SubtleCrypto, or undefined (old runtimes, insecure contexts). */
export function getSubtle(): SubtleCrypto | undefined {
  const c = (globalThis as { crypto?: Crypto }).crypto;
  return c?.subtle;
}

const probes = new Map<string, Promise<boolean>>();
/** Probe outcomes once settled, for callers that must not yield (`webCryptoSupported`). */
const settled = new Map<string, boolean>();

function probeId(algorithm: EcKeyGenParams | Algorithm): string {
  return `${algorithm.name}/${(algorithm as EcKeyGenParams).namedCurve ?? ''}`;
}

/**
 * The outcome of `webCryptoSupports(algorithm, ...)` if its probe has
 * settled, else undefined: lets a hot path (one call per HPKE seal) skip an
 * await once the answer is known.
 */
export function webCryptoSupported(algorithm: EcKeyGenParams | Algorithm): boolean | undefined {
  return settled.get(probeId(algorithm));
}

/**
 * Does WebCrypto here support `algorithm` for `usages`? Probed once per
 * algorithm by generating a throw-away key pair.
 */
export function webCryptoSupports(
  algorithm: EcKeyGenParams | Algorithm,
  usages: KeyUsage[],
): Promise<boolean> {
  const id = probeId(algorithm);
  let p = probes.get(id);
  if (p === undefined) {
    const subtle = getSubtle();
    p =
      subtle === undefined
        ? Promise.resolve(false)
        : subtle.generateKey(algorithm, false, usages).then(
            () => true,
            () => false,
          );
    void p.then((ok) => settled.set(id, ok));
    probes.set(id, p);
  }
  return p;
}

/**
 * A small LRU map from key bytes to an imported key. Values are promises so
 * concurrent first uses share one import. A failed import is not cached.
 * `peek` returns an already imported key synchronously, so a caller can start
 * a WebCrypto operation without first yielding to the event loop.
 */
export class KeyCache<V> {
  private readonly map = new Map<string, { promise: Promise<V>; value?: V }>();

  constructor(private readonly capacity = 256) {}

  get(bytes: Uint8Array, load: () => Promise<V>): Promise<V> {
    const id = cacheId(bytes);
    const hit = this.map.get(id);
    if (hit !== undefined) {
      // Refresh recency.
      this.map.delete(id);
      this.map.set(id, hit);
      return hit.promise;
    }
    const p = load();
    const entry: { promise: Promise<V>; value?: V } = { promise: p };
    this.map.set(id, entry);
    p.then(
      (v) => {
        entry.value = v;
      },
      () => {
        if (this.map.get(id) === entry) this.map.delete(id);
      },
    );
    if (this.map.size > this.capacity) {
      const oldest = this.map.keys().next().value;
      if (oldest !== undefined) this.map.delete(oldest);
    }
    return p;
  }

  /** The imported key for `bytes` if its import has completed (refreshes recency), else undefined. */
  peek(bytes: Uint8Array): V | undefined {
    const id = cacheId(bytes);
    const hit = this.map.get(id);
    if (hit?.value === undefined) return undefined;
    this.map.delete(id);
    this.map.set(id, hit);
    return hit.value;
  }

  clear(): void {
    this.map.clear();
  }
}

/** Base64url without padding, as JWK wants. */
export function toBase64Url(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Decode base64url (with or without padding), as JWK carries key values. */
export function fromBase64Url(s: string): Uint8Array {
  const bin = atob(s.replace(/-/g, '+').replace(/_/g, '/'));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/**
 * Node, Deno (which has Node's `process` global) and the like, where every
 * `crypto.subtle` call hops through a thread pool and so costs tens of
 * microseconds; in browsers a call on small data costs a few. Some choices
 * between WebCrypto and JavaScript depend on it (aead.ts, dh.ts).
 */
export function serverRuntime(): boolean {
  return typeof (globalThis as { process?: { versions?: { node?: unknown } } }).process?.versions?.node === 'string';
}

/** Copy into a fresh ArrayBuffer-backed array (WebCrypto rejects SharedArrayBuffer views). */
export function buf(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : new Uint8Array(bytes);
}
