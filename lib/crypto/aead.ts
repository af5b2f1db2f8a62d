/**
 * AEADs of the MLS suites: AES-128-GCM, AES-256-GCM and ChaCha20-Poly1305.
 *
 * Measured on this machine: noble's AES-GCM takes ~30–60 µs for messages up to a
 * few KiB while a WebCrypto call (which needs a fresh importKey, since MLS uses
 * a new key for nearly every message) costs ~120–160 µs; past ~8 KiB WebCrypto
 * wins by a growing margin. So small inputs go to noble and large ones to
 * WebCrypto when it is available. ChaCha20-Poly1305 is always noble (browsers
 * have no WebCrypto ChaCha). Under Node, AES-GCM of any size goes through
 * Node's synchronous cipher instead (~5 µs for a 200-byte message against ~21 µs
 * in noble; node-crypto.ts). The outputs are the same either way.
 */
import { gcm } from '@noble/ciphers/aes.js';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import type { AeadProvider } from './provider.ts';
import { UsageError } from '../mls/errors.ts';
import { buf, getSubtle } from './webcrypto.ts';
import { nodeCrypto, type NodeCrypto } from './node-crypto.ts';

export type AeadName = 'AES-128-GCM' | 'AES-256-GCM' | 'ChaCha20-Poly1305';

/** Above this many bytes of input, AES-GCM goes to WebCrypto (when present). */
export const WEBCRYPTO_AES_THRESHOLD = 8192;

export interface AeadOptions {
  /**
   * 'auto' (default): Node's cipher under Node, else noble/WebCrypto by size;
   * 'webcrypto': noble/WebCrypto by size, as in a browser; 'noble': pure JS
   * (tests compare all three).
   */
  backend?: 'auto' | 'webcrypto' | 'noble';
}

export function aeadProvider(name: AeadName, options: AeadOptions = {}): AeadProvider {
  const keySize = name === 'AES-128-GCM' ? 16 : 32;
  const nonceSize = 12;
  const tagSize = 16;
  const useWebCrypto = name !== 'ChaCha20-Poly1305' && options.backend !== 'noble';
  const cipher = name === 'ChaCha20-Poly1305' ? chacha20poly1305 : gcm;
  const node = name !== 'ChaCha20-Poly1305' && (options.backend ?? 'auto') === 'auto' ? nodeCrypto() : undefined;
  const nodeAlg = name === 'AES-128-GCM' ? 'aes-128-gcm' : 'aes-256-gcm';

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
      const subtle = useWebCrypto && plaintext.length > WEBCRYPTO_AES_THRESHOLD ? getSubtle() : undefined;
      if (subtle !== undefined) return webSeal(subtle, key, nonce, aad, plaintext);
      return cipher(key, nonce, aad).encrypt(plaintext);
    },
    async open(key, nonce, aad, ciphertext) {
      checkArgs(key, nonce);
      if (ciphertext.length < tagSize) return null;
      if (node !== undefined) return nodeOpen(node, key, nonce, aad, ciphertext);
      const subtle = useWebCrypto && ciphertext.length > WEBCRYPTO_AES_THRESHOLD ? getSubtle() : undefined;
      if (subtle !== undefined) return webOpen(subtle, key, nonce, aad, ciphertext);
      try {
        return cipher(key, nonce, aad).decrypt(ciphertext);
      } catch {
        return null;
      }
    },
  };
}
