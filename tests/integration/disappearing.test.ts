/**
 * Disappearing messages over a real relay, two people: either sets the
 * conversation's timer (a system message on both, the summary shows it);
 * texts sent under it carry their expiry in the MIMI content; once due, each
 * device deletes them from its IndexedDB. The raw database is read after:
 * no row of the message is left (not hidden: gone), the messages from before
 * the timer stay, and the list preview that quoted it is gone too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatService } from '../../lib/background/chat-service.ts';
import type { ChatStore, ConversationMeta } from '../../lib/background/chat-store.ts';
import * as text from '../../lib/background/text.ts';
import { startRelay, type RelayProcess } from '../support/relay-process.ts';
import { startDevice, waitUntil, type Device } from './support/device.ts';

const SLOW = Number(process.env.MICROCHAT_TEST_SLOW ?? 1);
const chatOf = (d: Device): ChatService => (d.app as unknown as { chat: ChatService }).chat;

describe('disappearing messages over a real relay', () => {
  let relay: RelayProcess;
  let a: Device;
  let b: Device;
  let conv = '';
  const texts = async (d: Device): Promise<string[]> => (await d.app.handlers['messages.page']({ conversationId: conv, beforeSeq: null, limit: 200 })).messages.map((m) => m.text);
  const rawRows = async (d: Device): Promise<{ messageId: string; seq: number }[]> =>
    (await d.db.getAll('messages')).filter((r) => r.conversationId === conv).map((r) => ({ messageId: r.messageId, seq: r.seq }));

  const seqs = new Map<Device, Map<string, number>>();
  const rawSeq = (d: Device, id: string): number | undefined => seqs.get(d)?.get(id);

  beforeAll(async () => {
    relay = await startRelay();
    [a, b] = await Promise.all([startDevice(relay.url, 'Alice'), startDevice(relay.url, 'Bob')]);
    await waitUntil(() => [a, b].every((d) => d.app.snapshot.connection === 'online'), 15_000 * SLOW, 'both online');
    ({ conversationId: conv } = await a.app.handlers['conversation.create']({ name: 'Secrets' }));
    const inv = await a.app.handlers['invite.create']({ conversationId: conv, mode: 'one-time' });
    await b.app.handlers['invite.join']({ link: inv.link });
    await waitUntil(async () => (await a.app.handlers['conversation.get']({ conversationId: conv })).members.some((m) => m.displayName === 'Bob'), 20_000 * SLOW, 'Bob in');
  }, 120_000 * SLOW);

  afterAll(async () => {
    for (const d of [a, b]) d?.app.stop();
    await relay?.stop();
  });

  it('a timer set by one member is shown to all, and texts under it vanish from every device’s IndexedDB when due', async () => {
    const before = await a.app.handlers['message.send']({ conversationId: conv, text: 'this one stays' });
    await waitUntil(async () => (await texts(b)).includes('this one stays'), 20_000 * SLOW, 'Bob has the first text');

    await b.app.handlers['conversation.setTimer']({ conversationId: conv, seconds: 300 });
    await waitUntil(async () => (await texts(a)).includes(text.timerSet('Bob', 300)), 20_000 * SLOW, 'Alice sees the timer');
    expect(await texts(b)).toContain(text.youSetTimer(300));
    for (const d of [a, b]) expect(d.app.snapshot.conversations.find((c) => c.id === conv)?.disappearAfter).toBe(300);

    const sentAt = Date.now();
    const gone = await a.app.handlers['message.send']({ conversationId: conv, text: 'self-destructing secret' });
    await waitUntil(async () => (await texts(b)).includes('self-destructing secret'), 20_000 * SLOW, 'Bob has the secret');
    // Its row is in each raw database (the seq is each device's own).
    for (const d of [a, b]) {
      const row = (await rawRows(d)).find((r) => r.messageId === gone.id);
      expect(row).toBeDefined();
      seqs.set(d, new Map([[gone.id, row!.seq]]));
    }
    // The expiry travels in the content itself (MIMI `expires`): Bob's device schedules from what it received, not from its own timer.
    const store = (d: Device): ChatStore => (chatOf(d) as unknown as { store: ChatStore }).store;
    const metaOf = (d: Device): ConversationMeta => (chatOf(d) as unknown as { metas: Map<string, ConversationMeta> }).metas.get(conv)!;
    for (const d of [a, b]) {
      const at = metaOf(d).expiring!.find((e) => e.seq === (rawSeq(d, gone.id)))?.at;
      expect(at).toBeGreaterThanOrEqual(sentAt + 299_000);
      expect(at).toBeLessThanOrEqual(Date.now() + 301_000);
    }

    // Not due yet: nothing goes.
    for (const d of [a, b]) expect(await chatOf(d).expireDue(sentAt + 200_000)).toBe(0);
    // Due: each device deletes it from its own database.
    for (const d of [a, b]) expect(await chatOf(d).expireDue(sentAt + 301_000 + 5_000)).toBe(1);
    for (const d of [a, b]) {
      const rows = await rawRows(d);
      expect(rows.map((r) => r.messageId)).not.toContain(gone.id);
      expect(rows.map((r) => r.messageId)).toContain(before.id);
      expect(await store(d).message(conv, gone.id)).toBeUndefined();
      expect(await texts(d)).not.toContain('self-destructing secret');
      // The list preview quoted it: gone with it.
      expect(JSON.stringify(d.app.snapshot.conversations.find((c) => c.id === conv))).not.toContain('self-destructing');
    }
  });

  it('turning the timer off: later texts stay', async () => {
    await a.app.handlers['conversation.setTimer']({ conversationId: conv, seconds: 0 });
    await waitUntil(async () => (await texts(b)).includes(text.timerSet('Alice', 0)), 20_000 * SLOW, 'Bob sees it off');
    for (const d of [a, b]) expect(d.app.snapshot.conversations.find((c) => c.id === conv)?.disappearAfter).toBeUndefined();
    const kept = await a.app.handlers['message.send']({ conversationId: conv, text: 'kept' });
    await waitUntil(async () => (await texts(b)).includes('kept'), 20_000 * SLOW, 'Bob has it');
    for (const d of [a, b]) {
      expect(await chatOf(d).expireDue(Date.now() + 10 * 86_400_000)).toBe(0);
      expect((await rawRows(d)).map((r) => r.messageId)).toContain(kept.id);
    }
  });
});
