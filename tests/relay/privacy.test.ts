// Privacy audit: run a scripted scenario, then dump the whole database (and
// search the raw files, WAL included) to check what the relay keeps: no
// plaintext, no account-to-queue link, no issuance-to-spend link, no IP
// address, secrets only as hashes, no timestamps except expiries.
// On both stores: on Redis the files are its AOF, the dump every key under the prefix.
import { webcrypto } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORE_KINDS, startRelayOn, type StoreRelay } from './support/stores.ts';
import { RelayClient, WsClient, capFor, randomQueue, waitFor, type Account, type Mailbox, type WireToken } from './support/client.ts';
import { b64u, fromB64u } from './support/soft-authenticator.ts';
import { BLOB_ROUTES } from '../../lib/protocol/relay-blobs.ts';

const PLAINTEXT = 'meet me at the old bridge at nine';

async function seal(plaintext: string): Promise<Uint8Array> {
  const key = await webcrypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt']);
  const iv = webcrypto.getRandomValues(new Uint8Array(12));
  const ct = await webcrypto.subtle.encrypt({ name: 'AES-GCM', iv }, key, new TextEncoder().encode(plaintext));
  return new Uint8Array([...iv, ...new Uint8Array(ct)]);
}

describe.each(STORE_KINDS)('relay privacy audit (%s store)', (kind) => {
  let relay: StoreRelay;
  const secrets: { label: string; value: string }[] = [];
  let alice: Account;
  let bob: Account;
  let queue: string;
  let tokensUsed: WireToken[] = [];
  let aMbId = '';

  beforeAll(async () => {
    relay = await startRelayOn(kind, { args: ['--token-issue-requests-per-minute', '100'] });
    const client = new RelayClient(relay.url);
    alice = await client.register();
    bob = await client.register('moz-extension://0b1c2d3e-1111-2222-3333-444455556666');
    await client.ok('/v1/key-packages', { keyPackages: [b64u(new Uint8Array(100).fill(3))], lastResort: b64u(new Uint8Array(100).fill(4)) }, bob.session);
    await client.ok('/v1/key-packages/claim', { accountId: bob.accountId }, alice.session);
    const aliceTokens = await client.tokens(alice.session, 6);
    const bobTokens = await client.tokens(bob.session, 6);
    queue = randomQueue();
    const aMb: Mailbox = await client.mailbox(aliceTokens.pop()!);
    aMbId = aMb.mailboxId;
    const bMb: Mailbox = await client.mailbox(bobTokens.pop()!);
    const bDevice: Mailbox = await client.mailbox(bobTokens.pop()!);
    await client.ok('/v1/queues/register', { queue, cap: capFor(queue), ...aMb });
    // Alice welcomes Bob into the group through his device mailbox.
    const welcomeToken = aliceTokens.pop()!;
    await client.ok('/v1/mailboxes/welcome', { mailboxId: bDevice.mailboxId, token: welcomeToken, payload: b64u(await seal('welcome ' + PLAINTEXT)) });
    await client.ok('/v1/queues/register', { queue, cap: capFor(queue), ...bMb });
    // Messages both ways, over HTTP and WebSocket; some acknowledged, some left pending.
    const t1 = aliceTokens.pop()!;
    const m1 = await client.ok('/v1/queues/send', { queue, cap: capFor(queue), token: t1, payload: b64u(await seal(PLAINTEXT)) });
    const ws = await WsClient.open(relay.url);
    await ws.request({ t: 'sub', ...bMb });
    const t2 = bobTokens.pop()!;
    await ws.request({ t: 'send', queue, cap: capFor(queue), token: t2, payload: b64u(await seal('reply: ' + PLAINTEXT)) });
    await waitFor(() => ws.pushed.length >= 2, 5000, 'pushes');
    await ws.request({ t: 'ack', mailboxId: bMb.mailboxId, ids: [m1.id] });
    ws.close();
    // An attachment: created and uploaded with tokens, fetched and released by Bob, left for Alice.
    const tBlob = aliceTokens.pop()!;
    const tChunk = aliceTokens.pop()!;
    const attachment = await seal('attachment ' + PLAINTEXT);
    const created = await client.ok(BLOB_ROUTES.createBlob.path, { queue, cap: capFor(queue), token: tBlob, size: attachment.length });
    await client.ok(BLOB_ROUTES.putBlobChunk.path, { blobId: created.blobId, writeKey: created.writeKey, index: 0, token: tChunk, data: b64u(attachment) });
    await client.ok(BLOB_ROUTES.fetchBlobChunk.path, { blobId: created.blobId, ...bMb, index: 0 });
    await client.ok(BLOB_ROUTES.releaseBlob.path, { blobId: created.blobId, ...bMb });
    secrets.push({ label: 'blob write key', value: String(created.writeKey) });
    tokensUsed = [t1, t2, welcomeToken, tBlob, tChunk];
    secrets.push(
      { label: 'alice session', value: alice.session },
      { label: 'bob session', value: bob.session },
      { label: 'queue id', value: queue },
      ...[aMb, bMb, bDevice].map((m) => ({ label: 'mailbox secret', value: m.secret })),
      ...tokensUsed.flatMap((t) => [{ label: 'token input', value: t.input }, { label: 'token output', value: t.output }]),
      ...client.issuance.flatMap((i) => [
        ...i.blinded.map((value) => ({ label: 'blinded element', value })),
        ...i.evaluated.map((value) => ({ label: 'evaluated element', value })),
      ]),
    );
  });
  afterAll(async () => {
    await relay.stop();
  });

  const rawFiles = (): Buffer => {
    const raw = relay.rawFiles();
    // The search only means something if the store's files hold the data (an empty AOF would pass anything).
    expect(raw.indexOf(Buffer.from(alice.accountId))).toBeGreaterThanOrEqual(0);
    return raw;
  };

  it('keeps no plaintext and no IP address in any database file', () => {
    const raw = rawFiles();
    expect(raw.indexOf(Buffer.from('old bridge'))).toBe(-1);
    // The relay listens on 127.0.0.1, so that (or its IPv6-mapped form) is what a client comes from. (No 3-byte '::1':
    // ciphertext holds it by chance about once in a hundred runs.)
    for (const ip of ['127.0.0.1', '::ffff:127.0.0.1']) expect(raw.indexOf(Buffer.from(ip)), ip).toBe(-1);
  });

  it('keeps session tokens, mailbox secrets, queue ids and token material only as hashes or not at all', () => {
    const raw = rawFiles();
    for (const s of secrets) {
      expect(raw.indexOf(Buffer.from(s.value)), `${s.label} as text`).toBe(-1);
      const bytes = Buffer.from(fromB64u(s.value));
      expect(raw.indexOf(bytes), `${s.label} as bytes`).toBe(-1);
    }
  });

  it('links no account to a queue or mailbox, and no issuance to a spend', async () => {
    const db = await relay.dump();
    const accountTables = new Set(['accounts', 'credentials', 'sessions', 'session_expiries', 'key_packages', 'quotas', 'account_credentials', 'account_sessions']);
    for (const [table, rows] of Object.entries(db)) {
      const text = JSON.stringify(rows);
      for (const id of [alice.accountId, bob.accountId]) {
        if (!accountTables.has(table)) expect(text.includes(id), `${table} mentions an account`).toBe(false);
      }
    }
    // Delivery-side tables: exactly these columns, none of them about who.
    const columns = (t: string): string[] => Object.keys(db[t]?.[0] ?? {}).sort();
    // SQLite's registrations keep an `active` column (rows migrated from older layouts may be inactive).
    expect(columns('registrations')).toEqual(kind === 'redis' ? ['mailbox_id', 'queue_hash'] : ['active', 'mailbox_id', 'queue_hash']);
    // A mailbox's idle expiry (last read plus the TTL, rounded like message expiries) is its only time.
    expect(columns('mailboxes')).toEqual(kind === 'redis' ? ['mailbox_id', 'secret_hash'] : ['idle_until', 'mailbox_id', 'secret_hash']);
    if (kind === 'redis') expect(columns('mailbox_idle')).toEqual(['idle_until', 'mailbox_id']);
    // Storage caps count what is pending per queue (or mailbox, for Welcomes) and overall: numbers, nobody's.
    expect(columns('usage')).toEqual(['bytes', 'messages', 'scope']);
    if (kind === 'redis') expect(columns('message_sizes')).toEqual(['message_id', 'size_scope']);
    // A queue's capability only as hashes: nothing about who holds it.
    expect(columns('queues')).toEqual(['cap_hash', 'prev_cap_hash', 'queue_hash']);
    // Redis keeps each delivery as (mailbox → message id by seq) plus who still has to ack a message;
    // SQLite keeps who still has to read a message on the message (pending, and recipient for a Welcome).
    if (kind === 'redis') expect(columns('deliveries')).toEqual(['mailbox_id', 'message_id', 'seq']);
    else expect(db.deliveries).toBeUndefined();
    if (kind === 'redis') {
      expect(columns('recipients')).toEqual(['mailbox_id', 'message_id']);
      expect(columns('mailbox_queues')).toEqual(['mailbox_id', 'queue_hash']);
      expect(columns('queue_messages')).toEqual(['message_id', 'queue_hash']);
      expect(columns('message_expiries')).toEqual(['expires_at', 'message_id', 'queue_hash']);
      // Every key under the prefix is one the store knows and the audit has read.
      expect(db.unknown ?? []).toEqual([]);
      // The dump read the indexes for what they are: deliveries and expiries point at stored messages.
      const messageIds = new Set(db.messages!.map((m) => m.message_id));
      expect(db.deliveries!.length).toBeGreaterThan(0);
      for (const d of db.deliveries!) {
        expect(messageIds.has(d.message_id)).toBe(true);
        expect(Number.isInteger(d.seq)).toBe(true);
      }
      expect(db.message_expiries!.map((e) => e.message_id).sort()).toEqual([...messageIds].sort());
    }
    expect(columns('messages')).toEqual(
      kind === 'redis'
        ? ['expires_at', 'message_id', 'payload', 'queue_hash', 'seq']
        : ['expires_at', 'message_id', 'payload', 'pending', 'queue_hash', 'recipient', 'seq'],
    );
    expect(columns('spent')).toEqual(['input_hash', 'key_id']);
    // An attachment: its queue (a hash), size, chunk count, write key as a hash, expiry, who still has to read it.
    expect(columns('blobs')).toEqual(
      kind === 'redis'
        ? ['blob_id', 'chunks', 'expires_at', 'queue_hash', 'received', 'size', 'write_key_hash']
        : ['blob_id', 'chunks', 'expires_at', 'pending', 'queue_hash', 'received', 'size', 'write_key_hash'],
    );
    expect(columns('blob_chunks')).toEqual(['blob_id', 'data', 'idx']);
    if (kind === 'redis') {
      expect(db.blob_recipients!.map((r) => r.mailbox_id)).toEqual([aMbId]);
      expect(columns('queue_blobs')).toEqual(['blob_id', 'queue_hash']);
      expect(columns('blob_expiries')).toEqual(['blob_id', 'expires_at']);
    } else {
      expect(db.blobs!.map((r) => r.pending)).toEqual([`,${aMbId},`]);
    }
    // Issuance leaves only a per-account daily count: no element, no token, nothing per token.
    expect(columns('quotas')).toEqual(['bucket', 'expires_at', 'used']);
    expect(db.spent!.length).toBeGreaterThanOrEqual(tokensUsed.length);
    // The queue is stored only as a hash of the members' queue id.
    const queueHashes = new Set(db.registrations!.map((r) => r.queue_hash));
    expect(queueHashes.size).toBe(1);
    expect(queueHashes.has(queue)).toBe(false);
  });

  it('stores no timestamps other than expiries', async () => {
    const db = await relay.dump();
    for (const [table, rows] of Object.entries(db)) {
      for (const col of Object.keys(rows[0] ?? {})) {
        expect(/time|date|created|updated|seen|at$/.test(col) && !/expires_at$/.test(col), `${table}.${col}`).toBe(false);
      }
    }
  });

  it('writes no IP, identity or message metadata to its log', () => {
    const log = relay.stderr();
    expect(log).not.toMatch(/127\.0\.0\.1|::1/);
    for (const id of [alice.accountId, bob.accountId, queue]) expect(log.includes(id)).toBe(false);
  });
});
