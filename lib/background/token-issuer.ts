/**
 * Where the wallet gets a batch of tokens evaluated: the only place the
 * background names its account to the relay after sign-in.
 *
 * In the extension this is the issuance socket (relay/issue-socket.ts): a
 * WebSocket opened for one batch and closed after it. It is never the
 * delivery socket (relay-api.ts `RelayConnection`, which never
 * authenticates) and never one of the browser's pooled HTTP connections
 * (which also carry the anonymous mailbox and send requests). Without a
 * WebSocket (some tests) it falls back to the HTTP route.
 */
import { fromB64, toB64 } from '../bytes.ts';
import { ISSUE_SOCKET_PATH, isErrorCode, type IssueFrame } from '../protocol/relay.ts';
import { RelayApiError, type RelayApi, type TokenKeyInfo, type WebSocketConstructor } from './relay-api.ts';
import { closeQuietly } from './websocket-like.ts';
import { t } from '../platform/i18n.ts';

export interface IssuedBatch {
  keyId: string;
  evaluated: Uint8Array[];
  proof: Uint8Array;
  /** The key list the relay showed with this batch. */
  keys: TokenKeyInfo[];
}

export type TokenIssuer = (session: string, blinded: Uint8Array[]) => Promise<IssuedBatch>;

/** Over HTTP: the published list and the batch (two pooled requests). */
export function httpIssuer(api: () => RelayApi): TokenIssuer {
  return async (session, blinded) => {
    const a = api();
    const [keys, issued] = await Promise.all([a.tokenKeys(), a.issueTokens(session, blinded)]);
    return { ...issued, keys };
  };
}

const ISSUE_TIMEOUT_MS = 15_000;

function malformed(what: string): RelayApiError {
  return new RelayApiError(502, 'malformed', `the relay sent a malformed ${what}`);
}

function b64Exact(v: unknown, n: number, what: string): Uint8Array {
  const b = typeof v === 'string' && v.length <= 4 * n ? fromB64(v) : null;
  if (b === null || b.length !== n) throw malformed(what);
  return b;
}

/** Strict reader of the socket's one answer (hostile bytes: every field checked). */
export function parseIssued(data: unknown, count: number): IssuedBatch {
  let f: unknown;
  try {
    f = typeof data === 'string' ? JSON.parse(data) : null;
  } catch {
    f = null; // not JSON: malformed, refused just below
  }
  if (typeof f !== 'object' || f === null || Array.isArray(f)) throw malformed('issuance answer');
  const o = f as Record<string, unknown>;
  if (o.t === 'error') {
    // A code outside the relay contract is no code at all.
    const code = isErrorCode(o.code) ? o.code : 'http_400';
    throw new RelayApiError(code === 'unauthenticated' ? 401 : 400, code, typeof o.message === 'string' ? o.message.slice(0, 200) : t('bg_err_relay_refused'));
  }
  if (o.t !== 'issued' || typeof o.keyId !== 'string' || o.keyId.length === 0 || o.keyId.length > 32) throw malformed('issuance answer');
  if (!Array.isArray(o.evaluated) || o.evaluated.length !== count || !Array.isArray(o.keys) || o.keys.length > 16) throw malformed('issuance answer');
  const keys = o.keys.map((k: unknown): TokenKeyInfo => {
    if (typeof k !== 'object' || k === null) throw malformed('token key');
    const r = k as Record<string, unknown>;
    if (typeof r.keyId !== 'string' || r.keyId.length === 0 || r.keyId.length > 32) throw malformed('token key');
    if (typeof r.issuing !== 'boolean' || typeof r.acceptUntil !== 'number' || !Number.isSafeInteger(r.acceptUntil)) throw malformed('token key');
    return { keyId: r.keyId, publicKey: b64Exact(r.publicKey, 32, 'token key'), issuing: r.issuing, acceptUntil: r.acceptUntil };
  });
  return {
    keyId: o.keyId,
    evaluated: o.evaluated.map((e: unknown) => b64Exact(e, 32, 'evaluated element')),
    proof: b64Exact(o.proof, 64, 'token proof'),
    keys,
  };
}

/** One short-lived issuance socket per batch. */
export function socketIssuer(url: () => string, WebSocketImpl: WebSocketConstructor): TokenIssuer {
  return (session, blinded) =>
    new Promise<IssuedBatch>((resolve, reject) => {
      let settled = false;
      let ws: InstanceType<WebSocketConstructor>;
      try {
        ws = new WebSocketImpl(url().replace(/^http/, 'ws') + ISSUE_SOCKET_PATH);
      } catch (cause) {
        reject(new RelayApiError(0, 'unreachable', t('bg_relay_unreachable'), { cause }));
        return;
      }
      const settle = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        closeQuietly(ws, 1000, 'done');
        fn();
      };
      const unreachable = (): void => settle(() => reject(new RelayApiError(0, 'unreachable', t('bg_relay_unreachable'))));
      const timer = setTimeout(unreachable, ISSUE_TIMEOUT_MS);
      ws.onopen = () => ws.send(JSON.stringify({ t: 'issue', session, blinded: blinded.map(toB64) } satisfies IssueFrame));
      ws.onmessage = (ev) => {
        try {
          const batch = parseIssued(ev.data, blinded.length);
          settle(() => resolve(batch));
        } catch (err) {
          settle(() => reject(err));
        }
      };
      ws.onerror = unreachable;
      ws.onclose = unreachable;
    });
}
