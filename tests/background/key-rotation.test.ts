// Rotating the data key under a live vault: writers wait, a record deleted
// meanwhile stays deleted, every store is classified as sealed or clear, and
// both keys open a record whatever its generation tag says.
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { ChatStore, type MessageRecord } from '../../lib/background/chat-store.ts';
import { openDatabase, vaultKeySlot } from '../../lib/background/db.ts';
import {
  beginRotation,
  CLEAR_STORES,
  finishRotation,
  loadRotation,
  rewriteRecords,
  rotateDataKey,
  SEALED_STORES,
} from '../../lib/background/key-rotation.ts';
import { Vault } from '../../lib/background/vault.ts';

let n = 0;
async function fresh() {
  const db = await openDatabase(`rotation-${process.pid}-${n++}`);
  const vault = await Vault.open(vaultKeySlot(db));
  const oldKey = Vault.fromKey((await db.get('keys', 'device'))!);
  return { db, vault, oldKey, store: new ChatStore(db, vault) };
}

const msg = (seq: number): MessageRecord => ({
  id: `m${seq}`,
  conversationId: 'c',
  seq,
  kind: 'text',
  text: `text ${seq}`,
  sender: { memberId: 'x', displayName: 'A', self: true },
  sentAt: 1,
  status: 'sent',
});

describe('key rotation', () => {
  it('knows every object store: each is either sealed (rotated) or clear', async () => {
    const { db } = await fresh();
    expect([...db.objectStoreNames].sort()).toEqual([...SEALED_STORES, ...CLEAR_STORES].sort());
  });

  it('holds writers back: one in flight finishes first and is rotated, one that arrives later is sealed under the new key', async () => {
    const { db, vault, oldKey, store } = await fresh();
    const early = store.apply({ messages: [msg(0)] });
    const rotation = rotateDataKey(db, vault, { to: 'device' });
    const late = store.apply({ messages: [msg(1)] });
    await Promise.all([early, rotation, late]);
    const marker = await rotation;
    const rows = await db.getAll('messages');
    expect(rows.map((r) => r.sealed.g)).toEqual([marker.gen, marker.gen]);
    expect((await store.page('c', null, 10)).messages.map((m) => m.text)).toEqual(['text 0', 'text 1']);
    // The old device key is gone and opens neither record.
    for (const r of rows) await expect(oldKey.open('messages', `c/${r.seq}`, r.sealed)).rejects.toMatchObject({ code: 'corrupt' });
    expect(await db.getAllKeys('keys')).toEqual(['device']);
    expect(await loadRotation(db)).toBeUndefined();
  });

  it('does not bring back a record deleted between its read and its rewrite', async () => {
    const { db, vault, store } = await fresh();
    await store.apply({ messages: [msg(0), msg(1)] });
    const { marker, next } = await beginRotation(db, { to: 'device' });
    // An unguarded delete queued after the batch was read: its transaction runs before the rewrite's.
    const rewritten = await rewriteRecords(db, vault, next, marker, {
      interrupt: (_n, phase) => {
        if (phase === 'sealed') void db.delete('messages', ['c', 1]);
      },
    });
    await finishRotation(db, marker);
    expect(rewritten).toBe(1);
    expect((await db.getAll('messages')).map((r) => r.seq)).toEqual([0]);
  });

  it('opens a record with either key during a rotation, whatever its tag, and leaves unreadable ones alone', async () => {
    const { db, vault, store } = await fresh();
    await store.apply({ messages: [msg(0)] });
    const { marker, next } = await beginRotation(db, { to: 'device' });
    // A wrong tag (a stale one that happens to equal the new generation) still opens with the old key.
    const row = (await db.get('messages', ['c', 0]))!;
    await db.put('messages', { ...row, sealed: { ...row.sealed, g: marker.gen } });
    await db.put('tokens', { v: 1, iv: new Uint8Array(12), ct: new Uint8Array(20) }, 'garbage');
    // Records tagged with the new generation are skipped by design; clear the tag to make it eligible.
    await db.put('messages', { ...row, sealed: { ...row.sealed, g: 1 } });
    expect(await rewriteRecords(db, vault, next, marker)).toBe(1);
    await finishRotation(db, marker);
    vault.adopt(next);
    expect((await store.page('c', null, 10)).messages[0]!.text).toBe('text 0');
    expect(await db.get('tokens', 'garbage')).toMatchObject({ iv: new Uint8Array(12) });
  });

  it('refuses to start a second rotation over an unfinished one', async () => {
    const { db, vault } = await fresh();
    await beginRotation(db, { to: 'device' });
    await expect(rotateDataKey(db, vault, { to: 'device' })).rejects.toMatchObject({ code: 'corrupt' });
  });
});
