/**
 * Attack: a hostile member plays with disappearing messages.
 *
 * 1. She sets the conversation's timer to an absurd value: negative, a
 *    thousand years, 42 seconds (not a choice), a string, a fraction, null,
 *    or with an extra field. Refused: the list (off, 5 min, 1 h,
 *    1 day, 1 week) is the only thing a `timer` message may say
 *    (app-messages.ts parses it strictly); nothing is shown, the timer stays.
 * 2. Under a 5-minute timer she tries to keep her own words forever: a text
 *    with no expiry, one expiring in a year, one a relative 136 years after
 *    reading, and a text in the old JSON format (which has no expiry field).
 *    Clamped (R-RICH-7, rich-inbox.ts): a receiving device deletes a text no
 *    later than the conversation's timer after it arrived, whatever the
 *    content says; a shorter expiry of her own is hers to choose.
 * 3. She tries to make OTHER people's messages vanish: a reaction, an edit, a
 *    delete and a reply carrying an expiry in the past, naming Alice's text.
 *    An expiry is only ever of the message that carries it: Alice's text
 *    keeps its own expiry, and only Mallory's past-dated text goes at once.
 */
import { describe, expect, it } from 'vitest';
import type { ChatService } from '../../lib/background/chat-service.ts';
import type { ConversationMeta } from '../../lib/background/chat-store.ts';
import { messageIdFrom } from '../../lib/background/mimi-wire.ts';
import * as text from '../../lib/background/text.ts';
import type { AppMessage } from '../../lib/background/app-messages.ts';
import { Cardinality, Disposition, type NestedPart } from '../../lib/content/types.ts';
import { waitUntil, type Device } from '../integration/support/device.ts';
import { withScenario } from './support/with-scenario.ts';
import { SLOW, content, find, marker, page, rawContent, sendRaw } from './support/rich-attack.ts';

const chatOf = (d: Device): ChatService => (d.app as unknown as { chat: ChatService }).chat;
const metaOf = (d: Device, id: string): ConversationMeta => (chatOf(d) as unknown as { metas: Map<string, ConversationMeta> }).metas.get(id)!;
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const plain = (s: string): NestedPart => ({ disposition: Disposition.render, language: '', cardinality: Cardinality.single, contentType: 'text/plain', content: utf8(s) });
const MINUTE = 60_000;

