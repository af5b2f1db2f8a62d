/**
 * Disappearing messages reach the open screens (issue #20): a sweep
 * (expiry.ts) deletes what is due and publishes an ExpiredEvent naming
 * exactly those seqs, per conversation; the unread count drops by the unread
 * ones among them; nothing due, nothing published. The event is parsed
 * strictly on the view side (rich-messages.ts parseExpiredEvent).
 */
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import type { ConversationMeta, MessageRecord } from '../../lib/background/chat-store.ts';
import { Conversations, type ChatDeps } from '../../lib/background/conversations.ts';
import { openDatabase, vaultKeySlot } from '../../lib/background/db.ts';
import { Expiry } from '../../lib/background/expiry.ts';
import type { Outbox } from '../../lib/background/outbox.ts';
import { Vault } from '../../lib/background/vault.ts';
import { MAX_EXPIRED_SEQS, parseExpiredEvent } from '../../lib/protocol/rich-messages.ts';

let n = 0;
/** A day ahead: the timer `arm` sets after each sweep (real clock) must not fire during the test. */
const T = Date.now() + 86_400_000;

const meta = (id: string, over: Partial<ConversationMeta> = {}): ConversationMeta => ({
  v: 1, id, name: 'n', status: 'active', queue: 'Q'.repeat(43), unread: 0, lastActivity: 1, nextSeq: 0, memberCount: 2, epoch: 1, invites: [], ...over,
});

const record = (conversationId: string, seq: number, self: boolean): MessageRecord => ({
  id: `m${seq}`, conversationId, seq, kind: 'text', text: `text ${seq}`, sender: { memberId: self ? 'me' : 'bob', displayName: self ? 'Me' : 'Bob', self }, sentAt: 1, status: self ? 'sent' : 'received',
});

async function setup(): Promise<{ c: Conversations; expiry: Expiry; events: { conversationId: string; seqs: number[] }[] }> {
  const db = await openDatabase(`expiry-event-${process.pid}-${n++}`);
  const vault = await Vault.open(vaultKeySlot(db));
  const events: { conversationId: string; seqs: number[] }[] = [];
  const deps = {
    db,
    vault,
    onSummaries: () => undefined,
    onMessages: () => undefined,
    onExpired: (conversationId: string, seqs: number[]) => events.push({ conversationId, seqs }),
    ack: () => undefined,
  } as unknown as ChatDeps;
  const c = new Conversations(deps);
  return { c, expiry: new Expiry(c, {} as Outbox), events };
}

describe('expiry publishes what it deleted', () => {
  it('a sweep publishes exactly the expired seqs of each conversation, deletes them, and takes the unread ones off the count', async () => {
    const { c, expiry, events } = await setup();
    // c1: seqs 0..5; 1 (Bob's, read), 3 and 4 (Bob's, unread), 5 (ours) expire by T + 1000; 2 later; 0 never.
    const m1 = meta('c1', { nextSeq: 6, unread: 3, readSeq: 1, expiring: [{ seq: 3, at: T + 1000 }, { seq: 1, at: T + 1000 }, { seq: 2, at: T + 9000 }, { seq: 5, at: T + 500 }, { seq: 4, at: T + 1000 }] });
    const m2 = meta('c2', { nextSeq: 2, expiring: [{ seq: 1, at: T + 9000 }] });
    const m3 = meta('c3', { nextSeq: 1 });
    await c.apply({
      metas: [m1, m2, m3],
      messages: [0, 1, 2, 3, 4].map((s) => record('c1', s, false)).concat(record('c1', 5, true), record('c2', 0, false), record('c2', 1, false), record('c3', 0, false)),
    });
    expect(await expiry.sweep(T + 1000)).toBe(4);
    expect(events).toEqual([{ conversationId: 'c1', seqs: [1, 3, 4, 5] }]);
    expect((await c.store.page('c1', null, 10)).messages.map((m) => m.seq)).toEqual([0, 2]);
    expect(c.metas.get('c1')!.unread).toBe(1);
    expect(c.metas.get('c1')!.expiring).toEqual([{ seq: 2, at: T + 9000 }]);
    // Nothing more due: nothing published.
    expect(await expiry.sweep(T + 1000)).toBe(0);
    expect(events).toHaveLength(1);
    // Later: the rest of c1 and c2, each conversation its own event.
    expect(await expiry.sweep(T + 9000)).toBe(2);
    expect(events.slice(1)).toEqual([{ conversationId: 'c1', seqs: [2] }, { conversationId: 'c2', seqs: [1] }]);
    expect((await c.store.page('c2', null, 10)).messages.map((m) => m.seq)).toEqual([0]);
    expect((await c.store.page('c3', null, 10)).messages.map((m) => m.seq)).toEqual([0]);
    expiry.stop();
  });

  it('a large sweep is told in events of at most MAX_EXPIRED_SEQS seqs, together all of them', async () => {
    const { c, expiry, events } = await setup();
    const count = MAX_EXPIRED_SEQS + 7;
    const seqs = Array.from({ length: count }, (_, i) => i);
    await c.apply({ metas: [meta('big', { nextSeq: count, expiring: seqs.map((seq) => ({ seq, at: T + 10 })) })] });
    expect(await expiry.sweep(T + 10)).toBe(count);
    expect(events.map((e) => e.seqs.length)).toEqual([MAX_EXPIRED_SEQS, 7]);
    expect(events.flatMap((e) => e.seqs)).toEqual(seqs);
    for (const e of events) expect(parseExpiredEvent({ type: 'expired', ...e })).not.toBeNull();
    expiry.stop();
  });

  it('the view reads an ExpiredEvent strictly: exactly its three keys, an id, 1..MAX ascending safe-integer seqs', () => {
    const ok = { type: 'expired', conversationId: 'c_1-x', seqs: [0, 4, 9] };
    expect(parseExpiredEvent(ok)).toEqual(ok);
    for (const bad of [
      null,
      [],
      'expired',
      { ...ok, type: 'messages' },
      { ...ok, extra: 1 },
      { ...ok, conversationId: 'a/b' },
      { ...ok, conversationId: '' },
      { ...ok, conversationId: 7 },
      { ...ok, seqs: [] },
      { ...ok, seqs: [3, 2] },
      { ...ok, seqs: [2, 2] },
      { ...ok, seqs: [-1] },
      { ...ok, seqs: [1.5] },
      { ...ok, seqs: ['1'] },
      { ...ok, seqs: [2 ** 53] },
      { ...ok, seqs: Array.from({ length: MAX_EXPIRED_SEQS + 1 }, (_, i) => i) },
      { type: 'expired', conversationId: 'c' },
    ]) {
      expect(parseExpiredEvent(bad)).toBeNull();
    }
  });
});
