/**
 * The storage contract every RelayStore must meet, as named cases. The same
 * cases run against the embedded SqliteStore and the RedisStore (see
 * store-contract-runner.ts, run under Deno because node:sqlite is not in
 * Node 20; tests/relay/store-contract.test.ts drives it). This module imports
 * only types, so the Node side can read the case names.
 *
 * Each case gets two store instances on the same data (two SQLite
 * connections to one file, or two Redis connections), so exactly-once is
 * checked across instances, not only inside one.
 */

import type { NewMessage, RelayStore, Spend, SpendResult, StorageCaps } from '../../../relay/store.ts';

export interface ContractContext {
  kind: 'sqlite' | 'redis';
  /** Two stores over the same data, like two relay instances. */
  a: RelayStore;
  b: RelayStore;
  /** Whether these bytes are still held anywhere in the store (in a message, an invite...). */
  holds(bytes: Uint8Array): Promise<boolean>;
  /** Entries about messages left in the store (messages, deliveries, and on Redis every index of them). */
  leftovers(): Promise<number>;
}

/** Every case starts with the token key its spends name ('k1'), as a running relay has one. */
export async function prepare(s: RelayStore): Promise<void> {
  const far = Math.floor(Date.now() / 1000) + 86_400;
  await s.putTokenKey({ keyId: 'k1', secretKey: new Uint8Array(32), publicKey: new Uint8Array(32), issueUntil: far, acceptUntil: far });
}

export class ContractFailure extends Error {
  override readonly name = 'ContractFailure';
}

function check(cond: boolean, what: string): void {
  if (!cond) throw new ContractFailure(what);
}

function same(actual: unknown, expected: unknown, what: string): void {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new ContractFailure(`${what}: expected ${e}, got ${a}`);
}

