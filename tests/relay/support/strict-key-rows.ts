/**
 * The rows of tests/relay/strict-keys.test.ts: for every HTTP route and every
 * delivery-socket frame type, a valid request built against a live relay, and
 * the follow-up requests that show a refused one changed nothing and an
 * accepted one did its work. Kept beside the test so the test file reads as
 * the runner; a route or frame type without a row here does not compile
 * (the tables are keyed by the contract's names) and fails the coverage check.
 */
import { createHash, randomFillSync } from 'node:crypto';
import { ristretto255_oprf } from '@noble/curves/ed25519.js';
import { expect } from 'vitest';
import { toB64 } from '../../../lib/bytes.ts';
import { ROUTES, routePath, type ClientFrameType, type RouteName } from '../../../lib/protocol/relay.ts';
import { BLOB_ROUTES, type BlobRouteName } from '../../../lib/protocol/relay-blobs.ts';
import { BACKUP_ROUTES, type BackupRouteName } from '../../../lib/protocol/relay-backups.ts';
import { EXT_ORIGIN, capFor, randomQueue, type Account, type Answer, type Mailbox, type RelayClient, type WireToken, type WsClient } from './client.ts';
import { createCredential, getAssertion } from './soft-authenticator.ts';

const rand = (n: number): string => toB64(randomFillSync(new Uint8Array(n)));
const sha256 = (b64: string): string => toB64(new Uint8Array(createHash('sha256').update(Buffer.from(b64, 'base64url')).digest()));
const nowS = (): number => Math.floor(Date.now() / 1000);
export const blindedPoint = (): string => toB64(ristretto255_oprf.voprf.blind(randomFillSync(new Uint8Array(32))).blinded);

export type AnyRoute = RouteName | BlobRouteName | BackupRouteName;
/** Every route the relay's router knows: the contract's tables (app.ts, blobs.ts and backups.ts route by them). */
export const ALL_ROUTES: Record<AnyRoute, { method: string; path: string }> = { ...ROUTES, ...BLOB_ROUTES, ...BACKUP_ROUTES };

/** A valid request, ready to send, and how to see that a refused one changed nothing. */
export interface Prepared {
  body: Record<string, unknown>;
  session?: string;
  /** The concrete path when the route has a parameter. */
  path?: string;
  /** Keys of objects inside the body that the relay itself defines (and so checks). */
  nested?: string[];
  /** After the refusals: the relay's state is what it was (a follow-up request). */
  unchanged: () => Promise<void>;
  /** After the accepted request: it did what it does. */
  done?: (answer: Record<string, unknown>) => Promise<void>;
}

/** For a request whose only effect is the one the accepted retry needs (a single-use ceremony or token,
 * or a read): that retry, with the same ceremony or token, succeeding is the check that nothing was taken. */
const SHOWN_BY_RETRY = async (): Promise<void> => {};

export type HttpRow = { noBody: string } | { prepare: () => Promise<Prepared> };
export type FrameRow = { prepare: (ws: WsClient) => Promise<Prepared> };

/** What the rows need from the test: read when a row runs (after the relay started), not when built. */
export interface RowEnv {
  readonly c: RelayClient;
  /** An account with a passkey, used where any account will do. */
  readonly main: Account;
  token(): Promise<WireToken>;
  /** A fresh account (links and issuance are rate-limited per account). */
  account(): Promise<Account>;
}

