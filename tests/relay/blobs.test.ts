// The blob API (relay/blobs/, lib/protocol/relay-blobs.ts) against the real relay process on both
// stores: a token for every upload (create and each chunk) and a spent one refused; quotas refused
// with their codes and nothing spent; only recipients fetch; the blob is gone from the store's files
// (relay.db and WAL, or Redis keys and AOF) after the last recipient's release, at the TTL, and when
// its queue is deleted, or when its uploader deletes it with the write key; a member removed from the
// queue reads nothing.
import { createHash, randomFillSync } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BLOB_CHUNK_BYTES, BLOB_ROUTES } from '../../lib/protocol/relay-blobs.ts';
import { STORE_KINDS, startRelayOn } from './support/stores.ts';
import { RelayClient, capFor, randomQueue, type Answer, type Mailbox, type WireToken } from './support/client.ts';
import { b64u, fromB64u } from './support/soft-authenticator.ts';
import { filesContaining, reachesDisk, until } from './support/store-files.ts';

const MAX_BLOB = 3 * BLOB_CHUNK_BYTES;
const QUOTA_ARGS = ['--max-blob-bytes', String(MAX_BLOB), '--max-blob-bytes-per-queue', String(4 * BLOB_CHUNK_BYTES), '--max-blobs-per-queue', '3'];
const TIMING_ARGS = ['--sweep-interval-seconds', '1', '--scrub-interval-ms', '200'];
const REDIS_ARGS = ['--redis-aof-rewrite-interval-seconds', '0'];

function canary(label: string, size: number): Uint8Array {
  const out = randomFillSync(new Uint8Array(size));
  out.set(new TextEncoder().encode(`CANARY-${label}-`));
  return out;
}

/** Relay, client, a token supply and helpers over the blob routes. */
async function setup(kind: (typeof STORE_KINDS)[number], args: string[]) {
  const relay = await startRelayOn(kind, { args: [...QUOTA_ARGS, ...TIMING_ARGS, ...args], redisArgs: REDIS_ARGS });
  const c = new RelayClient(relay.url);
  const account = await c.register();
  let tokens: WireToken[] = [];
  const token = async (): Promise<WireToken> => {
    if (tokens.length === 0) tokens = await c.tokens(account.session, 100);
    return tokens.pop()!;
  };
  const group = async (n: number): Promise<{ queue: string; members: Mailbox[] }> => {
    const queue = randomQueue();
    const members: Mailbox[] = [];
    for (let i = 0; i < n; i++) {
      const m = await c.mailbox(await token());
      await c.ok('/v1/queues/register', { queue, cap: capFor(queue), ...m });
      members.push(m);
    }
    return { queue, members };
  };
  const create = async (queue: string, size: number, t?: WireToken): Promise<Answer> =>
    c.post(BLOB_ROUTES.createBlob.path, { queue, cap: capFor(queue), token: t ?? (await token()), size });
  const put = async (blobId: string, writeKey: string, index: number, data: Uint8Array, t?: WireToken): Promise<Answer> =>
    c.post(BLOB_ROUTES.putBlobChunk.path, { blobId, writeKey, index, token: t ?? (await token()), data: b64u(data) });
  /** Creates and uploads a whole blob; answers its id. */
  const upload = async (queue: string, bytes: Uint8Array): Promise<string> => {
    const created = await create(queue, bytes.length);
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    const { blobId, writeKey, chunks } = created.body as { blobId: string; writeKey: string; chunks: number };
    for (let i = 0; i < chunks; i++) {
      const r = await put(blobId, writeKey, i, bytes.subarray(i * BLOB_CHUNK_BYTES, (i + 1) * BLOB_CHUNK_BYTES));
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(r.body.complete).toBe(i === chunks - 1);
    }
    return blobId;
  };
  const fetchChunk = (blobId: string, m: Mailbox, index: number): Promise<Answer> =>
    c.post(BLOB_ROUTES.fetchBlobChunk.path, { blobId, ...m, index });
  const fetchAll = async (blobId: string, m: Mailbox, size: number): Promise<Uint8Array> => {
    const out = new Uint8Array(size);
    for (let i = 0; i * BLOB_CHUNK_BYTES < size; i++) {
      const r = await fetchChunk(blobId, m, i);
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(r.body.size).toBe(size);
      out.set(fromB64u(String(r.body.data)), i * BLOB_CHUNK_BYTES);
    }
    return out;
  };
  const release = (blobId: string, m: Mailbox): Promise<Answer> => c.post(BLOB_ROUTES.releaseBlob.path, { blobId, ...m });
  return { relay, c, token, group, create, put, upload, fetchChunk, fetchAll, release };
}

