// Linking in the views: Onboarding's "Link to my account" makes the passkey account, then asks for a
// code; the link dialog shows the new device's code (text and QR), the digits on both devices, the
// existing device's match/mismatch answer, the handover's progress and a failure in words; Settings
// → Link a device sends the typed code with the history choice and lists devices being added.
import { describe, expect, it, vi } from 'vitest';
import { fireEvent, render, waitFor } from '@testing-library/svelte';
import { encode } from 'uqr';
import App from '@/entrypoints/sidepanel/App.svelte';
import LinkDialog from '@/components/LinkDialog.svelte';
import LinkDeviceSettings from '@/components/LinkDeviceSettings.svelte';
import { darkModulesPath } from '@/lib/view/qr-path.ts';
import type { Register } from '@/lib/view/webauthn.ts';
import { fakeView } from './support/fake-background.ts';
import { appState } from './support/fixtures.ts';
import './support/loaded-views.ts';

const CODE = 'ABCD-EFGH-JKMNP';

describe('Link to my account (new device)', () => {
  it('makes the passkey account, then starts the link', async () => {
    const { bg, view } = fakeView({ account: { state: 'none' } });
    bg.on('account.registrationOptions', () => ({
      options: { rp: { name: 'MicroChat', id: 'relay.example.org' }, user: { id: 'dXNlcg', name: 'x', displayName: 'x' }, challenge: 'Y2g', pubKeyCredParams: [] },
    }));
    bg.on('account.completeRegistration', () => appState({ account: { state: 'ready', displayName: 'New device', lockEnabled: false } }));
    bg.on('link.start', () => ({ code: CODE, expiresAt: 1 }));
    const register = vi.fn<Register>(async () => ({ id: 'c', rawId: 'c', type: 'public-key', response: {}, clientExtensionResults: {} }) as never);
    const { getByTestId } = render(App, { view, register });
    await fireEvent.click(getByTestId('onboarding-link'));
    await waitFor(() => expect(bg.callsOf('link.start')).toEqual([null]));
    expect(bg.callsOf('account.registrationOptions')).toEqual([{ displayName: 'New device' }]);
  });
});

describe('Link dialog', () => {
  it('shows the new device its code as text and as the QR of exactly that text', () => {
    const { view } = fakeView();
    const { getByTestId, getByRole } = render(LinkDialog, { view, linking: { role: 'new', step: 'code', code: CODE, expiresAt: 1 } });
    expect(getByRole('dialog', { name: 'Link to my account' })).toBeTruthy();
    expect(getByTestId('link-code').textContent).toBe(CODE);
    const path = getByTestId('link-qr').querySelector('path')!.getAttribute('d');
    expect(path).toBe(darkModulesPath(encode(CODE, { ecc: 'M', border: 4 }).data));
  });

  it('asks the existing device whether the digits match, and sends the answer', async () => {
    const { bg, view } = fakeView();
    bg.on('link.confirm', () => null);
    const { getByTestId } = render(LinkDialog, { view, linking: { role: 'existing', step: 'confirm', confirmation: '123 456' } });
    expect(getByTestId('link-confirmation').textContent).toBe('123 456');
    await fireEvent.click(getByTestId('link-match'));
    expect(bg.callsOf('link.confirm')).toEqual([{ match: true }]);
    await fireEvent.click(getByTestId('link-mismatch'));
    expect(bg.callsOf('link.confirm')).toEqual([{ match: true }, { match: false }]);
  });

  it('the new device shows the digits without a choice; progress and failures in words; Close cancels', async () => {
    const { bg, view } = fakeView();
    bg.on('link.cancel', () => null);
    const r = render(LinkDialog, { view, linking: { role: 'new', step: 'confirm', confirmation: '123 456' } });
    expect(r.queryByTestId('link-match')).toBeNull();
    await r.rerender({ view, linking: { role: 'new', step: 'handover', progress: { done: 5, total: 10, text: 'Copying history: 5 of 10 messages…' } } });
    expect(r.getByTestId('link-progress').textContent).toContain('Copying history: 5 of 10 messages…');
    await r.rerender({ view, linking: { role: 'new', step: 'failed', error: 'The code did not match.' } });
    expect(r.getByTestId('link-error').textContent).toBe('The code did not match.');
    await fireEvent.click(r.getByTestId('link-close'));
    expect(bg.callsOf('link.cancel')).toEqual([null]);
  });
});

describe('Link dialog, done', () => {
  it('shows how far adding to the conversations has come', () => {
    const { view } = fakeView({ addingDevices: [{ deviceName: 'this device', done: 12, total: 40, failed: 0, text: 'Adding this device to 12 of 40 conversations…' }] });
    const { getByTestId } = render(LinkDialog, { view, linking: { role: 'new', step: 'done' } });
    expect(getByTestId('link-adding').textContent).toBe('Adding this device to 12 of 40 conversations…');
  });
});

describe('Settings → Link a device', () => {
  it('sends the typed code with the history choice, and lists devices being added', async () => {
    const { bg, view } = fakeView({ addingDevices: [{ deviceName: 'Firefox on Linux', done: 12, total: 40, failed: 0, text: 'Adding Firefox on Linux to 12 of 40 conversations…' }] });
    bg.on('link.enter', () => ({ confirmation: '123 456' }));
    const { getByTestId } = render(LinkDeviceSettings, { view });
    expect(getByTestId('adding-device').textContent).toBe('Adding Firefox on Linux to 12 of 40 conversations…');
    const input = getByTestId('link-code-input') as HTMLInputElement;
    input.value = ' abcd-efgh-jkmnp ';
    await fireEvent.input(input);
    await fireEvent.click(getByTestId('link-send-history'));
    await fireEvent.click(getByTestId('link-enter'));
    await waitFor(() => expect(bg.callsOf('link.enter')).toEqual([{ code: 'abcd-efgh-jkmnp', sendHistory: true }]));
  });
});
