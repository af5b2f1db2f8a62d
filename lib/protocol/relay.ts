/**
 * The relay contract: every HTTP route with its request and answer, the
 * WebSocket frames in both directions, and the error codes. The relay
 * (relay/app.ts, relay/ws.ts, relay/issue-socket.ts), the extension's client
 * (lib/background/relay-api.ts, relay-connection.ts) and the test client
 * (tests/relay/support/client.ts) are typed from this one file.
 *
 * These are the shapes on the wire: byte strings are unpadded base64url text
 * (`B64`, see lib/bytes.ts), and nothing here is trusted by the side that
 * receives it. The relay reads every field with its strict readers
 * (relay/encoding.ts); the client checks every answer before use.
 * A request body or client frame holds exactly the keys its type below names
 * (optional ones may be left out; every frame may carry `t` and `rid`): the
 * relay refuses any other key with `bad_request`, nested `token` objects
 * included. Only the WebAuthn `response` object is passed to WebAuthn as is.
 *
 * Imports nothing: the relay runs this file under Deno, and no layer above
 * the protocol may leak into it.
 */

/** Unpadded base64url of a byte string (canonical: one spelling per byte string). */
export type B64 = string;
/** An opaque id the relay minted: base64url of 16 random bytes (22 characters). */
export type RelayId = string;

// ---------------------------------------------------------------------------
// Error codes

/**
 * Every answer that is not a success carries one of these codes; the HTTP
 * status follows from the code. "Does not exist" and "not allowed" share
 * `not_found`, so nobody can probe which accounts, queues or mailboxes exist.
 */
