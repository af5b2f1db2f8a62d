/**
 * The relay's one error type. Every answer that is not a success carries a
 * stable, typed `code` that clients can switch on; the codes and their HTTP
 * statuses are part of the relay contract (lib/protocol/relay.ts). Anything
 * thrown that is not a RelayError is a bug of ours and becomes a plain 500
 * (see http.ts), logged without request data.
 *
 * "Does not exist" and "not allowed" deliberately share one code
 * (`not_found`), so nobody can probe which accounts, queues or mailboxes exist.
 */

import { ERROR_STATUS, ErrorCode } from '../lib/protocol/relay.ts';

/** The codes are part of the relay contract (lib/protocol/relay.ts); re-exported for the relay's modules. */
export { ErrorCode };

export class RelayError extends Error {
  override readonly name = 'RelayError';
  readonly code: ErrorCode;
  readonly status: number;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.status = ERROR_STATUS[code];
  }
}

/** Shorthands that keep call sites readable. */
export const badRequest = (message: string, cause?: unknown): RelayError =>
  new RelayError(ErrorCode.badRequest, message, { cause });
/** The single answer for both "does not exist" and "you may not". */
export const notFound = (): RelayError => new RelayError(ErrorCode.notFound, 'not found or not allowed');
