/**
 * Ending the account on this device, two ways:
 *
 *   sign out        end the relay session (best effort), then wipe this
 *                   device's data. The account stays at the relay and in its
 *                   conversations; nothing here can sign back in to it.
 *   delete account  leave every conversation (the others see "X left"),
 *                   delete the account at the relay (its passkey credentials,
 *                   sessions and key packages), then wipe this device's data.
 *
 * The wipe clears every IndexedDB store in one transaction: keys, sealed
 * records, tokens, conversations, messages, the outbox, the lock's wrapped
 * key. Only the two plain settings (relay URL, notifications) are kept, so
 * the onboarding that follows starts where the person was.
 */
import type { Database } from './db.ts';
import { loadSetting } from './db.ts';
import type { Vault } from './vault.ts';
import { ChannelError, ErrorCode, type ConversationSummary } from '../protocol/channel.ts';
import { classify, isUnreachable } from './failure.ts';
import { t } from '../platform/i18n.ts';

/**
 * Clear this device's data in one transaction. When a vault is open, the
 * wipe runs as its exclusive writer, and its gate is never opened again: a
 * write still in flight under the old key finishes before the wipe, and any
 * later one waits for good instead of leaving a record that no key opens.
 */
export async function wipeDevice(db: Database, vault: Vault | undefined): Promise<void> {
  const [relayUrl, notifications] = await Promise.all([loadSetting(db, 'relayUrl'), loadSetting(db, 'notifications')]);
  const clear = async (): Promise<void> => {
    const list = db.objectStoreNames;
    const names = Array.from({ length: list.length }, (_, i) => list.item(i)!);
    const tx = db.transaction(names, 'readwrite');
    for (const name of names) void tx.objectStore(name).clear();
    if (relayUrl !== undefined) void tx.objectStore('settings').put(relayUrl, 'relayUrl');
    if (notifications !== undefined) void tx.objectStore('settings').put(notifications, 'notifications');
    await tx.done;
  };
  if (vault === undefined) return clear();
  await new Promise<void>((resolve, reject) => {
    void vault
      .exclusive(async () => {
        try {
          await clear();
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
          return;
        }
        resolve();
        // Hold the gate shut: this vault's key is gone with the data.
        await new Promise<never>(() => undefined);
      })
      // The wipe's outcome goes out through resolve/reject above; the gate itself never settles.
      .catch(() => undefined);
  });
}

/** The steps of deleting an account, as seams (the background passes its own; tests pass theirs). */
export interface DeleteAccountSteps {
  /** Any cheap relay call: deleting needs the relay, so an offline attempt changes nothing. */
  reachRelay(): Promise<void>;
  conversations(): ConversationSummary[];
  leave(conversationId: string): Promise<void>;
  deleteAtRelay(): Promise<void>;
}

const OFFLINE = t('bg_err_delete_offline');

/**
 * Leave every conversation, then delete the account at the relay. A leave
 * that fails because the relay is gone stops everything (the person tries
 * again; conversations already left stay left); a conversation that cannot
 * be left for another reason (the group changed under us, it is gone at the
 * relay) is not a reason to keep the account, and is wiped with the rest.
 */
export async function deleteAccountEverywhere(steps: DeleteAccountSteps): Promise<void> {
  try {
    await steps.reachRelay();
  } catch (err) {
    throw new ChannelError(ErrorCode.Unavailable, OFFLINE, { cause: err });
  }
  for (const c of steps.conversations()) {
    if (c.status !== 'active') continue;
    try {
      await steps.leave(c.id);
    } catch (err) {
      if (offline(err)) throw new ChannelError(ErrorCode.Unavailable, OFFLINE, { cause: err });
    }
  }
  try {
    await steps.deleteAtRelay();
  } catch (err) {
    if (offline(err)) throw new ChannelError(ErrorCode.Unavailable, OFFLINE, { cause: err });
    if (classify(err).relayCode === 'unauthenticated') {
      throw new ChannelError(ErrorCode.Forbidden, t('bg_err_session_rejected'), { cause: err });
    }
    throw new ChannelError(ErrorCode.Unavailable, t('bg_err_delete_refused', err instanceof Error ? err.message : String(err)), { cause: err });
  }
}

function offline(err: unknown): boolean {
  // The chat wraps relay failures; an unreachable relay reads "You are offline".
  return isUnreachable(err) || (err instanceof ChannelError && err.code === ErrorCode.Unavailable && isUnreachable(err.cause));
}
