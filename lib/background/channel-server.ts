/**
 * The background side of the view channel. Only our own extension pages may
 * talk to it: a message from a content script, another extension or a web page
 * (its sender URL is not under our extension origin) is refused.
 */
import {
  ChannelError,
  ErrorCode,
  LIVE_PORT_NAME,
  parseRequest,
  parsePresence,
  type AppState,
  type ViewPresence,
  type LiveEvent,
  type Method,
  type Params,
  type ResponseMessage,
  type Result,
} from '../protocol/channel.ts';
import { reportIfBug } from './failure.ts';
import { t } from '../platform/i18n.ts';

/** One handler per request method: the backend's side of the view channel. */
export type Handlers = { [M in Method]: (params: Params<M>) => Promise<Result<M>> };

export interface SenderLike {
  id?: string;
  url?: string;
}

export interface PortLike {
  name: string;
  sender?: SenderLike;
  postMessage(message: unknown): void;
  disconnect(): void;
  onDisconnect: { addListener(fn: () => void): void };
  /** Messages from the view (its presence); optional so a port that never speaks needs none. */
  onMessage?: { addListener(fn: (message: unknown) => void): void };
}

export interface RuntimeLike {
  id: string;
  getURL(path: string): string;
  onMessage: { addListener(fn: (message: unknown, sender: SenderLike) => Promise<unknown> | undefined): void };
  onConnect: { addListener(fn: (port: PortLike) => void): void };
}

export interface ChannelBackend {
  /**
   * Answer one raw request from a view (answerRequest). The backend answers it itself: it may be another script
   * than this server's (lib/background/engine.ts), and only its own code knows its own error classes.
   */
  handle(raw: unknown): Promise<ResponseMessage<unknown>>;
  snapshot: AppState;
  subscribe(listener: (state: AppState) => void): () => void;
  /** Live message events (new messages, status changes), pushed to every view as they happen. */
  subscribeEvents?(listener: (event: LiveEvent) => void): () => void;
  /** What a view shows and whether it is visible, per port; `null` once the port is gone (notification-policy.ts). */
  presence?(view: unknown, presence: ViewPresence | null): void;
  /** A conversation a notification click asked a side panel to show, taken once by the next view to connect. */
  takeOpenRequest?(): string | undefined;
}

export function isOwnExtensionPage(runtime: Pick<RuntimeLike, 'id' | 'getURL'>, sender: SenderLike | undefined): boolean {
  return sender?.id === runtime.id && typeof sender.url === 'string' && sender.url.startsWith(runtime.getURL('/'));
}

/** Run one request through its handler and wrap the outcome; never throws. */
export async function dispatch(handlers: Handlers, raw: unknown): Promise<ResponseMessage<unknown>> {
  try {
    const request = parseRequest(raw);
    const handler = handlers[request.method] as (params: unknown) => Promise<unknown>;
    return { ok: true, result: await handler(request.params) };
  } catch (err) {
    if (err instanceof ChannelError) return { ok: false, error: { code: err.code, message: err.message } };
    console.error('MicroChat background: request failed', err instanceof Error ? err.name : typeof err);
    return { ok: false, error: { code: ErrorCode.Internal, message: t('bg_err_internal') } };
  }
}

/** The state kept for a wake, and how to ask for the backend that is loaded only on need (serveChannel). */
export interface EarlyState {
  state: Promise<AppState | undefined>;
  needed(): void;
}

/**
 * A backend's answer to one raw request: `beforeRequest` first, with the request's (unparsed) method (the lock's
 * timeout counts use, unlocked-key.ts), then its handler. Never throws.
 */
export async function answerRequest(backend: { handlers: Handlers; beforeRequest?(method: unknown): Promise<void> }, raw: unknown): Promise<ResponseMessage<unknown>> {
  // The request is answered either way (a lock that went wrong shows in the state); our own bug is logged.
  await backend.beforeRequest?.((raw as { method?: unknown } | null)?.method).catch((err: unknown) => reportIfBug('checking the lock before a request', err));
  return dispatch(backend.handlers, raw);
}

/** Whether a raw request asks for the state (the one question a kept state can answer). */
function asksForState(raw: unknown): boolean {
  try {
    return parseRequest(raw).method === 'state.get';
  } catch {
    return false;
  }
}

/**
 * Register the listeners synchronously (an MV3 worker must, to be woken by a
 * message) and serve them once the backend has loaded its state.
 *
 * `early.state` is the state kept at rest for a wake (wake-state.ts), when
 * there is one: until the backend is ready it answers `state.get` and is the
 * first state a live view is sent. Any other request waits for the backend,
 * and first calls `early.needed()` (the backend may be loaded only on need);
 * once ready, the backend sends every live view its own state.
 */
export function serveChannel(runtime: RuntimeLike, ready: Promise<ChannelBackend>, early?: EarlyState): void {
  const failed: ResponseMessage<never> = {
    ok: false,
    error: { code: ErrorCode.Unavailable, message: t('bg_err_could_not_start') },
  };
  let started = false;
  ready.then(
    () => void (started = true),
    () => void (started = true),
  );
  const fromBackend = (message: unknown): Promise<ResponseMessage<unknown>> =>
    ready.then(
      (backend) => backend.handle(message),
      () => failed,
    );
  const askBackend = (message: unknown): Promise<ResponseMessage<unknown>> => {
    early?.needed();
    return fromBackend(message);
  };
  runtime.onMessage.addListener((message, sender) => {
    if (!isOwnExtensionPage(runtime, sender)) return undefined; // not for us: let it fall through unanswered
    if (early === undefined || started || !asksForState(message)) return askBackend(message);
    return early.state.then((state): ResponseMessage<unknown> | Promise<ResponseMessage<unknown>> => (state !== undefined && !started ? { ok: true, result: state } : askBackend(message)));
  });

  runtime.onConnect.addListener((port) => {
    if (port.name !== LIVE_PORT_NAME || !isOwnExtensionPage(runtime, port.sender)) {
      port.disconnect();
      return;
    }
    const send = (state: AppState): void => {
      const event: LiveEvent = { type: 'state', state };
      port.postMessage(event);
    };
    let unsubscribe: (() => void) | undefined;
    let unsubscribeEvents: (() => void) | undefined;
    let gone = false;
    // The port itself is the view's identity: its presence lasts exactly as long as it stays connected,
    // so a view that closes or crashes without a word stops suppressing notifications.
    let told: ViewPresence | null = null;
    let backendReady: ChannelBackend | undefined;
    port.onMessage?.addListener((message) => {
      const presence = parsePresence(message);
      if (presence === null || gone) return;
      told = presence;
      backendReady?.presence?.(port, presence);
    });
    port.onDisconnect.addListener(() => {
      gone = true;
      unsubscribe?.();
      unsubscribeEvents?.();
      backendReady?.presence?.(port, null);
    });
    // Best effort: without a kept state the view waits for the backend's.
    void early?.state.then((state) => {
      if (state !== undefined && !gone && !started) send(state);
    });
    ready.then(
      (backend) => {
        if (gone) return;
        backendReady = backend;
        if (told !== null) backend.presence?.(port, told);
        unsubscribe = backend.subscribe(send);
        unsubscribeEvents = backend.subscribeEvents?.((event) => port.postMessage(event));
        send(backend.snapshot);
        const open = backend.takeOpenRequest?.();
        if (open !== undefined) port.postMessage({ type: 'open', conversationId: open } satisfies LiveEvent);
      },
      () => port.disconnect(),
    );
  });
}
