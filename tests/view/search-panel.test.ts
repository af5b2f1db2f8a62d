/**
 * Search in the side panel (issue #20, components/SearchPanel.svelte), against
 * a scripted background: every view state (the hint, searching, no results,
 * results with the words marked), the scope (this conversation or all), the
 * keyboard, and choosing a hit: it jumps to the message, reading older pages
 * back to it, or opens the other conversation and jumps there.
 */
import { describe, expect, it } from 'vitest';
import { fireEvent, render, waitFor, within } from '@testing-library/svelte';
import App from '@/entrypoints/sidepanel/App.svelte';
import type { MessageView } from '@/lib/protocol/channel.ts';
import type { SearchHit, SearchResult } from '@/lib/protocol/search.ts';
import { pieces } from '@/lib/view/search-view.ts';
import { conversation, message } from './support/fixtures.ts';
import { fakeView } from './support/fake-background.ts';
import './support/loaded-views.ts';

const BO = { memberId: 'bo', displayName: 'Bo', self: false } as const;
const mimiId = (conv: string, n: number): string => `${conv}${'A'.repeat(43 - conv.length - 6)}${String(n).padStart(6, '0')}`;
const msg = (conv: string, seq: number, text = `message ${seq}`): MessageView => message(seq, { id: mimiId(conv, seq), conversationId: conv, sender: BO, status: 'received', text });

function hit(conv: string, seq: number, snippet: string, marks: [number, number][], over: Partial<SearchHit> = {}): SearchHit {
  return { conversationId: conv, conversationName: conv === 'c1' ? 'Team' : 'Family', messageId: mimiId(conv, seq), seq, senderName: 'Bo', fromSelf: false, sentAt: 1_700_000_000_000, snippet, cutStart: false, cutEnd: false, marks, ...over };
}

async function openSearch(histories: Record<string, MessageView[]>) {
  const { bg, view } = fakeView({ conversations: [conversation({ id: 'c1', name: 'Team' }), conversation({ id: 'c2', name: 'Family', lastActivity: 1 })] });
  view.connect();
  bg.on('messages.page', ({ conversationId, beforeSeq, limit }) => {
    const older = (histories[conversationId] ?? []).filter((m) => beforeSeq === null || m.seq < beforeSeq);
    const page = older.slice(-limit);
    return page.length < older.length ? { messages: page, nextBeforeSeq: page[0]!.seq } : { messages: page };
  });
  bg.on('conversation.markRead', () => null);
  const r = render(App, { view });
  const item = (await r.findAllByTestId('conversation-item')).find((i) => i.dataset.conversationId === 'c1')!;
  await fireEvent.click(item);
  await waitFor(() => expect(r.getAllByTestId('message').length).toBeGreaterThan(0));
  await fireEvent.click(r.getByTestId('search-button'));
  const input = r.getByTestId('search-input') as HTMLInputElement;
  await waitFor(() => expect(document.activeElement).toBe(input));
  const type = async (q: string): Promise<void> => {
    input.value = q;
    await fireEvent.input(input);
  };
  return { ...r, bg, view, input, type };
}

const status = (r: { getByTestId(id: string): HTMLElement }): string | undefined => r.getByTestId('search-status').dataset.state;

