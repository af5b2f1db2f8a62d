// The history port over stored messages (history-port.ts): the existing device exports every
// sent or received message of its active conversations, oldest first, in pages, leaving out what
// never left; the new device keeps pages sealed per conversation (no duplicates), and the join path
// takes them once.
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { ChatStore, type ConversationMeta, type MessageRecord } from '../../../lib/background/chat-store.ts';
import { openDatabase, vaultKeySlot } from '../../../lib/background/db.ts';
import { storedHistoryPort, takeLinkedHistory } from '../../../lib/background/linking/history-port.ts';
import type { HistoryRecord } from '../../../lib/background/linking/ports.ts';
import { Vault } from '../../../lib/background/vault.ts';

async function setup() {
  const db = await openDatabase(`history-${Math.random()}`);
  const vault = await Vault.open(vaultKeySlot(db));
  const store = new ChatStore(db, vault);
  return { db, vault, store, port: storedHistoryPort(db, vault, store) };
}

const meta = (id: string, status: ConversationMeta['status'] = 'active'): ConversationMeta =>
  ({ v: 1, id, name: id, status, queue: 'q', unread: 0, lastActivity: 0, nextSeq: 0, memberCount: 1, epoch: 0 }) as ConversationMeta;

const msg = (conversationId: string, seq: number, status: MessageRecord['status'] = 'received'): MessageRecord => ({
  id: `${conversationId}-m${seq}`,
  conversationId,
  seq,
  kind: 'text',
  text: `text ${seq}`,
  sender: { memberId: 'x', displayName: 'Bob', self: false },
  sentAt: 1000 + seq,
  status,
});

describe('history port', () => {
  it('exports sent and received messages of active conversations, oldest first, in pages', async () => {
    const { store, port } = await setup();
    const messages = [...Array.from({ length: 450 }, (_, i) => msg('a', i)), msg('a', 450, 'failed'), msg('a', 451, 'sending'), msg('b', 0, 'sent'), msg('gone', 0)];
    await store.apply({ metas: [meta('a'), meta('b'), meta('gone', 'left' as ConversationMeta['status'])], messages });
    const pages: HistoryRecord[][] = [];
    for await (const p of port.pages(100)) pages.push(p);
    const all = pages.flat();
    expect(pages.every((p) => p.length <= 100)).toBe(true);
    expect(all.filter((r) => r.conversationId === 'a').map((r) => r.id)).toEqual(Array.from({ length: 450 }, (_, i) => `a-m${i}`));
    expect(all.filter((r) => r.conversationId === 'b').map((r) => r.id)).toEqual(['b-m0']);
    expect(all.some((r) => r.conversationId === 'gone')).toBe(false);
    expect(await port.count()).toBe(451);
    expect(all[0]).toEqual({ conversationId: 'a', id: 'a-m0', kind: 'text', text: 'text 0', sender: { displayName: 'Bob', self: false }, sentAt: 1000 });
  });

  it('keeps imported pages sealed per conversation, without duplicates, until taken once', async () => {
    const { db, vault, port } = await setup();
    const r = (c: string, i: number): HistoryRecord => ({ conversationId: c, id: `m${i}`, kind: 'text', text: `secret ${i}`, sender: { displayName: 'A', self: true }, sentAt: i });
    await port.importPage([r('a', 0), r('a', 1), r('b', 0)]);
    await port.importPage([r('a', 1), r('a', 2)]);
    expect(JSON.stringify(await db.getAll('secrets'))).not.toContain('secret');
    expect((await takeLinkedHistory(db, vault, 'a')).map((x) => x.id)).toEqual(['m0', 'm1', 'm2']);
    expect(await takeLinkedHistory(db, vault, 'a')).toEqual([]);
    expect((await takeLinkedHistory(db, vault, 'b')).map((x) => x.id)).toEqual(['m0']);
  });
});
