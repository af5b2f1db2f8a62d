// Attack: the relay gives each account its own token-issuing key (with valid
// DLEQ proofs), so every "anonymous" spend names its account by key id.
//
// The real relay runs with its test-only switch MICROCHAT_TEST_PARTITION_TOKEN_KEYS=1:
// each account is issued under a key of its own, with the same validity as the
// real one, and is shown only its own key. Locally each wallet sees nothing
// wrong (it has only ever been given one key). Two real backgrounds share one
// conversation; they exchange the key ids they hold inside MLS, and each shows
// the warning in the conversation. On an honest relay the same steps show none.
import { afterAll, describe, expect, it } from 'vitest';
import { startRelay, type RelayProcess } from '../support/relay-process.ts';
import { startDevice, waitUntil, type Device } from '../integration/support/device.ts';
import { TOKEN_KEY_PARTITION_WARNING } from '../../lib/background/token-key-watch.ts';
import type { MessageView } from '../../lib/protocol/channel.ts';

async function history(d: Device, conversationId: string): Promise<MessageView[]> {
  return (await d.app.handlers['messages.page']({ conversationId, beforeSeq: null, limit: 200 })).messages;
}

/** The warning as the person sees it: a system message in the conversation, pushed live to the view and kept in history. */
async function warned(d: Device, conversationId: string): Promise<boolean> {
  const live = d.events.some((e) => e.type === 'messages' && e.conversationId === conversationId && e.messages.some((m) => m.kind === 'system' && m.text === TOKEN_KEY_PARTITION_WARNING));
  const kept = (await history(d, conversationId)).some((m) => m.kind === 'system' && m.text === TOKEN_KEY_PARTITION_WARNING);
  return live && kept;
}

/** Two people in one conversation, talking, on the given relay. */
async function converse(relay: RelayProcess): Promise<{ a: Device; b: Device; conversationId: string }> {
  const [a, b] = await Promise.all([startDevice(relay.url, 'Alice'), startDevice(relay.url, 'Bob')]);
  await waitUntil(() => a.app.snapshot.connection === 'online' && b.app.snapshot.connection === 'online', 15_000, 'both online');
  const { conversationId } = await a.app.handlers['conversation.create']({ name: 'Keys' });
  const { link } = await a.app.handlers['invite.create']({ conversationId, mode: 'one-time' });
  await b.app.handlers['invite.join']({ link });
  await a.app.handlers['message.send']({ conversationId, text: 'hi' });
  await waitUntil(() => b.received(conversationId).includes('hi'), 15_000, 'B reads A');
  return { a, b, conversationId };
}

describe('a relay that gives accounts different token keys is noticed', () => {
  const relays: RelayProcess[] = [];
  const devices: Device[] = [];

  afterAll(async () => {
    for (const d of devices) d.app.stop();
    await Promise.all(relays.map((r) => r.stop()));
  });

  it('both members see a warning in the conversation', async () => {
    const relay = await startRelay({ env: { MICROCHAT_TEST_PARTITION_TOKEN_KEYS: '1' } });
    relays.push(relay);
    const { a, b, conversationId } = await converse(relay);
    devices.push(a, b);
    await waitUntil(async () => (await warned(a, conversationId)) && (await warned(b, conversationId)), 20_000, 'the warning on both sides');
    // Once per member and key, not once per message.
    await a.app.handlers['message.send']({ conversationId, text: 'still here' });
    await waitUntil(() => b.received(conversationId).includes('still here'), 15_000, 'B reads A again');
    for (const d of [a, b]) {
      expect((await history(d, conversationId)).filter((m) => m.text === TOKEN_KEY_PARTITION_WARNING)).toHaveLength(1);
    }
  });

  it('control: on an honest relay the same conversation shows no warning', async () => {
    const relay = await startRelay();
    relays.push(relay);
    const { a, b, conversationId } = await converse(relay);
    devices.push(a, b);
    await b.app.handlers['message.send']({ conversationId, text: 'hello' });
    await waitUntil(() => a.received(conversationId).includes('hello'), 15_000, 'A reads B');
    // Time for the key announcements and their answers to go round.
    await new Promise((r) => setTimeout(r, 1500));
    for (const d of [a, b]) expect(await warned(d, conversationId)).toBe(false);
  });
});
