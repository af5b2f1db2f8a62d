// Fuzzing every endpoint and WebSocket frame type with malformed input
// (fast-check; 7,000 HTTP requests + 3,000 frames = 10,000 cases per run).
// Every answer must be a typed error (or a success), never a 500, and the relay
// must keep serving others throughout.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRelay, type RelayProcess } from '../support/relay-process.ts';
import { RelayClient, WsClient, capFor, randomQueue, type Account, type Mailbox, type WireToken } from './support/client.ts';
import { b64u } from './support/soft-authenticator.ts';

const CODES = new Set([
  'bad_request', 'unauthenticated', 'not_found', 'token_invalid', 'token_spent', 'rate_limited',
  'quota_exceeded', 'too_large', 'capacity', 'ceremony_failed', 'method_not_allowed', 'conflict',
]);
const STATUSES = new Set([200, 400, 401, 403, 404, 405, 409, 413, 429, 503]);
// (409 is token_spent or an invite id conflict.)

const ENDPOINTS: [string, string][] = [
  ['POST', '/v1/accounts/register/start'], ['POST', '/v1/accounts/register/finish'],
  ['POST', '/v1/sessions/start'], ['POST', '/v1/sessions/finish'], ['POST', '/v1/sessions/logout'],
  ['POST', '/v1/key-packages'], ['GET', '/v1/key-packages'], ['POST', '/v1/key-packages/claim'],
  ['GET', '/v1/tokens/keys'], ['POST', '/v1/tokens/issue'], ['GET', '/v1/session'], ['GET', '/v1/limits'],
  ['POST', '/v1/mailboxes'], ['POST', '/v1/mailboxes/fetch'], ['POST', '/v1/mailboxes/ack'],
  ['POST', '/v1/mailboxes/delete'], ['POST', '/v1/mailboxes/welcome'], ['POST', '/v1/queues/register'],
  ['POST', '/v1/queues/unregister'], ['POST', '/v1/queues/send'], ['POST', '/v1/queues/delete'],
  ['GET', '/healthz'], ['PUT', '/v1/queues/send'], ['DELETE', '/v1/mailboxes'], ['GET', '/v1/nope'], ['POST', '/v1/ws'],
  ['POST', '/v1/invites'], ['GET', '/v1/invites/AAAAAAAAAAAAAAAAAAAAAA'], ['PUT', '/v1/invites/AAAAAAAAAAAAAAAAAAAAAA'],
  ['DELETE', '/v1/invites/AAAAAAAAAAAAAAAAAAAAAA'], ['PATCH', '/v1/invites/AAAAAAAAAAAAAAAAAAAAAA'],
];
/** Invite routes carry the id in the path: fuzz the segment too. */
const invitePath = fc
  .tuple(fc.constantFrom('GET', 'PUT', 'DELETE'), fc.oneof(fc.string({ maxLength: 40 }), fc.uint8Array({ minLength: 16, maxLength: 16 }).map(b64u)))
  .map(([method, seg]): [string, string] => [method, '/v1/invites/' + encodeURIComponent(seg)]);
const FIELDS = ['queue', 'token', 'payload', 'mailboxId', 'secret', 'ids', 'blinded', 'keyPackages', 'lastResort',
  'accountId', 'ceremonyId', 'response', 'limit', 'rpId', 'userName', 'keyId', 'input', 'output', 't', 'rid',
  'inviteId', 'writeKey', 'ciphertext', 'expiresAt', 'oneTime'];

/** Values that look almost right: base64url of odd lengths, id-shaped strings, tokens with bad parts. */
const nearValid = fc.oneof(
  fc.uint8Array({ maxLength: 80 }).map(b64u),
  fc.constantFrom(16, 31, 32, 33, 64).chain((n) => fc.uint8Array({ minLength: n, maxLength: n }).map(b64u)),
  fc.string({ minLength: 22, maxLength: 22 }),
  fc.string({ maxLength: 40 }).map((s) => s + '=='),
  fc.record({ keyId: fc.string({ maxLength: 20 }), input: fc.uint8Array({ maxLength: 40 }).map(b64u), output: fc.uint8Array({ maxLength: 70 }).map(b64u) }),
  fc.array(fc.uint8Array({ maxLength: 40 }).map(b64u), { maxLength: 5 }),
  fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constant(''),
  fc.record({ id: fc.string(), response: fc.record({ clientDataJSON: fc.uint8Array({ maxLength: 60 }).map(b64u) }) }),
);
const fieldValue = fc.oneof({ weight: 3, arbitrary: nearValid }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) });
const fuzzObject = fc.dictionary(fc.constantFrom(...FIELDS), fieldValue, { maxKeys: 6 });

type Body = { kind: 'json'; value: unknown } | { kind: 'text'; value: string } | { kind: 'bytes'; value: Uint8Array } | { kind: 'none' };
const bodyArb: fc.Arbitrary<Body> = fc.oneof(
  { weight: 6, arbitrary: fuzzObject.map((value): Body => ({ kind: 'json', value })) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((value): Body => ({ kind: 'json', value })) },
  { weight: 1, arbitrary: fc.string({ maxLength: 200 }).map((value): Body => ({ kind: 'text', value })) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((value): Body => ({ kind: 'bytes', value })) },
  { weight: 1, arbitrary: fc.constant<Body>({ kind: 'none' }) },
);

