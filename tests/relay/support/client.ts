/**
 * A small test client for the relay's HTTP and WebSocket API: passkey
 * sign-up/login through the soft authenticator, VOPRF token issuance with
 * client-side DLEQ verification, mailboxes, queues, and a WebSocket wrapper
 * that correlates answers by `rid` and collects pushed messages.
 *
 * Typed from the relay contract (lib/protocol/relay.ts). Where a test only
 * needs the result (key list, issuance, mailboxes, fetching) it goes through
 * the extension's own client (RelayApi); `call`/`post`/`ok` stay raw so tests
 * can assert on statuses and bodies.
 */

import { ristretto255_oprf } from '@noble/curves/ed25519.js';
import { createHash, webcrypto } from 'node:crypto';
import WebSocket from 'ws';
import { toB64 } from '../../../lib/bytes.ts';
import { RelayApi } from '../../../lib/background/relay-api.ts';
import {
  DELIVERY_SOCKET_PATH,
  ROUTES,
  type MailboxCredentials,
  type ServerFrame,
  type WireMessage,
  type WireToken,
} from '../../../lib/protocol/relay.ts';
import { createCredential, getAssertion, type SoftCredential } from './soft-authenticator.ts';

export type { WireToken };

export const EXT_ORIGIN = 'chrome-extension://abcdefghijklmnopabcdefghijklmnop';

export interface Answer {
  status: number;
  body: Record<string, unknown>;
}

export interface Account {
  accountId: string;
  session: string;
  credential: SoftCredential;
}

export type Mailbox = MailboxCredentials;

export class RelayClient {
  /** What crossed the wire at issuance (blinded and evaluated elements), for the privacy test. */
  readonly issuance: { blinded: string[]; evaluated: string[] }[] = [];

  /** The extension's relay client, on the same relay. */
  readonly api: RelayApi;

  constructor(readonly url: string) {
    this.api = new RelayApi(url);
  }

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
    const start = await this.ok(ROUTES.registrationStart.path, {});
    const options = start.options as { challenge: string; rp: { id: string }; user: { id: string } };
    const { credential, response } = await createCredential({
      rpId: options.rp.id,
      origin,
      challenge: options.challenge,
      userId: options.user.id,
    });
    const fin = await this.ok(ROUTES.registrationFinish.path, { ceremonyId: start.ceremonyId, response });
    return { accountId: String(fin.accountId), session: String(fin.token), credential };
  }

  async login(credential: SoftCredential, origin = EXT_ORIGIN): Promise<Answer> {
    const start = await this.ok(ROUTES.loginStart.path, {});
    const options = start.options as { challenge: string };
    const response = await getAssertion(credential, { origin, challenge: options.challenge });
    return this.post(ROUTES.loginFinish.path, { ceremonyId: start.ceremonyId, response });
  }

  /** Issues `n` tokens (in batches), verifying the relay's DLEQ proof against its published key. */
  async tokens(session: string, n: number, batch = 100): Promise<WireToken[]> {
    const list = await this.api.tokenKeys();
    const out: WireToken[] = [];
    while (out.length < n) {
      const size = Math.min(batch, n - out.length);
      const inputs = Array.from({ length: size }, () => webcrypto.getRandomValues(new Uint8Array(32)));
      const blinds = inputs.map((i) => ristretto255_oprf.voprf.blind(i));
      const res = await this.api.issueTokens(session, blinds.map((b) => b.blinded));
      this.issuance.push({ blinded: blinds.map((b) => toB64(b.blinded)), evaluated: res.evaluated.map(toB64) });
      const key = list.find((k) => k.keyId === res.keyId);
      if (key === undefined) throw new Error('issued under an unpublished key');
      const outputs = ristretto255_oprf.voprf.finalizeBatch(
        inputs.map((input, i) => ({
          input,
          blind: blinds[i]!.blind,
          blinded: blinds[i]!.blinded,
          evaluated: res.evaluated[i]!,
        })),
        key.publicKey,
        res.proof,
      );
      inputs.forEach((input, i) => out.push({ keyId: res.keyId, input: toB64(input), output: toB64(outputs[i]!) }));
    }
    return out;
  }

  mailbox(token: WireToken): Promise<Mailbox> {
    return this.api.createMailbox(token);
  }

  async fetchAll(mb: Mailbox, ack = false): Promise<WireMessage[]> {
    const all: WireMessage[] = [];
    for (;;) {
      const msgs = (await this.api.fetchMailbox(mb)).map((m) => ({ id: m.id, kind: m.kind, payload: toB64(m.payload) }));
      if (!ack) return msgs;
      if (msgs.length === 0) return all;
      all.push(...msgs);
      await this.api.ack(mb, msgs.map((m) => m.id));
    }
  }
}

export function randomQueue(): string {
  return toB64(webcrypto.getRandomValues(new Uint8Array(32)));
}

/**
 * A queue capability for tests that are not about capabilities: fixed per
 * queue (the members' epoch never changes here), and not derivable from the
 * queue id by anyone who does not know this test's rule.
 */
export function capFor(queue: string): string {
  return toB64(new Uint8Array(createHash('sha256').update(`test capability ${queue}`).digest()));
}

/** A pushed `msg` frame. */
export type Pushed = Extract<ServerFrame, { t: 'msg' }>;

/**
 * A WebSocket to the delivery socket with request/answer correlation. Frames
 * stay loosely typed here on purpose: tests send frames the contract forbids.
 */
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
    const ws = new WebSocket(url.replace(/^http/, 'ws') + DELIVERY_SOCKET_PATH);
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
