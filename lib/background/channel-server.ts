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
  type ResponseMessage,
} from '../protocol/channel.ts';
import type { Handlers } from './background-app.ts';
import { reportIfBug } from './failure.ts';
import { t } from '../platform/i18n.ts';

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
  handlers: Handlers;
  snapshot: AppState;
  subscribe(listener: (state: AppState) => void): () => void;
  /** Live message events (new messages, status changes), pushed to every view as they happen. */
  subscribeEvents?(listener: (event: LiveEvent) => void): () => void;
  /** Runs before each request from a view, with its (unparsed) method: use, for the lock's timeout (unlocked-key.ts). */
  beforeRequest?(method: unknown): Promise<void>;
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

/**
 * Register the listeners synchronously (an MV3 worker must, to be woken by a
 * message) and serve them once the backend has loaded its state.
 */
export function serveChannel(runtime: RuntimeLike, ready: Promise<ChannelBackend>): void {
  const failed: ResponseMessage<never> = {
    ok: false,
    error: { code: ErrorCode.Unavailable, message: t('bg_err_could_not_start') },
  };
  runtime.onMessage.addListener((message, sender) => {
    if (!isOwnExtensionPage(runtime, sender)) return undefined; // not for us: let it fall through unanswered
    return ready.then(
      async (backend) => {
        // The request is answered either way (a lock that went wrong shows in the state); our own bug is logged.
        await backend.beforeRequest?.((message as { method?: unknown } | null)?.method).catch((err: unknown) => reportIfBug('checking the lock before a request', err));
        return dispatch(backend.handlers, message);
      },
      () => failed,
    );
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
