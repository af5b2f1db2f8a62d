/**
 * One message's rich states (issue #20): the quote of a reply (shown,
 * deleted, missing), reaction chips (counts, who, pressing them), "edited",
 * deleted and unshowable bubbles, and the actions offered (and not offered)
 * with the reaction picker.
 */
import { describe, expect, it, vi } from 'vitest';
import { fireEvent, render, within } from '@testing-library/svelte';
import { tick } from 'svelte';
import MessageItem from '@/components/MessageItem.svelte';
import type { MessageView } from '@/lib/protocol/channel.ts';
import type { MessageActions } from '@/lib/view/message-actions.ts';
import { message } from './support/fixtures.ts';
import './support/loaded-views.ts';

/** A MIMI message id (43 base64url characters), different per n. */
function mimiId(n: number): string {
  return `${'A'.repeat(40)}${String(n).padStart(3, '0')}`;
}

const ME = { memberId: 'me', displayName: 'Ana', self: true } as const;
const BO = { memberId: 'bo', displayName: 'Bo', self: false } as const;

function actions() {
  return {
    reply: vi.fn<MessageActions['reply']>(),
    react: vi.fn<MessageActions['react']>(),
    unreact: vi.fn<MessageActions['unreact']>(),
    edit: vi.fn<MessageActions['edit']>(),
    deleteForEveryone: vi.fn<MessageActions['deleteForEveryone']>(),
    showVersions: vi.fn<MessageActions['showVersions']>(),
    openQuote: vi.fn<MessageActions['openQuote']>(),
  } satisfies MessageActions;
}

function show(m: MessageView, a: ReturnType<typeof actions> | null = actions()) {
  return { ...render(MessageItem, { message: m, actions: a ?? undefined }), a: a! };
}

describe('a reply’s quote', () => {
  it('shows who wrote the original and its text, and pressing it asks to go there', async () => {
    const quote = { messageId: mimiId(1), seq: 1, senderName: 'Bo', text: 'Lunch at noon?' };
    const { getByTestId, a } = show(message(5, { id: mimiId(5), sender: ME, quote }));
    const q = getByTestId('quote');
    expect(q.tagName).toBe('BUTTON');
    expect(q.dataset.state).toBe('shown');
    expect(q.textContent).toContain('Bo');
    expect(getByTestId('quote-text').textContent).toBe('Lunch at noon?');
    expect(q.getAttribute('aria-label')).toBe('Go to the message from Bo this replies to');
    await fireEvent.click(q);
    expect(a.openQuote).toHaveBeenCalledWith(quote);
  });

  it('says so when the original was deleted or never reached this device, and is not a button then', () => {
    const deleted = show(message(5, { id: mimiId(5), quote: { messageId: mimiId(1), seq: 1, senderName: 'Bo', text: '', deleted: true } }));
    const d = deleted.getByTestId('quote');
    expect(d.tagName).toBe('DIV');
    expect(d.dataset.state).toBe('deleted');
    expect(deleted.getByTestId('quote-text').textContent).toBe('The original message was deleted');
    deleted.unmount();

    const missing = show(message(6, { id: mimiId(6), quote: { messageId: mimiId(2), senderName: '', text: '', missing: true } }));
    expect(missing.getByTestId('quote').dataset.state).toBe('missing');
    expect(missing.getByTestId('quote-text').textContent).toBe('The original message is not on this device');
  });
});

describe('reactions', () => {
  const reactions = [
    { emoji: '👍', count: 2, people: ['Bo', 'You'], mine: true },
    { emoji: '😂', count: 1, people: ['Bo'], mine: false },
  ];

  it('shows a chip per emoji with its count, and says who reacted in the tooltip and the label', () => {
    const { getAllByTestId } = show(message(4, { id: mimiId(4), sender: BO, reactions }));
    const chips = getAllByTestId('reaction');
    expect(chips.map((c) => [c.dataset.emoji, c.dataset.count, c.textContent])).toEqual([
      ['👍', '2', '👍2'],
      ['😂', '1', '😂1'],
    ]);
    expect(chips[0]!.title).toBe('Bo and You reacted with 👍. Press to take yours back.');
    expect(chips[0]!.getAttribute('aria-label')).toBe(chips[0]!.title);
    expect(chips[0]!.getAttribute('aria-pressed')).toBe('true');
    expect(chips[1]!.title).toBe('Bo reacted with 😂. Press to react with it too.');
    expect(chips[1]!.getAttribute('aria-pressed')).toBe('false');
  });

  it('pressing our own chip takes ours back; pressing another adds ours', async () => {
    const m = message(4, { id: mimiId(4), sender: BO, reactions });
    const { getAllByTestId, a } = show(m);
    await fireEvent.click(getAllByTestId('reaction')[0]!);
    expect(a.unreact).toHaveBeenCalledWith(m, '👍');
    await fireEvent.click(getAllByTestId('reaction')[1]!);
    expect(a.react).toHaveBeenCalledWith(m, '😂');
  });

  it('on a message from before MIMI content the chips only show', () => {
    const { getAllByTestId } = show(message(4, { id: 'old-random-id', sender: BO, reactions }));
    expect((getAllByTestId('reaction')[0] as HTMLButtonElement).disabled).toBe(true);
    expect(getAllByTestId('reaction')[0]!.title).toBe('Bo and You reacted with 👍');
  });
});

