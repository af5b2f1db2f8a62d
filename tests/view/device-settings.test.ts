/**
 * Settings list your own devices (the roster): name, when added, "this
 * device" first; Remove device asks first and says what happens, then shows
 * what the removal did. A device that was removed shows so, with Wipe.
 */
import { describe, expect, it } from 'vitest';
import { fireEvent, render, waitFor, within } from '@testing-library/svelte';
import SidePanel from '@/entrypoints/sidepanel/App.svelte';
import type { OwnDeviceView } from '@/lib/protocol/channel.ts';
import { appState } from './support/fixtures.ts';
import { fakeView } from './support/fake-background.ts';

const LAPTOP: OwnDeviceView = { deviceKey: 'L'.repeat(43), name: 'Chrome on Linux', addedAt: Date.UTC(2026, 0, 2), thisDevice: true, removing: false };
const PHONE: OwnDeviceView = { deviceKey: 'P'.repeat(43), name: 'Firefox on Android', addedAt: Date.UTC(2026, 2, 4), thisDevice: false, removing: false };

describe('your devices in the settings', () => {
  it('lists each device with its name and when it was added; only the other ones can be removed', async () => {
    const { bg, view } = fakeView();
    bg.on('devices.list', () => ({ devices: [LAPTOP, PHONE] }));
    const r = render(SidePanel, { view });
    await fireEvent.click(r.getByTestId('settings-button'));
    const rows = await r.findAllByTestId('own-device');
    expect(rows.map((row) => within(row).getByTestId('own-device-name').textContent)).toEqual(['Chrome on Linux', 'Firefox on Android']);
    expect(within(rows[0]!).getByTestId('own-device-added').textContent).toMatch(/2026/);
    expect(within(rows[0]!).getByTestId('own-device-this').textContent).toBe('this device');
    expect(within(rows[0]!).queryByTestId('remove-device')).toBeNull();
    expect(within(rows[1]!).getByTestId('remove-device')).toBeTruthy();
  });

  it('Remove device asks first, saying what happens; cancel sends nothing; confirm removes and reports', async () => {
    const { bg, view } = fakeView();
    let devices = [LAPTOP, PHONE];
    bg.on('devices.list', () => ({ devices }));
    bg.on('devices.remove', () => {
      devices = [LAPTOP];
      return { removedFrom: 3, notRemovedFrom: ['Book club'], keyPackagesRetired: true };
    });
    const r = render(SidePanel, { view });
    await fireEvent.click(r.getByTestId('settings-button'));
    await fireEvent.click(await r.findByTestId('remove-device'));
    const confirm = await r.findByRole('dialog', { name: 'Remove Firefox on Android?' });
    expect(confirm.textContent).toMatch(/every conversation/);
    expect(confirm.textContent).toMatch(/cannot read anything new/);
    await fireEvent.click(within(confirm).getByRole('button', { name: 'Cancel' }));
    expect(bg.callsOf('devices.remove')).toEqual([]);
    await fireEvent.click(r.getByTestId('remove-device'));
    await fireEvent.click(within(await r.findByRole('dialog', { name: 'Remove Firefox on Android?' })).getByRole('button', { name: 'Remove device' }));
    await waitFor(() => expect(bg.callsOf('devices.remove')).toEqual([{ deviceKey: PHONE.deviceKey }]));
    const summary = await r.findByTestId('device-removed-summary');
    expect(summary.textContent).toContain('removed from 3 conversations');
    expect(summary.textContent).toContain('Book club');
    await waitFor(() => expect(r.getAllByTestId('own-device')).toHaveLength(1));
  });

  it('a removal under way shows as such, without a second Remove', async () => {
    const { bg, view } = fakeView();
    bg.on('devices.list', () => ({ devices: [LAPTOP, { ...PHONE, removing: true }] }));
    const r = render(SidePanel, { view });
    await fireEvent.click(r.getByTestId('settings-button'));
    expect(await r.findByTestId('own-device-removing')).toBeTruthy();
    expect(r.queryByTestId('remove-device')).toBeNull();
  });

  it('a device that was removed says so and offers to wipe it', async () => {
    const { bg, view } = fakeView({ removedFromAccount: true });
    bg.on('account.delete', () => appState({ account: { state: 'none' } }));
    const r = render(SidePanel, { view });
    const shown = await r.findByTestId('device-removed');
    expect(shown.textContent).toContain('This device was removed from your account');
    expect(r.queryByTestId('conversation-list')).toBeNull();
    await fireEvent.click(r.getByTestId('wipe-device'));
    await fireEvent.click(within(await r.findByRole('dialog', { name: 'Wipe this device?' })).getByRole('button', { name: 'Wipe this device' }));
    await waitFor(() => expect(bg.callsOf('account.delete')).toEqual([null]));
  });
});
