import { describe, expect, it, vi } from 'vitest';
import { render } from '@testing-library/svelte';
import { tick } from 'svelte';
import MessageList from '@/components/MessageList.svelte';
import { message, messages } from './support/fixtures.ts';

function rendered(container: HTMLElement): HTMLElement[] {
  return [...container.querySelectorAll<HTMLElement>('[data-testid="message"]')];
}

function seqs(container: HTMLElement): number[] {
  return rendered(container).map((el) => Number(el.dataset.seq));
}

async function scrollTo(scroller: HTMLElement, top: number): Promise<void> {
  scroller.scrollTop = top;
  scroller.dispatchEvent(new Event('scroll'));
  await tick();
}

describe('MessageList virtualization', () => {
  it('renders only a window of a 10,000-message conversation, starting at the newest', async () => {
    const all = messages(1, 10_001);
    const { container, getByTestId } = render(MessageList, { messages: all, estimate: 60, overscan: 300 });
    await tick();
    const list = getByTestId('message-list');
    expect(list.dataset.count).toBe('10000');
    const shown = seqs(container);
    expect(shown.length).toBeGreaterThan(5);
    expect(shown.length).toBeLessThan(40);
    expect(shown[shown.length - 1]).toBe(10_000);
    // The spacer keeps the full height, so the scrollbar reflects the whole history.
    const inner = list.querySelector<HTMLElement>('[role="list"]')!;
    expect(inner.style.height).toBe(`${10_000 * 60}px`);
  });

  it('renders a history that arrives after mounting at its newest window at once, never its oldest first', async () => {
    const { container, getByTestId, rerender } = render(MessageList, { messages: [], hasOlder: true, estimate: 60, overscan: 300 });
    await tick();
    const everShown = new Set<number>();
    // Every message element ever inserted, even if it was gone again by the time the observer ran.
    const seen = new MutationObserver((records) => {
      for (const r of records) {
        for (const node of r.addedNodes) {
          if (!(node instanceof HTMLElement)) continue;
          const els = node.matches('[data-testid="message"]') ? [node] : [...node.querySelectorAll<HTMLElement>('[data-testid="message"]')];
          for (const el of els) everShown.add(Number(el.dataset.seq));
        }
      }
    });
    seen.observe(getByTestId('message-list'), { childList: true, subtree: true });
    await rerender({ messages: messages(1, 101), hasOlder: true, estimate: 60, overscan: 300 });
    await tick();
    await new Promise((r) => setTimeout(r, 0));
    seen.disconnect();
    expect(Math.max(...everShown)).toBe(100);
    // A 600 px viewport and 300 px of overscan hold 15 items of 60 px: nothing of the first 80 was ever built.
    expect(Math.min(...everShown)).toBeGreaterThan(80);
    expect(seqs(container)[seqs(container).length - 1]).toBe(100);
  });

  it('moves the window when scrolled', async () => {
    const all = messages(1, 10_001);
    const { container, getByTestId } = render(MessageList, { messages: all, estimate: 60, overscan: 0 });
    await tick();
    const list = getByTestId('message-list');
    await scrollTo(list, 60 * 5000);
    const shown = seqs(container);
    // Item 5000 (0-based) is seq 5001; a 600 px viewport holds 10 items of 60 px.
    expect(shown[0]).toBe(5001);
    expect(shown.length).toBeLessThanOrEqual(12);
    await scrollTo(list, 0);
    expect(seqs(container)[0]).toBe(1);
  });

  it('asks for older messages near the top, and keeps the first visible message in place when they are prepended', async () => {
    const onloadolder = vi.fn();
    const page = messages(1001, 1201);
    const { container, getByTestId, rerender } = render(MessageList, { messages: page, hasOlder: true, onloadolder, estimate: 50, overscan: 0 });
    await tick();
    const list = getByTestId('message-list');
    await scrollTo(list, 100); // two items down: seq 1003 at the top
    expect(onloadolder).toHaveBeenCalled();
    expect(seqs(container)[0]).toBe(1003);
    await rerender({ messages: [...messages(801, 1001), ...page], hasOlder: true, onloadolder, estimate: 50, overscan: 0 });
    await tick();
    // 200 items of 50 px were added above: the offset moved by 10,000 px and seq 1003 is still first.
    expect(list.scrollTop).toBe(100 + 200 * 50);
    expect(seqs(container)[0]).toBe(1003);
  });

  it('sticks to the bottom on new messages when at the bottom, and counts them otherwise', async () => {
    const start = messages(1, 301);
    const { container, getByTestId, rerender, queryByTestId } = render(MessageList, { messages: start, estimate: 50, overscan: 0 });
    await tick();
    const withNew = [...start, message(301, { sender: { memberId: 'bo', displayName: 'Bo', self: false }, status: 'received' })];
    await rerender({ messages: withNew, estimate: 50, overscan: 0 });
    await tick();
    expect(seqs(container)).toContain(301);
    expect(getByTestId('message-announcer').textContent).toContain('New message from Bo');

    const list = getByTestId('message-list');
    await scrollTo(list, 1000);
    const more = [...withNew, message(302, { sender: { memberId: 'bo', displayName: 'Bo', self: false }, status: 'received' })];
    await rerender({ messages: more, estimate: 50, overscan: 0 });
    await tick();
    expect(seqs(container)).not.toContain(302);
    expect(queryByTestId('jump-to-latest')?.textContent).toContain('1 new message');
    queryByTestId('jump-to-latest')!.click();
    await tick();
    expect(seqs(container)).toContain(302);
  });
});

describe('MessageList day separators', () => {
  it('marks where a new day starts', async () => {
    const day = 86_400_000;
    const base = new Date(2026, 0, 10, 12).getTime();
    const list = [message(1, { sentAt: base }), message(2, { sentAt: base + 60_000 }), message(3, { sentAt: base + day })];
    const { getAllByTestId } = render(MessageList, { messages: list });
    await tick();
    const days = getAllByTestId('day-separator');
    expect(days).toHaveLength(2);
    expect(days[1]!.closest('[role="listitem"]')!.querySelector('[data-testid="message"]')!.getAttribute('data-seq')).toBe('3');
  });
});
