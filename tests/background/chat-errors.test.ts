// How the chat service answers a failure: which outbox entries stay queued, and the
// errors requests answer with. Sorted by failure.ts, never by name or message.
import { describe, expect, it } from 'vitest';
import { ChannelError, ErrorCode } from '../../lib/protocol/channel.ts';
import { JoinConflict, LostRace, relayProblem } from '../../lib/background/chat-errors.ts';
import { afterFailure } from '../../lib/background/outbox.ts';
import { RelayApiError } from '../../lib/background/relay-api.ts';
import { TokenError } from '../../lib/background/tokens.ts';
import * as text from '../../lib/background/text.ts';

describe('an outbox entry the relay did not take', () => {
  it('stays queued while offline or without tokens', () => {
    expect(afterFailure(new RelayApiError(0, 'unreachable', 'x'), true)).toBe('keep');
    expect(afterFailure(new TokenError('no-session', 'x'), true)).toBe('keep');
    expect(afterFailure(new TokenError('empty', 'x'), false)).toBe('keep');
    expect(afterFailure(new TokenError('bad-proof', 'x'), false)).toBe('keep');
  });

  it('is sent again shortly when the relay says try_again (busy: nothing stored, no token spent)', () => {
    expect(afterFailure(new RelayApiError(503, 'try_again', 'busy'), true)).toBe('retry');
    expect(afterFailure(new RelayApiError(503, 'try_again', 'busy'), false)).toBe('retry');
  });

  it('is encrypted again when its epoch is gone, if it can be; otherwise it fails with why', () => {
    const stale = new RelayApiError(409, 'stale_capability', 'x');
    expect(afterFailure(stale, true)).toBe('reencrypt');
    expect(afterFailure(stale, false)).toEqual({ error: text.CHANGED_BEFORE_SENT });
    expect(afterFailure(new RelayApiError(404, 'not_found', 'x'), true)).toEqual({ error: text.QUEUE_GONE });
    expect(afterFailure(new RelayApiError(503, 'capacity', 'x'), true)).toEqual({ error: text.refusedMessage('capacity') });
    expect(afterFailure(new RelayApiError(429, 'quota_exceeded', 'x'), true)).toEqual({ error: text.refusedMessage('quota_exceeded') });
    expect(afterFailure(new Error('no queue capability'), true)).toEqual({ error: text.NOT_SENT });
  });
});

describe('relayProblem', () => {
  it('says offline, refused, or could not, and keeps the cause', () => {
    const offline = relayProblem(new RelayApiError(0, 'unreachable', 'x'), text.Activity.join);
    expect(offline).toMatchObject({ code: ErrorCode.Unavailable, message: 'You are offline: joining needs the relay.' });
    const refused = relayProblem(new RelayApiError(403, 'token_invalid', 'no way'), text.Activity.leave);
    expect(refused).toMatchObject({ code: ErrorCode.Unavailable, message: 'The relay refused: no way' });
    const cause = new TypeError('oops');
    const ours = relayProblem(cause, text.Activity.create);
    expect(ours).toMatchObject({ code: ErrorCode.Internal, message: 'Something went wrong while creating a conversation.' });
    expect(ours.cause).toBe(cause);
    const already = new ChannelError(ErrorCode.NotFound, 'x');
    expect(relayProblem(already, text.Activity.end)).toBe(already);
  });

  it('marks a lost race and a join conflict by type, with the words the person sees', () => {
    expect(new JoinConflict()).toBeInstanceOf(ChannelError);
    expect(new JoinConflict()).toMatchObject({ code: ErrorCode.Unavailable, message: text.JOIN_CONFLICT });
    expect(new LostRace()).toMatchObject({ code: ErrorCode.Unavailable, message: text.LOST_RACE });
  });
});
