/**
 * The background's typed HTTP client for the relay. Routes, bodies and
 * answers are the relay contract's (lib/protocol/relay.ts); every answer is
 * checked before use (relay-wire.ts). The live delivery socket is
 * relay-connection.ts.
 */
import { fromB64, toB64 } from '../bytes.ts';
import {
  ROUTES,
  TOKEN_SUITE,
  isErrorCode,
  routePath,
  type KeyPackageCounts,
  type MailboxCredentials,
  type ParamArgs,
  type RequestOf,
  type RouteName,
  type WireToken,
} from '../protocol/relay.ts';
import { ID, RelayApiError, bytes, isRecord, malformed, num, str, type DeliveredMessage, type Json, parseDelivered } from './relay-wire.ts';

export type { KeyPackageCounts, MailboxCredentials, WireToken };
// Re-exported so the modules that already import the relay client from here need not change;
// new code imports relay-connection.ts and relay-wire.ts directly.
export { RelayApiError, parseDelivered, type DeliveredMessage };
export {
  BACKOFF_MAX_MS,
  RelayConnection,
  backoffDelay,
  type ConnectionOptions,
  type WebSocketConstructor,
  type WebSocketLike,
} from './relay-connection.ts';
import { t } from '../platform/i18n.ts';

export interface SessionInfo {
  accountId: string;
  token: string;
  expiresAt: number;
}

/** A party's access to a device-link slot (relay/links.ts). */
export interface LinkSlotAccess {
  slot: number;
  key: Uint8Array;
}

function linkSlot(r: Json): number {
  const slot = num(r, 'slot', 'link slot');
  if (slot < 0 || slot >= 2 ** 20) throw malformed('link slot');
  return slot;
}

export interface TokenKeyInfo {
  keyId: string;
  publicKey: Uint8Array;
  issuing: boolean;
  acceptUntil: number;
}

export interface RelayApiOptions {
  fetch?: typeof fetch;
  /** Per-request timeout (default 15 s). */
  timeoutMs?: number;
}

/**
 * The relay refuses keys a body does not declare, so the records that travel
 * are copied field by field: a mailbox or token object that picked up another
 * field somewhere (a stored record, a spread) still sends only these.
 */
export function mailboxFields(mb: MailboxCredentials): MailboxCredentials {
  return { mailboxId: mb.mailboxId, secret: mb.secret };
}

export function tokenFields(token: WireToken): WireToken {
  return { keyId: token.keyId, input: token.input, output: token.output };
}

export class RelayApi {
  private readonly fetchImpl: typeof fetch;
  private readonly timeoutMs: number;

  constructor(
    readonly baseUrl: string,
    options: RelayApiOptions = {},
  ) {
    this.fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.timeoutMs = options.timeoutMs ?? 15_000;
  }

