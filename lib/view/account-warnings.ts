/** What the person is told before signing out or deleting the account (lib/background/account-removal.ts does it). */

export const SIGN_OUT_WARNING =
  'Signing out deletes everything MicroChat keeps on this device: your conversations, their messages and your keys. ' +
  'Nothing can bring them back, because no copy exists anywhere else. ' +
  'You stay a member of your conversations until someone removes you, but this device cannot sign back in to this account: ' +
  'signing up again makes a new one. To leave your conversations and remove the account from the relay, use Delete account.';

export const DELETE_ACCOUNT_WARNING =
  'Deleting your account leaves every conversation (the other members see that you left), ' +
  'removes your account and your passkey registration from the relay, and deletes everything MicroChat keeps on this device: ' +
  'your conversations, their messages and your keys. This cannot be undone.';
