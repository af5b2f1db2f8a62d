// Staying unlocked, in the views (issue 17, item 4): the status line says
// whether the account is protected, the timeout is a choice of four, Lock
// now is in settings and in the headers of the side panel and the popup
// (only when the lock is on), the lock screen says what is not received
// while locked, and unlocking returns to the conversation that was open.
import { describe, expect, it } from 'vitest';
import { fireEvent, render, waitFor } from '@testing-library/svelte';
import App from '@/entrypoints/sidepanel/App.svelte';
import Popup from '@/entrypoints/popup/App.svelte';
import type { AppState } from '@/lib/protocol/channel.ts';
import { fakeView } from './support/fake-background.ts';
import { appState, conversation, message } from './support/fixtures.ts';
import './support/loaded-views.ts';

const text = (el: HTMLElement): string => (el.textContent ?? '').replace(/\s+/g, ' ').trim();
const on = (over: Partial<AppState> = {}): Partial<AppState> => ({
  account: { state: 'ready', displayName: 'Ana', lockEnabled: true, lockMethod: 'passkey' },
  ...over,
});
const locked = (over: Partial<AppState> = {}): AppState => appState({ account: { state: 'locked', displayName: 'Ana' }, conversations: [], ...over });

async function openSettings(getByTestId: (id: string) => HTMLElement, findByTestId: (id: string) => Promise<HTMLElement>): Promise<HTMLElement> {
  await fireEvent.click(getByTestId('settings-button'));
  return findByTestId('lock-settings');
}

describe('the lock status line', () => {
  it.each([
    [{ account: { state: 'ready', displayName: 'Ana', lockEnabled: false } }, 'off', 'Not protected by the lock.'],
    [on(), 'passkey', 'Protected by the lock, with your passkey.'],
    [{ account: { state: 'ready', displayName: 'Ana', lockEnabled: true, lockMethod: 'passphrase' } }, 'passphrase', 'Protected by the lock, with your passphrase.'],
  ] as [Partial<AppState>, string, string][])('reads plainly (%#)', async (state, data, sentence) => {
    const { view } = fakeView(state);
    const { getByTestId, findByTestId, queryByTestId } = render(App, { view });
    await openSettings(getByTestId, findByTestId);
    const status = getByTestId('lock-status');
    expect(status.dataset.state).toBe(data);
    expect(text(status).startsWith(sentence)).toBe(true);
    // Off: it offers to turn the lock on, and there is nothing to lock or time out.
    expect(queryByTestId('lock-on-passkey') !== null).toBe(data === 'off');
    expect(queryByTestId('lock-timeout') !== null).toBe(data !== 'off');
    expect(queryByTestId('lock-now-settings') !== null).toBe(data !== 'off');
  });
});

describe('the timeout choice', () => {
  it('offers 15 minutes, 1 hour, 8 hours or until the browser closes, shows the current one and sends a new one', async () => {
    const { bg, view } = fakeView(on());
    bg.on('lock.setTimeout', ({ timeout }) => appState({ ...on(), settings: { notifications: true, lockTimeout: timeout, notificationContent: 'name', readReceipts: true } }));
    const { getByTestId, findByTestId } = render(App, { view });
    await openSettings(getByTestId, findByTestId);
    const select = getByTestId('lock-timeout') as HTMLSelectElement;
    expect([...select.options].map((o) => [o.value, o.textContent])).toEqual([
      ['15m', 'After 15 minutes without use'],
      ['1h', 'After 1 hour without use'],
      ['8h', 'After 8 hours without use'],
      ['browser', 'When the browser closes'],
    ]);
    expect(select.value).toBe('browser');
    expect(text(getByTestId('lock-timeout-hint'))).toBe('MicroChat asks for your passkey again each time the browser starts.');
    select.value = '15m';
    await fireEvent.change(select);
    expect(bg.callsOf('lock.setTimeout')).toEqual([{ timeout: '15m' }]);
    await waitFor(() => expect(text(getByTestId('lock-timeout-hint'))).toBe('MicroChat asks for your passkey again after 15 minutes without use, and each time the browser starts.'));
    expect((getByTestId('lock-timeout') as HTMLSelectElement).value).toBe('15m');
  });
});

