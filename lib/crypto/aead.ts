/**
 * AEADs of the MLS suites: AES-128-GCM, AES-256-GCM and ChaCha20-Poly1305.
 *
 * Which implementation a backend uses depends on what a call costs in the
 * runtime, as measured (the outputs are the same either way):
 *  - in browsers, a WebCrypto AES-GCM call is cheap even with the fresh
 *    importKey that MLS needs for nearly every message (Chromium 156, 130
 *    bytes: ~8-12 µs for import + encrypt against ~22-34 µs in noble, which
 *    expands the key and GHASH tables per call), so every AES-GCM call goes
 *    there (`webCryptoAead` with a threshold of -1);
 *  - under Node (and Deno), every `crypto.subtle` call hops through a thread
 *    pool (~120-160 µs for import + encrypt on Node 20), so the WebCrypto
 *    backend sends small inputs to noble and only inputs above 8 KiB to
 *    WebCrypto; the Node backend uses Node's synchronous cipher instead
 *    (~5 µs for 200 bytes; node-crypto.ts).
 * ChaCha20-Poly1305 is always noble (browsers have no WebCrypto ChaCha).
 */
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import type { AeadProvider } from './provider.ts';
import { UsageError } from './errors.ts';
import { aesGcm, aesGcmIfLoaded, type Gcm } from './noble-aes.ts';
import { buf, getSubtle } from './subtle.ts';

export type AeadName = 'AES-128-GCM' | 'AES-256-GCM' | 'ChaCha20-Poly1305';

/** Under Node and Deno, above this many bytes of input the WebCrypto backend's AES-GCM goes to WebCrypto (when present). */
export const WEBCRYPTO_AES_THRESHOLD = 8192;

const TAG_SIZE = 16;
const NONCE_SIZE = 12;

/** One implementation's seal and open, called with arguments of the right sizes. */
export interface AeadCore {
  seal(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array | Promise<Uint8Array>;
  /** Null when authentication fails; `ciphertext` holds at least the tag. */
  open(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array): Uint8Array | null | Promise<Uint8Array | null>;
}

/**
 * The AeadProvider around `core`: the same sizes, argument checks (misuse
 * throws UsageError) and too-short-ciphertext answer for every backend.
 */
export function aeadFrom(name: AeadName, core: AeadCore): AeadProvider {
  const keySize = name === 'AES-128-GCM' ? 16 : 32;
  function checkArgs(key: Uint8Array, nonce: Uint8Array): void {
    if (key.length !== keySize) throw new UsageError(`${name}: key must be ${keySize} bytes, got ${key.length}`);
    if (nonce.length !== NONCE_SIZE) throw new UsageError(`${name}: nonce must be ${NONCE_SIZE} bytes, got ${nonce.length}`);
  }
  return {
    keySize,
    nonceSize: NONCE_SIZE,
    tagSize: TAG_SIZE,
    async seal(key, nonce, aad, plaintext) {
      checkArgs(key, nonce);
      return core.seal(key, nonce, aad, plaintext);
    },
    async open(key, nonce, aad, ciphertext) {
      checkArgs(key, nonce);
      if (ciphertext.length < TAG_SIZE) return null;
      return core.open(key, nonce, aad, ciphertext);
    },
  };
}

function nobleCore(name: AeadName): AeadCore {
  if (name !== 'ChaCha20-Poly1305') return nobleAesCore();
  return {
    seal: (key, nonce, aad, plaintext) => chacha20poly1305(key, nonce, aad).encrypt(plaintext),
    open(key, nonce, aad, ciphertext) {
      try {
        return chacha20poly1305(key, nonce, aad).decrypt(ciphertext);
      } catch {
        return null;
      }
    },
  };
}

/** noble's AES-GCM is loaded on first use (noble-aes.ts): until it is, a call waits for it; after that, it answers at once. */
function nobleAesCore(): AeadCore {
  const open = (gcm: Gcm, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array): Uint8Array | null => {
    try {
      return gcm(key, nonce, aad).decrypt(ciphertext);
    } catch {
      return null;
    }
  };
  return {
    seal(key, nonce, aad, plaintext) {
      const gcm = aesGcmIfLoaded();
      return gcm === undefined ? aesGcm().then((g) => g(key, nonce, aad).encrypt(plaintext)) : gcm(key, nonce, aad).encrypt(plaintext);
    },
    open(key, nonce, aad, ciphertext) {
      const gcm = aesGcmIfLoaded();
      return gcm === undefined ? aesGcm().then((g) => open(g, key, nonce, aad, ciphertext)) : open(gcm, key, nonce, aad, ciphertext);
    },
  };
}

export function nobleAead(name: AeadName): AeadProvider {
  return aeadFrom(name, nobleCore(name));
}

async function webSeal(subtle: SubtleCrypto, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Promise<Uint8Array> {
  const k = await subtle.importKey('raw', buf(key), 'AES-GCM', false, ['encrypt']);
  const ct = await subtle.encrypt({ name: 'AES-GCM', iv: buf(nonce), additionalData: buf(aad) }, k, buf(plaintext));
  return new Uint8Array(ct);
}

async function webOpen(subtle: SubtleCrypto, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array): Promise<Uint8Array | null> {
  const k = await subtle.importKey('raw', buf(key), 'AES-GCM', false, ['decrypt']);
  try {
    const pt = await subtle.decrypt({ name: 'AES-GCM', iv: buf(nonce), additionalData: buf(aad) }, k, buf(ciphertext));
    return new Uint8Array(pt);
  } catch {
    return null;
  }
}

/**
 * AES-GCM in WebCrypto for inputs longer than `threshold` bytes (-1: every
 * input), noble for the others and where the runtime has no WebCrypto;
 * ChaCha20-Poly1305 in noble.
 */
export function webCryptoAead(name: AeadName, threshold: number): AeadProvider {
  const noble = nobleCore(name);
  if (name === 'ChaCha20-Poly1305') return aeadFrom(name, noble);
  // Not async itself, so that the noble branch answers without an extra turn.
  return aeadFrom(name, {
    seal(key, nonce, aad, plaintext) {
      const subtle = plaintext.length > threshold ? getSubtle() : undefined;
      return subtle === undefined ? noble.seal(key, nonce, aad, plaintext) : webSeal(subtle, key, nonce, aad, plaintext);
    },
    open(key, nonce, aad, ciphertext) {
      const subtle = ciphertext.length > threshold ? getSubtle() : undefined;
      return subtle === undefined ? noble.open(key, nonce, aad, ciphertext) : webOpen(subtle, key, nonce, aad, ciphertext);
    },
  });
}
