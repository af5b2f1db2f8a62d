// The view state kept for a wake (lib/background/wake-state.ts): the full background keeps its published state,
// sealed, and a woken worker's shell answers from it before the full background is loaded. What is kept must be what
// the full background shows once started again; it must never outlive the rules that make it so (the lock, a version,
// the relay session, a mute, anything in flight); and it is sealed like every other record.
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { getCipherSuite } from '../../lib/crypto/suites.ts';
import { createGroup, generateIdentity } from '../../lib/mls/group.ts';
import { BackgroundApp } from '../../lib/background/background-app.ts';
import { ChatStore, type ConversationMeta } from '../../lib/background/chat-store.ts';
import { type Database } from '../../lib/background/db.ts';
import type { Vault } from '../../lib/background/vault.ts';
import { WRAPPED } from '../../lib/background/lock.ts';
import { ROTATION } from '../../lib/background/key-rotation.ts';
import { readWakeState, WakeStateWriter } from '../../lib/background/wake-state.ts';
import { MUTE_ALWAYS, type AppState } from '../../lib/protocol/channel.ts';
import { seedAccount } from '../support/seeded-profile.ts';
import { waitUntil } from '../integration/support/device.ts';

const VERSION = '1.2.3';
const HOUR = 3_600_000;
/** Long enough that no chance match in random bytes is plausible (searched for in the raw database). */
const SECRET_NAME = 'Surprise party for Quentin-7f3a9c';

let dbCount = 0;
async function seeded(metas: (i: number) => Partial<ConversationMeta> = () => ({})): Promise<{ db: Database; vault: Vault }> {
  const { db, vault } = await seedAccount(`wake-state-${process.pid}-${dbCount++}`, 'Wendy');
  const suite = getCipherSuite(1);
  const state = await createGroup(suite, await generateIdentity(suite, new TextEncoder().encode('Wendy')));
  const store = new ChatStore(db, vault);
  for (let i = 0; i < 5; i++) {
    const id = `conversation-${i}`;
    await store.apply({
      metas: [{ v: 1, id, name: i === 0 ? SECRET_NAME : `Conversation ${i}`, status: 'active', queue: 'Q'.repeat(43), unread: i, lastActivity: 1000 + i, nextSeq: 0, memberCount: 2, epoch: 0, invites: [], ...metas(i) }],
      groups: [{ id, state }],
    });
  }
  return { db, vault };
}

async function kept(db: Database, now = Date.now()): Promise<AppState> {
  let state: AppState | undefined;
  await waitUntil(async () => (state = await readWakeState(db, VERSION, now)) !== undefined, 5_000, 'the kept state');
  return state!;
}

function writer(db: Database, vault: Vault, sessionEnds = Date.now() + HOUR): WakeStateWriter {
  return new WakeStateWriter(db, VERSION, () => vault, () => sessionEnds);
}