describe('Lock now', () => {
  it('is in settings: it locks, and the lock screen says what is not received while locked', async () => {
    const { bg, view } = fakeView(on());
    bg.on('lock.now', () => locked());
    const { getByTestId, findByTestId } = render(App, { view });
    await openSettings(getByTestId, findByTestId);
    await fireEvent.click(getByTestId('lock-now-settings'));
    expect(bg.callsOf('lock.now')).toEqual([null]);
    await fireEvent.click(getByTestId('settings-dialog').querySelector('button.close')!);
    const notice = await findByTestId('locked-notice');
    expect(text(notice)).toContain('does not receive or decrypt messages, and shows no notifications');
    expect(text(notice)).toContain('arrive when you unlock');
  });

  it('is in the side panel header, labelled, only while the lock is on', async () => {
    const { bg, view } = fakeView(on());
    bg.on('lock.now', () => locked());
    const { getByTestId, queryByTestId, findByTestId } = render(App, { view });
    const button = getByTestId('lock-now');
    expect(text(button)).toBe('Lock now');
    await fireEvent.click(button);
    await findByTestId('lock-screen');
    expect(queryByTestId('lock-now')).toBeNull();

    const off = fakeView();
    const other = render(App, { view: off.view });
    expect(other.queryAllByTestId('lock-now')).toHaveLength(0);
  });

  it('is in the popup header', async () => {
    const { bg, view } = fakeView(on({ conversations: [conversation()] }));
    bg.on('lock.now', () => locked());
    const { getByTestId, findByText } = render(Popup, { view, openPanel: async () => undefined });
    expect(text(getByTestId('lock-now'))).toBe('Lock now');
    await fireEvent.click(getByTestId('lock-now'));
    expect(bg.callsOf('lock.now')).toEqual([null]);
    await findByText(/MicroChat is locked/);
  });
});

describe('after unlocking', () => {
  it('returns to the conversation that was open when the lock closed', async () => {
    const team = conversation({ id: 'c1', name: 'Team' });
    const { bg, view } = fakeView(on({ conversations: [conversation({ id: 'c0', name: 'Other' }), team] }));
    bg.on('messages.page', () => ({ messages: [message(1, { text: 'where I was' })] }));
    bg.on('conversation.markRead', () => null);
    bg.on('lock.now', () => locked());
    bg.on('account.unlockOptions', () => ({ options: { challenge: 'Y2g' } }));
    bg.on('account.unlock', () => appState({ ...on(), conversations: [conversation({ id: 'c0', name: 'Other' }), team] }));
    const authenticate = async () =>
      ({ id: 'cred', rawId: 'cred', type: 'public-key', response: { clientDataJSON: 'e30', authenticatorData: 'AA', signature: 'AA' }, clientExtensionResults: {} }) as never;
    const { getByTestId, findByTestId, getAllByTestId } = render(App, { view, authenticate });
    await fireEvent.click(getAllByTestId('conversation-item').find((el) => el.dataset.name === 'Team')!);
    expect((await findByTestId('conversation')).dataset.conversationId).toBe('c1');

    await fireEvent.click(getByTestId('lock-now'));
    await findByTestId('lock-screen');
    // Longer than the grace the panel gives a conversation that disappears.
    await new Promise((r) => setTimeout(r, 3200));
    await fireEvent.click(getByTestId('unlock'));
    const back = await findByTestId('conversation');
    expect(back.dataset.conversationId).toBe('c1');
    await waitFor(() => expect(text(getByTestId('message-list'))).toContain('where I was'));
  }, 10_000);
});
