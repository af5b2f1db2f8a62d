/** A fake `runtime` for the view channel's server (channel-server.ts): deliver a message or connect a port by hand. */
import type { PortLike, RuntimeLike, SenderLike } from '../../lib/background/channel-server.ts';

export const EXTENSION_ID = 'abcdefghijklmnopabcdefghijklmnop';
export const EXTENSION_ORIGIN = `chrome-extension://${EXTENSION_ID}/`;

export function fakeRuntime(): { runtime: RuntimeLike; message: (m: unknown, s: SenderLike) => Promise<unknown> | undefined; connect: (p: PortLike) => void } {
  let onMessage: ((m: unknown, s: SenderLike) => Promise<unknown> | undefined) | undefined;
  let onConnect: ((p: PortLike) => void) | undefined;
  const runtime: RuntimeLike = {
    id: EXTENSION_ID,
    getURL: (p) => EXTENSION_ORIGIN + p.replace(/^\//, ''),
    onMessage: { addListener: (fn) => void (onMessage = fn) },
    onConnect: { addListener: (fn) => void (onConnect = fn) },
  };
  return { runtime, message: (m, s) => onMessage!(m, s), connect: (p) => onConnect!(p) };
}
