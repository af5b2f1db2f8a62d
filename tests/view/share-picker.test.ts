import { describe, expect, it } from 'vitest';
import { fireEvent, render, waitFor } from '@testing-library/svelte';
import { tick } from 'svelte';
import App from '@/entrypoints/sidepanel/App.svelte';
import type { ConversationSummary, ShareOffer } from '@/lib/protocol/channel.ts';
import type { ViewState } from '@/lib/view/view-state.svelte.ts';
import { conversation, message } from './support/fixtures.ts';
import { fakeView, type FakeBackground } from './support/fake-background.ts';

const offer: ShareOffer = {
  shareId: 'share1',
  url: 'https://docs.example.org/private/plan?key=s3cret',
  title: 'The plan',
  text: 'The plan\nhttps://docs.example.org/private/plan?key=s3cret',
  suggestedId: 'c2',
};

function convs(): ConversationSummary[] {
  return [
    conversation({ id: 'c1', name: 'Work', lastActivity: 1_000, memberCount: 4 }),
    conversation({ id: 'c2', name: 'Family', lastActivity: 5_000 }),
    conversation({ id: 'c3', name: 'Gone', status: 'removed', lastActivity: 9_000 }),
  ];
}

/** The background's answers: the offer goes away once sent or cancelled. */
function answering(bg: FakeBackground, view: ViewState): void {
  const drop = (): void => {
    const { share: _s, ...rest } = view.app!;
    view.app = rest;
  };
  bg.on('share.send', ({ conversationId }) => (drop(), message(1, { conversationId, text: offer.text, sender: { memberId: 'me', displayName: 'Ana', self: true } })));
  bg.on('share.cancel', () => (drop(), null));
  bg.on('messages.page', () => ({ messages: [] }));
  bg.on('conversation.markRead', () => null);
}

