// Changing one's display name from the settings: the view sends the intent to
// the background (which announces it, encrypted, in every conversation).
import { describe, expect, it } from 'vitest';
import { fireEvent, render, waitFor } from '@testing-library/svelte';
import SidePanel from '@/entrypoints/sidepanel/App.svelte';
import { appState } from './support/fixtures.ts';
import { fakeView } from './support/fake-background.ts';

describe('display name in the settings', () => {
  it('shows the current name and saves a new one, trimmed', async () => {
    const { bg, view } = fakeView();
    bg.on('account.setDisplayName', ({ displayName }) => appState({ account: { state: 'ready', displayName, lockEnabled: false } }));
    const { getByTestId, findByTestId } = render(SidePanel, { view });
    await fireEvent.click(getByTestId('settings-button'));
    const input = (await findByTestId('display-name-input')) as HTMLInputElement;
    const save = getByTestId('display-name-save') as HTMLButtonElement;
    expect(input.value).toBe('Ana');
    expect(save.disabled).toBe(true); // nothing changed yet
    input.value = '  Ana Lima ';
    await fireEvent.input(input);
    expect(save.disabled).toBe(false);
    await fireEvent.click(save);
    await waitFor(() => expect(bg.callsOf('account.setDisplayName')).toEqual([{ displayName: 'Ana Lima' }]));
  });
});
