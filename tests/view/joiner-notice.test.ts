// A joiner's conversation starts with "Messages sent before you joined aren't
// shown" (issue 17, item 14): the background stores it as the first system
// message of the joiner's history (tests/integration/invites.test.ts); the list
// shows it as a system line at the very start, above everything after it.
import { describe, expect, it } from 'vitest';
import { render } from '@testing-library/svelte';
import { tick } from 'svelte';
import MessageList from '@/components/MessageList.svelte';
import { JOINER_NOTICE } from '@/lib/protocol/channel.ts';
import { message } from './support/fixtures.ts';

const joinerHistory = (more: number) => [
  message(0, { kind: 'system', text: JOINER_NOTICE, sender: { memberId: '', displayName: '', self: false }, status: 'received' }),
  message(1, { kind: 'system', text: 'You joined the conversation.', sender: { memberId: '', displayName: '', self: false }, status: 'received' }),
  ...Array.from({ length: more }, (_, i) => message(2 + i, { text: `after ${i + 1}`, sender: { memberId: 'bo', displayName: 'Bo', self: false }, status: 'received' })),
];

function shown(container: HTMLElement): { kind: string; text: string }[] {
  return [...container.querySelectorAll<HTMLElement>('[data-testid="message"]')].map((el) => ({
    kind: el.dataset.kind ?? '',
    text: (el.querySelector('[data-testid="message-text"]')?.textContent ?? el.querySelector('span')?.textContent ?? '').trim(),
  }));
}

describe('Joiner notice', () => {
  it('reads exactly as promised', () => {
    expect(JOINER_NOTICE).toBe("Messages sent before you joined aren't shown.");
  });

  it('is the first line of a joiner’s conversation, a system line rather than someone’s message', async () => {
    const { container } = render(MessageList, { messages: joinerHistory(2) });
    await tick();
    expect(shown(container)).toEqual([
      { kind: 'system', text: JOINER_NOTICE },
      { kind: 'system', text: 'You joined the conversation.' },
      { kind: 'text', text: 'after 1' },
      { kind: 'text', text: 'after 2' },
    ]);
    const first = container.querySelector<HTMLElement>('[data-testid="message"]')!;
    expect(first.querySelector('[data-testid="sender-name"]')).toBeNull();
  });

  it('does not also claim "This is the beginning of the conversation" above it; a creator’s history still does', async () => {
    const joiner = render(MessageList, { messages: joinerHistory(1) });
    await tick();
    expect(joiner.container.textContent).not.toContain('This is the beginning of the conversation.');
    joiner.unmount();
    const creator = render(MessageList, {
      messages: [message(0, { kind: 'system', text: 'You created “Trip”.', sender: { memberId: '', displayName: '', self: false } }), message(1)],
    });
    await tick();
    expect(creator.container.textContent).toContain('This is the beginning of the conversation.');
  });

  it('stays at the start when more messages arrive, and is there when scrolled back to the top of a long history', async () => {
    const { container, getByTestId, rerender } = render(MessageList, { messages: joinerHistory(1), estimate: 50, overscan: 0 });
    await tick();
    await rerender({ messages: joinerHistory(400), estimate: 50, overscan: 0 });
    await tick();
    const list = getByTestId('message-list');
    expect(shown(container)[0]).not.toEqual({ kind: 'system', text: JOINER_NOTICE }); // the newest are in view
    list.scrollTop = 0;
    list.dispatchEvent(new Event('scroll'));
    await tick();
    expect(shown(container)[0]).toEqual({ kind: 'system', text: JOINER_NOTICE });
  });
});