describe('edited, deleted and unshowable', () => {
  it('an edited message says so, and pressing "edited" asks for its versions', async () => {
    const m = message(3, { id: mimiId(3), sender: BO, text: 'Lunch at 1', edited: true, versions: [{ text: 'Lunch at 12', at: 1 }] });
    const { getByTestId, a } = show(m);
    expect(getByTestId('message').dataset.edited).toBe('true');
    const edited = getByTestId('edited');
    expect(edited.textContent).toBe('edited');
    expect(edited.getAttribute('aria-label')).toBe('Edited: show the earlier versions');
    await fireEvent.click(edited);
    expect(a.showVersions).toHaveBeenCalledWith(m);
  });

  it('a deleted message is a muted bubble saying "Message deleted", with no actions, quote, reactions or "edited"', () => {
    const m = message(3, {
      id: mimiId(3),
      sender: ME,
      text: 'Message deleted',
      deleted: true,
      edited: true,
      reactions: [{ emoji: '👍', count: 1, people: ['Bo'], mine: false }],
      quote: { messageId: mimiId(1), seq: 1, senderName: 'Bo', text: 'hi' },
    });
    const { getByTestId, queryByTestId, container } = show(m);
    expect(getByTestId('message').dataset.deleted).toBe('true');
    expect(getByTestId('message-text').textContent).toBe('Message deleted');
    expect(container.querySelector('.bubble')!.classList.contains('muted')).toBe(true);
    for (const id of ['message-actions', 'quote', 'reactions', 'edited']) expect(queryByTestId(id)).toBeNull();
  });

  it('an unshowable content is a muted bubble with its sentence, never empty, and cannot be replied to', () => {
    const { getByTestId, queryByTestId, container } = show(message(2, { id: mimiId(2), sender: BO, text: "This message can't be shown", unshowable: true }));
    expect(getByTestId('message').dataset.unshowable).toBe('true');
    expect(getByTestId('message-text').textContent).toBe("This message can't be shown");
    expect(container.querySelector('.bubble')!.classList.contains('muted')).toBe(true);
    expect(queryByTestId('message-actions')).toBeNull();
  });
});

