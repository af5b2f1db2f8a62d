/**
 * noble's AES-GCM, loaded on its first use. Its module builds the AES tables as it is evaluated (two pairs of
 * 65,536-entry tables, about 17 ms of a cold start in a profile of the background's top level, more than anything
 * else there), and the background rarely needs it: in browsers the MLS suites' AES-GCM goes to WebCrypto (aead.ts),
 * and the rest (invite blobs, the wrapped data key) is not on the way to a wake. The bundle keeps the module but
 * evaluates it only when this is first called.
 */
import type { gcm as nobleGcm } from '@noble/ciphers/aes.js';

export type Gcm = typeof nobleGcm;

let loading: Promise<Gcm> | undefined;
let loaded: Gcm | undefined;

/** noble's `gcm`, once its module has been evaluated (the first call evaluates it). */
export function aesGcm(): Promise<Gcm> {
  loading ??= import('./noble-aes-gcm.ts').then((m) => (loaded = m.gcm));
  return loading;
}

/** noble's `gcm` if it is loaded already, for callers that answer at once when they can. */
export function aesGcmIfLoaded(): Gcm | undefined {
  return loaded;
}
