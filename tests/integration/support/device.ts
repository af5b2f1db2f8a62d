/**
 * A "device" for integration tests: the real BackgroundApp over its own
 * fake-indexeddb database, talking HTTP and WebSocket (the `ws` package) to a
 * real relay process, with passkeys from the soft authenticator.
 *
 * For a relay without the invite-blob API (/v1/invites), `withInviteStandIn`
 * wraps fetch so those four calls are answered in-process exactly as the API
 * is specified (hash of the write key stored, one-time read-once, expiry,
 * uniform 404); every other request goes to the real relay. When the relay
 * answers the route itself (it does now) the stand-in stays off.
 */
import 'fake-indexeddb/auto';
import { createHash } from 'node:crypto';
import WebSocket from 'ws';
import { BackgroundApp, type BackgroundDeps, type Platform } from '../../../lib/background/background-app.ts';
import { openDatabase, saveSetting, type Database } from '../../../lib/background/db.ts';
import type { LiveEvent } from '../../../lib/protocol/channel.ts';
import type { NotificationAction } from '../../../lib/background/notification-policy.ts';
import type { WebSocketConstructor } from '../../../lib/background/relay-api.ts';
import { createCredential } from '../../relay/support/soft-authenticator.ts';
import type { LinkPortsFactory } from '../../../lib/background/linking/ports.ts';

export const EXT_ORIGIN = 'chrome-extension://abcdefghijklmnopabcdefghijklmnop';

let dbCounter = 0;

export interface Device {
  name: string;
  app: BackgroundApp;
  db: Database;
  dbName: string;
  events: LiveEvent[];
  badge: number[];
  /** What the notification policy asked the browser to show or clear. */
  notified: NotificationAction[];
  /** Texts received (status 'received', kind 'text') per conversation, in arrival order. */
  received(conversationId: string): string[];
}

export async function startDevice(
  relayUrl: string,
  name: string,
  opts: {
    fetch?: typeof fetch;
    dbName?: string;
    register?: boolean;
    WebSocket?: boolean;
    /** Connection timings instead of the fast test defaults. */
    connection?: { heartbeatMs?: number; deadlineMs?: number; backoffBaseMs?: number; backoffMaxMs?: number };
    /** The identity and directory ports for linking (fakes until those parts are merged). */
    linkPorts?: LinkPortsFactory;
    /** More background dependencies (test hooks such as backupDelayMs). */
    deps?: Partial<BackgroundDeps>;
  } = {},
): Promise<Device> {
  const dbName = opts.dbName ?? `device-${name}-${process.pid}-${dbCounter++}`;
  const db = await openDatabase(dbName);
  await saveSetting(db, 'relayUrl', relayUrl);
  const events: LiveEvent[] = [];
  const badge: number[] = [];
  const notified: NotificationAction[] = [];
  const platform: Platform = { setBadge: (n) => badge.push(n), notification: (a) => notified.push(a) };
  const app = await BackgroundApp.start({
    db,
    version: 'test',
    ...(opts.fetch === undefined ? {} : { fetch: opts.fetch }),
    ...(opts.WebSocket === false ? {} : { WebSocket: WebSocket as unknown as WebSocketConstructor }),
    platform,
    connection: { heartbeatMs: 2000, deadlineMs: 3000, backoffBaseMs: 100, backoffMaxMs: 1000, ...opts.connection },
    confirmTimeoutMs: 15_000,
    ...(opts.linkPorts === undefined ? {} : { linkPorts: opts.linkPorts }),
    ...opts.deps,
  });
  app.subscribeEvents((e) => events.push(e));
  if (opts.register !== false && app.snapshot.account.state === 'none') {
    const { options } = (await app.handlers['account.registrationOptions']({ displayName: name })) as {
      options: { challenge: string; rp: { id: string }; user: { id: string } };
    };
    const { response } = await createCredential({ rpId: options.rp.id, origin: EXT_ORIGIN, challenge: options.challenge, userId: options.user.id });
    await app.handlers['account.completeRegistration']({ displayName: name, response });
  }
  return {
    name,
    app,
    db,
    dbName,
    events,
    badge,
    notified,
    received(conversationId) {
      const seen = new Set<string>();
      const out: string[] = [];
      for (const e of events) {
        if (e.type !== 'messages' || e.conversationId !== conversationId) continue;
        for (const m of e.messages) {
          if (m.kind === 'text' && m.status === 'received' && !seen.has(m.id)) {
            seen.add(m.id);
            out.push(m.text);
          }
        }
      }
      return out;
    },
  };
}

/** Polls `cond` until it holds; on timeout the error names `what` (a function is asked only then, to describe the state). */
export async function waitUntil(cond: () => boolean | Promise<boolean>, timeoutMs = 15_000, what: string | (() => string) = 'condition'): Promise<void> {
  const start = Date.now();
  while (!(await cond())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** fetch for devices: the real relay, plus the invite API stand-in while the relay lacks it. */
export async function withInviteStandIn(relayUrl: string): Promise<{ fetch: typeof fetch; standIn: boolean }> {
  const probe = await fetch(`${relayUrl}/v1/invites`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  if (probe.status !== 404) return { fetch: (i, init) => fetch(i, init), standIn: false };
  const blobs = new Map<string, { writeKeyHash: string; ciphertext: string; expiresAt: number; oneTime: boolean }>();
  const hash = (s: string): string => createHash('sha256').update(s).digest('base64url');
  const answer = (status: number, body: unknown): Response =>
    new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  const notFound = (): Response => answer(404, { error: { code: 'not_found', message: 'not found or not allowed' } });
  const live = (id: string): ReturnType<typeof blobs.get> => {
    const b = blobs.get(id);
    if (b !== undefined && b.expiresAt <= Date.now() / 1000) blobs.delete(id);
    return blobs.get(id);
  };
  const standIn: typeof fetch = async (input, init) => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    if (!url.pathname.startsWith('/v1/invites')) return fetch(input, init);
    const method = init?.method ?? 'GET';
    const body = typeof init?.body === 'string' ? (JSON.parse(init.body) as Record<string, unknown>) : {};
    const id = url.pathname.slice('/v1/invites/'.length);
    if (method === 'POST' && url.pathname === '/v1/invites') {
      const inviteId = String(body.inviteId);
      if (blobs.has(inviteId)) return answer(409, { error: { code: 'conflict', message: 'exists' } });
      blobs.set(inviteId, {
        writeKeyHash: hash(String(body.writeKey)),
        ciphertext: String(body.ciphertext),
        expiresAt: Number(body.expiresAt),
        oneTime: body.oneTime === true,
      });
      return answer(200, { ok: true });
    }
    const b = live(id);
    if (b === undefined) return notFound();
    if (method === 'GET') {
      if (b.oneTime) blobs.delete(id);
      return answer(200, { ciphertext: b.ciphertext });
    }
    if (hash(String(body.writeKey)) !== b.writeKeyHash) return notFound();
    if (method === 'PUT') {
      b.ciphertext = String(body.ciphertext);
      return answer(200, { ok: true });
    }
    if (method === 'DELETE') {
      blobs.delete(id);
      return answer(200, { ok: true });
    }
    return notFound();
  };
  return { fetch: standIn, standIn: true };
}
