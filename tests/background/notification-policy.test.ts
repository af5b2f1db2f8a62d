/**
 * The notification policy (issue 17, item 5): one notification per
 * conversation, none while it is on screen or muted, cleared once read, and
 * only what the privacy choice allows.
 */
import { describe, expect, it } from 'vitest';
import {
  conversationOfNotification,
  DEFAULT_NOTIFICATION_CONTENT,
  notificationId,
  NotificationPolicy,
  notificationText,
  type NotificationSettings,
} from '../../lib/background/notification-policy.ts';
import { muteUntil, isMuted, nextMuteEnd } from '../../lib/background/mute.ts';
import { MUTE_ALWAYS, type ConversationSummary, type MessageView } from '../../lib/protocol/channel.ts';

const NOW = 1_800_000_000_000;
const ON: NotificationSettings = { enabled: true, content: 'full' };

function conv(id: string, unread: number, extra: Partial<ConversationSummary> = {}): ConversationSummary {
  return { id, name: `Conversation ${id}`, status: 'active', unread, memberCount: 2, lastActivity: NOW, ...extra };
}

function msg(conversationId: string, text: string, extra: Partial<MessageView> = {}): MessageView {
  return {
    id: `m-${text}`,
    conversationId,
    seq: 1,
    kind: 'text',
    text,
    sender: { memberId: 'bob', displayName: 'Bob', self: false },
    sentAt: NOW,
    status: 'received',
    ...extra,
  };
}