describe('the view state kept for a wake', () => {
  it('is what the full background shows once started again: the account, every conversation, the unread count', async () => {
    const { db } = await seeded((i) => (i === 1 ? { pinnedAt: 5, mutedUntil: MUTE_ALWAYS } : i === 2 ? { archived: true } : {}));
    const first = await BackgroundApp.start({ db, version: VERSION });
    const state = await kept(db);
    first.stop();

    const again = await BackgroundApp.start({ db, version: VERSION });
    // Started with a WebSocket the full background is connecting by then; these tests give it none.
    expect(state.connection).toBe('connecting');
    expect({ ...state, connection: again.snapshot.connection }).toEqual(again.snapshot);
    expect(state.conversations.map((c) => c.name)).toContain(SECRET_NAME);
    expect(state.unreadTotal).toBe(0 + 1 + 2 + 3 + 4);
    again.stop();
  });

  it('follows the state: a change is kept a moment later', async () => {
    const { db } = await seeded();
    const app = await BackgroundApp.start({ db, version: VERSION });
    await kept(db);
    await app.handlers['conversation.setPinned']({ conversationId: 'conversation-3', pinned: true });
    await waitUntil(async () => (await readWakeState(db, VERSION, Date.now()))?.conversations.find((c) => c.id === 'conversation-3')?.pinnedAt !== undefined, 5_000, 'the pin kept');
    app.stop();
  });

  it('is sealed: the database holds neither a conversation name nor the display name in the clear', async () => {
    const { db } = await seeded();
    const app = await BackgroundApp.start({ db, version: VERSION });
    await kept(db);
    app.stop();
    const record = await db.get('secrets', 'wake-state');
    expect(record).toBeDefined();
    const bytes = JSON.stringify(record, (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : v));
    expect(bytes).not.toContain(SECRET_NAME);
    expect(bytes).not.toContain('Wendy');
  });

  it('is not used by another version, once the relay session ends, or once a mute ends', async () => {
    const { db, vault } = await seeded((i) => (i === 4 ? { mutedUntil: Date.now() + 8 * HOUR } : {}));
    const app = await BackgroundApp.start({ db, version: VERSION });
    const state = await kept(db);
    app.stop();
    expect(await readWakeState(db, '1.2.4', Date.now())).toBeUndefined();
    // The mute's end: the full background would then show the conversation unmuted.
    expect(await readWakeState(db, VERSION, Date.now() + 8 * HOUR + 1)).toBeUndefined();

    const w = writer(db, vault, Date.now() + HOUR);
    w.changed(state);
    await w.flush();
    expect(await readWakeState(db, VERSION, Date.now())).toBeDefined();
    // A minute before the session's end the full background asks to sign in again: the kept state is not used.
    expect(await readWakeState(db, VERSION, Date.now() + HOUR)).toBeUndefined();
  });

  it('is never kept, and one kept before is never used, with the lock on or a key rotation unfinished', async () => {
    const { db, vault } = await seeded();
    const app = await BackgroundApp.start({ db, version: VERSION });
    const state = await kept(db);
    app.stop();

    await db.put('settings', { v: 1 }, WRAPPED);
    expect(await readWakeState(db, VERSION, Date.now())).toBeUndefined();
    await db.delete('settings', WRAPPED);
    await db.put('settings', { v: 1, gen: 2, to: 'device' }, ROTATION);
    expect(await readWakeState(db, VERSION, Date.now())).toBeUndefined();
    await db.delete('settings', ROTATION);
    expect(await readWakeState(db, VERSION, Date.now())).toBeDefined();

    // The full background publishes the lock turned on: the kept state is deleted.
    const w = writer(db, vault);
    w.changed({ ...state, account: { state: 'ready', displayName: 'Wendy', lockEnabled: true, lockMethod: 'passkey' } });
    await w.flush();
    expect(await db.get('secrets', 'wake-state')).toBeUndefined();
  });

  it('is not kept while something in flight shows, nor with disappearing messages on', async () => {
    const { db, vault } = await seeded();
    const app = await BackgroundApp.start({ db, version: VERSION });
    const state = await kept(db);
    app.stop();
    const inFlight: AppState[] = [
      { ...state, share: { shareId: 's', url: 'https://example.com/private', title: '', text: 'https://example.com/private' } },
      { ...state, linking: { role: 'new', stage: 'waiting', code: 'x', expiresAt: 1 } as unknown as AppState['linking'] },
      { ...state, restore: { stage: 'restoring' } as unknown as AppState['restore'] },
      { ...state, removedFromAccount: true },
      { ...state, conversations: state.conversations.map((c, i) => (i === 0 ? { ...c, disappearAfter: 3600 } : c)) },
      { ...state, account: { state: 'locked', displayName: 'Wendy' } },
    ];
    const w = writer(db, vault);
    for (const s of inFlight) {
      w.changed(state);
      await w.flush();
      expect(await db.get('secrets', 'wake-state')).toBeDefined();
      w.changed(s);
      await w.flush();
      expect(await db.get('secrets', 'wake-state')).toBeUndefined();
    }
  });

  it('a damaged record, or no device key, leaves the answer to the full background and creates no key', async () => {
    const { db } = await seeded();
    const app = await BackgroundApp.start({ db, version: VERSION });
    await kept(db);
    app.stop();
    const record = (await db.get('secrets', 'wake-state'))!;
    const damaged = { ...record, ct: record.ct.slice() };
    damaged.ct[0]! ^= 1;
    await db.put('secrets', damaged, 'wake-state');
    expect(await readWakeState(db, VERSION, Date.now())).toBeUndefined();
    await db.put('secrets', record, 'wake-state');
    expect(await readWakeState(db, VERSION, Date.now())).toBeDefined();
    await db.delete('keys', 'device');
    expect(await readWakeState(db, VERSION, Date.now())).toBeUndefined();
    expect(await db.get('keys', 'device')).toBeUndefined();
  });

  it('keeps at once what takes a conversation or a last message away; other changes wait for the quiet moment', async () => {
    const { db, vault } = await seeded();
    const app = await BackgroundApp.start({ db, version: VERSION });
    const state = await kept(db);
    app.stop();
    const withMessage = (text: string, at: number): AppState => ({
      ...state,
      conversations: state.conversations.map((c) => (c.id === 'conversation-1' ? { ...c, lastActivity: at, lastMessage: { preview: text, senderName: 'Wendy', fromSelf: true } } : c)),
    });
    // Each change below is followed at once by a stop, which drops a write still waiting for the quiet moment.
    const keptAfter = async (before: AppState, change: AppState): Promise<AppState | undefined> => {
      const w = writer(db, vault);
      w.changed(before);
      await w.flush();
      w.changed(change);
      w.stop();
      await w.flush();
      return readWakeState(db, VERSION, Date.now());
    };
    const deleted = { ...state, conversations: state.conversations.filter((c) => c.id !== 'conversation-0') };
    expect((await keptAfter(state, deleted))?.conversations.map((c) => c.id)).not.toContain('conversation-0');
    // The last message deleted: the preview falls back to an older one.
    expect((await keptAfter(withMessage('the secret plan', 5000), withMessage('an older message', 5000)))?.conversations.find((c) => c.id === 'conversation-1')?.lastMessage?.preview).toBe('an older message');
    // A newer message waits for the quiet moment (a burst is written once); so does a pin.
    expect((await keptAfter(withMessage('first', 5000), withMessage('second', 6000)))?.conversations.find((c) => c.id === 'conversation-1')?.lastMessage?.preview).toBe('first');
    const pinned = { ...state, conversations: state.conversations.map((c) => (c.id === 'conversation-2' ? { ...c, pinnedAt: 9 } : c)) };
    expect((await keptAfter(state, pinned))?.conversations.find((c) => c.id === 'conversation-2')?.pinnedAt).toBeUndefined();
  });

  it('is not written by an instance that stopped', async () => {
    const { db, vault } = await seeded();
    const app = await BackgroundApp.start({ db, version: VERSION });
    const state = await kept(db);
    app.stop();
    await db.delete('secrets', 'wake-state');
    const w = writer(db, vault);
    w.stop();
    w.changed(state);
    await w.flush();
    expect(await db.get('secrets', 'wake-state')).toBeUndefined();
  });
});
