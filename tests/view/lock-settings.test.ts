// The lock in settings and on the lock screen: pure views that send intents
// (lock.enableOptions / lock.enable / lock.disable / account.unlockPassphrase);
// the background does the re-encryption.
import { describe, expect, it, vi } from 'vitest';
import { fireEvent, render, waitFor } from '@testing-library/svelte';
import App from '@/entrypoints/sidepanel/App.svelte';
import { ChannelError, ErrorCode } from '@/lib/protocol/channel.ts';
import { fakeView } from './support/fake-background.ts';
import { appState } from './support/fixtures.ts';
import type { Authenticate } from '@/lib/view/webauthn.ts';
import './support/loaded-views.ts';

const lockOptions = { challenge: 'Y2g', allowCredentials: [{ id: 'cred', type: 'public-key' }], userVerification: 'required', extensions: { prf: { eval: { first: 'AQID' } } } };
const assertion = (prf: boolean) =>
  ({
    id: 'cred',
    rawId: 'cred',
    type: 'public-key',
    response: { clientDataJSON: 'e30', authenticatorData: 'AA', signature: 'AA' },
    clientExtensionResults: (prf ? { prf: { results: { first: new Uint8Array([255, 0]).buffer } } } : {}) as never,
  }) as Awaited<ReturnType<Authenticate>>;

async function openSettings(getByTestId: (id: string) => HTMLElement, findByTestId: (id: string) => Promise<HTMLElement>): Promise<HTMLElement> {
  await fireEvent.click(getByTestId('settings-button'));
  return findByTestId('lock-settings');
}

const text = (el: HTMLElement): string => (el.textContent ?? '').replace(/\s+/g, ' ');

async function type(el: HTMLElement, value: string): Promise<void> {
  (el as HTMLInputElement).value = value;
  await fireEvent.input(el);
}

describe('lock settings', () => {
  it('says plainly that the lock is off and turns it on with the passkey, passing the PRF output through', async () => {
    const { bg, view } = fakeView();
    bg.on('lock.enableOptions', () => ({ options: lockOptions }));
    bg.on('lock.enable', () => appState({ account: { state: 'ready', displayName: 'Ana', lockEnabled: true, lockMethod: 'passkey' } }));
    const authenticate = vi.fn<Authenticate>(async () => assertion(true));
    const { getByTestId, findByTestId } = render(App, { view, authenticate });
    const section = await openSettings(getByTestId, findByTestId);
    expect(section.dataset.lock).toBe('off');
    expect(text(getByTestId('lock-status'))).toContain('anyone who copies this browser profile can read your whole history');
    await fireEvent.click(getByTestId('lock-on-passkey'));
    await waitFor(() => expect(getByTestId('lock-settings').dataset.lock).toBe('passkey'));
    const optionsJSON = authenticate.mock.calls[0]![0].optionsJSON as unknown as { extensions: { prf: { eval: { first: ArrayBuffer } } } };
    expect(new Uint8Array(optionsJSON.extensions.prf.eval.first)).toEqual(new Uint8Array([1, 2, 3]));
    expect(bg.callsOf('lock.enable')).toEqual([{ response: expect.objectContaining({ clientExtensionResults: { prf: { results: { first: '_wA' } } } }) }]);
    expect(text(getByTestId('lock-status'))).toContain('reveals none of your messages');
  });

  it('offers a passphrase when the passkey has no PRF, and sends it only when both entries match', async () => {
    const { bg, view } = fakeView();
    bg.on('lock.enableOptions', () => ({ options: lockOptions }));
    bg.on('lock.enable', () => appState({ account: { state: 'ready', displayName: 'Ana', lockEnabled: true, lockMethod: 'passphrase' } }));
    const { getByTestId, findByTestId, queryByTestId } = render(App, { view, authenticate: async () => assertion(false) });
    await openSettings(getByTestId, findByTestId);
    await fireEvent.click(getByTestId('lock-on-passkey'));
    expect((await findByTestId('lock-note')).textContent).toContain('no PRF support');
    expect(bg.callsOf('lock.enable')).toHaveLength(0);
    const submit = getByTestId('lock-passphrase-submit') as HTMLButtonElement;
    await type(getByTestId('lock-passphrase'), 'short');
    await type(getByTestId('lock-passphrase-repeat'), 'short');
    expect(submit.disabled).toBe(true);
    await type(getByTestId('lock-passphrase'), 'a long passphrase');
    expect(getByTestId('lock-passphrase-mismatch')).toBeTruthy();
    expect(submit.disabled).toBe(true);
    await type(getByTestId('lock-passphrase-repeat'), 'a long passphrase');
    expect(queryByTestId('lock-passphrase-mismatch')).toBeNull();
    await fireEvent.click(submit);
    await waitFor(() => expect(getByTestId('lock-settings').dataset.lock).toBe('passphrase'));
    expect(bg.callsOf('lock.enable')).toEqual([{ passphrase: 'a long passphrase' }]);
  });

  it('turns the lock off only after a warning, and shows the background’s refusal', async () => {
    const { bg, view } = fakeView({ account: { state: 'ready', displayName: 'Ana', lockEnabled: true, lockMethod: 'passphrase' } });
    let fail = true;
    bg.on('lock.disable', () => {
      if (fail) throw new ChannelError(ErrorCode.Internal, 'Turning the lock off did not finish.');
      return appState();
    });
    const { getByTestId, findByTestId } = render(App, { view });
    await openSettings(getByTestId, findByTestId);
    expect(text(getByTestId('lock-status'))).toContain('with your passphrase');
    await fireEvent.click(getByTestId('lock-off'));
    expect(bg.callsOf('lock.disable')).toHaveLength(0);
    expect(text(getByTestId('lock-settings'))).toContain('anyone who copies this browser profile can read');
    await fireEvent.click(getByTestId('lock-off-confirm'));
    expect((await findByTestId('lock-error')).textContent).toContain('did not finish');
    fail = false;
    await fireEvent.click(getByTestId('lock-off-confirm'));
    await waitFor(() => expect(getByTestId('lock-settings').dataset.lock).toBe('off'));
    expect(bg.callsOf('lock.disable')).toHaveLength(2);
  });
});

describe('lock screen with a passphrase', () => {
  it('asks for the passphrase; a wrong one is explained and changes nothing; the right one unlocks', async () => {
    const { bg, view } = fakeView({ account: { state: 'locked', displayName: 'Ana', unlockWith: 'passphrase' } });
    bg.on('account.unlockPassphrase', ({ passphrase }) => {
      if (passphrase !== 'the right one') throw new ChannelError(ErrorCode.InvalidInput, 'That passphrase does not unlock MicroChat. Check it and try again.');
      return appState();
    });
    const { getByTestId, findByTestId, queryByTestId } = render(App, { view });
    expect(queryByTestId('unlock')).toBeNull();
    await type(getByTestId('unlock-passphrase'), 'the wrong one');
    await fireEvent.click(getByTestId('unlock-passphrase-submit'));
    expect((await findByTestId('unlock-error')).textContent).toContain('does not unlock');
    expect(getByTestId('lock-screen')).toBeTruthy();
    await type(getByTestId('unlock-passphrase'), 'the right one');
    await fireEvent.click(getByTestId('unlock-passphrase-submit'));
    await findByTestId('conversations-empty');
    expect(bg.callsOf('account.unlockPassphrase')).toEqual([{ passphrase: 'the wrong one' }, { passphrase: 'the right one' }]);
  });
});