describe('notification policy', () => {
  it('many messages in two conversations give one notification each, updated with the count', () => {
    const p = new NotificationPolicy();
    const actions = [];
    for (let i = 1; i <= 5; i++) actions.push(...p.incoming(conv('a', i), msg('a', `a${i}`), ON, NOW));
    for (let i = 1; i <= 3; i++) actions.push(...p.incoming(conv('b', i), msg('b', `b${i}`), ON, NOW));
    expect(new Set(actions.map((a) => a.id))).toEqual(new Set([notificationId('a'), notificationId('b')]));
    expect(actions.filter((a) => a.kind === 'show' && !a.update).map((a) => a.conversationId)).toEqual(['a', 'b']);
    const lastA = actions.filter((a) => a.conversationId === 'a').at(-1);
    expect(lastA).toMatchObject({ kind: 'show', update: true, title: 'Conversation a', message: '5 new messages\nBob: a5' });
  });

  it('shows nothing for a conversation a visible view shows, and again once it is hidden or its view went away', () => {
    const p = new NotificationPolicy();
    const panel = {};
    expect(p.presence(panel, { type: 'presence', conversationId: 'a', visible: true })).toEqual([]);
    expect(p.incoming(conv('a', 1), msg('a', 'hi'), ON, NOW)).toEqual([]);
    // Another conversation still notifies.
    expect(p.incoming(conv('b', 1), msg('b', 'hi'), ON, NOW)).toHaveLength(1);
    p.presence(panel, { type: 'presence', conversationId: 'a', visible: false });
    expect(p.incoming(conv('a', 2), msg('a', 'hidden'), ON, NOW)[0]).toMatchObject({ kind: 'show', update: false });
    // The view closes without a word: its port disconnect must not leave it suppressing forever.
    const p2 = new NotificationPolicy();
    p2.presence(panel, { type: 'presence', conversationId: 'a', visible: true });
    p2.presence(panel, null);
    expect(p2.incoming(conv('a', 1), msg('a', 'gone'), ON, NOW)).toHaveLength(1);
  });

  it('opening a conversation in a visible view clears its notification', () => {
    const p = new NotificationPolicy();
    p.incoming(conv('a', 1), msg('a', 'hi'), ON, NOW);
    expect(p.presence({}, { type: 'presence', conversationId: 'a', visible: true })).toEqual([
      { kind: 'clear', id: notificationId('a'), conversationId: 'a' },
    ]);
  });

  it('clears a notification once its conversation has nothing unread, whatever read it', () => {
    const p = new NotificationPolicy();
    p.incoming(conv('a', 1), msg('a', 'hi'), ON, NOW);
    p.incoming(conv('b', 1), msg('b', 'hi'), ON, NOW);
    expect(p.summaries([conv('a', 1), conv('b', 1)], NOW)).toEqual([]);
    expect(p.summaries([conv('a', 0), conv('b', 1)], NOW)).toEqual([{ kind: 'clear', id: notificationId('a'), conversationId: 'a' }]);
    // Cleared once; deleted or left conversations go too.
    expect(p.summaries([conv('a', 0), conv('b', 1, { status: 'left' })], NOW).map((a) => a.conversationId)).toEqual(['b']);
    expect(p.summaries([], NOW)).toEqual([]);
  });

  it('a notification the browser still shows after a restart is cleared when read', () => {
    const p = new NotificationPolicy();
    p.adopt([notificationId('a'), 'someone-else', 'microchat:not an id']);
    expect(p.summaries([conv('a', 0)], NOW)).toEqual([{ kind: 'clear', id: notificationId('a'), conversationId: 'a' }]);
  });

  it('muted conversations count unread but do not notify; muting clears; an expired mute notifies again', () => {
    const p = new NotificationPolicy();
    p.incoming(conv('a', 1), msg('a', 'before'), ON, NOW);
    const until = muteUntil('1h', NOW);
    expect(p.summaries([conv('a', 1, { mutedUntil: until })], NOW)).toHaveLength(1); // muting clears
    expect(p.incoming(conv('a', 2, { mutedUntil: until }), msg('a', 'muted'), ON, NOW)).toEqual([]);
    expect(p.incoming(conv('a', 3, { mutedUntil: MUTE_ALWAYS }), msg('a', 'always'), ON, NOW + 400 * 86_400_000)).toEqual([]);
    expect(p.incoming(conv('a', 4, { mutedUntil: until }), msg('a', 'later'), ON, until + 1)[0]).toMatchObject({
      kind: 'show',
      message: '4 new messages\nBob: later',
    });
  });

  it('nothing when notifications are off, for our own messages, or for a conversation we are not in', () => {
    const p = new NotificationPolicy();
    expect(p.incoming(conv('a', 1), msg('a', 'x'), { enabled: false, content: 'full' }, NOW)).toEqual([]);
    expect(p.incoming(conv('a', 1), msg('a', 'x', { sender: { memberId: 'me', displayName: 'Me', self: true } }), ON, NOW)).toEqual([]);
    expect(p.incoming(conv('a', 1, { status: 'removed' }), msg('a', 'x'), ON, NOW)).toEqual([]);
  });

  it('after a dismissal the next message shows a new notification; turning notifications off clears all', () => {
    const p = new NotificationPolicy();
    p.incoming(conv('a', 1), msg('a', 'x'), ON, NOW);
    p.closed(notificationId('a'));
    expect(p.incoming(conv('a', 2), msg('a', 'y'), ON, NOW)[0]).toMatchObject({ kind: 'show', update: false });
    p.incoming(conv('b', 1), msg('b', 'y'), ON, NOW);
    expect(p.clearAll().map((a) => a.conversationId).sort()).toEqual(['a', 'b']);
    expect(p.clearAll()).toEqual([]);
  });

  it('says only what the privacy choice allows', () => {
    const c = { name: 'Family', unread: 1 };
    const m = { text: 'the door code is 4711', sender: { memberId: 'b', displayName: 'Bob', self: false, tag: '123' } };
    expect(notificationText(c, m, 'full')).toEqual({ title: 'Family', message: 'Bob · 123: the door code is 4711' });
    expect(notificationText(c, m, 'name')).toEqual({ title: 'Family', message: 'New message' });
    expect(notificationText({ ...c, unread: 3 }, m, 'name')).toEqual({ title: 'Family', message: '3 new messages' });
    const none = notificationText(c, m, 'none');
    expect(none).toEqual({ title: 'MicroChat', message: 'New message' });
    expect(JSON.stringify(notificationText({ ...c, unread: 2 }, m, 'none'))).not.toMatch(/Family|Bob|4711/);
    expect(notificationText(c, { ...m, text: 'x'.repeat(5000) }, 'full').message.length).toBeLessThanOrEqual(300);
    expect(DEFAULT_NOTIFICATION_CONTENT).toBe('name');
  });

  it('reads a conversation id back only from our own notification ids', () => {
    expect(conversationOfNotification(notificationId('abc_-1'))).toBe('abc_-1');
    expect(conversationOfNotification('microchat:a:b')).toBeNull();
    expect(conversationOfNotification('other:abc')).toBeNull();
  });
});

describe('mutes', () => {
  it('end by themselves at the chosen time; "always" never', () => {
    expect(muteUntil('1h', NOW)).toBe(NOW + 3_600_000);
    expect(muteUntil('8h', NOW)).toBe(NOW + 8 * 3_600_000);
    expect(muteUntil('1w', NOW)).toBe(NOW + 7 * 86_400_000);
    expect(isMuted(muteUntil('1h', NOW), NOW + 3_599_999)).toBe(true);
    expect(isMuted(muteUntil('1h', NOW), NOW + 3_600_000)).toBe(false);
    expect(isMuted(muteUntil('always', NOW), NOW + 1e12)).toBe(true);
    expect(isMuted(undefined, NOW)).toBe(false);
    expect(nextMuteEnd([undefined, NOW - 1, MUTE_ALWAYS, NOW + 50, NOW + 10], NOW)).toBe(NOW + 10);
    expect(nextMuteEnd([MUTE_ALWAYS], NOW)).toBeUndefined();
  });
});