export const ErrorCode = {
  badRequest: 'bad_request',
  unauthenticated: 'unauthenticated',
  notFound: 'not_found',
  tokenInvalid: 'token_invalid',
  tokenSpent: 'token_spent',
  rateLimited: 'rate_limited',
  quotaExceeded: 'quota_exceeded',
  tooLarge: 'too_large',
  capacity: 'capacity',
  ceremonyFailed: 'ceremony_failed',
  methodNotAllowed: 'method_not_allowed',
  conflict: 'conflict',
  /** A queue operation presented the capability of the epoch before the queue's current one. */
  staleCapability: 'stale_capability',
  internal: 'internal',
  /**
   * Busy for a moment (the relay's wake-up bus is behind): nothing was stored
   * and no token was spent; send again shortly (with a fresh token: one the
   * relay has seen must not pay for another send, or the two are linked).
   */
  tryAgain: 'try_again',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export const ERROR_STATUS: Readonly<Record<ErrorCode, number>> = {
  bad_request: 400,
  unauthenticated: 401,
  not_found: 404,
  token_invalid: 403,
  token_spent: 409,
  rate_limited: 429,
  quota_exceeded: 429,
  too_large: 413,
  capacity: 503,
  ceremony_failed: 400,
  method_not_allowed: 405,
  conflict: 409,
  stale_capability: 409,
  internal: 500,
  try_again: 503,
};

const ERROR_CODES: ReadonlySet<string> = new Set(Object.values(ErrorCode));

export function isErrorCode(v: unknown): v is ErrorCode {
  return typeof v === 'string' && ERROR_CODES.has(v);
}

/** The body of every HTTP answer that is not a success. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string };
}

// ---------------------------------------------------------------------------
// Shapes shared by several routes and frames

/** A single-use sealed-sender token (a VOPRF input and its output under key `keyId`). */
export interface WireToken {
  keyId: string;
  input: B64;
  output: B64;
}

/** An anonymous mailbox: its id and its 32-byte read secret. */
export interface MailboxCredentials {
  mailboxId: RelayId;
  secret: B64;
}

/** A delivered message, as fetched or pushed. */
export interface WireMessage {
  id: RelayId;
  kind: 'group' | 'welcome';
  payload: B64;
}

export interface WireSession {
  accountId: string;
  /** base64url of 32 bytes: the bearer token of the session. */
  token: string;
  expiresAt: number;
}

export interface WireTokenKey {
  keyId: string;
  publicKey: B64;
  /** Whether tokens are being issued under this key now. */
  issuing: boolean;
  acceptUntil: number;
}

/** The VOPRF suite every token key belongs to. */
export const TOKEN_SUITE = 'ristretto255-SHA512';

export interface WireIssued {
  keyId: string;
  evaluated: B64[];
  /** The batched DLEQ proof that every element was evaluated under `keyId`. */
  proof: B64;
}

export interface KeyPackageCounts {
  oneTime: number;
  lastResort: boolean;
}

/** A queue operation: the opaque queue id Q and the capability C of the current epoch. */
export interface QueueAccess {
  queue: B64;
  cap: B64;
}

export interface Ok {
  ok: true;
}

/** A WebAuthn response as the client sends it (relay/accounts.ts checks it). */
export type WebAuthnJson = Record<string, unknown>;
/** WebAuthn ceremony options (a JSON object) for the browser's credentials API. */
export type WebAuthnOptions = object;

export interface RelayLimits {
  maxFrameBytes: number;
  maxMessageBytes: number;
  maxMessagesPerSecond: number;
  maxConnections: number;
  maxMailboxesPerConnection: number;
  maxMailboxesPerQueue: number;
  maxQueuesPerMailbox: number;
  maxPendingMessagesPerQueue: number;
  maxPendingBytesPerQueue: number;
  maxBufferedBytes: number;
  tokenBatchMax: number;
  tokenDailyQuota: number;
  tokenIssueRequestsPerMinute: number;
  keyPackagesMaxPerAccount: number;
  keyPackageClaimsPerMinute: number;
  keyPackageMaxBytes: number;
  messageTtlSeconds: number;
  fetchBatchMax: number;
  tokenSuite: typeof TOKEN_SUITE;
}

// ---------------------------------------------------------------------------
// HTTP routes

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/**
 * Every HTTP route by name. A `:param` segment is filled by `routePath`.
 * `session: true` routes take `authorization: Bearer <session token>`.
 */
export const ROUTES = {
  health: { method: 'GET', path: '/healthz' },
  limits: { method: 'GET', path: '/v1/limits' },

  registrationStart: { method: 'POST', path: '/v1/accounts/register/start' },
  registrationFinish: { method: 'POST', path: '/v1/accounts/register/finish' },
  loginStart: { method: 'POST', path: '/v1/sessions/start' },
  loginFinish: { method: 'POST', path: '/v1/sessions/finish' },
  logout: { method: 'POST', path: '/v1/sessions/logout', session: true },
  deleteAccount: { method: 'POST', path: '/v1/accounts/delete', session: true },
  session: { method: 'GET', path: '/v1/session', session: true },

  uploadKeyPackages: { method: 'POST', path: '/v1/key-packages', session: true },
  countKeyPackages: { method: 'GET', path: '/v1/key-packages', session: true },
  claimKeyPackage: { method: 'POST', path: '/v1/key-packages/claim', session: true },
  /** No session: another device of the same person retires a removed device's packages (docs/device-removal.md). */
  retireKeyPackages: { method: 'POST', path: '/v1/key-packages/retire' },

  tokenKeys: { method: 'GET', path: '/v1/tokens/keys' },
  issueTokens: { method: 'POST', path: '/v1/tokens/issue', session: true },

  createMailbox: { method: 'POST', path: '/v1/mailboxes' },
  fetchMailbox: { method: 'POST', path: '/v1/mailboxes/fetch' },
  ack: { method: 'POST', path: '/v1/mailboxes/ack' },
  deleteMailbox: { method: 'POST', path: '/v1/mailboxes/delete' },
  sendWelcome: { method: 'POST', path: '/v1/mailboxes/welcome' },

  registerQueue: { method: 'POST', path: '/v1/queues/register' },
  unregisterQueue: { method: 'POST', path: '/v1/queues/unregister' },
  send: { method: 'POST', path: '/v1/queues/send' },
  deleteQueue: { method: 'POST', path: '/v1/queues/delete' },

  createInvite: { method: 'POST', path: '/v1/invites' },
  readInvite: { method: 'GET', path: '/v1/invites/:inviteId' },
  updateInvite: { method: 'PUT', path: '/v1/invites/:inviteId' },
  deleteInvite: { method: 'DELETE', path: '/v1/invites/:inviteId' },

  openLink: { method: 'POST', path: '/v1/links', session: true },
  joinLink: { method: 'POST', path: '/v1/links/join', session: true },
  postLink: { method: 'POST', path: '/v1/links/post' },
  fetchLink: { method: 'POST', path: '/v1/links/fetch' },
  closeLink: { method: 'POST', path: '/v1/links/close' },
} as const satisfies Record<string, { method: HttpMethod; path: string; session?: true }>;

export type RouteName = keyof typeof ROUTES;

/** What each route takes (the JSON body; path parameters are in `routePath`) and answers. */
export interface RouteTypes {
  health: { request: undefined; response: Ok };
  limits: { request: undefined; response: RelayLimits };

  /** `rpId`: the WebAuthn relying party, when not the relay's default. No user name goes to the relay. */
  registrationStart: { request: { rpId?: string }; response: { ceremonyId: RelayId; options: WebAuthnOptions } };
  registrationFinish: { request: { ceremonyId: RelayId; response: WebAuthnJson }; response: WireSession };
  loginStart: { request: { rpId?: string }; response: { ceremonyId: RelayId; options: WebAuthnOptions } };
  loginFinish: { request: { ceremonyId: RelayId; response: WebAuthnJson }; response: WireSession };
  logout: { request: Record<string, never>; response: Ok };
  deleteAccount: { request: Record<string, never>; response: Ok };
  session: { request: undefined; response: { accountId: string; expiresAt: number } };

  /** `retireHash`: SHA-256 of the secret that retires this account's packages (retireKeyPackages). */
  uploadKeyPackages: { request: { keyPackages?: B64[]; lastResort?: B64; retireHash?: B64 }; response: KeyPackageCounts };
  countKeyPackages: { request: undefined; response: KeyPackageCounts };
  claimKeyPackage: { request: { accountId: string }; response: { keyPackage: B64 } };
  /** Deletes every package of `accountId` for good, when SHA-256(`secret`) is the hash it registered; else `unauthenticated`. */
  retireKeyPackages: { request: { accountId: string; secret: B64 }; response: Ok };

  tokenKeys: { request: undefined; response: { suite: typeof TOKEN_SUITE; keys: WireTokenKey[] } };
  issueTokens: { request: { blinded: B64[] }; response: WireIssued };

  createMailbox: { request: { token: WireToken }; response: MailboxCredentials };
  fetchMailbox: { request: MailboxCredentials & { limit?: number }; response: { messages: WireMessage[] } };
  ack: { request: MailboxCredentials & { ids: RelayId[] }; response: { removed: number } };
  deleteMailbox: { request: MailboxCredentials; response: Ok };
  sendWelcome: { request: { mailboxId: RelayId; token: WireToken; payload: B64 }; response: { id: RelayId } };

  registerQueue: { request: QueueAccess & MailboxCredentials; response: Ok };
  unregisterQueue: { request: QueueAccess & { mailboxId: RelayId }; response: Ok };
  /** `rotateTo` (a Commit): H(Q, C') of the epoch it starts. */
  send: { request: QueueAccess & { token: WireToken; payload: B64; rotateTo?: B64 }; response: { id: RelayId } };
  deleteQueue: { request: QueueAccess; response: Ok };

  createInvite: {
    request: { inviteId: string; writeKey: B64; ciphertext: B64; expiresAt: number; oneTime: boolean; token: WireToken };
    response: Ok;
  };
  readInvite: { request: undefined; response: { ciphertext: B64 } };
  updateInvite: { request: { writeKey: B64; ciphertext: B64 }; response: Ok };
  deleteInvite: { request: { writeKey: B64 }; response: Ok };

  /**
   * Device-link rendezvous (relay/links.ts): `slot` is a short number the
   * link code carries; `key` a random 32-byte party key for the other calls.
   */
  openLink: { request: Record<string, never>; response: { slot: number; key: B64; expiresAt: number } };
  joinLink: { request: { slot: number }; response: { key: B64; expiresAt: number } };
  postLink: { request: LinkAccess & { payload: B64 }; response: { seq: number } };
  /** `after`: the `next` of the previous answer (acknowledges what came before); `waitMs`: long-poll. */
  fetchLink: {
    request: LinkAccess & { after: number; waitMs?: number };
    response: { messages: B64[]; next: number; joined: boolean; peerClosed: boolean };
  };
  closeLink: { request: LinkAccess; response: Ok };
}

/** A party's access to a link slot. */
export interface LinkAccess {
  slot: number;
  key: B64;
}

export type RequestOf<R extends RouteName> = RouteTypes[R]['request'];
export type ResponseOf<R extends RouteName> = RouteTypes[R]['response'];

type ParamNames<P extends string> = P extends `${string}:${infer Name}/${infer Rest}`
  ? Name | ParamNames<`/${Rest}`>
  : P extends `${string}:${infer Name}`
    ? Name
    : never;
/** The path parameters a route needs (`{ inviteId }` for the invite routes, nothing for the others). */
export type ParamsOf<R extends RouteName> = { [K in ParamNames<(typeof ROUTES)[R]['path']>]: string };

/** The arguments after the route name: the path parameters when the route has any, else none. */
export type ParamArgs<R extends RouteName> = keyof ParamsOf<R> extends never ? [] : [ParamsOf<R>];

/** The concrete path of a route, parameters URL-encoded. */
export function routePath<R extends RouteName>(route: R, ...params: ParamArgs<R>): string {
  const values = (params[0] ?? {}) as Record<string, string>;
  return ROUTES[route].path.replace(/:([A-Za-z]+)/g, (_, name: string) => encodeURIComponent(values[name] ?? ''));
}

// ---------------------------------------------------------------------------
// The delivery socket (GET /v1/ws): JSON text frames

export const DELIVERY_SOCKET_PATH = '/v1/ws';

/** Echoed in the answer to the frame that carried it. */
export type Rid = string | number;

/**
 * Client → relay. Every frame may carry `rid`.
 *   sub     → ok, then a msg for every pending message
 *   unsub   → ok
 *   fetch   → ok, then pending messages again as msg (after acking a page)
 *   ack     → ok with `removed`
 *   send    → sent (only once committed)
 *   welcome → sent
 *   ping    → pong
 */
export type ClientFrame = { rid?: Rid } & (
  | ({ t: 'sub' } & MailboxCredentials)
  | { t: 'unsub'; mailboxId: RelayId }
  | { t: 'fetch'; mailboxId: RelayId }
  | { t: 'ack'; mailboxId: RelayId; ids: RelayId[] }
  | ({ t: 'send' } & RequestOf<'send'>)
  | ({ t: 'welcome' } & RequestOf<'sendWelcome'>)
  | { t: 'ping' }
);

/** Relay → client. `msg` is pushed without a rid; `error` answers a frame (with its rid) or the connection. */
export type ServerFrame =
  | { t: 'ok'; rid?: Rid; removed?: number }
  | { t: 'sent'; rid?: Rid; id: RelayId }
  | { t: 'pong'; rid?: Rid }
  | ({ t: 'msg'; mailboxId: RelayId } & WireMessage)
  | { t: 'error'; rid?: Rid; code: ErrorCode; message: string };

export type ClientFrameType = ClientFrame['t'];
export type ServerFrameType = ServerFrame['t'];

// ---------------------------------------------------------------------------
// The issuance socket (GET /v1/tokens/socket): one batch, then closed

export const ISSUE_SOCKET_PATH = '/v1/tokens/socket';

export interface IssueFrame {
  t: 'issue';
  session: string;
  blinded: B64[];
}

/** `keys`: the published key list (as GET /v1/tokens/keys) the proof is checked against. */
export type IssueAnswerFrame = ({ t: 'issued'; keys: WireTokenKey[] } & WireIssued) | { t: 'error'; code: ErrorCode; message: string };