const rnd = (n: number): Uint8Array => crypto.getRandomValues(new Uint8Array(n));
const b64 = (b: Uint8Array): string => btoa(String.fromCharCode(...b)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
/** A fresh 16-byte id in the relay's form (22 base64url characters). */
const id = (): string => b64(rnd(16));
const hash = (): string => b64(rnd(32));
const spendOf = (keyId = 'k1'): Spend => ({ keyId, inputHash: hash() });
const payload = (label: string): Uint8Array => {
  const tag = new TextEncoder().encode(`CONTRACT-${label}-`);
  const out = rnd(200);
  out.set(tag);
  return out;
};
const now = (): number => Math.floor(Date.now() / 1000);
const later = (): number => now() + 3600;
/** Caps no case outside the storage-cap ones comes near. */
const ROOMY: StorageCaps = { maxMessagesPerScope: 1_000_000, maxBytesPerScope: 1 << 30, maxTotalBytes: 1 << 30 };
/** Queues per mailbox, for the cases about something else. */
const MANY = 1000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Each queue's capability hash, made up on first use (the store only compares them). */
const caps = new Map<string, string>();
const cap = (queue: string): string => {
  let c = caps.get(queue);
  if (c === undefined) caps.set(queue, (c = hash()));
  return c;
};
/** A post without rotation, with the queue's capability. */
const postQ = (s: RelayStore, spend: Spend, queue: string, m: NewMessage): Promise<SpendResult<string[]>> =>
  s.postToQueue(spend, queue, cap(queue), m, null, ROOMY);
const OK = { ok: true, value: null };

async function mailbox(s: RelayStore): Promise<string> {
  const mb = id();
  const r = await s.createMailbox(spendOf(), mb, hash(), later());
  check(r.ok, 'createMailbox');
  return mb;
}

async function group(s: RelayStore, n: number): Promise<{ queue: string; members: string[] }> {
  const queue = hash();
  const members: string[] = [];
  for (let i = 0; i < n; i++) {
    const mb = await mailbox(s);
    check((await s.registerMailbox(queue, cap(queue), mb, 1000, MANY)).ok, 'registerMailbox');
    members.push(mb);
  }
  return { queue, members };
}

async function post(s: RelayStore, queue: string, label: string, expiresAt = later()): Promise<{ messageId: string; payload: Uint8Array }> {
  const m = { messageId: id(), payload: payload(label), expiresAt };
  const r = await postQ(s, spendOf(), queue, m);
  check(r.ok, `postToQueue ${label}`);
  return m;
}

const ids = async (s: RelayStore, mb: string, at = now()): Promise<string[]> => (await s.fetchMailbox(mb, 500, at)).map((m) => m.messageId);

export const CASES: Record<string, (ctx: ContractContext) => Promise<void>> = {

  'one mailbox is registered to at most maxPerMailbox queues; re-registering is free, unregistering makes room': async ({ a, b }) => {
    const mb = await mailbox(a);
    const queues = [hash(), hash(), hash()];
    same(await a.registerMailbox(queues[0]!, cap(queues[0]!), mb, 1000, 2), { ok: true, value: null }, 'first queue');
    same(await b.registerMailbox(queues[1]!, cap(queues[1]!), mb, 1000, 2), { ok: true, value: null }, 'second queue');
    same(await a.registerMailbox(queues[2]!, cap(queues[2]!), mb, 1000, 2), { ok: false, reason: 'full' }, 'third queue refused');
    same(await b.registerMailbox(queues[0]!, cap(queues[0]!), mb, 1000, 2), { ok: true, value: null }, 'a queue it is on already');
    // Concurrent attempts from both instances: the cap holds across them.
    const other = await mailbox(a);
    const tries = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? a : b).registerMailbox(hash(), cap(hash()), other, 1000, 3)));
    same(tries.filter((r) => r.ok).length, 3, 'registrations won under concurrency');
    check((await a.unregisterMailbox(queues[1]!, cap(queues[1]!), mb)).ok, 'unregister');
    same(await b.registerMailbox(queues[2]!, cap(queues[2]!), mb, 1000, 2), { ok: true, value: null }, 'room again');
    const { queue } = await group(a, 1);
    const post1 = await a.postToQueue(spendOf(), queues[2]!, cap(queues[2]!), { messageId: id(), payload: payload('reg'), expiresAt: later() }, null, ROOMY);
    check(post1.ok && post1.value.join() === mb, 'the mailbox receives on the queue it joined');
    check((await a.postToQueue(spendOf(), queue, cap(queue), { messageId: id(), payload: payload('other'), expiresAt: later() }, null, ROOMY)).ok, 'other queue');
  },

  'storage caps: a post over the per-queue message, per-queue byte or total byte cap stores and spends nothing; room comes back as messages go': async ({ a, b, leftovers }) => {
    const size = payload('cap').length;
    const { queue, members } = await group(a, 2);
    const caps = { maxMessagesPerScope: 3, maxBytesPerScope: 100 * size, maxTotalBytes: 100 * size };
    const msg = (label: string) => ({ messageId: id(), payload: payload(label), expiresAt: later() });
    const sent: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await (i % 2 === 0 ? a : b).postToQueue(spendOf(), queue, cap(queue), msg(`c${i}`), null, caps);
      check(r.ok, `post ${i} within the cap`);
      if (r.ok) sent.push(String(i));
    }
    const refused = spendOf();
    same(await b.postToQueue(refused, queue, cap(queue), msg('over'), null, caps), { ok: false, reason: 'full' }, 'fourth message over the per-queue count');
    same(await a.spend(refused), true, 'the refused post spent nothing');
    same((await ids(a, members[0]!)).length, 3, 'nothing stored by the refused post');
    // Another queue has its own count.
    const other = await group(b, 1);
    check((await a.postToQueue(spendOf(), other.queue, cap(other.queue), msg('other'), null, caps)).ok, 'another queue is not full');
    // One reader acking is not enough: the message is still pending for the other.
    const first = (await ids(a, members[0]!))[0]!;
    await a.ack(members[0]!, [first]);
    same(await a.postToQueue(spendOf(), queue, cap(queue), msg('still'), null, caps), { ok: false, reason: 'full' }, 'still pending for one reader');
    await b.ack(members[1]!, [first]);
    check((await b.postToQueue(spendOf(), queue, cap(queue), msg('again'), null, caps)).ok, 'room once every reader acked');

    // Bytes per queue, and in total.
    const byBytes = await group(a, 1);
    const bytesCap = { maxMessagesPerScope: 100, maxBytesPerScope: 2 * size, maxTotalBytes: 100 * size };
    check((await a.postToQueue(spendOf(), byBytes.queue, cap(byBytes.queue), msg('b1'), null, bytesCap)).ok, 'first within bytes');
    check((await b.postToQueue(spendOf(), byBytes.queue, cap(byBytes.queue), msg('b2'), null, bytesCap)).ok, 'second within bytes');
    same(await a.postToQueue(spendOf(), byBytes.queue, cap(byBytes.queue), msg('b3'), null, bytesCap), { ok: false, reason: 'full' }, 'third over the queue bytes');
    const total = { maxMessagesPerScope: 100, maxBytesPerScope: 100 * size, maxTotalBytes: 7 * size };
    const fresh = await group(b, 1);
    // Stored so far: 3 on `queue`, 1 on `other`, 2 on `byBytes` = 6.
    check((await a.postToQueue(spendOf(), fresh.queue, cap(fresh.queue), msg('t1'), null, total)).ok, 'seventh message fits the total');
    same(await b.postToQueue(spendOf(), fresh.queue, cap(fresh.queue), msg('t2'), null, total), { ok: false, reason: 'full' }, 'eighth over the total');
    const wmb = fresh.members[0]!;
    same(await a.postToMailbox(spendOf(), wmb, msg('w'), total), { ok: false, reason: 'full' }, 'a Welcome counts against the total too');
    const welcomeCaps = { maxMessagesPerScope: 1, maxBytesPerScope: 100 * size, maxTotalBytes: 100 * size };
    check((await a.postToMailbox(spendOf(), wmb, msg('w1'), welcomeCaps)).ok, 'first Welcome');
    same(await b.postToMailbox(spendOf(), wmb, msg('w2'), welcomeCaps), { ok: false, reason: 'full' }, 'per-mailbox Welcome count');
    // Deleting a queue frees its share.
    check((await b.deleteQueue(queue, cap(queue))).ok, 'delete queue');
    check((await a.postToQueue(spendOf(), fresh.queue, cap(fresh.queue), msg('t3'), null, total)).ok, 'room after the queue went');
    check((await leftovers()) > 0, 'messages still pending elsewhere');
  },

  'storage caps hold under concurrent posts from two instances': async ({ a, b }) => {
    const { queue, members } = await group(a, 1);
    const caps = { maxMessagesPerScope: 5, maxBytesPerScope: 1 << 20, maxTotalBytes: 1 << 20 };
    const r = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).postToQueue(spendOf(), queue, cap(queue), { messageId: id(), payload: payload(`p${i}`), expiresAt: later() }, null, caps)),
    );
    same(r.filter((x) => x.ok).length, 5, 'posts stored');
    same((await ids(b, members[0]!)).length, 5, 'messages pending');
  },

  'expired messages leave the caps once swept': async ({ a, b }) => {
    const { queue } = await group(a, 1);
    const t0 = now();
    const caps = { maxMessagesPerScope: 2, maxBytesPerScope: 1 << 20, maxTotalBytes: 1 << 20 };
    check((await a.postToQueue(spendOf(), queue, cap(queue), { messageId: id(), payload: payload('e1'), expiresAt: t0 + 100 }, null, caps)).ok, 'e1');
    check((await a.postToQueue(spendOf(), queue, cap(queue), { messageId: id(), payload: payload('e2'), expiresAt: t0 + 100 }, null, caps)).ok, 'e2');
    same(await b.postToQueue(spendOf(), queue, cap(queue), { messageId: id(), payload: payload('e3'), expiresAt: t0 + 100 }, null, caps), { ok: false, reason: 'full' }, 'full');
    await b.sweep(t0 + 200);
    check((await a.postToQueue(spendOf(), queue, cap(queue), { messageId: id(), payload: payload('e4'), expiresAt: later() }, null, caps)).ok, 'room after the sweep');
  },

  'pending ceremonies are capped: one more evicts the one that expires first': async ({ a, b }) => {
    const t0 = now();
    const cids = [id(), id(), id(), id()];
    for (let i = 0; i < 3; i++) await (i % 2 === 0 ? a : b).putCeremony(cids[i]!, { kind: 'login', challenge: `c${i}`, accountId: null, expiresAt: t0 + 100 + i }, 3);
    await b.putCeremony(cids[3]!, { kind: 'login', challenge: 'c3', accountId: null, expiresAt: t0 + 200 }, 3);
    same(await a.takeCeremony(cids[0]!, t0), null, 'the earliest-expiring one was evicted');
    same((await b.takeCeremony(cids[1]!, t0))?.challenge, 'c1', 'the others remain');
    same((await a.takeCeremony(cids[3]!, t0))?.challenge, 'c3', 'the new one is there');
    const many = Array.from({ length: 30 }, () => id());
    await Promise.all(many.map((c, i) => (i % 2 === 0 ? a : b).putCeremony(c, { kind: 'login', challenge: c, accountId: null, expiresAt: t0 + 300 + i }, 10)));
    let left = 0;
    for (const c of many) if ((await a.takeCeremony(c, t0)) !== null) left++;
    check(left <= 10, `at most the cap is kept under concurrency (kept ${left})`);
    same(await a.takeCeremony(many[29]!, t0), null, 'taken ones are gone');
  },

  'an idle mailbox is dropped by the sweep with what waits for it; reading it pushes its idle expiry forward': async ({ a, b, holds }) => {
    const t0 = now();
    const queue = hash();
    const idle = id();
    const live = id();
    check((await a.createMailbox(spendOf(), idle, hash(), t0 + 100)).ok, 'idle mailbox');
    check((await b.createMailbox(spendOf(), live, hash(), t0 + 100)).ok, 'live mailbox');
    check((await a.registerMailbox(queue, cap(queue), idle, 10, 10)).ok && (await b.registerMailbox(queue, cap(queue), live, 10, 10)).ok, 'registered');
    const shared = await post(a, queue, 'shared');
    const welcome = { messageId: id(), payload: payload('idle-welcome'), expiresAt: later() };
    check((await b.postToMailbox(spendOf(), idle, welcome, ROOMY)).ok, 'welcome to the idle one');
    await b.touchMailbox(live, t0 + 5000);
    await a.touchMailbox(live, t0 + 50); // an earlier expiry never shortens it
    const r = await b.sweep(t0 + 200);
    same(r.mailboxes, 1, 'one idle mailbox dropped');
    same(await a.getMailboxSecretHash(idle), null, 'the idle mailbox is gone');
    check((await a.getMailboxSecretHash(live)) !== null, 'the live one stays');
    check(!(await holds(welcome.payload)), 'its Welcome is gone');
    check(await holds(shared.payload), 'a message another mailbox still reads stays');
    const next = await a.postToQueue(spendOf(), queue, cap(queue), { messageId: id(), payload: payload('after'), expiresAt: later() }, null, ROOMY);
    check(next.ok && next.value.join() === live, 'the queue now delivers to the live mailbox only');
    await a.ack(live, [shared.messageId]);
    check(!(await holds(shared.payload)), 'the shared message goes with its last live reader');
    same((await a.sweep(t0 + 200)).mailboxes, 0, 'nothing more to drop');
    same((await b.sweep(t0 + 6000)).mailboxes, 1, 'the live one goes too once idle past its new expiry');
  },
  'spend and post are one operation: a spent token stores nothing, an unknown queue spends nothing': async ({ a, b }) => {
    const { queue, members } = await group(a, 2);
    const spend = spendOf();
    const first = await postQ(a, spend, queue, { messageId: id(), payload: payload('x'), expiresAt: later() });
    check(first.ok && [...first.value].sort().join() === [...members].sort().join(), 'first post notifies both mailboxes');
    const again = await postQ(b, spend, queue, { messageId: id(), payload: payload('y'), expiresAt: later() });
    same(again, { ok: false, reason: 'spent' }, 'same token again, other instance');
    same((await ids(a, members[0]!)).length, 1, 'one message stored');
    const lonely = spendOf();
    same(await postQ(a, lonely, hash(), { messageId: id(), payload: payload('z'), expiresAt: later() }), { ok: false, reason: 'not_found' }, 'unknown queue');
    same(await a.spend(lonely), true, 'the token of a refused post is still unspent');
    same(await b.spend(lonely), false, 'and now spent, on every instance');
    const mb = await mailbox(a);
    const w = spendOf();
    same(await a.postToMailbox(w, mb, { messageId: id(), payload: payload('w'), expiresAt: later() }, ROOMY), { ok: true, value: null }, 'welcome');
    same(await b.postToMailbox(w, mb, { messageId: id(), payload: payload('w2'), expiresAt: later() }, ROOMY), { ok: false, reason: 'spent' }, 'welcome token reused');
    same(await a.postToMailbox(spendOf(), id(), { messageId: id(), payload: payload('w3'), expiresAt: later() }, ROOMY), { ok: false, reason: 'not_found' }, 'welcome to nobody');
  },

  'double spend across instances: of 40 concurrent posts with one token exactly one is stored': async ({ a, b }) => {
    const { queue, members } = await group(a, 3);
    const spend = spendOf();
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => postQ(i % 2 === 0 ? a : b, spend, queue, { messageId: id(), payload: payload(`r${i}`), expiresAt: later() })),
    );
    same(results.filter((r) => r.ok).length, 1, 'posts that won');
    check(results.every((r) => r.ok || r.reason === 'spent'), 'the others are refused as spent');
    for (const mb of members) same((await ids(b, mb)).length, 1, 'one message per mailbox');
    const mspend = spendOf();
    const made = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).createMailbox(mspend, id(), hash(), later())));
    same(made.filter((r) => r.ok).length, 1, 'mailboxes created with one token');
  },

  'a one-time key package is claimed exactly once under concurrent claims; the last resort stays': async ({ a, b }) => {
    const account = id();
    const oneTime = Array.from({ length: 10 }, (_, i) => payload(`kp${i}`));
    const last = payload('last');
    same(await a.addKeyPackages(account, oneTime, last, 200), { ok: true, value: { oneTime: 10, lastResort: true } }, 'added');
    const claims = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? a : b).claimKeyPackage(account)));
    const seen = claims.map((c) => (c === null ? 'null' : b64(c)));
    const want = oneTime.map(b64);
    for (const kp of want) same(seen.filter((x) => x === kp).length, 1, 'each one-time package handed out once');
    same(seen.filter((x) => x === b64(last)).length, 30, 'the rest get the last-resort package');
    same(await b.countKeyPackages(account), { oneTime: 0, lastResort: true }, 'counts after');
    same(await a.claimKeyPackage(id()), null, 'nobody has packages');
    same(await a.addKeyPackages(account, Array.from({ length: 3 }, () => payload('c')), undefined, 2), { ok: false, reason: 'full' }, 'cap');
    same(await a.countKeyPackages(account), { oneTime: 0, lastResort: true }, 'a refused batch adds nothing');
  },

  'fetch is oldest first across queues and Welcomes, and honours the limit': async ({ a, b }) => {
    const g1 = await group(a, 1);
    const mb = g1.members[0]!;
    const queue2 = hash();
    check((await a.registerMailbox(queue2, cap(queue2), mb, 10, MANY)).ok, 'second queue');
    const order: string[] = [];
    for (let i = 0; i < 6; i++) {
      if (i % 3 === 2) {
        const m = { messageId: id(), payload: payload(`w${i}`), expiresAt: later() };
        check((await b.postToMailbox(spendOf(), mb, m, ROOMY)).ok, 'welcome');
        order.push(m.messageId);
      } else {
        order.push((await post(i % 2 === 0 ? a : b, i % 2 === 0 ? g1.queue : queue2, `m${i}`)).messageId);
      }
    }
    const all = await b.fetchMailbox(mb, 500, now());
    same(all.map((m) => m.messageId), order, 'oldest first');
    same(all.map((m) => m.kind), ['group', 'group', 'welcome', 'group', 'group', 'welcome'], 'kinds');
    same(await ids(a, mb).then((x) => x.length), 6, 'the other instance sees the same');
    same((await a.fetchMailbox(mb, 4, now())).map((m) => m.messageId), order.slice(0, 4), 'limit');
  },

  'ack removes only this mailbox copy; the payload goes with the last ack, once': async ({ a, b, holds }) => {
    const { queue, members } = await group(a, 2);
    const [m1, m2] = members as [string, string];
    const msg = await post(a, queue, 'ack');
    const other = await post(a, queue, 'other');
    check(await holds(msg.payload), 'payload held while pending');
    same(await b.ack(m1, [msg.messageId, id()]), 1, 'one delivery removed, the unknown id ignored');
    same(await a.ack(m1, [msg.messageId]), 0, 'acked twice');
    same(await ids(a, m1), [other.messageId], 'm1 keeps only the other message');
    same(await ids(b, m2), [msg.messageId, other.messageId], 'm2 still has both');
    check(await holds(msg.payload), 'payload kept while m2 waits');
    same(await a.ack(m1, [id()]), 0, 'nothing else removed');
    const both = await Promise.all([a.ack(m2, [msg.messageId]), b.ack(m2, [msg.messageId])]);
    same(both[0] + both[1], 1, 'concurrent acks of one delivery on two instances count once');
    check(!(await holds(msg.payload)), 'payload gone after the last ack');
    check(await holds(other.payload), 'the other message stays');
  },

  'an ACK for a message gone through the other instance never touches a later message': async ({ a, b }) => {
    const { queue, members } = await group(a, 1);
    const m1 = members[0]!;
    // Posted through a, read and deleted through b: a may still remember where the message was.
    const gone = await post(a, queue, 'gone');
    same(await b.ack(m1, [gone.messageId]), 1, 'acked through b');
    // A new message may take the deleted one's place in the file (SQLite reuses the largest rowid).
    const next = await post(b, queue, 'next');
    same(await a.ack(m1, [gone.messageId]), 0, 'the old id again, through a');
    same(await ids(a, m1), [next.messageId], 'the later message is still there');
    same(await a.ack(m1, [next.messageId]), 1, 'and goes with its own ACK');
  },

  'deleting a mailbox drops its deliveries and the messages only it waited for': async ({ a, b, holds }) => {
    const { queue, members } = await group(a, 2);
    const [m1, m2] = members as [string, string];
    const shared = await post(a, queue, 'shared');
    const onlyM1 = await post(a, queue, 'only-m1');
    same(await a.ack(m2, [onlyM1.messageId]), 1, 'm2 read only-m1');
    same(await b.deleteMailbox(m1), true, 'deleted');
    same(await b.deleteMailbox(m1), false, 'deleted twice');
    same(await a.getMailboxSecretHash(m1), null, 'mailbox gone');
    same(await ids(a, m1), [], 'no deliveries left');
    check(!(await holds(onlyM1.payload)), 'a message only m1 waited for is gone');
    same(await ids(a, m2), [shared.messageId], 'm2 keeps the shared one');
    check(await holds(shared.payload), 'shared payload kept');
    same(await a.unregisterMailbox(queue, cap(queue), m2), OK, 'm2 leaves too');
    same(await postQ(a, spendOf(), queue, { messageId: id(), payload: payload('none'), expiresAt: later() }), { ok: false, reason: 'not_found' }, 'queue without registrations');
  },

  'an unregistered mailbox keeps nothing of the queue, gets nothing new, and can register again': async ({ a, b, holds, leftovers }) => {
    const { queue, members } = await group(a, 2);
    const [m1, m2] = members as [string, string];
    const before = await post(a, queue, 'before');
    const welcome = { messageId: id(), payload: payload('welcome'), expiresAt: later() };
    check((await a.postToMailbox(spendOf(), m2, welcome, ROOMY)).ok, 'a Welcome for m2');
    same(await b.unregisterMailbox(queue, cap(queue), m2), OK, 'unregister m2');
    const after = await post(b, queue, 'after');
    same(await ids(a, m2), [welcome.messageId], 'm2 keeps only its Welcome: what the queue sent it is gone');
    same(await ids(b, m1), [before.messageId, after.messageId], 'm1 has both');
    same(await b.ack(m2, [before.messageId, after.messageId]), 0, 'm2 has nothing of the queue to ack');
    same(await a.ack(m1, [before.messageId, after.messageId]), 2, 'm1 acks both');
    same(await a.ack(m2, [welcome.messageId]), 1, 'm2 acks its Welcome');
    check(!(await holds(before.payload)) && !(await holds(after.payload)), 'both gone after their last reader');
    same(await leftovers(), 0, 'nothing left');
    same(await a.registerMailbox(queue, cap(queue), m2, 2, MANY), OK, 'register again');
    const again = await post(a, queue, 'again');
    same(await ids(b, m2), [again.messageId], 'new messages reach it again');
  },

  'unregistering drops the messages only that mailbox still waited for': async ({ a, b, holds, leftovers }) => {
    const { queue, members } = await group(a, 2);
    const [m1, m2] = members as [string, string];
    const shared = await post(a, queue, 'shared');
    same(await a.ack(m1, [shared.messageId]), 1, 'm1 read it');
    check(await holds(shared.payload), 'kept while m2 waits');
    same(await b.unregisterMailbox(queue, cap(queue), m2), OK, 'unregister m2');
    check(!(await holds(shared.payload)), 'gone with its last reader unregistered');
    same(await leftovers(), 0, 'nothing left about it');
    same(await ids(a, m2), [], 'm2 has nothing');
  },

  'a queue opens only with its capability: a wrong one is not_found everywhere and changes nothing': async ({ a, b, holds }) => {
    const { queue, members } = await group(a, 2);
    const [m1, m2] = members as [string, string];
    const msg = await post(a, queue, 'kept');
    const wrong = hash();
    const nf = { ok: false, reason: 'not_found' };
    const extra = await mailbox(a);
    same(await b.registerMailbox(queue, wrong, extra, 10, MANY), nf, 'register');
    same(await a.unregisterMailbox(queue, wrong, m2), nf, 'unregister');
    same(await b.deleteQueue(queue, wrong), nf, 'delete');
    const spend = spendOf();
    same(await b.postToQueue(spend, queue, wrong, { messageId: id(), payload: payload('no'), expiresAt: later() }, hash(), ROOMY), nf, 'post (and rotate)');
    same(await a.spend(spend), true, 'the refused post spent nothing');
    same(await ids(a, extra), [], 'the extra mailbox got nothing');
    same(await ids(b, m1), [msg.messageId], 'm1 still has the message');
    same(await ids(b, m2), [msg.messageId], 'm2 still registered');
    check(await holds(msg.payload), 'nothing deleted');
    same(await a.registerMailbox(hash(), wrong, extra, 10, MANY), OK, 'any capability creates a new queue');
  },

  'a Commit rotates the capability in the same operation: the old one is stale, one of two racing Commits wins': async ({ a, b }) => {
    const { queue, members } = await group(a, 2);
    const c0 = cap(queue);
    const c1 = hash();
    const c1b = hash();
    const spends = [spendOf(), spendOf()];
    const racing = await Promise.all([
      a.postToQueue(spends[0]!, queue, c0, { messageId: id(), payload: payload('commit-a'), expiresAt: later() }, c1, ROOMY),
      b.postToQueue(spends[1]!, queue, c0, { messageId: id(), payload: payload('commit-b'), expiresAt: later() }, c1b, ROOMY),
    ]);
    same(racing.filter((r) => r.ok).length, 1, 'one Commit stored');
    const lost = racing.findIndex((r) => !r.ok);
    same(racing[lost], { ok: false, reason: 'stale' }, 'the other finds its capability stale');
    same(await a.spend(spends[lost]!), true, 'and its token unspent');
    same((await ids(a, members[0]!)).length, 1, 'only the winner delivered');
    const current = lost === 0 ? c1b : c1;
    const stale = { ok: false, reason: 'stale' };
    same(await postQ(b, spendOf(), queue, { messageId: id(), payload: payload('late'), expiresAt: later() }), stale, 'post with the old one');
    const fresh = await mailbox(a);
    same(await a.registerMailbox(queue, c0, fresh, 10, MANY), stale, 'register with the old one');
    same(await a.unregisterMailbox(queue, c0, members[1]!), stale, 'unregister with the old one');
    same(await b.deleteQueue(queue, c0), stale, 'delete with the old one');
    same(await b.registerMailbox(queue, current, fresh, 10, MANY), OK, 'the new one registers');
    same((await b.postToQueue(spendOf(), queue, current, { messageId: id(), payload: payload('next'), expiresAt: later() }, null, ROOMY)).ok, true, 'and posts');
    const c2 = hash();
    check((await a.postToQueue(spendOf(), queue, current, { messageId: id(), payload: payload('commit-2'), expiresAt: later() }, c2, ROOMY)).ok, 'rotate again');
    same(await postQ(a, spendOf(), queue, { messageId: id(), payload: payload('older'), expiresAt: later() }), { ok: false, reason: 'not_found' }, 'two epochs back is not_found');
    same(await a.deleteQueue(queue, c2), OK, 'the newest one deletes');
    same(await a.registerMailbox(queue, c2, fresh, 10, MANY), OK, 'a deleted queue takes a new capability');
  },

  'registration: unknown mailbox, the per-queue cap, unregister, deleting a queue': async ({ a, b, holds }) => {
    const queue = hash();
    same(await a.registerMailbox(queue, cap(queue), id(), 10, MANY), { ok: false, reason: 'not_found' }, 'unknown mailbox');
    const m = [await mailbox(a), await mailbox(a), await mailbox(a)];
    same(await a.registerMailbox(queue, cap(queue), m[0]!, 2, MANY), { ok: true, value: null }, 'first');
    same(await b.registerMailbox(queue, cap(queue), m[1]!, 2, MANY), { ok: true, value: null }, 'second');
    same(await a.registerMailbox(queue, cap(queue), m[2]!, 2, MANY), { ok: false, reason: 'full' }, 'cap');
    same(await a.unregisterMailbox(queue, cap(queue), m[1]!), OK, 'unregister');
    same(await a.unregisterMailbox(queue, cap(queue), m[1]!), { ok: false, reason: 'not_found' }, 'unregister twice');
    same(await b.registerMailbox(queue, cap(queue), m[2]!, 2, MANY), { ok: true, value: null }, 'room again');
    const msg = await post(a, queue, 'q');
    same(await b.deleteQueue(queue, cap(queue)), OK, 'queue deleted');
    same(await b.deleteQueue(queue, cap(queue)), { ok: false, reason: 'not_found' }, 'nothing left to delete');
    same(await ids(a, m[0]!), [], 'deliveries gone');
    check(!(await holds(msg.payload)), 'ciphertext gone');
    same(await postQ(a, spendOf(), queue, { messageId: id(), payload: payload('after'), expiresAt: later() }), { ok: false, reason: 'not_found' }, 'no registrations left');
  },

  'expiry via sweep: messages, sessions and ceremonies past their time are deleted and counted': async ({ a, b, holds }) => {
    // Far-future "now" so no other case's entries count; sweeps of other cases' stores run in this store only.
    const { queue, members } = await group(a, 2);
    const t0 = now();
    const soon = await post(a, queue, 'soon', t0 + 100);
    const late = await post(a, queue, 'late', t0 + 10_000);
    await a.putSession(hash(), id(), t0 + 100);
    const keep = hash();
    await a.putSession(keep, 'acct', t0 + 10_000);
    await a.putCeremony(id(), { kind: 'login', challenge: 'c', accountId: null, expiresAt: t0 + 100 }, 100);
    same(await ids(a, members[0]!, t0 + 200), [late.messageId], 'an expired message is never served');
    const r = await b.sweep(t0 + 200);
    check(r.messages >= 1 && r.sessions >= 1 && r.ceremonies >= 1, `sweep counts ${JSON.stringify(r)}`);
    check(!(await holds(soon.payload)), 'expired payload gone');
    check(await holds(late.payload), 'live payload kept');
    same(await ids(a, members[1]!, t0), [late.messageId], 'the live message is still served');
    same((await a.getSession(keep, t0))?.accountId, 'acct', 'live session kept');
    same(await a.sweep(t0 + 200), { messages: 0, sessions: 0, ceremonies: 0, mailboxes: 0 }, 'a second sweep finds nothing');
  },

  'expiry in real time: nothing is served after its expiry, even before a sweep (Redis: the keys expire)': async ({ kind, a, b, holds }) => {
    const { queue, members } = await group(a, 1);
    const t0 = now();
    const m = await post(a, queue, 'ttl', t0 + 1);
    const session = hash();
    await a.putSession(session, 'acct', t0 + 1);
    const cid = id();
    await a.putCeremony(cid, { kind: 'register', challenge: 'c', accountId: 'x', expiresAt: t0 + 1 }, 100);
    const inv = hash();
    await a.putInvite(inv, { writeKeyHash: 'w', ciphertext: payload('inv-ttl'), expiresAt: t0 + 1, oneTime: false });
    await sleep((t0 + 2) * 1000 - Date.now() + 100);
    same(await ids(b, members[0]!), [], 'message not served');
    same(await b.getSession(session, now()), null, 'session not accepted');
    same(await b.takeCeremony(cid, now()), null, 'ceremony not accepted');
    same(await b.readInvite(inv, now()), null, 'invite not served');
    if (kind === 'redis') check(!(await holds(m.payload)), 'Redis expired the message key without a sweep');
    await a.sweep(now());
    check(!(await holds(m.payload)), 'gone after the sweep');
  },

  'nothing about a message is left once it is acked, its mailbox deleted, or it expired and was swept': async ({ a, b, leftovers }) => {
    const { queue, members } = await group(a, 3);
    const [m1, m2, m3] = members as [string, string, string];
    const t0 = now();
    const acked = await post(a, queue, 'acked');
    const orphaned = await post(b, queue, 'orphaned');
    const expiring = await post(a, queue, 'expiring', t0 + 1);
    const welcome = { messageId: id(), payload: payload('welcome'), expiresAt: t0 + 1 };
    check((await b.postToMailbox(spendOf(), m1, welcome, ROOMY)).ok, 'welcome');
    check((await leftovers()) > 0, 'entries while pending');
    for (const mb of members) await (mb === m2 ? b : a).ack(mb, [acked.messageId]);
    await a.ack(m1, [orphaned.messageId]);
    await b.ack(m2, [orphaned.messageId]);
    check(await a.deleteMailbox(m3), 'the last recipient of "orphaned" deleted its mailbox');
    same(await ids(a, m1), [expiring.messageId, welcome.messageId], 'only the expiring ones remain');
    await sleep((t0 + 2) * 1000 - Date.now() + 100);
    await b.sweep(now());
    same(await leftovers(), 0, 'entries left');
  },

  'invites: id conflict, write key, one-time read, delete': async ({ a, b, holds }) => {
    const h = hash();
    const first = payload('inv1');
    same(await a.putInvite(h, { writeKeyHash: 'wk', ciphertext: first, expiresAt: later(), oneTime: false }), true, 'put');
    same(await b.putInvite(h, { writeKeyHash: 'other', ciphertext: payload('x'), expiresAt: later(), oneTime: false }), false, 'id taken');
    same(b64((await b.readInvite(h, now()))!), b64(first), 'read');
    same(b64((await a.readInvite(h, now()))!), b64(first), 'a reusable invite reads again');
    const second = payload('inv2');
    same(await a.updateInvite(h, 'nope', second, now()), false, 'update with a wrong key');
    same(await b.updateInvite(h, 'wk', second, now()), true, 'update');
    same(b64((await a.readInvite(h, now()))!), b64(second), 'new ciphertext');
    same(await a.deleteInvite(h, 'nope'), false, 'delete with a wrong key');
    same(await b.deleteInvite(h, 'wk'), true, 'delete');
    same(await a.readInvite(h, now()), null, 'gone');
    check(!(await holds(second)), 'ciphertext gone');
    const once = hash();
    await a.putInvite(once, { writeKeyHash: 'wk', ciphertext: payload('once'), expiresAt: later(), oneTime: true });
    const reads = await Promise.all([a.readInvite(once, now()), b.readInvite(once, now()), a.readInvite(once, now())]);
    same(reads.filter((r) => r !== null).length, 1, 'a one-time invite is read once');
  },

  'invites: a deleted or used invite stays a tombstone until its expiry: its id cannot be re-created, updated or read': async ({ a, b, holds }) => {
    const h = hash();
    const secret = payload('revoked');
    await a.putInvite(h, { writeKeyHash: 'wk', ciphertext: secret, expiresAt: later(), oneTime: false });
    same(await b.deleteInvite(h, 'wk'), true, 'delete');
    same(await a.putInvite(h, { writeKeyHash: 'wk', ciphertext: payload('again'), expiresAt: later(), oneTime: false }), false, 're-create refused');
    same(await b.updateInvite(h, 'wk', payload('again'), now()), false, 'update refused');
    same(await a.readInvite(h, now()), null, 'not served');
    same(await b.deleteInvite(h, 'wk'), false, 'a second delete finds nothing');
    check(!(await holds(secret)), 'ciphertext gone');
    const once = hash();
    await a.putInvite(once, { writeKeyHash: 'wk', ciphertext: payload('once'), expiresAt: later(), oneTime: true });
    check((await b.readInvite(once, now())) !== null, 'first read');
    same(await a.putInvite(once, { writeKeyHash: 'wk', ciphertext: payload('again'), expiresAt: later(), oneTime: true }), false, 'used id refused');
    const t0 = now();
    const short = hash();
    await a.putInvite(short, { writeKeyHash: 'wk', ciphertext: payload('short'), expiresAt: t0 + 1, oneTime: false });
    same(await a.deleteInvite(short, 'wk'), true, 'delete the short one');
    await sleep((t0 + 2) * 1000 - Date.now() + 100);
    await b.sweep(now());
    same(await a.putInvite(short, { writeKeyHash: 'wk', ciphertext: payload('later'), expiresAt: now() + 60, oneTime: false }), true, 'free again after its expiry');
  },

  'quota buckets, ceremonies, sessions, accounts and token keys': async ({ kind, a, b, holds }) => {
    const bucket = `issue:${id()}:1`;
    same(await a.consumeQuota(bucket, 3, 5, later()), true, 'quota 3/5');
    same(await b.consumeQuota(bucket, 3, 5, later()), false, 'quota 6/5 refused');
    same(await b.consumeQuota(bucket, 2, 5, later()), true, 'quota 5/5');
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).consumeQuota(`${bucket}x`, 1, 4, later())));
    same(results.filter(Boolean).length, 4, 'concurrent quota');

    const cid = id();
    await a.putCeremony(cid, { kind: 'register', challenge: 'ch', accountId: 'acc', expiresAt: later() }, 100);
    const taken = await Promise.all([a.takeCeremony(cid, now()), b.takeCeremony(cid, now())]);
    same(taken.filter((t) => t !== null).length, 1, 'a ceremony is taken once');
    same(taken.find((t) => t !== null)?.challenge, 'ch', 'ceremony content');

    const account = id();
    const cred = { credentialId: id(), accountId: account, publicKey: payload('pk'), counter: 1, transports: ['usb'] };
    same(await a.accountExists(account), false, 'no account yet');
    await a.createAccount(account, cred);
    same(await b.accountExists(account), true, 'account');
    const got = await b.getCredential(cred.credentialId);
    same(got && { ...got, publicKey: b64(got.publicKey) }, { ...cred, publicKey: b64(cred.publicKey) }, 'credential');
    await b.updateCredentialCounter(cred.credentialId, 7);
    same((await a.getCredential(cred.credentialId))?.counter, 7, 'counter');
    let refused = false;
    await a.createAccount(id(), { ...cred, accountId: 'other' }).catch(() => (refused = true));
    check(refused, 'a credential id is never taken over');
    same(await a.getCredential(id()), null, 'unknown credential');

    const tok = hash();
    await a.putSession(tok, account, later());
    same((await b.getSession(tok, now()))?.accountId, account, 'session');
    await b.deleteSession(tok);
    same(await a.getSession(tok, now()), null, 'logged out');

    const keyId = `key${id().slice(0, 8)}`;
    const key = { keyId, secretKey: rnd(32), publicKey: rnd(32), issueUntil: later(), acceptUntil: later() + 60 };
    await a.putTokenKey(key);
    const listed = (await b.listTokenKeys()).find((k) => k.keyId === keyId);
    same(listed && { ...listed, secretKey: b64(listed.secretKey), publicKey: b64(listed.publicKey) }, { ...key, secretKey: b64(key.secretKey), publicKey: b64(key.publicKey) }, 'token key');
    const s = spendOf(keyId);
    same(await a.spend(s), true, 'spend');
    same(await b.spend(s), false, 'spent');
    const spentEntry = new TextEncoder().encode(s.inputHash);
    if (kind === 'redis') check(await holds(spentEntry), 'the spend is recorded');
    await b.retireTokenKey(keyId);
    same((await a.listTokenKeys()).some((k) => k.keyId === keyId), false, 'key retired');
    if (kind === 'sqlite') {
      same(await a.spend(s), true, 'the spent set went with its key');
    } else {
      check(!(await holds(spentEntry)), 'the spent set went with its key');
      // Several instances share Redis and their clocks may still accept the key: a spend under a retired key is refused.
      same(await a.spend(s), false, 'spending under the retired key');
    }
  },
  'deleting an account removes its credentials, sessions and key packages, and nothing of another account': async ({ a, b, holds }) => {
    const mine = id();
    const other = id();
    const myKey = payload('my-public-key');
    const myCreds = [
      { credentialId: id(), accountId: mine, publicKey: myKey, counter: 0, transports: [] },
    ];
    const otherCred = { credentialId: id(), accountId: other, publicKey: payload('other-public-key'), counter: 0, transports: [] };
    await a.createAccount(mine, myCreds[0]!);
    await b.createAccount(other, otherCred);
    const [s1, s2, s3] = [hash(), hash(), hash()];
    await a.putSession(s1, mine, later());
    await b.putSession(s2, mine, later());
    await a.putSession(s3, other, later());
    await b.deleteSession(s2);
    const s4 = hash();
    await a.putSession(s4, mine, later());
    const myKps = [payload('kp-1'), payload('kp-2')];
    const myLast = payload('kp-last');
    check((await a.addKeyPackages(mine, myKps, myLast, 10)).ok, 'my key packages');
    const otherKp = payload('kp-other');
    check((await b.addKeyPackages(other, [otherKp], undefined, 10)).ok, 'other key packages');

    same(await b.deleteAccount(mine), true, 'deleted');
    same(await a.accountExists(mine), false, 'account gone');
    same(await b.getCredential(myCreds[0]!.credentialId), null, 'credential gone');
    same(await a.getSession(s1, now()), null, 'session gone');
    same(await b.getSession(s4, now()), null, 'later session gone');
    same(await a.countKeyPackages(mine), { oneTime: 0, lastResort: false }, 'key packages gone');
    same(await b.claimKeyPackage(mine), null, 'nothing to claim');
    for (const bytes of [myKey, ...myKps, myLast]) check(!(await holds(bytes)), 'no bytes of the deleted account are held');

    same(await a.accountExists(other), true, 'the other account stays');
    same((await a.getCredential(otherCred.credentialId))?.accountId, other, 'its credential stays');
    same((await b.getSession(s3, now()))?.accountId, other, 'its session stays');
    same(await a.countKeyPackages(other), { oneTime: 1, lastResort: false }, 'its key packages stay');
    check(await holds(otherKp), 'its key package bytes stay');
    same(await a.deleteAccount(mine), false, 'a second delete finds nothing');
  },
};
