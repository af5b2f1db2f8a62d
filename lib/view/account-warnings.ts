/** What the person is told before signing out or deleting the account (lib/background/account-removal.ts does it). */
import { t } from '../platform/i18n.ts';

export const signOutWarning = (): string => t('account_sign_out_warning');

export const deleteAccountWarning = (): string => t('account_delete_warning');
