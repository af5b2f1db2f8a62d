// Offline, said plainly: a banner over the list and the conversation with
// Retry now, kept through a retry until the relay answers; a message that
// waits to go says it will go when the connection is back.
import { describe, expect, it } from 'vitest';
import { fireEvent, render, waitFor } from '@testing-library/svelte';
import SidePanel from '@/entrypoints/sidepanel/App.svelte';
import MessageItem from '@/components/MessageItem.svelte';
import { connectionContext } from '@/lib/view/connection-context.ts';
import { appState, conversation, message } from './support/fixtures.ts';
import { fakeView } from './support/fake-background.ts';
import './support/loaded-views.ts';

describe('offline banner', () => {
  it('shows while offline with the promise and Retry now, which asks the background to reconnect now', async () => {
    const { bg, view } = fakeView({ connection: 'offline', conversations: [conversation()] });
    bg.on('connection.retry', () => null);
    const { getByTestId, queryByTestId } = render(SidePanel, { view });
    const banner = getByTestId('offline-banner');
    expect(banner.textContent).toContain("Messages will be sent when you're back online");
    expect(getByTestId('conversation-list')).toBeTruthy();
    await fireEvent.click(getByTestId('retry-now'));
    expect(bg.callsOf('connection.retry')).toEqual([null]);
    // The retry runs: the banner stays and says so, then goes once online.
    bg.emit({ type: 'state', state: appState({ connection: 'connecting', conversations: [conversation()] }) });
    await waitFor(() => expect(getByTestId('retry-now').textContent).toContain('Connecting…'));
    expect((getByTestId('retry-now') as HTMLButtonElement).disabled).toBe(true);
    bg.emit({ type: 'state', state: appState({ connection: 'online', conversations: [conversation()] }) });
    await waitFor(() => expect(queryByTestId('offline-banner')).toBeNull());
  });

  it('is not shown while connecting the first time, nor before an account exists', async () => {
    const { view } = fakeView({ connection: 'connecting' });
    const { queryByTestId } = render(SidePanel, { view });
    expect(queryByTestId('offline-banner')).toBeNull();
    const none = fakeView({ connection: 'offline', account: { state: 'none' } });
    const second = render(SidePanel, { view: none.view });
    expect(second.queryByTestId('onboarding')).toBeTruthy();
    expect(second.queryAllByTestId('offline-banner')).toHaveLength(0);
  });

  it('the browser coming back online retries at once', async () => {
    const { bg, view } = fakeView({ connection: 'offline' });
    bg.on('connection.retry', () => null);
    render(SidePanel, { view });
    window.dispatchEvent(new Event('online'));
    await waitFor(() => expect(bg.callsOf('connection.retry')).toHaveLength(1));
  });
});

describe('a message waiting to go', () => {
  const mine = message(3, { status: 'sending', sender: { memberId: 'me', displayName: 'Ana', self: true } });

  it('says it will be sent when the connection is back, while offline', () => {
    const { getByTestId } = render(MessageItem, { props: { message: mine }, context: connectionContext(() => 'offline') });
    const status = getByTestId('message-status');
    expect(status.textContent).toContain("will be sent when you're back online");
    expect(status.dataset.waiting).toBe('true');
  });

  it('says Sending… while online', () => {
    const { getByTestId } = render(MessageItem, { props: { message: mine }, context: connectionContext(() => 'online') });
    expect(getByTestId('message-status').textContent?.trim()).toBe('Sending…');
    expect(getByTestId('message-status').dataset.waiting).toBeUndefined();
  });
});
