import { describe, expect, it } from 'vitest';
import { fireEvent, render, waitFor } from '@testing-library/svelte';
import { tick } from 'svelte';
import App from '@/entrypoints/sidepanel/App.svelte';
import type { ConversationSummary } from '@/lib/protocol/channel.ts';
import type { ViewState } from '@/lib/view/view-state.svelte.ts';
import { conversation } from './support/fixtures.ts';
import { fakeView, type FakeBackground } from './support/fake-background.ts';

function several(): ConversationSummary[] {
  return [
    conversation({ id: 'c1', name: 'Team', lastActivity: 5_000 }),
    conversation({ id: 'c2', name: 'Zoë’s birthday', lastActivity: 4_000 }),
    conversation({ id: 'c3', name: 'Weekend trip', lastActivity: 3_000 }),
    conversation({ id: 'c4', name: 'Taxes', lastActivity: 2_000, archived: true }),
  ];
}

/** The background's answer to pin and archive: the summary changes, as a state push would. */
function placing(bg: FakeBackground, view: ViewState): void {
  const patch = (id: string, change: Partial<ConversationSummary>): void => {
    view.app = { ...view.app!, conversations: view.app!.conversations.map((c) => (c.id === id ? { ...c, ...change } : c)) };
  };
  bg.on('conversation.setPinned', ({ conversationId, pinned }) => (patch(conversationId, { pinnedAt: pinned ? Date.now() : undefined }), null));
  bg.on('conversation.setArchived', ({ conversationId, archived }) => (patch(conversationId, { archived: archived ? true : undefined }), null));
}

const names = (root: { getAllByTestId: (id: string) => HTMLElement[] }): string[] => root.getAllByTestId('conversation-item').map((i) => i.dataset.name!);

describe('conversation list: search', () => {
  it('filters by name as you type (accents and case ignored), finds archived ones, clears', async () => {
    const { view } = fakeView({ conversations: several() });
    const r = render(App, { view });
    expect(names(r)).toEqual(['Team', 'Zoë’s birthday', 'Weekend trip']);
    const search = r.getByTestId('conversation-search') as HTMLInputElement;
    expect(search.getAttribute('aria-label')).toBe('Search conversations by name');

    await fireEvent.input(search, { target: { value: 'zoe' } });
    expect(names(r)).toEqual(['Zoë’s birthday']);
    await fireEvent.input(search, { target: { value: 'ta' } });
    expect(names(r)).toEqual(['Taxes']);
    expect(r.getByTestId('archived-tag').textContent).toBe('Archived');
    expect(r.getByTestId('conversation-list').dataset.view).toBe('search');
    expect(r.queryByTestId('archived-open')).toBeNull();

    await fireEvent.click(r.getByTestId('search-clear'));
    expect(search.value).toBe('');
    expect(document.activeElement).toBe(search);
    expect(names(r)).toEqual(['Team', 'Zoë’s birthday', 'Weekend trip']);
    expect(r.queryByTestId('search-clear')).toBeNull();
  });

  it('says when nothing matches; Escape clears the search', async () => {
    const { view } = fakeView({ conversations: several() });
    const r = render(App, { view });
    const search = r.getByTestId('conversation-search') as HTMLInputElement;
    await fireEvent.input(search, { target: { value: 'holiday' } });
    expect(r.queryByTestId('conversation-list')).toBeNull();
    expect(r.getByTestId('search-empty').textContent!.trim()).toBe('No conversations match “holiday”.');
    await fireEvent.keyDown(search, { key: 'Escape' });
    expect(search.value).toBe('');
    expect(names(r)).toHaveLength(3);
  });
});