  /**
   * One call of a contract route. Answers the JSON object the relay sent, not
   * yet checked (each method below checks what it reads); a failure is a
   * `RelayApiError` with the contract's error code.
   */
  private async call<R extends RouteName>(route: R, body: RequestOf<R>, session?: string, ...params: ParamArgs<R>): Promise<Json> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (session !== undefined) headers.authorization = `Bearer ${session}`;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.timeoutMs);
    let res: Response;
    let text: string;
    try {
      res = await this.fetchImpl(this.baseUrl + routePath(route, ...params), {
        method: ROUTES[route].method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: controller.signal,
        cache: 'no-store',
        credentials: 'omit',
      });
      text = await res.text();
    } catch (err) {
      throw new RelayApiError(0, 'unreachable', t('bg_relay_unreachable'), { cause: err });
    } finally {
      clearTimeout(timer);
    }
    const parsed = relayAnswer(res, text);
    if (!isRecord(parsed)) throw malformed('answer');
    return parsed;
  }

  // -- accounts and sessions ------------------------------------------------

  /** No user name goes to the relay: the passkey is "MicroChat account" there, the display name stays on this device. */
  async registrationStart(rpId?: string): Promise<{ ceremonyId: string; options: Json }> {
    const r = await this.call('registrationStart', rpId === undefined ? {} : { rpId });
    if (!isRecord(r.options)) throw malformed('registration options');
    return { ceremonyId: str(r, 'ceremonyId', 'ceremony id', 64), options: r.options };
  }

  async registrationFinish(ceremonyId: string, response: unknown): Promise<SessionInfo> {
    return parseSession(await this.call('registrationFinish', { ceremonyId, response: withoutClientSecrets(response) }));
  }

  async loginStart(rpId?: string): Promise<{ ceremonyId: string; options: Json }> {
    const r = await this.call('loginStart', rpId === undefined ? {} : { rpId });
    if (!isRecord(r.options)) throw malformed('login options');
    return { ceremonyId: str(r, 'ceremonyId', 'ceremony id', 64), options: r.options };
  }

  async loginFinish(ceremonyId: string, response: unknown): Promise<SessionInfo> {
    return parseSession(await this.call('loginFinish', { ceremonyId, response: withoutClientSecrets(response) }));
  }

  /** End this session at the relay (signing out). */
  async logout(token: string): Promise<void> {
    await this.call('logout', {}, token);
  }

  /** Delete the session's own account: its passkey credentials, sessions and key packages. */
  async deleteAccount(token: string): Promise<void> {
    await this.call('deleteAccount', {}, token);
  }

  async session(token: string): Promise<{ accountId: string; expiresAt: number }> {
    const r = await this.call('session', undefined, token);
    return { accountId: str(r, 'accountId', 'session', 64), expiresAt: num(r, 'expiresAt', 'session') };
  }

  // -- sealed-sender tokens -------------------------------------------------

  async tokenKeys(): Promise<TokenKeyInfo[]> {
    const r = await this.call('tokenKeys', undefined);
    if (r.suite !== TOKEN_SUITE || !Array.isArray(r.keys)) throw malformed('token key list');
    return r.keys.map((k: unknown) => {
      if (!isRecord(k) || typeof k.issuing !== 'boolean') throw malformed('token key');
      return {
        keyId: str(k, 'keyId', 'token key', 32),
        publicKey: bytes(k, 'publicKey', 'token key', 32),
        issuing: k.issuing,
        acceptUntil: num(k, 'acceptUntil', 'token key'),
      };
    });
  }

  async issueTokens(session: string, blinded: Uint8Array[]): Promise<{ keyId: string; evaluated: Uint8Array[]; proof: Uint8Array }> {
    const r = await this.call('issueTokens', { blinded: blinded.map(toB64) }, session);
    if (!Array.isArray(r.evaluated) || r.evaluated.length !== blinded.length) throw malformed('token issuance');
    const evaluated = r.evaluated.map((e: unknown) => {
      const b = typeof e === 'string' ? fromB64(e) : null;
      if (b === null || b.length !== 32) throw malformed('evaluated element');
      return b;
    });
    return { keyId: str(r, 'keyId', 'token issuance', 32), evaluated, proof: bytes(r, 'proof', 'token proof', 64) };
  }

  async limits(): Promise<{ maxMessageBytes: number; tokenBatchMax: number; fetchBatchMax: number }> {
    const r = await this.call('limits', undefined);
    return {
      maxMessageBytes: num(r, 'maxMessageBytes', 'limits'),
      tokenBatchMax: num(r, 'tokenBatchMax', 'limits'),
      fetchBatchMax: num(r, 'fetchBatchMax', 'limits'),
    };
  }

  // -- mailboxes and queues -------------------------------------------------

  async createMailbox(token: WireToken): Promise<MailboxCredentials> {
    const r = await this.call('createMailbox', { token: tokenFields(token) });
    const mailboxId = str(r, 'mailboxId', 'mailbox', 22);
    const secret = str(r, 'secret', 'mailbox', 43);
    if (!ID.test(mailboxId) || fromB64(secret)?.length !== 32) throw malformed('mailbox');
    return { mailboxId, secret };
  }

  async fetchMailbox(mb: MailboxCredentials, limit?: number): Promise<DeliveredMessage[]> {
    const r = await this.call('fetchMailbox', { ...mailboxFields(mb), ...(limit === undefined ? {} : { limit }) });
    if (!Array.isArray(r.messages)) throw malformed('fetch answer');
    return r.messages.map(parseDelivered);
  }

  async ack(mb: MailboxCredentials, ids: string[]): Promise<number> {
    const r = await this.call('ack', { ...mailboxFields(mb), ids });
    return num(r, 'removed', 'ack answer');
  }

  async deleteMailbox(mb: MailboxCredentials): Promise<void> {
    await this.call('deleteMailbox', mailboxFields(mb));
  }

  // `cap`: the queue capability of the current epoch (queue-capability.ts).
  async registerQueue(queue: Uint8Array, cap: Uint8Array, mb: MailboxCredentials): Promise<void> {
    await this.call('registerQueue', { queue: toB64(queue), cap: toB64(cap), ...mailboxFields(mb) });
  }

  async unregisterQueue(queue: Uint8Array, cap: Uint8Array, mailboxId: string): Promise<void> {
    await this.call('unregisterQueue', { queue: toB64(queue), cap: toB64(cap), mailboxId });
  }

  /**
   * Post to a queue, anonymously: a single-use token and the capability every
   * member shares. `rotateTo` (a Commit): H(Q, C') of the epoch it starts.
   */
  async send(queue: Uint8Array, cap: Uint8Array, token: WireToken, payload: Uint8Array, rotateTo?: string): Promise<string> {
    const r = await this.call('send', {
      queue: toB64(queue),
      cap: toB64(cap),
      token: tokenFields(token),
      payload: toB64(payload),
      ...(rotateTo === undefined ? {} : { rotateTo }),
    });
    return str(r, 'id', 'send answer', 22);
  }

  async deleteQueue(queue: Uint8Array, cap: Uint8Array): Promise<void> {
    await this.call('deleteQueue', { queue: toB64(queue), cap: toB64(cap) });
  }

  // -- the KeyPackage directory and Welcomes (key-package-supply.ts, device-adds.ts) --

  /** Add one-time KeyPackages and/or replace the last-resort one of the session's account. */
  async uploadKeyPackages(session: string, oneTime: Uint8Array[], lastResort?: Uint8Array): Promise<KeyPackageCounts> {
    const r = await this.call('uploadKeyPackages', { keyPackages: oneTime.map(toB64), ...(lastResort === undefined ? {} : { lastResort: toB64(lastResort) }) }, session);
    return parseCounts(r);
  }

  async countKeyPackages(session: string): Promise<KeyPackageCounts> {
    return parseCounts(await this.call('countKeyPackages', undefined, session));
  }

  /** Register SHA-256 of the secret that retires this account's KeyPackages (device-removal.md). */
  async registerRetireHash(session: string, hash: Uint8Array): Promise<void> {
    await this.call('uploadKeyPackages', { retireHash: toB64(hash) }, session);
  }

  /** Delete every KeyPackage of `accountId` for good, with its retire secret (no session: it is another device's account). */
  async retireKeyPackages(accountId: string, secret: Uint8Array): Promise<void> {
    await this.call('retireKeyPackages', { accountId, secret: toB64(secret) });
  }

  /** One KeyPackage of `accountId` (a one-time one while any is left); the relay answers not_found when none. */
  async claimKeyPackage(session: string, accountId: string): Promise<Uint8Array> {
    const r = await this.call('claimKeyPackage', { accountId }, session);
    return bytes(r, 'keyPackage', 'key package');
  }

  /** Post a Welcome to a device's Welcome mailbox, anonymously (a sealed-sender token). */
  async sendWelcome(mailboxId: string, token: WireToken, payload: Uint8Array): Promise<string> {
    const r = await this.call('sendWelcome', { mailboxId, token: tokenFields(token), payload: toB64(payload) });
    return str(r, 'id', 'welcome answer', 22);
  }

  // -- invite blobs (create answers conflict when the id is taken; the others not_found) --

  async createInvite(p: {
    inviteId: string;
    writeKey: Uint8Array;
    ciphertext: Uint8Array;
    expiresAt: number;
    oneTime: boolean;
    token: WireToken;
  }): Promise<void> {
    await this.call('createInvite', {
      token: tokenFields(p.token),
      inviteId: p.inviteId,
      writeKey: toB64(p.writeKey),
      ciphertext: toB64(p.ciphertext),
      expiresAt: p.expiresAt,
      oneTime: p.oneTime,
    });
  }

  async updateInvite(inviteId: string, writeKey: Uint8Array, ciphertext: Uint8Array): Promise<void> {
    await this.call('updateInvite', { writeKey: toB64(writeKey), ciphertext: toB64(ciphertext) }, undefined, { inviteId });
  }

  async getInvite(inviteId: string): Promise<Uint8Array> {
    const r = await this.call('readInvite', undefined, undefined, { inviteId });
    return bytes(r, 'ciphertext', 'invite');
  }

  async deleteInvite(inviteId: string, writeKey: Uint8Array): Promise<void> {
    await this.call('deleteInvite', { writeKey: toB64(writeKey) }, undefined, { inviteId });
  }

  // -- device-link rendezvous (relay/links.ts) --------------------------------

  async openLink(session: string): Promise<LinkSlotAccess & { expiresAt: number }> {
    const r = await this.call('openLink', {}, session);
    const key = bytes(r, 'key', 'link slot', 32);
    if (key.length !== 32) throw malformed('link slot');
    return { slot: linkSlot(r), key, expiresAt: num(r, 'expiresAt', 'link slot') };
  }

  async joinLink(session: string, slot: number): Promise<LinkSlotAccess & { expiresAt: number }> {
    const r = await this.call('joinLink', { slot }, session);
    const key = bytes(r, 'key', 'link slot', 32);
    if (key.length !== 32) throw malformed('link slot');
    return { slot, key, expiresAt: num(r, 'expiresAt', 'link slot') };
  }

  async postLink(access: LinkSlotAccess, payload: Uint8Array): Promise<number> {
    const r = await this.call('postLink', { slot: access.slot, key: toB64(access.key), payload: toB64(payload) });
    return num(r, 'seq', 'link post');
  }

  /** Long-polls up to `waitMs` (keep it well under the request timeout). */
  async fetchLink(access: LinkSlotAccess, after: number, waitMs: number): Promise<{ messages: Uint8Array[]; next: number; joined: boolean; peerClosed: boolean }> {
    const r = await this.call('fetchLink', { slot: access.slot, key: toB64(access.key), after, waitMs });
    if (!Array.isArray(r.messages) || typeof r.joined !== 'boolean' || typeof r.peerClosed !== 'boolean') throw malformed('link fetch');
    const messages = r.messages.map((_: unknown, i: number) => bytes(r.messages as unknown as Json, String(i), 'link message', 64 * 1024));
    const next = num(r, 'next', 'link fetch');
    if (next < after || next !== after + messages.length) throw malformed('link fetch');
    return { messages, next, joined: r.joined, peerClosed: r.peerClosed };
  }

  async closeLink(access: LinkSlotAccess): Promise<void> {
    await this.call('closeLink', { slot: access.slot, key: toB64(access.key) });
  }
}

