// The background's chat, end to end over a real relay process: three devices
// (real BackgroundApp, fake-indexeddb, `ws`) onboard with passkeys, create a
// conversation, invite by pasted code, join by external commit, exchange MLS
// messages, remove a member, go offline and come back, restart from disk.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dumpRelayDatabase, startRelay, type RelayProcess } from '../support/relay-process.ts';
import { startDevice, waitUntil, withInviteStandIn, type Device } from './support/device.ts';
import type { ConversationDetail } from '../../lib/protocol/channel.ts';
import type { ChatService } from '../../lib/background/chat-service.ts';

describe('chat over a real relay', () => {
  let relay: RelayProcess;
  let fetchImpl: typeof fetch;
  let a: Device;
  let b: Device;
  let c: Device;
  let conv = '';
  let refuseSends = false;
  let aliceFetch: typeof fetch;

  beforeAll(async () => {
    relay = await startRelay();
    const invites = await withInviteStandIn(relay.url);
    // The relay serves the invite API itself (the stand-in is only for relays without it).
    expect(invites.standIn).toBe(false);
    fetchImpl = invites.fetch;
    // Alice's requests pass through a switch that can make the relay refuse her posts.
    aliceFetch = (input, init) =>
      refuseSends && String(input).endsWith('/v1/queues/send')
        ? Promise.resolve(new Response(JSON.stringify({ error: { code: 'too_large', message: 'refused for the test' } }), { status: 413 }))
        : fetchImpl(input, init);
    const devices = await Promise.all([
      startDevice(relay.url, 'Alice', { fetch: aliceFetch }),
      startDevice(relay.url, 'Bob', { fetch: fetchImpl }),
      startDevice(relay.url, 'Carol', { fetch: fetchImpl }),
    ]);
    [a, b, c] = devices as [Device, Device, Device];
    await waitUntil(() => [a, b, c].every((d) => d.app.snapshot.connection === 'online'), 15_000, 'all online');
  });

  afterAll(async () => {
    for (const d of [a, b, c]) d?.app.stop();
    await relay?.stop();
  });

  it('onboards with a passkey: account ready, online, tokens in the wallet', () => {
    for (const d of [a, b, c]) {
      expect(d.app.snapshot.account).toEqual({ state: 'ready', displayName: d.name, lockEnabled: false });
      expect(d.app.snapshot.connection).toBe('online');
    }
  });

  it('creates a conversation and lets two people join by link (one-time and expiring)', async () => {
    ({ conversationId: conv } = await a.app.handlers['conversation.create']({ name: 'Trip' }));
    expect(a.app.snapshot.conversations[0]).toMatchObject({ id: conv, name: 'Trip', status: 'active', memberCount: 1 });

    const once = await a.app.handlers['invite.create']({ conversationId: conv, mode: 'one-time' });
    const relayParam = encodeURIComponent(relay.url).replace(/[.]/g, '\\.');
    expect(once.link).toMatch(new RegExp(`^microchat:join\\?r=${relayParam}&i=[A-Za-z0-9_-]{22}&k=[A-Za-z0-9_-]{43}&v=[A-Za-z0-9_-]{43}$`));
    expect((await b.app.handlers['invite.join']({ link: once.link })).conversationId).toBe(conv);
    // One-time: the link cannot be used again.
    await expect(c.app.handlers['invite.join']({ link: once.link })).rejects.toMatchObject({ code: 'not-found' });

    // A goes offline; C still joins with the expiring link (B keeps the GroupInfo current).
    const expiring = await a.app.handlers['invite.create']({ conversationId: conv, mode: 'expiring', expiresInHours: 24 });
    await waitUntil(async () => (await a.app.handlers['conversation.get']({ conversationId: conv })).members.length === 2, 15_000, 'A sees B');
    expect((await c.app.handlers['invite.join']({ link: expiring.link })).conversationId).toBe(conv);

    const details = async (): Promise<ConversationDetail[]> =>
      Promise.all([a, b, c].map((d) => d.app.handlers['conversation.get']({ conversationId: conv })));
    // Names come in encrypted profile messages after the join: wait until everyone knows everyone's.
    await waitUntil(
      async () => (await details()).every((d) => d.members.map((m) => m.displayName).sort().join() === 'Alice,Bob,Carol'),
      15_000,
      'everyone sees three named members',
    );
    const [da, db, dc] = await details();
    // Safety codes: identical for all members of the same epoch; a member's fingerprint is the same everywhere.
    expect(da!.safetyCode).toMatch(/^(\d{5} ){11}\d{5}$/);
    expect(db!.safetyCode).toBe(da!.safetyCode);
    expect(dc!.safetyCode).toBe(da!.safetyCode);
    expect(db!.epoch).toBe(da!.epoch);
    const names = da!.members.map((m) => m.displayName).sort();
    expect(names).toEqual(['Alice', 'Bob', 'Carol']);
    const carolAtA = da!.members.find((m) => m.displayName === 'Carol')!;
    const carolAtC = dc!.members.find((m) => m.self)!;
    expect(carolAtC.fingerprint).toBe(carolAtA.fingerprint);
  });

  it('a joiner first known by a placeholder: its "joined" note takes the name in place once the profile arrives', async () => {
    const notes = async (): Promise<string[]> =>
      (await a.app.handlers['messages.page']({ conversationId: conv, beforeSeq: null, limit: 50 })).messages.filter((m) => m.kind === 'system').map((m) => m.text);
    await waitUntil(async () => {
      const n = await notes();
      return n.includes('Bob joined.') && n.includes('Carol joined.');
    }, 10_000, 'A names both joiners');
    const shown = await notes();
    // One note per joiner, in the order they joined, and no "Member 12345 is Bob." after it.
    expect(shown.filter((t) => t.endsWith(' joined.'))).toEqual(['Bob joined.', 'Carol joined.']);
    expect(shown.some((t) => /^Member [0-9a-f]{5}/.test(t))).toBe(false);
  });

  it('exchanges messages: each sees the others’ text decrypted; statuses go sending → sent; unread and badge', async () => {
    const sent = await a.app.handlers['message.send']({ conversationId: conv, text: 'hello from A' });
    expect(sent.status).toBe('sending');
    await b.app.handlers['message.send']({ conversationId: conv, text: 'hi, B here' });
    await c.app.handlers['message.send']({ conversationId: conv, text: 'C says hey' });
    await waitUntil(() => a.received(conv).length === 2 && b.received(conv).length === 2 && c.received(conv).length === 2, 15_000, 'delivery');
    expect(a.received(conv).sort()).toEqual(['C says hey', 'hi, B here']);
    expect(b.received(conv).sort()).toEqual(['C says hey', 'hello from A']);
    expect(c.received(conv).sort()).toEqual(['hello from A', 'hi, B here']);
    await waitUntil(
      () => a.events.some((e) => e.type === 'messages' && e.messages.some((m) => m.id === sent.id && m.status === 'sent')),
      10_000,
      'sent status',
    );
    const page = await a.app.handlers['messages.page']({ conversationId: conv, beforeSeq: null, limit: 100 });
    expect(page.messages.filter((m) => m.kind === 'text').map((m) => m.text)).toContain('hello from A');
    expect(page.messages.find((m) => m.id === sent.id)?.status).toBe('sent');
    expect(a.app.snapshot.unreadTotal).toBe(2);
    expect(a.badge.at(-1)).toBe(2);
    // One notification for the conversation, updated; by default it names the conversation, not the text.
    expect(a.notified.map((n) => (n.kind === 'show' ? `${n.id} ${n.message}` : n.kind))).toEqual([
      `microchat:${conv} New message`,
      `microchat:${conv} 2 new messages`,
    ]);
    await a.app.handlers['conversation.markRead']({ conversationId: conv });
    expect(a.notified.at(-1)).toEqual({ kind: 'clear', id: `microchat:${conv}`, conversationId: conv });
    expect(a.app.snapshot.unreadTotal).toBe(0);
    expect(a.badge.at(-1)).toBe(0);
  });

  it('a message the relay refuses is marked failed and can be retried', async () => {
    refuseSends = true;
    const m = await a.app.handlers['message.send']({ conversationId: conv, text: 'retry me' });
    await waitUntil(
      () => a.events.some((e) => e.type === 'messages' && e.messages.some((x) => x.id === m.id && x.status === 'failed')),
      10_000,
      'failed',
    );
    const failed = (await a.app.handlers['messages.page']({ conversationId: conv, beforeSeq: null, limit: 3 })).messages.find((x) => x.id === m.id)!;
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/refused/);
    refuseSends = false;
    expect((await a.app.handlers['message.retry']({ conversationId: conv, messageId: m.id })).status).toBe('sending');
    await waitUntil(() => b.received(conv).includes('retry me') && c.received(conv).includes('retry me'), 10_000, 'retried message arrives');
    await waitUntil(
      () => a.events.some((e) => e.type === 'messages' && e.messages.some((x) => x.id === m.id && x.status === 'sent')),
      10_000,
      'sent after retry',
    );
  });

  it('shares a page once confirmed, into the conversation chosen; notifications follow the toggle', async () => {
    await b.app.handlers['settings.setNotifications']({ enabled: false });
    const before = b.notified.length;
    expect(a.app.offerShare('An article', 'https://example.org/a')).toBe(true);
    const offer = a.app.snapshot.share!;
    expect(offer).toMatchObject({ url: 'https://example.org/a', title: 'An article', text: 'An article\nhttps://example.org/a', suggestedId: conv });
    await a.app.handlers['share.send']({ shareId: offer.shareId, conversationId: conv });
    expect(a.app.snapshot.share).toBeUndefined();
    await waitUntil(() => b.received(conv).includes('An article\nhttps://example.org/a'), 10_000, 'shared page');
    expect(b.notified.length).toBe(before);
    await b.app.handlers['settings.setNotifications']({ enabled: true });
    expect(b.app.snapshot.settings.notifications).toBe(true);
  });

  it('renames for everyone', async () => {
    await b.app.handlers['conversation.rename']({ conversationId: conv, name: 'Summer trip' });
    await waitUntil(() => [a, c].every((d) => d.app.snapshot.conversations.find((x) => x.id === conv)?.name === 'Summer trip'), 10_000, 'rename');
  });

  it('a self-update (empty Commit with a fresh path) moves everyone to a new epoch with one safety code', async () => {
    const before = await a.app.handlers['conversation.get']({ conversationId: conv });
    await (b.app as unknown as { chat: ChatService }).chat.selfUpdate(conv);
    const codes = async (): Promise<ConversationDetail[]> => Promise.all([a, b, c].map((d) => d.app.handlers['conversation.get']({ conversationId: conv })));
    await waitUntil(async () => (await codes()).every((d) => d.epoch === before.epoch + 1), 10_000, 'new epoch everywhere');
    const [da, db, dc] = await codes();
    expect(db!.safetyCode).toBe(da!.safetyCode);
    expect(dc!.safetyCode).toBe(da!.safetyCode);
    expect(da!.safetyCode).not.toBe(before.safetyCode);
    await c.app.handlers['message.send']({ conversationId: conv, text: 'after the update' });
    await waitUntil(() => a.received(conv).includes('after the update') && b.received(conv).includes('after the update'), 10_000, 'still talking');
  });

  it('removes a member: C sees the removal and cannot read later messages', async () => {
    const detail = await a.app.handlers['conversation.get']({ conversationId: conv });
    const carol = detail.members.find((m) => m.displayName === 'Carol')!;
    await a.app.handlers['conversation.removeMember']({ conversationId: conv, memberId: carol.memberId });
    await waitUntil(() => c.app.snapshot.conversations.find((x) => x.id === conv)?.status === 'removed', 10_000, 'C removed');
    await waitUntil(async () => (await b.app.handlers['conversation.get']({ conversationId: conv })).members.length === 2, 10_000, 'B sees 2');
    await a.app.handlers['message.send']({ conversationId: conv, text: 'after C left' });
    await waitUntil(() => b.received(conv).includes('after C left'), 10_000, 'B reads it');
    await new Promise((r) => setTimeout(r, 300));
    expect(c.received(conv)).not.toContain('after C left');
    const cPage = await c.app.handlers['messages.page']({ conversationId: conv, beforeSeq: null, limit: 100 });
    expect(cPage.messages.some((m) => m.kind === 'system' && /removed you/.test(m.text))).toBe(true);
    await expect(c.app.handlers['message.send']({ conversationId: conv, text: 'x' })).rejects.toMatchObject({ code: 'forbidden' });
  });

  it('offline: B’s messages wait at the relay; B comes back (restarted from disk) and gets them; history survives', async () => {
    b.app.stop();
    const bDb = b.dbName;
    await a.app.handlers['message.send']({ conversationId: conv, text: 'while B is away 1' });
    await a.app.handlers['message.send']({ conversationId: conv, text: 'while B is away 2' });
    await waitUntil(
      () => a.events.filter((e) => e.type === 'messages' && e.messages.some((m) => m.text.startsWith('while B') && m.status === 'sent')).length >= 2,
      10_000,
      'A sent',
    );
    // B's worker restarts: state comes back from IndexedDB, then the relay delivers what waited.
    b = await startDevice(relay.url, 'Bob', { fetch: fetchImpl, dbName: bDb, register: false });
    expect(b.app.snapshot.account.state).toBe('ready');
    expect(b.app.snapshot.conversations.find((x) => x.id === conv)?.status).toBe('active');
    await waitUntil(() => b.received(conv).includes('while B is away 2'), 15_000, 'B catches up');
    expect(b.received(conv)).toEqual(['while B is away 1', 'while B is away 2']);
    const history = await b.app.handlers['messages.page']({ conversationId: conv, beforeSeq: null, limit: 500 });
    expect(history.messages.map((m) => m.text)).toEqual(expect.arrayContaining(['hello from A', 'C says hey', 'after C left', 'while B is away 2']));
    // Paging: older pages chain with nextBeforeSeq.
    const small = await b.app.handlers['messages.page']({ conversationId: conv, beforeSeq: null, limit: 2 });
    expect(small.messages).toHaveLength(2);
    const older = await b.app.handlers['messages.page']({ conversationId: conv, beforeSeq: small.nextBeforeSeq!, limit: 2 });
    expect(older.messages.at(-1)!.seq).toBeLessThan(small.messages[0]!.seq);
  });

  it('without a socket (alarm wake-up), an HTTP fetch catches up', async () => {
    b.app.stop();
    const bDb = b.dbName;
    await a.app.handlers['message.send']({ conversationId: conv, text: 'fetched, not pushed' });
    await waitUntil(
      () => a.events.some((e) => e.type === 'messages' && e.messages.some((m) => m.text === 'fetched, not pushed' && m.status === 'sent')),
      10_000,
      'A sent',
    );
    const polled = await startDevice(relay.url, 'Bob', { fetch: fetchImpl, dbName: bDb, register: false, WebSocket: false });
    expect(await polled.app.catchUp()).toBeGreaterThanOrEqual(1);
    expect(polled.received(conv)).toEqual(['fetched, not pushed']);
    // Acknowledged after applying: nothing is delivered twice.
    expect(await polled.app.catchUp()).toBe(0);
    b = await startDevice(relay.url, 'Bob', { fetch: fetchImpl, dbName: bDb, register: false });
    await waitUntil(() => b.app.snapshot.connection === 'online', 10_000, 'B online');
  });

  it('queues outgoing messages while the relay is down and sends them when it is back (relay restart loses nothing)', async () => {
    relay.kill9();
    await waitUntil(() => a.app.snapshot.connection !== 'online', 10_000, 'A notices');
    const queued = await a.app.handlers['message.send']({ conversationId: conv, text: 'sent while the relay was down' });
    expect(queued.status).toBe('sending');
    await new Promise((r) => setTimeout(r, 300));
    const page = await a.app.handlers['messages.page']({ conversationId: conv, beforeSeq: null, limit: 5 });
    expect(page.messages.find((m) => m.id === queued.id)?.status).toBe('sending');
    // The worker is killed while the message waits; the outbox is on disk.
    a.app.stop();
    a = await startDevice(relay.url, 'Alice', { fetch: aliceFetch, dbName: a.dbName, register: false });
    expect((await a.app.handlers['messages.page']({ conversationId: conv, beforeSeq: null, limit: 5 })).messages.find((m) => m.id === queued.id)?.status).toBe(
      'sending',
    );
    await relay.restart();
    await waitUntil(() => b.received(conv).includes('sent while the relay was down'), 20_000, 'B gets the queued message');
    await waitUntil(
      () => a.events.some((e) => e.type === 'messages' && e.messages.some((m) => m.id === queued.id && m.status === 'sent')),
      10_000,
      'sent',
    );
  });

  it('writing while the connection is down tries the relay at once, not at the end of the back-off', async () => {
    // A back-off of up to two minutes: without the nudge, A would sit offline long after the relay is back.
    a.app.stop();
    a = await startDevice(relay.url, 'Alice', {
      fetch: aliceFetch,
      dbName: a.dbName,
      register: false,
      connection: { backoffBaseMs: 120_000, backoffMaxMs: 120_000 },
    });
    await waitUntil(() => a.app.snapshot.connection === 'online', 10_000, 'A online');
    relay.kill9();
    await waitUntil(() => a.app.snapshot.connection === 'offline', 10_000, 'A notices');
    await relay.restart();
    await new Promise((r) => setTimeout(r, 500));
    expect(a.app.snapshot.connection).toBe('offline'); // waiting out its back-off
    const text = 'written right after the relay came back';
    await a.app.handlers['message.send']({ conversationId: conv, text });
    await waitUntil(() => b.received(conv).includes(text), 10_000, 'B gets it without waiting out A’s back-off');
  });

  it('leave: B leaves, A commits the removal; end: the others see it and the queue is gone', async () => {
    await b.app.handlers['conversation.leave']({ conversationId: conv });
    expect(b.app.snapshot.conversations.find((x) => x.id === conv)?.status).toBe('left');
    await waitUntil(async () => (await a.app.handlers['conversation.get']({ conversationId: conv })).members.length === 1, 10_000, 'A alone');
    await expect(b.app.handlers['message.send']({ conversationId: conv, text: 'x' })).rejects.toMatchObject({ code: 'forbidden' });

    const { conversationId: second } = await a.app.handlers['conversation.create']({ name: 'Short-lived' });
    const inv = await a.app.handlers['invite.create']({ conversationId: second, mode: 'one-time' });
    await b.app.handlers['invite.join']({ link: inv.link });
    await waitUntil(async () => (await a.app.handlers['conversation.get']({ conversationId: second })).members.length === 2, 10_000, 'joined');
    // Bob knows Alice by name once her profile arrived (inside the group, after he joined).
    await waitUntil(async () => (await b.app.handlers['conversation.get']({ conversationId: second })).members.some((m) => m.displayName === 'Alice'), 10_000, 'B knows Alice');
    await a.app.handlers['conversation.end']({ conversationId: second });
    expect(a.app.snapshot.conversations.find((x) => x.id === second)).toMatchObject({ status: 'removed', endedBy: 'You' });
    await waitUntil(() => b.app.snapshot.conversations.find((x) => x.id === second)?.status === 'removed', 10_000, 'B sees the end');
    expect(b.app.snapshot.conversations.find((x) => x.id === second)?.endedBy).toBe('Alice');
    const bPage = await b.app.handlers['messages.page']({ conversationId: second, beforeSeq: null, limit: 10 });
    expect(bPage.messages.at(-1)?.text).toBe('Alice ended the conversation.');
    await a.app.handlers['conversation.delete']({ conversationId: second });
    expect(a.app.snapshot.conversations.some((x) => x.id === second)).toBe(false);
  });

  it('two people joining at the same moment never fork the group: the loser retries by itself, and all agree after', async () => {
    const d = await startDevice(relay.url, 'Dora', { fetch: fetchImpl });
    const e = await startDevice(relay.url, 'Emil', { fetch: fetchImpl });
    await waitUntil(() => d.app.snapshot.connection === 'online' && e.app.snapshot.connection === 'online', 10_000, 'online');
    const { conversationId: race } = await a.app.handlers['conversation.create']({ name: 'Race' });
    const inv = await a.app.handlers['invite.create']({ conversationId: race, mode: 'expiring', expiresInHours: 1 });
    const joined = await Promise.all([d, e].map((x) => x.app.handlers['invite.join']({ link: inv.link })));
    expect(joined.map((j) => j.conversationId)).toEqual([race, race]);
    const details = async (): Promise<ConversationDetail[]> => Promise.all([a, d, e].map((x) => x.app.handlers['conversation.get']({ conversationId: race })));
    await waitUntil(async () => (await details()).every((x) => x.members.length === 3), 15_000, 'three members everywhere');
    await waitUntil(async () => new Set((await details()).map((x) => x.safetyCode)).size === 1, 10_000, 'one safety code');
    await e.app.handlers['message.send']({ conversationId: race, text: 'no fork' });
    await waitUntil(() => d.received(race).includes('no fork') && a.received(race).includes('no fork'), 10_000, 'delivered');
    d.app.stop();
    e.app.stop();
  });

  it('revoking an invite kills the link for everyone; a member who also holds it can revoke it again harmlessly', async () => {
    const { conversationId: conv2 } = await a.app.handlers['conversation.create']({ name: 'Revocable' });
    const first = await a.app.handlers['invite.create']({ conversationId: conv2, mode: 'one-time' });
    await b.app.handlers['invite.join']({ link: first.link });
    await waitUntil(async () => (await a.app.handlers['conversation.get']({ conversationId: conv2 })).members.length === 2, 10_000, 'B in');
    const open = await a.app.handlers['invite.create']({ conversationId: conv2, mode: 'expiring', expiresInHours: 24 });
    const listed = (await a.app.handlers['invite.list']({ conversationId: conv2 })).invites;
    expect(listed[0]).toEqual({ inviteId: open.inviteId, mode: 'expiring', expiresAt: open.expiresAt });
    // B keeps the invite current too, so B holds it as well.
    await waitUntil(
      async () => (await b.app.handlers['invite.list']({ conversationId: conv2 })).invites.some((i) => i.inviteId === open.inviteId),
      10_000,
      'B holds the invite',
    );
    await a.app.handlers['invite.revoke']({ conversationId: conv2, inviteId: open.inviteId });
    expect((await a.app.handlers['invite.list']({ conversationId: conv2 })).invites.some((i) => i.inviteId === open.inviteId)).toBe(false);
    await expect(c.app.handlers['invite.join']({ link: open.link })).rejects.toMatchObject({ code: 'not-found' });
    await expect(a.app.handlers['invite.revoke']({ conversationId: conv2, inviteId: open.inviteId })).rejects.toMatchObject({ code: 'not-found' });
    // B's copy: the relay no longer has it, so revoking it there just forgets it.
    await b.app.handlers['invite.revoke']({ conversationId: conv2, inviteId: open.inviteId });
    expect((await b.app.handlers['invite.list']({ conversationId: conv2 })).invites).toEqual([]);
  });

  it('the relay’s database holds no plaintext and does not link one person’s conversations', async () => {
    const db = await dumpRelayDatabase(relay.dataDir);
    const dump = JSON.stringify(db);
    for (const canary of ['hello from A', 'while B is away', 'Summer trip', 'Trip', 'Alice', 'Carol', 'example.org']) {
      expect(dump).not.toContain(canary);
      expect(dump).not.toContain(Buffer.from(canary).toString('hex'));
    }
    // One mailbox per conversation: no mailbox is registered to two queues.
    const queuesPerMailbox = new Map<string, Set<string>>();
    for (const r of db.registrations ?? []) {
      const set = queuesPerMailbox.get(String(r.mailbox_id)) ?? new Set<string>();
      set.add(String(r.queue_hash));
      queuesPerMailbox.set(String(r.mailbox_id), set);
    }
    expect(queuesPerMailbox.size).toBeGreaterThan(0);
    for (const set of queuesPerMailbox.values()) expect(set.size).toBe(1);
  });
});
