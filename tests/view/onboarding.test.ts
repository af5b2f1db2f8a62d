import { describe, expect, it, vi } from 'vitest';
import { fireEvent, render, waitFor } from '@testing-library/svelte';
import { WebAuthnError } from '@simplewebauthn/browser';
import App from '@/entrypoints/sidepanel/App.svelte';
import { ChannelError, ErrorCode } from '@/lib/protocol/channel.ts';
import { fakeView } from './support/fake-background.ts';
import { appState } from './support/fixtures.ts';
import type { Authenticate, Register } from '@/lib/view/webauthn.ts';
import './support/loaded-views.ts';

const creationOptions = {
  rp: { name: 'MicroChat', id: 'relay.example.org' },
  user: { id: 'dXNlcg', name: 'Ana', displayName: 'Ana' },
  challenge: 'Y2hhbGxlbmdl',
  pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
  extensions: { prf: { eval: { first: 'AAECAw' } } },
};

const registration = {
  id: 'cred',
  rawId: 'cred',
  type: 'public-key',
  response: { clientDataJSON: 'e30', attestationObject: 'o2M' },
  clientExtensionResults: { prf: { enabled: true, results: { first: new Uint8Array([9, 9, 9]).buffer } } },
};

async function enterName(getByTestId: (id: string) => HTMLElement, name: string): Promise<void> {
  const input = getByTestId('onboarding-name') as HTMLInputElement;
  input.value = name;
  await fireEvent.input(input);
}

describe('Onboarding', () => {
  it('creates the account: options from the background, the passkey ceremony in the page, the answer back', async () => {
    const { bg, view } = fakeView({ account: { state: 'none' } });
    bg.on('account.registrationOptions', () => ({ options: creationOptions }));
    bg.on('account.completeRegistration', () => appState({ account: { state: 'ready', displayName: 'Ana', lockEnabled: true } }));
    const register = vi.fn<Register>(async () => registration as never);
    const { getByTestId, findByTestId } = render(App, { view, register });

    const create = getByTestId('onboarding-create') as HTMLButtonElement;
    expect(create.disabled).toBe(true);
    expect(document.activeElement).toBe(getByTestId('onboarding-name'));
    await enterName(getByTestId, '  Ana ');
    await fireEvent.click(create);

    await findByTestId('conversations-empty');
    expect(bg.callsOf('account.registrationOptions')).toEqual([{ displayName: 'Ana' }]);
    // The PRF salt reaches WebAuthn as bytes...
    const optionsJSON = register.mock.calls[0]![0].optionsJSON as unknown as { extensions: { prf: { eval: { first: ArrayBuffer } } } };
    expect(new Uint8Array(optionsJSON.extensions.prf.eval.first)).toEqual(new Uint8Array([0, 1, 2, 3]));
    // ...and the PRF result goes back as base64url, so it survives the channel.
    const [complete] = bg.callsOf('account.completeRegistration');
    expect(complete!.displayName).toBe('Ana');
    expect(complete!.response).toMatchObject({ id: 'cred', clientExtensionResults: { prf: { enabled: true, results: { first: 'CQkJ' } } } });
  });

  it('says plainly when the passkey prompt was cancelled, and creates nothing', async () => {
    const { bg, view } = fakeView({ account: { state: 'none' } });
    bg.on('account.registrationOptions', () => ({ options: creationOptions }));
    const cancelled = new WebAuthnError({
      message: 'The operation either timed out or was not allowed.',
      code: 'ERROR_PASSTHROUGH_SEE_CAUSE_PROPERTY',
      cause: Object.assign(new Error('not allowed'), { name: 'NotAllowedError' }),
    });
    const register = vi.fn<Register>(async () => {
      throw cancelled;
    });
    const { getByTestId, findByTestId } = render(App, { view, register });
    await enterName(getByTestId, 'Ana');
    await fireEvent.click(getByTestId('onboarding-create'));
    const error = await findByTestId('onboarding-error');
    expect(error.textContent).toContain('passkey prompt was closed');
    expect(error.getAttribute('role')).toBe('alert');
    expect(bg.callsOf('account.completeRegistration')).toHaveLength(0);
    expect((getByTestId('onboarding-create') as HTMLButtonElement).disabled).toBe(false);
  });

  it('points at the relay settings when the relay cannot be reached', async () => {
    const { bg, view } = fakeView({ account: { state: 'none' }, relay: { url: 'https://relay.example.org', state: 'unreachable' } });
    bg.on('account.registrationOptions', () => {
      throw new ChannelError(ErrorCode.Unavailable, 'No answer in time.');
    });
    const register = vi.fn<Register>();
    const { getByTestId, findByTestId } = render(App, { view, register });
    await enterName(getByTestId, 'Ana');
    await fireEvent.click(getByTestId('onboarding-create'));
    const error = await findByTestId('onboarding-error');
    expect(error.textContent).toContain('No answer in time.');
    expect(error.textContent).toContain('relay.example.org');
    expect(register).not.toHaveBeenCalled();

    // The relay URL is one click away.
    await fireEvent.click(getByTestId('onboarding-settings'));
    const dialog = await findByTestId('settings-dialog');
    expect(dialog.querySelector('#relay-url')).toBeTruthy();
  });

  it('unlocks a locked background with the passkey, passing the PRF result through', async () => {
    const { bg, view } = fakeView({ account: { state: 'locked', displayName: 'Ana' } });
    bg.on('account.unlockOptions', () => ({
      options: { challenge: 'Y2g', allowCredentials: [], extensions: { prf: { eval: { first: 'AQID' } } } },
    }));
    bg.on('account.unlock', () => appState());
    const authenticate = vi.fn<Authenticate>(async () => ({
      id: 'cred',
      rawId: 'cred',
      type: 'public-key',
      response: { clientDataJSON: 'e30', authenticatorData: 'AA', signature: 'AA' },
      clientExtensionResults: { prf: { results: { first: new Uint8Array([255, 0]).buffer } } } as never,
    }));
    const { getByTestId, findByTestId } = render(App, { view, authenticate });
    expect(getByTestId('lock-screen').textContent).toContain('Ana');
    await fireEvent.click(getByTestId('unlock'));
    await findByTestId('conversations-empty');
    const optionsJSON = authenticate.mock.calls[0]![0].optionsJSON as unknown as { extensions: { prf: { eval: { first: ArrayBuffer } } } };
    expect(new Uint8Array(optionsJSON.extensions.prf.eval.first)).toEqual(new Uint8Array([1, 2, 3]));
    expect(bg.callsOf('account.unlock')[0]!.response).toMatchObject({ clientExtensionResults: { prf: { results: { first: '_wA' } } } });
  });

  it('stays locked with a clear message when unlocking is cancelled', async () => {
    const { bg, view } = fakeView({ account: { state: 'locked', displayName: 'Ana' } });
    bg.on('account.unlockOptions', () => ({ options: { challenge: 'Y2g' } }));
    const authenticate = vi.fn<Authenticate>(async () => {
      throw Object.assign(new Error('cancelled'), { name: 'NotAllowedError' });
    });
    const { getByTestId, findByTestId } = render(App, { view, authenticate });
    await fireEvent.click(getByTestId('unlock'));
    expect((await findByTestId('unlock-error')).textContent).toContain('still locked');
    await waitFor(() => expect((getByTestId('unlock') as HTMLButtonElement).disabled).toBe(false));
    expect(bg.callsOf('account.unlock')).toHaveLength(0);
  });
});
