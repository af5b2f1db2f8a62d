/**
 * Rich messages in an open conversation (issue #20), against a scripted
 * background: each action sends its request (reply, react, unreact, edit,
 * delete for everyone after confirming, the timer), the earlier versions
 * show, a quote scrolls to its original, reading older pages back to it, and
 * a reply's quote follows its original when that is edited or deleted.
 */
import { describe, expect, it } from 'vitest';
import { fireEvent, render, waitFor, within } from '@testing-library/svelte';
import App from '@/entrypoints/sidepanel/App.svelte';
import type { ConversationSummary, MessageView } from '@/lib/protocol/channel.ts';
import { conversation, message } from './support/fixtures.ts';
import { fakeView } from './support/fake-background.ts';
import './support/loaded-views.ts';

const ME = { memberId: 'me', displayName: 'Ana', self: true } as const;
const BO = { memberId: 'bo', displayName: 'Bo', self: false } as const;

function mimiId(n: number): string {
  return `${'A'.repeat(37)}${String(n).padStart(6, '0')}`;
}

function msg(seq: number, over: Partial<MessageView> = {}): MessageView {
  return message(seq, { id: mimiId(seq), sender: seq % 2 === 0 ? ME : BO, status: seq % 2 === 0 ? 'sent' : 'received', ...over });
}

/** A conversation whose history is `history` (oldest first), paged by the fake background as the real one does. */
async function open(history: MessageView[], summary: Partial<ConversationSummary> = {}) {
  const { bg, view } = fakeView({ conversations: [conversation(summary)] });
  view.connect();
  bg.on('messages.page', ({ beforeSeq, limit }) => {
    const older = history.filter((m) => beforeSeq === null || m.seq < beforeSeq);
    const page = older.slice(-limit);
    return page.length < older.length ? { messages: page, nextBeforeSeq: page[0]!.seq } : { messages: page };
  });
  bg.on('conversation.markRead', () => null);
  const r = render(App, { view });
  await fireEvent.click(r.getByTestId('conversation-item'));
  await waitFor(() => expect(r.getAllByTestId('message').length).toBeGreaterThan(0));
  return { ...r, bg, view };
}

function row(container: HTMLElement, id: string): HTMLElement {
  const el = [...container.querySelectorAll<HTMLElement>('[data-testid="message"]')].find((m) => m.dataset.messageId === id);
  if (el === undefined) throw new Error(`message ${id} is not rendered`);
  return el;
}

