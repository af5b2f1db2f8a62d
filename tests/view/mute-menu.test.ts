/**
 * Per-conversation mute (issue 17, item 5 and 13): the conversation header's
 * menu mutes for 1 hour, 8 hours, 1 week or until unmuted, says until when,
 * unmutes; the list row shows a muted conversation with an icon.
 */
import { describe, expect, it } from 'vitest';
import { fireEvent, render, waitFor } from '@testing-library/svelte';
import SidePanel from '@/entrypoints/sidepanel/App.svelte';
import ConversationList from '@/components/ConversationList.svelte';
import { MUTE_ALWAYS } from '@/lib/protocol/channel.ts';
import { appState, conversation } from './support/fixtures.ts';
import { fakeView } from './support/fake-background.ts';

async function openConversation(mutedUntil?: number) {
  const c = conversation({ id: 'c1', name: 'Family', ...(mutedUntil === undefined ? {} : { mutedUntil }) });
  const { bg, view } = fakeView({ conversations: [c] });
  bg.on('messages.page', () => ({ messages: [] }));
  bg.on('conversation.mute', () => null);
  const r = render(SidePanel, { view });
  await fireEvent.click(await r.findByText('Family'));
  await r.findByTestId('conversation');
  return { bg, view, ...r };
}

describe('mute menu', () => {
  it('offers 1 hour, 8 hours, 1 week and always, and sends the choice for this conversation', async () => {
    const { bg, getByTestId, findByTestId, queryByTestId } = await openConversation();
    const button = getByTestId('conversation-menu-button');
    expect(button.getAttribute('aria-label')).toBe('Conversation options');
    expect(button.getAttribute('aria-expanded')).toBe('false');
    await fireEvent.click(button);
    const menu = await findByTestId('conversation-menu');
    expect(button.getAttribute('aria-expanded')).toBe('true');
    const items = [...menu.querySelectorAll('[role="menuitem"]')].map((i) => i.textContent?.trim());
    expect(items).toEqual(['Mute for 1 hour', 'Mute for 8 hours', 'Mute for 1 week', 'Mute until I unmute it']);
    expect(getByTestId('mute-status').textContent).toBe('Notifications are on for this conversation.');
    expect(document.activeElement).toBe(getByTestId('mute-1h'));
    await fireEvent.click(getByTestId('mute-8h'));
    await waitFor(() => expect(bg.callsOf('conversation.mute')).toEqual([{ conversationId: 'c1', duration: '8h' }]));
    await waitFor(() => expect(queryByTestId('conversation-menu')).toBeNull());
    expect(document.activeElement).toBe(button);
  });

  it('a muted conversation says until when and can be unmuted', async () => {
    const until = Date.now() + 3_600_000;
    const { bg, getByTestId, findByTestId } = await openConversation(until);
    await fireEvent.click(getByTestId('conversation-menu-button'));
    await findByTestId('conversation-menu');
    expect(getByTestId('mute-status').textContent).toMatch(/^Muted until .+/);
    await fireEvent.click(getByTestId('unmute'));
    await waitFor(() => expect(bg.callsOf('conversation.mute')).toEqual([{ conversationId: 'c1', duration: 'off' }]));
  });

  it('"always" reads as muted until unmuted; Escape closes and returns focus; arrows move', async () => {
    const { getByTestId, findByTestId, queryByTestId } = await openConversation(MUTE_ALWAYS);
    const button = getByTestId('conversation-menu-button');
    await fireEvent.click(button);
    const menu = await findByTestId('conversation-menu');
    expect(getByTestId('mute-status').textContent).toBe('Muted until you unmute it');
    await fireEvent.keyDown(menu, { key: 'ArrowUp' });
    expect(document.activeElement).toBe(getByTestId('unmute'));
    await fireEvent.keyDown(menu, { key: 'ArrowDown' });
    expect(document.activeElement).toBe(getByTestId('mute-1h'));
    await fireEvent.keyDown(menu, { key: 'Escape' });
    await waitFor(() => expect(queryByTestId('conversation-menu')).toBeNull());
    expect(document.activeElement).toBe(button);
  });

  it('a failed mute is said in the menu', async () => {
    const { bg, getByTestId, findByTestId, findByRole } = await openConversation();
    bg.on('conversation.mute', () => Promise.reject(new Error('The background did not answer.')));
    await fireEvent.click(getByTestId('conversation-menu-button'));
    await findByTestId('conversation-menu');
    await fireEvent.click(getByTestId('mute-1w'));
    expect((await findByRole('alert')).textContent).toBe('The background did not answer.');
  });
});

describe('muted icon in the list', () => {
  it('shows only on muted conversations, labelled with until when', () => {
    const { view } = fakeView();
    const conversations = [
      conversation({ id: 'a', name: 'Loud', lastActivity: 3 }),
      conversation({ id: 'b', name: 'Quiet', lastActivity: 2, mutedUntil: MUTE_ALWAYS, unread: 4 }),
    ];
    view.app = appState({ conversations });
    const { getAllByTestId } = render(ConversationList, { view, conversations, onopen: () => undefined });
    const [loud, quiet] = getAllByTestId('conversation-item');
    expect(loud!.querySelector('[data-testid="muted-icon"]')).toBeNull();
    const icon = quiet!.querySelector('[data-testid="muted-icon"]')!;
    expect(icon.textContent?.trim()).toBe('Muted until you unmute it');
    // Muted still counts unread.
    expect(quiet!.dataset.unread).toBe('4');
  });
});
