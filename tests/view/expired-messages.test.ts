/**
 * Messages that expire while their conversation is open (issue #20,
 * disappearing messages): on the background's ExpiredEvent the view drops
 * them at once — the rows (with their reactions and files), a reply's quote
 * of them (shown as missing, as the background would), the reply being
 * written to one of them, and their search hits — and a page read before
 * they went, answered after, does not bring them back. A malformed event
 * changes nothing.
 */
import { describe, expect, it } from 'vitest';
import { fireEvent, render, waitFor, within } from '@testing-library/svelte';
import App from '@/entrypoints/sidepanel/App.svelte';
import type { LiveEvent, MessageView } from '@/lib/protocol/channel.ts';
import type { SearchHit } from '@/lib/protocol/search.ts';
import { conversation, message } from './support/fixtures.ts';
import { fakeView } from './support/fake-background.ts';
import './support/loaded-views.ts';

const ME = { memberId: 'me', displayName: 'Ana', self: true } as const;
const BO = { memberId: 'bo', displayName: 'Bo', self: false } as const;
const mimiId = (n: number): string => `${'A'.repeat(37)}${String(n).padStart(6, '0')}`;
const msg = (seq: number, over: Partial<MessageView> = {}): MessageView =>
  message(seq, { id: mimiId(seq), sender: seq % 2 === 0 ? ME : BO, status: seq % 2 === 0 ? 'sent' : 'received', ...over });
const hit = (seq: number, snippet: string): SearchHit => ({
  conversationId: 'c1', conversationName: 'Team', messageId: mimiId(seq), seq, senderName: 'Bo', fromSelf: false, sentAt: 1_700_000_000_000, snippet, cutStart: false, cutEnd: false, marks: [[0, 4]],
});

const history = [
  msg(1, { text: 'lake plan one', reactions: [{ emoji: '👍', count: 1, people: ['Ana'], mine: false }] }),
  msg(2, { text: 'lake plan two' }),
  msg(3, { text: 'the secret file', attachment: { name: 'plans.bin', type: 'application/octet-stream', size: 1000 } }),
  msg(4, { text: 'answer', quote: { messageId: mimiId(1), seq: 1, senderName: 'Bo', text: 'lake plan one' } }),
];

async function open() {
  const { bg, view } = fakeView({ conversations: [conversation()] });
  view.connect();
  bg.on('messages.page', () => ({ messages: history }));
  bg.on('conversation.markRead', () => null);
  bg.on('messages.search', () => ({ hits: [hit(2, 'lake plan two'), hit(1, 'lake plan one')], total: 2 }));
  const r = render(App, { view });
  await fireEvent.click(r.getByTestId('conversation-item'));
  await waitFor(() => expect(r.getAllByTestId('message')).toHaveLength(4));
  return { ...r, bg, view };
}

const shownIds = (container: HTMLElement): string[] => [...container.querySelectorAll<HTMLElement>('[data-testid="message"]')].map((m) => m.dataset.messageId!);
const row = (container: HTMLElement, seq: number): HTMLElement => container.querySelector<HTMLElement>(`[data-testid="message"][data-message-id="${mimiId(seq)}"]`)!;

describe('expired messages leave the open screen', () => {
  it('the list, the reply being written, a quote and the search hits drop them at once', async () => {
    const r = await open();
    // Replying to message 3, and a search showing messages 1 and 2.
    await fireEvent.click(within(row(r.container, 3)).getByTestId('action-reply'));
    expect(r.getByTestId('composer-context-title').textContent).toContain('Bo');
    await fireEvent.click(r.getByTestId('search-button'));
    const input = r.getByTestId('search-input') as HTMLInputElement;
    input.value = 'lake';
    await fireEvent.input(input);
    await waitFor(() => expect(r.getAllByTestId('search-result').map((h) => h.dataset.messageId)).toEqual([mimiId(2), mimiId(1)]));
    expect(r.getAllByTestId('reaction')).toHaveLength(1);
    expect(r.getAllByTestId('attachment')).toHaveLength(1);

    r.bg.emit({ type: 'expired', conversationId: 'c1', seqs: [1, 3] });

    await waitFor(() => expect(shownIds(r.container)).toEqual([mimiId(2), mimiId(4)]));
    expect(r.queryAllByTestId('reaction')).toHaveLength(0);
    expect(r.queryAllByTestId('attachment')).toHaveLength(0);
    expect(r.container.textContent).not.toContain('lake plan one');
    expect(r.container.textContent).not.toContain('the secret file');
    const quote = within(row(r.container, 4)).getByTestId('quote');
    expect(quote.dataset.state).toBe('missing');
    expect(r.queryByTestId('composer-context-title')).toBeNull();
    expect(r.getAllByTestId('search-result').map((h) => h.dataset.messageId)).toEqual([mimiId(2)]);
    expect(r.getByTestId('search-status').textContent).toMatch(/\b1\b/);
  });

  it('a page read before they went does not bring them back; other conversations and seqs are untouched', async () => {
    const r = await open();
    r.bg.emit({ type: 'expired', conversationId: 'c1', seqs: [2] });
    r.bg.emit({ type: 'expired', conversationId: 'other', seqs: [1, 3, 4] });
    await waitFor(() => expect(shownIds(r.container)).toEqual([mimiId(1), mimiId(3), mimiId(4)]));
    // The answer of a page read before the sweep, arriving after it.
    r.view.thread('c1').merge(history);
    r.bg.emit({ type: 'messages', conversationId: 'c1', messages: [msg(2, { text: 'lake plan two' }), msg(5, { text: 'new one' })] });
    await waitFor(() => expect(shownIds(r.container)).toEqual([mimiId(1), mimiId(3), mimiId(4), mimiId(5)]));
    expect(r.view.isExpired('c1', 2)).toBe(true);
    expect(r.view.isExpired('c1', 1)).toBe(false);
  });

  it('a malformed expired event changes nothing', async () => {
    const r = await open();
    for (const bad of [
      { type: 'expired', conversationId: 'c1', seqs: [3, 1] },
      { type: 'expired', conversationId: 'c1', seqs: [] },
      { type: 'expired', conversationId: 'c1', seqs: ['1'] },
      { type: 'expired', conversationId: 'c1', seqs: [1], extra: true },
      { type: 'expired', conversationId: 'c/1', seqs: [1] },
      { type: 'expired', seqs: [1] },
    ]) {
      r.bg.emit(bad as unknown as LiveEvent);
    }
    await new Promise((res) => setTimeout(res, 20));
    expect(shownIds(r.container)).toEqual([mimiId(1), mimiId(2), mimiId(3), mimiId(4)]);
    expect(r.view.isExpired('c1', 1)).toBe(false);
  });
});
