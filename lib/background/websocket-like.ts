/**
 * The WebSocket as the background uses it: the browser's own, or the `ws`
 * package in Node tests. Both are driven through these few members only.
 */

/** The parts of the WHATWG WebSocket we use (the browser's, or `ws` in Node tests). */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: unknown) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
}
export type WebSocketConstructor = new (url: string) => WebSocketLike;

const ignore = (): void => {};

/**
 * Close a socket we are done with, so that nothing it does afterwards reaches
 * us. Closing one still connecting aborts the handshake, and the socket then
 * reports an error: a browser drops it when nobody listens, but `ws` (an
 * EventEmitter) throws an 'error' nobody listens to as an uncaught exception,
 * so the error handler is left as a no-op rather than removed.
 */
export function closeQuietly(ws: WebSocketLike, code?: number, reason?: string): void {
  ws.onopen = ws.onclose = ws.onmessage = null;
  ws.onerror = ignore;
  try {
    ws.close(code, reason);
  } catch {
    // close() throws only on a socket already closing or closed, which is what we want.
  }
}