const code = (a: Answer): unknown => (a.body.error as { code?: unknown } | undefined)?.code;

describe.each(STORE_KINDS)('relay blob API (%s store)', (kind) => {
  let t: Awaited<ReturnType<typeof setup>>;
  beforeAll(async () => {
    t = await setup(kind, []);
  });
  afterAll(async () => {
    await t.relay.stop();
  });

  it('recipients fetch every chunk; the blob is gone from the files after the last recipient releases it', async () => {
    const { queue, members } = await t.group(2);
    const bytes = canary(`release-${kind}`, BLOB_CHUNK_BYTES + 5000);
    const tail = bytes.subarray(BLOB_CHUNK_BYTES);
    const blobId = await t.upload(queue, bytes);
    expect(await reachesDisk(t.relay, bytes)).toBe(true);
    expect(await reachesDisk(t.relay, tail)).toBe(true);
    expect(Buffer.from(await t.fetchAll(blobId, members[0]!, bytes.length)).equals(Buffer.from(bytes))).toBe(true);
    expect((await t.release(blobId, members[0]!)).status).toBe(200);
    // Released once: that mailbox is done (a second release is refused), the other still reads it.
    expect(code(await t.release(blobId, members[0]!))).toBe('not_found');
    expect(code(await t.fetchChunk(blobId, members[0]!, 0))).toBe('not_found');
    await new Promise((r) => setTimeout(r, 500));
    expect(await reachesDisk(t.relay, bytes)).toBe(true);
    expect(Buffer.from(await t.fetchAll(blobId, members[1]!, bytes.length)).equals(Buffer.from(bytes))).toBe(true);
    expect((await t.release(blobId, members[1]!)).status).toBe(200);
    if (kind === 'redis') expect(await t.relay.inMemory(bytes.subarray(0, 64))).toBe(false);
    expect(await until(() => filesContaining(t.relay, bytes).length === 0 && filesContaining(t.relay, tail).length === 0, 8000)).toBe(true);
    expect(code(await t.fetchChunk(blobId, members[1]!, 0))).toBe('not_found');
  });

  it('needs a token for the creation and for every chunk; a spent token is refused and spends nothing else', async () => {
    const { queue, members } = await t.group(1);
    const noToken = await t.c.post(BLOB_ROUTES.createBlob.path, { queue, cap: capFor(queue), size: 10 });
    expect([noToken.status, code(noToken)]).toEqual([400, 'bad_request']);
    const first = await t.token();
    const created = await t.create(queue, BLOB_CHUNK_BYTES + 10, first);
    expect(created.status).toBe(200);
    const again = await t.create(queue, 10, first);
    expect([again.status, code(again)]).toEqual([409, 'token_spent']);
    const { blobId, writeKey } = created.body as { blobId: string; writeKey: string };
    const chunk0 = canary('tok', BLOB_CHUNK_BYTES);
    const noChunkToken = await t.c.post(BLOB_ROUTES.putBlobChunk.path, { blobId, writeKey, index: 0, data: b64u(chunk0) });
    expect(code(noChunkToken)).toBe('bad_request');
    const spentOnChunk = await t.put(blobId, writeKey, 0, chunk0, first);
    expect([spentOnChunk.status, code(spentOnChunk)]).toEqual([409, 'token_spent']);
    // The refused chunk was not stored.
    expect(filesContaining(t.relay, chunk0)).toEqual([]);
    const chunkToken = await t.token();
    expect((await t.put(blobId, writeKey, 0, chunk0, chunkToken)).body).toEqual({ complete: false });
    // One token pays for one chunk: the same token cannot pay for the next.
    expect(code(await t.put(blobId, writeKey, 1, new Uint8Array(10), chunkToken))).toBe('token_spent');
    // Uploading a chunk twice is a conflict, and its token stays unspent.
    const spare = await t.token();
    expect(code(await t.put(blobId, writeKey, 0, chunk0, spare))).toBe('conflict');
    // Not complete yet: nobody can fetch.
    expect(code(await t.fetchChunk(blobId, members[0]!, 0))).toBe('not_found');
    expect((await t.put(blobId, writeKey, 1, new Uint8Array(10).fill(7), spare)).body).toEqual({ complete: true });
    expect((await t.fetchChunk(blobId, members[0]!, 1)).body.data).toBe(b64u(new Uint8Array(10).fill(7)));
  });

  it('refuses chunks that do not fit the blob, and a wrong write key like an unknown blob', async () => {
    const { queue } = await t.group(1);
    const created = await t.create(queue, BLOB_CHUNK_BYTES + 10);
    const { blobId, writeKey } = created.body as { blobId: string; writeKey: string };
    expect(code(await t.put(blobId, writeKey, 0, new Uint8Array(10)))).toBe('bad_request');
    expect(code(await t.put(blobId, writeKey, 1, new Uint8Array(11)))).toBe('bad_request');
    expect(code(await t.put(blobId, writeKey, 2, new Uint8Array(10)))).toBe('bad_request');
    expect(code(await t.put(blobId, b64u(new Uint8Array(32).fill(1)), 1, new Uint8Array(10)))).toBe('not_found');
  });

  it('refuses a blob above the size cap (413), past the queue caps (429) or on a wrong capability, spending nothing', async () => {
    const { queue } = await t.group(1);
    const tok = await t.token();
    const big = await t.create(queue, MAX_BLOB + 1, tok);
    expect([big.status, code(big)]).toEqual([413, 'too_large']);
    const wrongCap = await t.c.post(BLOB_ROUTES.createBlob.path, { queue, cap: capFor(randomQueue()), token: tok, size: 10 });
    expect(code(wrongCap)).toBe('not_found');
    // Bytes: 4 chunks' worth per queue; a 3-chunk blob and then a 2-chunk one do not fit.
    expect((await t.create(queue, MAX_BLOB, tok)).status).toBe(200);
    const tok2 = await t.token();
    const overBytes = await t.create(queue, 2 * BLOB_CHUNK_BYTES, tok2);
    expect([overBytes.status, code(overBytes)]).toEqual([429, 'quota_exceeded']);
    // Count: three blobs per queue.
    expect((await t.create(queue, 10, tok2)).status).toBe(200);
    expect((await t.create(queue, 10)).status).toBe(200);
    const tok3 = await t.token();
    const overCount = await t.create(queue, 10, tok3);
    expect([overCount.status, code(overCount)]).toEqual([429, 'quota_exceeded']);
    // Another queue has its own quota, and the refused token was not spent.
    const other = await t.group(1);
    expect((await t.create(other.queue, 10, tok3)).status).toBe(200);
  });

  it('after a Commit rotated the capability the old one is stale for uploads, and a removed member’s opens nothing', async () => {
    const { queue } = await t.group(1);
    const next = new Uint8Array(32).fill(5);
    const nextHash = b64u(createHash('sha256').update(Buffer.concat([Buffer.from('microchat queue capability v1'), Buffer.from(fromB64u(queue)), Buffer.from(next)])).digest());
    await t.c.ok('/v1/queues/send', { queue, cap: capFor(queue), token: await t.token(), payload: b64u(new Uint8Array(10)), rotateTo: nextHash });
    const tok = await t.token();
    const stale = await t.create(queue, 10, tok);
    expect([stale.status, code(stale)]).toEqual([409, 'stale_capability']);
    const guessed = await t.c.post(BLOB_ROUTES.createBlob.path, { queue, cap: b64u(new Uint8Array(32).fill(6)), token: tok, size: 10 });
    expect(code(guessed)).toBe('not_found');
    // The refusals spent nothing: the same token pays with the current capability.
    expect((await t.c.post(BLOB_ROUTES.createBlob.path, { queue, cap: b64u(next), token: tok, size: 10 })).status).toBe(200);
  });

  it('only the recipients fetch: not another mailbox, not one that joined later, not with a wrong secret', async () => {
    const { queue, members } = await t.group(1);
    const bytes = canary('who', 3000);
    const blobId = await t.upload(queue, bytes);
    const outsider = await t.c.mailbox(await t.token());
    expect(code(await t.fetchChunk(blobId, outsider, 0))).toBe('not_found');
    expect(code(await t.release(blobId, outsider))).toBe('not_found');
    const late = await t.c.mailbox(await t.token());
    await t.c.ok('/v1/queues/register', { queue, cap: capFor(queue), ...late });
    expect(code(await t.fetchChunk(blobId, late, 0))).toBe('not_found');
    const forged = { mailboxId: members[0]!.mailboxId, secret: b64u(new Uint8Array(32).fill(9)) };
    expect(code(await t.fetchChunk(blobId, forged, 0))).toBe('not_found');
    expect(code(await t.release(blobId, forged))).toBe('not_found');
    expect(Buffer.from(await t.fetchAll(blobId, members[0]!, bytes.length)).equals(Buffer.from(bytes))).toBe(true);
  });

  it('a member removed from the queue reads nothing, and the last remaining reader’s release deletes the blob', async () => {
    const { queue, members } = await t.group(2);
    const bytes = canary(`removed-${kind}`, 4000);
    const blobId = await t.upload(queue, bytes);
    await t.c.ok('/v1/queues/unregister', { queue, cap: capFor(queue), mailboxId: members[1]!.mailboxId });
    expect(code(await t.fetchChunk(blobId, members[1]!, 0))).toBe('not_found');
    expect((await t.release(blobId, members[0]!)).status).toBe(200);
    if (kind === 'redis') expect(await t.relay.inMemory(bytes.subarray(0, 64))).toBe(false);
    expect(await until(() => filesContaining(t.relay, bytes).length === 0, 8000)).toBe(true);
  });

  it('answers 600 malformed or near-valid blob requests with typed errors only, and keeps serving', async () => {
    const { queue, members } = await t.group(1);
    const bytes = canary('fuzz', 100);
    const blobId = await t.upload(queue, bytes);
    const created = await t.create(queue, 2 * BLOB_CHUNK_BYTES);
    const { blobId: openId, writeKey } = created.body as { blobId: string; writeKey: string };
    const spentToken = await t.token();
    await t.create(queue, 10, spentToken);
    const near = fc.oneof(
      fc.constantFrom<unknown>(blobId, openId, writeKey, queue, capFor(queue), members[0]!.mailboxId, members[0]!.secret, spentToken),
      fc.constantFrom(0, 1, 2, 3, 10, BLOB_CHUNK_BYTES, MAX_BLOB + 1, -1, 2 ** 53, 1.5),
      fc.constantFrom(16, 22, 31, 32, 33, 64, 100).chain((n) => fc.uint8Array({ minLength: n, maxLength: n }).map(b64u)),
      fc.record({ keyId: fc.string({ maxLength: 20 }), input: fc.uint8Array({ maxLength: 40 }).map(b64u), output: fc.uint8Array({ maxLength: 70 }).map(b64u) }),
      fc.jsonValue({ maxDepth: 2 }),
    );
    const fields = ['queue', 'cap', 'token', 'size', 'blobId', 'writeKey', 'index', 'data', 'mailboxId', 'secret'];
    const routes = Object.values(BLOB_ROUTES).map((r) => r.path);
    const codes = new Set(['bad_request', 'not_found', 'token_invalid', 'token_spent', 'quota_exceeded', 'too_large', 'conflict', 'stale_capability', 'capacity']);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), fc.dictionary(fc.constantFrom(...fields), near, { maxKeys: 7 }), async (path, body) => {
        const a = await t.c.post(path, body);
        if (a.status !== 200) expect(codes.has(String(code(a))), `${path} ${a.status} ${JSON.stringify(a.body)}`).toBe(true);
      }),
      { numRuns: 600 },
    );
    // Still serving, and the finished blob is intact.
    expect(Buffer.from(await t.fetchAll(blobId, members[0]!, bytes.length)).equals(Buffer.from(bytes))).toBe(true);
    expect(t.relay.stderr()).not.toMatch(/internal error/);
  });

  it('the uploader deletes its blob with the write key, finished or half uploaded; a wrong key or another blob id is not_found and deletes nothing', async () => {
    const { queue, members } = await t.group(1);
    const bytes = canary(`writer-${kind}`, BLOB_CHUNK_BYTES + 3000);
    const created = await t.create(queue, bytes.length);
    const { blobId, writeKey } = created.body as { blobId: string; writeKey: string };
    for (let i = 0; i < 2; i++) expect((await t.put(blobId, writeKey, i, bytes.subarray(i * BLOB_CHUNK_BYTES, (i + 1) * BLOB_CHUNK_BYTES))).status).toBe(200);
    expect(await reachesDisk(t.relay, bytes)).toBe(true);
    const del = (body: Record<string, unknown>): Promise<Answer> => t.c.post(BLOB_ROUTES.deleteBlob.path, body);
    // Someone without the write key: a recipient's secret, a guessed key, another blob's key.
    const other = await t.create(queue, 10);
    const otherKey = (other.body as { writeKey: string }).writeKey;
    for (const body of [{ blobId, writeKey: otherKey }, { blobId, writeKey: b64u(new Uint8Array(32)) }, { blobId: (other.body as { blobId: string }).blobId.slice(0, -1) + 'A', writeKey }]) {
      expect(code(await del(body)), JSON.stringify(body)).toBe('not_found');
    }
    for (const body of [{ blobId }, { blobId, writeKey: 'x' }, { blobId: 'no', writeKey }]) {
      expect((await del(body)).status, JSON.stringify(body)).toBe(400);
    }
    expect(Buffer.from(await t.fetchAll(blobId, members[0]!, bytes.length)).equals(Buffer.from(bytes))).toBe(true);
    expect((await del({ blobId, writeKey })).status).toBe(200);
    expect(code(await del({ blobId, writeKey }))).toBe('not_found');
    expect(code(await t.fetchChunk(blobId, members[0]!, 0))).toBe('not_found');
    if (kind === 'redis') expect(await t.relay.inMemory(bytes.subarray(0, 64))).toBe(false);
    expect(await until(() => filesContaining(t.relay, bytes).length === 0, 8000)).toBe(true);
    // Half uploaded (one chunk of two): deleted the same way, and its chunk goes from the files too.
    const half = canary(`writer-half-${kind}`, BLOB_CHUNK_BYTES + 3000);
    const h = (await t.create(queue, half.length)).body as { blobId: string; writeKey: string };
    expect((await t.put(h.blobId, h.writeKey, 0, half.subarray(0, BLOB_CHUNK_BYTES))).status).toBe(200);
    expect(await reachesDisk(t.relay, half)).toBe(true);
    expect((await del({ blobId: h.blobId, writeKey: h.writeKey })).status).toBe(200);
    expect(code(await t.put(h.blobId, h.writeKey, 1, half.subarray(BLOB_CHUNK_BYTES)))).toBe('not_found');
    expect(await until(() => filesContaining(t.relay, half).length === 0, 8000)).toBe(true);
    expect(t.relay.stderr()).not.toMatch(/internal error/);
  });

  it('deleting the queue deletes its blobs from the files', async () => {
    const { queue, members } = await t.group(2);
    const bytes = canary(`queue-${kind}`, BLOB_CHUNK_BYTES + 2000);
    const blobId = await t.upload(queue, bytes);
    expect(await reachesDisk(t.relay, bytes)).toBe(true);
    await t.c.ok('/v1/queues/delete', { queue, cap: capFor(queue) });
    expect(code(await t.fetchChunk(blobId, members[0]!, 0))).toBe('not_found');
    if (kind === 'redis') expect(await t.relay.inMemory(bytes.subarray(0, 64))).toBe(false);
    expect(await until(() => filesContaining(t.relay, bytes).length === 0, 8000)).toBe(true);
    const db = await t.relay.dump();
    expect(db.blobs ?? []).not.toContainEqual(expect.objectContaining({ blob_id: blobId }));
  });
});

