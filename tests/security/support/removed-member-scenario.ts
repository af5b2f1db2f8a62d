/**
 * The setting of the removed-member attacks: a real relay process, Alice and
 * Bob (honest, the real background over fake-indexeddb), and Mallory, who
 * joins by link, talks, and is then removed by Alice. Mallory's device runs
 * the real client too, but every queue request it makes is recorded: the
 * attacker keeps whatever her client ever sent (the queue id, each epoch's
 * queue capability she presented, her mailbox), and later replays it with a
 * raw relay client.
 */
import { startRelay, type RelayProcess } from '../../support/relay-process.ts';
import { startDevice, waitUntil, type Device } from '../../integration/support/device.ts';
import { RelayClient, type Account, type Mailbox, type WireToken } from '../../relay/support/client.ts';

/** What Mallory's client sent the relay while she was a member. */
export interface Loot {
  queue: string;
  /** Every queue capability she presented, oldest first (the last is her last epoch's). */
  caps: string[];
  mailboxes: Mailbox[];
}

export interface Scenario {
  relay: RelayProcess;
  alice: Device;
  bob: Device;
  mallory: Device;
  conv: string;
  loot: Loot;
  /** Alice removes Mallory; resolves once Bob sees two members. */
  removeMallory(): Promise<void>;
  /** Alice writes; resolves once Bob has read it. */
  aliceSays(text: string): Promise<void>;
  /** A raw relay client with an account and tokens of its own (anyone can sign up). */
  attacker(tokens?: number): Promise<{ client: RelayClient; account: Account; tokens: WireToken[] }>;
  stop(): Promise<void>;
}

function recording(loot: Loot): typeof fetch {
  return async (input, init) => {
    const url = String(input instanceof Request ? input.url : input);
    if (url.includes('/v1/queues/') && typeof init?.body === 'string') {
      const b = JSON.parse(init.body) as Record<string, unknown>;
      if (typeof b.queue === 'string') loot.queue = b.queue;
      if (typeof b.cap === 'string' && loot.caps.at(-1) !== b.cap) loot.caps.push(b.cap);
      if (url.endsWith('/v1/queues/register') && typeof b.mailboxId === 'string' && typeof b.secret === 'string') {
        loot.mailboxes.push({ mailboxId: b.mailboxId, secret: b.secret });
      }
    }
    return fetch(input, init);
  };
}

export interface ScenarioOptions {
  /** Mallory's device is stopped before Alice's last message and the removal (it never cleans up). */
  malloryOffline?: boolean;
}

export async function removedMemberScenario(opts: ScenarioOptions = {}): Promise<Scenario> {
  const relay = await startRelay();
  const loot: Loot = { queue: '', caps: [], mailboxes: [] };
  const [alice, bob, mallory] = await Promise.all([
    startDevice(relay.url, 'Alice'),
    startDevice(relay.url, 'Bob'),
    startDevice(relay.url, 'Mallory', { fetch: recording(loot) }),
  ]);
  await waitUntil(() => [alice, bob, mallory].every((d) => d.app.snapshot.connection === 'online'), 15_000, 'all online');
  const { conversationId: conv } = await alice.app.handlers['conversation.create']({ name: 'Plans' });
  const invite = await alice.app.handlers['invite.create']({ conversationId: conv, mode: 'expiring', expiresInHours: 1 });
  await bob.app.handlers['invite.join']({ link: invite.link });
  await waitUntil(async () => (await alice.app.handlers['conversation.get']({ conversationId: conv })).members.length === 2, 15_000, 'Alice sees Bob');
  await mallory.app.handlers['invite.join']({ link: invite.link });
  const everyoneSees = async (n: number, ds: Device[]): Promise<boolean> =>
    (await Promise.all(ds.map((d) => d.app.handlers['conversation.get']({ conversationId: conv })))).every((x) => x.members.length === n);
  await waitUntil(() => everyoneSees(3, [alice, bob, mallory]), 15_000, 'three members');
  // Sent after her mailbox announcement (same outbox, queue order): once it is read, so is the announcement.
  await mallory.app.handlers['message.send']({ conversationId: conv, text: 'hi, Mallory here' });
  await waitUntil(() => alice.received(conv).includes('hi, Mallory here') && bob.received(conv).includes('hi, Mallory here'), 15_000, 'Mallory heard');

  const aliceSays = async (text: string): Promise<void> => {
    await alice.app.handlers['message.send']({ conversationId: conv, text });
    await waitUntil(() => bob.received(conv).includes(text), 15_000, `Bob reads “${text}”`);
  };
  if (opts.malloryOffline === true) {
    mallory.app.stop();
    await aliceSays('said while Mallory is offline');
  }
  return {
    relay,
    alice,
    bob,
    mallory,
    conv,
    loot,
    aliceSays,
    async removeMallory() {
      const detail = await alice.app.handlers['conversation.get']({ conversationId: conv });
      const target = detail.members.find((m) => m.displayName === 'Mallory')!;
      await alice.app.handlers['conversation.removeMember']({ conversationId: conv, memberId: target.memberId });
      await waitUntil(() => everyoneSees(2, [alice, bob]), 15_000, 'Mallory removed');
    },
    async attacker(n = 5) {
      const client = new RelayClient(relay.url);
      const account = await client.register();
      return { client, account, tokens: await client.tokens(account.session, n) };
    },
    async stop() {
      for (const d of [alice, bob, mallory]) d.app.stop();
      await relay.stop();
    },
  };
}
