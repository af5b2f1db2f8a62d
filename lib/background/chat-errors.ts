/**
 * How the chat service turns a failure (sorted by failure.ts) into the error a
 * request answers with. Callers test these by type, never by message.
 */
import { ChannelError, ErrorCode } from '../protocol/channel.ts';
import { classify } from './failure.ts';
import { RelayApiError } from './relay-api.ts';
import * as text from './text.ts';

/** Someone else's Commit came before our external join: a reusable invite may hold a newer GroupInfo now. */
export class JoinConflict extends ChannelError {
  constructor(options?: { cause?: unknown }) {
    super(ErrorCode.Unavailable, text.JOIN_CONFLICT, options);
  }
}

/** One of our own Commits to this conversation still waits for the relay's order: another must wait for it. */
export class ChangeInFlight extends ChannelError {
  constructor(message: string = text.CHANGE_IN_FLIGHT) {
    super(ErrorCode.Unavailable, message);
  }
}

/** Someone else's Commit took the epoch our own Commit was made for. */
export class LostRace extends ChannelError {
  constructor(options?: { cause?: unknown }) {
    super(ErrorCode.Unavailable, text.LOST_RACE, options);
  }
}

/** The relay could not be reached at all (as opposed to answering, even with a 5xx). */
export function unreachable(err: unknown): boolean {
  return err instanceof RelayApiError && err.unreachable;
}

/** The relay refused because the queue capability rotated: a Commit we have not processed came first. */
export function isStale(err: unknown): boolean {
  return classify(err).relayCode === 'stale_capability';
}

/** The error a request that needed the relay answers with. */
export function relayProblem(err: unknown, what: text.Activity): ChannelError {
  if (err instanceof ChannelError) return err;
  const f = classify(err);
  if (f.relayCode === undefined) return new ChannelError(ErrorCode.Internal, text.couldNot(what), { cause: err });
  if (unreachable(err)) return new ChannelError(ErrorCode.Unavailable, text.offline(what), { cause: err });
  return new ChannelError(ErrorCode.Unavailable, text.relayRefused((err as Error).message), { cause: err });
}