describe('search panel', () => {
  it('says what to do, then searching, then no results or the hits with the words marked', async () => {
    const r = await openSearch({ c1: [msg('c1', 1)] });
    expect(status(r)).toBe('hint');
    expect(r.getByTestId('search-status').textContent).toContain('Type a word');
    let answer: (v: SearchResult) => void = () => undefined;
    r.bg.on('messages.search', () => new Promise<SearchResult>((res) => (answer = res)));
    await r.type('zebra');
    await waitFor(() => expect(status(r)).toBe('searching'));
    await waitFor(() => expect(r.bg.callsOf('messages.search')).toEqual([{ query: 'zebra', conversationId: 'c1' }]));
    answer({ hits: [], total: 0 });
    await waitFor(() => expect(status(r)).toBe('none'));
    expect(r.getByTestId('search-status').textContent).toBe('No messages found.');
    expect(r.queryByTestId('search-results')).toBeNull();

    r.bg.on('messages.search', () => ({ hits: [hit('c1', 1, 'A Zebra and a zebra', [[2, 7], [14, 19]])], total: 1 }));
    await r.type('zebra!');
    await waitFor(() => expect(status(r)).toBe('found'));
    expect(r.getByTestId('search-status').textContent).toBe('1 message found');
    const results = r.getAllByTestId('search-result');
    expect(results).toHaveLength(1);
    expect(within(results[0]!).getAllByTestId('search-mark').map((m) => m.textContent)).toEqual(['Zebra', 'zebra']);
    // In this conversation's scope the conversation's name is not repeated on each hit.
    expect(results[0]!.textContent).not.toContain('Team');

    // Emptied: back to the hint, and no request.
    const calls = r.bg.callsOf('messages.search').length;
    await r.type('   ');
    expect(status(r)).toBe('hint');
    expect(r.bg.callsOf('messages.search').length).toBe(calls);
  });

  it('All conversations searches with conversationId null and names each hit’s conversation', async () => {
    const r = await openSearch({ c1: [msg('c1', 1)] });
    r.bg.on('messages.search', ({ conversationId }) => (conversationId === null ? { hits: [hit('c2', 4, 'zebra at home', [[0, 5]])], total: 1 } : { hits: [], total: 0 }));
    await r.type('zebra');
    await waitFor(() => expect(status(r)).toBe('none'));
    await fireEvent.click(r.getByTestId('search-scope-all'));
    await waitFor(() => expect(status(r)).toBe('found'));
    expect(r.bg.callsOf('messages.search').at(-1)).toEqual({ query: 'zebra', conversationId: null });
    expect(r.getByTestId('search-result').textContent).toContain('Family');
  });

  it('choosing a hit far back in this conversation reads older pages to it, scrolls there and marks it', async () => {
    const history = Array.from({ length: 450 }, (_, i) => msg('c1', i + 1, i === 2 ? 'the zebra crossing' : `message ${i + 1}`));
    const r = await openSearch({ c1: history });
    r.bg.on('messages.search', () => ({ hits: [hit('c1', 3, 'the zebra crossing', [[4, 9]])], total: 1 }));
    await r.type('zebra');
    await waitFor(() => expect(status(r)).toBe('found'));
    await fireEvent.click(r.getByTestId('search-result'));
    const row = (): HTMLElement | undefined => [...r.container.querySelectorAll<HTMLElement>('[data-testid="message"]')].find((m) => m.dataset.messageId === mimiId('c1', 3));
    await waitFor(() => expect(row()?.dataset.highlighted).toBe('true'), { timeout: 5000 });
    expect(document.activeElement).toBe(row());
    // The panel stays open over the list, so the next hit is one click away.
    expect(r.getByTestId('search-panel')).toBeTruthy();
  });

  it('a hit in another conversation opens it there and jumps to the message', async () => {
    const r = await openSearch({ c1: [msg('c1', 1)], c2: Array.from({ length: 300 }, (_, i) => msg('c2', i + 1)) });
    r.bg.on('messages.search', () => ({ hits: [hit('c2', 5, 'message 5', [[0, 7]])], total: 1 }));
    await fireEvent.click(r.getByTestId('search-scope-all'));
    await r.type('message');
    await waitFor(() => expect(status(r)).toBe('found'));
    await fireEvent.click(r.getByTestId('search-result'));
    await waitFor(() => expect(r.getByTestId('conversation').dataset.conversationId).toBe('c2'));
    const row = (): HTMLElement | undefined => [...r.container.querySelectorAll<HTMLElement>('[data-testid="message"]')].find((m) => m.dataset.messageId === mimiId('c2', 5));
    await waitFor(() => expect(row()?.dataset.highlighted).toBe('true'), { timeout: 5000 });
  });

  it('keyboard: Enter searches at once, Down goes to the hits, Up back to the box, Escape closes and returns to the button', async () => {
    const r = await openSearch({ c1: [msg('c1', 1)] });
    r.bg.on('messages.search', () => ({ hits: [hit('c1', 1, 'one zebra', [[4, 9]]), hit('c1', 2, 'two zebra', [[4, 9]])], total: 2 }));
    await r.type('zebra');
    await fireEvent.keyDown(r.input, { key: 'Enter' });
    await waitFor(() => expect(status(r)).toBe('found'));
    expect(r.getByTestId('search-status').textContent).toBe('2 messages found');
    const [first, second] = r.getAllByTestId('search-result');
    await fireEvent.keyDown(r.input, { key: 'ArrowDown' });
    expect(document.activeElement).toBe(first);
    await fireEvent.keyDown(first!, { key: 'ArrowDown' });
    expect(document.activeElement).toBe(second);
    await fireEvent.keyDown(second!, { key: 'ArrowUp' });
    await fireEvent.keyDown(first!, { key: 'ArrowUp' });
    expect(document.activeElement).toBe(r.input);
    await fireEvent.keyDown(r.input, { key: 'Escape' });
    await waitFor(() => expect(r.queryByTestId('search-panel')).toBeNull());
    expect(document.activeElement).toBe(r.getByTestId('search-button'));
  });
});

describe('search-view pieces', () => {
  it('cuts the snippet into plain and marked pieces, with … where text was left out, ignoring marks out of range', () => {
    expect(pieces({ snippet: 'a zebra b', marks: [[2, 7]], cutStart: true, cutEnd: true })).toEqual([
      { text: '…', mark: false },
      { text: 'a ', mark: false },
      { text: 'zebra', mark: true },
      { text: ' b', mark: false },
      { text: '…', mark: false },
    ]);
    expect(pieces({ snippet: 'abc', marks: [[1, 9], [2, 1]], cutStart: false, cutEnd: false })).toEqual([{ text: 'abc', mark: false }]);
  });
  it('says so when more were found than listed (the newest SEARCH_MAX_HITS), and says nothing when all are listed', async () => {
    const r = await openSearch({ c1: [msg('c1', 1)] });
    const hits = Array.from({ length: 100 }, (_, i) => hit('c1', 300 - i, 'lake', [[0, 4]]));
    r.bg.on('messages.search', ({ query }) => (query === 'lake' ? { hits, total: 250 } : { hits: hits.slice(0, 2), total: 2 }));
    await r.type('lake');
    await waitFor(() => expect(status(r)).toBe('found'));
    expect(r.getAllByTestId('search-result')).toHaveLength(100);
    expect(r.getByTestId('search-status').textContent).toContain('250');
    expect(r.getByTestId('search-capped').textContent).toBe('(showing the newest 100)');
    await r.type('lake two');
    await waitFor(() => expect(r.getAllByTestId('search-result')).toHaveLength(2));
    expect(r.queryByTestId('search-capped')).toBeNull();
  });
});
