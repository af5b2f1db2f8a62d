/** Where the "New messages" divider goes (lib/view/first-unread.ts). */
import { describe, expect, it } from 'vitest';
import { firstUnread } from '../../lib/view/first-unread.ts';
import type { MessageView } from '../../lib/protocol/channel.ts';

function msg(seq: number, from: 'me' | 'bo' | 'system'): MessageView {
  return {
    id: `m${seq}`,
    conversationId: 'c',
    seq,
    kind: from === 'system' ? 'system' : 'text',
    text: 't',
    sender: from === 'me' ? { memberId: 'me', displayName: 'Me', self: true } : { memberId: from === 'bo' ? 'bo' : '', displayName: 'Bo', self: false },
    sentAt: seq,
    status: from === 'me' ? 'sent' : 'received',
  };
}

describe('first unread', () => {
  const list = [msg(0, 'bo'), msg(1, 'me'), msg(2, 'system'), msg(3, 'me'), msg(4, 'bo'), msg(5, 'bo')];

  it('no divider when nothing was unread', () => {
    expect(firstUnread(list, { unread: 0, readUpTo: 1 }, false)).toEqual({ id: undefined, complete: true });
  });

  it('the first text from someone else after the marker (own messages and system lines are skipped)', () => {
    expect(firstUnread(list, { unread: 2, readUpTo: 1 }, false)).toEqual({ id: 'm4', complete: true });
  });

  it('incomplete while messages after the marker may not be loaded yet', () => {
    expect(firstUnread(list.slice(3), { unread: 2, readUpTo: 1 }, true).complete).toBe(false);
    expect(firstUnread(list.slice(2), { unread: 2, readUpTo: 1 }, true)).toEqual({ id: 'm4', complete: true });
  });

  it('without a marker, counts back the unread texts from others', () => {
    expect(firstUnread(list, { unread: 2 }, true)).toEqual({ id: 'm4', complete: true });
    expect(firstUnread(list, { unread: 3 }, true)).toEqual({ id: 'm0', complete: true });
    expect(firstUnread(list.slice(1), { unread: 3 }, true)).toEqual({ id: undefined, complete: false });
    expect(firstUnread(list.slice(1), { unread: 3 }, false)).toEqual({ id: 'm4', complete: true });
  });
});
