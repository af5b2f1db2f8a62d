// Every body and frame the relay reads declares its keys, and any other key is refused (relay/encoding.ts
// onlyKeys), against the real relay process. Table-driven: one row per HTTP route (lib/protocol/relay.ts
// ROUTES, relay-blobs.ts BLOB_ROUTES, relay-backups.ts BACKUP_ROUTES), per delivery-socket frame type
// (the `case`s of relay/ws.ts) and for the issuance socket's one frame. Each row builds a valid request;
// the test sends it with one extra key "zz" (at the top, then inside each object the relay itself defines,
// e.g. `token`), expects the typed bad_request naming the key, checks with a follow-up request that the
// relay's state did not change (nothing created, stored, spent or deleted), then sends the same request
// without the key and expects it to succeed. The coverage checks fail when a route or frame type is added
// without a row. The rows are tests/relay/support/strict-key-rows.ts.
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DELIVERY_SOCKET_PATH, ISSUE_SOCKET_PATH, ROUTES } from '../../lib/protocol/relay.ts';
import { startRelay, type RelayProcess } from '../support/relay-process.ts';
import { RelayClient, WsClient, type Account, type Answer, type WireToken } from './support/client.ts';
import { ALL_ROUTES, blindedPoint, strictKeyRows, type AnyRoute, type HttpRow, type Prepared } from './support/strict-key-rows.ts';

const code = (a: Answer): unknown => (a.body.error as { code?: unknown } | undefined)?.code;
const errorMessage = (a: Answer): string => String((a.body.error as { message?: unknown } | undefined)?.message);
const EXTRA = 'zz';

/** The variants of `body` with one unexpected key: at the top, then inside each nested object the relay defines. */
function withExtraKey(p: Prepared): { where: string; body: Record<string, unknown> }[] {
  const out: { where: string; body: Record<string, unknown> }[] = [{ where: 'top level', body: { ...p.body, [EXTRA]: 1 } }];
  for (const key of p.nested ?? []) {
    out.push({ where: key, body: { ...p.body, [key]: { ...(p.body[key] as Record<string, unknown>), [EXTRA]: 1 } } });
  }
  return out;
}