describe('relay fuzzing', () => {
  let relay: RelayProcess;
  let c: RelayClient;
  let account: Account;
  let tokens: WireToken[];
  let legit: { queue: string; a: Mailbox; b: Mailbox };

  beforeAll(async () => {
    relay = await startRelay({ args: ['--max-messages-per-second', '1000000', '--token-issue-requests-per-minute', '1000000'] });
    c = new RelayClient(relay.url);
    account = await c.register();
    tokens = await c.tokens(account.session, 10);
    const queue = randomQueue();
    const a = await c.mailbox(tokens.pop()!);
    const b = await c.mailbox(tokens.pop()!);
    await c.ok('/v1/queues/register', { queue, cap: capFor(queue), ...a });
    await c.ok('/v1/queues/register', { queue, cap: capFor(queue), ...b });
    legit = { queue, a, b };
  });
  afterAll(async () => {
    await relay.stop();
  });

  /** Someone else keeps using the relay normally while it is fuzzed. */
  async function legitRoundTrip(): Promise<void> {
    const sent = await c.ok('/v1/queues/send', { queue: legit.queue, cap: capFor(legit.queue), token: tokens.pop(), payload: b64u(new Uint8Array([1, 2, 3])) });
    const got = await c.fetchAll(legit.b);
    expect(got.map((m) => m.id)).toContain(sent.id);
    await c.ok('/v1/mailboxes/ack', { ...legit.b, ids: [sent.id] });
    await c.ok('/v1/mailboxes/ack', { ...legit.a, ids: [sent.id] });
  }

  it('answers 7,000 malformed HTTP requests over every endpoint with typed errors and never a 500', async () => {
    const caseArb = fc.record({
      endpoint: fc.oneof({ weight: 9, arbitrary: fc.constantFrom(...ENDPOINTS) }, { weight: 1, arbitrary: invitePath }),
      body: bodyArb,
      auth: fc.constantFrom<'none' | 'garbage' | 'valid'>('none', 'garbage', 'valid'),
    });
    let cases = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(caseArb, { minLength: 20, maxLength: 20 }), async (batch) => {
        await Promise.all(
          batch.map(async ({ endpoint: [method, path], body, auth }) => {
            cases++;
            const headers: Record<string, string> = {};
            if (auth === 'garbage') headers.authorization = 'Bearer ' + 'A'.repeat(43);
            // (Logging the shared session out would only make the rest of the run shallower.)
            if (auth === 'valid' && path !== '/v1/sessions/logout') headers.authorization = `Bearer ${account.session}`;
            let payload: string | ArrayBuffer | undefined;
            if (method !== 'GET' && body.kind !== 'none') {
              payload = body.kind === "json" ? JSON.stringify(body.value) : body.kind === "text" ? body.value : (body.value.slice().buffer as ArrayBuffer);
              headers['content-type'] = 'application/json';
            }
            const res = await fetch(relay.url + path, { method, headers, body: payload });
            const text = await res.text();
            expect(STATUSES.has(res.status), `${method} ${path} → ${res.status} ${text}`).toBe(true);
            if (res.status !== 200) {
              const parsed = JSON.parse(text) as { error: { code: string } };
              expect(CODES.has(parsed.error.code), text).toBe(true);
            }
          }),
        );
      }),
      { numRuns: 350 },
    );
    expect(cases).toBeGreaterThanOrEqual(7000);
    await legitRoundTrip();
    expect(relay.stderr()).not.toMatch(/internal error/);
  }, 240_000);

  it('answers 3,000 malformed WebSocket frames with typed errors and keeps the connection', async () => {
    const frameArb = fc.oneof(
      { weight: 6, arbitrary: fc.record({ t: fc.constantFrom('sub', 'unsub', 'fetch', 'ack', 'send', 'welcome', 'ping', 'x', ''), rest: fuzzObject })
        .map(({ t, rest }) => JSON.stringify({ ...rest, t })) },
      { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)) },
      { weight: 1, arbitrary: fc.string({ maxLength: 300 }) },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)) },
    );
    const ws = await WsClient.open(relay.url);
    const seen: Record<string, unknown>[] = [];
    ws.ws.on('message', (d) => seen.push(JSON.parse(String(d)) as Record<string, unknown>));
    let cases = 0;
    let sync = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(frameArb, { minLength: 10, maxLength: 10 }), async (frames) => {
        const before = seen.length;
        for (const f of frames) ws.sendRaw(f);
        cases += frames.length;
        // A ping after the batch: once its pong is back, every frame of the batch was answered.
        const marker = `sync-${sync++}`;
        ws.sendRaw(JSON.stringify({ t: 'ping', rid: marker }));
        const start = Date.now();
        while (!seen.slice(before).some((f) => f.rid === marker)) {
          if (ws.closeCode !== undefined) throw new Error(`connection closed with ${ws.closeCode}`);
          if (Date.now() - start > 5000) throw new Error('no answer');
          await new Promise((r) => setTimeout(r, 1));
        }
        const answers = seen.slice(before).filter((f) => f.rid !== marker);
        expect(answers.length).toBe(frames.length);
        for (const a of answers) {
          if (a.t === 'error') expect(CODES.has(String(a.code)), JSON.stringify(a)).toBe(true);
          else expect(['pong', 'ok'].includes(String(a.t)), JSON.stringify(a)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
    expect(cases).toBeGreaterThanOrEqual(3000);
    expect((await ws.request({ t: 'ping' })).t).toBe('pong');
    ws.close();
    await legitRoundTrip();
    expect(relay.stderr()).not.toMatch(/internal error/);
  }, 240_000);
});
