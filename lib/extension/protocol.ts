/**
 * The typed channel between the views (popup, side panel) and the background.
 *
 * Views send intents as requests and get one typed response each; they also
 * hold a live subscription (a runtime Port) on which the background pushes the
 * whole view state whenever it changes. Nothing secret ever crosses this
 * channel: `AppState` is what a person may see on screen, nothing more.
 */

export const CHANNEL = 'microchat/v1';
export const LIVE_PORT_NAME = 'microchat/live';

export type RelayReachability = 'unknown' | 'checking' | 'reachable' | 'unreachable';

export interface RelayStatus {
  url: string;
  state: RelayReachability;
  /** Milliseconds since the epoch of the last completed check. */
  checkedAt?: number;
  /** Human-readable reason when unreachable. */
  detail?: string;
}

export interface AppState {
  version: string;
  relay: RelayStatus;
}

/** Every request a view may make, with its parameters and result. */
export interface RequestMap {
  'state.get': { params: null; result: AppState };
  'relay.check': { params: null; result: RelayStatus };
  'settings.setRelayUrl': { params: { url: string }; result: AppState };
}

export type Method = keyof RequestMap;
export type Params<M extends Method> = RequestMap[M]['params'];
export type Result<M extends Method> = RequestMap[M]['result'];

export interface RequestMessage<M extends Method = Method> {
  channel: typeof CHANNEL;
  method: M;
  params: Params<M>;
}

export const ErrorCode = {
  BadRequest: 'bad-request',
  InvalidInput: 'invalid-input',
  Forbidden: 'forbidden',
  Unavailable: 'unavailable',
  Internal: 'internal',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface ChannelErrorBody {
  code: ErrorCode;
  message: string;
}

export type ResponseMessage<T> = { ok: true; result: T } | { ok: false; error: ChannelErrorBody };

export type LiveEvent = { type: 'state'; state: AppState };

/** An error a handler throws on purpose; its code and message reach the view. */
export class ChannelError extends Error {
  override readonly name = 'ChannelError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const METHODS: ReadonlySet<string> = new Set<Method>(['state.get', 'relay.check', 'settings.setRelayUrl']);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Strictly parse an incoming request. Anything that is not exactly one of our
 * requests is rejected, so a confused or hostile sender cannot reach a handler
 * with unexpected shapes.
 */
export function parseRequest(raw: unknown): RequestMessage {
  if (!isRecord(raw) || raw.channel !== CHANNEL) throw new ChannelError(ErrorCode.BadRequest, 'not a MicroChat request');
  const { method, params } = raw;
  if (typeof method !== 'string' || !METHODS.has(method)) throw new ChannelError(ErrorCode.BadRequest, 'unknown method');
  switch (method as Method) {
    case 'state.get':
    case 'relay.check':
      if (params !== null) throw new ChannelError(ErrorCode.BadRequest, `${method} takes no parameters`);
      return { channel: CHANNEL, method: method as Method, params: null } as RequestMessage;
    case 'settings.setRelayUrl':
      if (!isRecord(params) || typeof params.url !== 'string' || Object.keys(params).length !== 1) {
        throw new ChannelError(ErrorCode.BadRequest, 'settings.setRelayUrl takes { url: string }');
      }
      return { channel: CHANNEL, method: 'settings.setRelayUrl', params: { url: params.url } };
  }
}