describe.each(STORE_KINDS)('relay blob TTL (%s store)', (kind) => {
  let t: Awaited<ReturnType<typeof setup>>;
  beforeAll(async () => {
    t = await setup(kind, ['--message-ttl-seconds', '2']);
  });
  afterAll(async () => {
    await t.relay.stop();
  });

  it('a blob nobody released is gone from the files after its TTL and a sweep', async () => {
    const { queue, members } = await t.group(1);
    const bytes = canary(`ttl-${kind}`, 5000);
    const blobId = await t.upload(queue, bytes);
    expect(await reachesDisk(t.relay, bytes)).toBe(true);
    expect(await until(() => filesContaining(t.relay, bytes).length === 0, 10_000)).toBe(true);
    if (kind === 'redis') expect(await t.relay.inMemory(bytes.subarray(0, 64))).toBe(false);
    // Redis drops the chunk keys itself at their expiry; the blob's row goes at the relay's next sweep (once a
    // second here), which may come just after the files are clean: wait for it rather than race it.
    expect(await until(async () => ((await t.relay.dump()).blobs ?? []).length === 0, 10_000)).toBe(true);
    const left = await t.fetchChunk(blobId, members[0]!, 0);
    expect(left.status).toBe(404);
  });

  it('an upload left unfinished is swept with the chunks it had', async () => {
    const { queue } = await t.group(1);
    const first = canary(`unfinished-${kind}`, BLOB_CHUNK_BYTES);
    const created = await t.create(queue, BLOB_CHUNK_BYTES + 10);
    const { blobId, writeKey } = created.body as { blobId: string; writeKey: string };
    expect((await t.put(blobId, writeKey, 0, first)).body).toEqual({ complete: false });
    expect(await reachesDisk(t.relay, first)).toBe(true);
    expect(await until(() => filesContaining(t.relay, first).length === 0, 10_000)).toBe(true);
    expect(code(await t.put(blobId, writeKey, 1, new Uint8Array(10)))).toBe('not_found');
  });
});
