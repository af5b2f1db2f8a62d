/**
 * Disappearing messages as pure functions (disappearing.ts) and the strict
 * parsing of the 'timer' message and of the `conversation.setTimer` request.
 */
import { describe, expect, it } from 'vitest';
import { randomId } from '../../lib/bytes.ts';
import { encodeAppMessage, parseAppMessage } from '../../lib/background/app-messages.ts';
import type { ConversationMeta } from '../../lib/background/chat-store.ts';
import { dueExpiries, expiresAt, expiryToSend, nextExpiry, scheduleExpiry } from '../../lib/background/disappearing.ts';
import { CHANNEL, parseRequest } from '../../lib/protocol/channel.ts';

const meta = (over: Partial<ConversationMeta> = {}): ConversationMeta => ({
  v: 1, id: 'c', name: 'n', status: 'active', queue: 'q', unread: 0, lastActivity: 0, nextSeq: 1, memberCount: 2, epoch: 1, invites: [], ...over,
});

describe('disappearing messages', () => {
  it('a text sent under a timer carries an absolute expiry; none when the timer is off', () => {
    expect(expiryToSend(meta(), 1_000_500)).toBeNull();
    expect(expiryToSend(meta({ disappearAfter: 300 }), 1_000_500)).toEqual({ relative: false, time: 1001 + 300 });
  });

  it('when a received expiry is due: absolute as given, relative from arrival, never more than a year ahead (§9)', () => {
    const now = 1_700_000_000_000;
    expect(expiresAt({ relative: false, time: 1_700_000_600 }, now)).toBe(1_700_000_600_000);
    expect(expiresAt({ relative: true, time: 60 }, now)).toBe(now + 60_000);
    expect(expiresAt({ relative: false, time: 0xffff_ffff }, now)).toBe(now + 366 * 86_400_000);
    // Already past: due at once.
    expect(expiresAt({ relative: false, time: 1 }, now)).toBe(1000);
  });

  it('due expiries come out with the metadata left (and the preview that may quote them) gone; nothing due, nothing changes', () => {
    const m = meta({ lastMessage: { preview: 'secret', senderName: 'Bob', fromSelf: false } });
    scheduleExpiry(m, 4, 5000);
    scheduleExpiry(m, 5, 9000);
    expect(nextExpiry([m, meta()])).toBe(5000);
    expect(dueExpiries(m, 4999)).toBeNull();
    const due = dueExpiries(m, 5000)!;
    expect(due.seqs).toEqual([4]);
    expect(due.next.expiring).toEqual([{ seq: 5, at: 9000 }]);
    expect(due.next.lastMessage).toBeUndefined();
    const last = dueExpiries(due.next, 10_000)!;
    expect(last.seqs).toEqual([5]);
    expect(last.next.expiring).toBeUndefined();
    expect(m.expiring).toHaveLength(2); // never mutated
  });

  it('the timer message: only the offered durations, no other field', () => {
    const ok = { v: 1, t: 'timer', id: randomId(), at: 5, seconds: 3600 } as const;
    expect(parseAppMessage(encodeAppMessage(ok))).toEqual(ok);
    for (const seconds of [1, -300, 300.5, '300', null]) expect(parseAppMessage(new TextEncoder().encode(JSON.stringify({ ...ok, seconds })))).toBeNull();
    expect(parseAppMessage(new TextEncoder().encode(JSON.stringify({ ...ok, extra: 1 })))).toBeNull();
  });

  it('conversation.setTimer takes exactly a conversation and one of the choices', () => {
    const req = (params: unknown): unknown => parseRequest({ channel: CHANNEL, method: 'conversation.setTimer', params });
    expect(req({ conversationId: 'c'.repeat(43), seconds: 604800 })).toMatchObject({ params: { seconds: 604800 } });
    expect(req({ conversationId: 'c'.repeat(43), seconds: 0 })).toMatchObject({ params: { seconds: 0 } });
    expect(() => req({ conversationId: 'c'.repeat(43), seconds: 60 })).toThrow(/seconds/);
    expect(() => req({ conversationId: 'c'.repeat(43), seconds: 300, x: 1 })).toThrow(/unexpected/);
  });
});
