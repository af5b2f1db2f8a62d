/**
 * Attack: a hostile member lies in receipts. Mallory, a member, sends a
 * receipt saying Alice's message was read, hoping it shows "Delivered" or
 * "Read" although Bob's device never got it; she adds ids that do not exist
 * and the id of a message that is not Alice's, and sends it twice.
 *
 * Defence (lib/background/receipts.ts): a receipt speaks only for its MLS
 * sender (V-RCPT-1), so her lie is about herself alone; it counts only for
 * the members a message was sent to (V-RCPT-2); ids that are not our own
 * texts are ignored (V-RCPT-4). Alice's message turns "Delivered" only when
 * Bob's own device says so, and "Read" only when Bob has read it.
 */
import { describe, expect, it } from 'vitest';
import { waitUntil } from '../integration/support/device.ts';
import type { AppMessage } from '../../lib/background/app-messages.ts';
import type { MessageView } from '../../lib/protocol/channel.ts';
import { withScenario } from './support/with-scenario.ts';

/** Mallory's client, used to post what an honest client never would. */
interface Forger {
  sendApp(id: string, app: AppMessage): Promise<void>;
}

describe('a member forges receipts', () => {
  const s = withScenario();

  const atAlice = async (id: string): Promise<MessageView | undefined> =>
    (await s.alice.app.handlers['messages.page']({ conversationId: s.conv, beforeSeq: null, limit: 100 })).messages.find((m) => m.id === id);

  it("Mallory's receipt speaks only for her: Alice's message stays Sent until Bob's device has it; unknown and foreign ids are ignored", async () => {
    // Bob's device is offline (its connection closed; stopping the app would end it for good): nothing of his
    // can acknowledge Alice's message.
    (s.bob.app as unknown as { link: { stop(): void } }).link.stop();
    const before = (await s.alice.app.handlers['messages.page']({ conversationId: s.conv, beforeSeq: null, limit: 100 })).messages;
    const mallorysOwn = before.find((m) => m.text === 'hi, Mallory here')!;
    const sent = await s.alice.app.handlers['message.send']({ conversationId: s.conv, text: 'for Bob and Mallory' });
    await waitUntil(() => s.mallory.received(s.conv).includes('for Bob and Mallory'), 15_000, 'Mallory has it');

    const chat = (s.mallory.app as unknown as { chat: Forger }).chat;
    const forged = (n: number): AppMessage => ({
      v: 1,
      t: 'receipt',
      id: `forged${n}`,
      at: Date.now(),
      delivered: ['doesNotExist0000000000', mallorysOwn.id],
      read: [sent.id],
    });
    await chat.sendApp(s.conv, forged(1));
    await chat.sendApp(s.conv, forged(2));
    // Mallory's honest delivered receipt and both forgeries reach Alice (each bumps the record's events).
    await waitUntil(
      () => s.alice.events.filter((e) => e.type === 'messages' && e.messages.some((m) => m.id === sent.id)).length >= 3,
      15_000,
      "Alice processed Mallory's receipts",
    );
    await new Promise((r) => setTimeout(r, 3000));
    const shown = await atAlice(sent.id);
    expect(shown?.status).toBe('sent');
    expect(shown?.delivery).toBeUndefined();
    const after = (await s.alice.app.handlers['messages.page']({ conversationId: s.conv, beforeSeq: null, limit: 100 })).messages;
    // Nothing new appeared for the unknown id, and Mallory's own message gained no status at Alice.
    expect(after.map((m) => m.id)).toEqual([...before.map((m) => m.id), sent.id]);
    expect(after.find((m) => m.id === mallorysOwn.id)?.delivery).toBeUndefined();

    // Bob comes back: his device says delivered, and only his reading makes it Read.
    (s.bob.app as unknown as { connect(): void }).connect();
    await waitUntil(async () => (await atAlice(sent.id))?.delivery === 'delivered', 20_000, "Bob's device acknowledges");
    await s.bob.app.handlers['conversation.markRead']({ conversationId: s.conv });
    await waitUntil(async () => (await atAlice(sent.id))?.delivery === 'read', 20_000, 'Bob has read it');
  });
});
