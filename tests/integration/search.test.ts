/**
 * Search over a real relay, two people (docs/search.md): what Bob's device
 * finds after Alice sends, edits, deletes and lets a text disappear; that the
 * raw IndexedDB holds none of the words searched in the clear (the index is in
 * memory only, the records sealed); and that a locked MicroChat does not search.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatService } from '../../lib/background/chat-service.ts';
import { ErrorCode } from '../../lib/protocol/channel.ts';
import { startRelay, type RelayProcess } from '../support/relay-process.ts';
import { startDevice, waitUntil, type Device } from './support/device.ts';

const SLOW = Number(process.env.MICROCHAT_TEST_SLOW ?? 1);
const chatOf = (d: Device): ChatService => (d.app as unknown as { chat: ChatService }).chat;

/** Every value of every store of the raw database, as text (bytes as Latin-1, so ASCII in the clear shows). */
async function rawDump(d: Device): Promise<string> {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (v instanceof Uint8Array || v instanceof ArrayBuffer) out.push(String.fromCharCode(...new Uint8Array(v instanceof ArrayBuffer ? v : v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength))));
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        out.push(k);
        walk(x);
      }
    }
    else out.push(String(v));
  };
  for (const store of d.db.objectStoreNames) {
    const tx = d.db.transaction(store);
    const [keys, values] = await Promise.all([tx.store.getAllKeys(), tx.store.getAll()]);
    walk(keys);
    walk(values);
  }
  return out.join('\n').toLowerCase();
}

describe('search over a real relay', () => {
  let relay: RelayProcess;
  let a: Device;
  let b: Device;
  let conv = '';
  let other = '';
  const search = async (d: Device, query: string, conversationId: string | null = null): Promise<string[]> =>
    (await d.app.handlers['messages.search']({ query, conversationId })).hits.map((h) => h.snippet);
  const texts = async (d: Device, id = conv): Promise<string[]> => (await d.app.handlers['messages.page']({ conversationId: id, beforeSeq: null, limit: 200 })).messages.map((m) => m.text);

  beforeAll(async () => {
    relay = await startRelay();
    [a, b] = await Promise.all([startDevice(relay.url, 'Alice'), startDevice(relay.url, 'Bob')]);
    await waitUntil(() => [a, b].every((d) => d.app.snapshot.connection === 'online'), 15_000 * SLOW, 'both online');
    for (const name of ['Plans', 'Other']) {
      const { conversationId } = await a.app.handlers['conversation.create']({ name });
      const inv = await a.app.handlers['invite.create']({ conversationId, mode: 'one-time' });
      await b.app.handlers['invite.join']({ link: inv.link });
      await waitUntil(async () => (await a.app.handlers['conversation.get']({ conversationId })).members.some((m) => m.displayName === 'Bob'), 20_000 * SLOW, 'Bob in');
      if (name === 'Plans') conv = conversationId;
      else other = conversationId;
    }
  }, 120_000 * SLOW);

  afterAll(async () => {
    for (const d of [a, b]) d?.app.stop();
    await relay?.stop();
  });

  it('finds texts in one conversation or all; an edit is found by its new text, a delete or an expired text never', async () => {
    // Bob searches once before anything arrives: his index is built now and must keep up with what comes later.
    expect(await search(b, 'zebra')).toEqual([]);
    await a.app.handlers['message.send']({ conversationId: conv, text: 'Zebra crossing at the Café' });
    await a.app.handlers['message.send']({ conversationId: other, text: 'another zebra' });
    const edited = await a.app.handlers['message.send']({ conversationId: conv, text: 'meet at lunchtime' });
    const deleted = await a.app.handlers['message.send']({ conversationId: conv, text: 'quokka secret' });
    await waitUntil(async () => (await texts(b)).includes('quokka secret') && (await texts(b, other)).includes('another zebra'), 20_000 * SLOW, 'Bob has them');

    expect(await search(b, 'ZEBRA cafe')).toEqual(['Zebra crossing at the Café']);
    expect((await search(b, 'zebra')).sort()).toEqual(['Zebra crossing at the Café', 'another zebra']);
    expect(await search(b, 'zebra', other)).toEqual(['another zebra']);
    await expect(b.app.handlers['messages.search']({ query: 'zebra', conversationId: 'nosuchconversation' })).rejects.toMatchObject({ code: 'not-found' });

    await a.app.handlers['message.edit']({ conversationId: conv, messageId: edited.id, text: 'meet at sundown' });
    await a.app.handlers['message.deleteForEveryone']({ conversationId: conv, messageId: deleted.id });
    await waitUntil(async () => (await texts(b)).includes('meet at sundown') && !(await texts(b)).includes('quokka secret'), 20_000 * SLOW, 'Bob has the edit and the delete');
    for (const d of [a, b]) {
      expect(await search(d, 'lunchtime')).toEqual([]);
      expect(await search(d, 'sundown')).toEqual(['meet at sundown']);
      expect(await search(d, 'quokka')).toEqual([]);
    }

    // A disappearing text: found while it lives, never once it is due (before and after the sweep deletes it).
    await a.app.handlers['conversation.setTimer']({ conversationId: conv, seconds: 300 });
    const sentAt = Date.now();
    await a.app.handlers['message.send']({ conversationId: conv, text: 'ephemeral wombat' });
    await waitUntil(async () => (await texts(b)).includes('ephemeral wombat'), 20_000 * SLOW, 'Bob has the wombat');
    expect(await search(b, 'wombat')).toEqual(['ephemeral wombat']);
    for (const d of [a, b]) expect(await chatOf(d).expireDue(sentAt + 301_000 + 5_000)).toBe(1);
    for (const d of [a, b]) expect(await search(d, 'wombat')).toEqual([]);
  });

  // Words of five letters or more: random ciphertext of a few hundred KB holds a given 3-letter string by chance
  // (this test once failed on "six"), a 5-letter one about once in a million runs.
  it('the raw IndexedDB holds none of the words in the clear: the index lives in memory only', async () => {
    // Searched a moment ago, so every index is built and full.
    expect(await search(b, 'zebra')).toHaveLength(2);
    for (const d of [a, b]) {
      const raw = await rawDump(d);
      expect(raw.length).toBeGreaterThan(1000);
      for (const word of ['zebra', 'crossing', 'sundown', 'quokka', 'wombat', 'lunchtime']) expect(raw).not.toContain(word);
    }
  });

  it('locked: no search; unlocked again, the index is read back from the sealed records', async () => {
    await b.app.handlers['lock.enable']({ passphrase: 'bob keeps a long passphrase' });
    await b.app.handlers['lock.now'](null);
    await expect(b.app.handlers['messages.search']({ query: 'zebra', conversationId: null })).rejects.toMatchObject({ code: ErrorCode.Locked });
    await b.app.handlers['account.unlockPassphrase']({ passphrase: 'bob keeps a long passphrase' });
    expect((await search(b, 'zebra')).sort()).toEqual(['Zebra crossing at the Café', 'another zebra']);
  }, 60_000 * SLOW);
});
