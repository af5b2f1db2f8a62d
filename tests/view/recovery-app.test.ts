// Backup and restore wired into the app's views (issue #19): Onboarding's "Restore my account" (a refusal
// says why and registers nothing; a key that opens a backup names whose it is, then a passkey, then the
// restore); the restore's progress in the shell until dismissed; the recovery key shown once after
// sign-up before the app; Settings → Recovery with the backup's status (last backup, over quota) and Export.
import { describe, expect, it, vi } from 'vitest';
import { fireEvent, render } from '@testing-library/svelte';
import App from '@/entrypoints/sidepanel/App.svelte';
import RecoverySettings from '@/components/RecoverySettings.svelte';
import RestoreAccount from '@/components/RestoreAccount.svelte';
import type { Register } from '@/lib/view/webauthn.ts';
import { fakeView } from './support/fake-background.ts';
import { appState } from './support/fixtures.ts';
import './support/loaded-views.ts';

const text = (el: HTMLElement): string => (el.textContent ?? '').replace(/\s+/g, ' ').trim();
const KEY = '1ABC-DEFG-HJKM-NPQR-STVW-XYZ0-2345-6789';
const creationOptions = {
  rp: { name: 'MicroChat', id: 'relay.example.org' },
  user: { id: 'dXNlcg', name: 'Ana', displayName: 'Ana' },
  challenge: 'Y2hhbGxlbmdl',
  pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
};
const registration = { id: 'cred', rawId: 'cred', type: 'public-key', response: { clientDataJSON: 'e30', attestationObject: 'o2M' }, clientExtensionResults: {} };
const READY = { state: 'ready', displayName: 'Alice', lockEnabled: false } as const;

describe('Onboarding → Restore my account', () => {
  it('a refused key says why, and no passkey is made', async () => {
    const { bg, view } = fakeView({ account: { state: 'none' } });
    bg.on('restore.open', () => ({ ok: false as const, reason: 'no_backup' as const }));
    const register = vi.fn<Register>();
    const { getByTestId, findByTestId } = render(App, { view, register });
    await fireEvent.click(getByTestId('onboarding-restore'));
    await fireEvent.input(getByTestId('restore-key'), { target: { value: KEY } });
    await fireEvent.click(getByTestId('restore-start'));
    expect(text(await findByTestId('restore-refused'))).toBe('No backup was found for this recovery key. Nothing was changed.');
    expect(bg.callsOf('restore.open')).toEqual([{ recoveryKey: KEY }]);
    expect(bg.callsOf('account.registrationOptions')).toEqual([]);
    expect(register).not.toHaveBeenCalled();
    // Back goes to sign-up.
    await fireEvent.click(getByTestId('restore-cancel'));
    expect(getByTestId('onboarding-create')).toBeTruthy();
  });

  it("a key that opens a backup names whose it is, registers this device's passkey under that name, then restores", async () => {
    const { bg, view } = fakeView({ account: { state: 'none' } });
    bg.on('restore.open', () => ({ ok: true as const, displayName: 'Alice' }));
    bg.on('account.registrationOptions', () => ({ options: creationOptions }));
    bg.on('account.completeRegistration', () => appState({ account: READY }));
    bg.on('restore.start', () => null);
    const register = vi.fn<Register>(async () => registration as never);
    const { getByTestId, findByTestId } = render(App, { view, register });
    await fireEvent.click(getByTestId('onboarding-restore'));
    await fireEvent.input(getByTestId('restore-key'), { target: { value: KEY } });
    await fireEvent.click(getByTestId('restore-start'));
    expect(text(await findByTestId('restore-found'))).toBe('Backup found for Alice. Create a passkey for this device to restore it.');
    await fireEvent.click(getByTestId('restore-register'));
    expect(text(await findByTestId('restore-progress'))).toBe('Restoring your identity, settings and history…');
    expect(bg.callsOf('account.registrationOptions')).toEqual([{ displayName: 'Alice' }]);
    expect(bg.callsOf('account.completeRegistration').map((c) => c.displayName)).toEqual(['Alice']);
    expect(bg.callsOf('restore.start')).toEqual([null]);
  });
});

