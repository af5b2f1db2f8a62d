// A message that loses the race to a Commit: Alice encrypts it in epoch N,
// Bob's Commit (which rotates the queue capability) reaches the relay first,
// and the relay refuses Alice's post as stale_capability. Alice encrypts it
// again once she is in epoch N+1 and sends it: Bob reads it exactly once and
// Alice sees it sent, not failed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRelay, type RelayProcess } from '../support/relay-process.ts';
import { startDevice, waitUntil, type Device } from './support/device.ts';
import type { ChatService } from '../../lib/background/chat-service.ts';

describe('a message that loses the race to a Commit', () => {
  let relay: RelayProcess;
  let a: Device;
  let b: Device;
  let gate: Promise<void> | undefined;
  let open: () => void = () => undefined;
  const answers: string[] = [];

  beforeAll(async () => {
    relay = await startRelay();
    // Alice's posts to the queue wait while the gate is closed; what the relay answers is recorded.
    const aliceFetch: typeof fetch = async (input, init) => {
      if (!String(input).endsWith('/v1/queues/send')) return fetch(input, init);
      if (gate !== undefined) await gate;
      const r = await fetch(input, init);
      answers.push(r.status === 200 ? 'ok' : String(((await r.clone().json()) as { error: { code: string } }).error.code));
      return r;
    };
    [a, b] = await Promise.all([startDevice(relay.url, 'Alice', { fetch: aliceFetch }), startDevice(relay.url, 'Bob')]);
    await waitUntil(() => [a, b].every((d) => d.app.snapshot.connection === 'online'), 15_000, 'online');
  });
  afterAll(async () => {
    for (const d of [a, b]) d?.app.stop();
    await relay?.stop();
  });

  it('is encrypted again in the new epoch and delivered once', async () => {
    const { conversationId: conv } = await a.app.handlers['conversation.create']({ name: 'Race' });
    const invite = await a.app.handlers['invite.create']({ conversationId: conv, mode: 'one-time' });
    await b.app.handlers['invite.join']({ link: invite.link });
    await a.app.handlers['message.send']({ conversationId: conv, text: 'warm up' });
    await waitUntil(() => b.received(conv).includes('warm up'), 15_000, 'Bob reads');
    // Let the announcements that follow a join (names, mailboxes, token keys) settle first.
    const names = async (d: Device): Promise<string[]> => (await d.app.handlers['conversation.get']({ conversationId: conv })).members.map((m) => m.displayName);
    await waitUntil(async () => (await names(a)).includes('Bob') && (await names(b)).includes('Alice'), 15_000, 'names known');
    await new Promise((r) => setTimeout(r, 500));
    const before = (await a.app.handlers['conversation.get']({ conversationId: conv })).epoch;

    gate = new Promise((r) => (open = r));
    answers.length = 0;
    const sent = await a.app.handlers['message.send']({ conversationId: conv, text: 'written in the old epoch' });
    await (b.app as unknown as { chat: ChatService }).chat.selfUpdate(conv);
    await waitUntil(async () => (await a.app.handlers['conversation.get']({ conversationId: conv })).epoch === before + 1, 15_000, 'Alice in the new epoch');
    open();
    gate = undefined;
    await waitUntil(() => b.received(conv).includes('written in the old epoch'), 15_000, 'Bob reads the message');
    await waitUntil(
      () => a.events.some((e) => e.type === 'messages' && e.messages.some((m) => m.id === sent.id && m.status === 'sent')),
      15_000,
      'Alice sees it sent',
    );
    // Other posts of Alice's may also have waited at the gate; hers in the old epoch was refused as stale.
    expect(answers).toContain('stale_capability');
    expect(answers).toContain('ok');
    await waitUntil(() => b.received(conv).includes('written in the old epoch'), 15_000, 'Bob receives it');
    await new Promise((r) => setTimeout(r, 300));
    expect(b.received(conv).filter((t) => t === 'written in the old epoch')).toHaveLength(1);
    const page = await a.app.handlers['messages.page']({ conversationId: conv, beforeSeq: null, limit: 20 });
    expect(page.messages.find((m) => m.id === sent.id)?.status).toBe('sent');
  });
});