function parseCounts(r: Json): KeyPackageCounts {
  if (typeof r.lastResort !== 'boolean') throw malformed('key package counts');
  return { oneTime: num(r, 'oneTime', 'key package counts'), lastResort: r.lastResort };
}

function parseSession(r: Json): SessionInfo {
  const token = str(r, 'token', 'session', 64);
  if (!/^[A-Za-z0-9_-]{43}$/.test(token)) throw malformed('session');
  return { accountId: str(r, 'accountId', 'session', 64), token, expiresAt: num(r, 'expiresAt', 'session') };
}

/**
 * A WebAuthn response as the relay may see it. The client extension results
 * carry the PRF output that the passkey lock derives its key from; it is a
 * device secret and must never leave the background, and the relay needs none
 * of the extension results to verify a ceremony.
 */
export function withoutClientSecrets(response: unknown): Json {
  if (!isRecord(response)) return response as Json;
  return { ...response, clientExtensionResults: {} } as Json;
}

/** The relay's answer body as JSON (null when it is not JSON); an error status becomes a RelayApiError with the contract's code. */
export function relayAnswer(res: { ok: boolean; status: number }, text: string): unknown {
  let parsed: unknown = null;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Safe to ignore: an answer that is not JSON stays null and is refused by the caller (error or malformed).
  }
  if (!res.ok) {
    const err = isRecord(parsed) && isRecord(parsed.error) ? parsed.error : {};
    // A code outside the contract is no code at all: the status is all we know.
    const code = isErrorCode(err.code) ? err.code : (`http_${res.status}` as const);
    const message = typeof err.message === 'string' ? err.message.slice(0, 200) : t('bg_relay_answered', res.status);
    throw new RelayApiError(res.status, code, message);
  }
  return parsed;
}
