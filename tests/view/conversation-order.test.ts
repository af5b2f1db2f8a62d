import { describe, expect, it } from 'vitest';
import { compareConversations, foldForSearch, listView, matchesQuery } from '../../lib/view/conversation-order.ts';
import { makeShareOffer, shareText, suggestShareTarget } from '../../lib/background/share-offer.ts';
import type { ConversationSummary } from '../../lib/protocol/channel.ts';

function c(id: string, over: Partial<ConversationSummary> = {}): ConversationSummary {
  return { id, name: id, status: 'active', unread: 0, memberCount: 2, lastActivity: 0, ...over };
}

const ids = (list: readonly ConversationSummary[]): string[] => list.map((x) => x.id);

describe('list order', () => {
  it('pinned first, latest pin on top, then latest activity; ties by id', () => {
    const list = [
      c('old', { lastActivity: 1 }),
      c('new', { lastActivity: 9 }),
      c('pin1', { lastActivity: 0, pinnedAt: 100 }),
      c('pin2', { lastActivity: 0, pinnedAt: 200 }),
      c('tieB', { lastActivity: 5 }),
      c('tieA', { lastActivity: 5 }),
    ];
    expect(ids([...list].sort(compareConversations))).toEqual(['pin2', 'pin1', 'new', 'tieA', 'tieB', 'old']);
  });

  it('activity does not reorder pinned conversations', () => {
    const a = c('a', { pinnedAt: 10, lastActivity: 1 });
    const b = c('b', { pinnedAt: 20, lastActivity: 1 });
    const before = ids([a, b].sort(compareConversations));
    const after = ids([{ ...a, lastActivity: 999 }, b].sort(compareConversations));
    expect(after).toEqual(before);
    expect(after).toEqual(['b', 'a']);
  });
});

describe('search', () => {
  it('ignores case and accents, and needs every word', () => {
    expect(foldForSearch('Zoë ÉTÉ')).toBe('zoe ete');
    expect(matchesQuery('Zoë’s birthday', 'zoe')).toBe(true);
    expect(matchesQuery('Weekend trip', 'TRIP week')).toBe(true);
    expect(matchesQuery('Weekend trip', 'trip work')).toBe(false);
    expect(matchesQuery('anything', '   ')).toBe(true);
  });
});

describe('list view', () => {
  const list = [
    c('team', { name: 'Team', lastActivity: 3 }),
    c('trip', { name: 'Trip', lastActivity: 2, archived: true }),
    c('family', { name: 'Family', lastActivity: 1, pinnedAt: 5 }),
    c('tax', { name: 'Taxes', lastActivity: 4, archived: true }),
  ];

  it('main list hides archived ones and counts them', () => {
    expect(listView(list, { query: '', archived: false })).toEqual({ shown: [list[2], list[0]], archivedCount: 2 });
  });

  it('the archived list shows only archived ones, by activity', () => {
    expect(ids(listView(list, { query: '', archived: true }).shown)).toEqual(['tax', 'trip']);
  });

  it('a search finds archived conversations too, and an empty result is empty', () => {
    expect(ids(listView(list, { query: 't', archived: false }).shown)).toEqual(['tax', 'team', 'trip']);
    expect(ids(listView(list, { query: 'tr', archived: true }).shown)).toEqual(['trip']);
    expect(listView(list, { query: 'nothing like it', archived: false }).shown).toEqual([]);
  });

  it('does not reorder its input', () => {
    const copy = [...list];
    listView(list, { query: '', archived: false });
    expect(list).toEqual(copy);
  });
});

describe('share offer', () => {
  it('suggests the most recent conversation one can post in, not archived when there is another', () => {
    const list = [
      c('left', { status: 'left', lastActivity: 9 }),
      c('arch', { archived: true, lastActivity: 8 }),
      c('recent', { lastActivity: 7 }),
      c('older', { lastActivity: 1, pinnedAt: 50 }),
    ];
    expect(suggestShareTarget(list)).toBe('recent');
    expect(suggestShareTarget([list[0]!, list[1]!])).toBe('arch');
    expect(suggestShareTarget([list[0]!])).toBeUndefined();
  });

  it('sends the title on its own line, then the URL; the URL is never cut', () => {
    expect(shareText('  A page ', 'https://e.org/x')).toBe('A page\nhttps://e.org/x');
    expect(shareText('', 'https://e.org/x')).toBe('https://e.org/x');
    expect(shareText('T'.repeat(1000), 'https://e.org/x')).toBe(`${'T'.repeat(300)}\nhttps://e.org/x`);
    const long = `https://e.org/${'a'.repeat(3980)}`;
    expect(shareText('A title', long)).toBe(long);
    expect(shareText('', `https://e.org/${'a'.repeat(4000)}`)).toBeUndefined();
  });

  it('offers only http(s) pages, each offer with a fresh id', () => {
    expect(makeShareOffer('x', 'javascript:alert(1)', [])).toBeUndefined();
    expect(makeShareOffer('x', 'file:///etc/passwd', [])).toBeUndefined();
    const one = makeShareOffer('Doc', 'https://e.org/d', [c('a', { lastActivity: 1 })])!;
    const two = makeShareOffer('Doc', 'https://e.org/d', [])!;
    expect(one).toMatchObject({ url: 'https://e.org/d', title: 'Doc', text: 'Doc\nhttps://e.org/d', suggestedId: 'a' });
    expect(two.suggestedId).toBeUndefined();
    expect(one.shareId).not.toBe(two.shareId);
  });
});
