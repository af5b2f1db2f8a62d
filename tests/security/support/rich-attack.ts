/**
 * Tools for the rich-message attacks (docs/rich-messages.md, "Threats"):
 * a hostile member's client is our own background with its sending-side
 * checks bypassed (what a modified client sends), and the honest devices are
 * read through their view handlers and their raw IndexedDB rows, so "refused"
 * can be checked as "the stored record is byte for byte what it was".
 */
import { randomBytes } from '../../../lib/bytes.ts';
import type { AppMessage } from '../../../lib/background/app-messages.ts';
import type { ChatService } from '../../../lib/background/chat-service.ts';
import { encodeContent } from '../../../lib/content/encode.ts';
import type { MimiContent } from '../../../lib/content/types.ts';
import type { OutgoingContent } from '../../../lib/background/mimi-wire.ts';
import type { MessageView } from '../../../lib/protocol/channel.ts';
import { waitUntil, type Device } from '../../integration/support/device.ts';

export const SLOW = Number(process.env.MICROCHAT_TEST_SLOW ?? 1);

const chatOf = (d: Device): ChatService => (d.app as unknown as { chat: ChatService }).chat;

/** Send anything as this member, past every sending-side check (a modified client). */
export function sendRaw(d: Device, conversationId: string, payload: OutgoingContent | AppMessage): Promise<void> {
  return (chatOf(d) as unknown as { sendApp(id: string, c: OutgoingContent | AppMessage): Promise<void> }).sendApp(conversationId, payload);
}

/** Raw bytes as a MIMI content payload (they need not decode). */
export const rawContent = (bytes: Uint8Array): OutgoingContent => ({ t: 'content', bytes, salt: new Uint8Array(0) });

/** A content built field by field (for what `outgoing` would never make), encoded by our own encoder. */
export function content(fields: Partial<MimiContent> & Pick<MimiContent, 'body'>): OutgoingContent {
  const salt = randomBytes(16);
  const c: MimiContent = { salt, replaces: null, topicId: new Uint8Array(0), expires: null, inReplyTo: null, extensions: new Map(), ...fields };
  return { t: 'content', bytes: encodeContent(c), salt: c.salt };
}

export async function page(d: Device, conversationId: string): Promise<MessageView[]> {
  return (await d.app.handlers['messages.page']({ conversationId, beforeSeq: null, limit: 500 })).messages;
}

export async function find(d: Device, conversationId: string, id: string): Promise<MessageView | undefined> {
  return (await page(d, conversationId)).find((m) => m.id === id);
}

/** The message's row exactly as IndexedDB holds it (sealed): equal rows mean nothing was written. */
export async function rawRow(d: Device, conversationId: string, messageId: string): Promise<unknown> {
  return d.db.getFromIndex('messages', 'byMessageId', [conversationId, messageId]);
}

/** Every raw message row of a conversation on this device, in seq order. */
export async function rawRows(d: Device, conversationId: string): Promise<unknown[]> {
  return (await d.db.getAll('messages')).filter((r) => r.conversationId === conversationId);
}

/** Waits until each device shows message `id` in the conversation (a marker sent after the attack: all before it was handled). */
export async function everyoneHas(devices: Device[], conversationId: string, id: string): Promise<void> {
  for (const d of devices) await waitUntil(async () => (await find(d, conversationId, id)) !== undefined, 20_000 * SLOW, `${d.name} has ${id}`);
}

/** Sends a plain text as `from` and waits until every device in `devices` has it. */
export async function marker(from: Device, devices: Device[], conversationId: string, text: string): Promise<MessageView> {
  const m = await from.app.handlers['message.send']({ conversationId, text });
  await everyoneHas(devices, conversationId, m.id);
  return m;
}

/**
 * Waits until every text each device sent in the conversation is acknowledged by all ("delivered"):
 * after that no receipt rewrites a stored record, so rows taken then can be compared byte for byte.
 */
export async function receiptsSettled(devices: Device[], conversationId: string): Promise<void> {
  for (const d of devices) {
    const pending = async (): Promise<string[]> =>
      (await page(d, conversationId)).filter((m) => m.kind === 'text' && m.sender.self && m.delivery === undefined).map((m) => m.text);
    let left: string[] = [];
    await waitUntil(async () => (left = await pending()).length === 0, 20_000 * SLOW, () => `${d.name}: receipts of ${JSON.stringify(left)}`);
  }
}
