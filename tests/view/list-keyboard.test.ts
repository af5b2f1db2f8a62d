/**
 * The conversation list without a mouse (issue 21): arrow keys, Home and End
 * move between conversations; ArrowDown from the search field reaches the
 * first one shown; the row menus keep their own arrow keys.
 */
import { describe, expect, it } from 'vitest';
import { fireEvent, render, waitFor } from '@testing-library/svelte';
import App from '@/entrypoints/sidepanel/App.svelte';
import { conversation } from './support/fixtures.ts';
import { fakeView } from './support/fake-background.ts';

function three() {
  return [
    conversation({ id: 'c1', name: 'Team', lastActivity: 5_000 }),
    conversation({ id: 'c2', name: 'Book club', lastActivity: 4_000 }),
    conversation({ id: 'c3', name: 'Weekend trip', lastActivity: 3_000 }),
  ];
}

const focusedName = (): string | undefined => (document.activeElement as HTMLElement | null)?.dataset.name;

describe('conversation list: keyboard', () => {
  it('ArrowDown and ArrowUp move between conversations and stop at the ends; Home and End jump', async () => {
    const { view } = fakeView({ conversations: three() });
    const r = render(App, { view });
    const items = r.getAllByTestId('conversation-item');
    items[0]!.focus();

    await fireEvent.keyDown(document.activeElement!, { key: 'ArrowDown' });
    expect(focusedName()).toBe('Book club');
    await fireEvent.keyDown(document.activeElement!, { key: 'ArrowDown' });
    expect(focusedName()).toBe('Weekend trip');
    await fireEvent.keyDown(document.activeElement!, { key: 'ArrowDown' });
    expect(focusedName()).toBe('Weekend trip');
    await fireEvent.keyDown(document.activeElement!, { key: 'ArrowUp' });
    expect(focusedName()).toBe('Book club');
    await fireEvent.keyDown(document.activeElement!, { key: 'Home' });
    expect(focusedName()).toBe('Team');
    await fireEvent.keyDown(document.activeElement!, { key: 'ArrowUp' });
    expect(focusedName()).toBe('Team');
    await fireEvent.keyDown(document.activeElement!, { key: 'End' });
    expect(focusedName()).toBe('Weekend trip');
  });

  it('ArrowDown in the search field goes to the first conversation that matches', async () => {
    const { view } = fakeView({ conversations: three() });
    const r = render(App, { view });
    const search = r.getByTestId('conversation-search') as HTMLInputElement;
    search.focus();
    await fireEvent.input(search, { target: { value: 'e' } });
    await fireEvent.keyDown(search, { key: 'ArrowDown' });
    expect(focusedName()).toBe('Team');
    await fireEvent.input(search, { target: { value: 'week' } });
    search.focus();
    await fireEvent.keyDown(search, { key: 'ArrowDown' });
    expect(focusedName()).toBe('Weekend trip');
  });

  it('a row menu keeps its arrows: ArrowDown on it opens the menu, not the next conversation', async () => {
    const { view } = fakeView({ conversations: three() });
    const r = render(App, { view });
    const menu = r.getAllByTestId('conversation-menu')[0]!;
    menu.focus();
    await fireEvent.keyDown(menu, { key: 'ArrowDown' });
    expect(r.getByRole('menu')).toBeTruthy();
    expect(document.activeElement?.getAttribute('data-testid')).not.toBe('conversation-item');
  });

  it('back from a conversation, focus returns to that conversation’s row (not the first)', async () => {
    const { bg, view } = fakeView({ conversations: three() });
    bg.on('messages.page', () => ({ messages: [] }));
    bg.on('conversation.markRead', () => null);
    const r = render(App, { view });
    const third = r.getAllByTestId('conversation-item')[2]!;
    third.focus();
    await fireEvent.click(third);
    await r.findByTestId('conversation');
    await fireEvent.click(r.getByTestId('back'));
    await waitFor(() => expect(focusedName()).toBe('Weekend trip'));
  });

  it('other keys are left alone: not prevented, focus stays', async () => {
    const { view } = fakeView({ conversations: three() });
    const r = render(App, { view });
    const second = r.getAllByTestId('conversation-item')[1]!;
    second.focus();
    const ev = new KeyboardEvent('keydown', { key: 'a', bubbles: true, cancelable: true });
    second.dispatchEvent(ev);
    expect(ev.defaultPrevented).toBe(false);
    expect(focusedName()).toBe('Book club');
  });
});
