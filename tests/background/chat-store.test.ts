// Persistence of chat transitions: all-or-nothing in one IndexedDB
// transaction, everything secret sealed at rest; and the passkey lock's
// rotation of every sealed record to a wrapped data key.
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { getCipherSuite } from '../../lib/crypto/suites.ts';
import { createGroup, generateIdentity } from '../../lib/mls/group.ts';
import { ChatStore, type ConversationMeta, type MessageRecord } from '../../lib/background/chat-store.ts';
import { openDatabase, vaultKeySlot, type Database } from '../../lib/background/db.ts';
import { deriveKek, loadWrappedKey, unlockVault } from '../../lib/background/lock.ts';
import { rotateDataKey } from '../../lib/background/key-rotation.ts';
import { Vault } from '../../lib/background/vault.ts';

let n = 0;
async function fresh(): Promise<{ db: Database; vault: Vault; store: ChatStore }> {
  const db = await openDatabase(`chat-store-${process.pid}-${n++}`);
  const vault = await Vault.open(vaultKeySlot(db));
  return { db, vault, store: new ChatStore(db, vault) };
}

const meta = (id: string): ConversationMeta => ({
  v: 1,
  id,
  name: 'Canary conversation name',
  status: 'active',
  queue: 'Q'.repeat(43),
  unread: 0,
  lastActivity: 1,
  nextSeq: 0,
  memberCount: 1,
  epoch: 0,
  invites: [],
});

const message = (conversationId: string, seq: number, id = `m${seq}`): MessageRecord => ({
  id,
  conversationId,
  seq,
  kind: 'text',
  text: `canary plaintext ${seq}`,
  sender: { memberId: 'x', displayName: 'A', self: true },
  sentAt: 1,
  status: 'sent',
});

async function groupState() {
  const suite = getCipherSuite(1);
  return createGroup(suite, await generateIdentity(suite, new TextEncoder().encode('A')));
}