describe('share picker', () => {
  it('shows the title and URL exactly, preselects the suggested conversation, lists only ones you can post in', async () => {
    const { view } = fakeView({ conversations: convs(), share: offer });
    const r = render(App, { view });
    const picker = await r.findByTestId('share-picker');
    expect(picker.getAttribute('role')).toBe('dialog');
    expect(r.getByTestId('share-title').textContent).toBe('The plan');
    expect(r.getByTestId('share-url').textContent).toBe(offer.url);
    const choices = r.getAllByTestId('share-choice') as HTMLInputElement[];
    expect(choices.map((c) => c.dataset.name)).toEqual(['Family', 'Work']);
    expect(choices.find((c) => c.checked)?.dataset.conversationId).toBe('c2');
    expect(document.activeElement).toBe(choices[0]);
    expect(r.getByTestId('share-send').textContent!.trim()).toBe('Send to Family');
  });

  it('sends only on confirm, to the conversation chosen, then opens it', async () => {
    const { bg, view } = fakeView({ conversations: convs(), share: offer });
    answering(bg, view);
    const r = render(App, { view });
    await r.findByTestId('share-picker');
    expect(bg.callsOf('share.send')).toEqual([]);
    const work = (r.getAllByTestId('share-choice') as HTMLInputElement[]).find((c) => c.dataset.name === 'Work')!;
    await fireEvent.click(work);
    expect(r.getByTestId('share-send').textContent!.trim()).toBe('Send to Work');
    expect(bg.callsOf('share.send')).toEqual([]);
    await fireEvent.click(r.getByTestId('share-send'));
    expect(bg.callsOf('share.send')).toEqual([{ shareId: 'share1', conversationId: 'c1' }]);
    await waitFor(() => expect(r.queryByTestId('share-picker')).toBeNull());
    expect((await r.findByTestId('conversation-name')).textContent).toBe('Work');
  });

  it('Cancel, the close button and Escape send nothing', async () => {
    for (const how of ['button', 'close', 'escape'] as const) {
      const { bg, view } = fakeView({ conversations: convs(), share: offer });
      answering(bg, view);
      const r = render(App, { view });
      const picker = await r.findByTestId('share-picker');
      if (how === 'button') await fireEvent.click(r.getByTestId('share-cancel'));
      else if (how === 'close') await fireEvent.click(picker.querySelector('button.close')!);
      else await fireEvent.keyDown(window, { key: 'Escape' });
      expect(bg.callsOf('share.cancel')).toEqual([{ shareId: 'share1' }]);
      expect(bg.callsOf('share.send')).toEqual([]);
      await waitFor(() => expect(r.queryByTestId('share-picker')).toBeNull());
      r.unmount();
    }
  });

  it('a message arriving while it is open moves neither the order nor the selection', async () => {
    const { bg, view } = fakeView({ conversations: convs(), share: offer });
    answering(bg, view);
    const r = render(App, { view });
    await r.findByTestId('share-picker');
    // Work gets a new message: it is now the most recent conversation.
    view.app = { ...view.app!, conversations: view.app!.conversations.map((c) => (c.id === 'c1' ? { ...c, lastActivity: 99_000, unread: 1 } : c)) };
    await tick();
    const choices = r.getAllByTestId('share-choice') as HTMLInputElement[];
    expect(choices.map((c) => c.dataset.name)).toEqual(['Family', 'Work']);
    expect(choices.find((c) => c.checked)?.dataset.name).toBe('Family');
    await fireEvent.click(r.getByTestId('share-send'));
    expect(bg.callsOf('share.send')).toEqual([{ shareId: 'share1', conversationId: 'c2' }]);
  });

  it('no suggestion: nothing is chosen and Send waits for a choice', async () => {
    const { bg, view } = fakeView({ conversations: convs(), share: { ...offer, suggestedId: undefined } });
    answering(bg, view);
    const r = render(App, { view });
    await r.findByTestId('share-picker');
    expect((r.getAllByTestId('share-choice') as HTMLInputElement[]).some((c) => c.checked)).toBe(false);
    const send = r.getByTestId('share-send') as HTMLButtonElement;
    expect(send.disabled).toBe(true);
    expect(send.textContent!.trim()).toBe('Choose a conversation');
  });

  it('the chosen conversation ending meanwhile disables Send rather than sending elsewhere', async () => {
    const { view } = fakeView({ conversations: convs(), share: offer });
    const r = render(App, { view });
    await r.findByTestId('share-picker');
    view.app = { ...view.app!, conversations: view.app!.conversations.map((c) => (c.id === 'c2' ? { ...c, status: 'removed' } : c)) };
    await tick();
    expect((r.getAllByTestId('share-choice') as HTMLInputElement[]).map((c) => c.dataset.name)).toEqual(['Work']);
    expect((r.getByTestId('share-send') as HTMLButtonElement).disabled).toBe(true);
  });

  it('no conversation yet: says so and offers only Cancel', async () => {
    const { view } = fakeView({ conversations: [], share: { ...offer, suggestedId: undefined } });
    const r = render(App, { view });
    expect((await r.findByTestId('share-none')).textContent).toContain('There is no conversation to share into yet');
    expect(r.queryByTestId('share-send')).toBeNull();
    expect(r.getByTestId('share-cancel')).toBeTruthy();
  });

  it('shows a refused send and keeps the picker', async () => {
    const { bg, view } = fakeView({ conversations: convs(), share: offer });
    bg.on('share.send', () => {
      throw new Error('You are no longer in this conversation.');
    });
    const r = render(App, { view });
    await r.findByTestId('share-picker');
    await fireEvent.click(r.getByTestId('share-send'));
    expect((await r.findByTestId('share-error')).textContent).toContain('no longer in this conversation');
    expect(r.getByTestId('share-picker')).toBeTruthy();
  });

  it('is not shown while locked', () => {
    const { view } = fakeView({ conversations: convs(), share: offer, account: { state: 'locked', displayName: 'Ana' } });
    const r = render(App, { view });
    expect(r.queryByTestId('share-picker')).toBeNull();
  });
});
