/**
 * Two real BackgroundApps in one conversation over a real relay, for the
 * healing tests (tests/integration/heal-*.test.ts, tests/security/removed-member-cannot-resync.test.ts).
 */
import type { ChatService } from '../../../lib/background/chat-service.ts';
import { startDevice, waitUntil, type Device } from './device.ts';
import { decodeRejoinTicket } from '../../../lib/background/healing/rejoin-ticket.ts';
import { RelayApi } from '../../../lib/background/relay-api.ts';
import { toB64 } from '../../../lib/bytes.ts';
import type { RelaySuite } from '../../support/relay-suite.ts';

export const chatOf = (d: Device): ChatService => (d.app as unknown as { chat: ChatService }).chat;

/** The system notes of a conversation, oldest first. */
export async function notes(d: Device, id: string): Promise<string[]> {
  const page = await d.app.handlers['messages.page']({ conversationId: id, beforeSeq: null, limit: 200 });
  return page.messages.filter((m) => m.kind === 'system').map((m) => m.text);
}

export async function names(d: Device, id: string): Promise<string[]> {
  return (await d.app.handlers['conversation.get']({ conversationId: id })).members.map((m) => m.displayName);
}

/** Alice makes a conversation, Bob joins it by a one-time invite; texts flow both ways; Bob holds a rejoin ticket. */
export async function pairUp(relayUrl: string, opts: { fetch?: typeof fetch } = {}): Promise<{ alice: Device; bob: Device; id: string }> {
  const [alice, bob] = await Promise.all([startDevice(relayUrl, 'Alice'), startDevice(relayUrl, 'Bob', opts.fetch === undefined ? {} : { fetch: opts.fetch })]);
  await waitUntil(() => [alice, bob].every((d) => d.app.snapshot.connection === 'online'), 20_000, 'both online');
  const { conversationId: id } = await alice.app.handlers['conversation.create']({ name: 'Mended' });
  const invite = await alice.app.handlers['invite.create']({ conversationId: id, mode: 'one-time' });
  await bob.app.handlers['invite.join']({ link: invite.link });
  await waitUntil(async () => (await names(alice, id)).includes('Bob') && (await names(bob, id)).includes('Alice'), 20_000, 'names known');
  await exchange(alice, bob, id, 'hello before');
  await waitUntil(async () => (await chatOf(bob).healing.ticketFor(id)) !== undefined && (await chatOf(alice).healing.ticketFor(id)) !== undefined, 20_000, 'rejoin tickets');
  await slotStored(relayUrl, (await chatOf(bob).healing.ticketFor(id))!);
  return { alice, bob, id };
}

/** A text each way, each read by the other. */
export async function exchange(a: Device, b: Device, id: string, tag: string): Promise<void> {
  await a.app.handlers['message.send']({ conversationId: id, text: `${tag} (from ${a.name})` });
  await waitUntil(() => b.received(id).includes(`${tag} (from ${a.name})`), 30_000, `${b.name} reads "${tag}"`);
  await b.app.handlers['message.send']({ conversationId: id, text: `${tag} (from ${b.name})` });
  await waitUntil(() => a.received(id).includes(`${tag} (from ${b.name})`), 30_000, `${a.name} reads "${tag}"`);
}

/** pairUp on the suite's relay, both devices stopped after the block. */
export async function keptPair(suite: RelaySuite, opts: { fetch?: typeof fetch } = {}): Promise<{ alice: Device; bob: Device; id: string }> {
  const pair = await pairUp(suite.relay.url, opts);
  suite.keep(pair.alice, pair.bob);
  return pair;
}

/** Restart a device on its own database (the same profile after the worker stopped). */
export async function restart(relayUrl: string, d: Device, opts: { fetch?: typeof fetch } = {}): Promise<Device> {
  d.app.stop();
  const again = await startDevice(relayUrl, d.name, { dbName: d.dbName, register: false, ...(opts.fetch === undefined ? {} : { fetch: opts.fetch }) });
  await waitUntil(() => again.app.snapshot.connection === 'online', 20_000, `${d.name} online again`);
  return again;
}

/** Waits until the slot a ticket names is at the relay (its committer stores it a few seconds after the Commit). */
export async function slotStored(relayUrl: string, ticket: Uint8Array): Promise<void> {
  const api = new RelayApi(relayUrl);
  const slotId = toB64(decodeRejoinTicket(ticket).slotId);
  await waitUntil(() => api.getInvite(slotId).then(() => true, () => false), 30_000, 'the rejoin slot stored at the relay');
}