describe('chat store', () => {
  it('writes a transition as one unit and seals everything secret', async () => {
    const { db, store } = await fresh();
    const state = await groupState();
    await store.apply({
      metas: [meta('c1')],
      groups: [{ id: 'c1', state }],
      messages: [message('c1', 0), message('c1', 1)],
      outboxPut: [{ messageId: 'm1', conversationId: 'c1', createdAt: 1, payload: new Uint8Array([9, 9]), queue: new Uint8Array(32) }],
      seen: ['h1'],
    });
    expect((await store.loadMetas()).map((m) => m.name)).toEqual(['Canary conversation name']);
    expect((await store.loadGroup('c1'))?.context.groupId).toEqual(state.context.groupId);
    expect((await store.page('c1', null, 10)).messages.map((m) => m.text)).toEqual(['canary plaintext 0', 'canary plaintext 1']);
    expect(await store.isSeen('h1')).toBe(true);
    // Nothing readable at rest.
    const raw = JSON.stringify(
      await Promise.all((['conversations', 'messages', 'outbox', 'groups'] as const).map(async (s) => {
        const rows = await db.getAll(s);
        return rows.map((r) => Buffer.from(JSON.stringify(r, (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : v))).toString());
      })),
    );
    expect(raw).not.toContain('canary');
  });

  it('a failing write aborts the whole transition (duplicate message id, invalid key)', async () => {
    const { store } = await fresh();
    await store.apply({ metas: [meta('c1')], messages: [message('c1', 0, 'dup')] });
    const changed = { ...meta('c1'), name: 'Changed' };
    await expect(store.apply({ metas: [changed], messages: [message('c1', 1, 'dup')], seen: ['h2'] })).rejects.toThrow();
    expect((await store.loadMetas())[0]!.name).toBe('Canary conversation name');
    expect(await store.isSeen('h2')).toBe(false);
    await expect(store.apply({ metas: [changed], messages: [message('c1', Number.NaN)] })).rejects.toThrow();
    expect((await store.loadMetas())[0]!.name).toBe('Canary conversation name');
    expect((await store.page('c1', null, 10)).messages).toHaveLength(1);
  });

  it('pages by position, not by seq arithmetic: gaps in seq, exact fits and other conversations around', async () => {
    const { store } = await fresh();
    const seqs = [0, 2, 3, 7, 9, 10];
    await store.apply({ metas: [meta('c1'), meta('c0'), meta('c2')], messages: [message('c0', 50), ...seqs.map((q) => message('c1', q)), message('c2', 0)] });
    const page = async (before: number | null, limit: number) => {
      const p = await store.page('c1', before, limit);
      return { seqs: p.messages.map((m) => m.seq), more: p.more };
    };
    expect(await page(null, 3)).toEqual({ seqs: [7, 9, 10], more: true });
    expect(await page(7, 3)).toEqual({ seqs: [0, 2, 3], more: false });
    expect(await page(7, 2)).toEqual({ seqs: [2, 3], more: true });
    expect(await page(null, 6)).toEqual({ seqs: seqs, more: false });
    expect(await page(null, 5)).toEqual({ seqs: [2, 3, 7, 9, 10], more: true });
    expect(await page(null, 50)).toEqual({ seqs: seqs, more: false });
    expect(await page(null, 0)).toEqual({ seqs: [], more: true });
  });

  it('reads the pending Commits of many conversations at once: only those that exist and open, the same as one by one', async () => {
    const { db, store } = await fresh();
    const state = await groupState();
    await store.apply({
      metas: [meta('c1'), meta('c2'), meta('c3')],
      groups: [{ id: 'c1', state }, { id: 'c2', state }, { id: 'c3', state }],
      pending: [{ id: 'c1', value: { hash: 'H1', baseEpoch: 0, state } }, { id: 'c3', value: { hash: 'H3', baseEpoch: 0, state } }],
    });
    // c3's record is moved into another slot: its authentication binds it to its own key, so it does not open.
    await db.put('groups', (await db.get('groups', 'c1#pending'))!, 'c3#pending');
    const all = await store.loadPendings(['c1', 'c2', 'c3', 'missing']);
    expect([...all.keys()]).toEqual(['c1']);
    expect(all.get('c1')!.hash).toBe('H1');
    expect(all.get('c1')!.state.context.epoch).toBe((await store.loadPending('c1'))!.state.context.epoch);
    await expect(store.loadPending('c3')).rejects.toThrow();
    expect((await store.loadPendings(['c2'])).size).toBe(0);
  });

  it('pages backwards with a cursor and deletes a conversation with everything under it', async () => {
    const { store } = await fresh();
    await store.apply({ metas: [meta('c1'), meta('c2')], messages: [...Array.from({ length: 7 }, (_, i) => message('c1', i)), message('c2', 0)] });
    const p1 = await store.page('c1', null, 3);
    expect(p1.messages.map((m) => m.seq)).toEqual([4, 5, 6]);
    expect(p1.more).toBe(true);
    const p3 = await store.page('c1', 1, 3);
    expect(p3.messages.map((m) => m.seq)).toEqual([0]);
    expect(p3.more).toBe(false);
    await store.apply({ deleteConversation: 'c1' });
    expect((await store.loadMetas()).map((m) => m.id)).toEqual(['c2']);
    expect((await store.page('c1', null, 10)).messages).toEqual([]);
    expect((await store.page('c2', null, 10)).messages).toHaveLength(1);
  });

  it('enabling the lock re-seals every record under a fresh key that is stored only wrapped', async () => {
    const { db, vault, store } = await fresh();
    const state = await groupState();
    await store.apply({
      metas: [meta('c1')],
      groups: [{ id: 'c1', state }],
      pending: [{ id: 'c1', value: { hash: 'H', baseEpoch: 0, state } }],
      messages: [message('c1', 0)],
      outboxPut: [{ messageId: 'm0', conversationId: 'c1', createdAt: 1, payload: new Uint8Array([1]), queue: new Uint8Array(32) }],
    });
    const prf = new Uint8Array(32).fill(5);
    const salt = new Uint8Array(32).fill(6);
    const oldKey = Vault.fromKey((await db.get('keys', 'device'))!);
    await rotateDataKey(db, vault, { to: 'wrapped', kek: deriveKek(prf, salt), how: { kind: 'prf', salt, credentialId: 'cred', displayName: 'A' } });
    expect(await db.get('keys', 'device')).toBeUndefined();
    // The old key no longer opens anything; the new one (now the live vault's) opens everything, clear fields kept.
    await expect(new ChatStore(db, oldKey).loadGroup('c1')).rejects.toThrow();
    const s2 = new ChatStore(db, vault);
    expect((await s2.loadMetas())[0]!.name).toBe('Canary conversation name');
    expect((await s2.loadPending('c1'))?.hash).toBe('H');
    expect((await s2.page('c1', null, 5)).messages[0]!.text).toBe('canary plaintext 0');
    expect((await s2.outbox())[0]!.payload).toEqual(new Uint8Array([1]));
    // Unwrapping with the same PRF gives a vault that reads the same records; another PRF fails.
    const wrapped = (await loadWrappedKey(db))!;
    const unlocked = await unlockVault(wrapped, prf);
    expect((await new ChatStore(db, unlocked).loadGroup('c1'))?.context.epoch).toBe(0n);
    await expect(unlockVault(wrapped, new Uint8Array(32))).rejects.toMatchObject({ code: 'locked' });
  });
});
