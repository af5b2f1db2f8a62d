/**
 * Notifications in the views (issue 17, item 5): the privacy choice in
 * settings, and what the side panel tells the background (the conversation it
 * shows and whether it is visible) and does when a notification is clicked.
 */
import { describe, expect, it } from 'vitest';
import { fireEvent, render, waitFor } from '@testing-library/svelte';
import SidePanel from '@/entrypoints/sidepanel/App.svelte';
import { appState, conversation } from './support/fixtures.ts';
import { fakeView } from './support/fake-background.ts';

describe('notification privacy setting', () => {
  it('offers name and message, name only (the default) and nothing, and saves the choice', async () => {
    const { bg, view } = fakeView();
    bg.on('settings.setNotificationContent', ({ content }) => {
      const next = appState({ settings: { notifications: true, lockTimeout: 'browser', notificationContent: content, readReceipts: true } });
      view.app = next;
      return next;
    });
    const { getByTestId, findByTestId } = render(SidePanel, { view });
    await fireEvent.click(getByTestId('settings-button'));
    const group = await findByTestId('notification-content');
    expect(group.querySelector('legend')?.textContent).toBe('What notifications show');
    const labels = [...group.querySelectorAll('label')].map((l) => l.textContent?.replace(/\s+/g, ' ').trim());
    expect(labels[0]).toMatch(/^Conversation name and message/);
    expect(labels[1]).toMatch(/^Conversation name only/);
    expect(labels[2]).toMatch(/^Nothing/);
    expect((getByTestId('notification-content-name') as HTMLInputElement).checked).toBe(true);
    await fireEvent.click(getByTestId('notification-content-none'));
    await waitFor(() => expect(bg.callsOf('settings.setNotificationContent')).toEqual([{ content: 'none' }]));
    await waitFor(() => expect((getByTestId('notification-content-none') as HTMLInputElement).checked).toBe(true));
    expect(group.dataset.content).toBe('none');
  });

  it('is disabled while notifications are off', async () => {
    const { view } = fakeView({ settings: { notifications: false, lockTimeout: 'browser', notificationContent: 'full', readReceipts: true } });
    const { getByTestId, findByTestId } = render(SidePanel, { view });
    await fireEvent.click(getByTestId('settings-button'));
    expect((await findByTestId('notification-content')).hasAttribute('disabled')).toBe(true);
  });
});

describe('side panel presence', () => {
  it('tells the background which conversation it shows, and when the page hides', async () => {
    const { bg, view } = fakeView({ conversations: [conversation({ id: 'c1', name: 'Family' })] });
    bg.on('messages.page', () => ({ messages: [] }));
    const { findByText, findByTestId, getByTestId } = render(SidePanel, { view });
    await waitFor(() => expect(bg.presences.at(-1)).toEqual({ type: 'presence', conversationId: null, visible: true }));
    await fireEvent.click(await findByText('Family'));
    await findByTestId('conversation');
    await waitFor(() => expect(bg.presences.at(-1)).toEqual({ type: 'presence', conversationId: 'c1', visible: true }));
    Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
    document.dispatchEvent(new Event('visibilitychange'));
    await waitFor(() => expect(bg.presences.at(-1)).toEqual({ type: 'presence', conversationId: 'c1', visible: false }));
    Object.defineProperty(document, 'visibilityState', { value: 'visible', configurable: true });
    document.dispatchEvent(new Event('visibilitychange'));
    await fireEvent.click(getByTestId('back'));
    await waitFor(() => expect(bg.presences.at(-1)).toEqual({ type: 'presence', conversationId: null, visible: true }));
  });

  it('opens the conversation of a clicked notification', async () => {
    const { bg, view } = fakeView({ conversations: [conversation({ id: 'c1', name: 'Family' }), conversation({ id: 'c2', name: 'Work' })] });
    bg.on('messages.page', () => ({ messages: [] }));
    const { findByTestId } = render(SidePanel, { view });
    await findByTestId('conversation-list');
    bg.emit({ type: 'open', conversationId: 'c2' });
    expect((await findByTestId('conversation-name')).textContent).toBe('Work');
  });
});