describe('the actions', () => {
  it('someone else’s message offers Reply and React, with labels; ours adds Edit and Delete for everyone', async () => {
    const theirs = show(message(1, { id: mimiId(1), sender: BO }));
    const bar = theirs.getByTestId('message-actions');
    expect(bar.getAttribute('role')).toBe('toolbar');
    expect(within(bar).getAllByRole('button').map((b) => b.getAttribute('aria-label'))).toEqual(['Reply', 'Add a reaction']);
    await fireEvent.click(within(bar).getByTestId('action-reply'));
    expect(theirs.a.reply).toHaveBeenCalledOnce();
    theirs.unmount();

    const mine = show(message(2, { id: mimiId(2), sender: ME, status: 'sent' }));
    const labels = within(mine.getByTestId('message-actions')).getAllByRole('button').map((b) => b.getAttribute('aria-label'));
    expect(labels).toEqual(['Reply', 'Add a reaction', 'Edit', 'Delete for everyone']);
    await fireEvent.click(mine.getByTestId('action-edit'));
    expect(mine.a.edit).toHaveBeenCalledOnce();
    await fireEvent.click(mine.getByTestId('action-delete'));
    expect(mine.a.deleteForEveryone).toHaveBeenCalledOnce();
  });

  it('our file message offers no Edit (R-RICH-8: an edit would change or drop the file); Delete for everyone stays, and holds the Tab stop when focused', async () => {
    const file = show(message(4, { id: mimiId(4), sender: ME, status: 'sent', text: 'plans.pdf', attachment: { name: 'plans.pdf', type: 'application/pdf', size: 2048, saved: true } }));
    const bar = file.getByTestId('message-actions');
    expect(within(bar).getAllByRole('button').map((b) => b.getAttribute('aria-label'))).toEqual(['Reply', 'Add a reaction', 'Delete for everyone']);
    expect(file.queryByTestId('action-edit')).toBeNull();
    const del = file.getByTestId('action-delete');
    del.focus();
    await tick();
    expect(del.getAttribute('tabindex')).toBe('0');
    await fireEvent.click(del);
    expect(file.a.deleteForEveryone).toHaveBeenCalledOnce();
  });

  it('is one Tab stop: arrow keys, Home and End move between the actions, and the last one focused keeps the stop', async () => {
    const { getByTestId } = show(message(2, { id: mimiId(2), sender: ME, status: 'sent' }));
    const [reply, react, edit, del] = ['action-reply', 'action-react', 'action-edit', 'action-delete'].map((id) => getByTestId(id));
    const stops = (): (string | null)[] => [reply, react, edit, del].map((b) => b!.getAttribute('tabindex'));
    expect(stops()).toEqual(['0', '-1', '-1', '-1']);
    reply!.focus();
    await fireEvent.keyDown(reply!, { key: 'ArrowRight' });
    expect(document.activeElement).toBe(react);
    await fireEvent.keyDown(react!, { key: 'End' });
    expect(document.activeElement).toBe(del);
    await fireEvent.keyDown(del!, { key: 'ArrowRight' });
    expect(document.activeElement).toBe(reply);
    await fireEvent.keyDown(reply!, { key: 'ArrowLeft' });
    expect(document.activeElement).toBe(del);
    await fireEvent.keyDown(del!, { key: 'Home' });
    expect(document.activeElement).toBe(reply);
    edit!.focus();
    await tick();
    expect(stops()).toEqual(['-1', '-1', '0', '-1']);
  });

  it('offers nothing on a message from before MIMI content, one still sending or failed, a system line, or without actions', () => {
    for (const m of [
      message(1, { id: 'legacy-1234', sender: ME }),
      message(2, { id: mimiId(2), sender: ME, status: 'sending' }),
      message(3, { id: mimiId(3), sender: ME, status: 'failed' }),
      message(4, { id: mimiId(4), kind: 'system', text: 'Bo joined' }),
    ]) {
      const r = show(m);
      expect(r.queryByTestId('message-actions')).toBeNull();
      r.unmount();
    }
    const bare = show(message(5, { id: mimiId(5) }), null);
    expect(bare.queryByTestId('message-actions')).toBeNull();
  });

  it('the picker reacts with a common emoji, and takes ours back when we already gave it', async () => {
    const m = message(1, { id: mimiId(1), sender: BO, reactions: [{ emoji: '❤️', count: 1, people: ['You'], mine: true }] });
    const { getByTestId, queryByTestId, getAllByTestId, a } = show(m);
    await fireEvent.click(getByTestId('action-react'));
    expect(getByTestId('action-react').getAttribute('aria-expanded')).toBe('true');
    const picks = getAllByTestId('pick-emoji');
    expect(picks.map((p) => p.dataset.emoji)).toEqual(['👍', '❤️', '😂', '😮', '😢', '🙏']);
    expect(picks[0]!.getAttribute('aria-label')).toBe('React with 👍');
    await tick();
    await tick();
    expect(document.activeElement).toBe(picks[0]);
    await fireEvent.click(picks[2]!);
    expect(a.react).toHaveBeenCalledWith(m, '😂');
    expect(queryByTestId('reaction-picker')).toBeNull();

    await fireEvent.click(getByTestId('action-react'));
    await fireEvent.click(getAllByTestId('pick-emoji')[1]!);
    expect(a.unreact).toHaveBeenCalledWith(m, '❤️');
  });

  it('the picker takes any one emoji typed, refuses anything else, and Escape closes it back to its button', async () => {
    const m = message(1, { id: mimiId(1), sender: BO });
    const { getByTestId, queryByTestId, a } = show(m);
    await fireEvent.click(getByTestId('action-react'));
    const field = getByTestId('any-emoji') as HTMLInputElement;
    expect(field.labels?.[0]?.textContent).toBe('Any emoji');

    for (const bad of ['ok', '👍👍', 'a👍', '']) {
      field.value = bad;
      await fireEvent.input(field);
      await fireEvent.click(getByTestId('any-emoji-add'));
      expect(getByTestId('any-emoji-error').textContent).toBe('Type one emoji.');
      expect(field.getAttribute('aria-invalid')).toBe('true');
    }
    expect(a.react).not.toHaveBeenCalled();

    field.value = '👨‍👩‍👧';
    await fireEvent.input(field);
    expect(queryByTestId('any-emoji-error')).toBeNull();
    await fireEvent.click(getByTestId('any-emoji-add'));
    expect(a.react).toHaveBeenCalledWith(m, '👨‍👩‍👧');

    await fireEvent.click(getByTestId('action-react'));
    await fireEvent.keyDown(getByTestId('reaction-picker'), { key: 'Escape' });
    expect(queryByTestId('reaction-picker')).toBeNull();
    expect(document.activeElement).toBe(getByTestId('action-react'));
  });
});
