/**
 * AEADs of the MLS suites: AES-128-GCM, AES-256-GCM and ChaCha20-Poly1305.
 *
 * Which implementation runs depends on what a call costs in the runtime, as
 * measured (the outputs are the same either way):
 *  - in browsers, a WebCrypto AES-GCM call is cheap even with the fresh
 *    importKey that MLS needs for nearly every message (Chromium 156, 130
 *    bytes: ~8-12 µs for import + encrypt against ~22-34 µs in noble, which
 *    expands the key and GHASH tables per call), so every AES-GCM call goes
 *    there;
 *  - under Node (and Deno), every `crypto.subtle` call hops through a thread
 *    pool (~120-160 µs for import + encrypt on Node 20), so small inputs go to
 *    noble and only inputs above 8 KiB to WebCrypto; under Node the default
 *    backend uses Node's synchronous cipher instead (~5 µs for 200 bytes;
 *    node-crypto.ts).
 * ChaCha20-Poly1305 is always noble (browsers have no WebCrypto ChaCha).
 */
import { gcm } from '@noble/ciphers/aes.js';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import type { AeadProvider } from './provider.ts';
import { UsageError } from './errors.ts';
import { buf, getSubtle, serverRuntime } from './subtle.ts';
import { nodeCrypto, type NodeCrypto } from './node-crypto.ts';

export type AeadName = 'AES-128-GCM' | 'AES-256-GCM' | 'ChaCha20-Poly1305';

/** Under Node and Deno, above this many bytes of input AES-GCM goes to WebCrypto (when present). */
export const WEBCRYPTO_AES_THRESHOLD = 8192;

export interface AeadOptions {
  /**
   * 'auto' (default): Node's cipher under Node, else noble/WebCrypto by size;
   * 'webcrypto': noble/WebCrypto by size, as in a browser; 'noble': pure JS
   * (tests compare all three).
   */
  backend?: 'auto' | 'webcrypto' | 'noble';
  /**
   * Inputs longer than this go to WebCrypto AES-GCM, the others to noble
   * (not with the Node backend or 'noble'). Default: -1 (every input) in
   * browsers, WEBCRYPTO_AES_THRESHOLD under Node and Deno (see the header);
   * tests set it to exercise the browser's choice under Node.
   */
  webCryptoThreshold?: number;
}

export function aeadProvider(name: AeadName, options: AeadOptions = {}): AeadProvider {
  const keySize = name === 'AES-128-GCM' ? 16 : 32;
  const nonceSize = 12;
  const tagSize = 16;
  const useWebCrypto = name !== 'ChaCha20-Poly1305' && options.backend !== 'noble';
  const cipher = name === 'ChaCha20-Poly1305' ? chacha20poly1305 : gcm;
  const node = name !== 'ChaCha20-Poly1305' && (options.backend ?? 'auto') === 'auto' ? nodeCrypto() : undefined;
  const nodeAlg = name === 'AES-128-GCM' ? 'aes-128-gcm' : 'aes-256-gcm';
  // AES-GCM inputs longer than this go to WebCrypto when the runtime has it.
  const threshold = options.webCryptoThreshold ?? (serverRuntime() ? WEBCRYPTO_AES_THRESHOLD : -1);

  function nodeSeal(nc: NodeCrypto, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, pt: Uint8Array): Uint8Array {
    const c = nc.createCipheriv(nodeAlg, key, nonce, { authTagLength: tagSize });
    c.setAAD(aad);
    const body = c.update(pt);
    const last = c.final();
    const out = new Uint8Array(body.length + last.length + tagSize);
    out.set(body, 0);
    out.set(last, body.length);
    out.set(c.getAuthTag(), body.length + last.length);
    return out;
  }

  function nodeOpen(nc: NodeCrypto, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, ct: Uint8Array): Uint8Array | null {
    const split = ct.length - tagSize;
    const d = nc.createDecipheriv(nodeAlg, key, nonce, { authTagLength: tagSize });
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
  }

  function checkArgs(key: Uint8Array, nonce: Uint8Array): void {
    if (key.length !== keySize) throw new UsageError(`${name}: key must be ${keySize} bytes, got ${key.length}`);
    if (nonce.length !== nonceSize) throw new UsageError(`${name}: nonce must be ${nonceSize} bytes, got ${nonce.length}`);
  }

  async function webSeal(subtle: SubtleCrypto, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, pt: Uint8Array) {
    const k = await subtle.importKey('raw', buf(key), 'AES-GCM', false, ['encrypt']);
    const ct = await subtle.encrypt({ name: 'AES-GCM', iv: buf(nonce), additionalData: buf(aad) }, k, buf(pt));
    return new Uint8Array(ct);
  }

  async function webOpen(subtle: SubtleCrypto, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, ct: Uint8Array) {
    const k = await subtle.importKey('raw', buf(key), 'AES-GCM', false, ['decrypt']);
    try {
      const pt = await subtle.decrypt({ name: 'AES-GCM', iv: buf(nonce), additionalData: buf(aad) }, k, buf(ct));
      return new Uint8Array(pt);
    } catch {
      return null;
    }
  }

  return {
    keySize,
    nonceSize,
    tagSize,
    async seal(key, nonce, aad, plaintext) {
      checkArgs(key, nonce);
      if (node !== undefined) return nodeSeal(node, key, nonce, aad, plaintext);
      const subtle = useWebCrypto && plaintext.length > threshold ? getSubtle() : undefined;
      if (subtle !== undefined) return webSeal(subtle, key, nonce, aad, plaintext);
      return cipher(key, nonce, aad).encrypt(plaintext);
    },
    async open(key, nonce, aad, ciphertext) {
      checkArgs(key, nonce);
      if (ciphertext.length < tagSize) return null;
      if (node !== undefined) return nodeOpen(node, key, nonce, aad, ciphertext);
      const subtle = useWebCrypto && ciphertext.length > threshold ? getSubtle() : undefined;
      if (subtle !== undefined) return webOpen(subtle, key, nonce, aad, ciphertext);
      try {
        return cipher(key, nonce, aad).decrypt(ciphertext);
      } catch {
        return null;
      }
    },
  };
}
