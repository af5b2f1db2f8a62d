// Ending the account on this device: deleting it leaves every conversation
// before the relay forgets the account, and an offline attempt changes
// nothing; the wipe leaves no record of the account in any store, keeps the
// two plain settings, and holds back a write still using the old key.
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { deleteAccountEverywhere, wipeDevice, type DeleteAccountSteps } from '../../lib/background/account-removal.ts';
import { openDatabase, saveSetting, vaultKeySlot } from '../../lib/background/db.ts';
import { ChannelError, ErrorCode, type ConversationSummary } from '../../lib/protocol/channel.ts';
import { RelayApiError } from '../../lib/background/relay-api.ts';
import { Vault } from '../../lib/background/vault.ts';

const conv = (id: string, status: ConversationSummary['status']): ConversationSummary => ({
  id,
  name: id,
  status,
  unread: 0,
  memberCount: 2,
  lastActivity: 0,
});

function steps(over: Partial<DeleteAccountSteps> = {}): { log: string[]; steps: DeleteAccountSteps } {
  const log: string[] = [];
  return {
    log,
    steps: {
      reachRelay: async () => void log.push('reach'),
      conversations: () => [conv('a', 'active'), conv('b', 'left'), conv('c', 'active'), conv('d', 'removed')],
      leave: async (id) => void log.push(`leave ${id}`),
      deleteAtRelay: async () => void log.push('delete'),
      ...over,
    },
  };
}

const unreachable = (): RelayApiError => new RelayApiError(0, 'unreachable', 'The relay could not be reached.');

describe('deleting the account', () => {
  it('leaves every active conversation, then deletes the account at the relay', async () => {
    const { log, steps: s } = steps();
    await deleteAccountEverywhere(s);
    expect(log).toEqual(['reach', 'leave a', 'leave c', 'delete']);
  });

  it('offline: nothing is left and nothing deleted', async () => {
    const { log, steps: s } = steps({ reachRelay: async () => Promise.reject(unreachable()) });
    await expect(deleteAccountEverywhere(s)).rejects.toThrow(/offline.*Nothing was deleted/);
    expect(log).toEqual([]);
  });

  it('the relay going away halfway stops before the account is deleted', async () => {
    const { log, steps: s } = steps({
      leave: async (id) => {
        if (id === 'c') throw new ChannelError(ErrorCode.Unavailable, 'You are offline: leaving needs the relay.', { cause: unreachable() });
        log.push(`leave ${id}`);
      },
    });
    await expect(deleteAccountEverywhere(s)).rejects.toMatchObject({ code: ErrorCode.Unavailable });
    expect(log).toEqual(['reach', 'leave a']);
  });

  it('a conversation that cannot be left for another reason does not keep the account', async () => {
    const { log, steps: s } = steps({
      leave: async (id) => {
        if (id === 'a') throw new ChannelError(ErrorCode.Unavailable, 'The relay refused: not found', { cause: new RelayApiError(404, 'not_found', 'not found') });
        log.push(`leave ${id}`);
      },
    });
    await deleteAccountEverywhere(s);
    expect(log).toEqual(['reach', 'leave c', 'delete']);
  });

  it('a session the relay no longer accepts is said plainly', async () => {
    const { steps: s } = steps({ deleteAtRelay: async () => Promise.reject(new RelayApiError(401, 'unauthenticated', 'session required')) });
    await expect(deleteAccountEverywhere(s)).rejects.toMatchObject({ code: ErrorCode.Forbidden });
  });
});

describe('wiping this device', () => {
  it('clears every store (keys, sealed records, the lock) but the relay URL and the notifications choice, and holds back late writes', async () => {
    const db = await openDatabase(`wipe-${Math.random()}`);
    const vault = await Vault.open(vaultKeySlot(db));
    await saveSetting(db, 'relayUrl', 'https://relay.example.org');
    await saveSetting(db, 'notifications', false);
    await db.put('settings', { kind: 'prf' }, 'wrapped');
    await db.put('secrets', await vault.sealJson('secrets', 'account', { v: 1 }), 'account');
    await db.put('tokens', await vault.sealJson('tokens', 't1', { x: 1 }), 't1');
    await db.put('conversations', await vault.sealJson('conversations', 'c1', { id: 'c1' }), 'c1');
    await db.put('seen', { at: 1 }, 'h1');
    await wipeDevice(db, vault);
    for (const store of ['keys', 'secrets', 'tokens', 'conversations', 'groups', 'messages', 'outbox', 'seen'] as const) {
      expect(await db.count(store), store).toBe(0);
    }
    expect(await db.getAllKeys('settings')).toEqual(['notifications', 'relayUrl']);
    // A writer that still holds the old vault never lands a record sealed under the deleted key.
    let wrote = false;
    void vault.writing(async () => {
      wrote = true;
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(wrote).toBe(false);
    db.close();
  });
});
