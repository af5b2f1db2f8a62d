/**
 * What a view shows reaches the background over its live port, strictly
 * parsed, and ends with the port: a side panel closed (or crashed) without a
 * word must not keep a conversation "on screen" and silence its
 * notifications forever. A notification click's conversation reaches a panel
 * that connects just after.
 */
import { describe, expect, it } from 'vitest';
import { LIVE_PORT_NAME, parsePresence, parseRequest, CHANNEL, type AppState, type ViewPresence } from '../../lib/protocol/channel.ts';
import { serveChannel, type ChannelBackend, type PortLike, type RuntimeLike } from '../../lib/background/channel-server.ts';

const ID = 'abcdefghijklmnopabcdefghijklmnop';
const ORIGIN = `chrome-extension://${ID}/`;

function fakePort(url = `${ORIGIN}sidepanel.html`) {
  const onMessage: ((m: unknown) => void)[] = [];
  const onDisconnect: (() => void)[] = [];
  const posted: unknown[] = [];
  const port: PortLike = {
    name: LIVE_PORT_NAME,
    sender: { id: ID, url },
    postMessage: (m) => void posted.push(m),
    disconnect: () => undefined,
    onDisconnect: { addListener: (fn) => void onDisconnect.push(fn) },
    onMessage: { addListener: (fn) => void onMessage.push(fn) },
  };
  return { port, posted, say: (m: unknown) => onMessage.forEach((f) => f(m)), drop: () => onDisconnect.forEach((f) => f()) };
}

function serve(backend: Partial<ChannelBackend>) {
  let onConnect: ((p: PortLike) => void) | undefined;
  const runtime: RuntimeLike = {
    id: ID,
    getURL: (p) => ORIGIN + p.replace(/^\//, ''),
    onMessage: { addListener: () => undefined },
    onConnect: { addListener: (fn) => void (onConnect = fn) },
  };
  const full = { handle: () => Promise.reject(new Error('no requests in this test')), snapshot: {} as AppState, subscribe: () => () => undefined, ...backend };
  serveChannel(runtime, Promise.resolve(full as ChannelBackend));
  return (p: PortLike) => onConnect!(p);
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('view presence', () => {
  it('reaches the background per port, and ends when the port disconnects', async () => {
    const seen: [unknown, ViewPresence | null][] = [];
    const connect = serve({ presence: (view, p) => void seen.push([view, p]) });
    const panel = fakePort();
    connect(panel.port);
    // Said before the background was ready: delivered once it is.
    panel.say({ type: 'presence', conversationId: 'c1', visible: true });
    await tick();
    expect(seen).toEqual([[panel.port, { type: 'presence', conversationId: 'c1', visible: true }]]);
    panel.say({ type: 'presence', conversationId: 'c1', visible: false });
    panel.drop();
    expect(seen.slice(1)).toEqual([
      [panel.port, { type: 'presence', conversationId: 'c1', visible: false }],
      [panel.port, null],
    ]);
    // After the disconnect the port says nothing any more.
    panel.say({ type: 'presence', conversationId: 'c2', visible: true });
    expect(seen).toHaveLength(3);
  });

  it('ignores anything that is not exactly a presence', async () => {
    const seen: unknown[] = [];
    const connect = serve({ presence: (_v, p) => void seen.push(p) });
    const panel = fakePort();
    connect(panel.port);
    await tick();
    for (const bad of [
      null,
      'presence',
      { type: 'presence', conversationId: 'c1' },
      { type: 'presence', conversationId: '../x', visible: true },
      { type: 'presence', conversationId: 'c1', visible: 'yes' },
      { type: 'presence', conversationId: 'c1', visible: true, extra: 1 },
      { channel: CHANNEL, method: 'state.get', params: null },
    ]) {
      panel.say(bad);
      expect(parsePresence(bad)).toBeNull();
    }
    expect(seen).toEqual([]);
    expect(parsePresence({ type: 'presence', conversationId: null, visible: false })).toEqual({ type: 'presence', conversationId: null, visible: false });
  });

  it('a panel that connects gets the conversation a notification click asked for, once', async () => {
    let pending: string | undefined = 'c9';
    const connect = serve({
      takeOpenRequest: () => {
        const p = pending;
        pending = undefined;
        return p;
      },
    });
    const first = fakePort();
    connect(first.port);
    await tick();
    expect(first.posted).toContainEqual({ type: 'open', conversationId: 'c9' });
    const second = fakePort();
    connect(second.port);
    await tick();
    expect(second.posted.some((m) => (m as { type?: string }).type === 'open')).toBe(false);
  });

  it('the mute and privacy intents take exactly their shapes', () => {
    const req = (method: string, params: unknown) => parseRequest({ channel: CHANNEL, method, params }).params;
    expect(req('conversation.mute', { conversationId: 'c1', duration: '1w' })).toEqual({ conversationId: 'c1', duration: '1w' });
    expect(req('conversation.mute', { conversationId: 'c1', duration: 'off' })).toEqual({ conversationId: 'c1', duration: 'off' });
    expect(() => req('conversation.mute', { conversationId: 'c1', duration: '2h' })).toThrowError(expect.objectContaining({ code: 'bad-request' }));
    expect(() => req('conversation.mute', { conversationId: 'c1', duration: 3600 })).toThrowError(expect.objectContaining({ code: 'bad-request' }));
    expect(req('settings.setNotificationContent', { content: 'none' })).toEqual({ content: 'none' });
    expect(() => req('settings.setNotificationContent', { content: 'everything' })).toThrowError(expect.objectContaining({ code: 'bad-request' }));
  });
});
