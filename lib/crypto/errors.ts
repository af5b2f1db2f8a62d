/**
 * The errors lib/crypto throws on purpose, sorted by whose fault they are:
 *
 *   CryptoError  a cryptographic check failed: a public key off the curve or
 *                of the wrong size, an all-zero DH output, a kem_output that
 *                does not decapsulate
 *   UsageError   the caller misused the API: a key or nonce of the wrong
 *                length, an unsupported cipher suite, an out-of-range length
 *
 * Authentication failures are not errors here: AEAD and HPKE `open` resolve to
 * null and signature `verify` to false. The MLS engine re-exports both classes
 * as part of its own hierarchy (lib/mls/errors.ts), so a CryptoError from here
 * is the engine's CryptoError. Errors always keep `cause` when wrapping.
 */

export class CryptoError extends Error {
  override readonly name = 'CryptoError';
  constructor(
    /** What failed, e.g. 'DH', 'DeriveKeyPair', or an MLS rule ID when the engine throws it. */
    readonly operation: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