describe('the relay refuses unexpected keys in every body and frame', () => {
  let relay: RelayProcess;
  let c: RelayClient;
  let main: Account;
  let tokens: WireToken[] = [];
  const spares: Account[] = [];

  const token = async (): Promise<WireToken> => {
    if (tokens.length === 0) tokens = await c.tokens(main.session, 100);
    return tokens.pop()!;
  };
  /** A fresh account (links and issuance are rate-limited per account). */
  const account = async (): Promise<Account> => spares.pop() ?? c.register();
  const { http: HTTP_ROWS, frames: FRAME_ROWS } = strictKeyRows({
    get c() {
      return c;
    },
    get main() {
      return main;
    },
    token,
    account,
  });

  beforeAll(async () => {
    relay = await startRelay();
    c = new RelayClient(relay.url);
    main = await c.register();
    for (let i = 0; i < 12; i++) spares.push(await c.register());
  }, 60_000);
  afterAll(async () => {
    await relay.stop();
  });

  it('has a row for every route the router knows and every frame type the delivery socket handles', () => {
    expect(Object.keys(HTTP_ROWS).sort()).toEqual(Object.keys(ALL_ROUTES).sort());
    for (const [name, row] of Object.entries(HTTP_ROWS)) {
      if ('noBody' in row) expect(ALL_ROUTES[name as AnyRoute].method, name).toBe('GET');
    }
    // The frame types are a type in the contract; the cases relay/ws.ts handles are what the relay knows.
    const wsSource = readFileSync(new URL('../../relay/ws.ts', import.meta.url), 'utf8');
    const handled = [...wsSource.matchAll(/^\s*case '([a-z]+)':/gm)].map((m) => m[1]);
    expect(handled.length).toBeGreaterThan(0);
    expect(Object.keys(FRAME_ROWS).sort()).toEqual([...handled].sort());
  });

  const bodyRows = (Object.entries(HTTP_ROWS) as [AnyRoute, HttpRow][]).filter(
    (e): e is [AnyRoute, { prepare: () => Promise<Prepared> }] => 'prepare' in e[1],
  );

  it.each(bodyRows)('%s: refused with an extra key, nothing changed, accepted without it', async (name, row) => {
    const route = ALL_ROUTES[name];
    const p = await row.prepare();
    const path = p.path ?? route.path;
    for (const variant of withExtraKey(p)) {
      const refused = await c.call(route.method, path, variant.body, p.session);
      expect({ where: variant.where, status: refused.status, code: code(refused) }).toEqual({ where: variant.where, status: 400, code: 'bad_request' });
      expect(errorMessage(refused)).toContain(`unexpected key "${EXTRA}"`);
      await p.unchanged();
    }
    const accepted = await c.call(route.method, path, p.body, p.session);
    expect({ status: accepted.status, body: accepted.body }).toMatchObject({ status: 200 });
    await p.done?.(accepted.body);
  }, 30_000);

  it.each(Object.entries(FRAME_ROWS))('frame %s: refused with an extra key, nothing changed, accepted without it', async (_type, row) => {
    const ws = await WsClient.open(relay.url);
    try {
      const p = await row.prepare(ws);
      for (const variant of withExtraKey(p)) {
        const refused = await ws.request(variant.body);
        expect({ where: variant.where, t: refused.t, code: refused.code }).toEqual({ where: variant.where, t: 'error', code: 'bad_request' });
        expect(String(refused.message)).toContain(`unexpected key "${EXTRA}"`);
        await p.unchanged();
      }
      const accepted = await ws.request(p.body);
      expect(accepted.t).not.toBe('error');
      await p.done?.(accepted);
    } finally {
      ws.close();
    }
  }, 30_000);

  it('a query string is refused on every route and socket path, before anything is read or spent', async () => {
    const routes = Object.values(ALL_ROUTES).map((r) => ({ method: r.method, path: r.path.replace(/:[a-zA-Z]+/, 'x') }));
    for (const r of [...routes, { method: 'GET', path: DELIVERY_SOCKET_PATH }, { method: 'GET', path: ISSUE_SOCKET_PATH }]) {
      const refused = await c.call(r.method, `${r.path}?${EXTRA}=1`, r.method === 'GET' ? undefined : {}, main.session);
      expect({ route: `${r.method} ${r.path}`, status: refused.status, code: code(refused), message: errorMessage(refused) }).toEqual({
        route: `${r.method} ${r.path}`,
        status: 400,
        code: 'bad_request',
        message: 'unexpected query string',
      });
    }
    // A token sent with a query string is not spent: it still creates a mailbox afterwards.
    const t = await token();
    expect((await c.call('POST', `${ROUTES.createMailbox.path}?${EXTRA}=1`, { token: t })).status).toBe(400);
    expect((await c.call('POST', ROUTES.createMailbox.path, { token: t })).status).toBe(200);
    expect((await c.call('GET', ROUTES.health.path)).status).toBe(200);
  });

  it('issuance socket: the issue frame with an extra key is refused, without it a batch is issued', async () => {
    const session = (await account()).session;
    const frame = { t: 'issue', session, blinded: [blindedPoint()] };
    const refused = await issueOnce(relay.url, { ...frame, [EXTRA]: 1 });
    expect(refused).toMatchObject({ t: 'error', code: 'bad_request' });
    expect(String(refused.message)).toContain(`unexpected key "${EXTRA}"`);
    const issued = await issueOnce(relay.url, frame);
    expect(issued.t).toBe('issued');
    expect(issued.evaluated).toHaveLength(1);
  });

  it('names the key cut to 40 characters and never echoes a value', async () => {
    const mb = await c.mailbox(await token());
    const longKey = 'k'.repeat(100);
    const a = await c.post(ROUTES.fetchMailbox.path, { ...mb, [longKey]: 'VALUE-CANARY' });
    expect(code(a)).toBe('bad_request');
    const message = errorMessage(a);
    expect(message).toContain(`"${'k'.repeat(40)}"`);
    expect(message).not.toContain('k'.repeat(41));
    expect(message).not.toContain('VALUE-CANARY');
    expect(message).not.toContain(mb.secret);
    const ws = await WsClient.open(relay.url);
    try {
      const f = await ws.request({ t: 'ping', [longKey]: 'VALUE-CANARY' });
      expect(f).toMatchObject({ t: 'error', code: 'bad_request' });
      expect(String(f.message)).not.toContain('VALUE-CANARY');
      expect(String(f.message)).not.toContain('k'.repeat(41));
    } finally {
      ws.close();
    }
  });

  it('a route without fields takes no body, or an empty object', async () => {
    const session = String((await c.login(main.credential)).body.token);
    expect((await c.call('POST', ROUTES.logout.path, undefined, session)).status).toBe(200);
    expect((await c.call('GET', ROUTES.session.path, undefined, session)).status).toBe(401);
  });
});

/** One frame on a fresh issuance socket; its one answer. */
async function issueOnce(url: string, frame: Record<string, unknown>): Promise<Record<string, unknown>> {
  const ws = new WebSocket(url.replace(/^http/, 'ws') + ISSUE_SOCKET_PATH);
  const answer = new Promise<Record<string, unknown>>((resolve, reject) => {
    ws.once('message', (d) => resolve(JSON.parse(String(d)) as Record<string, unknown>));
    ws.once('error', reject);
  });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  ws.send(JSON.stringify(frame));
  try {
    return await answer;
  } finally {
    ws.close();
  }
}
