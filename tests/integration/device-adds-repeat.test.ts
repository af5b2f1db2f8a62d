/**
 * Adding a device by address twice adds it once (device-add-plan.ts), over a
 * real relay. The linking job (linking/add-job.ts) repeats an add when the
 * worker died between the add and writing down that it was done:
 *   - the add had finished (its Welcome kept): the repeat adds nothing, no
 *     KeyPackage claimed, no Commit;
 *   - the worker died after the Add Commit went out and before the Welcome
 *     was written down: the device is a leaf it can never join; the repeat
 *     removes that leaf in the Commit that adds the device again, and the
 *     device joins and talks, with one leaf.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppCore } from '../../lib/background/app/core.ts';
import type { ChatService } from '../../lib/background/chat-service.ts';
import type { ConversationMeta } from '../../lib/background/chat-store.ts';
import type { DeviceAddress } from '../../lib/background/device-address.ts';
import { BATCH } from '../../lib/background/key-package-supply.ts';
import { RelayApi } from '../../lib/background/relay-api.ts';
import { startRelay, type RelayProcess } from '../support/relay-process.ts';
import { startDevice, waitUntil, type Device } from './support/device.ts';

/** Waits are generous: these tests share two cores with the whole suite in CI, and each step is a relay round trip or a Commit. */
const SLOW = 2;

const coreOf = (d: Device): AppCore => (d.app as unknown as { core: AppCore }).core;
const chatOf = (d: Device): ChatService => (d.app as unknown as { chat: ChatService }).chat;
const metaOf = (d: Device, id: string): ConversationMeta | undefined => (chatOf(d) as unknown as { metas: Map<string, ConversationMeta> }).metas.get(id);

