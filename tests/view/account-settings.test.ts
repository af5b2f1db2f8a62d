// The account in the settings: your name, Sign out and Delete account, each
// behind a warning that says what is lost; nothing happens without the confirm.
import { describe, expect, it } from 'vitest';
import { fireEvent, render, waitFor } from '@testing-library/svelte';
import SidePanel from '@/entrypoints/sidepanel/App.svelte';
import { ChannelError, ErrorCode } from '@/lib/protocol/channel.ts';
import { appState } from './support/fixtures.ts';
import { fakeView } from './support/fake-background.ts';
import './support/loaded-views.ts';

async function openSettings(view: ReturnType<typeof fakeView>['view']) {
  const r = render(SidePanel, { view });
  await fireEvent.click(r.getByTestId('settings-button'));
  return r;
}

describe('account in the settings', () => {
  it('shows your own name', async () => {
    const { view } = fakeView();
    const { getByTestId } = await openSettings(view);
    expect((getByTestId('display-name-input') as HTMLInputElement).value).toBe('Ana');
  });

  it('sign out warns what is lost; cancel does nothing; confirm signs out and shows onboarding', async () => {
    const { bg, view } = fakeView();
    bg.on('account.signOut', () => {
      const s = appState({ account: { state: 'none' } });
      bg.emit({ type: 'state', state: s });
      return s;
    });
    const { getByTestId, getByText, findByTestId, queryByTestId } = await openSettings(view);
    await fireEvent.click(getByTestId('sign-out'));
    const dialog = await findByTestId('confirm-dialog');
    expect(dialog.textContent).toContain('deletes everything MicroChat keeps on this device');
    expect(dialog.textContent).toContain('cannot sign back in to this account');
    await fireEvent.click(getByText('Cancel'));
    expect(bg.callsOf('account.signOut')).toHaveLength(0);
    await fireEvent.click(getByTestId('sign-out'));
    await fireEvent.click(await findByTestId('confirm'));
    await waitFor(() => expect(bg.callsOf('account.signOut')).toEqual([null]));
    await findByTestId('onboarding');
    expect(queryByTestId('settings-dialog')).toBeNull();
  });

  it('delete account warns that it leaves every conversation and removes the account from the relay; a refusal is shown', async () => {
    const { bg, view } = fakeView();
    bg.on('account.delete', () => {
      throw new ChannelError(ErrorCode.Unavailable, "You are offline: deleting your account needs the relay. Nothing was deleted. Try again when you're back online.");
    });
    const { getByTestId, findByTestId } = await openSettings(view);
    await fireEvent.click(getByTestId('delete-account'));
    const dialog = await findByTestId('confirm-dialog');
    expect(dialog.textContent).toContain('leaves every conversation');
    expect(dialog.textContent).toContain('removes your account and your passkey registration from the relay');
    await fireEvent.click(getByTestId('confirm'));
    expect((await findByTestId('account-error')).textContent).toContain('Nothing was deleted');
    expect(bg.callsOf('account.delete')).toEqual([null]);
    expect(getByTestId('settings-dialog')).toBeTruthy();
  });
});
