/**
 * The relay's one error type. Every answer that is not a success carries a
 * stable, typed `code` that clients can switch on; the HTTP status follows
 * from the code. Anything thrown that is not a RelayError is a bug of ours and
 * becomes a plain 500 (see http.ts), logged without request data.
 *
 * "Does not exist" and "not allowed" deliberately share one code
 * (`not_found`), so nobody can probe which accounts, queues or mailboxes exist.
 */

export const ErrorCode = {
  badRequest: 'bad_request',
  unauthenticated: 'unauthenticated',
  notFound: 'not_found',
  tokenInvalid: 'token_invalid',
  tokenSpent: 'token_spent',
  rateLimited: 'rate_limited',
  quotaExceeded: 'quota_exceeded',
  tooLarge: 'too_large',
  capacity: 'capacity',
  ceremonyFailed: 'ceremony_failed',
  methodNotAllowed: 'method_not_allowed',
  conflict: 'conflict',
  /** A queue operation presented the capability of the epoch before the queue's current one. */
  staleCapability: 'stale_capability',
  internal: 'internal',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const STATUS: Record<ErrorCode, number> = {
  bad_request: 400,
  unauthenticated: 401,
  not_found: 404,
  token_invalid: 403,
  token_spent: 409,
  rate_limited: 429,
  quota_exceeded: 429,
  too_large: 413,
  capacity: 503,
  ceremony_failed: 400,
  method_not_allowed: 405,
  conflict: 409,
  stale_capability: 409,
  internal: 500,
};

export class RelayError extends Error {
  override readonly name = 'RelayError';
  readonly code: ErrorCode;
  readonly status: number;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.status = STATUS[code];
  }
}

/** Shorthands that keep call sites readable. */
export const badRequest = (message: string, cause?: unknown): RelayError =>
  new RelayError(ErrorCode.badRequest, message, { cause });
/** The single answer for both "does not exist" and "you may not". */
export const notFound = (): RelayError => new RelayError(ErrorCode.notFound, 'not found or not allowed');