export function strictKeyRows(env: RowEnv): { http: Record<AnyRoute, HttpRow>; frames: Record<ClientFrameType, FrameRow> } {
  const token = (): Promise<WireToken> => env.token();
  const account = (): Promise<Account> => env.account();
  const mailbox = async (): Promise<Mailbox> => env.c.mailbox(await token());
  const pending = async (mb: Mailbox): Promise<{ id: string }[]> => {
    const a = await env.c.post(ROUTES.fetchMailbox.path, mb);
    expect(a.status).toBe(200);
    return a.body.messages as { id: string }[];
  };
  /** A queue with one registered member mailbox. */
  const group = async (): Promise<{ queue: string; cap: string; mb: Mailbox }> => {
    const queue = randomQueue();
    const cap = capFor(queue);
    const mb = await mailbox();
    await env.c.ok(ROUTES.registerQueue.path, { queue, cap, ...mb });
    return { queue, cap, mb };
  };
  const send = async (queue: string, cap: string): Promise<Answer> =>
    env.c.post(ROUTES.send.path, { queue, cap, token: await token(), payload: rand(40) });
  const count = async (session: string): Promise<unknown> => (await env.c.call('GET', ROUTES.countKeyPackages.path, undefined, session)).body;
  const linkPair = async (): Promise<{ slot: number; openerKey: string; joinerKey: string }> => {
    const o = await env.c.ok(ROUTES.openLink.path, {}, (await account()).session);
    const j = await env.c.ok(ROUTES.joinLink.path, { slot: o.slot }, (await account()).session);
    return { slot: o.slot as number, openerKey: o.key as string, joinerKey: j.key as string };
  };
  const fetchLink = (slot: number, key: string): Promise<Record<string, unknown>> => env.c.ok(ROUTES.fetchLink.path, { slot, key, after: 0 });
  const newInvite = async (): Promise<{ inviteId: string; writeKey: string; ciphertext: string; path: string }> => {
    const invite = { inviteId: rand(16), writeKey: rand(32), ciphertext: rand(300), expiresAt: nowS() + 3600, oneTime: false };
    await env.c.ok(ROUTES.createInvite.path, { ...invite, token: await token() });
    return { ...invite, path: routePath('readInvite', { inviteId: invite.inviteId }) };
  };
  const readInvite = (path: string): Promise<Answer> => env.c.call('GET', path);
  /** A one-chunk blob on a fresh group's queue, uploaded or not. */
  const newBlob = async (complete: boolean): Promise<{ blobId: string; writeKey: string; mb: Mailbox }> => {
    const g = await group();
    const created = await env.c.ok(BLOB_ROUTES.createBlob.path, { queue: g.queue, cap: g.cap, token: await token(), size: 10 });
    const blob = { blobId: created.blobId as string, writeKey: created.writeKey as string, mb: g.mb };
    if (complete) await env.c.ok(BLOB_ROUTES.putBlobChunk.path, { blobId: blob.blobId, writeKey: blob.writeKey, index: 0, token: await token(), data: rand(10) });
    return blob;
  };
  const fetchChunk = (blobId: string, mb: Mailbox): Promise<Answer> => env.c.post(BLOB_ROUTES.fetchBlobChunk.path, { blobId, ...mb, index: 0 });
  const newBackup = async (): Promise<{ backupId: string; secret: string; item: string }> => {
    const slot = { backupId: rand(16), secret: rand(32) };
    const item = rand(16);
    await env.c.ok(BACKUP_ROUTES.putBackupItem.path, { ...slot, item, data: rand(100) }, env.main.session);
    return { ...slot, item };
  };
  const listBackup = (slot: { backupId: string; secret: string }): Promise<Answer> =>
    env.c.post(BACKUP_ROUTES.listBackup.path, { backupId: slot.backupId, secret: slot.secret });

  const http: Record<AnyRoute, HttpRow> = {
    health: { noBody: 'GET' },
    limits: { noBody: 'GET' },
    session: { noBody: 'GET' },
    countKeyPackages: { noBody: 'GET' },
    tokenKeys: { noBody: 'GET' },
    readInvite: { noBody: 'GET' },

    registrationStart: { prepare: async () => ({ body: {}, unchanged: SHOWN_BY_RETRY }) },
    registrationFinish: {
      prepare: async () => {
        const start = await env.c.ok(ROUTES.registrationStart.path, {});
        const options = start.options as { challenge: string; rp: { id: string }; user: { id: string } };
        const { response } = await createCredential({ rpId: options.rp.id, origin: EXT_ORIGIN, challenge: options.challenge, userId: options.user.id });
        // `response` is WebAuthn's own object: browsers may add fields there, so the relay leaves its keys alone.
        return { body: { ceremonyId: start.ceremonyId, response }, unchanged: SHOWN_BY_RETRY };
      },
    },
    loginStart: { prepare: async () => ({ body: {}, unchanged: SHOWN_BY_RETRY }) },
    loginFinish: {
      prepare: async () => {
        const start = await env.c.ok(ROUTES.loginStart.path, {});
        const response = await getAssertion(env.main.credential, { origin: EXT_ORIGIN, challenge: (start.options as { challenge: string }).challenge });
        return { body: { ceremonyId: start.ceremonyId, response }, unchanged: SHOWN_BY_RETRY };
      },
    },
    logout: {
      prepare: async () => {
        const session = String((await env.c.login(env.main.credential)).body.token);
        const alive = async (): Promise<number> => (await env.c.call('GET', ROUTES.session.path, undefined, session)).status;
        return {
          body: {},
          session,
          unchanged: async () => expect(await alive()).toBe(200),
          done: async () => expect(await alive()).toBe(401),
        };
      },
    },
    deleteAccount: {
      prepare: async () => {
        const doomed = await env.c.register();
        const alive = async (): Promise<number> => (await env.c.call('GET', ROUTES.session.path, undefined, doomed.session)).status;
        return {
          body: {},
          session: doomed.session,
          unchanged: async () => expect(await alive()).toBe(200),
          done: async () => expect(await alive()).toBe(401),
        };
      },
    },
    uploadKeyPackages: {
      prepare: async () => {
        const owner = await env.c.register();
        return {
          body: { keyPackages: [rand(200)], lastResort: rand(200) },
          session: owner.session,
          unchanged: async () => expect(await count(owner.session)).toEqual({ oneTime: 0, lastResort: false }),
          done: async () => expect(await count(owner.session)).toEqual({ oneTime: 1, lastResort: true }),
        };
      },
    },
    claimKeyPackage: {
      prepare: async () => {
        const owner = await env.c.register();
        await env.c.ok(ROUTES.uploadKeyPackages.path, { keyPackages: [rand(200)] }, owner.session);
        return {
          body: { accountId: owner.accountId },
          session: env.main.session,
          unchanged: async () => expect(await count(owner.session)).toEqual({ oneTime: 1, lastResort: false }),
          done: async () => expect(await count(owner.session)).toEqual({ oneTime: 0, lastResort: false }),
        };
      },
    },
    retireKeyPackages: {
      prepare: async () => {
        const owner = await env.c.register();
        const secret = rand(32);
        await env.c.ok(ROUTES.uploadKeyPackages.path, { keyPackages: [rand(200)], retireHash: sha256(secret) }, owner.session);
        return {
          body: { accountId: owner.accountId, secret },
          unchanged: async () => expect(await count(owner.session)).toEqual({ oneTime: 1, lastResort: false }),
          done: async () => expect(await count(owner.session)).toEqual({ oneTime: 0, lastResort: false }),
        };
      },
    },
    issueTokens: {
      prepare: async () => ({ body: { blinded: [blindedPoint()] }, session: (await account()).session, unchanged: SHOWN_BY_RETRY }),
    },

    createMailbox: { prepare: async () => ({ body: { token: await token() }, nested: ['token'], unchanged: SHOWN_BY_RETRY }) },
    fetchMailbox: {
      prepare: async () => {
        const g = await group();
        await env.c.ok(ROUTES.send.path, { queue: g.queue, cap: g.cap, token: await token(), payload: rand(40) });
        return { body: { ...g.mb, limit: 5 }, unchanged: SHOWN_BY_RETRY, done: async (a) => expect(a.messages).toHaveLength(1) };
      },
    },
    ack: {
      prepare: async () => {
        const g = await group();
        await env.c.ok(ROUTES.send.path, { queue: g.queue, cap: g.cap, token: await token(), payload: rand(40) });
        const ids = (await pending(g.mb)).map((m) => m.id);
        return {
          body: { ...g.mb, ids },
          unchanged: async () => expect(await pending(g.mb)).toHaveLength(1),
          done: async (a) => {
            expect(a.removed).toBe(1);
            expect(await pending(g.mb)).toHaveLength(0);
          },
        };
      },
    },
    deleteMailbox: {
      prepare: async () => {
        const mb = await mailbox();
        return {
          body: { ...mb },
          unchanged: async () => expect(await pending(mb)).toEqual([]),
          done: async () => expect((await env.c.post(ROUTES.fetchMailbox.path, mb)).status).toBe(404),
        };
      },
    },
    sendWelcome: {
      prepare: async () => {
        const mb = await mailbox();
        return {
          body: { mailboxId: mb.mailboxId, token: await token(), payload: rand(40) },
          nested: ['token'],
          unchanged: async () => expect(await pending(mb)).toEqual([]),
          done: async () => expect(await pending(mb)).toHaveLength(1),
        };
      },
    },

    registerQueue: {
      prepare: async () => {
        const queue = randomQueue();
        const cap = capFor(queue);
        const mb = await mailbox();
        return {
          body: { queue, cap, ...mb },
          // No mailbox registered: the queue does not exist.
          unchanged: async () => expect((await send(queue, cap)).status).toBe(404),
          done: async () => {
            expect((await send(queue, cap)).status).toBe(200);
            expect(await pending(mb)).toHaveLength(1);
          },
        };
      },
    },
    unregisterQueue: {
      prepare: async () => {
        const g = await group();
        /** Whether a message sent to the queue now reaches the mailbox. */
        const reaches = async (): Promise<boolean> => {
          const sent = await send(g.queue, g.cap);
          return sent.status === 200 && (await pending(g.mb)).some((m) => m.id === sent.body.id);
        };
        return {
          body: { queue: g.queue, cap: g.cap, mailboxId: g.mb.mailboxId },
          unchanged: async () => expect(await reaches()).toBe(true),
          done: async () => expect(await reaches()).toBe(false),
        };
      },
    },
    send: {
      prepare: async () => {
        const g = await group();
        return {
          body: { queue: g.queue, cap: g.cap, token: await token(), payload: rand(40) },
          nested: ['token'],
          unchanged: async () => expect(await pending(g.mb)).toEqual([]),
          done: async () => expect(await pending(g.mb)).toHaveLength(1),
        };
      },
    },
    deleteQueue: {
      prepare: async () => {
        const g = await group();
        return {
          body: { queue: g.queue, cap: g.cap },
          unchanged: async () => expect((await send(g.queue, g.cap)).status).toBe(200),
          done: async () => expect((await send(g.queue, g.cap)).status).toBe(404),
        };
      },
    },

    createInvite: {
      prepare: async () => {
        const inviteId = rand(16);
        const path = routePath('readInvite', { inviteId });
        return {
          body: { inviteId, writeKey: rand(32), ciphertext: rand(300), expiresAt: nowS() + 3600, oneTime: false, token: await token() },
          nested: ['token'],
          unchanged: async () => expect((await readInvite(path)).status).toBe(404),
          done: async () => expect((await readInvite(path)).status).toBe(200),
        };
      },
    },
    updateInvite: {
      prepare: async () => {
        const inv = await newInvite();
        const replacement = rand(300);
        return {
          body: { writeKey: inv.writeKey, ciphertext: replacement },
          path: inv.path,
          unchanged: async () => expect((await readInvite(inv.path)).body.ciphertext).toBe(inv.ciphertext),
          done: async () => expect((await readInvite(inv.path)).body.ciphertext).toBe(replacement),
        };
      },
    },
    deleteInvite: {
      prepare: async () => {
        const inv = await newInvite();
        return {
          body: { writeKey: inv.writeKey },
          path: inv.path,
          unchanged: async () => expect((await readInvite(inv.path)).status).toBe(200),
          done: async () => expect((await readInvite(inv.path)).status).toBe(404),
        };
      },
    },

    openLink: { prepare: async () => ({ body: {}, session: (await account()).session, unchanged: SHOWN_BY_RETRY }) },
    joinLink: {
      prepare: async () => {
        const o = await env.c.ok(ROUTES.openLink.path, {}, (await account()).session);
        const slot = o.slot as number;
        return {
          body: { slot },
          session: (await account()).session,
          unchanged: async () => expect((await fetchLink(slot, o.key as string)).joined).toBe(false),
          done: async () => expect((await fetchLink(slot, o.key as string)).joined).toBe(true),
        };
      },
    },
    postLink: {
      prepare: async () => {
        const l = await linkPair();
        const payload = rand(64);
        return {
          body: { slot: l.slot, key: l.joinerKey, payload },
          unchanged: async () => expect((await fetchLink(l.slot, l.openerKey)).messages).toEqual([]),
          done: async () => expect((await fetchLink(l.slot, l.openerKey)).messages).toEqual([payload]),
        };
      },
    },
    fetchLink: {
      prepare: async () => {
        const l = await linkPair();
        const payload = rand(64);
        await env.c.ok(ROUTES.postLink.path, { slot: l.slot, key: l.joinerKey, payload });
        return { body: { slot: l.slot, key: l.openerKey, after: 0, waitMs: 0 }, unchanged: SHOWN_BY_RETRY, done: async (a) => expect(a.messages).toEqual([payload]) };
      },
    },
    closeLink: {
      prepare: async () => {
        const l = await linkPair();
        return {
          body: { slot: l.slot, key: l.openerKey },
          unchanged: async () => expect((await fetchLink(l.slot, l.joinerKey)).peerClosed).toBe(false),
          done: async () => expect((await fetchLink(l.slot, l.joinerKey)).peerClosed).toBe(true),
        };
      },
    },

    createBlob: {
      prepare: async () => {
        const g = await group();
        return { body: { queue: g.queue, cap: g.cap, token: await token(), size: 10 }, nested: ['token'], unchanged: SHOWN_BY_RETRY };
      },
    },
    putBlobChunk: {
      prepare: async () => {
        const blob = await newBlob(false);
        return {
          body: { blobId: blob.blobId, writeKey: blob.writeKey, index: 0, token: await token(), data: rand(10) },
          nested: ['token'],
          // Not uploaded: nothing to fetch yet.
          unchanged: async () => expect((await fetchChunk(blob.blobId, blob.mb)).status).toBe(404),
          done: async () => expect((await fetchChunk(blob.blobId, blob.mb)).status).toBe(200),
        };
      },
    },
    fetchBlobChunk: {
      prepare: async () => {
        const blob = await newBlob(true);
        return { body: { blobId: blob.blobId, ...blob.mb, index: 0 }, unchanged: SHOWN_BY_RETRY, done: async (a) => expect(a.size).toBe(10) };
      },
    },
    releaseBlob: {
      prepare: async () => {
        const blob = await newBlob(true);
        return {
          body: { blobId: blob.blobId, ...blob.mb },
          unchanged: async () => expect((await fetchChunk(blob.blobId, blob.mb)).status).toBe(200),
          done: async () => expect((await fetchChunk(blob.blobId, blob.mb)).status).toBe(404),
        };
      },
    },
    deleteBlob: {
      prepare: async () => {
        const blob = await newBlob(true);
        return {
          body: { blobId: blob.blobId, writeKey: blob.writeKey },
          unchanged: async () => expect((await fetchChunk(blob.blobId, blob.mb)).status).toBe(200),
          done: async () => expect((await fetchChunk(blob.blobId, blob.mb)).status).toBe(404),
        };
      },
    },

    putBackupItem: {
      prepare: async () => {
        const slot = { backupId: rand(16), secret: rand(32) };
        const item = rand(16);
        return {
          body: { ...slot, item, data: rand(100) },
          session: env.main.session,
          unchanged: async () => expect((await listBackup(slot)).status).toBe(404),
          done: async () => expect((await listBackup(slot)).body.items).toEqual([expect.objectContaining({ item })]),
        };
      },
    },
    listBackup: {
      prepare: async () => {
        const b = await newBackup();
        return { body: { backupId: b.backupId, secret: b.secret }, unchanged: SHOWN_BY_RETRY };
      },
    },
    getBackupItem: {
      prepare: async () => {
        const b = await newBackup();
        return { body: { backupId: b.backupId, secret: b.secret, item: b.item }, unchanged: SHOWN_BY_RETRY };
      },
    },
    dropBackupItem: {
      prepare: async () => {
        const b = await newBackup();
        const get = (): Promise<Answer> => env.c.post(BACKUP_ROUTES.getBackupItem.path, { backupId: b.backupId, secret: b.secret, item: b.item });
        return {
          body: { backupId: b.backupId, secret: b.secret, item: b.item },
          unchanged: async () => expect((await get()).status).toBe(200),
          done: async () => expect((await get()).status).toBe(404),
        };
      },
    },
    deleteBackup: {
      prepare: async () => {
        const b = await newBackup();
        return {
          body: { backupId: b.backupId, secret: b.secret },
          unchanged: async () => expect((await listBackup(b)).status).toBe(200),
          done: async () => expect((await listBackup(b)).status).toBe(404),
        };
      },
    },
  };

  /** Frames of the delivery socket; the test adds `rid` (every frame may carry one). */
  const frames: Record<ClientFrameType, FrameRow> = {
    ping: { prepare: async () => ({ body: { t: 'ping' }, unchanged: SHOWN_BY_RETRY, done: async (f) => expect(f.t).toBe('pong') }) },
    sub: {
      prepare: async (ws) => {
        const mb = await mailbox();
        return {
          body: { t: 'sub', ...mb },
          // Not subscribed: the socket may not fetch it.
          unchanged: async () => expect(await ws.request({ t: 'fetch', mailboxId: mb.mailboxId })).toMatchObject({ t: 'error', code: 'not_found' }),
          done: async () => expect(await ws.request({ t: 'fetch', mailboxId: mb.mailboxId })).toMatchObject({ t: 'ok' }),
        };
      },
    },
    unsub: {
      prepare: async (ws) => {
        const mb = await mailbox();
        expect(await ws.request({ t: 'sub', ...mb })).toMatchObject({ t: 'ok' });
        return {
          body: { t: 'unsub', mailboxId: mb.mailboxId },
          unchanged: async () => expect(await ws.request({ t: 'fetch', mailboxId: mb.mailboxId })).toMatchObject({ t: 'ok' }),
          done: async () => expect(await ws.request({ t: 'fetch', mailboxId: mb.mailboxId })).toMatchObject({ t: 'error', code: 'not_found' }),
        };
      },
    },
    fetch: {
      prepare: async (ws) => {
        const mb = await mailbox();
        expect(await ws.request({ t: 'sub', ...mb })).toMatchObject({ t: 'ok' });
        return { body: { t: 'fetch', mailboxId: mb.mailboxId }, unchanged: SHOWN_BY_RETRY };
      },
    },
    ack: {
      prepare: async (ws) => {
        const g = await group();
        await env.c.ok(ROUTES.send.path, { queue: g.queue, cap: g.cap, token: await token(), payload: rand(40) });
        expect(await ws.request({ t: 'sub', ...g.mb })).toMatchObject({ t: 'ok' });
        const ids = (await pending(g.mb)).map((m) => m.id);
        return {
          body: { t: 'ack', mailboxId: g.mb.mailboxId, ids },
          unchanged: async () => expect(await pending(g.mb)).toHaveLength(1),
          done: async (f) => {
            expect(f.removed).toBe(1);
            expect(await pending(g.mb)).toEqual([]);
          },
        };
      },
    },
    send: {
      prepare: async () => {
        const g = await group();
        return {
          body: { t: 'send', queue: g.queue, cap: g.cap, token: await token(), payload: rand(40) },
          nested: ['token'],
          unchanged: async () => expect(await pending(g.mb)).toEqual([]),
          done: async () => expect(await pending(g.mb)).toHaveLength(1),
        };
      },
    },
    welcome: {
      prepare: async () => {
        const mb = await mailbox();
        return {
          body: { t: 'welcome', mailboxId: mb.mailboxId, token: await token(), payload: rand(40) },
          nested: ['token'],
          unchanged: async () => expect(await pending(mb)).toEqual([]),
          done: async () => expect(await pending(mb)).toHaveLength(1),
        };
      },
    },
  };
  return { http, frames };
}
