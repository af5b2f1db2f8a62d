/**
 * The background's one error path. Every failure the background meets is sorted
 * by whose fault it is, so each kind has one reaction:
 *
 *   offline   the relay could not be reached       keep the work, retry when back online
 *   refused   the relay or the wallet said no        tell the person why; nothing to retry blindly
 *   conflict  someone else moved first (a Commit,    catch up (sync the epoch), then retry once
 *             a rotated capability, a spent token)
 *   hostile   bytes from the network or a member     drop the input; state stays as it was
 *             broke a rule or failed a check
 *   bug       our own mistake (an invariant, a        report it to the view; never drop it silently
 *             misuse of the engine, anything unknown)
 *
 * Callers switch on `kind` rather than on error names, messages or status
 * codes; `classify` is the only place that looks at those.
 */
import { CryptoError, DecodeError, ValidationError } from '../mls/errors.ts';
import { RelayApiError } from './relay-api.ts';
import { TokenError } from './tokens.ts';
import { TransferCancelledError } from './blob-client.ts';
import { AttachmentTooLargeError } from './attachments.ts';

export type FailureKind = 'offline' | 'refused' | 'conflict' | 'hostile' | 'bug';

export interface Failure {
  kind: FailureKind;
  /** The relay's error code, when the relay answered (`not_found`, `stale_capability`, ...). */
  relayCode?: string;
  error: unknown;
}

/** Relay answers that mean "someone else changed this first": catch up, then try again. */
const CONFLICT_CODES: ReadonlySet<string> = new Set(['stale_capability', 'conflict', 'token_spent']);

export function classify(err: unknown): Failure {
  if (err instanceof RelayApiError) {
    if (err.unreachable) return { kind: 'offline', relayCode: err.code, error: err };
    // A relay that answers with nonsense is as hostile as a forged message: drop what it sent.
    if (err.code === 'malformed') return { kind: 'hostile', relayCode: err.code, error: err };
    if (CONFLICT_CODES.has(err.code)) return { kind: 'conflict', relayCode: err.code, error: err };
    if (err.status >= 500) return { kind: 'offline', relayCode: err.code, error: err };
    return { kind: 'refused', relayCode: err.code, error: err };
  }
  if (err instanceof TokenError) {
    // No session or no tokens right now is the wallet's "not yet": the same reaction as offline.
    if (err.code === 'no-session' || err.code === 'empty') return { kind: 'offline', error: err };
    // A bad issuance proof or a changed key is the relay misbehaving.
    return { kind: 'hostile', error: err };
  }
  if (err instanceof DecodeError || err instanceof ValidationError || err instanceof CryptoError) {
    return { kind: 'hostile', error: err };
  }
  // The person cancelled a transfer, or picked a file above the limit: their call, nothing to retry.
  if (err instanceof TransferCancelledError || err instanceof AttachmentTooLargeError) return { kind: 'refused', error: err };
  // UsageError, InternalError, and anything that is not one of the above: ours to fix.
  return { kind: 'bug', error: err };
}

/**
 * True when the relay said "busy, send this again shortly" (`try_again`: its
 * wake-up bus is behind). Nothing was stored and the token was not spent, so
 * the message may go again after a short wait; unlike `offline`, the
 * relay is reachable and no reconnect will come to trigger the retry.
 */
export function isTryAgain(err: unknown): boolean {
  return err instanceof RelayApiError && err.code === 'try_again';
}

/** True when the relay answered that the thing is already gone (a second delete, a revoked invite). */
export function isGone(err: unknown): boolean {
  return err instanceof RelayApiError && err.status === 404;
}

/**
 * True when no relay answered at all. Narrower than `offline`, which also
 * counts a relay that answered "busy" (5xx): where the person is told to
 * check their connection or the relay URL, only this is meant.
 */
export function isUnreachable(err: unknown): boolean {
  return err instanceof RelayApiError && err.unreachable;
}

/**
 * For a catch that lets the work go on (a best-effort step, a fallback):
 * offline, refused, conflict and hostile are the reasons it expects and stay
 * quiet; our own bug is logged, never silently dropped. Only the error's
 * name is logged: a message may carry data.
 */
export function reportIfBug(where: string, err: unknown): void {
  if (classify(err).kind !== 'bug') return;
  console.error(`MicroChat background: a bug while ${where}`, err instanceof Error ? err.name : typeof err);
}
