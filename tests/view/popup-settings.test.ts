import { describe, expect, it, vi } from 'vitest';
import { fireEvent, render, waitFor } from '@testing-library/svelte';
import Popup from '@/entrypoints/popup/App.svelte';
import SidePanel from '@/entrypoints/sidepanel/App.svelte';
import { takeOpenRequest } from '@/lib/view/open-request.ts';
import { appState, conversation } from './support/fixtures.ts';
import { fakeView } from './support/fake-background.ts';

describe('Popup', () => {
  it('lists conversations with unread counts and opens the side panel on the one clicked', async () => {
    const { view } = fakeView({
      conversations: [conversation({ id: 'a', name: 'Quiet', lastActivity: 1 }), conversation({ id: 'b', name: 'Busy', unread: 120, lastActivity: 9 })],
    });
    const openPanel = vi.fn(async () => undefined);
    const close = vi.spyOn(window, 'close').mockImplementation(() => undefined);
    const { getAllByTestId } = render(Popup, { view, openPanel });
    const items = getAllByTestId('popup-conversation');
    expect(items.map((i) => i.textContent?.trim().replace(/\s+/g, ' '))).toEqual(['Busy 99+, 120 unread', 'Quiet']);
    await fireEvent.click(items[0]!);
    expect(openPanel).toHaveBeenCalledOnce();
    expect(takeOpenRequest()).toBe('b');
    expect(close).toHaveBeenCalled();
    close.mockRestore();
  });

  it('says when the side panel cannot open', async () => {
    const { view } = fakeView();
    const { getByTestId, findByTestId } = render(Popup, { view, openPanel: async () => Promise.reject(new Error('no')) });
    await fireEvent.click(getByTestId('popup-open-panel'));
    expect((await findByTestId('popup-error')).textContent).toContain('Could not open the side panel');
  });

  it('points to the side panel before there is an account', () => {
    const { view } = fakeView({ account: { state: 'none' } });
    const { getByText } = render(Popup, { view, openPanel: vi.fn() });
    expect(getByText(/create your account/)).toBeTruthy();
  });
});

describe('Settings', () => {
  it('toggles notifications and shows the connection state', async () => {
    const { bg, view } = fakeView({ connection: 'connecting' });
    bg.on('settings.setNotifications', ({ enabled }) => appState({ settings: { notifications: enabled, lockTimeout: 'browser', notificationContent: 'name', readReceipts: true } }));
    const { getByTestId, findByTestId } = render(SidePanel, { view });
    expect(getByTestId('connection-status').dataset.state).toBe('connecting');
    await fireEvent.click(getByTestId('settings-button'));
    const toggle = (await findByTestId('notifications-toggle')) as HTMLInputElement;
    expect(toggle.checked).toBe(true);
    await fireEvent.click(toggle);
    await waitFor(() => expect(bg.callsOf('settings.setNotifications')).toEqual([{ enabled: false }]));
    expect(getByTestId('settings-dialog').textContent).toContain('Connecting');
  });

  it('opens a conversation the popup asked for', async () => {
    const { bg, view } = fakeView({ conversations: [conversation({ id: 'c5', name: 'From popup' })] });
    bg.on('messages.page', () => ({ messages: [] }));
    localStorage.setItem('microchat.openConversation', JSON.stringify({ conversationId: 'c5', at: Date.now() }));
    const { findByTestId } = render(SidePanel, { view });
    expect((await findByTestId('conversation-name')).textContent).toBe('From popup');
  });
});

describe('Popup and invites', () => {
  it('offers no join from the active tab: invite codes are only pasted in the panel', async () => {
    const { bg, view } = fakeView({ conversations: [] });
    const { queryByTestId, findByText } = render(Popup, { view, openPanel: vi.fn() });
    await findByText(/join with an invite code/);
    expect(queryByTestId('popup-invite')).toBeNull();
    expect(queryByTestId('popup-join')).toBeNull();
    expect(bg.callsOf('invite.join')).toEqual([]);
  });
});
