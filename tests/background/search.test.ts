/**
 * Search in the background without a relay (docs/search.md): folding
 * (search-fold.ts) and the in-memory index (search-index.ts, S-*) over a
 * source of records, plus the strict parsing of the request. The store side
 * (a real vault and IndexedDB, nothing in the clear) is in
 * tests/integration/search.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { MessageRecord } from '../../lib/background/chat-store.ts';
import { fold, highlights, queryTerms } from '../../lib/background/search-fold.ts';
import { SearchIndex, type SearchSource } from '../../lib/background/search-index.ts';
import * as text from '../../lib/background/text.ts';
import { CHANNEL, parseRequest } from '../../lib/protocol/channel.ts';
import { SEARCH_MAX_HITS, SEARCH_MAX_QUERY } from '../../lib/protocol/search.ts';

const rec = (conversationId: string, seq: number, body: string, extra: Partial<MessageRecord> = {}): MessageRecord => ({
  id: `${conversationId}-${seq}`,
  conversationId,
  seq,
  kind: 'text',
  text: body,
  sender: { memberId: 'm1', displayName: 'Bob', self: false },
  sentAt: 1000 + seq,
  status: 'received',
  ...extra,
});

function source(history: Record<string, MessageRecord[]>, names: Record<string, string> = {}, expiring: Record<string, { seq: number; at: number }[]> = {}): SearchSource & { reads: number } {
  const s = {
    reads: 0,
    conversations: () => Object.keys(history).map((id) => ({ id, name: names[id] ?? id, expiring: expiring[id] })),
    history: async (id: string) => {
      s.reads++;
      return (history[id] ?? []).map((r) => ({ ...r }));
    },
  };
  return s;
}

describe('search-fold: case, accents, compatibility forms', () => {
  it('folds case and accents the same way in texts and queries, and keeps other scripts', () => {
    expect(fold('Café CRÈME')).toBe('cafe creme');
    expect(fold('Straße')).toBe(fold('STRASSE'));
    expect(fold('ΟΔΟΣ')).toBe(fold('οδος'));
    expect(fold('ﬁne ①')).toBe('fine 1');
    expect(fold('İstanbul')).toBe('istanbul');
    // Arabic: the short vowels (marks) are dropped, the letters stay.
    expect(fold('مَرْحَبًا')).toBe('مرحبا');
    expect(fold('日本語 😀')).toBe('日本語 😀');
    expect(queryTerms('  Cafe  café CAFE  ', 10)).toEqual(['cafe']);
    expect(queryTerms('a b c d e', 3)).toEqual(['a', 'b', 'c']);
  });

  it('highlights map back to the characters of the original, across expansions, surrogate pairs and repeats', () => {
    expect(highlights('Straße café', ['strasse', 'cafe'])).toEqual([[0, 6], [7, 11]]);
    expect(highlights('😀 Café 😀 cafe', ['cafe'])).toEqual([[3, 7], [11, 15]]);
    // Overlapping terms merge into one mark.
    expect(highlights('banana', ['ana', 'nan'])).toEqual([[1, 5]]);
    expect(highlights('nothing', ['zzz'])).toEqual([]);
  });
});

describe('SearchIndex', () => {
  it('finds texts holding every word of the query, newest first, whatever their case or accents, with marks in the snippet', async () => {
    const s = source(
      {
        c1: [rec('c1', 1, 'Lunch at the CAFÉ?'), rec('c1', 2, 'no idea'), rec('c1', 3, 'the cafe near the station')],
        c2: [rec('c2', 1, 'Café opens at nine', { sender: { memberId: 'me', displayName: 'Me', self: true } })],
      },
      { c1: 'Friends', c2: 'Work' },
    );
    const index = new SearchIndex(s);
    const all = await index.search('cafe', null);
    expect(all.total).toBe(3);
    expect(all.hits.map((h) => h.messageId)).toEqual(['c1-3', 'c1-1', 'c2-1']);
    const [first] = all.hits;
    expect(first).toMatchObject({ conversationId: 'c1', conversationName: 'Friends', seq: 3, senderName: 'Bob', fromSelf: false, cutStart: false, cutEnd: false });
    expect(first!.marks.map(([a, b]) => first!.snippet.slice(a, b))).toEqual(['cafe']);
    expect(all.hits[2]).toMatchObject({ senderName: text.YOU, fromSelf: true, conversationName: 'Work' });
    expect(all.hits[1]!.marks.map(([a, b]) => all.hits[1]!.snippet.slice(a, b))).toEqual(['CAFÉ']);
    // One conversation only; every word must occur.
    expect((await index.search('CAFE', 'c2')).hits.map((h) => h.messageId)).toEqual(['c2-1']);
    expect((await index.search('cafe station', null)).hits.map((h) => h.messageId)).toEqual(['c1-3']);
    expect((await index.search('cafe moon', null)).total).toBe(0);
    expect(await index.search('   ', null)).toEqual({ hits: [], total: 0 });
    expect(await index.search('cafe', 'unknown')).toEqual({ hits: [], total: 0 });
  });

  it('S-1: system notes, deleted and unshowable messages are never found', async () => {
    const s = source({
      c: [
        rec('c', 1, 'Bob joined the secret club', { kind: 'system' }),
        rec('c', 2, 'secret plans', { deleted: true }),
        rec('c', 3, 'secret unreadable', { unshowable: true }),
        rec('c', 4, 'a secret kept'),
      ],
    });
    expect((await new SearchIndex(s).search('secret', null)).hits.map((h) => h.seq)).toEqual([4]);
  });

  it('S-2: an edited message is found by its latest text only; a delete for everyone takes it out', async () => {
    const s = source({ c: [rec('c', 1, 'meet at noon')] });
    const index = new SearchIndex(s);
    expect((await index.search('noon', null)).total).toBe(1);
    index.observe({ messages: [rec('c', 1, 'meet at six', { edited: true, versions: [{ text: 'meet at noon', at: 1 }] })] });
    expect((await index.search('noon', null)).total).toBe(0);
    expect((await index.search('six', null)).total).toBe(1);
    index.observe({ messages: [rec('c', 1, text.MESSAGE_DELETED, { deleted: true })] });
    expect((await index.search('six', null)).total).toBe(0);
    expect((await index.search(text.MESSAGE_DELETED, null)).total).toBe(0);
    // New texts are found without reading the store again.
    index.observe({ messages: [rec('c', 2, 'a new one')] });
    expect((await index.search('new', null)).total).toBe(1);
    expect(s.reads).toBe(1);
  });

  it('S-3: an expired message is not found, before the sweep deletes it and after', async () => {
    let now = 10_000;
    const s = source({ c: [rec('c', 1, 'vanishing words'), rec('c', 2, 'lasting words')] }, {}, { c: [{ seq: 1, at: 20_000 }] });
    const index = new SearchIndex(s, () => now);
    expect((await index.search('words', null)).total).toBe(2);
    now = 20_000;
    expect((await index.search('words', null)).hits.map((h) => h.seq)).toEqual([2]);
    index.observe({ deleteMessages: [{ conversationId: 'c', seq: 1 }] });
    now = 0;
    expect((await index.search('vanishing', null)).total).toBe(0);
  });

  it('S-4: changes applied while a history is being read are applied after it; a deleted conversation is gone', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const history = { c: [rec('c', 1, 'old text'), rec('c', 2, 'doomed text')] };
    const s: SearchSource = {
      conversations: () => [{ id: 'c', name: 'C' }],
      history: async () => {
        const copy = history.c.map((r) => ({ ...r }));
        await gate;
        return copy;
      },
    };
    const index = new SearchIndex(s);
    const pending = index.search('text', null);
    index.observe({ messages: [rec('c', 1, 'new text', { edited: true })] });
    index.observe({ deleteMessages: [{ conversationId: 'c', seq: 2 }] });
    release();
    expect((await pending).hits.map((h) => h.snippet)).toEqual(['new text']);
    index.observe({ deleteConversation: 'c' });
    expect(index.has('c')).toBe(false);
  });

  it('a long text shows a snippet around the first match; hits are capped but the total counts all', async () => {
    const long = `${'x'.repeat(300)} needle ${'y'.repeat(300)}`;
    const many = Array.from({ length: SEARCH_MAX_HITS + 20 }, (_, i) => rec('c', i + 1, `needle ${i}`));
    const index = new SearchIndex(source({ c: [rec('c', 0, long), ...many], d: [rec('d', 1, long)] }));
    const r = await index.search('needle', 'c');
    expect(r.total).toBe(SEARCH_MAX_HITS + 21);
    expect(r.hits).toHaveLength(SEARCH_MAX_HITS);
    const one = (await index.search('needle', 'd')).hits[0]!;
    expect(one).toMatchObject({ cutStart: true, cutEnd: true });
    expect(one.snippet.length).toBeLessThanOrEqual(161);
    expect(one.marks.map(([a, b]) => one.snippet.slice(a, b))).toContain('needle');
  });

  it('clear() forgets everything (locking): the next search reads the store again', async () => {
    const s = source({ c: [rec('c', 1, 'hello')] });
    const index = new SearchIndex(s);
    await index.search('hello', null);
    index.clear();
    expect(index.has('c')).toBe(false);
    expect((await index.search('hello', null)).total).toBe(1);
    expect(s.reads).toBe(2);
  });

  it('prints how long a search of 10,000 messages takes (a figure, not asserted; bench/ui.ts reports it too)', async () => {
    const words = ['alpha', 'beta', 'gamma', 'delta', 'café', 'Straße', 'مرحبا', '日本'];
    const history = Array.from({ length: 10_000 }, (_, i) => rec('c', i + 1, `message ${i} ${words[i % words.length]} ${words[(i * 7) % words.length]} lorem ipsum dolor sit amet`));
    const index = new SearchIndex(source({ c: history }));
    const t0 = performance.now();
    await index.load('c');
    const t1 = performance.now();
    const r = await index.search('strasse', null);
    const t2 = performance.now();
    expect(r.total).toBeGreaterThan(0);
    console.log(`search: index 10,000 messages ${(t1 - t0).toFixed(1)} ms, one search ${(t2 - t1).toFixed(1)} ms (${r.total} found)`);
  });
});

describe('messages.search request', () => {
  const parse = (params: unknown): unknown => parseRequest({ channel: CHANNEL, method: 'messages.search', params });
  it('takes a query and a conversation id or null, strictly', () => {
    expect(parse({ query: 'hi', conversationId: null })).toMatchObject({ params: { query: 'hi', conversationId: null } });
    expect(parse({ query: 'hi', conversationId: 'abc_-1' })).toMatchObject({ params: { conversationId: 'abc_-1' } });
    expect(() => parse({ query: 'hi' })).toThrow();
    expect(() => parse({ query: 'hi', conversationId: null, extra: 1 })).toThrow();
    expect(() => parse({ query: 'x'.repeat(SEARCH_MAX_QUERY + 1), conversationId: null })).toThrow();
    expect(() => parse({ query: 3, conversationId: null })).toThrow();
    expect(() => parse({ query: 'hi', conversationId: 'no spaces' })).toThrow();
  });
});
