// The view may ask for pin, archive and share only in exactly these shapes.
import { describe, expect, it } from 'vitest';
import { CHANNEL, parseRequest } from '../../lib/protocol/channel.ts';

const req = (method: string, params: unknown) => ({ channel: CHANNEL, method, params });

describe('pin, archive and share requests', () => {
  it('accept exactly their parameters', () => {
    expect(parseRequest(req('conversation.setPinned', { conversationId: 'c1', pinned: true })).params).toEqual({ conversationId: 'c1', pinned: true });
    expect(parseRequest(req('conversation.setArchived', { conversationId: 'c1', archived: false })).params).toEqual({ conversationId: 'c1', archived: false });
    expect(parseRequest(req('share.send', { shareId: 's1', conversationId: 'c1' })).params).toEqual({ shareId: 's1', conversationId: 'c1' });
    expect(parseRequest(req('share.cancel', { shareId: 's1' })).params).toEqual({ shareId: 's1' });
  });

  it('refuse anything else', () => {
    const bad = [
      req('conversation.setPinned', { conversationId: 'c1', pinned: 'yes' }),
      req('conversation.setPinned', { conversationId: 'c1' }),
      req('conversation.setArchived', { conversationId: 'c1', archived: 1 }),
      req('conversation.setArchived', { conversationId: '../c1', archived: true }),
      // The view cannot slip in its own URL or text: the background sends only what it offered.
      req('share.send', { shareId: 's1', conversationId: 'c1', url: 'https://evil.example' }),
      req('share.send', { shareId: 's1', conversationId: 'c1', text: 'other' }),
      req('share.send', { shareId: 's1' }),
      req('share.cancel', null),
    ];
    for (const r of bad) expect(() => parseRequest(r), JSON.stringify(r)).toThrow();
  });
});