describe('conversation list: pin and archive from the row menu', () => {
  it('pins: the conversation moves to the top and stays there when others get newer', async () => {
    const { bg, view } = fakeView({ conversations: several() });
    placing(bg, view);
    const r = render(App, { view });
    const menus = r.getAllByTestId('conversation-menu');
    expect(menus[2]!.getAttribute('aria-label')).toBe('Options for Weekend trip');
    await fireEvent.click(menus[2]!);
    await fireEvent.click(r.getByTestId('menu-pin'));
    expect(bg.callsOf('conversation.setPinned')).toEqual([{ conversationId: 'c3', pinned: true }]);
    await tick();
    expect(names(r)).toEqual(['Weekend trip', 'Team', 'Zoë’s birthday']);
    expect(r.getByTestId('pinned-tag').textContent).toBe('Pinned');
    expect(r.getByTestId('list-notice').textContent).toBe('Pinned “Weekend trip”.');

    // New activity elsewhere does not move the pinned one.
    view.app = { ...view.app!, conversations: view.app!.conversations.map((c) => (c.id === 'c2' ? { ...c, lastActivity: 9_000 } : c)) };
    await tick();
    expect(names(r)).toEqual(['Weekend trip', 'Zoë’s birthday', 'Team']);

    await fireEvent.click(r.getAllByTestId('conversation-menu')[0]!);
    await fireEvent.click(r.getByTestId('menu-unpin'));
    await tick();
    expect(names(r)).toEqual(['Zoë’s birthday', 'Team', 'Weekend trip']);
  });

  it('archives: the row leaves the main list, "Archived (n)" shows it, and it can come back', async () => {
    const { bg, view } = fakeView({ conversations: several() });
    placing(bg, view);
    const r = render(App, { view });
    expect(r.getByTestId('archived-open').textContent).toBe('Archived (1)');
    await fireEvent.click(r.getAllByTestId('conversation-menu')[0]!);
    await fireEvent.click(r.getByTestId('menu-archive'));
    await tick();
    expect(bg.callsOf('conversation.setArchived')).toEqual([{ conversationId: 'c1', archived: true }]);
    expect(names(r)).toEqual(['Zoë’s birthday', 'Weekend trip']);
    expect(r.getByTestId('archived-open').textContent).toBe('Archived (2)');
    await waitFor(() => expect(document.activeElement?.id).toBe('conversations-title'));

    await fireEvent.click(r.getByTestId('archived-open'));
    expect(r.getByTestId('conversation-list').dataset.view).toBe('archived');
    expect(r.getByRole('heading', { level: 2 }).textContent).toBe('Archived conversations');
    expect(names(r)).toEqual(['Team', 'Taxes']);
    await fireEvent.click(r.getAllByTestId('conversation-menu')[1]!);
    await fireEvent.click(r.getByTestId('menu-unarchive'));
    await tick();
    expect(names(r)).toEqual(['Team']);
    await fireEvent.click(r.getByTestId('archived-back'));
    expect(names(r)).toEqual(['Zoë’s birthday', 'Weekend trip', 'Taxes']);
  });

  it('the archive view closes by itself when nothing is left in it', async () => {
    const { bg, view } = fakeView({ conversations: several() });
    placing(bg, view);
    const r = render(App, { view });
    await fireEvent.click(r.getByTestId('archived-open'));
    await fireEvent.click(r.getByTestId('conversation-menu'));
    await fireEvent.click(r.getByTestId('menu-unarchive'));
    await tick();
    expect(r.getByTestId('conversation-list').dataset.view).toBe('main');
    expect(r.queryByTestId('archived-open')).toBeNull();
  });

  it('the row menu works from the keyboard: arrows move, Enter picks, Escape closes back to its button', async () => {
    const { bg, view } = fakeView({ conversations: several() });
    placing(bg, view);
    const r = render(App, { view });
    const trigger = r.getAllByTestId('conversation-menu')[1]!;
    expect(trigger.getAttribute('aria-haspopup')).toBe('menu');
    trigger.focus();
    await fireEvent.keyDown(trigger, { key: 'ArrowDown' });
    await waitFor(() => expect(document.activeElement).toBe(r.getByTestId('menu-pin')));
    expect(trigger.getAttribute('aria-expanded')).toBe('true');
    await fireEvent.keyDown(document.activeElement!, { key: 'ArrowDown' });
    expect(document.activeElement).toBe(r.getByTestId('menu-archive'));
    await fireEvent.keyDown(document.activeElement!, { key: 'ArrowDown' });
    expect(document.activeElement).toBe(r.getByTestId('menu-pin'));
    await fireEvent.keyDown(document.activeElement!, { key: 'Escape' });
    expect(r.queryByRole('menu')).toBeNull();
    expect(document.activeElement).toBe(trigger);

    await fireEvent.keyDown(trigger, { key: 'ArrowUp' });
    await waitFor(() => expect(document.activeElement).toBe(r.getByTestId('menu-archive')));
    await fireEvent.click(document.activeElement!); // Enter on a button is a click
    expect(bg.callsOf('conversation.setArchived')).toEqual([{ conversationId: 'c2', archived: true }]);
  });

  it('shows the background’s refusal', async () => {
    const { bg, view } = fakeView({ conversations: several() });
    bg.on('conversation.setPinned', () => {
      throw new Error('That conversation does not exist.');
    });
    const r = render(App, { view });
    await fireEvent.click(r.getAllByTestId('conversation-menu')[0]!);
    await fireEvent.click(r.getByTestId('menu-pin'));
    expect((await r.findByTestId('list-error')).textContent).toContain('does not exist');
  });
});

describe('conversation list: the "+" menu', () => {
  it('create and join sit behind "+", one form at a time, with Cancel', async () => {
    const { view } = fakeView({ conversations: several() });
    const r = render(App, { view });
    expect(r.queryByTestId('new-conversation-name')).toBeNull();
    expect(r.queryByTestId('join-link-input')).toBeNull();
    const plus = r.getByTestId('new-menu');
    expect(plus.getAttribute('aria-label')).toBe('Start or join a conversation');
    await fireEvent.click(plus);
    expect(r.getAllByRole('menuitem').map((i) => i.textContent)).toEqual(['New conversation', 'Join with an invite code']);
    await fireEvent.click(r.getByTestId('new-menu-create'));
    await waitFor(() => expect(document.activeElement).toBe(r.getByTestId('new-conversation-name')));
    expect(r.queryByRole('menu')).toBeNull();

    await fireEvent.click(r.getByTestId('new-menu'));
    await fireEvent.click(r.getByTestId('new-menu-join'));
    expect(r.queryByTestId('new-conversation-name')).toBeNull();
    await waitFor(() => expect(document.activeElement).toBe(r.getByTestId('join-link-input')));
    await fireEvent.click(r.getByTestId('form-cancel'));
    expect(r.queryByTestId('join-link-input')).toBeNull();
  });

  it('a click outside closes the menu', async () => {
    const { view } = fakeView({ conversations: several() });
    const r = render(App, { view });
    await fireEvent.click(r.getByTestId('new-menu'));
    expect(r.getByRole('menu')).toBeTruthy();
    await fireEvent.pointerDown(r.getByTestId('conversation-search'));
    expect(r.queryByRole('menu')).toBeNull();
  });

  it('an empty list offers both directly', async () => {
    const { view } = fakeView();
    const r = render(App, { view });
    expect(r.queryByTestId('conversation-search')).toBeNull();
    await fireEvent.click(r.getByTestId('empty-join'));
    expect(r.getByTestId('join-link-input')).toBeTruthy();
  });
});
