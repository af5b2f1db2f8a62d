// The relay contract (lib/protocol/relay.ts) matches the relay: every route in the map is served with
// its method by the real relay process, every route the relay documents and serves is in the map, every
// error code the relay can emit is in the contract, and the extension's client reads the relay's answers.
import { readFileSync, readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toB64 } from '../../lib/bytes.ts';
import { RelayApi, RelayApiError } from '../../lib/background/relay-api.ts';
import {
  DELIVERY_SOCKET_PATH,
  ERROR_STATUS,
  ErrorCode,
  ISSUE_SOCKET_PATH,
  ROUTES,
  isErrorCode,
  routePath,
  type RouteName,
} from '../../lib/protocol/relay.ts';
import { BACKUP_ROUTES } from '../../lib/protocol/relay-backups.ts';
import { BLOB_ROUTES } from '../../lib/protocol/relay-blobs.ts';
import { ErrorCode as RelayErrorCode, RelayError } from '../../relay/errors.ts';
import { PushFrame } from '../../relay/wire.ts';
import { startRelay, type RelayProcess } from '../support/relay-process.ts';

const ROUTE_NAMES = Object.keys(ROUTES) as RouteName[];
const INVITE_ID = toB64(new Uint8Array(16).fill(1));
const concrete = (name: RouteName): string => ROUTES[name].path.replace(':inviteId', INVITE_ID);

/** `METHOD /path` of every row of the API table in relay/README.md, `<param>` spelled `:param`. */
function documentedEndpoints(): string[] {
  const readme = readFileSync(new URL('../../relay/README.md', import.meta.url), 'utf8');
  return [...readme.matchAll(/^\| `(GET|POST|PUT|DELETE) (\/[^`]*)` \|/gm)].map((m) => `${m[1]} ${m[2]!.replace(/<(\w+)>/g, ':$1')}`);
}

describe('the relay contract', () => {
  let relay: RelayProcess;
  beforeAll(async () => {
    relay = await startRelay();
  });
  afterAll(async () => {
    await relay.stop();
  });

  it('names the same endpoints as the relay documents, the two sockets aside', () => {
    const inMap = ROUTE_NAMES.map((name) => `${ROUTES[name].method} ${ROUTES[name].path}`);
    // The blob and backup routes are their own contract files (lib/protocol/relay-blobs.ts, relay-backups.ts).
    inMap.push(...[...Object.values(BLOB_ROUTES), ...Object.values(BACKUP_ROUTES)].map((r) => `${r.method} ${r.path}`));
    const sockets = [`GET ${DELIVERY_SOCKET_PATH}`, `GET ${ISSUE_SOCKET_PATH}`];
    expect(new Set(documentedEndpoints())).toEqual(new Set([...inMap, ...sockets]));
  });

  it('every route in the map is served with its method (another method on its path is 405, not 404)', async () => {
    for (const name of ROUTE_NAMES) {
      const url = relay.url + concrete(name);
      const other = await fetch(url, { method: 'PATCH' });
      expect(other.status, `${name}: PATCH ${concrete(name)}`).toBe(405);
      expect(await other.json()).toEqual({ error: { code: 'method_not_allowed', message: 'method not allowed' } });
      const { method } = ROUTES[name];
      const own = await fetch(url, { method, ...(method === 'GET' ? {} : { headers: { 'content-type': 'application/json' }, body: '{}' }) });
      expect(own.status, `${name}: ${method} ${concrete(name)}`).not.toBe(405);
      const body: unknown = await own.json();
      if (!own.ok) {
        // Every refusal is the contract's error body with a contract code and its status.
        const code = (body as { error: { code: unknown } }).error.code;
        expect(isErrorCode(code), `${name}: ${String(code)}`).toBe(true);
        expect(own.status).toBe(ERROR_STATUS[code as ErrorCode]);
      }
    }
  });

  it('serves every blob route with its method, refusing an empty body with a contract code', async () => {
    for (const [name, { method, path }] of Object.entries(BLOB_ROUTES)) {
      const other = await fetch(relay.url + path, { method: 'PUT' });
      expect(other.status, `${name}: PUT ${path}`).toBe(405);
      const own = await fetch(relay.url + path, { method, headers: { 'content-type': 'application/json' }, body: '{}' });
      const body = (await own.json()) as { error: { code: unknown } };
      expect(isErrorCode(body.error.code), name).toBe(true);
      expect(own.status, name).toBe(ERROR_STATUS[body.error.code as ErrorCode]);
    }
    for (const path of ['/v1/blobs/', '/v1/blobs/x', '/v1/blobsx']) expect((await fetch(relay.url + path, { method: 'POST' })).status, path).toBe(404);
  });

  it('serves nothing outside the map: paths beside the routes are 404 for every method', async () => {
    const beside = ['/v1', '/v1/', '/v1/mailboxes/', '/v1/queues', '/v1/tokens', '/v1/sessions', '/v1/accounts', '/v1/key-packages/', '/healthz/'];
    for (const path of beside) {
      for (const method of ['GET', 'POST', 'PUT', 'DELETE']) {
        const res = await fetch(relay.url + path, { method });
        expect(res.status, `${method} ${path}`).toBe(404);
      }
    }
  });

  it('routePath fills and encodes the path parameters', () => {
    expect(routePath('readInvite', { inviteId: 'a/b' })).toBe('/v1/invites/a%2Fb');
    expect(routePath('limits')).toBe('/v1/limits');
  });

  it('holds every error code the relay can emit, with its status', () => {
    // The relay's codes are the contract's, not a copy.
    expect(RelayErrorCode).toBe(ErrorCode);
    for (const code of Object.values(ErrorCode)) expect(new RelayError(code, 'x').status).toBe(ERROR_STATUS[code]);
    // Every `ErrorCode.<name>` the relay's sources use is a name in the contract, and no code is a bare string.
    const dir = new URL('../../relay/', import.meta.url);
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
      const source = readFileSync(new URL(file, dir), 'utf8');
      for (const m of source.matchAll(/ErrorCode\.(\w+)/g)) expect(Object.keys(ErrorCode), `${file}: ${m[0]}`).toContain(m[1]);
      expect(source, file).not.toMatch(/code: '[a-z_]+'/);
    }
    // And the relay's README lists exactly these codes.
    const readme = readFileSync(new URL('README.md', dir), 'utf8');
    const listed = readme.slice(readme.indexOf('with a typed code:'), readme.indexOf('Session endpoints'));
    expect(new Set([...listed.matchAll(/`([a-z_]+)`/g)].map((m) => m[1]))).toEqual(new Set(Object.values(ErrorCode)));
  });

  it("the extension's client reads the relay's answers and its error codes", async () => {
    const api = new RelayApi(relay.url);
    const limits = await api.limits();
    expect(limits.maxMessageBytes).toBeGreaterThan(0);
    const keys = await api.tokenKeys();
    expect(keys.some((k) => k.issuing)).toBe(true);
    const refused = await api.session('A'.repeat(43)).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(RelayApiError);
    expect(refused).toMatchObject({ status: 401, code: 'unauthenticated' });
    await expect(api.getInvite(INVITE_ID)).rejects.toMatchObject({ status: 404, code: 'not_found' });
  });

  it('a push frame is the contract\'s msg frame', () => {
    const message = { id: toB64(new Uint8Array(16)), kind: 'group' as const, payload: toB64(new Uint8Array([1, 2, 3])) };
    const mailboxId = toB64(new Uint8Array(16).fill(2));
    expect(JSON.parse(new PushFrame(message).for(mailboxId))).toEqual({ t: 'msg', mailboxId, ...message });
  });
});
