/**
 * The view side of the channel: typed requests and a live subscription that
 * reconnects when the background restarts (a service worker may be stopped
 * at any time; the port then disconnects).
 */
import { browser } from 'wxt/browser';
import { t } from '../platform/i18n.ts';
import {
  CHANNEL,
  ChannelError,
  ErrorCode,
  LIVE_PORT_NAME,
  type LiveEvent,
  type Method,
  type Params,
  type RequestMessage,
  type ResponseMessage,
  type Result,
  type ViewPresence,
} from '../protocol/channel.ts';

export async function request<M extends Method>(method: M, params: Params<M>): Promise<Result<M>> {
  const message: RequestMessage<M> = { channel: CHANNEL, method, params };
  let response: ResponseMessage<Result<M>> | undefined;
  try {
    response = (await browser.runtime.sendMessage(message)) as ResponseMessage<Result<M>> | undefined;
  } catch (err) {
    throw new ChannelError(ErrorCode.Unavailable, t('channel_starting'), { cause: err });
  }
  if (!response) throw new ChannelError(ErrorCode.Unavailable, t('channel_no_answer'));
  if (!response.ok) throw new ChannelError(response.error.code, response.error.message);
  return response.result;
}

/** The presence this page last reported: told again on every new port (after the background restarted). */
let presence: ViewPresence | null = null;
const ports = new Set<ReturnType<typeof browser.runtime.connect>>();

/** Tell the background what this page shows and whether it is visible (notification-policy.ts). */
export function present(next: ViewPresence): void {
  presence = next;
  for (const p of ports) p.postMessage(next);
}

/** Subscribe to live events; returns an unsubscribe function. */
export function subscribe(onEvent: (event: LiveEvent) => void, retryMs = 500): () => void {
  let closed = false;
  let port: ReturnType<typeof browser.runtime.connect> | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const connect = (): void => {
    if (closed) return;
    const p = browser.runtime.connect({ name: LIVE_PORT_NAME });
    port = p;
    ports.add(p);
    if (presence !== null) p.postMessage(presence);
    p.onDisconnect.addListener(() => ports.delete(p));
    port.onMessage.addListener((msg: unknown) => onEvent(msg as LiveEvent));
    port.onDisconnect.addListener(() => {
      port = undefined;
      if (!closed) timer = setTimeout(connect, retryMs);
    });
  };
  connect();

  return () => {
    closed = true;
    if (timer) clearTimeout(timer);
    if (port !== undefined) ports.delete(port);
    port?.disconnect();
  };
}
