/** The delivery states of an own message (Sending, Sent, Delivered, Read, Not sent), each explained, and the read-receipts setting. */
import { describe, expect, it } from 'vitest';
import { fireEvent, render, waitFor } from '@testing-library/svelte';
import MessageItem from '@/components/MessageItem.svelte';
import SidePanel from '@/entrypoints/sidepanel/App.svelte';
import { appState, message } from './support/fixtures.ts';
import { fakeView } from './support/fake-background.ts';

const me = { memberId: 'me', displayName: 'Ana', self: true };

describe('Delivery status', () => {
  it.each([
    [{ status: 'sending' }, 'sending', 'Sending…', 'on its way to the relay'],
    [{ status: 'sent' }, 'sent', 'Sent', "Not every member's device has received it yet"],
    [{ status: 'sent', delivery: 'delivered' }, 'delivered', 'Delivered', "every member's device has received this message"],
    [{ status: 'sent', delivery: 'read' }, 'read', 'Read', 'every member has read this message'],
    [{ status: 'failed', error: 'Offline' }, 'failed', 'Not sent', 'did not reach the relay'],
  ] as const)('%o reads as %s, with a tooltip and an accessible label that explain it', (over, state, label, explains) => {
    const { getByTestId } = render(MessageItem, { message: message(1, { sender: me, ...over }) });
    const status = getByTestId('message-status');
    expect(status.dataset.state).toBe(state);
    expect(getByTestId('message').dataset.delivery).toBe(state);
    expect(status.textContent).toContain(label);
    expect(status.getAttribute('title')).toContain(explains);
    expect(status.getAttribute('aria-label')).toBe(status.getAttribute('title'));
    expect(status.getAttribute('role')).toBe('img');
  });

  it('shows "Delivered", never "Read", when read receipts are off', () => {
    const { getByTestId } = render(MessageItem, { message: message(1, { sender: me, status: 'sent', delivery: 'read' }), showRead: false });
    expect(getByTestId('message-status').dataset.state).toBe('delivered');
    expect(getByTestId('message-status').textContent).toContain('Delivered');
  });

  it("shows no status on other people's messages", () => {
    const { queryByTestId } = render(MessageItem, {
      message: message(2, { sender: { memberId: 'bo', displayName: 'Bo', self: false }, status: 'received', delivery: 'read' }),
    });
    expect(queryByTestId('message-status')).toBeNull();
  });

  it('turns read receipts off in settings, and says what that means', async () => {
    const { bg, view } = fakeView();
    bg.on('settings.setReadReceipts', ({ enabled }) => appState({ settings: { notifications: true, lockTimeout: 'browser', notificationContent: 'name', readReceipts: enabled } }));
    const { getByTestId, findByTestId, getByText } = render(SidePanel, { view });
    await fireEvent.click(getByTestId('settings-button'));
    const toggle = (await findByTestId('read-receipts-toggle')) as HTMLInputElement;
    expect(toggle.checked).toBe(true);
    expect(getByText(/others do not see when you have read their messages/)).toBeTruthy();
    await fireEvent.click(toggle);
    await waitFor(() => expect(bg.callsOf('settings.setReadReceipts')).toEqual([{ enabled: false }]));
  });
});