describe('the restore in the shell', () => {
  it('shows the progress in place of the app, and the summary until it is dismissed', async () => {
    const { bg, view } = fakeView({
      account: READY,
      restore: { step: 'done', conversations: [{ id: 'a', name: 'Family', state: 'rejoined' }, { id: 'b', name: 'Work', state: 'failed', reason: 'refused' }] },
    });
    bg.on('restore.dismiss', () => null);
    const { findByTestId, getAllByTestId } = render(App, { view });
    expect(text(await findByTestId('restore-progress'))).toBe('Your account is restored.');
    expect(getAllByTestId('restore-conversation').map((li) => li.dataset.state)).toEqual(['rejoined', 'failed']);
    await fireEvent.click(await findByTestId('restore-dismiss'));
    expect(bg.callsOf('restore.dismiss')).toEqual([null]);
  });

  it('reads the chosen backup file and sends its text with the key', async () => {
    const onrestore = vi.fn();
    const { getByTestId } = render(RestoreAccount, { restore: { step: 'enter' }, onrestore });
    const file = new File(['{"format":"microchat-backup"}'], 'microchat-backup.json', { type: 'application/json' });
    await fireEvent.change(getByTestId('restore-file'), { target: { files: [file] } });
    await fireEvent.input(getByTestId('restore-key'), { target: { value: KEY } });
    await vi.waitFor(async () => {
      await fireEvent.click(getByTestId('restore-start'));
      expect(onrestore).toHaveBeenLastCalledWith(KEY, '{"format":"microchat-backup"}');
    });
  });
});

describe('the recovery key at sign-up', () => {
  it('is shown once after the account is made, before the app, until two groups are typed back', async () => {
    const { bg, view } = fakeView({ account: { state: 'none' } });
    bg.on('account.registrationOptions', () => ({ options: creationOptions }));
    bg.on('account.completeRegistration', () => appState({ account: READY }));
    bg.on('recovery.create', () => ({ recoveryKey: KEY, groups: [1, 3] as [number, number] }));
    bg.on('recovery.confirm', ({ first, second }) => ({ confirmed: first === 'DEFG' && second === 'NPQR' }));
    const register = vi.fn<Register>(async () => registration as never);
    const { getByTestId, findByTestId, queryByTestId } = render(App, { view, register });
    await fireEvent.input(getByTestId('onboarding-name'), { target: { value: 'Alice' } });
    await fireEvent.click(getByTestId('onboarding-create'));
    expect(text(await findByTestId('recovery-key-text')).replace(/ /g, '')).toBe(KEY.replace(/-/g, ''));
    expect(queryByTestId('conversations-empty')).toBeNull();
    await fireEvent.input(getByTestId('recovery-key-group-0'), { target: { value: 'DEFG' } });
    await fireEvent.input(getByTestId('recovery-key-group-1'), { target: { value: 'NPQR' } });
    await fireEvent.click(getByTestId('recovery-key-confirm'));
    await findByTestId('conversations-empty');
    expect(bg.callsOf('recovery.confirm')).toEqual([{ first: 'DEFG', second: 'NPQR' }]);
  });
});

describe('Settings → Recovery: the backup', () => {
  it('says when there is no recovery key yet', () => {
    const { view } = fakeView({ account: READY });
    const { getByTestId, queryByTestId } = render(RecoverySettings, { view });
    expect(text(getByTestId('backup-no-key'))).toBe('Make a recovery key to back up your account.');
    expect(queryByTestId('backup-export')).toBeNull();
  });

  it('shows the last backup with its size, and exports the file', async () => {
    const { bg, view } = fakeView({ account: READY, backup: { state: 'done', at: Date.UTC(2026, 11, 6, 12, 0), bytes: 5 * 1024 } });
    bg.on('backup.export', () => ({ file: '{"format":"microchat-backup"}' }));
    const click = vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(() => {});
    URL.createObjectURL ??= () => 'blob:x';
    URL.revokeObjectURL ??= () => {};
    const { getByTestId } = render(RecoverySettings, { view });
    expect(getByTestId('backup-status').dataset.state).toBe('done');
    expect(text(getByTestId('backup-status'))).toMatch(/^Last backup: .+2026.+ \(5 kB\)$/);
    await fireEvent.click(getByTestId('backup-export'));
    await vi.waitFor(() => expect(click).toHaveBeenCalledTimes(1));
    expect(bg.callsOf('backup.export')).toEqual([null]);
    click.mockRestore();
  });

  it('says plainly when the relay refused the backup over its quota', () => {
    const { view } = fakeView({ account: READY, backup: { state: 'quota', maxBytes: 1024 * 1024 } });
    const { getByTestId } = render(RecoverySettings, { view });
    expect(getByTestId('backup-status').dataset.state).toBe('quota');
    expect(text(getByTestId('backup-status'))).toBe('The relay refused the backup: it is over the size the relay allows (1,024 kB). Turn off history in the backup to make it smaller.');
  });

  it.each([
    ['writing', 'Backing up…'],
    ['offline', 'The backup waits until you are back online.'],
    ['failed', 'The backup could not be written. It is tried again at the next change.'],
    ['none', 'No backup yet.'],
  ] as const)('says where the backup is (%s)', (state, sentence) => {
    const { view } = fakeView({ account: READY, backup: { state } });
    const { getByTestId } = render(RecoverySettings, { view });
    expect(text(getByTestId('backup-status'))).toBe(sentence);
  });
});
