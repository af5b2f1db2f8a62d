/**
 * A small test client for the relay's HTTP and WebSocket API: passkey
 * sign-up/login through the soft authenticator, VOPRF token issuance with
 * client-side DLEQ verification, mailboxes, queues, and a WebSocket wrapper
 * that correlates answers by `rid` and collects pushed messages.
 */

import { ristretto255_oprf } from '@noble/curves/ed25519.js';
import { createHash, webcrypto } from 'node:crypto';
import WebSocket from 'ws';
import { b64u, createCredential, fromB64u, getAssertion, type SoftCredential } from './soft-authenticator.ts';

export const EXT_ORIGIN = 'chrome-extension://abcdefghijklmnopabcdefghijklmnop';

export interface Answer {
  status: number;
  body: Record<string, unknown>;
}

export interface WireToken {
  keyId: string;
  input: string;
  output: string;
}

export interface Account {
  accountId: string;
  session: string;
  credential: SoftCredential;
}

export interface Mailbox {
  mailboxId: string;
  secret: string;
}

export class RelayClient {
  /** What crossed the wire at issuance (blinded and evaluated elements), for the privacy test. */
  readonly issuance: { blinded: string[]; evaluated: string[] }[] = [];

  constructor(readonly url: string) {}

  async call(method: string, path: string, body?: unknown, session?: string): Promise<Answer> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (session !== undefined) headers.authorization = `Bearer ${session}`;
    const res = await fetch(this.url + path, {
      method,
      headers,
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(text) as Record<string, unknown>;
    } catch {
      parsed = { raw: text };
    }
    return { status: res.status, body: parsed };
  }

  post(path: string, body: unknown, session?: string): Promise<Answer> {
    return this.call('POST', path, body, session);
  }

  async ok(path: string, body: unknown, session?: string): Promise<Record<string, unknown>> {
    const a = await this.post(path, body, session);
    if (a.status !== 200) throw new Error(`${path} → ${a.status} ${JSON.stringify(a.body)}`);
    return a.body;
  }

  async register(origin = EXT_ORIGIN): Promise<Account> {
    const start = await this.ok('/v1/accounts/register/start', {});
    const options = start.options as { challenge: string; rp: { id: string }; user: { id: string } };
    const { credential, response } = await createCredential({
      rpId: options.rp.id,
      origin,
      challenge: options.challenge,
      userId: options.user.id,
    });
    const fin = await this.ok('/v1/accounts/register/finish', { ceremonyId: start.ceremonyId, response });
    return { accountId: String(fin.accountId), session: String(fin.token), credential };
  }

  async login(credential: SoftCredential, origin = EXT_ORIGIN): Promise<Answer> {
    const start = await this.ok('/v1/sessions/start', {});
    const options = start.options as { challenge: string };
    const response = await getAssertion(credential, { origin, challenge: options.challenge });
    return this.post('/v1/sessions/finish', { ceremonyId: start.ceremonyId, response });
  }

  /** Issues `n` tokens (in batches), verifying the relay's DLEQ proof against its published key. */
  async tokens(session: string, n: number, batch = 100): Promise<WireToken[]> {
    const keys = await this.call('GET', '/v1/tokens/keys');
    const list = keys.body.keys as { keyId: string; publicKey: string; issuing: boolean }[];
    const out: WireToken[] = [];
    while (out.length < n) {
      const size = Math.min(batch, n - out.length);
      const inputs = Array.from({ length: size }, () => webcrypto.getRandomValues(new Uint8Array(32)));
      const blinds = inputs.map((i) => ristretto255_oprf.voprf.blind(i));
      const res = await this.ok('/v1/tokens/issue', { blinded: blinds.map((b) => b64u(b.blinded)) }, session);
      this.issuance.push({ blinded: blinds.map((b) => b64u(b.blinded)), evaluated: res.evaluated as string[] });
      const key = list.find((k) => k.keyId === res.keyId);
      if (key === undefined) throw new Error('issued under an unpublished key');
      const evaluated = (res.evaluated as string[]).map(fromB64u);
      const outputs = ristretto255_oprf.voprf.finalizeBatch(
        inputs.map((input, i) => ({
          input,
          blind: blinds[i]!.blind,
          blinded: blinds[i]!.blinded,
          evaluated: evaluated[i]!,
        })),
        fromB64u(key.publicKey),
        fromB64u(String(res.proof)),
      );
      inputs.forEach((input, i) => out.push({ keyId: String(res.keyId), input: b64u(input), output: b64u(outputs[i]!) }));
    }
    return out;
  }

  async mailbox(token: WireToken): Promise<Mailbox> {
    const r = await this.ok('/v1/mailboxes', { token });
    return { mailboxId: String(r.mailboxId), secret: String(r.secret) };
  }

  async fetchAll(mb: Mailbox, ack = false): Promise<{ id: string; kind: string; payload: string }[]> {
    const all: { id: string; kind: string; payload: string }[] = [];
    for (;;) {
      const r = await this.ok('/v1/mailboxes/fetch', { ...mb });
      const msgs = r.messages as { id: string; kind: string; payload: string }[];
      if (!ack) return msgs;
      if (msgs.length === 0) return all;
      all.push(...msgs);
      await this.ok('/v1/mailboxes/ack', { ...mb, ids: msgs.map((m) => m.id) });
    }
  }
}

export function randomQueue(): string {
  return b64u(webcrypto.getRandomValues(new Uint8Array(32)));
}

/**
 * A queue capability for tests that are not about capabilities: fixed per
 * queue (the members' epoch never changes here), and not derivable from the
 * queue id by anyone who does not know this test's rule.
 */
export function capFor(queue: string): string {
  return b64u(new Uint8Array(createHash('sha256').update(`test capability ${queue}`).digest()));
}

export interface Pushed {
  mailboxId: string;
  id: string;
  kind: string;
  payload: string;
}

/** A WebSocket to /v1/ws with request/answer correlation. */
export class WsClient {
  readonly pushed: Pushed[] = [];
  readonly errors: Record<string, unknown>[] = [];
  private readonly waiting = new Map<string | number, (f: Record<string, unknown>) => void>();
  private nextRid = 1;
  closeCode: number | undefined;
  readonly closed: Promise<number>;
  onPush: ((p: Pushed) => void) | undefined;

  private constructor(readonly ws: WebSocket) {
    this.closed = new Promise((resolve) =>
      ws.on('close', (code) => {
        this.closeCode = code;
        resolve(code);
      }),
    );
    ws.on('message', (data) => {
      const f = JSON.parse(String(data)) as Record<string, unknown>;
      if (f.t === 'msg') {
        const p = f as unknown as Pushed;
        this.pushed.push(p);
        this.onPush?.(p);
        return;
      }
      const rid = f.rid as string | number | undefined;
      const w = rid === undefined ? undefined : this.waiting.get(rid);
      if (w !== undefined && rid !== undefined) {
        this.waiting.delete(rid);
        w(f);
      } else if (f.t === 'error') {
        this.errors.push(f);
      }
    });
  }

  static open(url: string): Promise<WsClient> {
    const ws = new WebSocket(url.replace(/^http/, 'ws') + '/v1/ws');
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new WsClient(ws)));
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    });
  }

  request(frame: Record<string, unknown>): Promise<Record<string, unknown>> {
    const rid = this.nextRid++;
    return new Promise((resolve) => {
      this.waiting.set(rid, resolve);
      this.ws.send(JSON.stringify({ ...frame, rid }));
    });
  }

  sendRaw(data: string | Buffer): void {
    this.ws.send(data);
  }

  close(): void {
    this.ws.close();
  }
}

export async function waitFor(cond: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
