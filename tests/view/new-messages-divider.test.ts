/** The "New messages" divider: the list opens at the first unread (not the bottom), and reading to the end marks it read. */
import { describe, expect, it, vi } from 'vitest';
import { render, waitFor } from '@testing-library/svelte';
import { tick } from 'svelte';
import MessageList from '@/components/MessageList.svelte';
import App from '@/entrypoints/sidepanel/App.svelte';
import { fireEvent } from '@testing-library/svelte';
import { conversation, message, messages } from './support/fixtures.ts';
import { fakeView } from './support/fake-background.ts';

const fromBo = (seq: number) => message(seq, { sender: { memberId: 'bo', displayName: 'Bo', self: false }, status: 'received' });

function shownSeqs(container: HTMLElement): number[] {
  return [...container.querySelectorAll<HTMLElement>('[data-testid="message"]')].map((el) => Number(el.dataset.seq));
}

async function scrollTo(scroller: HTMLElement, top: number): Promise<void> {
  scroller.scrollTop = top;
  scroller.dispatchEvent(new Event('scroll'));
  await tick();
}

describe('New messages divider', () => {
  it('opens a long list at the divider above the first unread, not at the bottom', async () => {
    const all = [...messages(1, 173), ...Array.from({ length: 28 }, (_, i) => fromBo(173 + i))];
    const onbottom = vi.fn();
    const { container, getByTestId } = render(MessageList, { messages: all, firstUnreadId: 'm173', onbottom, estimate: 60, overscan: 0 });
    await tick();
    const divider = getByTestId('new-messages-divider');
    expect(divider.textContent).toBe('New messages');
    expect(divider.getAttribute('role')).toBe('separator');
    // The divider sits in the first unread message's row, just above it.
    const row = divider.closest('[role="listitem"]')!;
    expect(row.querySelector<HTMLElement>('[data-testid="message"]')!.dataset.seq).toBe('173');
    const shown = shownSeqs(container);
    expect(shown).toContain(173);
    expect(shown).not.toContain(200);
    expect(onbottom).not.toHaveBeenCalledWith(true);
    // Reading to the end is what makes the conversation read.
    const list = getByTestId('message-list');
    await scrollTo(list, 200 * 60);
    expect(shownSeqs(container)).toContain(200);
    expect(onbottom).toHaveBeenLastCalledWith(true);
  });

  it('without unread messages it opens at the bottom, with no divider', async () => {
    const onbottom = vi.fn();
    const { container, queryByTestId } = render(MessageList, { messages: messages(1, 201), onbottom, estimate: 60, overscan: 0 });
    await tick();
    expect(queryByTestId('new-messages-divider')).toBeNull();
    expect(shownSeqs(container)).toContain(200);
    expect(onbottom).toHaveBeenLastCalledWith(true);
  });

  it('a conversation with 28 unread opens at the divider and is marked read only once read to the end', async () => {
    const history = [...messages(0, 172), ...Array.from({ length: 28 }, (_, i) => fromBo(172 + i))];
    const { bg, view } = fakeView({ conversations: [conversation({ unread: 28, readUpTo: 171 })] });
    // The newest page does not reach the first unread's predecessor on its own: the view reads back.
    bg.on('messages.page', ({ beforeSeq, limit }) => {
      const upper = beforeSeq ?? 200;
      const page = history.filter((m) => m.seq < upper).slice(-Math.min(limit, 20));
      return { messages: page, ...(page[0]!.seq > 0 ? { nextBeforeSeq: page[0]!.seq } : {}) };
    });
    bg.on('conversation.markRead', () => null);
    const { getByTestId, findByTestId } = render(App, { view });
    await fireEvent.click(getByTestId('conversation-item'));
    const divider = await findByTestId('new-messages-divider');
    expect(divider.closest('[role="listitem"]')!.querySelector<HTMLElement>('[data-testid="message"]')!.dataset.seq).toBe('172');
    expect(bg.callsOf('messages.page').length).toBeGreaterThan(1);
    await tick();
    expect(bg.callsOf('conversation.markRead')).toHaveLength(0);
    const list = getByTestId('message-list');
    await scrollTo(list, 1_000_000);
    await waitFor(() => expect(bg.callsOf('conversation.markRead')).toHaveLength(1));
  });
});