describe('a member defeats the disappearing-message timer', () => {
  const s = withScenario();

  /** When this device will delete the message shown under this text (ms), or undefined if never. */
  const expiryOf = async (d: Device, body: string): Promise<number | undefined> => {
    const m = (await page(d, s.conv)).find((x) => x.text === body);
    if (m === undefined) throw new Error(`${d.name} has no “${body}”`);
    return metaOf(d, s.conv).expiring?.find((e) => e.seq === m.seq)?.at;
  };

  it('an absurd timer is refused on every device: no notice, the setting unchanged', async () => {
    const devices = [s.alice, s.bob, s.mallory];
    await s.alice.app.handlers['conversation.setTimer']({ conversationId: s.conv, seconds: 3600 });
    await waitUntil(async () => (await page(s.bob, s.conv)).some((m) => m.text === text.timerSet('Alice', 3600)), 20_000 * SLOW, 'Bob sees the timer');
    const systemBefore = await Promise.all([s.alice, s.bob].map(async (d) => (await page(d, s.conv)).filter((m) => m.kind === 'system').map((m) => m.id)));
    const timer = (seconds: unknown, extra: Record<string, unknown> = {}): AppMessage => ({ v: 1, t: 'timer', id: crypto.randomUUID().slice(0, 22), at: Date.now(), seconds, ...extra }) as unknown as AppMessage;
    for (const seconds of [-300, -1, 31_536_000_000, 42, 1, 300.5, '300', null, 1e308, [300]]) await sendRaw(s.mallory, s.conv, timer(seconds));
    await sendRaw(s.mallory, s.conv, timer(300, { also: 'forever' }));
    // JSON itself cannot say NaN or Infinity; written out by hand, it is not JSON.
    await sendRaw(s.mallory, s.conv, rawContent(utf8('{"v":1,"t":"timer","id":"abcdefghijklmnopqrstuv","at":1,"seconds":NaN}')));
    await marker(s.mallory, devices, s.conv, 'after the timers');
    for (const [i, d] of [s.alice, s.bob].entries()) {
      // Not one new notice (a timer that counts says "Mallory set messages to disappear ...").
      expect((await page(d, s.conv)).filter((m) => m.kind === 'system').map((m) => m.id), d.name).toEqual(systemBefore[i]);
      expect(metaOf(d, s.conv).disappearAfter, d.name).toBe(3600);
      expect(d.app.snapshot.conversations.find((c) => c.id === s.conv)?.disappearAfter).toBe(3600);
    }
  });

  it('her texts cannot outlive the conversation’s timer: no expiry, a later one, and the old format are all held to it', async () => {
    const devices = [s.alice, s.bob, s.mallory];
    await s.alice.app.handlers['conversation.setTimer']({ conversationId: s.conv, seconds: 300 });
    await waitUntil(async () => metaOf(s.bob, s.conv).disappearAfter === 300 && metaOf(s.mallory, s.conv).disappearAfter === 300, 20_000 * SLOW, 'everyone has 5 minutes');
    const start = Date.now();
    const inAYear = Math.floor(start / 1000) + 365 * 86_400;
    await sendRaw(s.mallory, s.conv, content({ body: plain('no expiry at all') }));
    await sendRaw(s.mallory, s.conv, content({ expires: { relative: false, time: inAYear }, body: plain('gone in a year') }));
    await sendRaw(s.mallory, s.conv, content({ expires: { relative: true, time: 0xffff_ffff }, body: plain('gone in 136 years') }));
    await sendRaw(s.mallory, s.conv, { v: 1, t: 'text', id: 'oldFormat0000000000001', at: start, text: 'the old format' } as AppMessage);
    // A shorter expiry is hers to choose.
    await sendRaw(s.mallory, s.conv, content({ expires: { relative: true, time: 60 }, body: plain('gone in a minute') }));
    await marker(s.mallory, devices, s.conv, 'after the long-lived texts');
    const end = Date.now();
    for (const d of [s.alice, s.bob]) {
      for (const body of ['no expiry at all', 'gone in a year', 'gone in 136 years', 'the old format']) {
        const at = await expiryOf(d, body);
        expect(at, `${d.name}: “${body}”`).toBeGreaterThanOrEqual(start + 5 * MINUTE);
        expect(at, `${d.name}: “${body}”`).toBeLessThanOrEqual(end + 5 * MINUTE);
      }
      expect(await expiryOf(d, 'gone in a minute')).toBeLessThanOrEqual(end + MINUTE);
      // Five minutes later (as far as this device's sweep is told) every one of them is gone from its database.
      await chatOf(d).expireDue(end + 5 * MINUTE + 1000);
      const left = (await page(d, s.conv)).map((m) => m.text);
      for (const body of ['no expiry at all', 'gone in a year', 'gone in 136 years', 'the old format', 'gone in a minute']) expect(left, d.name).not.toContain(body);
    }
  });

  it('an expiry carried by her reaction, edit, delete or reply never touches Alice’s text; only her own past-dated text goes', async () => {
    const devices = [s.alice, s.bob, s.mallory];
    const alices = await marker(s.alice, devices, s.conv, 'Alice, under the timer');
    const before = await Promise.all([s.alice, s.bob].map((d) => expiryOf(d, 'Alice, under the timer')));
    const id = messageIdFrom(alices.id)!;
    const now = { relative: true, time: 0 };
    const past = { relative: false, time: 1 };
    const reaction: NestedPart = { ...plain('🔥'), disposition: Disposition.reaction };
    await sendRaw(s.mallory, s.conv, content({ expires: now, inReplyTo: id, body: reaction }));
    await sendRaw(s.mallory, s.conv, content({ expires: past, replaces: id, body: plain('edited away') }));
    await sendRaw(s.mallory, s.conv, content({ expires: past, replaces: id, body: { disposition: Disposition.render, language: '', cardinality: Cardinality.nullpart } }));
    await sendRaw(s.mallory, s.conv, content({ expires: past, inReplyTo: id, body: plain('my past-dated reply') }));
    await marker(s.mallory, devices, s.conv, 'after the expiring claims');
    for (const [i, d] of [s.alice, s.bob].entries()) {
      expect(await expiryOf(d, 'Alice, under the timer'), d.name).toBe(before[i]);
      await chatOf(d).expireDue(Date.now());
      const v = await find(d, s.conv, alices.id);
      expect(v?.text, d.name).toBe('Alice, under the timer');
      expect(v?.deleted).toBeUndefined();
      expect((await page(d, s.conv)).map((m) => m.text)).not.toContain('my past-dated reply');
    }
  });
});
