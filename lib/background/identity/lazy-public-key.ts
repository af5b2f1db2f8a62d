/**
 * An Ed25519 secret key with its public key derived on first read, once.
 *
 * The first Ed25519 base-point multiplication in a worker builds the curve
 * library's table of precomputed points (thousands of point additions: about
 * 45 ms of a traced wake on a busy machine). A woken background reads its
 * device and identity keys to restore the session, but it needs their public
 * halves only once it signs or announces something, after it has answered the
 * request that woke it.
 */
import { ed25519 } from '@noble/curves/ed25519.js';

export function withLazyPublicKey<T extends { secret: Uint8Array }>(fields: T): T & { readonly publicKey: Uint8Array } {
  let publicKey: Uint8Array | undefined;
  return {
    ...fields,
    get publicKey(): Uint8Array {
      publicKey ??= ed25519.getPublicKey(fields.secret);
      return publicKey;
    },
  };
}
