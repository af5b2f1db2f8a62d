/**
 * The account on this device: the relay session, the device mailbox and the
 * display name, kept as one sealed record; plus the token store over
 * IndexedDB. The passkey itself lives in the authenticator; the relay knows
 * the account only as a random pseudonym.
 */
import type { Database } from './db.ts';
import type { MailboxCredentials } from './relay-api.ts';
import type { StoredToken, TokenStore } from './tokens.ts';
import type { KeyPin } from './token-key-pin.ts';
import type { Vault } from './vault.ts';

export interface AccountRecord {
  v: 1;
  /** The relay this account lives on (an account does not move between relays). */
  relayUrl: string;
  accountId: string;
  displayName: string;
  /** The passkey's credential id (base64url), to ask for this one at unlock. */
  credentialId: string;
  session: { token: string; expiresAt: number };
  /**
   * The device mailbox of accounts made before every conversation had its
   * own. New accounts have none: registration spends no token, so the batch
   * issued at sign-up is first spent later, on the delivery path.
   */
  mailbox?: MailboxCredentials;
  /**
   * This device's Welcome mailbox (device-address.ts): where others post the
   * Welcome that adds us to a conversation without a link. Made once, at the
   * first connection of an account that has none.
   */
  welcomeMailbox?: MailboxCredentials;
}

const STORE = 'secrets';
const ACCOUNT_KEY = 'account';
const PIN_KEY = 'token-key-pin';

export async function loadAccount(db: Database, vault: Vault): Promise<AccountRecord | undefined> {
  const sealed = await db.get(STORE, ACCOUNT_KEY);
  if (sealed === undefined) return undefined;
  const rec = await vault.openJson<AccountRecord>(STORE, ACCOUNT_KEY, sealed);
  return rec.v === 1 ? rec : undefined;
}

export async function saveAccount(db: Database, vault: Vault, rec: AccountRecord): Promise<void> {
  await vault.writing(async () => {
    const sealed = await vault.sealJson(STORE, ACCOUNT_KEY, rec);
    await db.put(STORE, sealed, ACCOUNT_KEY);
  });
}

/** Unspent tokens, one sealed record each (sealed before the write transaction opens). */
export function tokenStore(db: Database, vault: Vault): TokenStore {
  return {
    async loadAll() {
      const tx = db.transaction('tokens');
      const [keys, values] = await Promise.all([tx.store.getAllKeys(), tx.store.getAll()]);
      const out = new Map<string, StoredToken>();
      await Promise.all(
        keys.map(async (k, i) => {
          try {
            out.set(k, await vault.openJson<StoredToken>('tokens', k, values[i]));
          } catch {
            // a record that does not open is useless; it will be dropped on the next write
          }
        }),
      );
      return out;
    },
    async add(tokens) {
      await vault.writing(async () => {
        const sealed = await Promise.all([...tokens].map(async ([k, t]) => [k, await vault.sealJson('tokens', k, t)] as const));
        const tx = db.transaction('tokens', 'readwrite');
        for (const [k, s] of sealed) void tx.store.put(s, k);
        await tx.done;
      });
    },
    async remove(localId) {
      await db.delete('tokens', localId);
    },
    async loadPin() {
      const sealed = await db.get(STORE, PIN_KEY);
      return sealed === undefined ? undefined : vault.openJson<KeyPin>(STORE, PIN_KEY, sealed);
    },
    async savePin(pin) {
      const sealed = await vault.sealJson(STORE, PIN_KEY, pin);
      await db.put(STORE, sealed, PIN_KEY);
    },
  };
}
