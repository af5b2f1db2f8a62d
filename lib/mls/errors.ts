/**
 * MLS error hierarchy. Each class says whose fault a failure is, so callers can
 * react correctly: drop a hostile message, fix their own call, or report a bug.
 *
 *   MlsError
 *   ├── DecodeError      bytes from the network or a member are malformed
 *   ├── ValidationError  well-formed input that breaks an RFC 9420 rule (has a rule ID)
 *   ├── CryptoError      a cryptographic check failed (AEAD open, signature, MAC, HPKE)
 *   ├── UsageError       the caller misused the API
 *   └── InternalError    a bug of ours: an invariant that should hold did not
 *
 * Errors carry structured fields and always keep `cause` when wrapping.
 */
import { CryptoError, UsageError } from '../crypto/errors.ts';
import type { RuleId } from './rules.ts';

export type DecodeErrorCode =
  | 'trailing-bytes'
  | 'truncated'
  | 'overlong-length'
  | 'invalid-varint'
  | 'bad-enum'
  | 'too-large'
  | 'bad-value';

export class MlsError extends Error {
  override readonly name: string = 'MlsError';

  /**
   * `err instanceof MlsError` also holds for the crypto layer's CryptoError and
   * UsageError (see below), which cannot extend this class. Only MlsError
   * itself widens the test; its subclasses keep the ordinary one.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this === MlsError && (value instanceof CryptoError || value instanceof UsageError)) return true;
    return Function.prototype[Symbol.hasInstance].call(this, value);
  }

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export class DecodeError extends MlsError {
  override readonly name = 'DecodeError';
  constructor(
    readonly code: DecodeErrorCode,
    message: string,
    readonly offset?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class ValidationError extends MlsError {
  override readonly name = 'ValidationError';
  /** The rule ID, e.g. `V-LN-3`, written at the check and in its test (the table is `rules.ts`). */
  constructor(
    readonly rule: RuleId,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`[${rule}] ${message}`, options);
  }
}

/**
 * CryptoError and UsageError are lib/crypto's own classes (lib/crypto/errors.ts),
 * re-exported: the crypto layer cannot import this file, and an error it throws
 * must be the same CryptoError the engine throws and its callers test for.
 */
export { CryptoError, UsageError };

export class InternalError extends MlsError {
  override readonly name = 'InternalError';
}