describe('adding the same device twice adds it once, over a real relay', () => {
  let relay: RelayProcess;
  let api: RelayApi;
  let alice: Device;
  let bob: Device;
  let carol: Device;
  const addr: Record<string, DeviceAddress> = {};
  /** Once set, Alice's next Commit reaches the relay but her worker never hears back (it is killed then). */
  let hangCommit = false;
  let hung = false;
  /** Once set, the relay's answer to Alice's next Welcome is "rate limited" (nothing stored). */
  let limitWelcome = false;
  const aliceFetch: typeof fetch = async (input, init) => {
    if (limitWelcome && String(input).endsWith('/v1/mailboxes/welcome')) {
      limitWelcome = false;
      return new Response(JSON.stringify({ error: { code: 'rate_limited', message: 'too many issuance requests' } }), { status: 429 });
    }
    const commit = String(input).endsWith('/v1/queues/send') && typeof init?.body === 'string' && init.body.includes('"rotateTo"');
    if (hangCommit && commit) {
      hangCommit = false;
      return fetch(input, init).then(() => {
        hung = true;
        return new Promise<Response>(() => {});
      });
    }
    return fetch(input, init);
  };
  const session = (d: Device): string => coreOf(d).account!.session.token;
  const oneTimeLeft = async (d: Device): Promise<number> => (await api.countKeyPackages(session(d))).oneTime;
  const active = (d: Device, id: string): boolean => metaOf(d, id)?.status === 'active';
  const epochOf = async (d: Device, id: string): Promise<number> => (await d.app.handlers['conversation.get']({ conversationId: id })).epoch;
  const memberCount = async (d: Device, id: string): Promise<number> => (await d.app.handlers['conversation.get']({ conversationId: id })).members.length;

  beforeAll(async () => {
    relay = await startRelay();
    api = new RelayApi(relay.url);
    [alice, bob, carol] = await Promise.all([
      startDevice(relay.url, 'Alice', { fetch: aliceFetch }),
      startDevice(relay.url, 'Bob'),
      startDevice(relay.url, 'Carol'),
    ]);
    await waitUntil(() => [alice, bob, carol].every((d) => d.app.snapshot.connection === 'online'), 15_000 * SLOW, 'all online');
    for (const d of [bob, carol]) {
      addr[d.name] = await d.app.handlers['device.address']({});
      await waitUntil(async () => (await oneTimeLeft(d)) === BATCH, 15_000 * SLOW, `${d.name}'s KeyPackages`);
    }
  }, 60_000 * SLOW);

  afterAll(async () => {
    for (const d of [alice, bob, carol]) d?.app.stop();
    await relay?.stop();
  });

  it('an add that finished: repeating it claims no KeyPackage and makes no Commit', async () => {
    const { conversationId: id } = await alice.app.handlers['conversation.create']({ name: 'Club' });
    await alice.app.handlers['conversation.addDevices']({ conversationId: id, devices: [addr.Bob!] });
    await waitUntil(() => active(bob, id), 20_000 * SLOW, 'Bob joined');
    const epoch = await epochOf(alice, id);
    const left = await oneTimeLeft(bob);
    await alice.app.handlers['conversation.addDevices']({ conversationId: id, devices: [addr.Bob!] });
    // And together with a new device: only the new one is added.
    await alice.app.handlers['conversation.addDevices']({ conversationId: id, devices: [addr.Bob!, addr.Carol!] });
    await waitUntil(() => active(carol, id), 20_000 * SLOW, 'Carol joined');
    expect(await epochOf(alice, id)).toBe(epoch + 1);
    // The supply may be topped up meanwhile: no more than none of Bob's was taken.
    expect(await oneTimeLeft(bob)).toBeGreaterThanOrEqual(left);
    expect(await memberCount(alice, id)).toBe(3);
    await bob.app.handlers['message.send']({ conversationId: id, text: 'once' });
    await waitUntil(() => carol.received(id).includes('once') && alice.received(id).includes('once'), 15_000 * SLOW, 'everyone reads Bob');
  });

  it('a Welcome the relay refuses for now (rate limited) is kept and sent again: the device joins', async () => {
    const { conversationId: id } = await alice.app.handlers['conversation.create']({ name: 'Later' });
    limitWelcome = true;
    await alice.app.handlers['conversation.addDevices']({ conversationId: id, devices: [addr.Bob!] }).catch(() => undefined);
    expect(limitWelcome).toBe(false);
    // No send, no reconnect: only the retry a moment later can bring Bob in.
    await waitUntil(() => active(bob, id), 30_000 * SLOW, 'Bob joined by the Welcome sent again');
    expect(metaOf(alice, id)?.pendingWelcomes ?? []).toEqual([]);
  }, 60_000 * SLOW);

  it('the worker died after the Add Commit went out, before the Welcome was kept: the repeat replaces the stranded leaf', async () => {
    const { conversationId: id } = await alice.app.handlers['conversation.create']({ name: 'Plans' });
    hangCommit = true;
    void alice.app.handlers['conversation.addDevices']({ conversationId: id, devices: [addr.Bob!] }).catch(() => undefined);
    await waitUntil(() => hung, 15_000 * SLOW, 'the Add Commit at the relay');
    alice.app.stop();
    alice = await startDevice(relay.url, 'Alice', { dbName: alice.dbName, register: false, fetch: aliceFetch });
    // The restarted worker adopts its Commit: Bob is a leaf of the group, but no Welcome ever reaches him.
    await waitUntil(async () => active(alice, id) && (await memberCount(alice, id)) === 2, 30_000 * SLOW, 'the Commit adopted');
    expect(metaOf(alice, id)?.pendingWelcomes ?? []).toEqual([]);
    expect(active(bob, id)).toBe(false);
    const stranded = (await alice.app.handlers['conversation.get']({ conversationId: id })).members.find((m) => !m.self)!.memberId;

    // The job's repeat: the stranded leaf goes in the Commit that adds Bob again.
    await alice.app.handlers['conversation.addDevices']({ conversationId: id, devices: [addr.Bob!] });
    await waitUntil(() => active(bob, id), 20_000 * SLOW, 'Bob joined by the new Welcome');
    const members = (await alice.app.handlers['conversation.get']({ conversationId: id })).members;
    expect(members).toHaveLength(2);
    expect(members.map((m) => m.memberId)).not.toContain(stranded);
    await bob.app.handlers['message.send']({ conversationId: id, text: 'made it' });
    await waitUntil(() => alice.received(id).includes('made it'), 15_000 * SLOW, 'Alice reads Bob');
    // A third time: nothing more.
    const epoch = await epochOf(alice, id);
    await alice.app.handlers['conversation.addDevices']({ conversationId: id, devices: [addr.Bob!] });
    expect(await epochOf(alice, id)).toBe(epoch);
  }, 120_000 * SLOW);
});
