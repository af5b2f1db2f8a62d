/**
 * The WebCrypto backend, what the extension runs in a browser: `crypto.subtle`
 * where the runtime has the algorithm and a call is cheaper than JavaScript,
 * JavaScript for the rest.
 *
 *   hash, HMAC, HKDF    never WebCrypto (async and slower for MLS's small inputs):
 *                       sha256.ts for SHA-256, noble for SHA-384/512 (hash.ts)
 *   AES-GCM             WebCrypto; under Node/Deno only above 8 KiB (aead.ts)
 *   ChaCha20-Poly1305   noble (no browser has it in WebCrypto)
 *   DH                  WebCrypto where the runtime has the curve, X448 in noble (dh.ts)
 *   signatures          WebCrypto where the runtime has the curve, Ed448 in noble (signature.ts)
 *
 * Under Node the same choices run unchanged (the tests and the benchmark's
 * "portable path"), with the server-side defaults below.
 */
import { webCryptoAead, WEBCRYPTO_AES_THRESHOLD } from './aead.ts';
import { webCryptoDhGroup } from './dh.ts';
import { portableHash, portableKdf, type HashName } from './hash.ts';
import type { Primitives } from './primitives.ts';
import type { KdfProvider } from './provider.ts';
import { webCryptoSignature } from './signature.ts';
import { buf, getSubtle, serverRuntime } from './subtle.ts';

export interface WebCryptoOptions {
  /**
   * AES-GCM inputs longer than this many bytes go to WebCrypto, the others to
   * noble. Default: -1 (every input) in browsers, WEBCRYPTO_AES_THRESHOLD
   * under Node and Deno, where each `crypto.subtle` call hops through a
   * thread pool (aead.ts); tests set it to run the browser's choice under Node.
   */
  aesThreshold?: number;
  /**
   * Whether X25519 takes the PKCS#8 route for public and ephemeral keys
   * (dh.ts). Default: in browsers, not under Node/Deno. Tests force each.
   */
  pkcs8Route?: boolean;
}

export function webCryptoPrimitives(options: WebCryptoOptions = {}): Primitives {
  const server = serverRuntime();
  const aesThreshold = options.aesThreshold ?? (server ? WEBCRYPTO_AES_THRESHOLD : -1);
  const pkcs8Route = options.pkcs8Route ?? !server;
  return {
    name: 'webcrypto',
    hash: portableHash,
    kdf: (name) => withLargeExtract(portableKdf(name), name),
    aead: (name) => webCryptoAead(name, aesThreshold),
    dh: (name) => webCryptoDhGroup(name, pkcs8Route),
    signature: webCryptoSignature,
  };
}

/**
 * `kdf` with `extractLarge` in WebCrypto's HMAC (RFC 5869 Extract is
 * HMAC(salt, ikm); an empty salt is Nh zero octets, which WebCrypto needs
 * spelled out). For the one large input MLS extracts from, a Welcome's HPKE
 * info (the encrypted GroupInfo, ~300 KB at 1,024 members), native hashing
 * beats our JavaScript SHA-256.
 */
function withLargeExtract(kdf: KdfProvider, hash: HashName): KdfProvider {
  return {
    ...kdf,
    async extractLarge(salt, ikm) {
      const subtle = getSubtle();
      if (subtle === undefined) return kdf.extract(salt, ikm);
      const key = salt.length === 0 ? new Uint8Array(kdf.size) : salt.slice();
      const k = await subtle.importKey('raw', key as Uint8Array<ArrayBuffer>, { name: 'HMAC', hash }, false, ['sign']);
      return new Uint8Array(await subtle.sign('HMAC', k, buf(ikm)));
    },
  };
}
