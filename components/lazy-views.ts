/**
 * The dialogs and screens that opening the side panel on a conversation does
 * not need, each loaded the first time it is shown (lib/view/lazy-view.ts),
 * and rendered through Lazy.svelte. Importing one of these components
 * statically anywhere on the open path would put it back in the entry chunk:
 * tests/build/sidepanel-open-path.browser.test.ts checks the built chunk.
 */
import { lazyView } from '@/lib/view/lazy-view.ts';

// The side panel's screens besides the list and the conversation.
export const Onboarding = lazyView(() => import('./Onboarding.svelte'));
export const LockScreen = lazyView(() => import('./LockScreen.svelte'));
export const RestoreAccount = lazyView(() => import('./RestoreAccount.svelte'));
export const RecoveryKeyDialog = lazyView(() => import('./RecoveryKeyDialog.svelte'));
export const DeviceRemoved = lazyView(() => import('./DeviceRemoved.svelte'));
export const SettingsDialog = lazyView(() => import('./SettingsDialog.svelte'));
export const SharePicker = lazyView(() => import('./SharePicker.svelte'));
export const LinkDialog = lazyView(() => import('./LinkDialog.svelte'));

// A conversation's dialogs and panels.
export const MembersDialog = lazyView(() => import('./MembersDialog.svelte'));
export const InviteDialog = lazyView(() => import('./InviteDialog.svelte'));
export const SearchPanel = lazyView(() => import('./SearchPanel.svelte'));
export const ConfirmDialog = lazyView(() => import('./ConfirmDialog.svelte'));
export const VersionsDialog = lazyView(() => import('./VersionsDialog.svelte'));
export const ReactionPicker = lazyView(() => import('./ReactionPicker.svelte'));