describe('rich messages in a conversation', () => {
  it('Reply: the composer says to whom, Enter sends message.reply, and the reply joins the list', async () => {
    const history = [msg(1, { text: 'Lunch at noon?' }), msg(2)];
    const { bg, container, getByTestId } = await open(history);
    bg.on('message.reply', ({ text, messageId }) =>
      msg(3, { text, sender: ME, status: 'sending', quote: { messageId, seq: 1, senderName: 'Bo', text: 'Lunch at noon?' } }),
    );
    await fireEvent.click(within(row(container, mimiId(1))).getByTestId('action-reply'));
    expect(getByTestId('composer-context-title').textContent).toBe('Replying to Bo');
    expect(getByTestId('composer-context-preview').textContent).toBe('Lunch at noon?');
    const field = getByTestId('composer') as HTMLTextAreaElement;
    await waitFor(() => expect(document.activeElement).toBe(field));
    field.value = 'Yes!';
    await fireEvent.input(field);
    await fireEvent.keyDown(field, { key: 'Enter' });
    await waitFor(() => expect(bg.callsOf('message.reply')).toEqual([{ conversationId: 'c1', messageId: mimiId(1), text: 'Yes!' }]));
    await waitFor(() => expect(within(row(container, mimiId(3))).getByTestId('quote-text').textContent).toBe('Lunch at noon?'));
    expect(bg.callsOf('message.send')).toEqual([]);
  });

  it('React and unreact send their requests; a changed message pushed on the live port shows its chips', async () => {
    const { bg, container, getAllByTestId } = await open([msg(1)]);
    bg.on('message.react', () => null);
    bg.on('message.unreact', () => null);
    await fireEvent.click(within(row(container, mimiId(1))).getByTestId('action-react'));
    await fireEvent.click(getAllByTestId('pick-emoji')[0]!);
    expect(bg.callsOf('message.react')).toEqual([{ conversationId: 'c1', messageId: mimiId(1), emoji: '👍' }]);

    bg.emit({ type: 'messages', conversationId: 'c1', messages: [msg(1, { reactions: [{ emoji: '👍', count: 1, people: ['You'], mine: true }] })] });
    const chip = await waitFor(() => within(row(container, mimiId(1))).getByTestId('reaction'));
    await fireEvent.click(chip);
    expect(bg.callsOf('message.unreact')).toEqual([{ conversationId: 'c1', messageId: mimiId(1), emoji: '👍' }]);
  });

  it('Edit: the composer takes the text, Enter sends message.edit; "edited" opens the earlier versions', async () => {
    const { bg, container, getByTestId, findByTestId, queryByTestId } = await open([msg(2, { text: 'See you at 12' })]);
    bg.on('message.edit', () => null);
    await fireEvent.click(within(row(container, mimiId(2))).getByTestId('action-edit'));
    const field = getByTestId('composer') as HTMLTextAreaElement;
    await waitFor(() => expect(field.value).toBe('See you at 12'));
    field.value = 'See you at 1';
    await fireEvent.input(field);
    await fireEvent.keyDown(field, { key: 'Enter' });
    await waitFor(() => expect(bg.callsOf('message.edit')).toEqual([{ conversationId: 'c1', messageId: mimiId(2), text: 'See you at 1' }]));
    await waitFor(() => expect(queryByTestId('composer-context')).toBeNull());
    expect(field.value).toBe('');

    bg.emit({ type: 'messages', conversationId: 'c1', messages: [msg(2, { text: 'See you at 1', edited: true, versions: [{ text: 'See you at 12', at: 1_700_000_000_000 }] })] });
    await fireEvent.click(await waitFor(() => within(row(container, mimiId(2))).getByTestId('edited')));
    const dialog = await findByTestId('versions-dialog');
    expect(within(dialog).getAllByTestId('version-text').map((v) => v.textContent)).toEqual(['See you at 12']);
    expect(within(dialog).getByTestId('version-now').textContent).toContain('See you at 1');
    await fireEvent.keyDown(window, { key: 'Escape' });
    await waitFor(() => expect(queryByTestId('versions-dialog')).toBeNull());
  });

  it('Delete for everyone asks first: Cancel sends nothing, Delete sends message.deleteForEveryone', async () => {
    const { bg, container, findByTestId, queryByTestId } = await open([msg(2, { text: 'oops' })]);
    bg.on('message.deleteForEveryone', () => null);
    await fireEvent.click(within(row(container, mimiId(2))).getByTestId('action-delete'));
    let dialog = await findByTestId('confirm-dialog');
    expect(dialog.textContent).toContain('Delete for everyone?');
    await fireEvent.click(within(dialog).getByText('Cancel'));
    await waitFor(() => expect(queryByTestId('confirm-dialog')).toBeNull());
    expect(bg.callsOf('message.deleteForEveryone')).toEqual([]);

    await fireEvent.click(within(row(container, mimiId(2))).getByTestId('action-delete'));
    dialog = await findByTestId('confirm-dialog');
    await fireEvent.click(within(dialog).getByTestId('confirm'));
    await waitFor(() => expect(bg.callsOf('message.deleteForEveryone')).toEqual([{ conversationId: 'c1', messageId: mimiId(2) }]));
    await waitFor(() => expect(queryByTestId('confirm-dialog')).toBeNull());
  });

  it('a message deleted for everyone leaves nothing behind in the screen reader’s announcement', async () => {
    const { bg, getByTestId } = await open([msg(2)]);
    bg.emit({ type: 'messages', conversationId: 'c1', messages: [msg(3, { text: 'my PIN is 4321' })] });
    await waitFor(() => expect(getByTestId('message-announcer').textContent).toContain('my PIN is 4321'));
    bg.emit({ type: 'messages', conversationId: 'c1', messages: [msg(3, { text: 'Message deleted', deleted: true })] });
    await waitFor(() => expect(getByTestId('message-announcer').textContent).toBe(''));
  });

  it('a reply’s quote follows its original when it is edited, then deleted', async () => {
    const quote = { messageId: mimiId(1), seq: 1, senderName: 'Bo', text: 'Lunch at noon?' };
    const { bg, container } = await open([msg(1, { text: 'Lunch at noon?' }), msg(2, { text: 'Yes', quote })]);
    const quoteOf2 = (): HTMLElement => within(row(container, mimiId(2))).getByTestId('quote');
    expect(quoteOf2().textContent).toContain('Lunch at noon?');
    bg.emit({ type: 'messages', conversationId: 'c1', messages: [msg(1, { text: 'Lunch at one?', edited: true, versions: [{ text: 'Lunch at noon?', at: 1 }] })] });
    await waitFor(() => expect(within(quoteOf2()).getByTestId('quote-text').textContent).toBe('Lunch at one?'));
    bg.emit({ type: 'messages', conversationId: 'c1', messages: [msg(1, { text: 'Message deleted', deleted: true })] });
    await waitFor(() => expect(quoteOf2().dataset.state).toBe('deleted'));
  });

  it('pressing a quote whose original is far back reads older pages to it, scrolls there, marks it and focuses it', async () => {
    const history = Array.from({ length: 450 }, (_, i) => msg(i + 1));
    history.push(msg(451, { text: 'Replying to the very first', quote: { messageId: mimiId(1), seq: 1, senderName: 'Bo', text: history[0]!.text } }));
    const { bg, container } = await open(history);
    const pagesBefore = bg.callsOf('messages.page').length;
    await fireEvent.click(within(row(container, mimiId(451))).getByTestId('quote'));
    await waitFor(() => expect(row(container, mimiId(1)).dataset.highlighted).toBe('true'), { timeout: 5000 });
    // 100 newest first, then pages of 200 back to seq 1.
    expect(bg.callsOf('messages.page').length - pagesBefore).toBeGreaterThanOrEqual(2);
    expect(document.activeElement).toBe(row(container, mimiId(1)));
  });

  it('a quote whose original cannot be found says so', async () => {
    const { container, findByTestId } = await open([msg(5, { text: 'hm', quote: { messageId: mimiId(1), seq: 1, senderName: 'Bo', text: 'gone' } })]);
    await fireEvent.click(within(row(container, mimiId(5))).getByTestId('quote'));
    expect((await findByTestId('quote-error')).textContent).toBe('The original message could not be found.');
  });

  it('the header shows the timer; its menu sets it with conversation.setTimer', async () => {
    const { bg, getByTestId, findByTestId, queryByTestId, view } = await open([msg(1)]);
    bg.on('conversation.setTimer', () => null);
    const button = getByTestId('timer-button');
    expect(button.dataset.seconds).toBe('0');
    expect(button.getAttribute('aria-label')).toBe('Disappearing messages: off');
    expect(queryByTestId('timer-label')).toBeNull();

    await fireEvent.click(button);
    const menu = await findByTestId('timer-menu');
    const items = within(menu).getAllByRole('menuitemradio');
    expect(items.map((i) => [i.textContent?.trim(), i.getAttribute('aria-checked')])).toEqual([
      ['✓Off', 'true'],
      ['5 minutes', 'false'],
      ['1 hour', 'false'],
      ['1 day', 'false'],
      ['1 week', 'false'],
    ]);
    await waitFor(() => expect(document.activeElement).toBe(items[0]));
    await fireEvent.keyDown(menu, { key: 'ArrowDown' });
    expect(document.activeElement).toBe(items[1]);
    await fireEvent.click(items[1]!);
    await waitFor(() => expect(bg.callsOf('conversation.setTimer')).toEqual([{ conversationId: 'c1', seconds: 300 }]));
    expect(queryByTestId('timer-menu')).toBeNull();

    // The background's new state: every member's header shows it.
    view.app = { ...view.app!, conversations: [conversation({ disappearAfter: 300 })] };
    await waitFor(() => expect(getByTestId('timer-button').dataset.seconds).toBe('300'));
    expect(getByTestId('timer-label').textContent).toBe('5 min');
    expect(getByTestId('timer-button').title).toBe('Disappearing messages: after 5 minutes');

    await fireEvent.click(getByTestId('timer-button'));
    await fireEvent.keyDown(await findByTestId('timer-menu'), { key: 'Escape' });
    await waitFor(() => expect(queryByTestId('timer-menu')).toBeNull());
    expect(document.activeElement).toBe(getByTestId('timer-button'));
  });

  it('a conversation one has left offers no actions and no timer', async () => {
    const { container, queryByTestId } = await open([msg(1)], { status: 'left' });
    expect(within(row(container, mimiId(1))).queryByTestId('message-actions')).toBeNull();
    expect(queryByTestId('timer-button')).toBeNull();
  });
});
