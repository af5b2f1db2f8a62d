// Settings show one state: before sign-up the relay URL is editable and its
// health check shows; after sign-up the URL is read-only and the live
// connection is the only state shown, never "Connected" next to "Offline".
import { describe, expect, it } from 'vitest';
import { fireEvent, render } from '@testing-library/svelte';
import SidePanel from '@/entrypoints/sidepanel/App.svelte';
import { fakeView } from './support/fake-background.ts';
import './support/loaded-views.ts';

async function openSettings(view: ReturnType<typeof fakeView>['view']) {
  const r = render(SidePanel, { view });
  await fireEvent.click(r.getByTestId('settings-button'));
  return r;
}

describe('connection in the settings', () => {
  it('after sign-up: the relay URL is read-only, and an offline connection reads Offline with Retry now, nothing else', async () => {
    const { bg, view } = fakeView({ connection: 'offline', relay: { url: 'https://relay.example.org', state: 'reachable' } });
    bg.on('connection.retry', () => null);
    const { getByTestId, queryByTestId } = await openSettings(view);
    const url = getByTestId('relay-url') as HTMLInputElement;
    expect(url.readOnly).toBe(true);
    expect(url.value).toBe('https://relay.example.org');
    expect(queryByTestId('relay-status')).toBeNull();
    const dialog = getByTestId('settings-dialog');
    expect(getByTestId('connection-label').textContent).toBe('Offline');
    expect(dialog.textContent).not.toContain('Connected');
    expect(dialog.querySelector('form button[type="submit"]')?.closest('.settings')).toBeFalsy();
    await fireEvent.click(getByTestId('settings-retry-now'));
    expect(bg.callsOf('connection.retry')).toEqual([null]);
  });

  it('after sign-up and online: Connected, no retry', async () => {
    const { view } = fakeView({ connection: 'online' });
    const { getByTestId, queryByTestId } = await openSettings(view);
    expect(getByTestId('connection-settings').dataset.state).toBe('online');
    expect(getByTestId('connection-label').textContent).toBe('Connected');
    expect(getByTestId('settings-dialog').textContent).not.toContain('Offline');
    expect(queryByTestId('settings-retry-now')).toBeNull();
  });

  it('before sign-up: the relay URL is editable and its health check shows', async () => {
    const { view } = fakeView({ account: { state: 'none' }, relay: { url: 'https://relay.example.org', state: 'unreachable', detail: 'The relay could not be reached.' } });
    const { getByTestId, queryByTestId, container } = await openSettings(view);
    const input = container.querySelector('#relay-url') as HTMLInputElement;
    expect(input.readOnly).toBe(false);
    expect(getByTestId('settings-dialog').querySelector<HTMLElement>('[data-testid="relay-status"]')?.dataset.state).toBe('unreachable');
    expect(queryByTestId('connection-settings')).toBeNull();
  });
});
