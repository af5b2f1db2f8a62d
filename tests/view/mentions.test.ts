/**
 * Mentions in the view (issue #20): typing "@" in the composer offers the
 * conversation's people (a listbox driven from the keyboard, clickable too),
 * a chosen one goes out with message.send as a span of the text, and a
 * received text shows its mentions marked, a mention of you more so.
 * Against a scripted background; the logic in lib/view/mention-view.ts too.
 */
import { describe, expect, it } from 'vitest';
import { fireEvent, render, waitFor, within } from '@testing-library/svelte';
import App from '@/entrypoints/sidepanel/App.svelte';
import type { ConversationDetail } from '@/lib/protocol/channel.ts';
import { mentionQuery, messageTokens, offer, spansOf } from '@/lib/view/mention-view.ts';
import { conversation, message } from './support/fixtures.ts';
import { fakeView } from './support/fake-background.ts';

const detail: ConversationDetail = {
  summary: conversation(),
  members: [
    { memberId: 'me', displayName: 'Ana', self: true, fingerprint: '1111', admin: true },
    { memberId: 'bo', displayName: 'Bo Berg', self: false, fingerprint: '4444' },
    { memberId: 'cy', displayName: 'Cy', self: false, fingerprint: '7777' },
  ],
  people: [],
  safetyCode: '12345',
  epoch: 4,
  roles: { admin: true, canRemove: true, canEnd: true, canInvite: true, canChangeRoles: true, invitePolicy: 'everyone', adminCount: 1 },
};

async function open(history = [message(1)]) {
  const { bg, view } = fakeView({ conversations: [conversation()] });
  view.connect();
  bg.on('messages.page', () => ({ messages: history }));
  bg.on('conversation.markRead', () => null);
  bg.on('conversation.get', () => detail);
  bg.on('message.send', ({ text }) => message(2, { text, status: 'sending', sender: { memberId: 'me', displayName: 'Ana', self: true } }));
  const r = render(App, { view });
  await fireEvent.click(r.getByTestId('conversation-item'));
  await waitFor(() => expect(r.getAllByTestId('message').length).toBeGreaterThan(0));
  const field = r.getByTestId('composer') as HTMLTextAreaElement;
  const type = async (value: string): Promise<void> => {
    field.value = value;
    field.setSelectionRange(value.length, value.length);
    await fireEvent.input(field);
  };
  return { ...r, bg, field, type };
}

describe('the mention picker', () => {
  it('"@" offers the other people; Down and Enter choose; the text goes out with the mention’s span', async () => {
    const r = await open();
    await r.type('Hi @');
    const picker = await r.findByTestId('mention-picker');
    const options = within(picker).getAllByTestId('mention-option');
    expect(options.map((o) => o.textContent)).toEqual(['@Bo Berg', '@Cy']);
    expect(options[0]!.getAttribute('aria-selected')).toBe('true');
    expect(r.field.getAttribute('aria-controls')).toBe(picker.id);
    expect(r.field.getAttribute('aria-activedescendant')).toBe(options[0]!.id);
    await fireEvent.keyDown(r.field, { key: 'ArrowDown' });
    expect(within(picker).getAllByTestId('mention-option')[1]!.getAttribute('aria-selected')).toBe('true');
    expect(r.field.getAttribute('aria-activedescendant')).toBe(options[1]!.id);
    await fireEvent.keyDown(r.field, { key: 'Enter' });
    expect(r.queryByTestId('mention-picker')).toBeNull();
    expect(r.field.value).toBe('Hi @Cy ');
    // Enter with the picker closed sends.
    await r.type('Hi @Cy, lunch?');
    expect(r.queryByTestId('mention-picker')).toBeNull();
    await fireEvent.keyDown(r.field, { key: 'Enter' });
    await waitFor(() => expect(r.bg.callsOf('message.send')).toEqual([{ conversationId: 'c1', text: 'Hi @Cy, lunch?', mentions: [{ memberId: 'cy', at: 3, length: 3 }] }]));
    expect(r.bg.callsOf('conversation.get')).toHaveLength(1);
  });

  it('narrows as the name is typed, a click chooses, Escape closes; a mention deleted before sending is not sent', async () => {
    const r = await open();
    await r.type('@be');
    const picker = await r.findByTestId('mention-picker');
    expect(within(picker).getAllByTestId('mention-option').map((o) => o.dataset.memberId)).toEqual(['bo']);
    await fireEvent.click(within(picker).getByTestId('mention-option'));
    expect(r.field.value).toBe('@Bo Berg ');
    await r.type('@Bo Berg @c');
    await r.findByTestId('mention-picker');
    await fireEvent.keyDown(r.field, { key: 'Escape' });
    expect(r.queryByTestId('mention-picker')).toBeNull();
    await r.type('no one after all');
    await fireEvent.keyDown(r.field, { key: 'Enter' });
    await waitFor(() => expect(r.bg.callsOf('message.send')).toEqual([{ conversationId: 'c1', text: 'no one after all' }]));
  });

  it('a received text shows its mentions marked, one of you marked as yours', async () => {
    const r = await open([message(1, { text: 'Hey @Ana and @Cy', mentions: [{ at: 4, length: 4, you: true }, { at: 13, length: 3 }], mentionsYou: true })]);
    const marks = within(r.getByTestId('message-text')).getAllByTestId('mention');
    expect(marks.map((m) => [m.textContent, m.dataset.you])).toEqual([['@Ana', 'true'], ['@Cy', 'false']]);
    expect(r.getByTestId('message-text').textContent).toBe('Hey @Ana and @Cy');
  });
});

describe('mention-view', () => {
  it('finds the "@query" before the cursor only after a space or at the start', () => {
    expect(mentionQuery('hi @bo', 6)).toEqual({ start: 3, query: 'bo' });
    expect(mentionQuery('@', 1)).toEqual({ start: 0, query: '' });
    expect(mentionQuery('mail@bo', 7)).toBeNull();
    expect(mentionQuery('hi @bo there', 12)).toBeNull();
    expect(offer([{ memberId: 'a', name: 'Anna Lee' }, { memberId: 'b', name: 'Lena' }], 'le').map((p) => p.memberId)).toEqual(['a', 'b']);
  });

  it('spans follow the text as written; hostile spans from elsewhere are ignored when shown', () => {
    expect(spansOf('@Bo and @Bo Berg', [{ memberId: 'b', name: 'Bo Berg' }, { memberId: 'o', name: 'Bo' }])).toEqual([
      { memberId: 'o', at: 0, length: 3 },
      { memberId: 'b', at: 8, length: 8 },
    ]);
    expect(spansOf('x@Bo', [{ memberId: 'o', name: 'Bo' }])).toEqual([]);
    const tokens = messageTokens('@A see https://example.com', [{ at: 0, length: 2 }, { at: 1, length: 50 }, { at: 3, length: 3 }]);
    expect(tokens.map((t) => t.kind)).toEqual(['mention', 'text', 'link']);
  });
});
